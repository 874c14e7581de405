"""The pure examples in docs/examples run and give what docs/examples.md says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import evaluate, registry
from workflows.compiler import compile_text

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def run_example(name: str, run_input: dict[str, Any]) -> Any:
    path = EXAMPLES / name
    return evaluate(compile_text(path.read_text(), path.name, registry()).unwrap(), run_input)


def test_grade_report_grades_and_names_the_resit() -> None:
    output = run_example(
        "grade-report.yaml", {"scores": "Ada: 95\nBob: 40\nCy: 77\nDee: 61", "pass_mark": 50}
    )
    assert output["verdict"] == "one resit: Bob"
    assert [s["band"] for s in output["students"]] == ["A", "F", "B", "C"]
    assert output["report"].splitlines()[1:5] == [
        "1. Ada: 95 (A)",
        "2. Cy: 77 (B)",
        "3. Dee: 61 (C)",
        "4. Bob: 40 (F)",
    ]


def test_grade_report_refuses_an_impossible_score() -> None:
    output = run_example("grade-report.yaml", {"scores": "Ada: 95\nBob: 140", "pass_mark": 50})
    assert output["verdict"] == "not graded"
    assert output["problems"] == ["item 2 ('Bob: 140'): score is 140, above the maximum 100"]


def test_tidy_headline_shortens_word_by_word() -> None:
    output = run_example(
        "tidy-headline.yaml",
        {
            "headline": "Stepwise runs durable AI workflows written in YAML",
            "max_length": 30,
            "tags": [" AI ", "Temporal"],
            "options": {"style": "title"},
        },
    )
    assert (output["headline"], output["rounds"], output["tags"]) == (
        "Stepwise Runs Durable Ai",
        4,
        ["ai", "temporal"],
    )


def test_tidy_headline_goto_handler_recovers() -> None:
    output = run_example("tidy-headline.yaml", {"headline": "Short one", "max_length": 30, "tags": " Solo "})
    assert output["tags"] == ["solo"]
    assert output["style"] == "sentence"
    assert output["warning"] == "TemplateError: source must be a list to use _for_each, got str"


@pytest.mark.parametrize(
    ("size", "budget", "owner"),
    [(3, 100, "self-serve nurture"), (800, 100, "enterprise team"), (30, 20000, "inside sales")],
)
def test_lead_routing_picks_a_team(size: int, budget: int, owner: str) -> None:
    output = run_example("lead-routing.json", {"company": "Acme", "company_size": size, "budget": budget})
    assert output["owner"] == owner
    assert output["message"].startswith(f"Acme goes to {owner}")
