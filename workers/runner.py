"""Which runs go through Temporal's workflow sandbox (settings.worker_sandbox).

The sandbox guards workflow code that Stepwise does not own: a plugin's pure module runs
inside the workflow, and the sandbox stops it reading the clock or doing I/O, which would
break replay. Stepwise's own workflow code (the engine, the interpreter, templates and the
built-in modules: the `workflows` package) is held to the same rule by the import-linter
contract "workflows/ is replay-safe" and by the replay tests, which replay every recorded
history in the sandbox. A run whose plan has no plugin code to run inside the workflow gains
nothing from it, and pays for it: a sandbox for every run, and a wrapper around each
activation (about 1 ms of CPU for a light run, measured in docs/fast-path.md#worker-tuning).

With `plugins` (the default), `SandboxByPlan` decides per run, from the plan the run
starts with, before any of the run's code runs: runs whose plans use only Stepwise's own
pure and human modules run outside the sandbox; anything else (a plugin's pure module, an
input it cannot read) runs in it, as every run did before. A run keeps its runner for its
life in the worker's cache; after an eviction it is decided again, the same way, from the
same plan. The choice changes no command a run issues, so histories replay the same either
way.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import SerializationContext
from temporalio.worker import (
    UnsandboxedWorkflowRunner,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow import Info, _Definition

from workflows.engine.models import WORKFLOW_NAME, definition_of
from workflows.engine.registry import current_registry
from workflows.modules import Registry, builtin_registry
from workflows.plan import ModuleNode, Plan, iter_nodes, read_canonical

# The payload encoding a run's JSON inputs arrive in (any other: the run is sandboxed).
_JSON = b"json/plain"
# Decisions kept per plan hash and registry (typed runs), cleared when full, like
# plan.read_canonical's.
DECISIONS_KEPT = 256
# Module specs as the built-in registry makes them: what counts as Stepwise's own code.
_Identity = tuple[str, Any, Any, Any]


class SandboxByPlan(WorkflowRunner):
    """Runs each workflow in Temporal's sandbox or outside it, as its plan needs (see the
    module's docstring). `counts` says how many runs each way (for tests and benches)."""

    def __init__(self, sandboxed: SandboxedWorkflowRunner) -> None:
        self._sandboxed = sandboxed
        self._plain = UnsandboxedWorkflowRunner()
        self._decided: dict[tuple[str, int], bool] = {}
        self.counts: Counter[str] = Counter()

    def prepare_workflow(self, defn: _Definition) -> None:
        self._sandboxed.prepare_workflow(defn)
        self._plain.prepare_workflow(defn)

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self._sandboxed.set_worker_level_failure_exception_types(types)
        self._plain.set_worker_level_failure_exception_types(types)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        # The details do not hold the run's input: the instance is made at its first
        # activation, whose InitializeWorkflow job does.
        return _Deferred(self, det)

    def instance_for(self, det: WorkflowInstanceDetails, act: WorkflowActivation | None) -> WorkflowInstance:
        """The instance of a run, in the sandbox unless its input shows no need for it."""
        jobs = act.jobs if act is not None else ()
        init = next((j.initialize_workflow for j in jobs if j.HasField("initialize_workflow")), None)
        sandboxed = True
        if init is not None:
            try:
                sandboxed = self.decide(init.workflow_type, init.arguments)
            except Exception:  # no Stepwise run's input (the run itself says so): sandboxed
                sandboxed = True
        self.counts["sandboxed" if sandboxed else "unsandboxed"] += 1
        runner = self._sandboxed if sandboxed else self._plain
        if asyncio._get_running_loop() is not None:
            return runner.create_instance(det)
        # Made in a workflow thread, which has no event loop: the SDK's instance puts itself on
        # the running loop while it is made (so interceptors may read workflow.info()), as it
        # would on the worker's, and takes itself off again. A loop of its own, never run.
        asyncio._set_running_loop(asyncio.AbstractEventLoop())  # type: ignore[abstract]
        try:
            return runner.create_instance(det)
        finally:
            asyncio._set_running_loop(None)

    def decide(self, workflow_type: str, arguments: Sequence[Payload]) -> bool:
        """Whether a run that starts with these inputs needs the sandbox; raises ValueError
        (or TypeError) for inputs that are no Stepwise run's."""
        if any(arg.metadata.get("encoding") != _JSON for arg in arguments):
            return True
        registry = current_registry()  # what the run's steps will find
        typed = definition_of(workflow_type) is not None
        if typed and len(arguments) == 2:
            plan, plan_hash = read_canonical(arguments[0].data)  # the run reads it again: cached
            key = (plan_hash, id(registry))
            known = self._decided.get(key)
            if known is None:
                known = needs_sandbox(plan, registry)
                if len(self._decided) >= DECISIONS_KEPT:
                    self._decided.clear()
                self._decided[key] = known
            return known
        if (typed or workflow_type == WORKFLOW_NAME) and len(arguments) == 1:
            # One RunInput: a child run (`call`), or a run started before typed runs.
            fields = json.loads(arguments[0].data)
            if not isinstance(fields, dict):
                return True
            return needs_sandbox(Plan.model_validate(fields.get("plan")), registry)
        return True


def needs_sandbox(plan: Plan, registry: Registry) -> bool:
    """Whether a run of `plan` runs code that is not Stepwise's own inside the workflow: a
    pure or human step of a module that is not a built-in one (or not known here)."""
    builtins = _builtin_specs()
    for node in iter_nodes(plan.body):
        if isinstance(node, ModuleNode) and node.runs != "activity":
            spec = registry.get(node.module)
            if spec is None or (spec.name, spec.input_model, spec.output_model, spec.run) not in builtins:
                return True
    return False


@functools.lru_cache(maxsize=1)
def _builtin_specs() -> frozenset[_Identity]:
    return frozenset((s.name, s.input_model, s.output_model, s.run) for s in builtin_registry())


class _Deferred(WorkflowInstance):
    """A run's instance, made (in or out of the sandbox) at its first activation."""

    def __init__(self, runner: SandboxByPlan, det: WorkflowInstanceDetails) -> None:
        self._runner = runner
        self._det = det
        self._instance: WorkflowInstance | None = None

    def _made(self, act: WorkflowActivation | None = None) -> WorkflowInstance:
        if self._instance is None:
            self._instance = self._runner.instance_for(self._det, act)
        return self._instance

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        if self._instance is None and not any(job.HasField("initialize_workflow") for job in act.jobs):
            # Never made (its first activation failed before): nothing to evict or run.
            done = WorkflowActivationCompletion(run_id=act.run_id)
            done.successful.SetInParent()
            return done
        return self._made(act).activate(act)

    def get_serialization_context(self, command_info: Any) -> SerializationContext | None:
        return self._made().get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._made().get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self._det.info if self._instance is None else self._instance.get_info()

    def get_thread_id(self) -> int | None:
        return None if self._instance is None else self._instance.get_thread_id()
