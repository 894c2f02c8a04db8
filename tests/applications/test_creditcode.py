import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.applications.creditcode import (ALPHABET, check_character, is_valid_credit_code,
                                               normalize_credit_code)

# Published codes of real companies (business licences), each with its check character.
VALID = ["91350100M000100Y43", "9144030071526726XG", "914403001922038216", "91330100716105852F",
         "911100001011016602", "91110108551385082Q"]


@pytest.mark.parametrize("code", VALID)
def test_credit_code_known_valid(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize("code", VALID)
def test_credit_code_mutated_check_character_invalid(code):
    for ch in ALPHABET:
        if ch != code[-1]:
            assert not is_valid_credit_code(code[:-1] + ch)


@pytest.mark.parametrize("bad", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100I43",
                                 "91350100m000100Y43", "91350100M00O100Y43", "９1350100M000100Y43"])
def test_credit_code_malformed_invalid(bad):
    assert not is_valid_credit_code(bad)


def test_credit_code_normalize_accepts_pasted_forms():
    assert normalize_credit_code(" 9135-0100 m000100y43 ") == "91350100M000100Y43"
    assert normalize_credit_code("９１350100M000100Y43") == "91350100M000100Y43"


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.integers(0, 16), st.sampled_from(ALPHABET))
def test_credit_code_single_substitution_detected(body, pos, replacement):
    """Weights 3^i mod 31 are all non-zero mod the prime 31, so any single changed character is caught."""
    code = body + check_character(body)
    assert is_valid_credit_code(code)
    if body[pos] != replacement:
        changed = body[:pos] + replacement + body[pos + 1:]
        assert not is_valid_credit_code(changed + code[-1])
