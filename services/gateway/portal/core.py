"""What every page of the portal shares: the request's context (language,
principal, API client, rendering), the portal's settings and templates, money
and paging helpers, and ``Kit``, the handlers' toolbox: route decorators, the
CSRF and role checks, and the two shapes every page takes (show a page to some
roles; run a form's action, then redirect, or show the page again with the
service's refusal next to its fields)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jinja2
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie

from services.gateway.portal.client import Api, ApiError
from services.gateway.portal.figures import points
from services.gateway.portal.i18n import label, said_problem, translate
from services.gateway.portal.i18n_labels import CATEGORIES, SPECIAL_CLASSES, USER_CLASSES
from services.gateway.portal.messages import decision_text, failures_text, indicator_set, local_time
from services.gateway.portal import csrf, progress
from services.gateway.portal.pagecache import NOT_STORED, REVALIDATE, PageCache
from services.gateway.portal.versioned import reloaded
from services.gateway.upstreams import Upstreams
from services.runtime import clock
from services.runtime.money import MoneyError, parse_yuan, yuan_plain, yuan_sign
from services.runtime.http.auth import PUBLIC, Principal, TokenError, TokenVerifier, access
from services.runtime.settings import Settings

HERE = Path(__file__).parent
SESSION = "xciss_session"
LANG = "xciss_lang"
PAGE_SIZE = 10
REVIEW_PAGE_SIZE = 20


def money(fen: Any) -> str:
    """Fen as the portal shows an amount: ``¥1,234.50``; nothing is ``—``."""
    return "—" if fen is None else yuan_sign(int(fen))


def yuan_to_fen(text: str) -> int | str:
    """'1,234.5' → 123450 (services/runtime/money.py); anything else is returned as
    is, for the API to refuse by field. A negative amount goes on as one (-500), so
    that the API words the refusal at its field as for any amount out of range."""
    text = (text or "").strip()
    negative = text.startswith("-")
    try:
        fen = parse_yuan(text[1:] if negative else text)
    except MoneyError:  # as typed: "1,2" must not reach the API as "12", which it would read as 12
        return text
    return -fen if negative else fen


def this_year() -> int:
    """The programme year on the policy clock (the test clock's while one is set)."""
    return clock.local_year()


#: the years a page may show: those the services accept in a path or a query
FIRST_YEAR, LAST_YEAR = 2000, 2100


def asked_year(ctx: Ctx, *given: Any, first: int = FIRST_YEAR, last: int = LAST_YEAR) -> int:
    """The year a page shows: the first of ``given`` (a path's, a form's) that is not empty, else
    ``?year=``; a year from ``first`` to ``last`` as asked, none or anything else (``abc``, ``1999``)
    this programme year, never a refusal."""
    for value in (*given, ctx.request.query_params.get("year")):
        text = str(value if value is not None else "").strip()
        if text:
            return _a_year(text, first, last) or this_year()
    return this_year()


def _a_year(text: str, first: int = FIRST_YEAR, last: int = LAST_YEAR) -> int | None:
    """``text`` as a year from ``first`` to ``last``; None when it is none."""
    return int(text) if text.isdigit() and first <= int(text) <= last else None


def form_year(form: dict[str, Any], field: str = "year") -> int:
    """The year a form sends (this programme year when empty): a year from 2000 to 2100, else the
    portal's refusal at ``field`` (422 ``portal.bad_year``) — never a 500 for a typed "abc"."""
    text = str(form.get(field) or "").strip()
    if not text:
        return this_year()
    if year := _a_year(text):
        return year
    raise ApiError(422, {"code": "portal.bad_year", **said_problem("a_year_from_2000_to_2100"), "details": {"field": field}})


def simulated_time() -> str | None:
    """The simulated policy time for the portal's banner, or None on real time."""
    if clock.simulation() is None:
        return None
    return clock.local_now().strftime("%Y-%m-%d %H:%M")


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
        self.csrf = csrf.token(request)
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

    @property
    def city_name(self) -> str:
        """The city's name in the page's language (its file, ``XCISS_CITY_FILE``)."""
        name = self.portal.settings.city.name
        return name.en if self.lang == "en" else name.zh

    def cookies(self) -> list[Cookie]:
        secure = self.request.url.scheme == "https" or self.request.headers.get("x-forwarded-proto") == "https"
        out = []
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
            simulated_time=simulated_time(),
            failures_text=lambda f: failures_text(f, self.lang, self.city_name),
            decision_text=lambda reason, failures=None: decision_text(reason, failures, self.lang, self.city_name),
            indicator_set=lambda v: indicator_set(v, self.lang),
            **kw,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8", cookies=self.cookies())

    def redirect(self, to: str, cookies: list[Cookie] | None = None) -> Response[str]:
        return Response("", status_code=303, headers={"Location": to}, cookies=[*self.cookies(), *(cookies or [])])

    def outcome(self, error: ApiError | None, form: dict[str, Any] | None = None, *, field_errors: dict[str, str] | None = None) -> dict[str, Any]:
        """What a page shows after a form's action failed (or nothing failed): the HTTP status,
        the service's message, its field errors (``field_errors`` instead when given) and the
        text the user typed, to put back into the form."""
        return {
            "status": error.status if error else 200,
            "error": error.message(self.lang) if error else None,
            "field_errors": (field_errors if field_errors is not None else error.field_errors(self.lang)) if error else {},
            "form": {k: v for k, v in (form or {}).items() if isinstance(v, str)},
        }

    def error_page(self, err: ApiError) -> Response[str]:
        return self.render("error.html", status=err.status if err.status >= 400 else 500, error=err.message(self.lang), code=err.code)


class Portal:
    def __init__(self, settings: Settings, upstreams: Upstreams, client: Callable[[], httpx.AsyncClient]):
        self.settings, self.upstreams, self.client = settings, upstreams, client
        self.verifier = TokenVerifier(settings)
        # templates are parsed once: no look at the files on every page (auto_reload)
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.ChainableUndefined, auto_reload=False)
        self.pages = PageCache(settings.portal_cache_s)
        self.env.filters["money"] = money
        self.env.filters["points"] = points  # hundredths of a point: 85.50
        self.env.filters["yuan_input"] = yuan_plain  # an amount field's value: 1234.50, as typed back
        # the city's counties: its file (XCISS_CITY_FILE, services/runtime/city.py)
        counties = settings.city.divisions
        self.env.filters["county"] = lambda c: counties.get(str(c), c or "—")
        self.env.filters["dt"] = local_time  # Beijing time, whatever zone the service answered in
        self.env.globals["urlencode"] = urlencode
        self.env.globals["CATEGORIES"] = CATEGORIES
        self.env.globals["COUNTIES"] = counties
        self.env.globals["USER_CLASSES"], self.env.globals["SPECIAL_CLASSES"] = USER_CLASSES, SPECIAL_CLASSES
        self.env.globals["progress"] = progress.of  # a case's steps and next step (issue 17)


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {k: form.get(k) for k in form.keys()}


