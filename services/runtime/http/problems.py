"""The shape of an error answer (RFC 9457 problem details, rendered by
``services.runtime.http.app.problem``) and its declaration in the OpenAPI
documents: every operation documents the problem statuses it can answer with,
as ``application/problem+json``, so a client (and schemathesis) knows that a
400 carries a ``code`` and a Chinese and an English message."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

PROBLEM = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True):
    """An error: ``code`` is stable, ``message_zh``/``message_en`` are for people."""

    type: str
    title: str
    status: int
    code: str
    message_zh: str
    message_en: str
    #: the fields a request got wrong (400 ``request.invalid``)
    errors: list[dict[str, Any]] | None = None
    #: what the rule needs to be explained (the object's id, a limit, ...)
    details: dict[str, Any] | None = None


_DESCRIPTIONS = {
    400: "The request is not valid (``request.invalid``): a field is missing, of the wrong type (numbers are never read from strings) or out of range; or the body is nested too deeply (``request.too_deep``)",
    401: "No token, or an invalid or expired one",
    403: "The caller's role or organisation may not do this",
    404: "The object (or the address) does not exist",
    409: "The object is not in a state that allows this",
    413: "The upload is too large",
    415: "The upload's type is not accepted",
    422: "A business rule refuses the request",
    429: "Too many requests (the gateway's rate limit)",
}

#: what any operation can answer: bad input, a bad token, an unknown object,
#: a state or business rule, the gateway's rate limit
COMMON = (400, 401, 404, 409, 422, 429)


def problem_responses(*statuses: int, public: bool = False) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: the common problem statuses (403 too unless
    the route is public), and ``statuses`` (413, 415 for an upload)."""
    codes = sorted({*COMMON, *(() if public else (403,)), *statuses})
    return {code: ResponseSpec(data_container=Problem, description=_DESCRIPTIONS.get(code, "An error"), media_type=PROBLEM, generate_examples=False) for code in codes}

def replayed(model: type, what: str = "the earlier result, when the same request was already carried out (nothing is done again)") -> dict[int, ResponseSpec]:
    """``access(..., responses=replayed(Model))`` for an idempotent POST that
    answers 201 when it acts and 200 with the earlier result on a repeat."""
    return {200: ResponseSpec(data_container=model, description=what, generate_examples=False)}


#: the documented content type of a stored document's download: its own type
#: (PDF, JPEG, PNG, DOCX), recognised from the bytes at upload
DOCUMENT_MEDIA_TYPES = "*/*"
