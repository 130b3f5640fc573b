"""Ledger imports: a unit uploads its instrument ledger (.xlsx or .csv) and
every row is registered in one transaction, or none.

- Every row is validated and every error collected (row, column, code,
  messages); one error anywhere and nothing is imported: the job is ``failed``.
- The asset number (资产编号) is the key: a row whose asset number the unit
  already registered with identical data is ``unchanged``; with different data
  it is an error (import.asset_conflict), never an overwrite.
- The same file (sha256) imported again by the same unit returns the earlier
  ``imported`` job and changes nothing.
- Progress: the job row is written first and ``processed_rows`` advances in
  short transactions while rows are checked, so a client can poll it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts.envelope import new_event_id
from services.registry import ledger
from services.registry.db.instrument_models import import_jobs, instruments
from services.registry.db.party_models import units
from services.registry.domain.listing import ListingPolicies
from services.registry.instruments import (
    NewInstrument,
    approved_unit,
    assess,
    register_in,
)
from services.registry.schemas.imports import ImportJob, ImportJobPage, RowError
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import read_page

#: the largest file accepted (bytes); larger uploads are refused with 413 import.too_large
MAX_BYTES = 5 * 1024 * 1024
#: the most instrument rows in one file, unless the deployment sets XCISS_IMPORT_MAX_ROWS
MAX_ROWS = ledger.DEFAULT_MAX_ROWS
#: errors kept on a failed job; beyond, one import.too_many_errors entry says so
MAX_ERRORS = 2_000
#: rows checked between two progress updates
BATCH = 500

VALIDATING, FAILED, IMPORTED = "validating", "failed", "imported"

log = logging.getLogger(__name__)


def _job(row: RowMapping | dict[str, Any]) -> ImportJob:
    return ImportJob(
        job_id=row["id"],
        unit_id=row["unit_id"],
        filename=row["filename"],
        sha256=row["sha256"],
        status=row["status"],
        total_rows=row["total_rows"],
        processed_rows=row["processed_rows"],
        created_count=row["created_count"],
        unchanged_count=row["unchanged_count"],
        errors=[RowError(**e) for e in row["errors"] or []],
        created_by=row["created_by"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def too_large() -> DomainError:
    mb = MAX_BYTES // (1024 * 1024)
    return DomainError("import.too_large", f"文件超过{mb}MB，请拆分后分批导入", f"the file is larger than {mb} MB; split it", status=413, max_bytes=MAX_BYTES)


async def get_job(db: ServiceDatabase, job_id: str) -> ImportJob:
    async with db.read() as s:
        row = (await s.execute(select(import_jobs).where(import_jobs.c.id == job_id))).mappings().first()
    if row is None:
        raise NotFound("import", "导入任务", job_id)
    return _job(row)


async def list_jobs(db: ServiceDatabase, unit_id: str, *, page: int, page_size: int) -> ImportJobPage:
    """A unit's imports, newest first."""
    cond = import_jobs.c.unit_id == unit_id
    async with db.read() as s:
        return await read_page(s, select(import_jobs).where(cond), order_by=[import_jobs.c.created_at.desc(), import_jobs.c.id.desc()], page=page, page_size=page_size, item=_job)


def _err(row: int | None, column: str | None, code: str, zh: str, en: str) -> RowError:
    return RowError(row=row, column=column, code=code, message_zh=zh, message_en=en)


def _stored(errors: list[RowError]) -> list[Any]:
    """``errors`` as the job's JSON column (and a problem's details) hold them."""
    return msgspec.to_builtins(errors)  # type: ignore[no-any-return]


def _failure(job: ImportJob) -> DomainError:
    errors = job.errors
    if len(errors) == 1 and errors[0].row is None:  # the file as a whole
        e = errors[0]
        return DomainError(e.code, e.message_zh, e.message_en, job_id=job.job_id, errors=_stored(errors))
    return DomainError(
        "import.rows_invalid",
        f"导入文件有{len(errors)}处错误，未导入任何仪器；请按错误清单修改后重新导入",
        f"the file has {len(errors)} errors; nothing was imported",
        job_id=job.job_id,
        errors=_stored(errors),
    )


