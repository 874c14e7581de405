"""The plan: serialisable, hashed by content, defaults applied."""

from __future__ import annotations

import json

import pytest

from tests.helpers import plan_of, registry
from workflows import plan as plan_module
from workflows.compiler import compile_text
from workflows.plan import DEFAULT_TIMEOUT_MS, ModuleNode, Plan, read_canonical

DEFINITION = """
stepwise: 1
name: hashing
defaults: {retry: {max_attempts: 5, initial_interval: 2s}, timeout: 1m}
steps:
  - {id: a, module: api.fetch, inputs: {url: "http://127.0.0.1/a", method: GET}}
  - {id: b, module: api.fetch, inputs: {url: x}, retry: {max_attempts: 2}, timeout: 10s}
  - {id: c, module: transform.extract, inputs: {v: 1}}
"""

REFORMATTED = """
# same definition, other layout and key order
name: hashing
stepwise: 1
steps:
  - inputs:
      method: GET
      url: http://127.0.0.1/a
    module: api.fetch
    id: a
  - {module: api.fetch, id: b, timeout: 10s, retry: {max_attempts: 2}, inputs: {url: x}}
  - {id: c, inputs: {v: 1}, module: transform.extract}
defaults:
  timeout: 1m
  retry: {initial_interval: 2s, max_attempts: 5}
"""


def test_hash_ignores_formatting_and_key_order() -> None:
    first = plan_of(DEFINITION, header=False)
    second = plan_of(REFORMATTED, header=False)
    assert first.content_hash() == second.content_hash()


def test_json_and_yaml_give_the_same_hash() -> None:
    yaml_plan = plan_of(DEFINITION, header=False)
    data = {
        "stepwise": 1,
        "name": "hashing",
        "defaults": {"retry": {"max_attempts": 5, "initial_interval": "2s"}, "timeout": "1m"},
        "steps": [
            {"id": "a", "module": "api.fetch", "inputs": {"url": "http://127.0.0.1/a", "method": "GET"}},
            {
                "id": "b",
                "module": "api.fetch",
                "inputs": {"url": "x"},
                "retry": {"max_attempts": 2},
                "timeout": "10s",
            },
            {"id": "c", "module": "transform.extract", "inputs": {"v": 1}},
        ],
    }
    json_plan = compile_text(json.dumps(data), "d.json", registry()).unwrap()
    assert json_plan.content_hash() == yaml_plan.content_hash()


def test_hash_changes_with_content() -> None:
    changed = DEFINITION.replace("max_attempts: 2", "max_attempts: 3")
    assert plan_of(changed, header=False).content_hash() != plan_of(DEFINITION, header=False).content_hash()


def test_plan_round_trips_through_json() -> None:
    plan = plan_of(DEFINITION, header=False)
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert again.content_hash() == plan.content_hash()


def test_retry_and_timeout_merge_field_by_field_over_defaults() -> None:
    nodes = plan_of(DEFINITION, header=False).body.nodes
    a, b, c = (n for n in nodes if isinstance(n, ModuleNode))
    assert a.retry is not None
    assert b.retry is not None
    assert (a.retry.max_attempts, a.retry.initial_interval_ms, a.timeout_ms) == (5, 2000, 60_000)
    assert (b.retry.max_attempts, b.retry.initial_interval_ms, b.timeout_ms) == (2, 2000, 10_000)
    assert c.retry is None
    assert c.timeout_ms is None


def test_activity_without_settings_gets_engine_defaults() -> None:
    plan = plan_of("steps: [{id: a, module: api.fetch, inputs: {url: x}}]")
    node = plan.body.nodes[0]
    assert isinstance(node, ModuleNode)
    assert node.queue == "integrations"
    assert node.timeout_ms == DEFAULT_TIMEOUT_MS
    assert node.retry is not None
    assert node.retry.max_attempts == 3


def test_a_plan_read_from_its_canonical_json_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_of(
        """
        steps:
          - {id: a, module: transform.extract, inputs: {v: 1}}
        """
    )
    canonical = plan.canonical_json()
    first, digest = read_canonical(canonical)
    again, _ = read_canonical(bytes(bytearray(canonical)))  # equal bytes, another object
    assert first == plan
    assert again is first
    assert digest == plan.content_hash()
    with pytest.raises(ValueError, match="body"):
        read_canonical(b'{"name": "no body"}')
    monkeypatch.setattr(plan_module, "PLANS_KEPT", 1)
    other = plan.model_copy(update={"name": "other"}).canonical_json()
    assert read_canonical(other)[0].name == "other"
    assert read_canonical(canonical)[0] is not first  # forgotten when the cache was full
