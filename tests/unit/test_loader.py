"""Parsing definition text: YAML 1.2 scalars, syntax errors at line and column, limits."""

from __future__ import annotations

import pytest

from workflows.loader import MAX_TEXT_BYTES, parse_text
from workflows.problems import DefinitionError


def problem_of(text: str, filename: str = "f.yaml") -> str:
    with pytest.raises(DefinitionError) as info:
        parse_text(text, filename)
    assert len(info.value.problems) == 1
    return info.value.problems[0].render(filename)


def test_yaml_scalars_follow_yaml_1_2_core() -> None:
    data = parse_text("a: yes\nb: on\nc: 2024-01-01\nd: 1:30\ne: true\nf: 010\ng: 0x1F\nh: null\ni: 1.5\n")
    assert data == {
        "a": "yes",
        "b": "on",
        "c": "2024-01-01",
        "d": "1:30",
        "e": True,
        "f": 10,
        "g": 31,
        "h": None,
        "i": 1.5,
    }


def test_mapping_keys_become_strings() -> None:
    assert parse_text("cases:\n  1: a\n  true: b\n") == {"cases": {"1": "a", "true": "b"}}


def test_yaml_syntax_error_names_line_and_column() -> None:
    text = "stepwise: 1\nname: x\nsteps:\n  - id: a\n   module: m\n"
    assert problem_of(text).startswith("f.yaml:5:4: YAML syntax error:")


def test_unclosed_flow_sequence_names_where_it_started() -> None:
    message = problem_of("a: [1, 2\n")
    assert message.startswith("f.yaml:2:1: YAML syntax error:")
    assert "line 1, column 4" in message


def test_json_syntax_error_names_line_and_column() -> None:
    assert (
        problem_of('{\n  "a": 1,\n}', "f.json")
        == "f.json:3:1: Expecting property name enclosed in double quotes"
    )


@pytest.mark.parametrize(
    ("text", "filename"), [("a: 1\nb: 2\na: 3\n", "f.yaml"), ('{"a": 1, "a": 2}', "f.json")]
)
def test_duplicate_keys_are_errors(text: str, filename: str) -> None:
    assert "duplicate key 'a'" in problem_of(text, filename)


def test_duplicate_key_reports_its_line() -> None:
    assert problem_of("a: 1\nb: 2\na: 3\n").startswith("f.yaml:3:1:")


def test_non_json_tags_are_refused() -> None:
    assert "not JSON data" in problem_of("a: !!timestamp 2024-01-01\n")
    assert "constructor" in problem_of("a: !!python/object:os.system x\n")


@pytest.mark.parametrize(("text", "kind"), [("", "empty"), ("- 1\n", "a list"), ("hello\n", "a str")])
def test_a_definition_is_a_mapping(text: str, kind: str) -> None:
    assert (
        problem_of(text)
        == f"f.yaml:/: a definition is a mapping with stepwise, name and steps; this file is {kind}"
    )


def test_one_document_per_file() -> None:
    assert "one definition per file" in problem_of("a: 1\n---\nb: 2\n")


def test_text_over_the_limit_is_refused() -> None:
    assert "the limit is" in problem_of("a: '" + "x" * MAX_TEXT_BYTES + "'\n")


def test_alias_expansion_bomb_is_refused() -> None:
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, prev in zip("bcdefg", "abcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    assert "expands to more than" in problem_of("\n".join(lines) + "\n")
