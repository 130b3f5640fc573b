"""Ledger imports over HTTP: a unit's .xlsx or .csv ledger is registered all
rows or none, every error reported by row and column, the same file twice
changes nothing, money parsed exactly from yuan, GB18030 CSV, limits."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from services.registry import imports as use_cases
from services.registry import ledger_files
from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.runtime.roles import Role
from tests.support.ledger_imports import HEADER, XLSX, row, upload, xlsx
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit


def csv_bytes(rows: list[list[Any]], encoding: str) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


async def unit_instruments(p: Platform, unit: str) -> list[dict[str, Any]]:
    r = await p.call("registry", "GET", f"/v1/instruments/?unit_id={unit}&page_size=100", role=Role.CENTER)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_template_and_a_valid_workbook_imports_every_row(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        r = await p.call("registry", "GET", "/v1/imports/template.xlsx")
        assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
        wb = load_workbook(io.BytesIO(r.content), read_only=True)
        assert wb.sheetnames == ["仪器台账", "填写说明"]
        assert [c for c in next(wb["仪器台账"].iter_rows(values_only=True))] == HEADER
        notes = [v for line in wb["填写说明"].iter_rows(values_only=True) for v in line if v]
        assert set(DEFAULT_CATEGORIES) <= set(notes) and {"全部财政", "部分财政", "非财政"} <= set(notes)
        r = await p.call("registry", "GET", "/v1/imports/template.csv")
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
        assert r.content[3:].decode().splitlines()[0] == ",".join(HEADER)

        unit = await approved_unit(p)
        content = xlsx(
            [
                row("ZC-0001", **{"原值（元）": "200000.00"}),
                row("ZC-0002", **{"原值（元）": "199999.99"}),
                row("ZC-0003", **{"原值（元）": 199999.99, "验收日期": datetime(2024, 9, 20)}),  # a number and a date cell
                row("ZC-0004", **{"原值（元）": 200000, "验收日期": date(2024, 9, 20), "资金来源": "部分财政", "存放地点": None}),
                row(20240005, **{"是否涉密": "是", "主要功能": "", "样品要求": " "}),  # a numeric asset number
                [None] * len(HEADER),  # blank rows are skipped
            ]
        )
        r = await upload(p, unit, content)
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["status"] == "imported" and job["created_count"] == 5 and job["unchanged_count"] == 0
        assert job["total_rows"] == job["processed_rows"] == 5 and job["errors"] == [] and job["filename"] == "台账.xlsx"
        by_asset = {i["asset_number"]: i for i in await unit_instruments(p, unit)}
        assert set(by_asset) == {"ZC-0001", "ZC-0002", "ZC-0003", "ZC-0004", "20240005"}
        assert by_asset["ZC-0001"]["original_value_fen"] == 20_000_000 and by_asset["ZC-0001"]["must_list"] is True
        assert by_asset["ZC-0001"]["listing_deadline"] == "2024-11-06"
        assert by_asset["ZC-0002"]["original_value_fen"] == 19_999_999 and by_asset["ZC-0002"]["must_list"] is False
        assert by_asset["ZC-0003"]["original_value_fen"] == 19_999_999 and by_asset["ZC-0003"]["acceptance_date"] == "2024-09-20"
        assert by_asset["ZC-0004"]["funding"] == "fiscal_part" and by_asset["ZC-0004"]["listing_deadline"] == "2024-11-06"
        assert by_asset["ZC-0004"]["location"] is None
        assert by_asset["20240005"]["classified"] is True and by_asset["20240005"]["must_list"] is False
        assert by_asset["ZC-0001"]["sample_requirements"] == "液体样品不少于 2 mL" and by_asset["20240005"]["sample_requirements"] is None

        # the unit and staff poll the job; another unit does not see it
        other = await approved_unit(p, "许昌职业技术学院")
        r = await p.call("registry", "GET", f"/v1/imports/{job['job_id']}", role=Role.UNIT, org=unit)
        assert r.status_code == 200 and r.json()["status"] == "imported"
        assert (await p.call("registry", "GET", f"/v1/imports/{job['job_id']}", role=Role.CENTER)).status_code == 200
        assert (await p.call("registry", "GET", f"/v1/imports/{job['job_id']}", role=Role.UNIT, org=other)).status_code == 404
        page = (await p.call("registry", "GET", f"/v1/units/{unit}/imports", role=Role.UNIT, org=unit)).json()
        assert page["total"] == 1 and page["items"][0]["job_id"] == job["job_id"]
        assert (await p.call("registry", "GET", f"/v1/units/{unit}/imports", role=Role.UNIT, org=other)).status_code == 403

        # the same file again: the earlier job, nothing new
        r = await upload(p, unit, content)
        assert r.status_code == 200 and r.json()["job_id"] == job["job_id"]
        assert len(await unit_instruments(p, unit)) == 5
        # a new file repeating those rows plus one: the old rows are unchanged, one created
        more = xlsx([row("ZC-0001", **{"原值（元）": "200000.00"}), row("ZC-0002", **{"原值（元）": 199999.99}), row("ZC-0006")])
        r = await upload(p, unit, more, raw=True, name="第二批.xlsx")
        assert r.status_code == 201, r.text
        assert (r.json()["created_count"], r.json()["unchanged_count"], r.json()["filename"]) == (1, 2, "第二批.xlsx")
        assert len(await unit_instruments(p, unit)) == 6


async def test_every_error_is_reported_and_nothing_imported(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        rows = [
            row("A-1"),  # row 2
            row("A-2", **{"原值（元）": "12.345", "资金来源": "财政"}),  # row 3: two errors
            row("A-3"),  # row 4
            row("A-4", **{"验收日期": "2024/09/20", "类别": "魔法仪器"}),  # row 5: two errors
            row("A-5"),  # row 6
        ]
        r = await upload(p, unit, xlsx(rows))
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["code"] == "import.rows_invalid"
        found = {(e["row"], e["column"], e["code"]) for e in problem["details"]["errors"]}
        assert found == {
            (3, "原值（元）", "import.money_precision"),
            (3, "资金来源", "import.invalid_choice"),
            (5, "类别", "instrument.unknown_category"),
            (5, "验收日期", "import.invalid_date"),
        }
        assert all(e["message_zh"] and e["message_en"] for e in problem["details"]["errors"])
        job = (await p.call("registry", "GET", f"/v1/imports/{problem['details']['job_id']}", role=Role.UNIT, org=unit)).json()
        assert job["status"] == "failed" and job["created_count"] == 0 and len(job["errors"]) == 4 and job["total_rows"] == 5
        assert await unit_instruments(p, unit) == []

        # more row errors: required cells, negative money, duplicates in the file, an unknown calendar year
        rows = [
            row("B-1"),
            row("B-1"),
            row("", **{"仪器名称": " "}),
            row("B-3", **{"原值（元）": "-5", "是否涉密": "可能"}),
            row("B-4", **{"验收日期": "2099-03-02"}),
            row("B-5", **{"验收日期": "2099-03-02", "资金来源": "非财政"}),  # not must-list: needs no calendar
        ]
        problem = (await upload(p, unit, xlsx(rows))).json()
        assert {(e["row"], e["column"], e["code"]) for e in problem["details"]["errors"]} == {
            (3, "资产编号", "import.duplicate_asset_number"),
            (4, "资产编号", "import.required"),
            (4, "仪器名称", "import.required"),
            (5, "原值（元）", "import.invalid_money"),
            (5, "是否涉密", "import.invalid_choice"),
            (6, "验收日期", "calendar.unknown_year"),
        }
        negative = next(e for e in problem["details"]["errors"] if e["row"] == 5 and e["column"] == "原值（元）")
        assert negative["message_zh"] == "原值不能为负数"  # said as such, whether typed as text or a number

        # file-level problems
        r = await upload(p, unit, xlsx([row("C-1")], header=[h for h in HEADER if h != "资金来源"]))
        assert r.status_code == 422 and r.json()["code"] == "import.missing_columns"
        r = await upload(p, unit, xlsx([]))
        assert r.status_code == 422 and r.json()["code"] == "import.empty"
        r = await upload(p, unit, b"PK\x03\x04 not really a zip")
        assert r.status_code == 422 and r.json()["code"] == "import.unreadable"
        r = await upload(p, unit, b"\xd0\xcf\x11\xe0 old excel", name="台账.xls")
        assert r.status_code == 422 and r.json()["code"] == "import.unsupported_format"
        assert await unit_instruments(p, unit) == []


async def test_csv_encodings_conflicts_and_access(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit, other = await approved_unit(p), await approved_unit(p, "许昌职业技术学院")
        gb = csv_bytes([row("G-1", **{"原值（元）": "199999.99"}), row("G-2", **{"仪器名称": "扫描电子显微镜", "类别": "物理性能测试仪器"})], "gb18030")
        r = await upload(p, unit, gb, name="台账.csv", raw=True)
        assert r.status_code == 201, r.text
        assert r.json()["created_count"] == 2
        names = {i["asset_number"]: i for i in await unit_instruments(p, unit)}
        assert names["G-2"]["name"] == "扫描电子显微镜" and names["G-1"]["original_value_fen"] == 19_999_999
        # UTF-8 with a BOM, multipart
        r = await upload(p, unit, csv_bytes([row("U-1")], "utf-8-sig"), name="台账.csv")
        assert r.status_code == 201 and r.json()["created_count"] == 1

        # an asset number already registered with different data is an error, never an overwrite
        r = await upload(p, unit, csv_bytes([row("U-2"), row("G-1", **{"原值（元）": "250000.00", "存放地点": "新楼"})], "utf-8"), name="c.csv", raw=True)
        assert r.status_code == 422
        assert [(e["row"], e["column"], e["code"]) for e in r.json()["details"]["errors"]] == [(3, "资产编号", "import.asset_conflict")]
        assert "原值" in r.json()["details"]["errors"][0]["message_zh"]
        assert len(await unit_instruments(p, unit)) == 3

        # another unit may not import into this one; the center may
        r = await upload(p, unit, csv_bytes([row("X-1")], "utf-8"), name="x.csv", org=other)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        assert (await upload(p, unit, csv_bytes([row("X-1")], "utf-8"), name="x.csv", role=Role.USER, org=unit)).status_code == 403
        r = await upload(p, unit, csv_bytes([row("X-1")], "utf-8"), name="x.csv", role=Role.CENTER)
        assert r.status_code == 201 and r.json()["unit_id"] == unit
        # the same asset number in another unit is no conflict
        r = await upload(p, other, csv_bytes([row("X-1")], "utf-8"), name="x.csv")
        assert r.status_code == 201
        assert (await upload(p, "nope", csv_bytes([row("X-1")], "utf-8"), role=Role.CENTER)).status_code == 404

        # too large: 413 with a problem code, nothing stored
        monkeypatch.setattr(use_cases, "MAX_BYTES", 1000)
        big = csv_bytes([row(f"L-{i}") for i in range(20)], "utf-8")
        r = await upload(p, unit, big, name="big.csv")
        assert r.status_code == 413 and r.json()["code"] == "import.too_large"
        r = await upload(p, unit, big, name="big.csv", raw=True)
        assert r.status_code == 413 and r.json()["code"] == "import.too_large"


async def test_a_large_ledger_in_one_transaction(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        progress: list[int] = []
        real = use_cases._progress

        async def spy(db: Any, job_id: str, **values: Any) -> None:
            await real(db, job_id, **values)
            if "processed_rows" in values:
                job = (await p.call("registry", "GET", f"/v1/imports/{job_id}", role=Role.UNIT, org=unit)).json()
                assert job["status"] == "validating"
                progress.append(job["processed_rows"])

        monkeypatch.setattr(use_cases, "_progress", spy)
        n = 1200
        values = [f"{200000 + i // 100}.{i % 100:02d}" for i in range(n)]
        r = await upload(p, unit, xlsx([row(f"Z-{i:05d}", **{"原值（元）": v}) for i, v in enumerate(values)]))
        assert r.status_code == 201, r.text
        assert r.json()["created_count"] == n and r.json()["processed_rows"] == n
        assert progress == [500, 1000, 1200]
        page = (await p.call("registry", "GET", f"/v1/instruments/?unit_id={unit}&page_size=1", role=Role.CENTER)).json()
        assert page["total"] == n


def _with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The .xlsx ``data`` with its part ``name`` replaced (or added)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != name:
                z.writestr(info.filename, src.read(info.filename))
        z.writestr(name, content)
    return out.getvalue()


def _part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


SHEET = "xl/worksheets/sheet1.xml"
#: the "billion laughs": ten entities, each ten of the one before (10^9 "lol"s from a few hundred bytes)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)


async def test_hostile_workbooks_are_a_422_and_their_job_ends_failed(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: a corrupt or hostile .xlsx was a 500 and left its job ``validating``;
    a file of many rows was read to its end before the row limit applied."""
    settings = await make_settings(["registry"], import_max_rows=30)
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        good = xlsx([row("H-1")])
        sheet = _part(good, SHEET)
        hostile = {
            "bad zip": (b"PK\x03\x04" + b"\x00" * 200, "import.unreadable"),
            "cut short": (good[: len(good) // 2], "import.unreadable"),
            "malformed sheet XML": (_with_part(good, SHEET, sheet[: len(sheet) // 2]), "import.unreadable"),
            "entity bomb in the sheet": (_with_part(good, SHEET, LAUGHS + sheet.replace(b"H-1", b"&lol9;")), "import.unreadable"),
            "entity bomb in the workbook": (
                _with_part(good, "xl/workbook.xml", LAUGHS + _part(good, "xl/workbook.xml").replace(b'name="Sheet"', b'name="&lol9;"')),
                "import.unreadable",
            ),
            "missing sheet": (
                _with_part(good, "xl/_rels/workbook.xml.rels", _part(good, "xl/_rels/workbook.xml.rels").replace(b"sheet1.xml", b"sheet9.xml")),
                "import.unreadable",
            ),
        }
        # a part that unpacks far beyond its compressed size (the limit lowered for the test)
        monkeypatch.setattr(ledger_files, "MAX_UNPACKED_BYTES", 1_000_000)
        hostile["zip bomb"] = (_with_part(good, "xl/padding.bin", b"\0" * 2_000_000), "import.unpacked_too_large")
        for what, (content, code) in hostile.items():
            r = await upload(p, unit, content)
            assert r.status_code == 422, (what, r.status_code, r.text)
            problem = r.json()
            assert problem["code"] == code, (what, problem)
            job = (await p.call("registry", "GET", f"/v1/imports/{problem['details']['job_id']}", role=Role.UNIT, org=unit)).json()
            assert job["status"] == "failed" and job["finished_at"], (what, job)
            assert [e["code"] for e in job["errors"]] == [code]

        # the row limit (XCISS_IMPORT_MAX_ROWS = 30 here): 30 rows import, 31 are refused
        r = await upload(p, unit, xlsx([row(f"R-{i:02d}") for i in range(30)]))
        assert r.status_code == 201 and r.json()["created_count"] == 30, r.text
        r = await upload(p, unit, csv_bytes([row(f"S-{i:02d}") for i in range(31)], "utf-8"), name="s.csv")
        assert r.status_code == 422 and r.json()["code"] == "import.too_many_rows", r.text
        assert r.json()["details"]["errors"][0]["message_en"].startswith("at most 30 instrument rows")
        # reading stops at the limit: a file whose sheet is broken after row 40 is refused for its rows,
        # which the reader could only say without parsing on to the break
        long = xlsx([row(f"T-{i:02d}") for i in range(60)])
        sheet = _part(long, SHEET)
        broken = _with_part(long, SHEET, sheet[: sheet.index(b'<row r="41"')] + b'<row r="41"><c r="A41" t="inlineStr"><is><t>')
        r = await upload(p, unit, broken)
        assert r.status_code == 422 and r.json()["code"] == "import.too_many_rows", r.text
        job = (await p.call("registry", "GET", f"/v1/imports/{r.json()['details']['job_id']}", role=Role.UNIT, org=unit)).json()
        assert job["status"] == "failed"
        # nothing is left validating, and only the one good file was imported
        jobs = (await p.call("registry", "GET", f"/v1/units/{unit}/imports?page_size=100", role=Role.UNIT, org=unit)).json()["items"]
        assert [j["status"] for j in jobs].count("validating") == 0
        assert len(await unit_instruments(p, unit)) == 30

        # an error of the platform itself while rows are checked still ends the job
        async def broken_check(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(use_cases, "_check", broken_check)
        r = await upload(p, unit, xlsx([row("U-1")]))
        assert r.status_code == 500 and r.json()["code"] == "internal.error"
        jobs = (await p.call("registry", "GET", f"/v1/units/{unit}/imports?page_size=1", role=Role.UNIT, org=unit)).json()["items"]
        assert jobs[0]["status"] == "failed" and [e["code"] for e in jobs[0]["errors"]] == ["import.aborted"]
