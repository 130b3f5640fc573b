"""M10, R8: a competent department sees its own units' figures aggregated —
units, instruments, compliance, service, vouchers used and the year's grades —
and never another department's (403), on both databases with real NATS. The
facts arrive as events, as registry, vouchers and payments publish them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from services.evaluation.db.models import applications
from services.runtime.roles import Role
from tests.support.evaluation_events import JUNE, Sender
from tests.support.platform import Platform, running
from tests.support.polling import eventually

YEAR = 2026
OURS, THEIRS, EMPTY = "魏都区科技局", "长葛市科技局", "禹州市科技局"


async def _graded(p: Platform, unit_id: str, status: str, grade: str) -> None:
    async with p["evaluation"].db.unit_of_work() as uow:
        await uow.session.execute(insert(applications).values(id=str(uuid.uuid4()), unit_id=unit_id, year=YEAR, status=status, materials=[], submitted_at=datetime(YEAR, 5, 1, tzinfo=UTC),
                                                    grade=grade, total_centi=9000, version=3))


async def test_a_department_sees_its_county_figures_and_no_other(make_settings) -> None:
    settings = await make_settings(["evaluation"])
    s = Sender()
    a = s.unit("魏都区材料研究所", "411002", OURS)
    b = s.unit("魏都区检测中心", "411002", OURS)
    c = s.unit("长葛市材料研究所", "411082", THEIRS)
    ia = s.instrument(a, "分析仪器", 30_000_000)
    s.instrument(a, "计量仪器", 5_000_000, listed=False)  # past its deadline: overdue
    ib = s.instrument(b, "计量仪器", 8_000_000)
    ic = s.instrument(c, "分析仪器", 12_000_000)
    s.service(a, str(uuid.uuid4()), ia, JUNE, hours=6, fee=1_000_000, voucher=300_000, rating=5)
    s.service(b, str(uuid.uuid4()), ib, JUNE, hours=2, fee=50_000)
    s.service(c, str(uuid.uuid4()), ic, JUNE, hours=3, fee=400_000, voucher=120_000)
    s.refusal(b, str(uuid.uuid4()), JUNE)

    async with running(Platform(settings, ["evaluation"]), relay=False) as p:
        await s.publish(p)

        async def call(role: Role, org: str | None = None, **params: Any) -> Any:
            return await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/department", role=role, org=org, params=params)

        async def caught_up() -> Any:
            ours, theirs = (await call(Role.CENTER, department=OURS)).json(), (await call(Role.CENTER, department=THEIRS)).json()
            # every subject has its own consumer, in no order between them: contracted and served orders
            # are two of registry's subjects (CI once read 0 contracted beside 2 served), revenue is payments'
            done = ours["vouchers"]["used"] == 1 and ours["compliance"]["vouchers_refused"] == 1 and ours["instruments"]["must_list"] == 3 and ours["service"]["orders_served"] == 2
            done = done and ours["service"]["orders_contracted"] == 2 and ours["service"]["revenue_fen"] == 1_050_000 and ours["instruments"]["listed"] == 2
            # units are registry's subject too: a unit's approval can arrive after the rest (CI once read 'applied')
            done = done and ours["units"]["by_status"] == {"approved": 2} and theirs["units"]["by_status"] == {"approved": 1}
            return done and theirs["vouchers"]["used"] == 1 and theirs["instruments"]["listed"] == 1 and theirs["service"]["orders_contracted"] == 1

        await eventually(caught_up, timeout=60)
        await _graded(p, a, "final", "excellent")
        await _graded(p, b, "graded", "unqualified")
        await _graded(p, c, "final", "good")

        r = await call(Role.DEPARTMENT, OURS)
        assert r.status_code == 200, r.text
        mine = r.json()
        assert mine["department"] == OURS and mine["year"] == YEAR
        assert mine["units"]["total"] == 2 and mine["units"]["counties"] == [{"county_code": "411002", "units": 2}]
        assert mine["units"]["by_status"] == {"approved": 2}
        assert (mine["instruments"]["must_list"], mine["instruments"]["listed"], mine["instruments"]["listed_on_time"], mine["instruments"]["overdue"]) == (3, 2, 2, 1)
        assert mine["instruments"]["listed_value_fen"] == 38_000_000
        assert mine["compliance"]["instruments_overdue"] == 1 and mine["compliance"]["on_time_rate_bp"] == 10_000 and mine["compliance"]["vouchers_refused"] == 1
        assert (mine["service"]["orders_served"], mine["service"]["revenue_fen"]) == (2, 1_050_000)
        assert (mine["vouchers"]["used"], mine["vouchers"]["used_fen"], mine["vouchers"]["revenue_voucher_fen"]) == (1, 300_000, 300_000)
        assert mine["evaluation"]["grades"] == {"excellent": 1, "good": 0, "unqualified": 1} and mine["evaluation"]["grades_final"] == 1
        # naming its own department is the same; naming another county's is refused
        assert (await call(Role.DEPARTMENT, OURS, department=OURS)).json() == mine
        r = await call(Role.DEPARTMENT, OURS, department=THEIRS)
        assert r.status_code == 403 and r.json()["code"] == "report.other_department" and r.json()["message_zh"], r.text
        r = await call(Role.DEPARTMENT, None)
        assert r.status_code == 403 and r.json()["code"] == "report.department_unknown"
        # the other county reads its own, which holds nothing of ours
        theirs = (await call(Role.DEPARTMENT, THEIRS)).json()
        assert theirs["units"]["total"] == 1 and theirs["units"]["counties"] == [{"county_code": "411082", "units": 1}]
        assert (theirs["vouchers"]["used_fen"], theirs["instruments"]["must_list"], theirs["evaluation"]["grades"]) == (120_000, 1, {"excellent": 0, "good": 1, "unqualified": 0})
        # a department without units reads zeros
        empty = (await call(Role.DEPARTMENT, EMPTY)).json()
        assert empty["units"]["total"] == 0 and empty["vouchers"]["used"] == 0 and empty["instruments"]["must_list"] == 0
        # the center and the bureau name the department; a unit or a user may not read it
        assert (await call(Role.BUREAU, department=OURS)).json() == mine
        r = await call(Role.CENTER)
        assert r.status_code == 400 and r.json()["code"] == "report.department_required"
        for role, org in ((Role.UNIT, a), (Role.USER, str(uuid.uuid4()))):
            assert (await call(role, org, department=OURS)).status_code == 403
