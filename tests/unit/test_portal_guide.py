"""The guide (办事指南, issue 17) without any service: the index links every topic and
every document of the policy text; each page renders (a service that does not answer
leaves its numbers out and cites the article instead, never a made-up number); every
string its templates ask for is in the catalogue; the policy text keeps every article
of both attachments as an anchor, in order, and the numerals the links use match them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from litestar.testing import TestClient

from services.gateway.app import create_app as create_gateway
from services.gateway.portal import guide, policy_text
from services.gateway.portal.guide_topics import DOCUMENT_NAMES, ROLE_TOPICS, TOPICS
from services.gateway.portal.workspace import TASKS
from services.gateway.portal.i18n import STRINGS
from services.runtime.settings import Settings

TEMPLATES = Path(guide.__file__).parent / "templates" / "guide"
#: articles in each attachment of 许科字〔2023〕16号
ARTICLES = {1: 18, 2: 29}


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)


def client(tmp_path: Path) -> TestClient:
    app = create_gateway(Settings(data_dir=tmp_path), transport=Down(), upstreams={s: f"http://{s}.local" for s in ("registry", "vouchers", "evaluation", "payments")})
    return TestClient(app, base_url="http://gateway.local")


def test_the_index_links_every_topic_and_every_document_and_each_renders(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        index = c.get("/guide")
        assert index.status_code == 200
        hrefs = set(re.findall(r'href="(/guide/[^"#?]*)"', index.text))
        pages = {f"/guide/{t.slug}" for t in TOPICS} | {"/guide/policy"} | {f"/guide/policy/{n}" for n in DOCUMENT_NAMES if n}
        assert pages <= hrefs, pages - hrefs
        for path in sorted(pages):
            for lang in ("zh", "en"):
                r = c.get(path, params={"lang": lang})
                assert r.status_code == 200, (path, lang)
                assert "{{" not in r.text and "None" not in r.text
        # no service answers: the voucher topic says the year is not open and cites R15 and R16
        vouchers = c.get("/guide/vouchers", params={"lang": "zh"}).text
        assert 'id="not-open"' in vouchers and "/guide/policy/2#第十五条" in vouchers and 'id="rate"' not in vouchers
        assert c.get("/guide/nothing-here").status_code == 404
        assert c.get("/guide/policy/3").status_code == 404


def test_every_string_of_the_guide_is_in_the_catalogue() -> None:
    for path in TEMPLATES.glob("*.html"):
        keys = set(re.findall(r"\bt\('([a-z_]+)'[,)]", path.read_text(encoding="utf-8")))
        assert not keys - set(STRINGS), (path.name, keys - set(STRINGS))
    assert {t.template for t in TOPICS} == {f"guide/{p.name}" for p in TEMPLATES.glob("*.html")} - {"guide/index.html", "guide/topic.html", "guide/policy.html"}


def test_the_policy_text_has_every_article_of_both_attachments_in_order() -> None:
    for number, count in ARTICLES.items():
        doc = policy_text.document(number)
        assert doc is not None
        anchors = [b.anchor for b in doc.blocks if b.kind == "article"]
        assert anchors == [policy_text.anchor(n) for n in range(1, count + 1)]
    assert policy_text.anchor(10) == "第十条" and policy_text.anchor(21) == "第二十一条" and policy_text.anchor(15) == "第十五条"
    rules = policy_text.document(2)
    assert rules is not None and rules.title == "许昌市科研设施和仪器开放共享双向奖补实施细则"
    # a line the file breaks at a page's end is one sentence again (R5's 科 / 研设施)
    r5 = next(b for b in rules.blocks if b.anchor == "第五条")
    assert "本单位的科研设施和仪器纳入" in r5.paragraphs[0]
    # R19 keeps its four items as paragraphs
    assert len(next(b for b in rules.blocks if b.anchor == "第十九条").paragraphs) == 4


def test_the_guide_formats_the_policy_numbers_plainly() -> None:
    assert guide.percent(3000) == "30%" and guide.percent(2550) == "25.5%"
    assert guide.yuan(5_000_000) == "50,000元" and guide.yuan(12_345) == "123.45元"
    assert guide.points(8500) == "85" and guide.points(7250) == "72.5"
    assert guide.policy_link(1, 11) == "/guide/policy/1#第十一条"


#: the pages where people need a topic, and the topic each links to (one small link each)
CONTEXT = {
    "signup.html": "registration",
    "register.html": "registration",
    "order.html": "booking",
    "vouchers.html": "vouchers",
    "unit_instruments.html": "listing",
    "redemption.html": "redemption",
    "evaluation.html": "evaluation",
    "complaint_form.html": "complaints",
}


def test_the_pages_people_work_on_link_their_topic_and_every_page_links_the_guide() -> None:
    slugs = {t.slug for t in TOPICS}
    for name, slug in CONTEXT.items():
        html = (TEMPLATES.parent / name).read_text(encoding="utf-8")
        assert re.findall(r'href="/guide/([a-z]+)" id="guide-link"', html) == [slug], name
        assert slug in slugs and f"guide_on_{slug}" in STRINGS
    assert '<a href="/guide">' in (TEMPLATES.parent / "base.html").read_text(encoding="utf-8")


def test_every_staff_role_has_its_own_procedures_linked_from_its_workspace(tmp_path: Path) -> None:
    """The center, the bureau, finance, the departments and the experts each land on a
    workspace that links their own topic; each topic names the pages that role works on."""
    staff = {"center", "bureau", "finance", "department", "expert"}
    assert staff <= set(TASKS) and set(ROLE_TOPICS) == staff
    slugs = {t.slug for t in TOPICS}
    with client(tmp_path) as c:
        for role, slug in ROLE_TOPICS.items():
            assert slug in slugs and f"guide_on_{slug}" in STRINGS, role
            page = c.get(f"/guide/{slug}").text
            assert len(re.findall(r"<li><strong>", page)) >= 3, role  # steps, each in plain Chinese
            links = set(re.findall(r'href="(/[a-z][^"#?]*)', page.split('id="steps"')[1].split("</section>")[0]))
            assert links - {"/guide", "/notices"}, (role, links)  # the pages its work is done on
    assert 'href="/guide/{{ guide_topic }}" id="guide-link"' in (TEMPLATES.parent / "workspace.html").read_text(encoding="utf-8")