async def import_ledger(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    unit_id: str,
    filename: str,
    data: bytes,
    max_rows: int = MAX_ROWS,
) -> tuple[ImportJob, bool]:
    """Import a ledger file for ``unit_id``: (the job, whether it is an earlier
    job of the same file). Raises DomainError (422) with the failed job's id and
    errors when anything is wrong; nothing is imported then. Once its job is
    stored, every way out leaves the job ``imported`` or ``failed``, never
    ``validating``."""
    if len(data) > MAX_BYTES:
        raise too_large()
    digest = hashlib.sha256(data).hexdigest()
    async with db.read() as s:
        unit = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
        if unit is None:
            raise NotFound("unit", "单位", unit_id)
        done = (
            (await s.execute(select(import_jobs).where(import_jobs.c.unit_id == unit_id, import_jobs.c.sha256 == digest, import_jobs.c.status == IMPORTED)))
            .mappings()
            .first()
        )
    if done is not None:
        return _job(done), True
    await approved_check(db, unit_id)

    now = clock.utc_now()
    values: dict[str, Any] = {
        "id": new_event_id(),
        "unit_id": unit_id,
        "filename": (filename or "upload")[:255],
        "sha256": digest,
        "status": VALIDATING,
        "total_rows": 0,
        "processed_rows": 0,
        "created_count": 0,
        "unchanged_count": 0,
        "errors": [],
        "created_by": actor.subject,
        "created_at": now,
        "finished_at": None,
    }
    async with db.unit_of_work(actor, correlation_id) as uow:
        await uow.session.execute(insert(import_jobs).values(**values))
    job = _job(values)

    try:
        return await _run(db, actor, correlation_id, job, calendar=calendar, policy=policy, data=data, max_rows=max_rows)
    except BaseException as exc:  # whatever ends the import here, the job must not stay validating
        await asyncio.shield(_fail_if_validating(db, job.job_id, exc))
        raise


async def _fail_if_validating(db: ServiceDatabase, job_id: str, exc: BaseException) -> None:
    """Mark a job ``failed`` that no path has finished (a domain refusal raised
    in the last transaction, a bug, the database, a cancelled request)."""
    if isinstance(exc, DomainError):
        error = _err(None, None, exc.code, exc.message_zh, exc.message_en)
    else:
        log.error("ledger import %s aborted", job_id, exc_info=exc)
        error = _err(None, None, "import.aborted", "导入因系统错误中止，未导入任何仪器；请稍后重试", "the import was aborted by an internal error; nothing was imported")
    try:
        async with db.unit_of_work() as uow:
            await uow.session.execute(
                update(import_jobs)
                .where(import_jobs.c.id == job_id, import_jobs.c.status == VALIDATING)
                .values(status=FAILED, errors=_stored([error]), processed_rows=import_jobs.c.total_rows, finished_at=clock.utc_now())
            )
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.exception("could not mark ledger import %s failed", job_id)


async def _run(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    job: ImportJob,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    data: bytes,
    max_rows: int,
) -> tuple[ImportJob, bool]:
    unit_id, digest = job.unit_id, job.sha256
    try:
        cell_errors, rows = await asyncio.to_thread(ledger.read_ledger, data, max_rows)
    except ledger.LedgerFileError as exc:
        raise _failure(await _finish_failed(db, job.job_id, [_err(None, None, exc.code, exc.message_zh, exc.message_en)])) from exc
    total = len({e.row for e in cell_errors} | {r.row for r in rows})
    if total == 0:
        raise _failure(await _finish_failed(db, job.job_id, [_err(None, None, "import.empty", "文件中没有仪器数据行", "the file has no instrument rows")]))
    await _progress(db, job.job_id, total_rows=total)

    errors = [_err(e.row, e.column, e.code, e.message_zh, e.message_en) for e in cell_errors]
    deadlines: dict[date, date] = {}  # the calendar walk once per acceptance date
    new, unchanged = await _check(db, job.job_id, unit_id, rows, errors, calendar=calendar, policy=policy, total=total, deadlines=deadlines)
    if errors:
        errors.sort(key=lambda e: (e.row or 0, ledger.COLUMNS.index(e.column) if e.column in ledger.COLUMNS else 99))
        if len(errors) > MAX_ERRORS:
            rest = len(errors) - MAX_ERRORS
            errors = errors[:MAX_ERRORS] + [_err(None, None, "import.too_many_errors", f"另有{rest}处错误未列出", f"{rest} more errors not listed")]
        raise _failure(await _finish_failed(db, job.job_id, errors))

    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            unit_row = await approved_unit(uow.session, unit_id)
            for r in new:
                await register_in(uow, unit_row, r.instrument, calendar=calendar, policy=policy, check_asset=False, deadlines=deadlines)
            counts = {"created_count": len(new), "unchanged_count": unchanged, "processed_rows": total}
            await uow.session.execute(update(import_jobs).where(import_jobs.c.id == job.job_id).values(status=IMPORTED, finished_at=clock.utc_now(), **counts))
            await uow.audit("instrument.import", "import_job", job.job_id, after={"unit_id": unit_id, "filename": job.filename, "sha256": digest, **counts})
    except IntegrityError as exc:  # another import or registration took an asset number meanwhile
        await _finish_failed(db, job.job_id, [_err(None, ledger.ASSET, "import.concurrent_change", "导入期间本单位的仪器有变动，请重新导入", "the unit's instruments changed during the import; import again")])
        raise Conflict("import.concurrent_change", "导入期间本单位的仪器有变动，请重新导入", "the unit's instruments changed during the import; import again", job_id=job.job_id) from exc
    return await get_job(db, job.job_id), False


