"""Edits of versioned records on pages (issue 17): a form that edits a record whose API
answers an ``ETag`` carries the version it was shown with (a hidden field ``version``),
sends it back as ``If-Match``, and when somebody else saved the record meanwhile (412
``request.precondition_failed``) is shown again with the record as it now is and, at its
top, the catalogue's words saying so, instead of overwriting the other's change unseen.

A form of a record a ``PUT`` creates (a schedule, bank details, a claim window, a complaint
deadline) rendered while there is none carries ``version`` 0: its save is sent with
``If-None-Match: *``, so when another officer saved the first one meanwhile (412
``request.record_exists``) the form is shown again the same way, with that record.

``Kit.submit`` applies :func:`reloaded` to every form's refusal; a form's action only
adds :func:`if_match` to its edit's headers, and its page puts the record's ``version``
into the form (never the typed one: after a refusal the form carries the current one)."""

from __future__ import annotations

from typing import Any

from services.gateway.portal.client import ApiError
from services.gateway.portal.i18n import translate
from services.runtime.http.preconditions import etag

#: the services' refusal of an edit made to a version since replaced
PRECONDITION_FAILED = "request.precondition_failed"
#: the services' refusal of a first save (``If-None-Match: *``) of a record somebody saved meanwhile
RECORD_EXISTS = "request.record_exists"
#: the portal's own code of that refusal, in the catalogue's words
CHANGED_MEANWHILE = "portal.changed_meanwhile"


def if_match(form: dict[str, Any]) -> dict[str, str]:
    """The precondition of the version the form was shown with: ``If-Match`` with its tag;
    ``If-None-Match: *`` when it was shown without a record (``version`` 0: a record not
    stored yet takes no If-Match, and only its first save may create it); none when the
    form carries no version."""
    version = str(form.get("version") or "").strip()
    if not version.isdigit():
        return {}
    return {"If-Match": etag(int(version))} if int(version) > 0 else {"If-None-Match": "*"}


def changed_meanwhile(err: ApiError) -> bool:
    return err.status == 412 and err.code in (PRECONDITION_FAILED, RECORD_EXISTS)


def reloaded(err: ApiError, form: dict[str, Any], *, keep_typed: bool = False) -> tuple[ApiError, dict[str, Any]]:
    """A refusal and the form to show again with it: for an edit of a version somebody else
    replaced meanwhile, the portal's message and nothing typed (the page shows the record's
    current values and version) or, with ``keep_typed``, what was typed (a form whose page
    shows the current record beside it, sent again knowingly over it); any other refusal
    and the typed form as they were."""
    if not changed_meanwhile(err):
        return err, form
    key = "changed_meanwhile_kept" if keep_typed else "changed_meanwhile"
    problem = {"code": CHANGED_MEANWHILE, "message_zh": translate(key, "zh"), "message_en": translate(key, "en")}
    return ApiError(409, problem), form if keep_typed else {}
