"""Human steps on a real dev server: interactions, answers as validated Updates, the inbox."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from core.interactions import AnswerRefused, inbox, inbox_page, respond, send_event
from core.run_views import state_of
from core.runs import Prepared, start_run
from tests.helpers import plan_of
from tests.integration.conftest import Stack
from tests.integration.eventually import assert_eventually
from workflows.engine.human import InteractionRequest, Responder
from workflows.engine.models import INTERACTIONS_QUERY, RunOutput
from workflows.engine.run import AWAITING_KEY as AWAITING
from workflows.engine.run import STATUS_KEY as STATUS

ADA = Responder(user="ada", groups=["editors"])
BOB = Responder(user="bob")


async def open_interactions(
    handle: WorkflowHandle[object, RunOutput], count: int = 1
) -> list[InteractionRequest]:
    found: list[InteractionRequest] = []

    async def opened() -> None:
        found[:] = await handle.query(INTERACTIONS_QUERY, result_type=list[InteractionRequest])
        assert len(found) == count

    await assert_eventually(opened)
    return found


SELECT = """
output: "{{ steps.pick.selected_data }}"
steps:
  - id: pick
    module: user.select
    inputs:
      prompt: Pick two scenes
      data: "{{ input.scenes }}"
      multi_select: true
      min_selections: 2
      max_selections: 2
      assignees: [editors]
