"""The policy's own text, 许科字〔2023〕16号, as the bureau published it (the seed file
``xuke-2023-16.txt`` beside this module, copied unchanged): the notice and its two
attachments, the Measures (附件1, 管理办法) and the Rules (附件2, 实施细则), read into
chapters and articles so the guide shows them with an anchor per article
(``#第十五条``) that the guide's pages link to (issue 17). Pure: no I/O but reading the
file once."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import msgspec

SOURCE = Path(__file__).with_name("xuke-2023-16.txt")
DIGITS = "零一二三四五六七八九"
ARTICLE = re.compile(r"^(第[一二三四五六七八九十百]+条)\s*(.*)$")
CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章\s")
ATTACHMENT = re.compile(r"^附件\s*(\d)$")
#: a line ends a paragraph when it ends a sentence; else the next line continues it
#: (the published file breaks some lines in the middle of a sentence, at its page ends)
ENDS = tuple("。；：;:！？”")


def numeral(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 20 → 二十, 29 → 二十九 (the articles' numbering, 1–99)."""
    if not 1 <= n <= 99:
        raise ValueError(f"no article {n}")
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")) + (DIGITS[ones] if ones else "")


def anchor(n: int) -> str:
    """The id of article ``n`` on its document's page: ``第十五条``."""
    return f"第{numeral(n)}条"


class Block(msgspec.Struct, frozen=True):
    """A chapter heading (``kind`` chapter), an article (``kind`` article, ``anchor`` its
    id, ``paragraphs`` its text with the heading's rest first) or a plain paragraph."""

    kind: str
    text: str
    anchor: str = ""
    paragraphs: tuple[str, ...] = ()


class Document(msgspec.Struct, frozen=True):
    """The notice (``number`` 0) or an attachment (1, 2) with its title and blocks."""

    number: int
    title: str
    blocks: tuple[Block, ...]

    def anchors(self) -> set[str]:
        return {b.anchor for b in self.blocks if b.kind == "article"}


def _paragraphs(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and not out[-1].endswith(ENDS) and not CHAPTER.match(line) and not ARTICLE.match(line):
            out[-1] += line
        else:
            out.append(line)
    return out


def _document(number: int, paragraphs: list[str]) -> Document:
    title = paragraphs.pop(0).replace(" ", "") if number and paragraphs else "许科字〔2023〕16号"
    blocks: list[Block] = []
    for text in paragraphs:
        if CHAPTER.match(text):
            blocks.append(Block("chapter", text))
        elif found := ARTICLE.match(text):
            blocks.append(Block("article", found.group(1), anchor=found.group(1), paragraphs=(found.group(2),) if found.group(2) else ()))
        elif blocks and blocks[-1].kind == "article":
            last = blocks.pop()
            blocks.append(Block("article", last.text, anchor=last.anchor, paragraphs=(*last.paragraphs, text)))
        else:
            blocks.append(Block("paragraph", text))
    return Document(number, title, tuple(blocks))


def parse(text: str) -> tuple[Document, ...]:
    """The notice and its attachments, in the file's order."""
    parts: dict[int, list[str]] = {0: []}
    current = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if found := ATTACHMENT.match(line):
            current = int(found.group(1))
            parts[current] = []
            continue
        parts[current].append(line)
    # the notice's lines stand as printed (its letterhead has no sentence ends to join by)
    return tuple(_document(n, _paragraphs(lines) if n else lines) for n, lines in sorted(parts.items()))


@cache
def documents() -> tuple[Document, ...]:
    """The seed file's documents (read once)."""
    return parse(SOURCE.read_text(encoding="utf-8"))


def document(number: int) -> Document | None:
    return next((d for d in documents() if d.number == number), None)
