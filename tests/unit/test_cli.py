"""The command line as a user runs it: validate, schema, modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cli.main import main
from workflows.loader import parse_text

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"

FIVE_MISTAKES = """\
stepwise: 1
name: five-mistakes
state: {count: 0}
steps:
  - id: fetch
    module: api.fetch
    inputs: {method: GET}
  - id: fetch
    module: transform.reshap
  - id: use
    module: transform.extract
    inputs: {v: "{{ state.cnt }}", w: "{{ steps.later.v }}"}
    on_error: {goto: nowhere}
  - {id: later, module: transform.extract, inputs: {v: 1}}
  - id: again
    loop: {until: "{{ true }}"}
    steps: [{id: inner, module: transform.extract}]
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("stepwise: 1\nname: ok\nsteps: [{id: a, module: transform.extract, inputs: {v: 1}}]\n")
    code, out, err = run("validate", str(path))
    assert code == 0
    assert out == ""
    assert "valid" in err


def test_validate_prints_every_mistake_with_its_pointer(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(FIVE_MISTAKES)
    code, out, _ = run("validate", str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        f"{path}:/steps/0/inputs: module api.fetch needs the input 'url'",
        f"{path}:/steps/1/id: duplicate id 'fetch': /steps/0/id has it already",
        f"{path}:/steps/1/module: unknown module 'transform.reshap': did you mean 'transform.reshape'?",
        f"{path}:/steps/2/inputs/v: state has no key 'cnt': it is neither in the initial state nor written by any "
        "outputs_to_state (did you mean 'count'?)",
        f"{path}:/steps/2/inputs/w: step 'later' cannot have finished before this point: it runs later (or on "
        "another path); move the reference after it",
        f"{path}:/steps/2/on_error/goto: goto 'nowhere' names a step that does not exist; goto jumps to a step of "
        "the same steps list",
        f"{path}:/steps/4/loop: a loop needs max_iterations, so that an `until` that never holds cannot run forever",
    ]


def test_validate_names_the_line_of_a_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("stepwise: 1\nname: x\nsteps:\n  - id: a\n    module: [oops\n")
    code, out, _ = run("validate", str(path))
    assert code == 1
    assert out.startswith(f"{path}:6:1: YAML syntax error:")


def test_validate_checks_every_file_and_missing_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"stepwise": 1, "name": "g", "steps": [{"id": "a", "module": "transform.extract"}]})
    )
    code, out, _ = run("validate", str(good), str(tmp_path / "missing.yaml"))
    assert code == 1
    assert out == f"{tmp_path / 'missing.yaml'}:/: no such file\n"


def test_validate_checks_calls_against_a_definitions_folder(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "stepwise: 1\nname: child\nsteps: [{id: a, module: transform.extract}]\n"
    )
    parent = tmp_path / "parent.yaml"
    parent.write_text("stepwise: 1\nname: parent\nsteps: [{id: c, call: child}, {id: d, call: ghost}]\n")
    code, out, _ = run("validate", "--definitions", str(tmp_path), str(parent))
    assert code == 1
    assert out == f"{parent}:/steps/1/call: definition 'ghost' is not found\n"


def test_every_example_is_valid() -> None:
    files = sorted(str(p) for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert len(files) >= 6
    code, out, _ = run("validate", "--definitions", str(EXAMPLES), *files)
    assert (code, out) == (0, "")


def test_schema_accepts_every_example_and_rejects_a_typo() -> None:
    code, out, _ = run("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix in (".yaml", ".yml", ".json"):
            errors = list(validator.iter_errors(parse_text(path.read_text(), path.name)))
            assert errors == [], (path, [e.message for e in errors])
    typo = {"stepwise": 1, "name": "x", "steps": [{"id": "a", "module": "transform.extract", "inptus": {}}]}
    assert not validator.is_valid(typo)
    bad_input = {
        "stepwise": 1,
        "name": "x",
        "steps": [{"id": "a", "module": "api.fetch", "inputs": {"url": 3}}],
    }
    assert not validator.is_valid(bad_input)
    templated = {
        "stepwise": 1,
        "name": "x",
        "steps": [{"id": "a", "module": "api.fetch", "inputs": {"url": "u", "headers": "{{ input.h }}"}}],
    }
    assert validator.is_valid(templated)


def test_modules_lists_every_module_with_inputs_and_outputs() -> None:
    code, out, _ = run("modules")
    assert code == 0
    for name in ("transform.reshape", "api.llm", "user.approve", "io.validate"):
        assert f"\n{name}  (" in "\n" + out
    assert "url: string (required)" in out


def test_modules_json_has_the_schemas() -> None:
    code, out, _ = run("modules", "--json")
    assert code == 0
    modules = {m["name"]: m for m in json.loads(out)}
    assert modules["api.fetch"]["queue"] == "integrations"
    assert modules["api.fetch"]["input_schema"]["required"] == ["url"]
    assert set(modules["user.select"]["output_schema"]["properties"]) == {
        "selected_indices",
        "selected_data",
        "retry_requested",
        "feedback",
    }


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "stepwise"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "validate" in result.stdout


def test_api_refuses_an_unknown_worker_queue_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWISE_API_WORKER_QUEUES", '["stepwise", "bogus"]')
    result = CliRunner().invoke(main, ["api"])
    assert result.exit_code == 1
    assert (
        "STEPWISE_API_WORKER_QUEUES names no queue bogus: pick from stepwise, integrations" in result.output
    )
    option = CliRunner().invoke(main, ["api", "--worker-queue", "nope"])
    assert option.exit_code == 2
    assert "'nope' is not one of 'stepwise', 'integrations'" in option.output
