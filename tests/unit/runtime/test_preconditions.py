"""The If-Match rules (services/runtime/http/preconditions.py) without a server:
the tag a read gives, the version an edit expects, and which handlers the
operation docs describe as taking the header."""

from __future__ import annotations

from typing import Annotated

import pytest
from litestar.params import HeaderParameter

from services.runtime.http.preconditions import (
    IfMatchHeader,
    IfMatchInvalid,
    IfNoneMatchHeader,
    IfNoneMatchInvalid,
    PreconditionFailed,
    check_absent,
    check_version,
    create_only,
    etag,
    expected_version,
    takes_if_match,
    takes_if_none_match,
)


def test_a_read_tag_is_what_an_edit_sends_back() -> None:
    assert etag(12) == '"v12"'
    assert expected_version(etag(12)) == 12
    assert expected_version(None) is None and expected_version(" * ") is None


@pytest.mark.parametrize("bad", ["v5", 'W/"v5"', '"5"', '"v0"', '"v5", "v6"', '"v12345678901"', ""])
def test_a_malformed_tag_is_refused_at_the_header(bad: str) -> None:
    with pytest.raises(IfMatchInvalid) as caught:
        expected_version(bad)
    assert caught.value.code == "request.if_match_invalid" and caught.value.details["field"] == "If-Match"


def test_another_version_is_refused_with_the_current_tag() -> None:
    check_version(3, None)
    check_version(3, 3)
    with pytest.raises(PreconditionFailed) as caught:
        check_version(4, 3)
    assert caught.value.status == 412 and caught.value.details["etag"] == '"v4"'


def test_a_record_not_created_yet_matches_no_if_match() -> None:
    check_absent(None, if_match_sent=False)  # no header: the PUT creates it
    for expected, sent in ((None, True), (3, True)):  # "*" or a tag: there is no current version
        with pytest.raises(PreconditionFailed) as caught:
            check_absent(expected, if_match_sent=sent)
        assert caught.value.status == 412 and caught.value.details["etag"] is None


def test_only_the_shared_header_parameter_counts_as_taking_if_match() -> None:
    assert takes_if_match({"if_match": IfMatchHeader, "return": "Response[Order]"})
    assert takes_if_match({"if_match": "IfMatchHeader"}) and takes_if_match({"if_match": "preconditions.IfMatchHeader"})
    # a look-alike annotation, or a docstring-like mention, is not the shared parameter
    assert not takes_if_match({"x": Annotated[str | None, HeaderParameter(name="If-Match")]})
    assert not takes_if_match({"x": "str", "note": "If-Match"})


def test_if_none_match_on_a_write_is_star_or_nothing() -> None:
    assert create_only(None) is False and create_only("*") is True and create_only(" * ") is True
    for bad in ('"v1"', "W/*", "", "*, *"):
        with pytest.raises(IfNoneMatchInvalid) as caught:
            create_only(bad)
        assert caught.value.status == 400 and caught.value.code == "request.if_none_match_invalid" and caught.value.details["field"] == "If-None-Match"
    assert takes_if_none_match({"if_none_match": IfNoneMatchHeader}) and takes_if_none_match({"if_none_match": "IfNoneMatchHeader"})
    assert not takes_if_none_match({"if_match": IfMatchHeader}) and not takes_if_match({"if_none_match": IfNoneMatchHeader})
