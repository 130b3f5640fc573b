"""docs/policy.md stays true: every article of both documents has its row, every
code, test, policy key and setting it names exists, and every article the code
cites is indexed (issue 15 §3)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "policy.md"
POLICY_YAML = ROOT / "services" / "evaluation" / "policy" / "indicators-2023.yaml"

#: articles of 许科字〔2023〕16号: the Measures (附件1) have 18, the Rules (附件2) 29
ARTICLE_COUNT = {"M": 18, "R": 29}

#: every article number shared/DOMAIN.md uses (it lives outside the repository)
DOMAIN_ARTICLES = (
    "M2 M3 M5 M6 M8 M9 M10 M11(3) M11(4) M12 M13 M14 M14(1) M14(2) M15 "
    "R3 R4 R5 R6 R7 R8 R9 R10 R11 R12 R13 R14 R14(1) R14(3) R14(4) R15 R16 R18 "
    "R19 R19(1) R19(2) R19(3) R19(4) R20 R20(3) R21 R22 R23 R24 R25 R26 R27"
).split()

ARTICLE = re.compile(r"\b([MR])(\d{1,2})(\(\d\))?")
ROW_ARTICLE = re.compile(r"^([MR]\d{1,2}(?:\(\d\))?)(?=[\s(]|$)")
CODE_REF = re.compile(r"`(services/[\w/.-]+\.py):(\w+)`")
TEST_REF = re.compile(r"`(tests/[\w/.-]+\.py)::(\w+)`")
YAML_KEY = re.compile(r"`parameters\.(\w+)`")
INDICATOR = re.compile(r"indicator `([a-z]+\.[a-z_]+)`")
SETTING = re.compile(r"\bXCISS_[A-Z0-9_]+\b")
PATH = re.compile(r"`((?:services|tests)/[\w/.-]+\.(?:py|yaml))[`:]")
#: a key of a per-year policy file: `services/<service>/policy/<file>.yaml:section.defaults.key`
FILE_KEY = re.compile(r"`(services/[\w/.-]+\.yaml):([\w.]+)`")


def text() -> str:
    return DOC.read_text(encoding="utf-8")


def rows() -> list[list[str]]:
    """The rows of the two article tables (their header's first cell is ``article``)."""
    out, in_article_table = [], False
    for line in text().splitlines():
        if not line.startswith("|"):
            in_article_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if cells[0] == "article":
            in_article_table = True
        elif in_article_table and ROW_ARTICLE.match(cells[0]):
            out.append(cells)
    return out


def indexed() -> set[str]:
    return {m.group(1) for r in rows() if (m := ROW_ARTICLE.match(r[0]))}


def covered(article: str, have: set[str]) -> bool:
    """``R19`` is covered by its own row or by rows of its items; ``R19(2)`` only by its row."""
    return article in have or ("(" not in article and any(a.startswith(article + "(") for a in have))


@cache
def names_in(path: Path) -> frozenset[str]:
    """Functions, methods and classes anywhere in the module, and its module-level names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for n in tree.body:
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return frozenset(names)


def test_every_article_of_both_documents_has_a_row_of_five_cells() -> None:
    have = indexed()
    missing = [f"{d}{n}" for d, count in ARTICLE_COUNT.items() for n in range(1, count + 1) if not covered(f"{d}{n}", have)]
    assert not missing, f"articles without a row in docs/policy.md: {missing}"
    bad = [r[0][:20] for r in rows() if len(r) != 5]
    assert not bad, f"rows without the five cells (article, what, parameter, code, test): {bad}"
    beyond = [a for a in have if int(re.sub(r"\D", "", a.split("(")[0])) > ARTICLE_COUNT[a[0]]]
    assert not beyond, f"rows for articles the documents do not have: {beyond}"
    counts = Counter(m.group(1) for r in rows() if (m := ROW_ARTICLE.match(r[0])))
    assert not [a for a, n in counts.items() if n > 1], f"articles with more than one row: {counts.most_common(3)}"


def test_every_article_domain_md_and_the_code_cite_is_indexed() -> None:
    have = indexed()
    assert not [a for a in DOMAIN_ARTICLES if not covered(a, have)]
    cited: dict[str, str] = {}
    for path in sorted((ROOT / "services").rglob("*.py")):
        for m in ARTICLE.finditer(path.read_text(encoding="utf-8")):
            cited.setdefault(m.group(0), str(path.relative_to(ROOT)))
    missing = {a: where for a, where in cited.items() if not covered(a, have)}
    assert not missing, f"articles cited in services/ without a row in docs/policy.md: {missing}"


def test_a_row_with_platform_behaviour_names_its_code_and_its_test() -> None:
    for article, what, _parameter, code, test in (r for r in rows() if len(r) == 5):
        if what.startswith("**none**"):
            continue
        assert TEST_REF.search(test), f"{article[:20]}: no test at its edge"
        assert CODE_REF.search(code), f"{article[:20]}: no code that decides it"


def test_every_code_reference_exists() -> None:
    refs = CODE_REF.findall(text())
    assert len(refs) > 50
    for file, name in refs:
        path = ROOT / file
        assert path.is_file(), f"{file} does not exist"
        assert name in names_in(path), f"{file} defines no {name}"


def test_every_test_reference_exists() -> None:
    refs = TEST_REF.findall(text())
    assert len(refs) > 50
    for file, name in refs:
        path = ROOT / file
        assert path.is_file(), f"{file} does not exist"
        assert name.startswith("test_") and name in names_in(path), f"{file} has no test {name}"


def test_every_path_policy_key_indicator_and_setting_exists() -> None:
    doc = text()
    for file in PATH.findall(doc):
        assert (ROOT / file).is_file(), f"{file} does not exist"
    policy = yaml.safe_load(POLICY_YAML.read_text(encoding="utf-8"))
    for key in YAML_KEY.findall(doc):
        assert key in policy["parameters"], f"{POLICY_YAML.name} has no parameters.{key}"
    codes = {i["code"] for d in policy["dimensions"] for i in d["indicators"]}
    for code in INDICATOR.findall(doc):
        assert code in codes, f"{POLICY_YAML.name} has no indicator {code}"
    for file, key in FILE_KEY.findall(doc):
        node = yaml.safe_load((ROOT / file).read_text(encoding="utf-8"))
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{file} has no {key}"
            node = node[part]
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "services").rglob("*.py"))
    for setting in set(SETTING.findall(doc)):
        assert setting in source, f"no service reads {setting}"


@pytest.mark.parametrize(
    ("cell", "have", "expected"),
    [("R19", {"R19(1)", "R19(2)"}, True), ("R19(3)", {"R19(1)", "R19(2)"}, False), ("R1", {"R19(1)", "R10"}, False), ("M8", {"M8"}, True)],
)
def test_an_article_is_covered_by_its_row_or_the_rows_of_its_items(cell: str, have: set[str], expected: bool) -> None:
    assert covered(cell, have) is expected
