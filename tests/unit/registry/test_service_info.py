"""R18 service information: what a unit publishes, validated field by field."""

from __future__ import annotations

import pytest

from services.registry.domain import service_info
from services.registry.domain.parties import AcceptanceEvidence, acceptance_failures, check_acceptance
from services.registry.policy import packaged
from services.runtime.errors import DomainError

EVIDENCE = AcceptanceEvidence(full_time_staff=2, service_content="成分分析", service_norms="国标", fees_published=True, no_bad_credit=True)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0374-2968888", "0374-2968888"),
        ("0374 2968888", "0374-2968888"),
        ("010-12345678", "010-12345678"),
        ("0374-2968888-123", "0374-2968888-123"),
        ("03742968888", "0374-2968888"),
        ("01012345678", "010-12345678"),
        ("(0374) 2968888", "0374-2968888"),
    ],
)
def test_mainland_mobile_and_landline_numbers_are_accepted(raw: str, canonical: str) -> None:
    assert service_info.normalise_phone(raw) == canonical


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "2968888", "374-2968888", "0374-296888", "0374-296888888", "电话", "0374-2968888-1234567", "0374 123456", "0374123456"])
def test_other_numbers_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        service_info.normalise_phone(raw)
    assert info.value.code == "registry.phone_invalid" and info.value.details == {"field": "contact_phone"}
    assert "联系电话" in info.value.message_zh and "contact phone" in info.value.message_en


def test_lengths_are_bounded_at_their_edge() -> None:
    assert service_info.clean({"contact_person": "王" * 50})["contact_person"] == "王" * 50
    with pytest.raises(DomainError) as info:
        service_info.clean({"contact_person": "王" * 51})
    assert (info.value.code, info.value.details["field"]) == ("registry.service_info_invalid", "contact_person")
    assert service_info.clean({"address": "地" * 200})["address"] == "地" * 200
    with pytest.raises(DomainError) as info:
        service_info.clean({"address": "地" * 201})
    assert info.value.details["field"] == "address"
    with pytest.raises(DomainError) as info:
        service_info.clean({"service_content": "x" * 2001})
    assert info.value.details["field"] == "service_content"
    with pytest.raises(DomainError) as info:
        service_info.clean({"contact_person": "王"})
    assert info.value.details["field"] == "contact_person"


def test_blank_means_not_published() -> None:
    assert service_info.clean({"address": "  ", "contact_person": None}) == {"address": None, "contact_person": None}
    assert service_info.missing({"service_content": "分析", "contact_person": " ", "contact_phone": None}) == ["contact_person", "contact_phone", "address"]


def test_voucher_acceptance_needs_the_published_service_information() -> None:
    policy = packaged().acceptance.defaults
    assert acceptance_failures("approved", EVIDENCE, policy, blacklisted=False) == []
    assert acceptance_failures("approved", EVIDENCE, policy, blacklisted=False, unpublished=["contact_phone"]) == ["acceptance.service_info_unpublished"]
    with pytest.raises(DomainError) as info:
        check_acceptance("approved", EVIDENCE, policy, blacklisted=False, unpublished=["contact_person", "address"])
    assert info.value.code == "acceptance.service_info_unpublished"
    assert info.value.details["unpublished"] == ["contact_person", "address"]
    assert "联系方式" in info.value.message_zh
