"""The catalogue's synonym and abbreviation dictionary: the center lists,
adds and removes entries (domain/synonyms.py). Every change is audited and
bumps the search index's generation in its own transaction, so no process
serves a result page computed with the old dictionary for longer than the
cache's generation check (search_cache.GENERATION_TTL_S); the dictionary is
applied at query time, so nothing is reindexed."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from contracts.envelope import new_event_id
from services.registry.audited import audited
from services.registry.db.search_models import search_synonyms
from services.registry.domain.synonyms import check_entry, form_key
from services.registry.schemas.synonyms import SynonymEntry
from services.registry.search_model import bump_generation
from services.runtime import clock
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import Page

_DUPLICATE = (
    "synonyms.duplicate_canonical",
    "词典中已有该标准名称的词条（不区分大小写）",
    "the dictionary already has an entry with this canonical term (case-insensitive)",
)


def _entry(row: Any) -> SynonymEntry:
    return SynonymEntry(
        entry_id=row["id"],
        canonical=row["canonical"],
        synonyms=list(row["synonyms"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _image(entry: SynonymEntry) -> dict[str, Any]:
    """The entry as the audit trail keeps it (times as ISO 8601 text, as before it was a struct)."""
    return audited(msgspec.structs.asdict(entry))


async def list_entries(db: ServiceDatabase, *, q: str | None, page: int, page_size: int) -> Page[SynonymEntry]:
    """Entries by canonical term; ``q`` keeps those with a form containing it (any case)."""
    async with db.read() as s:
        found = [_entry(r) for r in (await s.execute(select(search_synonyms).order_by(search_synonyms.c.canonical_key))).mappings()]
    if q and q.strip():
        key = form_key(q)
        found = [e for e in found if any(key in form_key(f) for f in (e.canonical, *e.synonyms))]
    start = (page - 1) * page_size
    return Page(items=found[start : start + page_size], total=len(found), page=page, page_size=page_size)


async def create_entry(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, canonical: str, synonyms: list[str]) -> SynonymEntry:
    canon, syns = check_entry(canonical, synonyms)
    row = {
        "id": new_event_id(),
        "canonical": canon,
        "canonical_key": form_key(canon),
        "synonyms": list(syns),
        "created_by": actor.subject,
        "created_at": clock.utc_now(),
    }
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            taken = await s.execute(select(func.count()).select_from(search_synonyms).where(search_synonyms.c.canonical_key == row["canonical_key"]))
            if taken.scalar_one():
                raise Conflict(*_DUPLICATE, field="canonical")
            await s.execute(insert(search_synonyms).values(**row))
            await bump_generation(s)
            out = _entry(row)
            await uow.audit("catalogue.synonym_create", "search_synonym", row["id"], after=_image(out))
    except IntegrityError as exc:  # a concurrent twin won the unique key
        raise Conflict(*_DUPLICATE, field="canonical") from exc
    return out


async def delete_entry(db: ServiceDatabase, actor: Actor, correlation_id: str | None, entry_id: str, *, reason: str | None) -> None:
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(search_synonyms).where(search_synonyms.c.id == entry_id))).mappings().first()
        if row is None:
            raise NotFound("synonym_entry", "同义词词条", entry_id)
        await s.execute(delete(search_synonyms).where(search_synonyms.c.id == entry_id))
        await bump_generation(s)
        await uow.audit("catalogue.synonym_delete", "search_synonym", entry_id, reason=reason, before=_image(_entry(row)))