async def approved_check(db: ServiceDatabase, unit_id: str) -> None:
    async with db.read() as s:
        await approved_unit(s, unit_id)


async def _progress(db: ServiceDatabase, job_id: str, **values: Any) -> None:
    async with db.unit_of_work() as uow:
        await uow.session.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(**values))


async def _finish_failed(db: ServiceDatabase, job_id: str, errors: list[RowError]) -> ImportJob:
    async with db.unit_of_work() as uow:
        await uow.session.execute(
            update(import_jobs).where(import_jobs.c.id == job_id).values(status=FAILED, errors=_stored(errors), processed_rows=import_jobs.c.total_rows, finished_at=clock.utc_now())
        )
    return await get_job(db, job_id)


_COMPARED = ("name", "category", "model", "manufacturer", "original_value_fen", "funding", "acceptance_date", "duty_exempt", "classified", "location", "specifications", "functions", "sample_requirements")


async def _check(
    db: ServiceDatabase,
    job_id: str,
    unit_id: str,
    rows: Sequence[ledger.LedgerRow],
    errors: list[RowError],
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    total: int,
    deadlines: dict[date, date],
) -> tuple[list[ledger.LedgerRow], int]:
    """Rule and database checks of the parsed rows, in batches with progress:
    the rows to create, and how many are already registered identically."""
    first_row: dict[str, int] = {}
    new: list[ledger.LedgerRow] = []
    unchanged = 0
    invalid = total - len(rows)  # rows that already failed parsing count as processed
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        numbers = [r.instrument.asset_number for r in batch]
        async with db.read() as s:
            q = select(instruments).where(instruments.c.unit_id == unit_id, instruments.c.asset_number.in_(numbers))
            existing = {r["asset_number"]: r for r in (await s.execute(q)).mappings().all()}
        for r in batch:
            inst = r.instrument
            asset = inst.asset_number
            assert asset is not None
            if asset in first_row:
                errors.append(
                    _err(
                        r.row,
                        ledger.ASSET,
                        "import.duplicate_asset_number",
                        f"资产编号“{asset}”与第{first_row[asset]}行重复",
                        f"asset number {asset!r} repeats row {first_row[asset]}",
                    )
                )
                continue
            first_row[asset] = r.row
            try:
                assess(inst, calendar=calendar, policy=policy, deadlines=deadlines)
            except DomainError as exc:
                column = ledger.CATEGORY if exc.code == "instrument.unknown_category" else ledger.ACCEPTED
                errors.append(_err(r.row, column, exc.code, exc.message_zh, exc.message_en))
                continue
            old = existing.get(asset)
            if old is None:
                new.append(r)
                continue
            differ = _differences(old, inst)
            if differ:
                cols = "、".join(ledger.FIELD_COLUMN[k] for k in differ)
                errors.append(
                    _err(
                        r.row,
                        ledger.ASSET,
                        "import.asset_conflict",
                        f"资产编号“{asset}”已登记，但以下信息不一致：{cols}；导入不会覆盖已登记的仪器，请在平台上修改或更正文件",
                        f"asset number {asset!r} is already registered with different {', '.join(differ)}; an import never overwrites",
                    )
                )
            else:
                unchanged += 1
        await _progress(db, job_id, processed_rows=min(total, invalid + start + len(batch)))
    return new, unchanged


def _differences(old: RowMapping, inst: NewInstrument) -> list[str]:
    declared = inst.declared()
    return [k for k in _COMPARED if old[k] != declared[k]]


def not_found(job_id: str) -> NotFound:
    return NotFound("import", "导入任务", job_id)
