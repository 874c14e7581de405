"""Hand-written Temporal workflows for bench/peers.py: N trivial steps as local activities or
as inline workflow code. (As activities on another task queue, it is bench/native.py's
`NativeActivities`, with the same `echo` and Stepwise's payload shape.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from bench.native import ECHO, ActivityCall, ActivityResult, NativeInput


def _call(index: int, value: Any) -> ActivityCall:
    return ActivityCall(
        run_id=workflow.info().workflow_id,
        step_id=f"s{index}",
        module="bench.echo",
        inputs={"value": value},
    )


@workflow.defn(name="bench.peers_local")
class PeersLocal:
    """One local activity per step, run by the workflow's own worker."""

    @workflow.run
    async def run(self, params: NativeInput) -> Any:
        value: Any = 0
        for index in range(params.steps):
            result: ActivityResult = await workflow.execute_local_activity(
                ECHO,
                _call(index, value),
                result_type=ActivityResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
            value = result.outputs["value"] + 1
        return value


@workflow.defn(name="bench.peers_inline")
class PeersInline:
    """The steps as plain code in the workflow: one workflow task for the whole run."""

    @workflow.run
    async def run(self, params: NativeInput) -> Any:
        value: Any = 0
        for _ in range(params.steps):
            value = {"value": value}["value"] + 1
        return value