"""


async def test_an_answer_resumes_the_run_with_the_chosen_items(stack: Stack) -> None:
    handle = await start_run(
        stack.env.client, Prepared(plan_of(SELECT)), {"scenes": ["a", "b", "c"]}, stack.settings
    )
    (request,) = await open_interactions(handle)
    assert (request.step_id, request.type, request.prompt, request.assignees) == (
        "pick",
        "user.select",
        "Pick two scenes",
        ["editors"],
    )
    assert request.constraints == {"multi_select": True, "min_selections": 2, "max_selections": 2}
    result = await respond(stack.env.client, handle.id, request.id, {"selected_indices": [2, 0]}, ADA)
    assert (result.answered_by, result.outputs["selected_data"]) == ("ada", ["c", "a"])
    assert (await handle.result()).output == ["c", "a"]


async def test_invalid_answers_are_refused_and_leave_no_trace(stack: Stack) -> None:
    handle = await start_run(
        stack.env.client, Prepared(plan_of(SELECT)), {"scenes": ["a", "b", "c"]}, stack.settings
    )
    (request,) = await open_interactions(handle)
    refusals = [
        ({"selected_indices": [0]}, ADA, "choose between 2 and 2 items, not 1"),
        ({"selected_indices": [0, 7]}, ADA, "7 is not an item"),
        ({"chosen": [0, 1]}, ADA, "Additional properties are not allowed"),
        ({"selected_indices": [0, 1]}, BOB, "bob may not answer"),
    ]
    for data, who, reason in refusals:
        with pytest.raises(AnswerRefused) as info:
            await respond(stack.env.client, handle.id, request.id, data, who)
        assert reason in str(info.value)
    with pytest.raises(AnswerRefused) as info:
        await respond(stack.env.client, handle.id, "nope-1", {}, ADA)
    assert "is not open" in str(info.value)
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED not in events
    await respond(stack.env.client, handle.id, request.id, {"selected_indices": [0, 1]}, ADA)
    assert (await handle.result()).output == ["a", "b"]


async def test_the_same_idempotency_key_is_one_answer(stack: Stack) -> None:
    plan = plan_of(
        """
        state: {log: []}
        output: "{{ [steps.first.value, steps.second.value] }}"
        steps:
          - {id: first, module: user.text_input, inputs: {prompt: 'Name?', validation_pattern: "[a-z]+"}}
          - {id: second, module: user.text_input, inputs: {prompt: 'Again?'}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (request,) = await open_interactions(handle)
    with pytest.raises(AnswerRefused) as info:
        await respond(stack.env.client, handle.id, request.id, {"value": "Ada 1"}, ADA)
    assert "does not match the pattern" in str(info.value)
    key = f"key-{uuid.uuid4().hex}"
    one = await respond(stack.env.client, handle.id, request.id, {"value": "ada"}, ADA, key)
    again = await respond(stack.env.client, handle.id, request.id, {"value": "ada"}, ADA, key)
    assert one == again
    (second,) = await open_interactions(handle)
    assert second.step_id == "second"
    await respond(stack.env.client, handle.id, second.id, {"value": "x"}, BOB)
    assert (await handle.result()).output == ["ada", "x"]
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 2


async def test_parallel_interactions_are_answered_independently_and_the_inbox_lists_them(
    stack: Stack,
) -> None:
    reviewer = f"reviewer-{uuid.uuid4().hex[:8]}"
    plan = plan_of(
        f"""
        output: "{{{{ [steps.left.confirmed, steps.right.approved] }}}}"
        steps:
          - id: both
            parallel:
              a: [{{id: left, module: user.pause, inputs: {{message: 'Ready?', assignees: [{reviewer}]}}}}]
              b: [{{id: right, module: user.approve, inputs: {{prompt: 'Ship it?', assignees: [{reviewer}]}}}}]
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    requests = await open_interactions(handle, 2)
    me = Responder(user=reviewer)

    async def listed() -> None:
        items = await inbox(stack.env.client, me)
        assert sorted(i.request.step_id for i in items if i.run_id == handle.id) == ["left", "right"]

    await assert_eventually(listed)
    others = await inbox(stack.env.client, Responder(user=f"nobody-{uuid.uuid4().hex[:6]}"))
    assert [i for i in others if i.run_id == handle.id] == []
    by_step = {r.step_id: r for r in requests}
    await respond(stack.env.client, handle.id, by_step["right"].id, {"approved": True, "comment": "ok"}, me)

    async def only_left_listed() -> None:
        items = await inbox(stack.env.client, me)
        assert [i.request.step_id for i in items if i.run_id == handle.id] == ["left"]

    # The right branch ended while the left one waits: the run still shows the change.
    await assert_eventually(only_left_listed)
    await respond(stack.env.client, handle.id, by_step["left"].id, {}, me)
    assert (await handle.result()).output == [True, True]


async def test_the_cli_lists_answers_and_signals(stack: Stack) -> None:
    import asyncio
    import json
    import os
    import sys
    from pathlib import Path

    host, port = stack.env.client.service_client.config.target_host.rsplit(":", 1)
    env = {**os.environ, "STEPWISE_TEMPORAL_HOST": host, "STEPWISE_TEMPORAL_PORT": port}
    script = str(Path(sys.executable).parent / "stepwise")
    user = f"cli-{uuid.uuid4().hex[:8]}"

    async def cli(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            script, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        return process.returncode or 0, out.decode(), err.decode()

    plan = plan_of(
        f"""
        output: "{{{{ [steps.go.confirmed, steps.paid.payload] }}}}"
        steps:
          - {{id: go, module: user.pause, inputs: {{message: Continue, assignees: [{user}]}}}}
          - {{id: paid, wait: {{signal: payment_received}}}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (request,) = await open_interactions(handle)

    async def listed() -> None:
        code, out, err = await cli("inbox", "--as", user)
        assert code == 0, err
        assert [json.loads(line)["id"] for line in out.splitlines()] == [request.id]

    await assert_eventually(listed)
    code, out, err = await cli("respond", handle.id, request.id, "--as", "someone-else")
    assert code == 1
    assert "may not answer" in err
    code, out, err = await cli("respond", handle.id, request.id, "--as", user, "--data", "{}")
    assert code == 0, err
    assert json.loads(out)["outputs"] == {"confirmed": True}
    code, out, err = await cli("signal", handle.id, "payment_sent", "--data", "1")
    assert code == 1
    assert "waits for no event named 'payment_sent'; it waits for payment_received" in err
    code, out, err = await cli("signal", handle.id, "payment_received", "--data", '{"amount": 5}')
    assert code == 0, err
    assert json.loads(out)["name"] == "payment_received"
    assert (await handle.result()).output == [True, {"amount": 5}]


APPROVAL = """
output: "{{ [steps.sign.approved, steps.sign.decided_by, steps.sign.comment] }}"
steps:
  - id: sign
    module: user.approve
    inputs: {prompt: "Pay the invoice", assignees: [ana, ben, cy], quorum: 2, forbid_self_approval: true}
"""


async def test_two_of_three_approve_and_the_starter_may_not(stack: Stack) -> None:
    handle = await start_run(stack.env.client, Prepared(plan_of(APPROVAL)), {}, stack.settings, owner="ana")
    (request,) = await open_interactions(handle)
    with pytest.raises(AnswerRefused) as info:
        await respond(stack.env.client, handle.id, request.id, {"approved": True}, Responder(user="ana"))
    assert "may not approve it (forbid_self_approval)" in str(info.value)
    first = await respond(stack.env.client, handle.id, request.id, {"approved": True}, Responder(user="ben"))
    assert (first.decided, first.outputs) == (False, {"approvals": 1, "quorum": 2, "data": None})
    with pytest.raises(AnswerRefused) as info:
        await respond(stack.env.client, handle.id, request.id, {"approved": True}, Responder(user="ben"))
    assert "ben has already answered" in str(info.value)
    (still_open,) = await open_interactions(handle)
    assert still_open.constraints["approvals"] == 1
    second = await respond(
        stack.env.client, handle.id, request.id, {"approved": True, "comment": "ok"}, Responder(user="cy")
    )
    assert second.decided
    assert (await handle.result()).output == [True, ["ben", "cy"], "ok"]


async def test_one_rejection_decides_an_approval(stack: Stack) -> None:
    handle = await start_run(stack.env.client, Prepared(plan_of(APPROVAL)), {}, stack.settings, owner="ana")
    (request,) = await open_interactions(handle)
    result = await respond(
        stack.env.client,
        handle.id,
        request.id,
        {"approved": False, "comment": "too much"},
        Responder(user="cy"),
    )
    assert result.decided
    assert (await handle.result()).output == [False, ["cy"], "too much"]


async def test_events_are_validated_updates_and_a_repeated_key_is_one_event(stack: Stack) -> None:
    plan = plan_of(
        """
        output: "{{ [steps.first.payload, steps.second.payload] }}"
        steps:
          - {id: first, wait: {signal: paid}}
          - {id: second, wait: {signal: paid, timeout: 1h}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)

    async def waiting() -> None:
        status = {k.name: v for k, v in (await handle.describe()).typed_search_attributes}
        assert status.get("StepwiseStatus") == "waiting"

    await assert_eventually(waiting)
    with pytest.raises(AnswerRefused) as info:
        await send_event(stack.env.client, handle.id, "refund", {"n": 0})
    assert str(info.value) == "this run waits for no event named 'refund'; it waits for paid"
    key = f"event-{uuid.uuid4().hex}"
    one = await send_event(stack.env.client, handle.id, "paid", {"n": 1}, key)
    again = await send_event(stack.env.client, handle.id, "paid", {"n": 1}, key)
    assert one == again
    assert one.waited_for
    await send_event(stack.env.client, handle.id, "paid", {"n": 2})
    assert (await handle.result()).output == [{"n": 1}, {"n": 2}]
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 2


async def test_the_inbox_comes_in_pages_of_runs(stack: Stack) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    plan = plan_of(
        f"""
        steps:
          - {{id: hold, module: user.pause, inputs: {{message: "Go on", assignees: [{group}]}}}}
        """
    )
    handles = [await start_run(stack.env.client, Prepared(plan), {}, stack.settings) for _ in range(3)]
    who = Responder(user="zed", groups=[group])

    async def all_listed() -> None:
        assert len(await inbox(stack.env.client, who)) == 3

    await assert_eventually(all_listed)
    first = await inbox_page(stack.env.client, who, page_size=2)
    assert len(first.items) == 2
    assert first.next_page is not None
    second = await inbox_page(stack.env.client, who, page_size=2, page=first.next_page)
    assert (len(second.items), second.next_page) == (1, None)
    listed = {item.run_id for item in [*first.items, *second.items]}
    assert listed == {h.id for h in handles}
    assert all(item.request.prompt == "Go on" for item in first.items)
    for handle in handles:
        await handle.terminate("done")


async def test_an_event_sent_right_after_the_start_is_kept(stack: Stack) -> None:
    plan = plan_of(
        """
        output: "{{ steps.paid.payload }}"
        steps:
          - {id: paid, wait: {signal: paid}}
        """
    )
    # Likely to reach the run in its first activation, before the run method has started.
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    with pytest.raises(AnswerRefused) as info:
        await send_event(stack.env.client, handle.id, "refund", None)
    assert "waits for no event named 'refund'" in str(info.value)
    await send_event(stack.env.client, handle.id, "paid", {"n": 1})
    assert (await handle.result()).output == {"n": 1}


async def test_an_answer_shows_its_changes_in_one_upsert(stack: Stack) -> None:
    """Closing one interaction and opening the next (or running on) is one search-attribute
    upsert and one memo update per workflow task, not one per change: fewer visibility writes
    between an answer and the next step."""
    plan = plan_of(
        """
        output: "{{ [steps.first.value, steps.second.value] }}"
        steps:
          - {id: first, module: user.text_input, inputs: {prompt: 'Name?', assignees: [ada]}}
          - {id: shout, module: transform.extract, inputs: {loud: "{{ steps.first.value | upper }}"}}
          - {id: second, module: user.text_input, inputs: {prompt: 'Again?'}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (first,) = await open_interactions(handle)
    description = await handle.describe()
    assert description.typed_search_attributes.get(AWAITING) == ["ada"]
    assert description.typed_search_attributes.get(STATUS) == "waiting"
    await respond(stack.env.client, handle.id, first.id, {"value": "ada"}, ADA)
    (second,) = await open_interactions(handle)
    description = await handle.describe()
    assert description.typed_search_attributes.get(AWAITING) == ["*"]
    assert description.typed_search_attributes.get(STATUS) == "waiting"
    await respond(stack.env.client, handle.id, second.id, {"value": "x"}, BOB)
    assert (await handle.result()).output == ["ada", "x"]
    tasks: list[list[int]] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks.append([])
        elif tasks:
            tasks[-1].append(event.event_type)
    upserts = [t.count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) for t in tasks]
    memos = [t.count(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) for t in tasks]
    answered = [
        i for i, t in enumerate(tasks) if EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED in t
    ]
    assert len(answered) == 2
    # The first answer closes `first` and opens `second` in the same task: still one of each.
    assert (upserts[answered[0]], memos[answered[0]]) == (1, 1)
    description = await handle.describe()
    assert description.typed_search_attributes.get(AWAITING) is None
    # Engine generation 2: the last open state stays; ExecutionStatus says how the run ended.
    assert description.typed_search_attributes.get(STATUS) == "running"
    assert state_of(description) == "completed"


async def test_the_same_key_after_the_run_ended_gets_the_first_reply(stack: Stack) -> None:
    """The answer that ends a run, sent again with its idempotency key once the run is over
    (a client retrying after a lost reply), gets the reply recorded in the run's history."""
    plan = plan_of(
        """
        output: "{{ steps.last.value }}"
        steps:
          - {id: last, module: user.text_input, inputs: {prompt: 'Last one?'}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (request,) = await open_interactions(handle)
    key = f"key-{uuid.uuid4().hex}"
    first = await respond(stack.env.client, handle.id, request.id, {"value": "done"}, ADA, key)
    assert (await handle.result()).output == "done"
    again = await respond(stack.env.client, handle.id, request.id, {"value": "done"}, ADA, key)
    assert again == first
    with pytest.raises(RPCError):
        await respond(stack.env.client, handle.id, request.id, {"value": "done"}, ADA, "another-key")
