"""The web portal: server-rendered pages in Chinese (English on ``?lang=en``),
plain forms, a session cookie holding the signed-in user's token, a CSRF
token in every form. Every page talks to the services over HTTP only."""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import jinja2
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath

from services.gateway.portal.client import Api, ApiError
from services.gateway.portal.i18n import CATEGORIES, COUNTIES, ROLES, label, translate
from services.runtime import demo
from services.runtime.auth import PUBLIC, Principal, TokenError, TokenVerifier, access, issue_token
from services.runtime.settings import Settings

HERE = Path(__file__).parent
SESSION = "xciss_session"
CSRF = "xciss_csrf"
LANG = "xciss_lang"
PAGE_SIZE = 10
REVIEW_PAGE_SIZE = 20


def money(fen: Any) -> str:
    if fen is None:
        return "—"
    fen = int(fen)
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int | str:
    """'1234.5' → 123450; anything else is returned as is (the API refuses it by field)."""
    text = (text or "").strip().replace(",", "")
    try:
        whole, _, frac = text.partition(".")
        if not whole.lstrip("-").isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
            return text
        return int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0)
    except ValueError:
        return text


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


class Ctx:
    """One request's view: language, the signed-in principal, its API client."""

    def __init__(self, portal: Portal, request: Request[Any, Any, Any]):
        self.portal, self.request = portal, request
        q = request.query_params.get("lang")
        self.lang = q if q in ("zh", "en") else (request.cookies.get(LANG) if request.cookies.get(LANG) in ("zh", "en") else "zh")
        self.set_lang = q in ("zh", "en")
        self.token = request.cookies.get(SESSION)
        self.principal: Principal | None = None
        if self.token:
            try:
                self.principal = portal.verifier.verify(self.token)
            except TokenError:
                self.token = None
        self.csrf = request.cookies.get(CSRF) or secrets.token_urlsafe(24)
        self.new_csrf = CSRF not in request.cookies
        # the chain as the proxy forwards it: what came in, then this request's peer
        chain = [h for h in (request.headers.get("x-forwarded-for"), request.client.host if request.client else None) if h]
        self.api = Api(portal.client(), portal.upstreams, self.token, forwarded_for=", ".join(chain) or None)

    @property
    def role(self) -> str | None:
        return str(self.principal.role) if self.principal else None

    @property
    def org(self) -> str | None:
        return self.principal.org if self.principal else None

    def t(self, key: str, **kw: Any) -> str:
        return translate(key, self.lang, **kw)

    def cookies(self) -> list[Cookie]:
        secure = self.request.url.scheme == "https" or self.request.headers.get("x-forwarded-proto") == "https"
        out = []
        if self.new_csrf:
            out.append(Cookie(key=CSRF, value=self.csrf, httponly=True, samesite="lax", secure=secure, path="/"))
        if self.set_lang:
            out.append(Cookie(key=LANG, value=self.lang, samesite="lax", secure=secure, path="/", max_age=365 * 86400))
        return out

    def render(self, template: str, status: int = 200, **kw: Any) -> Response[str]:
        html = self.portal.env.get_template(template).render(
            t=self.t,
            label=lambda v: label(v, self.lang),
            lang=self.lang,
            principal=self.principal,
            role=self.role,
            csrf=self.csrf,
            path=self.request.url.path,
            toggle_base=self.request.url.path if self.request.method == "GET" else "/",
            query=dict(self.request.query_params),
            done=self.request.query_params.get("done"),
            roles=ROLES,
            **kw,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8", cookies=self.cookies())

    def redirect(self, to: str, cookies: list[Cookie] | None = None) -> Response[str]:
        return Response("", status_code=303, headers={"Location": to}, cookies=[*self.cookies(), *(cookies or [])])

    def error_page(self, err: ApiError) -> Response[str]:
        return self.render("error.html", status=err.status if err.status >= 400 else 500, error=err.message(self.lang), code=err.code)


class Portal:
    def __init__(self, settings: Settings, upstreams: dict[str, str], client: Callable[[], httpx.AsyncClient]):
        self.settings, self.upstreams, self.client = settings, upstreams, client
        self.verifier = TokenVerifier(settings)
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.ChainableUndefined)
        self.env.filters["money"] = money
        self.env.filters["county"] = lambda c: COUNTIES.get(str(c), c or "—")
        self.env.filters["dt"] = lambda v: str(v or "—").replace("T", " ")[:16]
        self.env.globals["urlencode"] = urlencode
        self.env.globals["CATEGORIES"] = CATEGORIES
        self.env.globals["COUNTIES"] = COUNTIES


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {k: form.get(k) for k in form.keys()}


