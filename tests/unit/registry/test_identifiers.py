"""Unit tests for services.registry.domain.identifiers (R4).

Valid numbers are built here with python-stdnum's own check-digit functions,
so no test depends on a hand-computed or real-world number.
"""

from __future__ import annotations

import pytest
from stdnum.cn import ric, uscc

from services.registry.domain.identifiers import (
    IdentifierProblem,
    InvalidCreditCode,
    InvalidIdentityNumber,
    division_code,
    registered_in,
    validate_credit_code,
    validate_resident_id,
)
from services.runtime.city import packaged_city

#: the packaged city's division prefix (services/runtime/city-xuchang.yaml)
PREFIX = packaged_city().division_prefix

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_credit_code(division: str, org: str = "MA44ABC1X", head: str = "91") -> str:
    """A valid 18-character credit code: head(2) + division(6) + org(9) + check."""
    body = head + division + org
    assert len(body) == 17
    return body + uscc.calc_check_digit(body)


def make_resident_id(division: str = "411002", birth: str = "19900101", seq: str = "123") -> str:
    """A valid 18-digit resident ID (the check digit ignores the last character)."""
    body = division + birth + seq
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def wrong_check(code: str, alphabet: str) -> str:
    """The same code with a different (hence wrong) last character."""
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


XUCHANG = make_credit_code("411002")  # 魏都区
ZHENGZHOU = make_credit_code("410100")


# --- validate_credit_code -----------------------------------------------------


class TestValidateCreditCode:
    def test_generated_code_is_valid(self) -> None:
        assert validate_credit_code(XUCHANG) == XUCHANG
        assert validate_credit_code(ZHENGZHOU) == ZHENGZHOU

    def test_stdnum_documented_example(self) -> None:
        assert validate_credit_code("91110000600037341L") == "91110000600037341L"

    def test_lower_case_is_normalised(self) -> None:
        code = make_credit_code("411002", org="MA44ABC1X")
        assert validate_credit_code(code.lower()) == code

    def test_spaces_and_hyphens_are_removed(self) -> None:
        spaced = f" {XUCHANG[:2]} {XUCHANG[2:8]}-{XUCHANG[8:17]} {XUCHANG[17]}\t\n"
        assert validate_credit_code(spaced) == XUCHANG

    def test_fullwidth_input_is_normalised(self) -> None:
        # Chinese input methods often produce full-width characters and spaces.
        assert validate_credit_code(fullwidth(XUCHANG.lower()) + "\u3000") == XUCHANG

    def test_wrong_check_character(self) -> None:
        bad = wrong_check(XUCHANG, _USCC_ALPHABET)
        with pytest.raises(InvalidCreditCode) as info:
            validate_credit_code(bad)
        err = info.value
        assert isinstance(err, ValueError)
        assert err.code == "registry.credit_code_invalid"
        assert err.reason is IdentifierProblem.checksum
        assert err.value == bad
        assert "校验码" in err.message_zh and bad in err.message_zh
        assert "check character" in err.message_en and bad in err.message_en

    @pytest.mark.parametrize("s", ["", "9141100", XUCHANG[:17], XUCHANG + "1", XUCHANG * 2])
    def test_wrong_length(self, s: str) -> None:
        with pytest.raises(InvalidCreditCode) as info:
            validate_credit_code(s)
        assert info.value.reason is IdentifierProblem.length
        assert "18" in info.value.message_zh and "18" in info.value.message_en

    @pytest.mark.parametrize(
        "s",
        [
            "A1110000600037341L",  # letter among the first 8 characters
            "9141100I" + "MA44ABC1X" + "0",  # letter inside the division code
            "91411002MA44ABCIX0",  # I is not in the code alphabet
            "91411002MA44ABCOX0",  # nor O
            "91411002MA44ABC*X0",
        ],
    )
    def test_bad_characters(self, s: str) -> None:
        assert len(s) == 18
        with pytest.raises(InvalidCreditCode) as info:
            validate_credit_code(s)
        assert info.value.reason is IdentifierProblem.format

    def test_every_wrong_check_character_is_rejected(self) -> None:
        for c in _USCC_ALPHABET:
            candidate = XUCHANG[:-1] + c
            if c == XUCHANG[-1]:
                assert validate_credit_code(candidate) == XUCHANG
            else:
                with pytest.raises(InvalidCreditCode):
                    validate_credit_code(candidate)

    def test_long_input_is_truncated_in_message(self) -> None:
        with pytest.raises(InvalidCreditCode) as info:
            validate_credit_code("9" * 1000)
        assert len(info.value.message_en) < 200

    @pytest.mark.parametrize("s", [None, 91411002, b"91110000600037341L"])
    def test_non_string(self, s: object) -> None:
        with pytest.raises(TypeError):
            validate_credit_code(s)  # type: ignore[arg-type]

    def test_reason_accepts_string(self) -> None:
        err = InvalidCreditCode("X", "length")
        assert err.reason is IdentifierProblem.length
        assert str(err) == err.message_en


# --- division_code / registered_in ------------------------------------------------


