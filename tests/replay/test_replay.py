"""Recorded histories replay on today's RunWorkflow: a change that would break runs in flight
(a different command order without `workflow.patched`) fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowRunner

from core.codec import encrypted_converter
from tests.replay.record import replay_keys
from workers.runner import SandboxByPlan
from workers.telemetry import StepwiseTelemetry
from workers.worker import sandbox
from workflows.engine.run import RUN_WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    """A recorded history; its file is named after the workflow id."""
    return WorkflowHistory.from_json(path.stem, path.read_text())


def replayer(runner: WorkflowRunner | None = None) -> Replayer:
    """A replayer with the workers' telemetry interceptor, which must not change a command.
    Histories recorded before encryption hold plain payloads; the newer ones are sealed with the
    test-only key (the codec opens only payloads it sealed). Every run in the sandbox unless
    told otherwise: it is what catches a call in Stepwise's own workflow code that would read
    a clock or do I/O."""
    converter = encrypted_converter(pydantic_data_converter, replay_keys())
    return Replayer(
        workflows=list(RUN_WORKFLOWS),
        data_converter=converter,
        workflow_runner=runner or sandbox(),
        interceptors=[StepwiseTelemetry()],
    )


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 5


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    result = await replayer().replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    # As the default worker runs them (STEPWISE_WORKER_SANDBOX=plugins): the same commands,
    # each run in the sandbox or out of it as its plan decides.
    by_plan = SandboxByPlan(sandbox())
    result = await replayer(by_plan).replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    assert by_plan.counts.total() >= 1


async def test_a_changed_command_order_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pacing pure work more often inserts local-activity commands the recorded run never had:
    an unpatched change of command order, which replay must refuse."""
    from workflows.engine import run

    monkeypatch.setattr(run, "PURE_NODES_PER_TASK", 1)
    path = next(p for p in HISTORIES if p.stem == "replay-blocks")
    result = await replayer().replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "Nondeterminism" in str(result.replay_failure)
