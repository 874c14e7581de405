"""Hand-written Temporal workflows and the activity both sides of bench/overhead.py share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow

ECHO = "module:bench.echo"


class EchoInput(BaseModel):
    value: Any = None


class EchoOutput(BaseModel):
    value: Any = None


class ActivityCall(BaseModel):
    """Same shape as Stepwise's ModuleCall, so both sides send the same payload."""

    run_id: str
    step_id: str
    module: str
    inputs: dict[str, Any]


class ActivityResult(BaseModel):
    outputs: dict[str, Any]


@activity.defn(name=ECHO)
async def echo(call: ActivityCall) -> ActivityResult:
    """A trivial activity: the work is the orchestration around it."""
    return ActivityResult(outputs={"value": call.inputs.get("value")})


class NativeInput(BaseModel):
    steps: int
    queue: str


@workflow.defn(name="bench.native_activities")
class NativeActivities:
    """N activities one after another, as one would write it by hand."""

    @workflow.run
    async def run(self, params: NativeInput) -> Any:
        value: Any = 0
        for index in range(params.steps):
            result: ActivityResult = await workflow.execute_activity(
                ECHO,
                ActivityCall(
                    run_id=workflow.info().workflow_id,
                    step_id=f"s{index}",
                    module="bench.echo",
                    inputs={"value": value},
                ),
                task_queue=params.queue,
                result_type=ActivityResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
            value = result.outputs["value"] + 1
        return value
