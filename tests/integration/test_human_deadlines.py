"""Deadlines of human steps, on the time-skipping server: on_timeout and reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.interactions import AnswerRefused, respond
from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import plan_of, registry
from workers.worker import QUEUES, running_workers
from workflows.engine.human import InteractionRequest, Responder
from workflows.engine.models import INTERACTIONS_QUERY


def text_step(on_timeout: str) -> str:
    return f"""
        output: "{{{{ steps.name.value if steps.name.value is defined else 'skipped' }}}}"
        steps:
          - id: name
            module: user.text_input
            inputs: {{prompt: "Name", default: anonymous, deadline: 30d, remind_every: 7d, on_timeout: {on_timeout}, assignees: [ada]}}
        """


async def test_a_30_day_deadline_takes_the_default_and_reminds_weekly(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    async with running_workers(time_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(time_env.client, Prepared(plan_of(text_step("default"))), {}, settings)
        assert (await handle.result()).output == "anonymous"
    history = await handle.fetch_history()
    reminders = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert len(reminders) == 4
    assert (history.events[-1].event_time.ToDatetime() - history.events[0].event_time.ToDatetime()).days >= 30


@pytest.mark.parametrize(("on_timeout", "expected"), [("skip", "skipped"), ("fail", None)])
async def test_skip_or_fail_at_the_deadline(
    time_env: WorkflowEnvironment, settings: Settings, on_timeout: str, expected: str | None
) -> None:
    async with running_workers(time_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(time_env.client, Prepared(plan_of(text_step(on_timeout))), {}, settings)
        if expected is not None:
            assert (await handle.result()).output == expected
            return
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "DeadlineExceeded"


async def test_escalation_lets_the_group_answer_after_the_deadline(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    manager = Responder(user="mia", groups=["managers"])
    async with running_workers(time_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(
            time_env.client, Prepared(plan_of(text_step("{escalate: managers}"))), {}, settings
        )
        await time_env.sleep(timedelta(hours=1))
        (request,) = await handle.query(INTERACTIONS_QUERY, result_type=list[InteractionRequest])
        with pytest.raises(AnswerRefused):
            await respond(time_env.client, handle.id, request.id, {"value": "early"}, manager)
        await time_env.sleep(timedelta(days=31))
        (escalated,) = await handle.query(INTERACTIONS_QUERY, result_type=list[InteractionRequest])
        assert escalated.assignees == ["ada", "managers"]
        await respond(time_env.client, handle.id, request.id, {"value": "mia"}, manager)
        assert (await handle.result()).output == "mia"
