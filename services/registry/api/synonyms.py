"""The catalogue's synonym and abbreviation dictionary over HTTP (center only)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import synonyms
from services.registry.schemas.synonyms import SynonymEntry, SynonymPage
from services.registry.domain.synonyms import MAX_FORM_CHARS, MAX_SYNONYMS
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase

Form = Annotated[str, msgspec.Meta(max_length=200, description=f"a term, at most {MAX_FORM_CHARS} characters once trimmed")]


class NewSynonymEntry(msgspec.Struct, forbid_unknown_fields=True):
    """A canonical term (e.g. 扫描电子显微镜) and its synonyms and abbreviations
    (e.g. 扫描电镜, SEM), Chinese or Latin; Latin is compared without regard to
    case. Refusals: 422 ``synonyms.empty_form``, ``synonyms.form_too_long``,
    ``synonyms.form_without_words``, ``synonyms.bad_synonym_count``,
    ``synonyms.duplicate_form`` (``details.field`` = ``canonical`` or
    ``synonyms``); 409 ``synonyms.duplicate_canonical``."""

    canonical: Form
    synonyms: Annotated[list[Form], msgspec.Meta(max_length=100, description=f"1 to {MAX_SYNONYMS} synonyms or abbreviations")]


class SynonymController(Controller):
    path = "/v1/catalogue/synonyms"
    tags = ["catalogue"]

    @get("/", operation_id="listSynonyms", **access(Role.CENTER))
    async def list_(
        self,
        db: NamedDependency[ServiceDatabase],
        q: str | None = Parameter(default=None, max_length=MAX_FORM_CHARS, description="only entries with a form containing this (any case)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> SynonymPage:
        """The synonym and abbreviation dictionary of the catalogue search, by canonical term. Center only."""
        return await synonyms.list_entries(db, q=q, page=page, page_size=page_size)

    @post("/", operation_id="createSynonym", status_code=201, **access(Role.CENTER))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[NewSynonymEntry]) -> SynonymEntry:
        """Add an entry. A search for any of its forms then finds what any form finds
        (applied at query time: no reindex; cached results are dropped at once). Audited."""
        return await synonyms.create_entry(db, actor_of(request), correlation_of(request), canonical=data.canonical, synonyms=data.synonyms)

    @delete("/{entry_id:str}", operation_id="deleteSynonym", status_code=204, **access(Role.CENTER))
    async def remove(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        entry_id: FromPath[str],
        reason: str | None = Parameter(default=None, max_length=2000, description="why the entry goes (kept in the audit trail)"),
    ) -> None:
        """Remove an entry (404 ``synonym_entry.not_found``). Audited."""
        await synonyms.delete_entry(db, actor_of(request), correlation_of(request), entry_id, reason=reason)