PageFn = Callable[..., Awaitable[Response[str]]]
Handler = Callable[..., Awaitable[Response[Any]]]


class Kit:
    """The handlers' toolbox, one per portal."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.pub = access(PUBLIC)

    def page(self, path: str, **kw: Any) -> Callable[[Handler], Any]:
        return get(path, include_in_schema=False, media_type="text/html", **self.pub, **kw)

    def action(self, path: str, **kw: Any) -> Callable[[Handler], Any]:
        return post(path, include_in_schema=False, status_code=303, media_type="text/html", **self.pub, **kw)

    def ctx(self, request: Request[Any, Any, Any]) -> Ctx:
        return Ctx(self.portal, request)

    async def checked(self, request: Request[Any, Any, Any]) -> tuple[Ctx, dict[str, Any]]:
        """The context and form of a POST; its CSRF token was checked by Litestar's
        middleware before the handler ran (``portal/csrf.py``)."""
        form = await _form(request)
        form.pop(csrf.FIELD, None)
        return Ctx(self.portal, request), form

    async def public(self, request: Request[Any, Any, Any], page: PageFn, *args: Any) -> Response[str]:
        """A page anybody may see: for a visitor without a session, as kept for a few
        seconds (``pagecache``); rendered afresh for everybody else."""
        ctx = Ctx(self.portal, request)
        if SESSION in request.cookies or request.method != "GET":
            response = await page(ctx, *args)
            response.headers["Cache-Control"] = NOT_STORED
            return response
        key = f"{ctx.lang} {request.scope['path']}?{request.scope.get('query_string', b'').decode('latin-1')} {simulated_time()}"
        html = await self.portal.pages.fetch(key, ctx.csrf)
        if html is None:
            try:
                response = await page(ctx, *args)
            except BaseException:
                self.portal.pages.drop(key)
                raise
            if response.status_code == 200 and isinstance(response.content, str):
                self.portal.pages.put(key, response.content, ctx.csrf)
            else:
                self.portal.pages.drop(key)
        else:
            response = Response(html, media_type="text/html; charset=utf-8", cookies=ctx.cookies())
        response.headers["Cache-Control"] = REVALIDATE
        return response

    @staticmethod
    def need(ctx: Ctx, *roles: str) -> Response[str] | None:
        """None when the caller is signed in (in one of ``roles``, if any); else the way out:
        to the sign-in page, or 403."""
        if ctx.principal is None:
            return ctx.redirect(f"/signin?{urlencode({'next': ctx.request.url.path})}")
        if roles and ctx.role not in roles:
            return ctx.render("error.html", status=403, error=ctx.t("error"), code="auth.forbidden")
        return None

    async def show(self, request: Request[Any, Any, Any], roles: tuple[str, ...], page: PageFn, *args: Any) -> Response[str]:
        """A page for signed-in callers of ``roles`` (any role when empty)."""
        ctx = Ctx(self.portal, request)
        if refused := self.need(ctx, *roles):
            return refused
        return await page(ctx, *args)

    async def submit(
        self,
        request: Request[Any, Any, Any],
        roles: tuple[str, ...] | None,
        run: Callable[[Ctx, dict[str, Any]], Awaitable[Any]],
        *,
        again: Again,
        done: str | Callable[[Any], str],
        keep_typed: bool = False,
    ) -> Response[str]:
        """A form's action: the role check (CSRF: Litestar's middleware) (``roles`` None: anybody, signed in or
        not), then ``run``; a refusal of the services shows the page again (``again``) with
        the error next to its fields (an edit of a record somebody else changed meanwhile:
        the record as it now is, what was typed only with ``keep_typed``: ``versioned.reloaded``),
        success redirects to ``done`` (or ``done(result)``)."""
        ctx, form = await self.checked(request)
        if roles is not None and (refused := self.need(ctx, *roles)):
            return refused
        try:
            result = await run(ctx, form)
        except ApiError as err:
            return await again(ctx, *reloaded(err, form, keep_typed=keep_typed))
        if isinstance(result, Response):
            return result
        return ctx.redirect(done if isinstance(done, str) else done(result))

    @staticmethod
    def not_found(ctx: Ctx, code: str) -> Response[str]:
        return ctx.render("error.html", status=404, error=ctx.t("not_found"), code=code)

    @staticmethod
    def passthrough(r: httpx.Response, kept: tuple[str, ...] = ("content-type", "content-disposition")) -> Response[bytes]:
        """A download as the service answered it, with its headers ``kept`` (its type and file name)."""
        headers = {k: v for k, v in r.headers.items() if k.lower() in kept}
        return Response(r.content, status_code=r.status_code, headers=headers)

    async def download(self, request: Request[Any, Any, Any], roles: tuple[str, ...], service: str, path: str) -> Response[Any]:
        """A file of a service (a workbook, a document) passed to the browser as the service answers
        it (``passthrough``), for signed-in callers of ``roles`` (any role when empty): a visitor is
        sent to sign in and another role reads the 403 page, not the service's problem as a file;
        a service that does not answer is the portal's 503 page."""
        ctx = Ctx(self.portal, request)
        if refused := self.need(ctx, *roles):
            return refused
        try:
            return self.passthrough(await ctx.api.raw("GET", service, path))
        except ApiError as err:
            return ctx.error_page(err)


