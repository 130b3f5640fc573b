"""The words of the three officers' pages (三员分立, 等保 2.0) that are not page
strings: the account refusals the registry words for developers (the pages'
strings and the officers' role names are in the catalogues, ``locale/``)."""

from __future__ import annotations

#: the account refusals in the portal's words, by the registry's code (its own words
#: name API fields and role codes)
REFUSALS: dict[str, tuple[str, str]] = {
    "account.org_required": ("该角色的账号须填写所属机构", "an account of this role needs its organisation"),
    "unit.not_found": ("没有这个管理单位，请从列表中选择", "there is no such unit: pick one from the list"),
    "user.not_found": ("没有这个用户（企业或团队），请填写其编号", "there is no such user: enter its id"),
    "username_invalid": ("用户名须为 3–64 个字符：小写字母、数字、点、下划线、连字符", "a username has 3–64 characters: a–z, 0–9, '.', '_', '-'"),
    "password_weak": ("初始密码不符合密码策略：须{rules}", "the password does not meet the policy: {rules}"),
    "too_short": ("至少 10 个字符", "at least 10 characters"),
    "too_long": ("不超过 128 个字符", "at most 128 characters"),
    "too_few_classes": ("包含大写字母、小写字母、数字、其他符号中的至少三类", "three of upper-case, lower-case, digits and symbols"),
    "contains_username": ("不得包含用户名", "not contain the username"),
}
