"""transform.parse_pattern: text in, typed and checked records out."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.modules.parse_pattern import (
    ParsePatternInput,
    ParsePatternOutput,
    parse_pattern,
)

PAIR = r"(?P<name>\w+)\s*=\s*(?P<value>\S+)"


def parse(text: str, pattern: Any, **extra: Any) -> ParsePatternOutput:
    inputs = ParsePatternInput.model_validate({"input": text, "pattern": pattern, **extra})
    return parse_pattern(inputs, {})


def lines(regex: str = PAIR, **spec: Any) -> dict[str, Any]:
    return {"regex": regex, "separator": "\n", **spec}


def test_a_plain_regex_parses_the_whole_input_as_one_item() -> None:
    out = parse("  size = 3 ", PAIR)
    assert out.items == [{"_raw": "size = 3", "_index": 0, "name": "size", "value": "3"}]
    assert out.valid
    assert out.errors == []
    assert out.count == 1


def test_a_separator_splits_the_input_into_items_with_their_positions() -> None:
    out = parse("a=1\nb=2\nc=3", lines())
    assert [(i["_index"], i["name"], i["value"]) for i in out.items] == [
        (0, "a", "1"),
        (1, "b", "2"),
        (2, "c", "3"),
    ]
    assert out.count == 3


def test_blank_items_are_dropped_and_items_are_trimmed() -> None:
    out = parse("\n  a=1  \n\n   \nb=2\n", lines())
    assert [i["_raw"] for i in out.items] == ["a=1", "b=2"]
    assert [i["_index"] for i in out.items] == [0, 1]


def test_trim_can_be_turned_off() -> None:
    out = parse("x; y", {"regex": r"(?P<v>.*)", "separator": ";", "trim": False})
    assert [i["v"] for i in out.items] == ["x", " y"]


def test_a_regex_separator_splits_on_every_match() -> None:
    out = parse(
        "a=1, b=2;c=3",
        {"regex": PAIR, "separator": r"\s*[,;]\s*", "separator_is_regex": True},
    )
    assert [i["name"] for i in out.items] == ["a", "b", "c"]
    assert out.valid


def test_a_separator_is_plain_text_unless_marked_as_a_regex() -> None:
    out = parse("a=1.b=2", {"regex": PAIR, "separator": "."})
    assert [i["_raw"] for i in out.items] == ["a=1", "b=2"]


def test_groups_in_a_regex_separator_do_not_become_items() -> None:
    out = parse(
        "a=1;b=2,c=3",
        {"regex": PAIR, "separator": r"(;)|(,)", "separator_is_regex": True},
    )
    assert [i["_raw"] for i in out.items] == ["a=1", "b=2", "c=3"]
    assert out.valid


def test_the_regex_matches_the_whole_item_when_it_can() -> None:
    out = parse("ab12", r"(?P<word>\w+?)(?P<digits>\d*)")
    assert (out.items[0]["word"], out.items[0]["digits"]) == ("ab", "12")


def test_a_regex_matching_only_the_start_of_an_item_is_accepted() -> None:
    out = parse("42 apples", r"(?P<n>\d+)", field_types={"n": "int"})
    assert out.items[0]["n"] == 42
    assert out.valid


def test_items_that_do_not_match_are_reported_and_left_out() -> None:
    out = parse("a=1\nnot a pair\nb=2", lines())
    assert [i["name"] for i in out.items] == ["a", "b"]
    assert out.items[1]["_index"] == 2
    assert out.count == 2
    assert not out.valid
    assert len(out.errors) == 1
    assert "item 2" in out.errors[0]
    assert "'not a pair'" in out.errors[0]
    assert "does not match" in out.errors[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_an_input_with_no_items_is_not_valid(text: str) -> None:
    out = parse(text, lines())
    assert out.items == []
    assert not out.valid
    assert out.errors == ["the input holds no items to parse"]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("int", " 42", 42),
        ("integer", "-7", -7),
        ("float", "2.5", 2.5),
        ("number", "3", 3.0),
        ("bool", "yes", True),
        ("boolean", "No", False),
        ("bool", "TRUE", True),
        ("bool", "off", False),
        ("str", "007", "007"),
        ("string", "x", "x"),
    ],
)
def test_field_types_convert_values(kind: str, text: str, expected: Any) -> None:
    out = parse(f"v:{text}", r"v:(?P<v>.*)", field_types={"v": kind})
    assert out.items[0]["v"] == expected
    assert type(out.items[0]["v"]) is type(expected)
    assert out.valid


@pytest.mark.parametrize(
    ("kind", "text"),
    [("int", "3.5"), ("float", "abc"), ("float", "nan"), ("number", "-inf"), ("bool", "maybe")],
)
def test_a_value_that_does_not_convert_is_an_error_and_kept_as_text(kind: str, text: str) -> None:
    out = parse(f"v:{text}", r"v:(?P<v>.*)", field_types={"v": kind})
    assert out.items[0]["v"] == text
    assert not out.valid
    assert out.errors == [f"item 1 ('v:{text}'): v '{text}' is not a valid {kind}"]


def test_an_unknown_field_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse("v:1", r"v:(?P<v>.*)", field_types={"v": "date"})


def test_a_group_that_did_not_take_part_is_none_and_not_converted() -> None:
    out = parse("a", r"(?P<word>[a-z]+)(?::(?P<n>\d+))?", field_types={"n": "int"})
    assert out.items[0]["n"] is None
    assert out.valid


def test_mappings_replace_values_and_keep_the_original() -> None:
    out = parse(
        "p=1\np=3",
        lines(r"p=(?P<priority>\d)"),
        field_types={"priority": "int"},
        mappings={"priority": {"1": "high", "2": "low"}},
    )
    assert out.items[0]["priority"] == "high"
    assert out.items[0]["priority_original"] == 1
    assert out.items[1]["priority"] == 3
    assert "priority_original" not in out.items[1]


def test_a_required_field_that_is_missing_is_an_error() -> None:
    out = parse(
        "a\nb:2",
        lines(r"(?P<word>[a-z]+)(?::(?P<n>\d+))?"),
        validation={"n": {"required": True}, "word": {"required": True}},
    )
    assert not out.valid
    assert out.errors == ["item 1 ('a'): n is missing"]
    assert out.count == 2


def test_an_optional_missing_field_skips_its_other_rules() -> None:
    out = parse("a", r"(?P<word>[a-z]+)(?::(?P<n>\d+))?", validation={"n": {"min": 1}})
    assert out.valid


def test_min_and_max_bound_numbers() -> None:
    out = parse(
        "s=0\ns=5\ns=11",
        lines(r"s=(?P<score>\d+)"),
        field_types={"score": "int"},
        validation={"score": {"min": 1, "max": 10}},
    )
    assert out.errors == [
        "item 1 ('s=0'): score is 0, below the minimum 1",
        "item 3 ('s=11'): score is 11, above the maximum 10",
    ]
    assert out.count == 3
    assert not out.valid


def test_in_and_pattern_rules_check_values() -> None:
    out = parse(
        "k=bug\nk=idea\nk=Bug",
        lines(r"k=(?P<kind>\w+)"),
        validation={"kind": {"in": ["bug", "idea", "Bug"], "pattern": "[a-z]+"}},
    )
    assert out.errors == ["item 3 ('k=Bug'): kind 'Bug' does not match [a-z]+"]
    out = parse("k=other", r"k=(?P<kind>\w+)", validation={"kind": {"in": ["bug"]}})
    assert out.errors == ["item 1 ('k=other'): kind is 'other', not one of ['bug']"]


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse("a", r"(?P<a>a)", validation={"a": {"between": [1, 2]}})


@pytest.mark.parametrize(
    "extra",
    [
        {"pattern": "(?P<a>"},
        {"pattern": {"regex": "[a-"}},
        {
            "pattern": {
                "regex": "(?P<a>.)",
                "separator": "(",
                "separator_is_regex": True,
            }
        },
        {"pattern": "(?P<a>.)", "validation": {"a": {"pattern": "*"}}},
    ],
)
def test_a_bad_regular_expression_is_refused_with_the_inputs(
    extra: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        ParsePatternInput.model_validate({"input": "a", **extra})


def test_a_plain_separator_may_hold_regex_characters() -> None:
    out = parse("a=1(b=2", {"regex": PAIR, "separator": "("})
    assert [i["name"] for i in out.items] == ["a", "b"]


def test_unknown_pattern_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        ParsePatternInput.model_validate({"input": "a", "pattern": {"regex": "a", "flags": "i"}})


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.integers(-(10**6), 10**6)),
        max_size=10,
    )
)
def test_written_pairs_parse_back_to_the_same_values(
    pairs: list[tuple[str, int]],
) -> None:
    text = "\n".join(f"{name} = {value}" for name, value in pairs)
    out = parse(text, lines(), field_types={"value": "int"})
    assert [(i["name"], i["value"]) for i in out.items] == pairs
    assert out.count == len(pairs)
    assert out.valid == bool(pairs)
