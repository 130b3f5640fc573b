"""The audit administrator's page (``auditor``, 等保 2.0): one service's audit
trail (``GET /v1/audit/`` of the chosen service, filtered by actor, action,
object type and id, and dates; newest first, paginated), each entry's before and
after side by side, and every service's chain verification (``GET
/v1/audit/verification``): 正常, or the first broken entry and why."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, money
from services.gateway.portal.paging import page_links, page_number
from services.gateway.portal.i18n import STRINGS, label, translate, words
from services.gateway.portal.i18n_audit import KNOWN_ACTIONS, OBJECT_TYPES, SERVICES, action_words, object_words, reason_words
from services.gateway.portal.messages import indicator_set, local_time

AUDITOR = ("auditor",)
FILTERS = ("actor", "action", "object_type", "object_id")
#: the before/after fields the page names in words; any other is shown by its key
FIELDS = words("audit_field")  # msgctxt "audit_field"
#: an id the services give (a UUID): shortened, the whole of it in the cell's title
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def short_id(value: Any) -> str:
    text = str(value or "")
    return f"{text[:8]}…" if UUID.match(text) else text


def role_words(role: Any, lang: str) -> str:
    return label(role, lang)  # the officers' roles too (the catalogues' msgctxt "label")


def value_text(key: str, value: Any, lang: str) -> str:
    """One recorded value, readably: a time in Beijing time, fen as money, a state in
    words, a list or object as compact JSON; nothing as a Python repr."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return translate("yes", lang) if value else translate("no", lang)
    if key.endswith("_fen") and isinstance(value, int):
        return money(value)
    if isinstance(value, str):
        if UUID.match(value):
            return short_id(value)
        if key.endswith(("_at", "_until")) or (len(value) > 18 and value[4:5] == "-" and value[10:11] == "T"):
            return local_time(value)
        if key == "status" and value in ("active", "locked", "disabled"):
            return translate(f"account_{value}", lang)
        if key.startswith("indicator_set") or value.startswith("xuchang-"):
            return indicator_set(value, lang)
        if key in ("role", "actor_role"):
            return role_words(value, lang)
        return label(value, lang)
    if isinstance(value, list):
        return "、".join(value_text(key, v, lang) for v in value)
    if isinstance(value, dict):  # nested: its fields in words, one after another
        return "；".join(f"{field_name(k, lang)}：{value_text(k, v, lang)}" for k, v in value.items())
    return str(value)


def field_name(key: str, lang: str) -> str:
    return FIELDS.get(key, lang) or key


def changes(before: Any, after: Any, lang: str) -> list[dict[str, Any]]:
    """The entry's fields, before and after, changed ones marked."""
    if before is None and isinstance(after, dict):  # created: every field is new
        before = {}
    if after is None and isinstance(before, dict):
        after = {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        if before is None and after is None:
            return []
        return [{"field": "—", "before": value_text("", before, lang), "after": value_text("", after, lang), "changed": before != after}]
    rows = []
    for key in dict.fromkeys([*before, *after]):
        b, a = before.get(key), after.get(key)
        rows.append({"field": field_name(key, lang), "before": value_text(key, b, lang) if key in before else "—", "after": value_text(key, a, lang) if key in after else "—", "changed": key not in before or key not in after or b != a})
    rows.sort(key=lambda r: not r["changed"])
    return rows


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def verdict(svc: str, words: str, answer: Any, lang: str) -> dict[str, Any]:
    """One service's chain: 正常 with the entries checked, or the break in words."""
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    if isinstance(answer, ApiError) or not isinstance(answer, dict):
        return {"service": svc, "name": t(words), "ok": None, "text": t("chain_unknown")}
    if answer.get("ok"):
        text = t("chain_ok_detail", n=answer.get("entries_checked", 0)) + (t("chain_pruned", seq=answer["anchor_seq"]) if answer.get("anchor_seq") else "")
        return {"service": svc, "name": t(words), "ok": True, "text": text}
    kind_key = f"break_{answer.get('broken_kind')}"
    kind = t(kind_key) if kind_key in STRINGS else t("chain_broken")
    text = t("chain_broken_detail", seq=answer.get("broken_seq"), kind=kind, n=answer.get("entries_checked", 0))
    return {"service": svc, "name": t(words), "ok": False, "text": text, "seq": answer.get("broken_seq")}


async def audit_page(ctx: Ctx) -> Response[str]:
    q = ctx.request.query_params
    service = q.get("service") if q.get("service") in dict(SERVICES) else SERVICES[0][0]
    shown = {k: str(q.get(k) or "").strip() for k in (*FILTERS, "since", "until")}
    field_errors: dict[str, str] = {}
    params: dict[str, Any] = {k: shown[k] or None for k in FILTERS}
    for key, shift in (("since", 0), ("until", 1)):
        if shown[key]:
            day = _day(shown[key])
            if day is None:
                field_errors[key] = translate("bad_date", ctx.lang)
            else:
                params[key] = f"{(day + timedelta(days=shift)).isoformat()}T00:00:00+08:00"
    pg = page_number(ctx)
    checks = await asyncio.gather(*(ctx.api.answer(svc, "/v1/audit/verification") for svc, _ in SERVICES))
    verdicts = [verdict(svc, words, answer, ctx.lang) for (svc, words), answer in zip(SERVICES, checks, strict=True)]
    error = None
    result: dict[str, Any] = {"items": [], "total": 0}
    if not field_errors:
        try:
            result = await ctx.api.get(service, "/v1/audit/", **params, page=pg, page_size=REVIEW_PAGE_SIZE)
        except ApiError as err:
            if err.status in (401, 403):
                return ctx.error_page(err)
            error, field_errors = err.message(ctx.lang), err.field_errors(ctx.lang)
    entries = [
        {
            **e,
            "action_text": action_words(e.get("action"), ctx.lang),
            "reason_text": reason_words(e.get("reason"), ctx.lang),
            "object_text": object_words(e.get("object_type"), ctx.lang),
            "role_text": role_words(e.get("actor_role"), ctx.lang),
            "changes": changes(e.get("before"), e.get("after"), ctx.lang),
        }
        for e in result["items"]
    ]
    return ctx.render(
        "audit.html",
        service=service,
        services=[(svc, translate(words, ctx.lang)) for svc, words in SERVICES],
        verdicts=verdicts,
        entries=entries,
        filters={"service": service, **shown},
        actions=sorted(((a, action_words(a, ctx.lang)) for a in KNOWN_ACTIONS), key=lambda p: p[1]),
        objects=[(o, object_words(o, ctx.lang)) for o in OBJECT_TYPES],
        paging=page_links(result["total"], pg, REVIEW_PAGE_SIZE),
        short_id=short_id,
        error=error,
        field_errors=field_errors,
    )


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/audit")
    async def audit(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, AUDITOR, audit_page)

    return [audit]
