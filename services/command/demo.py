"""Demo data for ``xciss up``: a small Xuchang data set loaded over the HTTP
APIs (through the gateway, as any client would), and the demo accounts the
portal offers when ``XCISS_DEMO`` is on.

Three units approved and accepting vouchers, each with instruments listed and
priced; a verified user of every class; the year's voucher programme and
evaluation cycle open; an expert. Idempotent: every object is looked up first (units and users by
their credit codes, instruments by name, the programme by year), so a second
run creates nothing.

Each demo role also gets a real local account (``DEMO_PASSWORD``, the
usernames in ``planned_accounts()``), created by a system administrator's token
through ``POST /v1/accounts``; ``xciss up`` adds the three officers'
accounts (``create_officer_accounts``) the way ``xciss accounts create`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
from stdnum.cn import ric, uscc

from services.gateway.portal.demo_accounts import DEMO_PASSWORD, DEMO_PREFIX, ROLES
from services.registry import accounts
from services.registry.domain.accounts import normalise_username
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.errors import Conflict
from services.runtime.db.unit_of_work import Actor
from services.runtime.service import create_database, load_spec
from services.runtime.settings import Settings

log = logging.getLogger("xciss.demo")


def foreign_counties(settings: Settings) -> list[str]:
    """The demo's county codes that are not divisions of the settings' city."""
    return sorted({u["county_code"] for u in UNITS} - set(settings.city.divisions))


def _code(prefix: str, division: str, serial: str) -> str:
    body = f"{prefix}{division}{serial}"
    return body + uscc.calc_check_digit(body)


def _resident_id(area: str, birth: str, seq: str) -> str:
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


#: the demo data is Xuchang's (the packaged city file, services/runtime/city-xuchang.yaml): its
#: county codes are Xuchang divisions, its credit codes registered under 4110
#: (tests/unit/test_demo_data.py); ``load_demo`` warns when the settings name another city
DEPARTMENTS = {"411002": "魏都区科技局", "411003": "建安区科技局", "411082": "长葛市科技局"}

#: (name, kind, county, credit code, instruments[(name, category, model, manufacturer, value fen, funding, [(item, billing unit, price fen)])])
UNITS: list[dict[str, Any]] = [
    {
        "name": "许昌学院",
        "kind": "university",
        "county_code": "411002",
        "credit_code": _code("12", "411000", "416009001"),
        "contact": ("张明（分析测试中心）", "0374-2968001", "许昌市魏都区八一路88号许昌学院分析测试中心"),
        "instruments": [
            ("扫描电子显微镜", "分析仪器", "SU8010", "日立高新技术公司", 320_000_000, "fiscal_full", [("形貌观察（常规样品）", "per_sample", 30_000), ("能谱分析", "per_sample", 20_000)]),
            ("X射线衍射仪", "分析仪器", "D8 ADVANCE", "布鲁克公司", 210_000_000, "fiscal_full", [("物相分析", "per_sample", 15_000)]),
            ("激光共聚焦显微镜", "医学科研仪器", "LSM 900", "卡尔蔡司公司", 180_000_000, "fiscal_part", [("荧光成像", "per_machine_hour", 40_000)]),
        ],
    },
    {
        "name": "河南省许昌市农业科学研究所",
        "kind": "institute",
        "county_code": "411003",
        "credit_code": _code("12", "411000", "416009002"),
        "contact": ("刘芳", "0374-3316002", "许昌市建安区许继大道1号"),
        "instruments": [
            ("液相色谱-质谱联用仪", "分析仪器", "LCMS-8060", "岛津公司", 260_000_000, "fiscal_full", [("农药残留检测", "per_sample", 50_000), ("定量分析", "per_sample", 35_000)]),
            ("气相色谱仪", "分析仪器", "7890B", "安捷伦科技公司", 45_000_000, "fiscal_full", [("脂肪酸测定", "per_sample", 12_000)]),
        ],
    },
    {
        "name": "许昌瑞科检测技术有限公司",
        "kind": "enterprise",
        "county_code": "411082",
        "credit_code": _code("91", "411082", "097000001"),
        "contact": ("赵磊", "13903740001", "长葛市长社路16号"),
        "instruments": [
            ("万能材料试验机", "物理性能测试仪器", "WDW-300", "济南试金集团", 38_000_000, "non_fiscal", [("拉伸试验", "per_item", 8_000)]),
            ("三坐标测量机", "计量仪器", "Global S", "海克斯康公司", 120_000_000, "non_fiscal", [("尺寸检测", "per_machine_hour", 30_000), ("形位公差检测", "per_item", 15_000)]),
        ],
    },
]

USERS: list[dict[str, Any]] = [
    {"name": "许昌智造科技有限公司", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": _code("91", "411002", "097000011")},
    {"name": "许昌高新电气股份有限公司", "kind": "enterprise", "classes": ["high_tech"], "credit_code": _code("91", "411003", "097000012")},
    {"name": "长葛市金盾机械制造有限公司", "kind": "enterprise", "classes": ["above_scale_industrial"], "credit_code": _code("91", "411082", "097000013")},
    {
        "name": "禹州钧瓷新材料股份有限公司",
        "kind": "enterprise",
        "classes": ["high_tech"],
        "special_classes": ["innovation_leader"],
        "credit_code": _code("91", "411081", "097000014"),
    },
    {"name": "许昌绿源生物科技有限公司", "kind": "enterprise", "classes": ["tech_sme"], "special_classes": ["gazelle"], "credit_code": _code("91", "411024", "097000015")},
    {
        "name": "许昌学院智能传感创新创业团队",
        "kind": "team",
        "classes": ["startup_team"],
        "leader_name": "王晓明",
        "leader_id_number": _resident_id("411002", "19900315", "123"),
        "incubator_credit_code": _code("91", "411002", "097000019"),
    },
]

EXPERT = {"name": "李建华", "role": "technical"}
#: the one password of every demo account (meets the password policy); a demo, never production
#: the three officers' demo accounts (separation of duties), created like ``xciss accounts create``
OFFICERS: list[dict[str, str]] = [
    {"username": "demo-sysadmin", "role": "sysadmin", "name": "系统管理员（演示）"},
    {"username": "demo-secadmin", "role": "secadmin", "name": "安全管理员（演示）"},
    {"username": "demo-auditor", "role": "auditor", "name": "安全审计员（演示）"},
]
BUDGET_FEN = 500_000_000  # 5,000,000 CNY
AWARD_BUDGET_FEN = 200_000_000  # the evaluation awards, 2,000,000 CNY


class DemoError(RuntimeError):
    pass


def shanghai_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


class Upstream(Protocol):
    """A service reached directly (the gateway's ``services.gateway.upstreams.Upstream``)."""

    async def request(self, client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response: ...


class _Api:
    """Calls ``<base>/api/<service><path>`` (the gateway) or, given ``upstreams``, each service directly."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient, base: str, upstreams: Mapping[str, Upstream] | None = None):
        self.settings, self.client, self.base, self.upstreams = settings, client, base.rstrip("/"), upstreams

    async def send(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        if self.upstreams:
            return await self.upstreams[service].request(self.client, method, path, **kw)
        return await self.client.request(method, f"{self.base}/api/{service}{path}", **kw)

    def token(self, role: Role, org: str | None = None) -> str:
        return issue_token(self.settings, subject=f"demo-loader-{role}", role=role, org=org, ttl_s=3600)

    async def call(self, method: str, service: str, path: str, *, role: Role | None = None, org: str | None = None, ok: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(role, org)}"} if role else {}
        r = await self.send(method, service, path, headers=headers, **kw)
        if r.status_code not in ok:
            raise DemoError(f"{method} /api/{service}{path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content and r.headers.get("content-type", "").split(";")[0].endswith("json") else None

    async def all(self, service: str, path: str, *, role: Role | None = None, org: str | None = None, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = await self.call("GET", service, path, role=role, org=org, params={**params, "page": page, "page_size": 100})
            items += body["items"]
            if len(items) >= body["total"] or not body["items"]:
                return items
            page += 1


async def identities(settings: Settings, client: httpx.AsyncClient, base: str = "", upstreams: Mapping[str, Upstream] | None = None) -> dict[str, dict[str, Any]]:
    """The demo parties as they are registered now: {"units": {credit code: id}, "users": {...}, "experts": {name: id}}."""
    api = _Api(settings, client, base, upstreams)
    units = {u["credit_code"]: u["unit_id"] for u in await api.all("registry", "/v1/units/", role=Role.BUREAU)}
    users = {u.get("credit_code") or u["name"]: u["user_id"] for u in await api.all("registry", "/v1/users/", role=Role.CENTER)}
    experts = {e["name"]: e["expert_id"] for e in await api.all("evaluation", "/v1/experts/", role=Role.CENTER)}
    return {"units": units, "users": users, "experts": experts}


def _user_key(u: dict[str, Any]) -> str:
    return u.get("credit_code") or u["name"]


async def planned_accounts(settings: Settings, client: httpx.AsyncClient, base: str = "", upstreams: Mapping[str, Upstream] | None = None) -> list[dict[str, Any]]:
    """One demo account per business role: role, org (the party id), display name, username."""
    ids = await identities(settings, client, base, upstreams)
    unit, user = UNITS[0], USERS[0]
    return [
        {"role": "user", "org": ids["users"].get(_user_key(user)), "name": user["name"], "username": "demo-user"},
        {"role": "unit", "org": ids["units"].get(unit["credit_code"]), "name": unit["name"], "username": "demo-unit"},
        {"role": "center", "org": None, "name": "市科技创新公共服务中心", "username": "demo-center"},
        {"role": "bureau", "org": None, "name": "市科技局", "username": "demo-bureau"},
        {"role": "department", "org": DEPARTMENTS[unit["county_code"]], "name": DEPARTMENTS[unit["county_code"]], "username": "demo-department"},
        {"role": "expert", "org": ids["experts"].get(EXPERT["name"]), "name": f"专家 {EXPERT['name']}", "username": "demo-expert"},
        {"role": "finance", "org": None, "name": "市财政局", "username": "demo-finance"},
    ]


def demo_usernames() -> list[tuple[str, str]]:
    """(username, role) of every demo account, for ``xciss up`` to print: the
    business roles the sign-in page offers, then the three officers."""
    return [*((f"{DEMO_PREFIX}{role}", role) for role in ROLES), *((o["username"], o["role"]) for o in OFFICERS)]


async def _create_accounts(settings: Settings, client: httpx.AsyncClient, api: _Api) -> int:
    """A local account for each demo role, by the system administrator; an existing username is kept."""
    created = 0
    # an existing username is skipped before its password is hashed (argon2: the warm start's longest step)
    existing = {normalise_username(a["username"]) for a in await api.all("registry", "/v1/accounts/", role=Role.SYSADMIN)}
    for account in await planned_accounts(settings, client, api.base, api.upstreams):
        if account["org"] is None and account["role"] in ("user", "unit", "expert"):
            raise DemoError(f"no demo party for the {account['role']} account")
        if normalise_username(account["username"]) in existing:
            continue
        body = {"username": account["username"], "password": DEMO_PASSWORD, "role": account["role"], "org": account["org"], "display_name": account["name"]}
        r = await api.send("POST", "registry", "/v1/accounts/", headers={"Authorization": f"Bearer {api.token(Role.SYSADMIN)}"}, json=body)
        if r.status_code == 201:
            created += 1
        elif not (r.status_code == 409 and _code_of(r) == "account.username_taken"):
            raise DemoError(f"POST /api/registry/v1/accounts ({account['username']}): {r.status_code} {r.text[:300]}")
    return created


def _code_of(r: httpx.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


async def _usernames(db: Any) -> set[str]:
    """Every account's username, as stored (normalised)."""
    names: set[str] = set()
    page = 1
    while True:
        found = await accounts.list_accounts(db, role=None, status=None, page=page, page_size=100)
        names |= {i.username for i in found.items}
        if not found.items or len(names) >= found.total:
            return names
        page += 1


async def create_officer_accounts(settings: Settings) -> int:
    """The sysadmin, secadmin and auditor demo accounts, through the code path
    of ``xciss accounts create`` (the operator, against the registry's
    database: these roles have no HTTP creation). Existing ones are kept."""
    db = create_database(load_spec("registry"), settings)
    created = 0
    try:
        existing = await _usernames(db)
        for officer in OFFICERS:
            if normalise_username(officer["username"]) in existing:
                continue
            try:
                await accounts.create_account(
                    db,
                    Actor(subject="xciss-up:demo", role="operator"),
                    None,
                    username=officer["username"],
                    password=DEMO_PASSWORD,
                    role=Role(officer["role"]),
                    org=None,
                    display_name=officer["name"],
                )
                created += 1
            except Conflict as exc:
                if exc.code != "account.username_taken":
                    raise
    finally:
        await db.dispose()
    return created


async def load_demo(settings: Settings, base: str, *, transport: httpx.AsyncBaseTransport | None = None, today: date | None = None) -> dict[str, int]:
    """Load the demo data set through the gateway at ``base``; returns what was created."""
    created = {"units": 0, "instruments": 0, "price_items": 0, "users": 0, "programmes": 0, "cycles": 0, "experts": 0, "accounts": 0}
    today = today or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    foreign = foreign_counties(settings)
    if foreign:
        log.warning("the demo data is Xuchang's: its counties %s are not divisions of %s (XCISS_CITY_FILE); its users are not local there", ", ".join(foreign), settings.city.name.en)
    async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
        api = _Api(settings, client, base)
        units = {u["credit_code"]: u for u in await api.all("registry", "/v1/units/", role=Role.BUREAU)}
        for spec in UNITS:
            unit = units.get(spec["credit_code"])
            if unit is None:
                body = {k: spec[k] for k in ("name", "kind", "county_code", "credit_code")} | {"department": DEPARTMENTS[spec["county_code"]]}
                unit = await api.call("POST", "registry", "/v1/units/", role=Role.UNIT, json=body)
                created["units"] += 1
            uid = unit["unit_id"]
            if not unit.get("contact_person"):  # R18: service content and contact, published before vouchers
                person, phone, address = spec["contact"]
                info = {"service_content": "测试分析、表征与技术咨询", "contact_person": person, "contact_phone": phone, "address": address}
                unit = await api.call("PUT", "registry", f"/v1/units/{uid}/service-info", role=Role.UNIT, org=uid, json=info)
            if unit["status"] == "applied":
                unit = await api.call("POST", "registry", f"/v1/units/{uid}/approve", role=Role.BUREAU, json={})
            if not unit["accepts_vouchers"]:
                await api.call(
                    "POST",
                    "registry",
                    f"/v1/units/{uid}/voucher-acceptance",
                    role=Role.CENTER,
                    json={"full_time_staff": 4, "service_content": "测试分析、表征与技术咨询", "service_norms": "按国家和行业标准操作，出具正式检测报告", "fees_published": True, "no_bad_credit": True},
                )
            have = {i["name"]: i for i in await api.all("registry", "/v1/instruments/", role=Role.UNIT, org=uid, unit_id=uid)}
            for n, (name, category, model, maker, value, funding, items) in enumerate(spec["instruments"]):
                inst = have.get(name)
                if inst is None:
                    body = {
                        "unit_id": uid,
                        "name": name,
                        "category": category,
                        "model": model,
                        "manufacturer": maker,
                        "original_value_fen": value,
                        "funding": funding,
                        "location": f"{spec['name']}分析测试中心",
                        "functions": f"{name}：{category}服务，面向社会开放共享",
                        "service_content": "、".join(item[0] for item in items),
                        "sample_requirements": "送样前请电话预约；注明样品名称、数量、成分及危险性，固体样品须干燥，液体样品须密封",
                    }
                    # accepted recently, so listing today is on time (M11(3)); late in
                    # the year the 30 working days may run into a year whose official
                    # calendar is not published yet: then accepted earlier
                    for back in (7, 45, 90, 180, 365):
                        body["acceptance_date"] = (today - timedelta(days=back + n)).isoformat()
                        try:
                            inst = await api.call("POST", "registry", "/v1/instruments/", role=Role.UNIT, org=uid, json=body)
                            break
                        except DemoError as exc:
                            if "calendar.unknown_year" not in str(exc):
                                raise
                    else:
                        raise DemoError("no working-day calendar for any recent acceptance date")
                    created["instruments"] += 1
                iid = inst["instrument_id"]
                if not inst.get("listed_on"):
                    await api.call("POST", "registry", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=uid)
                prices = {p["name"] for p in (await api.call("GET", "registry", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=uid))["items"]}
                for item, billing, price in items:
                    if item not in prices:
                        basis = "negotiable" if funding == "non_fiscal" else "cost_compensation"
                        await api.call("POST", "registry", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=uid, json={"name": item, "billing_unit": billing, "price_fen": price, "basis": basis})
                        created["price_items"] += 1

        users = {_user_key(u): u for u in await api.all("registry", "/v1/users/", role=Role.CENTER)}
        for spec in USERS:
            user = users.get(_user_key(spec))
            if user is None:
                user = await api.call("POST", "registry", "/v1/users/", role=Role.USER, json=spec)
                created["users"] += 1
            if not user["verified"]:
                await api.call("POST", "registry", f"/v1/users/{user['user_id']}/verify", role=Role.CENTER, json={})

        year = shanghai_year()
        r = await api.send("GET", "vouchers", f"/v1/programmes/{year}")
        if r.status_code == 404:
            await api.call("POST", "vouchers", "/v1/programmes/", role=Role.BUREAU, json={"year": year, "budget_fen": BUDGET_FEN})
            created["programmes"] += 1
        elif r.status_code != 200:
            raise DemoError(f"GET programme {year}: {r.status_code} {r.text[:300]}")

        r = await api.send("GET", "evaluation", f"/v1/cycles/{year}", headers={"Authorization": f"Bearer {api.token(Role.BUREAU)}"})
        if r.status_code in (404, 409):  # 409 cycle.not_open
            await api.call("POST", "evaluation", "/v1/cycles/", role=Role.BUREAU, json={"year": year, "award_budget_fen": AWARD_BUDGET_FEN})
            created["cycles"] += 1
        elif r.status_code != 200:
            raise DemoError(f"GET evaluation cycle {year}: {r.status_code} {r.text[:300]}")

        experts = {e["name"] for e in await api.all("evaluation", "/v1/experts/", role=Role.CENTER)}
        if EXPERT["name"] not in experts:
            await api.call("POST", "evaluation", "/v1/experts/", role=Role.CENTER, json=EXPERT)
            created["experts"] += 1

        created["accounts"] = await _create_accounts(settings, client, api)
    log.info("demo data: %s", created)
    return created