def page_links(total: int, page: int, page_size: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / page_size)) if total else 1
    return {"page": page, "pages": pages, "total": total, "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None}


def create_portal_handlers(settings: Settings, upstreams: dict[str, str], client: Callable[[], httpx.AsyncClient]) -> list[Any]:
    portal = Portal(settings, upstreams, client)
    pub = access(PUBLIC)

    def page(path: str, **kw: Any) -> Callable[[Callable[..., Awaitable[Response[str]]]], Any]:
        return get(path, include_in_schema=False, media_type="text/html", **pub, **kw)

    def action(path: str, **kw: Any) -> Callable[[Callable[..., Awaitable[Response[str]]]], Any]:
        return post(path, include_in_schema=False, status_code=303, media_type="text/html", **pub, **kw)

    async def checked(request: Request[Any, Any, Any]) -> tuple[Ctx, dict[str, Any], Response[str] | None]:
        """The context and form of a POST, or the refusal when its CSRF token is wrong."""
        ctx = Ctx(portal, request)
        form = await _form(request)
        sent = str(form.get("csrf") or "")
        if ctx.new_csrf or not secrets.compare_digest(sent, ctx.csrf):
            return ctx, form, ctx.render("error.html", status=403, error=ctx.t("csrf_failed"), code="portal.csrf")
        return ctx, form, None

    def need(ctx: Ctx, *roles: str) -> Response[str] | None:
        if ctx.principal is None:
            return ctx.redirect(f"/signin?{urlencode({'next': ctx.request.url.path})}")
        if roles and ctx.role not in roles:
            return ctx.render("error.html", status=403, error=ctx.t("error"), code="auth.forbidden")
        return None

    # -- static ----------------------------------------------------------------------

    @get("/static/portal.css", include_in_schema=False, media_type="text/css", **pub)
    async def css() -> Response[bytes]:
        return Response((HERE / "static" / "portal.css").read_bytes(), media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    # -- public ----------------------------------------------------------------------

    @page("/")
    async def home(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        year = this_year()
        cat = await ctx.api.maybe("registry", "/v1/catalogue/instruments", page_size=6)
        units = await ctx.api.maybe("registry", "/v1/units/", page_size=1)
        programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
        notices = await ctx.api.maybe("evaluation", "/v1/notices/", page_size=5)
        stats = {
            "instruments": cat["total"] if cat else 0,
            "units": units["total"] if units else 0,
            "budget": programme["budget_fen"] if programme else None,
            "committed": programme["committed_fen"] if programme else None,
            "notices": notices["total"] if notices else 0,
        }
        return ctx.render("home.html", stats=stats, year=year, latest=cat["items"] if cat else [], notices=notices["items"] if notices else [])

    @page("/instruments")
    async def catalogue(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        q = request.query_params
        try:
            pg = max(1, int(q.get("page") or 1))
        except ValueError:
            pg = 1
        try:
            size = min(50, max(5, int(q.get("page_size") or PAGE_SIZE)))
        except ValueError:
            size = PAGE_SIZE
        filters = {k: q.get(k) or None for k in ("q", "category", "county_code", "unit_id")}
        error = None
        try:
            result = await ctx.api.get("registry", "/v1/catalogue/instruments", page=pg, page_size=size, **filters)
        except ApiError as err:
            error, result = err, {"items": [], "total": 0}
        units = await ctx.api.maybe("registry", "/v1/units/", page_size=100)
        base = {k: v for k, v in filters.items() if v} | ({"page_size": size} if size != PAGE_SIZE else {})
        return ctx.render(
            "catalogue.html",
            items=result["items"],
            filters=filters,
            base=base,
            paging=page_links(result["total"], pg, size),
            units=units["items"] if units else [],
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
        )

    async def instrument_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        try:
            inst = await ctx.api.get("registry", f"/v1/instruments/{instrument_id}")
        except ApiError as err:
            return ctx.error_page(err)
        prices = await ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/prices")
        unit = await ctx.api.maybe("registry", f"/v1/units/{inst['unit_id']}")
        return ctx.render(
            "instrument.html",
            inst=inst,
            unit=unit,
            prices=[p for p in (prices["items"] if prices else []) if p.get("active", True)],
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form=form or {},
            status=error.status if error else 200,
        )

    @page("/instruments/{instrument_id:str}")
    async def instrument(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await instrument_page(Ctx(portal, request), instrument_id)

    @page("/notices")
    async def notices(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        result = await ctx.api.maybe("evaluation", "/v1/notices/", page_size=50) or {"items": []}
        return ctx.render("notices.html", items=result["items"], may_publish=ctx.role in ("center", "bureau"), year=this_year(), error=None, field_errors={})

    @page("/notices/{notice_id:str}")
    async def notice(request: Request[Any, Any, Any], notice_id: FromPath[str]) -> Response[str]:
        ctx = Ctx(portal, request)
        try:
            n = await ctx.api.get("evaluation", f"/v1/notices/{notice_id}")
        except ApiError as err:
            return ctx.error_page(err)
        return ctx.render("notice.html", n=n)

    @action("/notices")
    async def publish_notice(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "center", "bureau")):
            return refused
        try:
            body: dict[str, Any] = {"kind": form.get("kind") or "grades", "year": int(form.get("year") or this_year())}
            if form.get("reason"):
                body["reason"] = form["reason"]
            n = await ctx.api.post("evaluation", "/v1/notices/", json=body)
        except ApiError as err:
            result = await ctx.api.maybe("evaluation", "/v1/notices/", page_size=50) or {"items": []}
            return ctx.render("notices.html", status=err.status, items=result["items"], may_publish=True, year=this_year(), error=err.message(ctx.lang), field_errors=err.field_errors(ctx.lang), form=form)
        return ctx.redirect(f"/notices/{n['notice_id']}?done=1")

    @action("/award-plans")
    async def propose_award_plan(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau proposes the year's award plan; it goes on its own public notice (R14(4))."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "bureau")):
            return refused
        try:
            year = int(form.get("year") or this_year())
            plan = await ctx.api.post("evaluation", f"/v1/award-plans/{year}", json={"reason": form["reason"]} if form.get("reason") else {})
        except ApiError as err:
            result = await ctx.api.maybe("evaluation", "/v1/notices/", page_size=50) or {"items": []}
            return ctx.render("notices.html", status=err.status, items=result["items"], may_publish=True, year=this_year(), error=err.message(ctx.lang), field_errors=err.field_errors(ctx.lang), form=form)
        notice_id = (plan.get("notice") or {}).get("notice_id")
        return ctx.redirect(f"/notices/{notice_id}?done=1" if notice_id else "/notices?done=1")

    @page("/blacklist")
    async def blacklist(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        result = await ctx.api.maybe("registry", "/v1/blacklist/", page_size=100) or {"items": []}
        return ctx.render("blacklist.html", items=result["items"])

    # -- session ---------------------------------------------------------------------

    cached: dict[str, Any] = {}

    async def demo_accounts() -> list[dict[str, Any]]:
        """The demo accounts, looked up once they are all registered."""
        if "accounts" in cached:
            return list(cached["accounts"])
        try:
            accounts = await demo.demo_accounts(portal.settings, portal.client(), upstreams=portal.upstreams)
        except (demo.DemoError, httpx.HTTPError, KeyError):
            return []
        if all(a["org"] for a in accounts if a["role"] in ("user", "unit", "expert")):
            cached["accounts"] = accounts
        return [a for a in accounts if a["org"] or a["role"] not in ("user", "unit", "expert")]

    async def signin_page(ctx: Ctx, *, error: str | None = None, status: int = 200, username: str = "") -> Response[str]:
        accounts = await demo_accounts() if portal.settings.demo else []
        return ctx.render(
            "signin.html",
            status=status,
            signin_error=error,  # shown next to the form, not in the page's banner
            accounts=accounts,
            demo=portal.settings.demo,
            demo_password=demo.DEMO_PASSWORD,
            username=username,
            next=ctx.request.query_params.get("next", "/"),
        )

    @page("/signin")
    async def signin(request: Request[Any, Any, Any]) -> Response[str]:
        return await signin_page(Ctx(portal, request))

    def session_cookie(ctx: Ctx, token: str, max_age: int = 8 * 3600) -> Cookie:
        secure = ctx.request.url.scheme == "https" or ctx.request.headers.get("x-forwarded-proto") == "https"
        return Cookie(key=SESSION, value=token, httponly=True, samesite="lax", secure=secure, path="/", max_age=max_age)

    def seconds_until(expires_at: Any, default: int = 8 * 3600) -> int:
        """The cookie lives as long as the session's token."""
        try:
            left = int((datetime.fromisoformat(str(expires_at)) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return default
        return max(1, left)

    def safe_next(value: Any) -> str:
        v = str(value or "/")
        return v if v.startswith("/") and not v.startswith("//") else "/"

    @action("/signin")
    async def signin_post(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused:
            return refused
        username = str(form.get("username") or "")
        try:
            session = await ctx.api.post("registry", "/v1/sessions", json={"username": username, "password": str(form.get("password") or "")})
        except ApiError as err:
            # 401 auth.invalid_credentials, 423 auth.account_locked (until when, in the message),
            # 403 auth.account_disabled, 429 request.rate_limited: the service's words, next to the form
            return await signin_page(ctx, error=err.message(ctx.lang), status=err.status if err.status in (400, 401, 403, 404, 422, 423, 429) else 502, username=username)
        return ctx.redirect(safe_next(form.get("next")), [session_cookie(ctx, session["token"], max_age=seconds_until(session.get("expires_at")))])

    @action("/signin/demo")
    async def signin_demo(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused:
            return refused
        if not portal.settings.demo:
            return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.demo_off")
        accounts = {a["role"]: a for a in await demo_accounts()}
        account = accounts.get(str(form.get("role")))
        if account is None:
            return await signin_page(ctx, error=ctx.t("not_found"), status=404)
        token = issue_token(portal.settings, subject=f"demo-{account['role']}", role=account["role"], org=account["org"], name=account["name"])
        return ctx.redirect(safe_next(form.get("next")), [session_cookie(ctx, token)])

    @action("/signout")
    async def signout(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, _, refused = await checked(request)
        if refused:
            return refused
        if ctx.token:
            # end the login session, so its token is refused everywhere; a demo-button or
            # expired token has no session to end (422 session.not_a_session, 401): signed out anyway
            with contextlib.suppress(ApiError):
                await ctx.api.call("DELETE", "registry", "/v1/sessions/current")
        return ctx.redirect("/", [Cookie(key=SESSION, value="", httponly=True, samesite="lax", path="/", max_age=0)])

    # -- orders ------------------------------------------------------------------------

    @page("/orders")
    async def orders(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "user", "unit", "center", "bureau", "department"):
            return refused
        try:
            pg = max(1, int(request.query_params.get("page") or 1))
        except ValueError:
            pg = 1
        try:
            result = await ctx.api.get("registry", "/v1/orders/", page=pg, page_size=20, status=request.query_params.get("status"))
        except ApiError as err:
            return ctx.error_page(err)
        return ctx.render("orders.html", items=result["items"], paging=page_links(result["total"], pg, 20))

    @action("/orders")
    async def order_create(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "user")):
            return refused
        try:
            qty = int(form.get("quantity") or 1)
        except ValueError:
            qty = form.get("quantity")  # type: ignore[assignment]
        body: dict[str, Any] = {"purpose": form.get("purpose") or "research", "items": [{"price_item_id": form.get("price_item_id"), "quantity": qty}]}
        if form.get("description"):
            body["description"] = form["description"]
        try:
            o = await ctx.api.post("registry", "/v1/orders/", json=body)
        except ApiError as err:
            return await instrument_page(ctx, str(form.get("instrument_id") or ""), error=err, form=form)
        return ctx.redirect(f"/orders/{o['order_id']}?done=1")

    async def order_page(ctx: Ctx, order_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        try:
            o = await ctx.api.get("registry", f"/v1/orders/{order_id}")
        except ApiError as err:
            return ctx.error_page(err)
        application = None
        settlement = None
        if ctx.role in ("user", "center", "bureau"):
            apps = await ctx.api.maybe("vouchers", "/v1/applications/", page_size=100)
            matching = [a for a in (apps or {}).get("items", []) if a["order_id"] == order_id]
            application = matching[-1] if matching else None
        if o.get("settlement_id"):
            settlement = await ctx.api.maybe("payments", f"/v1/settlements/{o['settlement_id']}")
        unit = await ctx.api.maybe("registry", f"/v1/units/{o['unit_id']}")
        return ctx.render(
            "order.html",
            status=error.status if error else 200,
            o=o,
            unit=unit,
            application=application,
            settlement=settlement,
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form=form or {},
        )

    @page("/orders/{order_id:str}")
    async def order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx):
            return refused
        return await order_page(ctx, order_id)

    @action("/orders/{order_id:str}/{step:str}")
    async def order_step(request: Request[Any, Any, Any], order_id: FromPath[str], step: FromPath[str]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "user", "unit", "center")):
            return refused
        base = f"/v1/orders/{order_id}"
        try:
            if step == "quote":
                body = {"amount_fen": yuan_to_fen(str(form.get("amount") or ""))}
                if form.get("note"):
                    body["note"] = form["note"]
                await ctx.api.post("registry", f"{base}/quote", json=body)
            elif step == "document":
                upload = form.get("file")
                kind = str(form.get("kind") or "contract")
                if upload is None or not getattr(upload, "filename", None):
                    raise ApiError(400, {"code": "document.no_file", "message_zh": "请选择文件", "message_en": "choose a file", "errors": [{"key": "file", "message": ctx.t("file")}]})
                data = await upload.read()
                await ctx.api.call(
                    "POST", "registry", f"{base}/documents", params={"kind": kind, "filename": upload.filename}, content=data, headers={"Content-Type": "application/octet-stream"}
                )
                if kind == "result" and form.get("service_hours") not in (None, ""):
                    o = await ctx.api.get("registry", base)
                    doc = [d for d in o["documents"] if d["kind"] == "result"][-1]
                    hours = int(form["service_hours"]) if str(form["service_hours"]).isdigit() else form["service_hours"]
                    await ctx.api.post("registry", f"{base}/results", json={"document_id": doc["document_id"], "service_hours": hours})
            elif step == "contract":
                body = {
                    "testing_fee_fen": yuan_to_fen(str(form.get("testing_fee") or "")) if form.get("testing_fee") else None,
                    "ip_ownership": form.get("ip_ownership") or None,
                    "confidentiality": form.get("confidentiality") or None,
                    "damage_compensation": form.get("damage_compensation") or None,
                    "contract_document_id": form.get("contract_document_id") or None,
                    "rd_proof_document_id": form.get("rd_proof_document_id") or None,
                    "provincial_subsidy": form.get("provincial_subsidy") == "on",
                }
                await ctx.api.call("PUT", "registry", f"{base}/contract", json=body)
            elif step in ("sign", "start"):
                await ctx.api.post("registry", f"{base}/{step}")
            elif step == "cancel":
                await ctx.api.post("registry", f"{base}/cancel", json={"reason": form.get("reason") or None})
            elif step == "rate":
                rating = int(form["rating"]) if str(form.get("rating") or "").isdigit() else form.get("rating")
                await ctx.api.post("registry", f"{base}/rate", json={"rating": rating, "comment": form.get("comment") or None})
            elif step == "apply":
                year = this_year()
                account = await ctx.api.raw("GET", "vouchers", f"/v1/accounts/{year}")
                if account.status_code == 404:
                    await ctx.api.post("vouchers", f"/v1/accounts/{year}")
                await ctx.api.post("vouchers", "/v1/applications/", json={"order_id": order_id})
            elif step == "settle":
                await ctx.api.post("payments", "/v1/settlements", json={"order_id": order_id})
            elif step == "pay":
                sid = str(form.get("settlement_id") or "")
                body = {
                    "amount_fen": yuan_to_fen(str(form.get("amount") or "")),
                    "bank_reference": form.get("bank_reference") or "",
                    "idempotency_key": str(form.get("idempotency_key") or secrets.token_hex(8)),
                }
                await ctx.api.post("payments", f"/v1/settlements/{sid}/payments", json=body)
            else:
                return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.unknown_step")
        except ApiError as err:
            return await order_page(ctx, order_id, error=err, form=form)
        return ctx.redirect(f"/orders/{order_id}?done={step}")

    @get("/orders/{order_id:str}/documents/{document_id:str}", include_in_schema=False, **pub)
    async def order_document(request: Request[Any, Any, Any], order_id: FromPath[str], document_id: FromPath[str]) -> Response[bytes]:
        ctx = Ctx(portal, request)
        r = await ctx.api.raw("GET", "registry", f"/v1/orders/{order_id}/documents/{document_id}")
        headers = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "content-disposition")}
        return Response(r.content, status_code=r.status_code, headers=headers)

    # -- vouchers (user) ---------------------------------------------------------------

    async def vouchers_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
        year = this_year()
        account = await ctx.api.maybe("vouchers", f"/v1/accounts/{year}")
        programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
        apps = await ctx.api.maybe("vouchers", "/v1/applications/", page_size=100) or {"items": []}
        vs = await ctx.api.maybe("vouchers", "/v1/vouchers/", page_size=100) or {"items": []}
        return ctx.render(
            "vouchers.html",
            status=error.status if error else 200,
            year=year,
            account=account,
            programme=programme,
            applications=apps["items"],
            vouchers=vs["items"],
            error=error.message(ctx.lang) if error else None,
        )

    @page("/vouchers")
    async def vouchers(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "user"):
            return refused
        return await vouchers_page(ctx)

    @action("/vouchers/account")
    async def activate(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, _, refused = await checked(request)
        if refused or (refused := need(ctx, "user")):
            return refused
        try:
            await ctx.api.post("vouchers", f"/v1/accounts/{this_year()}")
        except ApiError as err:
            return await vouchers_page(ctx, error=err)
        return ctx.redirect("/vouchers?done=1")

    @action("/vouchers/applications/{application_id:str}/appeal")
    async def appeal(request: Request[Any, Any, Any], application_id: FromPath[str]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "user")):
            return refused
        try:
            await ctx.api.post("vouchers", f"/v1/applications/{application_id}/appeal", json={"reason": form.get("reason") or ""})
        except ApiError as err:
            return await vouchers_page(ctx, error=err)
        return ctx.redirect("/vouchers?done=1")

    # -- center / bureau: review queue and appeals -------------------------------------

    async def review_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
        submitted = await ctx.api.maybe("vouchers", "/v1/applications/", status="submitted", page_size=100) or {"items": []}
        appealed = await ctx.api.maybe("vouchers", "/v1/applications/", status="appealed", page_size=100) or {"items": []}
        recent = await ctx.api.maybe("vouchers", "/v1/applications/", page_size=20) or {"items": []}
        return ctx.render(
            "review.html",
            status=error.status if error else 200,
            queue=submitted["items"],
            appealed=appealed["items"],
            recent=recent["items"],
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
        )

    @page("/review")
    async def review(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "center", "bureau"):
            return refused
        return await review_page(ctx)

    @action("/review/{application_id:str}/{decision:str}")
    async def decide(request: Request[Any, Any, Any], application_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "center", "bureau")):
            return refused
        reason = form.get("reason") or None
        try:
            if decision in ("approve", "reject"):
                await ctx.api.post("vouchers", f"/v1/applications/{application_id}/{decision}", json={"reason": reason} if reason else {})
            elif decision in ("uphold", "overturn"):
                await ctx.api.post("vouchers", f"/v1/applications/{application_id}/appeal/decide", json={"outcome": decision, "reason": reason})
            else:
                return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.unknown_decision")
        except ApiError as err:
            return await review_page(ctx, error=err)
        return ctx.redirect("/review?done=1")

    # -- unit: instruments and ledger imports ------------------------------------------

    @page("/unit/instruments")
    async def unit_instruments(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        result = await ctx.api.maybe("registry", "/v1/instruments/", unit_id=ctx.org, page_size=100) or {"items": []}
        compliance = await ctx.api.maybe("registry", f"/v1/compliance/units/{ctx.org}")
        return ctx.render("unit_instruments.html", items=result["items"], compliance=compliance)

    async def imports_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
        jobs = await ctx.api.maybe("registry", f"/v1/units/{ctx.org}/imports", page_size=20) or {"items": []}
        details = (error.problem.get("details") or {}) if error else {}
        return ctx.render(
            "imports.html",
            status=error.status if error else 200,
            jobs=jobs["items"],
            error=error.message(ctx.lang) if error else None,
            row_errors=details.get("errors") if isinstance(details, dict) else None,
            failed_job=details.get("job_id") if isinstance(details, dict) else None,
        )

    @page("/unit/imports")
    async def imports(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        return await imports_page(ctx)

    @action("/unit/imports")
    async def import_post(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "unit")):
            return refused
        upload = form.get("file")
        try:
            if upload is None or not getattr(upload, "filename", None):
                raise ApiError(400, {"code": "document.no_file", "message_zh": "请选择台账文件", "message_en": "choose a ledger file"})
            data = await upload.read()
            media = getattr(upload, "content_type", None) or "application/octet-stream"
            job = await ctx.api.call("POST", "registry", f"/v1/units/{ctx.org}/imports", params={"filename": upload.filename}, content=data, headers={"Content-Type": media})
        except ApiError as err:
            job_id = (err.problem.get("details") or {}).get("job_id") if isinstance(err.problem.get("details"), dict) else None
            if job_id and err.code == "import.rows_invalid":
                return ctx.redirect(f"/unit/imports/{job_id}")
            return await imports_page(ctx, error=err)
        return ctx.redirect(f"/unit/imports/{job['job_id']}")

    @page("/unit/imports/{job_id:str}")
    async def import_job(request: Request[Any, Any, Any], job_id: FromPath[str]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit", "center", "bureau"):
            return refused
        try:
            job = await ctx.api.get("registry", f"/v1/imports/{job_id}")
        except ApiError as err:
            return ctx.error_page(err)
        total = job.get("total_rows") or 0
        pct = int(100 * (job.get("processed_rows") or 0) / total) if total else (100 if job.get("status") != "validating" else 0)
        return ctx.render("import_job.html", job=job, pct=pct, refresh=job.get("status") == "validating")

    # -- bureau: dashboard; finance: payouts -------------------------------------------

    @page("/dashboard")
    async def dashboard(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "bureau", "center", "finance"):
            return refused
        year = this_year()
        programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
        report = await ctx.api.maybe("payments", f"/v1/reports/budget-execution/{year}")
        orders = await ctx.api.maybe("registry", "/v1/orders/", page_size=1)
        apps = await ctx.api.maybe("vouchers", "/v1/applications/", page_size=1)
        cat = await ctx.api.maybe("registry", "/v1/catalogue/instruments", page_size=1)
        bars = []
        if programme:
            budget = programme["budget_fen"] or 1
            bars = [
                (ctx.t("budget"), programme["budget_fen"], 100),
                (ctx.t("committed"), programme["committed_fen"], round(100 * programme["committed_fen"] / budget, 1)),
                (ctx.t("remaining"), programme["remaining_fen"], round(100 * programme["remaining_fen"] / budget, 1)),
            ]
        counts = {
            "orders": orders["total"] if orders else None,
            "applications": apps["total"] if apps else None,
            "instruments": cat["total"] if cat else None,
        }
        return ctx.render("dashboard.html", year=year, programme=programme, report=report, bars=bars, counts=counts)

    async def finance_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
        due = await ctx.api.maybe("payments", "/v1/payouts/due", page_size=100) or {"items": []}
        orders_ = await ctx.api.maybe("payments", "/v1/payment-orders/", page_size=50) or {"items": []}
        return ctx.render("finance.html", status=error.status if error else 200, due=due.get("items", []), orders=orders_.get("items", []), error=error.message(ctx.lang) if error else None)

    @page("/finance")
    async def finance(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "finance", "center", "bureau"):
            return refused
        return await finance_page(ctx)

    @action("/finance/payment-orders")
    async def payment_order(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, _, refused = await checked(request)
        if refused or (refused := need(ctx, "finance")):
            return refused
        try:
            await ctx.api.post("payments", "/v1/payment-orders/", json={})
        except ApiError as err:
            return await finance_page(ctx, error=err)
        return ctx.redirect("/finance?done=1")

    @get("/finance/payment-orders/{payment_order_id:str}/export", include_in_schema=False, **pub)
    async def payment_order_export(request: Request[Any, Any, Any], payment_order_id: FromPath[str]) -> Response[bytes]:
        ctx = Ctx(portal, request)
        r = await ctx.api.raw("GET", "payments", f"/v1/payment-orders/{payment_order_id}/export")
        headers = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "content-disposition")}
        return Response(r.content, status_code=r.status_code, headers=headers)

    # -- unit: the yearly evaluation application ---------------------------------------

    async def materials_of(form: dict[str, Any]) -> list[dict[str, Any]]:
        """The uploaded files as the evaluation service's material descriptors: the file
        stays with the unit, its SHA-256 and size fix which file the experts were given."""
        out = []
        for kind in ("self_assessment", "supporting"):
            upload = form.get(kind)
            if upload is None or not getattr(upload, "filename", None):
                continue
            data = await upload.read()
            if data:
                out.append({"kind": kind, "name": str(upload.filename)[:200], "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)})
        return out

    async def evaluation_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        year = this_year()
        cycle = await ctx.api.maybe("evaluation", f"/v1/cycles/{year}")
        apps = await ctx.api.maybe("evaluation", "/v1/applications/", page_size=50) or {"items": []}
        current = next((a for a in apps["items"] if a.get("year") == year), None)
        return ctx.render(
            "evaluation.html",
            status=error.status if error else 200,
            year=year,
            cycle=cycle,
            current=current,
            applications=apps["items"],
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form={k: v for k, v in (form or {}).items() if isinstance(v, str)},
        )

    @page("/unit/evaluation")
    async def unit_evaluation(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        return await evaluation_page(ctx)

    @action("/unit/evaluation")
    async def unit_evaluation_post(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "unit")):
            return refused
        try:
            materials = await materials_of(form)
            if not materials:
                raise ApiError(400, {"code": "document.no_file", "message_zh": "请上传自评报告", "message_en": "upload the self-assessment report", "details": {"missing": ["self_assessment"]}})
            body: dict[str, Any] = {"materials": materials, "statement": str(form.get("statement") or "").strip() or None}
            resubmit = str(form.get("application_id") or "")
            if resubmit:
                await ctx.api.post("evaluation", f"/v1/applications/{resubmit}/resubmit", json=body)
            else:
                await ctx.api.post("evaluation", "/v1/applications/", json={"year": int(form.get("year") or this_year()), **body})
        except ApiError as err:
            return await evaluation_page(ctx, error=err, form=form)
        return ctx.redirect("/unit/evaluation?done=1")

    # -- unit: voucher redemption claims --------------------------------------------------

    async def redemption_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        year = this_year()
        window = await ctx.api.maybe("vouchers", f"/v1/redemption/windows/{year}")
        claims = (await ctx.api.maybe("vouchers", "/v1/redemption/claims", page_size=100) or {"items": []})["items"]
        used = (await ctx.api.maybe("vouchers", "/v1/vouchers/", status="used", page_size=100) or {"items": []})["items"]
        claimed: set[str] = set()
        for c in claims:
            if c.get("status") == "rejected":
                continue
            items = c.get("items")
            if items is None:  # the list leaves the items out
                items = (await ctx.api.maybe("vouchers", f"/v1/redemption/claims/{c['claim_id']}") or {}).get("items") or []
            claimed |= {i["voucher_id"] for i in items}
        return ctx.render(
            "redemption.html",
            status=error.status if error else 200,
            year=year,
            window=window,
            claims=claims,
            vouchers=[v for v in used if v["voucher_id"] not in claimed],
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form={k: v for k, v in (form or {}).items() if isinstance(v, str)},
        )

    @page("/unit/redemption")
    async def unit_redemption(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        return await redemption_page(ctx)

    @action("/unit/redemption")
    async def unit_redemption_post(request: Request[Any, Any, Any]) -> Response[str]:
        """One used voucher claimed: the bank receipt and the results are uploaded as the unit's
        evidence documents, then the claim names them with the invoice (R20)."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "unit")):
            return refused
        try:
            documents: dict[str, str] = {}
            missing = [k for k in ("receipt", "results") if form.get(k) is None or not getattr(form.get(k), "filename", None)]
            if missing:
                raise ApiError(400, {"code": "document.no_file", "message_zh": "请上传银行回单和服务结果", "message_en": "upload the bank receipt and the results", "details": {"missing": missing}})
            for k in ("receipt", "results"):
                upload = form[k]
                data = await upload.read()
                media = getattr(upload, "content_type", None) or "application/octet-stream"
                doc = await ctx.api.post("vouchers", "/v1/redemption/documents", files={"file": (upload.filename, data, media)})
                documents[k] = doc["document_id"]
            item: dict[str, Any] = {
                "voucher_id": str(form.get("voucher_id") or ""),
                "invoice_number": str(form.get("invoice_number") or "").strip(),
                "receipt_document_id": documents["receipt"],
                "results_document_id": documents["results"],
            }
            if str(form.get("invoice_code") or "").strip():
                item["invoice_code"] = str(form["invoice_code"]).strip()
            await ctx.api.post("vouchers", "/v1/redemption/claims", json={"year": int(form.get("year") or this_year()), "items": [item]})
        except ApiError as err:
            if err.code == "redemption.invoice_invalid":
                err.problem.setdefault("errors", []).append({"key": "invoice_number", "message": err.message("en")})
            return await redemption_page(ctx, error=err, form=form)
        return ctx.redirect("/unit/redemption?done=1")

    # -- unit: payee bank account --------------------------------------------------------

    async def payee_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        payee = await ctx.api.maybe("payments", f"/v1/payees/{ctx.org}")
        payouts = await ctx.api.maybe("payments", "/v1/payouts/", page_size=50) or {"items": []}
        return ctx.render(
            "payee.html",
            status=error.status if error else 200,
            payee=payee,
            payouts=payouts.get("items", []),
            error=error.message(ctx.lang) if error else None,
            field_errors=(error.field_errors(ctx.lang) | ({"account_number": error.message(ctx.lang)} if error.code == "payee.account_invalid" else {})) if error else {},
            form={k: v for k, v in (form or {}).items() if k in ("bank_name", "account_name")},
        )

    @page("/unit/payee")
    async def unit_payee(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        return await payee_page(ctx)

    @action("/unit/payee")
    async def unit_payee_post(request: Request[Any, Any, Any]) -> Response[str]:
        """The unit's bank details for award and redemption payouts; the number comes back masked
        and is never put back into the form."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "unit")):
            return refused
        body = {k: str(form.get(k) or "").strip() for k in ("bank_name", "account_name", "account_number")}
        try:
            await ctx.api.call("PUT", "payments", f"/v1/payees/{ctx.org}", json=body)
        except ApiError as err:
            return await payee_page(ctx, error=err, form=form)
        return ctx.redirect("/unit/payee?done=1")

    # -- unit: prices of its instruments -------------------------------------------------

    async def prices_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        instruments = (await ctx.api.maybe("registry", "/v1/instruments/", unit_id=ctx.org, page_size=100) or {"items": []})["items"]
        rows = []
        for inst in instruments:
            prices = await ctx.api.maybe("registry", f"/v1/instruments/{inst['instrument_id']}/prices") or {"items": []}
            rows.append((inst, prices["items"]))
        return ctx.render(
            "unit_prices.html",
            status=error.status if error else 200,
            rows=rows,
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form={k: v for k, v in (form or {}).items() if isinstance(v, str)},
        )

    @page("/unit/prices")
    async def unit_prices(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "unit"):
            return refused
        return await prices_page(ctx)

    @action("/unit/prices")
    async def unit_prices_post(request: Request[Any, Any, Any]) -> Response[str]:
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "unit")):
            return refused
        body = {
            "name": str(form.get("name") or "").strip(),
            "billing_unit": form.get("billing_unit") or "",
            "price_fen": yuan_to_fen(str(form.get("price") or "")),
            "basis": form.get("basis") or "cost_compensation",
        }
        try:
            await ctx.api.post("registry", f"/v1/instruments/{form.get('instrument_id') or '-'}/prices", json=body)
        except ApiError as err:
            if "price_fen" in err.field_errors(ctx.lang):
                err.problem.setdefault("errors", []).append({"key": "price", "message": err.field_errors("en")["price_fen"]})
            return await prices_page(ctx, error=err, form=form)
        return ctx.redirect("/unit/prices?done=1")

    # -- department and expert queues --------------------------------------------------

    async def queue_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        if ctx.role == "expert":
            items = (await ctx.api.maybe("evaluation", "/v1/assignments/", page_size=100) or {"items": []})["items"]
        else:
            items = (await ctx.api.maybe("evaluation", "/v1/applications/", page_size=100) or {"items": []})["items"]
        instruments = await ctx.api.maybe("registry", "/v1/instruments/", page_size=50) if ctx.role == "department" else None
        return ctx.render(
            "queue.html",
            status=error.status if error else 200,
            items=items,
            instruments=(instruments or {}).get("items", []),
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            failed=(form or {}).get("application_id"),
        )

    @page("/queue")
    async def queue(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "department", "expert"):
            return refused
        return await queue_page(ctx)

    @action("/queue/{application_id:str}/{decision:str}")
    async def queue_decide(request: Request[Any, Any, Any], application_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The department forwards an application of its units, or returns it with a reason."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "department")):
            return refused
        if decision not in ("forward", "return"):
            return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.unknown_decision")
        reason = str(form.get("reason") or "").strip() or None
        try:
            await ctx.api.post("evaluation", f"/v1/applications/{application_id}/{decision}", json={"reason": reason} if reason or decision == "return" else {})
        except ApiError as err:
            return await queue_page(ctx, error=err, form={"application_id": application_id})
        return ctx.redirect("/queue?done=1")

    async def scoring_page(ctx: Ctx, assignment_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
        mine = (await ctx.api.maybe("evaluation", "/v1/assignments/", page_size=100) or {"items": []})["items"]
        assignment = next((a for a in mine if a["assignment_id"] == assignment_id), None)
        if assignment is None:
            return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.not_found")
        application = await ctx.api.maybe("evaluation", f"/v1/applications/{assignment['application_id']}")
        year = (application or {}).get("year") or this_year()
        iset = await ctx.api.maybe("evaluation", "/v1/indicator-set/", year=year) or {"dimensions": []}
        indicators = [i for d in iset.get("dimensions", []) for i in d.get("indicators", []) if i.get("source") == "expert" and i.get("role") == assignment["role"]]
        return ctx.render(
            "scoring.html",
            status=error.status if error else 200,
            assignment=assignment,
            application=application,
            indicators=indicators,
            error=error.message(ctx.lang) if error else None,
            field_errors=error.field_errors(ctx.lang) if error else {},
            form={k: v for k, v in (form or {}).items() if isinstance(v, str)},
        )

    @page("/expert/assignments/{assignment_id:str}")
    async def scoring(request: Request[Any, Any, Any], assignment_id: FromPath[str]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "expert"):
            return refused
        return await scoring_page(ctx, assignment_id)

    @action("/expert/assignments/{assignment_id:str}")
    async def scoring_post(request: Request[Any, Any, Any], assignment_id: FromPath[str]) -> Response[str]:
        """The expert's points per indicator of its role (entered as points, sent in
        hundredths), the on-site check date and its findings."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "expert")):
            return refused
        scores = {k.removeprefix("score:"): yuan_to_fen(str(v or "")) for k, v in form.items() if k.startswith("score:")}
        body = {"scores": scores, "onsite_date": str(form.get("onsite_date") or ""), "findings": str(form.get("findings") or "").strip()}
        try:
            await ctx.api.post("evaluation", f"/v1/assignments/{assignment_id}/scores", json=body)
        except ApiError as err:
            return await scoring_page(ctx, assignment_id, error=err, form=form)
        return ctx.redirect(f"/expert/assignments/{assignment_id}?done=1")

    # -- center and bureau: units' applications and users' registrations ---------------

    def page_number(ctx: Ctx) -> int:
        try:
            return max(1, int(ctx.request.query_params.get("page") or 1))
        except ValueError:
            return 1

    def reason_at_field(err: ApiError, lang: str) -> dict[str, str]:
        """The problem's field errors, and a missing or overlong reason next to the reason."""
        found = err.field_errors(lang)
        if err.code in ("decision.reason_required", "decision.reason_too_long"):
            found["reason"] = err.message(lang)
        return found

    async def review_list(
        ctx: Ctx, template: str, path: str, key: str, shown: str, *, error: ApiError | None, failed: str | None
    ) -> Response[str]:
        """A review queue: one page of ``path`` filtered by ``key`` (``all``: no filter), with a failed decision's error at its row."""
        pg = page_number(ctx)
        try:
            result = await ctx.api.get("registry", path, **{key: None if shown == "all" else shown}, page=pg, page_size=REVIEW_PAGE_SIZE)
        except ApiError as err:
            return ctx.error_page(err)
        return ctx.render(
            template,
            status=error.status if error else 200,
            items=result["items"],
            shown=shown,
            base={key: shown},
            paging=page_links(result["total"], pg, REVIEW_PAGE_SIZE),
            error=error.message(ctx.lang) if error else None,
            field_errors=reason_at_field(error, ctx.lang) if error else {},
            failed=failed,
        )

    async def review_units_page(ctx: Ctx, *, error: ApiError | None = None, failed: str | None = None, status: str | None = None) -> Response[str]:
        shown = status or ctx.request.query_params.get("status") or "applied"
        return await review_list(ctx, "review_units.html", "/v1/units/", "status", shown, error=error, failed=failed)

    @page("/review/units")
    async def review_units(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "center", "bureau"):
            return refused
        return await review_units_page(ctx)

    @action("/review/units/{unit_id:str}/{decision:str}")
    async def review_units_decide(request: Request[Any, Any, Any], unit_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The bureau approves a unit's application, or rejects it with a reason (R7)."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "bureau")):
            return refused
        if decision not in ("approve", "reject"):
            return ctx.render("error.html", status=404, error=ctx.t("not_found"), code="portal.unknown_decision")
        reason = str(form.get("reason") or "").strip() or None
        try:
            await ctx.api.post("registry", f"/v1/units/{unit_id}/{decision}", json={"reason": reason} if reason else {})
        except ApiError as err:
            return await review_units_page(ctx, error=err, failed=unit_id, status="applied")
        return ctx.redirect("/review/units?done=1")

    async def review_users_page(ctx: Ctx, *, error: ApiError | None = None, failed: str | None = None) -> Response[str]:
        shown = ctx.request.query_params.get("verified") or "false"
        shown = shown if shown in ("false", "true", "all") else "false"
        return await review_list(ctx, "review_users.html", "/v1/users/", "verified", shown, error=error, failed=failed)

    @page("/review/users")
    async def review_users(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = Ctx(portal, request)
        if refused := need(ctx, "center", "bureau"):
            return refused
        return await review_users_page(ctx)

    @action("/review/users/{user_id:str}/verify")
    async def review_users_verify(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[str]:
        """The center verifies a registered user (the API has no rejection of a user)."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "center")):
            return refused
        reason = str(form.get("reason") or "").strip() or None
        try:
            await ctx.api.post("registry", f"/v1/users/{user_id}/verify", json={"reason": reason} if reason else {})
        except ApiError as err:
            return await review_users_page(ctx, error=err, failed=user_id)
        return ctx.redirect("/review/users?done=1")

    # -- register an enterprise or a start-up team ----------------------------------------

    REGISTER_FIELDS = ("name", "kind", "credit_code", "leader_name", "leader_id_number", "incubator_credit_code")

    def register_errors(err: ApiError, lang: str, kind: str) -> dict[str, str]:
        """The service's refusal next to the field it concerns, in the service's words."""
        found = err.field_errors(lang)
        text = err.message(lang)
        if err.code == "user.credit_code_required":
            found["credit_code"] = text
        elif err.code == "user.team_fields_required":
            for k in ("leader_name", "leader_id_number", "incubator_credit_code"):
                found.setdefault(k, text)
        elif err.code == "registry.credit_code_invalid":
            found["incubator_credit_code" if kind == "team" else "credit_code"] = text
        elif "resident_id" in err.code or "identity" in err.code:
            found["leader_id_number"] = text
        elif err.code in ("user.team_class", "user.enterprise_class", "user.duplicate_class"):
            found["classes"] = text
        elif err.code == "user.duplicate":
            found["leader_id_number" if kind == "team" else "credit_code"] = text
        return found

    def register_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, registered: dict[str, Any] | None = None) -> Response[str]:
        form = form or {}
        kind = str(form.get("kind") or "enterprise")
        return ctx.render(
            "register.html",
            status=error.status if error else 200,
            may_register=ctx.role in ("user", "center"),
            error=error.message(ctx.lang) if error else None,
            field_errors=register_errors(error, ctx.lang, kind) if error else {},
            form={k: str(form.get(k) or "") for k in REGISTER_FIELDS} | {"kind": kind},
            chosen=list(form.get("_classes") or []),
            registered=registered,
        )

    @page("/register")
    async def register(request: Request[Any, Any, Any]) -> Response[str]:
        return register_page(Ctx(portal, request))

    @action("/register")
    async def register_post(request: Request[Any, Any, Any]) -> Response[str]:
        """An enterprise or a start-up team registers (R4) with the signed-in user's (or the
        center's) token; the center verifies it in /review/users."""
        ctx, form, refused = await checked(request)
        if refused or (refused := need(ctx, "user", "center")):
            return refused
        raw = await request.form()
        classes = [str(c) for c in raw.getall("classes", [])]
        special = [str(c) for c in raw.getall("special_classes", [])]
        form["_classes"] = classes + special
        kind = str(form.get("kind") or "enterprise")
        body: dict[str, Any] = {"name": str(form.get("name") or "").strip(), "kind": kind, "classes": classes, "special_classes": special}
        fields = ("credit_code",) if kind == "enterprise" else ("leader_name", "leader_id_number", "incubator_credit_code")
        for k in fields:
            if str(form.get(k) or "").strip():
                body[k] = str(form[k]).strip()
        try:
            if not classes:
                raise ApiError(400, {"code": "request.invalid", "message_zh": "请至少选择一个类别", "message_en": "choose at least one class", "details": {"missing": ["classes"]}})
            user = await ctx.api.post("registry", "/v1/users/", json=body)
        except ApiError as err:
            return register_page(ctx, error=err, form=form)
        return register_page(ctx, registered=user)

    return [
        css, home, catalogue, instrument, notices, notice, publish_notice, propose_award_plan, blacklist,
        signin, signin_post, signin_demo, signout,
        orders, order_create, order, order_step, order_document,
        vouchers, activate, appeal, review, decide,
        unit_instruments, imports, import_post, import_job,
        dashboard, finance, payment_order, payment_order_export, queue,
        unit_evaluation, unit_evaluation_post, queue_decide, scoring, scoring_post, unit_payee, unit_payee_post,
        unit_prices, unit_prices_post, unit_redemption, unit_redemption_post,
        review_units, review_units_decide, review_users, review_users_verify, register, register_post,
    ]
