"""The guide (办事指南, issue 17): public pages, no sign-in. ``/guide`` lists the
procedures; ``/guide/<topic>`` explains one, with this programme year's numbers as the
services' public policy endpoints answer them (``guide_topics.SOURCES``); ``/guide/policy``
is the notice 许科字〔2023〕16号 and ``/guide/policy/1`` and ``/guide/policy/2`` its two
attachments, rendered (escaped) from the published text with an anchor per article
(``#第十五条``) that the topics link to. The words are in the templates under
``templates/guide`` and the topics in ``guide_topics``; here only what each page asks for."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal import figures, policy_text
from services.gateway.portal.core import Ctx, Kit, this_year
from services.gateway.portal.guide_topics import BY_SLUG, DOCUMENT_NAMES, SOURCES, TOPICS, Topic
from services.runtime.money import yuan_words


def policy_link(document: int, article: int) -> str:
    """Where an article is on the guide: ``/guide/policy/2#第十五条``."""
    return f"/guide/policy/{document}#{policy_text.anchor(article)}"


def yuan(fen: Any) -> str:
    """An amount in plain words: 50,000元 (with the fen when there are any)."""
    return yuan_words(int(fen))


def percent(bp: Any) -> str:
    """Basis points as a share in a sentence: 3000 → 30%, 2550 → 25.5%."""
    return figures.percent(bp, plain=True)


def points(centi: Any) -> str:
    """A grade threshold kept in hundredths of a point, in a sentence: 8500 → 85."""
    return figures.hundredths(centi, plain=True)


async def numbers(ctx: Ctx, topic: Topic, year: int) -> dict[str, Any]:
    """The topic's policy numbers of ``year``, each None when its service has none (a year
    not opened yet) or does not answer: the page then says so and cites the article."""

    async def one(need: str) -> Any:
        service, path, year_as_query = SOURCES[need]
        if year_as_query:
            return await ctx.api.maybe(service, path, year=year)
        return await ctx.api.maybe(service, path.format(year=year))

    found = await asyncio.gather(*(one(n) for n in topic.needs))
    out = dict(zip(topic.needs, found, strict=True))
    if out.get("indicator_set"):
        out["evaluation"] = out.pop("indicator_set").get("parameters_of_year")
    return out


def _render(ctx: Ctx, template: str, **kw: Any) -> Response[str]:
    return ctx.render(template, topics=TOPICS, documents=DOCUMENT_NAMES, cite=policy_link, numeral=policy_text.numeral, yuan=yuan, percent=percent, points=points, **kw)


async def index_page(ctx: Ctx) -> Response[str]:
    return _render(ctx, "guide/index.html")


async def topic_page(ctx: Ctx, slug: str) -> Response[str]:
    topic = BY_SLUG.get(slug)
    if topic is None:
        return Kit.not_found(ctx, "guide.not_found")
    year = this_year()
    return _render(ctx, topic.template, topic=topic, year=year, n=await numbers(ctx, topic, year))


async def policy_page(ctx: Ctx, number: int = 0) -> Response[str]:
    document = policy_text.document(number)
    if document is None:
        return Kit.not_found(ctx, "guide.not_found")
    return _render(ctx, "guide/policy.html", document=document, number=number)


def handlers(kit: Kit) -> list[Any]:
    page = kit.page

    @page("/guide")
    async def index(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.public(request, index_page)

    @page("/guide/policy")
    async def notice(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.public(request, policy_page, 0)

    @page("/guide/policy/{number:int}")
    async def attachment(request: Request[Any, Any, Any], number: FromPath[int]) -> Response[str]:
        return await kit.public(request, policy_page, number)

    @page("/guide/{slug:str}")
    async def topic(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
        return await kit.public(request, topic_page, slug)

    return [index, notice, attachment, topic]
