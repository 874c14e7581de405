"""Which runs go through Temporal's sandbox (workers/runner.py, settings.worker_sandbox)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import (
    RemoveFromCache,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.worker import WorkflowInstanceDetails

from core.runs import JSON_PLAIN
from workers.runner import SandboxByPlan, needs_sandbox
from workers.worker import sandbox
from workflows.compiler import compile_text
from workflows.engine.models import WORKFLOW_NAME, RunInput, rest_of, run_type
from workflows.engine.registry import use_registry
from workflows.modules import Registry, builtin_registry
from workflows.modules.registry import ModuleInput, ModuleOutput, ModuleSpec
from workflows.plan import Plan


class _In(ModuleInput):
    value: Any = None


class _Out(ModuleOutput):
    value: Any = None


def _echo(inputs: _In, scope: Mapping[str, Any]) -> _Out:
    return _Out(value=inputs.value)


def _registry() -> Registry:
    """The built-ins, a plugin's pure module and a plugin's activity module."""
    registry = builtin_registry()
    registry.register(ModuleSpec("acme.pure", "workflow", _In, _Out, "x", run=_echo, source="acme"))
    registry.register(ModuleSpec("acme.fetch", "activity", _In, _Out, "x", queue="acme", source="acme"))
    return registry


def _plan(*modules: str, registry: Registry | None = None) -> Plan:
    inputs = {"user.pause": "{message: go on}"}
    steps = ", ".join(
        f"{{id: s{i}, module: {m}, inputs: {inputs.get(m, '{value: 1}')}}}" for i, m in enumerate(modules)
    )
    text = f"stepwise: 1\nname: t\nsteps: [{steps}]"
    return compile_text(text, "t.yaml", registry or _registry()).unwrap()


def test_only_plans_that_run_a_plugins_code_in_the_workflow_need_the_sandbox() -> None:
    registry = _registry()
    # Built-in pure and human steps only.
    assert not needs_sandbox(_plan("transform.extract", "user.pause", registry=registry), registry)
    # A plugin's activity runs in an activity worker, not in the workflow.
    assert not needs_sandbox(_plan("transform.extract", "acme.fetch", registry=registry), registry)
    assert needs_sandbox(_plan("transform.extract", "acme.pure", registry=registry), registry)
    # Inside a block, too.
    text = (
        "stepwise: 1\nname: t\nsteps:\n"
        "  - {id: each, for_each: '{{ [1, 2] }}', steps: [{id: p, module: acme.pure, inputs: {value: 1}}]}"
    )
    assert needs_sandbox(compile_text(text, "t.yaml", registry).unwrap(), registry)


def test_a_module_counts_as_built_in_only_as_stepwise_made_it() -> None:
    plan = _plan("transform.extract")
    # The worker's registry names the module, but with other code (a plugin that took the
    # name, a test's stand-in): sandboxed.
    other = Registry()
    other.register(ModuleSpec("transform.extract", "workflow", _In, _Out, "x", run=_echo))
    assert needs_sandbox(plan, other)
    # A module the worker does not know: sandboxed (the run fails there, as before).
    assert needs_sandbox(plan, Registry())


def _typed_args(plan: Plan) -> list[Payload]:
    run = RunInput(plan=plan, plan_hash=plan.content_hash(), input={})
    rest = json.dumps(rest_of(run)).encode()
    return [Payload(metadata=JSON_PLAIN, data=plan.canonical_json()), Payload(metadata=JSON_PLAIN, data=rest)]


def test_the_runner_decides_from_the_inputs_a_run_starts_with() -> None:
    registry = _registry()
    use_registry(registry)
    try:
        runner = SandboxByPlan(sandbox())
        plain, plugin = _plan("transform.extract", registry=registry), _plan("acme.pure", registry=registry)
        # A typed run: its plan's canonical JSON, then the rest of its RunInput.
        assert not runner.decide(run_type("t"), _typed_args(plain))
        assert runner.decide(run_type("t"), _typed_args(plugin))
        assert not runner.decide(run_type("t"), _typed_args(plain))  # decided once per plan
        # A child run (`call`): one RunInput.
        for plan, expected in ((plain, False), (plugin, True)):
            run = RunInput(plan=plan, plan_hash=plan.content_hash(), input={})
            payload = Payload(metadata=JSON_PLAIN, data=run.model_dump_json().encode())
            assert runner.decide(WORKFLOW_NAME, [payload]) is expected
        # Anything else is sandboxed, or refused as no run's input (then sandboxed too).
        binary = Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00")
        assert runner.decide(run_type("t"), [binary, binary])
        assert runner.decide("someone.else", _typed_args(plain))
        bad = Payload(metadata=JSON_PLAIN, data=b"{not json")
        with pytest.raises(ValueError, match="Invalid JSON"):
            runner.decide(run_type("t"), [bad, bad])
        with pytest.raises(ValueError, match="validation error"):
            runner.decide(WORKFLOW_NAME, [Payload(metadata=JSON_PLAIN, data=b'{"plan": 1}')])
    finally:
        use_registry(builtin_registry())


def test_a_run_never_made_is_evicted_without_making_it() -> None:
    """A run's instance is made at its first activation; if that failed before making it, the
    eviction that follows has nothing to tear down (an eviction that fails is retried forever)."""
    runner = SandboxByPlan(sandbox())
    instance = runner.create_instance(cast(WorkflowInstanceDetails, None))
    eviction = WorkflowActivation(
        run_id="r1", jobs=[WorkflowActivationJob(remove_from_cache=RemoveFromCache(message="gone"))]
    )
    completion = instance.activate(eviction)
    assert completion.run_id == "r1"
    assert completion.HasField("successful")
    assert not runner.counts
