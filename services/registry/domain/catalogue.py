"""Instrument categories (configurable; the default is the top level of the
national research-instrument sharing network's catalogue)."""

from __future__ import annotations

__all__ = ["DEFAULT_CATEGORIES"]

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "分析仪器",
    "物理性能测试仪器",
    "计量仪器",
    "电子测量仪器",
    "海洋仪器",
    "地球探测仪器",
    "大气探测仪器",
    "特种检测仪器",
    "激光器",
    "工艺试验仪器",
    "计算机及其配套设备",
    "天文仪器",
    "医学科研仪器",
    "核仪器",
    "其他仪器",
)
