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
    "synonyms": ("检索同义词", "Search synonyms"),
    "synonyms_hint": (
        "检索仪器时，词条中任一写法都能找到含有其他写法的仪器（如“电镜”“SEM”找到“扫描电子显微镜”）。修改后立即生效。",
        "A search for any form of an entry finds the instruments holding any other form (电镜 or SEM finds 扫描电子显微镜). Changes apply at once.",
    ),
    "synonym_canonical": ("标准名称", "Canonical term"),
    "synonym_forms": ("同义词及缩写（每行一个，或用逗号、顿号分隔）", "Synonyms and abbreviations (one a line, or separated by commas)"),
    "synonym_add": ("添加词条", "Add the entry"),
    "synonym_delete": ("删除", "Remove"),
    "synonym_delete_reason": ("删除原因（可选）", "Reason (optional)"),
}
