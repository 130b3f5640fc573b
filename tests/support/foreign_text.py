"""What a Chinese portal page must not show, for the browser tests that read its text:
error codes, Python reprs, ids (uuids or fragments of them) and English sentences."""

from __future__ import annotations

import re

#: a stable error code (voucher.contract_already_used), not a file name or a web address
CODE = re.compile(r"(?<![\w@/.-])[a-z_]+\.[a-z_]+(?![\w.@/-])")
NOT_CODES = re.compile(r"\.(xlsx|xls|csv|pdf|png|jpe?g|docx?|txt|zip|com|cn|org|net)$")
REPR = re.compile(r"\{'|'\}|\bNone\b|\bTrue\b|\bFalse\b|\[\]|Traceback")
#: a record's id (a uuid) or a fragment of one (``id[:8]``: 8 hex digits, letters and digits
#: among them, standing alone): parties are named by name, records by case number (issue 17)
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ID_FRAGMENT = re.compile(r"(?<![\w@/.:#-])(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{8}(?![\w@/.:-])")
#: three or more English words in a row that read as a sentence (names of makers and models do not)
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,:;]+[A-Za-z][A-Za-z'’]*){2,}")
ENGLISH_WORDS = re.compile(r"\b(the|is|are|not|must|expected|please|your|has|have|was|cannot|should|of|to|an|be|number|invalid|required|missing)\b")


def foreign_text(text: str, *, ids: bool = True) -> list[str]:
    """What a Chinese page must not show: codes, Python reprs, English sentences, ids
    (``ids=False``: the audit trail, which names each record by its abbreviated id on purpose)."""
    found = [m.group(0) for m in CODE.finditer(text) if not NOT_CODES.search(m.group(0))]
    found += [m.group(0) for m in REPR.finditer(text)]
    if ids:
        found += [m.group(0) for m in UUID.finditer(text)] + [m.group(0) for m in ID_FRAGMENT.finditer(text)]
    found += [m.group(0) for m in ENGLISH_RUN.finditer(text) if ENGLISH_WORDS.search(m.group(0))]
    return found
