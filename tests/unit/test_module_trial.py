"""Trying a module through the API: listing, pure modules run in-process, and every refusal.

No Temporal here: pure modules need none, and the API connects only when an activity is tried.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cli.main import main
from core.devserver import free_port
from core.module_trial import InvalidTrialInputs, UnknownModule, prepare_trial
from core.settings import Settings
from tests.helpers import registry
from tests.signed_in import signed_in_client


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    """The API with the built-in modules, pointed at a port where no Temporal listens."""
    with signed_in_client(Settings(data_dir=tmp_path, temporal_port=free_port()), registry()) as client:
        yield client


def trial(api: TestClient, name: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = api.post(f"/api/v1/modules/{name}/test", json=body)
    return response.status_code, response.json()


def test_the_module_list_is_what_the_cli_prints(tmp_path: Path) -> None:
    with signed_in_client(Settings(data_dir=tmp_path, temporal_port=free_port())) as client:
        listed = client.get("/api/v1/modules").json()
    printed = json.loads(CliRunner().invoke(main, ["modules", "--json"]).stdout)
    assert listed == printed
    fetch = next(m for m in listed if m["name"] == "api.fetch")
    assert fetch["runs"] == "activity"
    assert fetch["queue"] == "integrations"
    assert fetch["input_schema"]["required"] == ["url"]
    assert "status_code" in fetch["output_schema"]["properties"]


def test_a_pure_module_returns_its_outputs(api: TestClient) -> None:
    code, body = trial(api, "transform.concat_arrays", {"inputs": {"arrays": [[1, 2], [3]]}})
    assert code == 200
    assert body["module"] == "transform.concat_arrays"
    assert body["runs"] == "workflow"
    assert body["outputs"] == {"result": [1, 2, 3]}
    assert body["error"] is None
    assert body["run_id"] is None
    assert body["duration_ms"] >= 0


def test_templates_read_the_sample_input_and_state(api: TestClient) -> None:
    code, body = trial(
        api,
        "io.render_template",
        {
            "inputs": {"template": "Dear {{ state.name }}, order {{ input.order.id }} is {{ input.status }}"},
            "input": {"order": {"id": 42}, "status": "shipped"},
            "state": {"name": "Ada"},
        },
    )
    assert code == 200
    assert body["outputs"] == {"rendered": "Dear Ada, order 42 is shipped"}


def test_a_whole_value_template_passes_the_sample_value_through(api: TestClient) -> None:
    code, body = trial(
        api, "transform.concat_arrays", {"inputs": {"arrays": ["{{ input.a }}", [9]]}, "input": {"a": [7, 8]}}
    )
    assert code == 200
    assert body["outputs"] == {"result": [7, 8, 9]}


def test_a_pure_module_that_fails_answers_200_with_its_error(api: TestClient) -> None:
    code, body = trial(
        api, "transform.concat_arrays", {"inputs": {"arrays": "{{ input.x }}"}, "input": {"x": 3}}
    )
    assert code == 200
    assert body["outputs"] is None
    assert body["error"]["type"] == "InvalidInput"
    assert "valid list" in body["error"]["message"]


def test_an_unknown_module_is_404_with_the_closest_name(api: TestClient) -> None:
    code, body = trial(api, "io.render_templat", {"inputs": {}})
    assert code == 404
    assert body["detail"] == "unknown module 'io.render_templat': did you mean 'io.render_template'?"


def test_an_unknown_module_without_a_close_name_points_to_the_list(api: TestClient) -> None:
    code, body = trial(api, "zzz.qqq", {"inputs": {}})
    assert code == 404
    assert "`stepwise modules` lists them" in body["detail"]


def test_inputs_that_break_the_schema_are_422_with_pointers_in_the_inputs(api: TestClient) -> None:
    code, body = trial(api, "api.fetch", {"inputs": {"url": 5, "methd": "GET"}})
    assert code == 422
    problems = {p["pointer"]: p["message"] for p in body["detail"]}
    assert problems == {
        "/url": "input does not fit module api.fetch: 5 is not of type 'string'",
        "/methd": "module api.fetch has no input 'methd': did you mean 'method'?",
    }


def test_a_missing_input_is_reported_at_the_inputs(api: TestClient) -> None:
    code, body = trial(api, "io.render_template", {"inputs": {}})
    assert code == 422
    assert body["detail"] == [
        {
            "type": "InvalidInput",
            "message": "module io.render_template needs the input 'template'",
            "pointer": "/",
        }
    ]


def test_a_template_naming_a_missing_state_key_is_422(api: TestClient) -> None:
    code, body = trial(
        api, "io.render_template", {"inputs": {"template": "{{ state.nme }}"}, "state": {"name": "Ada"}}
    )
    assert code == 422
    assert body["detail"][0]["pointer"] == "/template"
    assert "state has no key 'nme'" in body["detail"][0]["message"]
    assert "did you mean 'name'?" in body["detail"][0]["message"]


def test_a_module_own_validator_is_applied(api: TestClient) -> None:
    code, body = trial(api, "transform.parse_pattern", {"inputs": {"input": "a", "pattern": "("}})
    assert code == 422
    assert body["detail"][0]["pointer"] == "/pattern"


def test_a_human_module_is_400_and_suggests_a_run(api: TestClient) -> None:
    code, body = trial(api, "user.approve", {"inputs": {"prompt": "ok?"}})
    assert code == 400
    assert "cannot be tried on its own" in body["detail"]
    assert "stepwise run" in body["detail"]


def test_an_activity_module_without_temporal_is_503_naming_the_queue(api: TestClient) -> None:
    code, body = trial(api, "api.fetch", {"inputs": {"url": "http://127.0.0.1:9/x"}})
    assert code == 503
    assert "task queue 'integrations'" in body["detail"]
    assert "cannot be reached" in body["detail"]


def test_prepare_trial_raises_for_each_refusal() -> None:
    with pytest.raises(UnknownModule, match=r"did you mean 'api\.fetch'"):
        prepare_trial(registry(), "api.fetc", {})
    with pytest.raises(InvalidTrialInputs) as info:
        prepare_trial(registry(), "api.fetch", {"url": "http://x", "method": "FETCH"})
    assert [p.pointer for p in info.value.problems] == ["/method"]
    assert "/method:" in str(info.value)


def test_modules_answer_only_a_signed_in_caller(api: TestClient) -> None:
    token = api.headers.pop("Authorization")
    assert api.get("/api/v1/modules").status_code == 401
    assert trial(api, "transform.concat_arrays", {"inputs": {"arrays": [[1]]}})[0] == 401
    api.headers["Authorization"] = token
    assert api.get("/api/v1/modules").status_code == 200