Again = Callable[[Ctx, ApiError, dict[str, Any]], Awaitable[Response[str]]]


def again(page: PageFn, *args: Any, form: bool = True) -> Again:
    """For ``Kit.submit``: the form's page shown again with the refusal (and what was typed,
    unless ``form`` is False); ``args`` go before the keywords (e.g. an order's id)."""

    async def show(ctx: Ctx, err: ApiError, typed: dict[str, Any]) -> Response[str]:
        return await page(ctx, *args, error=err, **({"form": typed} if form else {}))

    return show


async def instrument_of(ctx: Ctx, instrument_id: str) -> dict[str, Any] | Response[str]:
    """The instrument a unit's page manages, or the page to answer instead: the registry's
    refusal, or 403 when a unit opens another unit's instrument (the staff may open any)."""
    inst = await ctx.api.answer("registry", f"/v1/instruments/{instrument_id}")
    if isinstance(inst, ApiError):
        return ctx.error_page(inst)
    if ctx.role == "unit" and inst.get("unit_id") != ctx.org:
        return ctx.render("error.html", status=403, error=ctx.t("error"), code="auth.forbidden")
    return dict(inst)


def no_file(key: str, *missing: str) -> ApiError:
    """The portal's own refusal of a form without the file it needs, shaped as the services' are,
    in the catalogue's words of ``key`` (msgctxt "portal_refusal")."""
    return ApiError(400, {"code": "document.no_file", **said_problem(key), "details": {"missing": list(missing)}})
