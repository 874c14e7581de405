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


class NativeAnswer(BaseModel):
    """What the hand-written human workflow's update carries."""

    round: int
    value: Any = None


@workflow.defn(name="bench.native_human")
class NativeHuman:
    """N rounds of: wait for an answer (an Update), then run an activity with it."""

    def __init__(self) -> None:
        self.answers: list[NativeAnswer] = []
        self.waiting = -1

    @workflow.run
    async def run(self, params: NativeInput) -> int:
        for index in range(params.steps):
            self.waiting = index
            await workflow.wait_condition(lambda: len(self.answers) > self.waiting)
            self.waiting = -1
            await workflow.execute_activity(
                ECHO,
                ActivityCall(
                    run_id=workflow.info().workflow_id,
                    step_id=f"next{index}",
                    module="bench.echo",
                    inputs={"value": self.answers[index].value},
                ),
                task_queue=params.queue,
                result_type=ActivityResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return len(self.answers)

    @workflow.update(name="answer")
    def answer(self, answer: NativeAnswer) -> int:
        self.answers.append(answer)
        return len(self.answers)

    @answer.validator
    def _check(self, answer: NativeAnswer) -> None:
        if answer.round != len(self.answers):
            raise ValueError(f"round {answer.round} is not open")

    @workflow.query(name="waiting")
    def waiting_for(self) -> int:
        """The round that waits for its answer now, or -1."""
        return self.waiting
