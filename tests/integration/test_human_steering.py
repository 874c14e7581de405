"""People steer a run on a real dev server: retry with feedback, jump back, edit before approving."""

from __future__ import annotations

import json
import uuid

from temporalio.api.enums.v1 import EventType

from core.interactions import respond
from core.runs import Prepared, start_run
from tests.helpers import plan_of
from tests.integration.conftest import HttpServer, Stack
from tests.integration.test_human import open_interactions
from workflows.engine.human import Responder

ADA = Responder(user="ada")


async def test_a_retry_reruns_generation_with_the_feedback_visible_to_it(
    stack: Stack, http_server: HttpServer
) -> None:
    token = uuid.uuid4().hex
    plan = plan_of(
        f"""
        state: {{rounds: 0}}
        output: "{{{{ [steps.pick.selected_data, state.rounds] }}}}"
        steps:
          - id: generate
            module: api.fetch
            inputs:
              url: "{http_server.base}/echo"
              method: POST
              body: {{token: {token}, feedback: "{{{{ feedback }}}}"}}
          - {{id: count, module: transform.extract, inputs: {{n: "{{{{ state.rounds + 1 }}}}"}}, outputs_to_state: {{rounds: n}}}}
          - id: pick
            module: user.select
            inputs:
              prompt: Keep this draft?
              data: "{{{{ [steps.generate.response.body] }}}}"
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (first,) = await open_interactions(handle)
    assert first.constraints["goes_back_to"] == "generate"
    assert first.data == [{"token": token, "feedback": None}]
    reply = await respond(
        stack.env.client, handle.id, first.id, {"retry": True, "feedback": "warmer tone"}, ADA
    )
    assert reply.outputs["retry_requested"] is True
    (second,) = await open_interactions(handle)
    assert second.id != first.id
    assert second.data == [{"token": token, "feedback": "warmer tone"}]
    await respond(stack.env.client, handle.id, second.id, {"selected_indices": [0]}, ADA)
    # The count step ran twice, but the retry put state back as it was before generate.
    assert (await handle.result()).output == [[{"token": token, "feedback": "warmer tone"}], 1]
    sent = [json.loads(b) for b in http_server.bodies["/echo"] if b and token in b]
    assert [s["feedback"] for s in sent] == [None, "warmer tone"]
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 2


async def test_jump_back_restores_state_and_continues_from_the_earlier_step(stack: Stack) -> None:
    plan = plan_of(
        """
        state: {topic: none, words: 0}
        output: "{{ [state.topic, state.words, steps.title.value] }}"
        steps:
          - {id: ask_topic, module: user.text_input, inputs: {prompt: "Topic? (now {{ state.topic }})"},
             outputs_to_state: {topic: value}}
          - {id: measure, module: transform.extract, inputs: {n: "{{ state.topic | length }}"},
             outputs_to_state: {words: n}}
          - {id: title, module: user.text_input, inputs: {prompt: "Title for {{ state.topic }}?"}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (topic,) = await open_interactions(handle)
    await respond(stack.env.client, handle.id, topic.id, {"value": "whales"}, ADA)
    (title,) = await open_interactions(handle)
    assert (title.prompt, title.constraints["goes_back_to"]) == ("Title for whales?", "ask_topic")
    await respond(stack.env.client, handle.id, title.id, {"jump_back": True}, ADA)
    (again,) = await open_interactions(handle)
    assert (again.step_id, again.prompt) == ("ask_topic", "Topic? (now none)")
    await respond(stack.env.client, handle.id, again.id, {"value": "owls"}, ADA)
    (title,) = await open_interactions(handle)
    assert title.prompt == "Title for owls?"
    await respond(stack.env.client, handle.id, title.id, {"value": "Night birds"}, ADA)
    assert (await handle.result()).output == ["owls", 4, "Night birds"]


async def test_an_approver_edits_the_data_and_the_quorum_approves_the_edit(stack: Stack) -> None:
    plan = plan_of(
        """
        output: "{{ [steps.pay.approved, steps.pay.data, steps.pay.edited, steps.pay.decided_by] }}"
        steps:
          - id: pay
            module: user.approve
            inputs:
              prompt: Pay this invoice?
              data: {amount: 120, iban: DE02}
              schema: {type: object, properties: {amount: {type: number, maximum: 500}}, required: [amount]}
              assignees: [ana, ben, cy]
              quorum: 2
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    (request,) = await open_interactions(handle)
    assert request.answer_schema["properties"]["data"]["properties"]["amount"]["maximum"] == 500
    await respond(stack.env.client, handle.id, request.id, {"approved": True}, Responder(user="ana"))
    edited = {"amount": 100, "iban": "DE02"}
    reply = await respond(
        stack.env.client, handle.id, request.id, {"approved": True, "data": edited}, Responder(user="ben")
    )
    # ana approved 120, not 100: the edit needs a second approval again.
    assert (reply.decided, reply.outputs) == (False, {"approvals": 1, "quorum": 2, "data": edited})
    (shown,) = await open_interactions(handle)
    assert shown.data == edited
    await respond(stack.env.client, handle.id, request.id, {"approved": True}, Responder(user="ana"))
    assert (await handle.result()).output == [True, edited, True, ["ben", "ana"]]
