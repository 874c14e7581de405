"""`stepwise run --local` prints the documented output of every example that needs neither a
person nor an outside service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
STEPWISE = Path(sys.executable).parent / "stepwise"


def run_local(example: str, run_input: dict[str, Any]) -> Any:
    result = subprocess.run(
        [
            str(STEPWISE),
            "run",
            "--local",
            str(ROOT / "docs" / "examples" / example),
            "--definitions",
            str(ROOT / "docs" / "examples"),
            "--input",
            json.dumps(run_input),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[-1])


@pytest.mark.parametrize(
    ("example", "run_input", "expected"),
    [
        (
            "grade-report.yaml",
            {"scores": "Ada: 95\nBob: 40\nCy: 77\nDee: 61", "pass_mark": 50},
            {"verdict": "one resit: Bob"},
        ),
        ("grade-report.yaml", {"scores": "Ada: 95\nBob: 140", "pass_mark": 50}, {"verdict": "not graded"}),
        (
            "tidy-headline.yaml",
            {
                "headline": "Stepwise runs durable AI workflows written in YAML",
                "max_length": 30,
                "tags": [" AI ", "Temporal"],
                "options": {"style": "title"},
            },
            {"headline": "Stepwise Runs Durable Ai", "rounds": 4, "tags": ["ai", "temporal"]},
        ),
        (
            "tidy-headline.yaml",
            {"headline": "Short one", "max_length": 30, "tags": " Solo "},
            {"tags": ["solo"], "style": "sentence"},
        ),
        (
            "lead-routing.json",
            {"company": "Cozy", "company_size": 3, "budget": 100},
            {"owner": "self-serve nurture", "priority": 3},
        ),
        (
            "lead-routing.json",
            {"company": "Big", "company_size": 800, "budget": 100},
            {"owner": "enterprise team"},
        ),
    ],
)
def test_examples_run_locally(example: str, run_input: dict[str, Any], expected: dict[str, Any]) -> None:
    output = run_local(example, run_input)
    assert {k: output[k] for k in expected} == expected


def test_a_bad_input_is_refused_before_anything_starts() -> None:
    result = subprocess.run(
        [
            str(STEPWISE),
            "run",
            "--local",
            str(ROOT / "docs" / "examples" / "grade-report.yaml"),
            "--input",
            '{"scores": 3}',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "/scores: 3 is not of type 'string'" in result.stderr
    assert "Temporal Server" not in result.stderr


def test_a_broken_definition_is_reported_at_its_pointer(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "stepwise: 1\nname: child\nsteps: [{id: a, module: transform.reshap}]\n"
    )
    parent = tmp_path / "parent.yaml"
    parent.write_text("stepwise: 1\nname: parent\nsteps: [{id: c, call: child}]\n")
    result = subprocess.run(
        [str(STEPWISE), "run", "--local", str(parent), "--definitions", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'child.yaml'}:/steps/0/module: unknown module 'transform.reshap': did you mean 'transform.reshape'?"
    ]