class TestDivision:
    def test_division_code_is_characters_3_to_8(self) -> None:
        assert division_code(XUCHANG) == "411002"
        assert division_code(ZHENGZHOU) == "410100"

    def test_division_code_normalises(self) -> None:
        assert division_code(" " + XUCHANG.lower()) == "411002"

    def test_division_code_validates(self) -> None:
        with pytest.raises(InvalidCreditCode):
            division_code(wrong_check(XUCHANG, _USCC_ALPHABET))

    def test_the_packaged_city_is_xuchang(self) -> None:
        assert PREFIX == "4110"

    def test_xuchang_vs_zhengzhou(self) -> None:
        assert registered_in(XUCHANG, PREFIX) is True
        assert registered_in(ZHENGZHOU, PREFIX) is False

    @pytest.mark.parametrize(
        "division",
        ["411000", "411002", "411003", "411024", "411025", "411081", "411082", "411071"],
    )
    def test_xuchang_divisions(self, division: str) -> None:
        assert registered_in(make_credit_code(division), PREFIX)

    @pytest.mark.parametrize(
        "division",
        [
            "410000",  # Henan province level
            "410100",  # Zhengzhou
            "421000",  # Jingzhou, Hubei: same "10" city digits, other province
            "141100",  # contains 4110 but not as a prefix
            "110000",  # Beijing
        ],
    )
    def test_not_xuchang(self, division: str) -> None:
        assert not registered_in(make_credit_code(division), PREFIX)

    def test_prefix_is_a_parameter(self) -> None:
        assert registered_in(ZHENGZHOU, prefix="4101")
        assert not registered_in(XUCHANG, prefix="4101")
        assert registered_in(XUCHANG, prefix="41")  # province-wide
        assert registered_in(XUCHANG, prefix="411002")  # one district
        assert not registered_in(make_credit_code("411003"), prefix="411002")

    @pytest.mark.parametrize("prefix", ["", "41a0", "4110000", " 4110", "４１１０", 4110, None])
    def test_bad_prefix(self, prefix: object) -> None:
        with pytest.raises(ValueError):
            registered_in(XUCHANG, prefix=prefix)  # type: ignore[arg-type]

    def test_registered_in_validates(self) -> None:
        with pytest.raises(InvalidCreditCode):
            registered_in("91411002", PREFIX)


# --- validate_resident_id -----------------------------------------------------


def _id_with_x_check() -> str:
    for n in range(1000):
        candidate = make_resident_id(seq=f"{n:03d}")
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no sequence number gives an X check digit")  # pragma: no cover


class TestValidateResidentId:
    def test_generated_id_is_valid(self) -> None:
        rid = make_resident_id()
        assert validate_resident_id(rid) == rid

    def test_stdnum_documented_example(self) -> None:
        assert validate_resident_id("360426199101010071") == "360426199101010071"

    def test_x_check_digit_case_insensitive(self) -> None:
        rid = _id_with_x_check()
        assert validate_resident_id(rid) == rid
        assert validate_resident_id(rid.lower()) == rid

    def test_spaces_and_fullwidth_normalised(self) -> None:
        rid = make_resident_id()
        assert validate_resident_id(f"{rid[:6]} {rid[6:14]} {rid[14:]}") == rid
        assert validate_resident_id(fullwidth(rid)) == rid

    def test_wrong_check_digit(self) -> None:
        rid = make_resident_id()
        bad = wrong_check(rid, "0123456789X")
        with pytest.raises(InvalidIdentityNumber) as info:
            validate_resident_id(bad)
        err = info.value
        assert isinstance(err, ValueError)
        assert err.code == "registry.identity_number_invalid"
        assert err.reason is IdentifierProblem.checksum
        assert "校验码" in err.message_zh
        # Personal data never ends up on the exception.
        assert bad not in str(err) and bad not in err.message_zh and bad not in repr(err)
        assert all(bad not in str(v) for v in vars(err).values())

    @pytest.mark.parametrize("s", ["", "41100219900101123", "4110021990010112345"])
    def test_wrong_length(self, s: str) -> None:
        with pytest.raises(InvalidIdentityNumber) as info:
            validate_resident_id(s)
        assert info.value.reason is IdentifierProblem.length

    def test_letters(self) -> None:
        with pytest.raises(InvalidIdentityNumber) as info:
            validate_resident_id("41100A199001011230")
        assert info.value.reason is IdentifierProblem.format

    def test_impossible_birth_date(self) -> None:
        with pytest.raises(InvalidIdentityNumber) as info:
            validate_resident_id(make_resident_id(birth="19901301"))
        assert info.value.reason is IdentifierProblem.component

    def test_unknown_address_code(self) -> None:
        with pytest.raises(InvalidIdentityNumber) as info:
            validate_resident_id(make_resident_id(division="999999"))
        assert info.value.reason is IdentifierProblem.component

    def test_credit_code_is_not_an_identity_number(self) -> None:
        with pytest.raises(InvalidIdentityNumber):
            validate_resident_id(XUCHANG)

    def test_non_string(self) -> None:
        with pytest.raises(TypeError):
            validate_resident_id(411002199001011234)  # type: ignore[arg-type]
