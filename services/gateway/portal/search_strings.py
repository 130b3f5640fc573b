"""The catalogue page's strings for its search: voucher filter, sorting, suggestions."""

from __future__ import annotations

SEARCH_STRINGS: dict[str, tuple[str, str]] = {
    "accepts_vouchers_only": ("仅看可用创新券的仪器", "Only instruments that take vouchers"),
    "accepts_vouchers_badge": ("可用创新券", "Takes vouchers"),
    "sort": ("排序", "Sort"),
    "sort_relevance": ("相关度", "Relevance"),
    "sort_price_asc": ("价格从低到高", "Price, lowest first"),
    "sort_price_desc": ("价格从高到低", "Price, highest first"),
    "sort_name": ("名称", "Name"),
    "no_match": ("没有找到符合条件的仪器。", "No instrument matches."),
    "suggest_terms": ("您是不是要找：", "Did you mean:"),
    "suggest_categories": ("可以按类别浏览：", "Browse by category:"),
    "suggest_count": ("{total} 台", "{total} found"),
}
