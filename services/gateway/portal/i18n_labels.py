"""The instrument categories and user classes the forms offer (Chinese names, the values
themselves); the counties are the city's, from its file (``XCISS_CITY_FILE``,
services/runtime/city.py). The words for the values the services send (roles, states,
purposes, billing units, kinds) are in the catalogues, ``locale/``, msgctxt
"label" (``i18n.label``)."""

from __future__ import annotations

CATEGORIES = [
    "分析仪器", "物理性能测试仪器", "计量仪器", "电子测量仪器", "海洋仪器", "地球探测仪器", "大气探测仪器", "特种检测仪器",
    "激光器", "工艺试验仪器", "计算机及其配套设备", "天文仪器", "医学科研仪器", "核仪器", "其他仪器",
]

#: R4's user classes and R16's special ones, in the registry's words: the choices of the registration
#: forms, of a user's classes (the center) and of a vouchers programme's eligible classes (the bureau)
USER_CLASSES = ("above_scale_industrial", "high_tech", "tech_sme", "startup_team")
SPECIAL_CLASSES = ("innovation_leader", "gazelle")
