"""STEPWISE_WORKER_SANDBOX=plugins, the default (workers/runner.py): a run whose plan runs a
plugin's code inside the workflow goes through Temporal's sandbox; one that runs only Stepwise's
own does not, and is decided again, the same way, each time its worker replays it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment

from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import registry
from tests.integration.conftest import HttpServer
from workers.runner import SandboxByPlan
from workers.worker import running_workers
from workflows.compiler import compile_text
from workflows.engine.models import WORKFLOW_QUEUE
from workflows.modules.registry import ModuleInput, ModuleOutput, ModuleSpec


class _Where(ModuleInput):
    value: Any = None


class _Found(ModuleOutput):
    sandboxed: bool = False


def _where(inputs: _Where, scope: Mapping[str, Any]) -> _Found:
    return _Found(sandboxed=workflow.unsafe.in_sandbox())


async def test_only_runs_of_plugins_code_go_through_the_sandbox(
    dev_env: WorkflowEnvironment, settings: Settings, http_server: HttpServer
) -> None:
    modules = registry()
    modules.register(
        ModuleSpec("acme.where", "workflow", _Where, _Found, "Where it runs", run=_where, source="acme")
    )
    # Evicted after every workflow task: each task makes the run's instance again.
    uncached = settings.model_copy(update={"worker_max_cached_workflows": 0})
    assert uncached.worker_sandbox == "plugins"

    def plan_of(steps: str) -> Prepared:
        return Prepared(compile_text(f"stepwise: 1\nname: where\n{steps}", "where.yaml", modules).unwrap())

    plugin = plan_of("output: '{{ steps.w.sandboxed }}'\nsteps: [{id: w, module: acme.where, inputs: {}}]")
    own = plan_of(
        "output: '{{ [steps.get.response.n, steps.x.v] }}'\nsteps:\n"
        f"  - {{id: get, module: api.fetch, inputs: {{url: '{http_server.base}/n/3'}}}}\n"
        "  - {id: x, module: transform.extract, inputs: {v: '{{ steps.get.response.n + 1 }}'}}"
    )
    async with running_workers(
        dev_env.client, [WORKFLOW_QUEUE, "integrations"], uncached, modules
    ) as workers:
        runner = workers[0].config().get("workflow_runner")
        assert isinstance(runner, SandboxByPlan)
        assert (await (await start_run(dev_env.client, plugin, {}, uncached)).result()).output is True
        assert runner.counts == {"sandboxed": 1}
        # Two workflow tasks around the fetch, each in a new instance outside the sandbox.
        assert (await (await start_run(dev_env.client, own, {}, uncached)).result()).output == [3, 4]
        assert runner.counts["sandboxed"] == 1
        assert runner.counts["unsandboxed"] >= 2
