"""Backup codes: readable, stored only as slow hashes, each accepted once."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.auth.backup_codes import (
    ALPHABET,
    generate,
    hash_code,
    looks_like_backup_code,
    match,
    new_backup_codes,
    normalise,
)

SHAPE = re.compile(f"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def test_ten_distinct_codes_shaped_xxxx_xxxx() -> None:
    codes = generate()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(SHAPE.match(c) for c in codes), codes
    assert generate() != codes


def test_each_code_carries_at_least_40_bits() -> None:
    code = normalise(generate(1)[0])
    assert len(code) * math.log2(len(ALPHABET)) >= 40


def test_the_alphabet_has_no_look_alike_characters() -> None:
    assert not set("ilou") & set(ALPHABET)


def test_typing_variations_of_a_code_normalise_to_it() -> None:
    assert normalise("7KQ2-M9XD") == "7kq2m9xd"
    assert normalise(" 7kq2 m9xd ") == "7kq2m9xd"
    assert normalise("7kq2m9xd") == "7kq2m9xd"
    # o, i and l are not in the alphabet: someone typing them meant 0 and 1
    assert normalise("O1IL-abcd") == "0111abcd"


@settings(deadline=None)
@given(
    code=st.text(alphabet=ALPHABET, min_size=8, max_size=8),
    upper=st.lists(st.booleans(), min_size=8, max_size=8),
    separators=st.lists(st.sampled_from(["", " ", "-", "  "]), min_size=9, max_size=9),
)
def test_any_casing_and_spacing_of_a_code_normalises_to_the_same(
    code: str, upper: list[bool], separators: list[str]
) -> None:
    typed = separators[0] + "".join(
        (c.upper() if u else c) + sep for c, u, sep in zip(code, upper, separators[1:], strict=True)
    )
    assert normalise(typed) == code
    assert looks_like_backup_code(typed)


@pytest.mark.parametrize("typed", ["", "123456", "abcd-efg", "abcd-efghj", "abcd-ef!h", "äbcd-efgh"])
def test_inputs_that_are_no_backup_code(typed: str) -> None:
    assert not looks_like_backup_code(typed)
    assert match(typed, [hash_code("abcd-efgh")]) is None


def test_hashes_are_slow_salted_hashes_not_the_code() -> None:
    code = generate(1)[0]
    first, second = hash_code(code), hash_code(code)
    assert first.startswith("$argon2id$")
    assert normalise(code) not in first
    assert first != second


def test_match_finds_which_stored_code_was_typed() -> None:
    hashes = [hash_code(c) for c in ("abcd-efgh", "7kq2-m9xd", "0011-2233")]
    assert match("7kq2-m9xd", hashes) == 1
    assert match("ABCD EFGH", hashes) == 0
    assert match("OOII-2233", hashes) == 2
    assert match("zzzz-zzzz", hashes) is None


def test_new_backup_codes_come_with_their_hashes_in_order() -> None:
    codes = new_backup_codes()
    assert len(codes.codes) == len(codes.hashes) == 10
    assert [match(c, codes.hashes) for c in codes.codes] == list(range(10))


def test_a_code_marked_used_is_not_accepted_again() -> None:
    codes = new_backup_codes(3)
    index = match(codes.codes[1], codes.hashes)
    assert index == 1
    unused = [h for i, h in enumerate(codes.hashes) if i != index]  # what the caller stores as unused
    assert match(codes.codes[1], unused) is None
    assert match(codes.codes[2], unused) == 1


def test_a_stored_value_that_is_no_hash_is_reported() -> None:
    with pytest.raises(ValueError, match=r"hashes\[0\] is not an Argon2 hash"):
        match("abcd-efgh", ["abcdefgh"])
