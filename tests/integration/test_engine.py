"""Plans run on a real Temporal dev server: activities, blocks, child runs, status."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from core.run_views import state_of
from core.runs import Prepared, start_run
from tests.helpers import plan_of
from tests.integration.conftest import HttpServer, Stack
from workflows.engine.models import STATUS_QUERY, RunStatus


async def run_yaml(
    stack: Stack, text: str, run_input: Any = None, children: dict[str, str] | None = None
) -> Any:
    prepared = Prepared(plan_of(text), {k: plan_of(v, header=False) for k, v in (children or {}).items()})
    handle = await start_run(stack.env.client, prepared, run_input or {}, stack.settings)
    return (await handle.result()).output


async def test_pure_steps_run_inside_the_workflow(stack: Stack) -> None:
    output = await run_yaml(
        stack,
        """
        state: {n: 1}
        output: "{{ [state.n, run.id is string, run.definition_hash | length] }}"
        steps:
          - {id: a, module: transform.extract, inputs: {v: "{{ state.n + 1 }}"}, outputs_to_state: {n: v}}
        """,
    )
    assert output == [2, True, 64]


async def test_fetch_with_extract_path_and_a_json_body(stack: Stack, http_server: HttpServer) -> None:
    output = await run_yaml(
        stack,
        f"""
        output: "{{{{ [steps.list.response, steps.post.response] }}}}"
        steps:
          - {{id: list, module: api.fetch, inputs: {{url: "{http_server.base}/items", extract_path: data.items.1.name}}}}
          - id: post
            module: api.fetch
            inputs: {{url: "{http_server.base}/echo", method: POST, body: {{x: "{{{{ steps.list.response }}}}"}}, headers: {{x-token: t1}}}}
        """,
    )
    assert output == ["b", {"method": "POST", "body": {"x": "b"}, "header": "t1"}]


async def test_fetch_retries_503_after_retry_after(stack: Stack, http_server: HttpServer) -> None:
    http_server.hits.pop("/flaky", None)
    output = await run_yaml(
        stack,
        f"""
        output: "{{{{ steps.f.response }}}}"
        steps:
          - {{id: f, module: api.fetch, inputs: {{url: "{http_server.base}/flaky"}}, retry: {{max_attempts: 3, initial_interval: 100ms}}}}
        """,
    )
    assert output == {"ok": True, "attempts": 2}


async def test_fetch_4xx_fails_without_retry(stack: Stack, http_server: HttpServer) -> None:
    http_server.hits.pop("/missing", None)
    with pytest.raises(WorkflowFailureError) as info:
        await run_yaml(
            stack,
            f"""
            steps:
              - {{id: f, module: api.fetch, inputs: {{url: "{http_server.base}/missing"}}, retry: {{max_attempts: 5, initial_interval: 100ms}}}}
            """,
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Http404"
    assert "step 'f' failed" in cause.message
    assert http_server.hits["/missing"] == 1


async def test_fetch_caps_the_response_size(stack: Stack, http_server: HttpServer) -> None:
    with pytest.raises(WorkflowFailureError) as info:
        await run_yaml(
            stack, f"steps: [{{id: f, module: api.fetch, inputs: {{url: '{http_server.base}/big'}}}}]"
        )
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "ResponseTooLarge"


async def test_for_each_of_activities_keeps_input_order(stack: Stack, http_server: HttpServer) -> None:
    output = await run_yaml(
        stack,
        f"""
        output: "{{{{ steps.each.results }}}}"
        steps:
          - id: each
            for_each: "{{{{ range(6) | list }}}}"
            max_concurrency: 3
            steps:
              - {{id: get, module: api.fetch, inputs: {{url: "{http_server.base}/n/{{{{ item * 10 }}}}"}}}}
            collect: "{{{{ steps.get.response.n }}}}"
        """,
    )
    assert output == [0, 10, 20, 30, 40, 50]


async def test_parallel_failure_fails_the_run(stack: Stack, http_server: HttpServer) -> None:
    with pytest.raises(WorkflowFailureError) as info:
        await run_yaml(
            stack,
            f"""
            steps:
              - id: both
                parallel:
                  slow: [{{id: s, module: api.fetch, inputs: {{url: "{http_server.base}/slow/3"}}}}]
                  bad: [{{id: b, module: api.fetch, inputs: {{url: "{http_server.base}/missing"}}}}]
            """,
        )
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "Http404"


async def test_call_runs_a_pinned_child_definition(stack: Stack) -> None:
    child = """
stepwise: 1
name: doubler
input: {type: object, properties: {n: {type: integer}}, required: [n]}
output: "{{ input.n * 2 }}"
steps: [{id: noop, module: transform.extract, inputs: {}}]
"""
    output = await run_yaml(
        stack,
        """
        output: "{{ state.doubled }}"
        steps:
          - {id: twice, call: doubler, input: {n: 21}, outputs_to_state: {doubled: output}}
        """,
        children={"doubler": child},
    )
    assert output == 42


async def test_status_query_and_search_attributes_after_completion(stack: Stack) -> None:
    prepared = Prepared(
        plan_of(
            """
            steps:
              - {id: a, module: transform.extract, inputs: {v: 1}, outputs_to_state: {v: v}}
              - {id: b, module: transform.extract, inputs: {v: 2}, if: "{{ false }}"}
            """
        )
    )
    handle = await start_run(stack.env.client, prepared, {}, stack.settings, owner="ada")
    await handle.result()
    status = await handle.query(STATUS_QUERY, result_type=RunStatus)
    assert (status.status, status.progress, status.done, status.pending) == ("completed", 100.0, 2, 0)
    assert [s.status for s in status.steps] == ["done", "skipped"]
    assert status.state_keys == ["v"]
    assert status.plan_hash == prepared.plan.content_hash()
    description = await handle.describe()
    attributes = {k.name: v for k, v in description.typed_search_attributes}
    # Engine generation 2: Temporal's own status says how a run ended (none of its own).
    assert "StepwiseStatus" not in attributes
    assert state_of(description) == "completed"
    assert attributes["StepwiseOwner"] == "ada"
    # The workflow type names the definition; no search attribute repeats it.
    assert description.workflow_type == "stepwise.run/test-definition"
    assert "StepwiseDefinition" not in attributes


async def test_a_failed_run_is_marked_failed(stack: Stack) -> None:
    handle = await start_run(
        stack.env.client,
        Prepared(plan_of("steps: [{id: bad, module: transform.concat_arrays, inputs: {arrays: '{{ 3 }}'}}]")),
        {},
        stack.settings,
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    description = await handle.describe()
    status = {k.name: v for k, v in description.typed_search_attributes}
    assert "StepwiseStatus" not in status
    assert state_of(description) == "failed"


async def test_signal_wait_receives_the_event_payload(stack: Stack) -> None:
    from workflows.engine.models import EVENT_SIGNAL, ExternalEvent

    handle = await start_run(
        stack.env.client,
        Prepared(
            plan_of(
                """
                output: "{{ steps.paid.payload }}"
                steps: [{id: paid, wait: {signal: payment_received, timeout: 1h}}]
                """
            )
        ),
        {},
        stack.settings,
    )
    await handle.signal(EVENT_SIGNAL, ExternalEvent(name="other", payload=1))
    await handle.signal(EVENT_SIGNAL, ExternalEvent(name="payment_received", payload={"amount": 12}))
    assert (await handle.result()).output == {"amount": 12}


async def test_cancelling_a_run_stops_its_for_each_and_activities(
    stack: Stack, http_server: HttpServer
) -> None:
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowExecutionStatus

    from tests.integration.eventually import assert_eventually

    handle = await start_run(
        stack.env.client,
        Prepared(
            plan_of(
                f"""
                steps:
                  - id: each
                    for_each: [1, 2, 3, 4, 5, 6]
                    max_concurrency: 2
                    steps: [{{id: slow, module: api.fetch, inputs: {{url: "{http_server.base}/slow/60"}}}}]
                """
            )
        ),
        {},
        stack.settings,
    )

    async def two_activities_running() -> None:
        description = await handle.describe()
        assert len(description.raw_description.pending_activities) == 2

    await assert_eventually(two_activities_running)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.CANCELED
    attributes = {k.name: v for k, v in description.typed_search_attributes}
    assert "StepwiseStatus" not in attributes
    assert state_of(description) == "cancelled"
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 2
    assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED) == 2


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "untyped"])
async def test_an_event_sent_with_the_start_is_kept(stack: Stack, typed: bool) -> None:
    """Signal-with-start puts the event in the run's first activation, before `run` begins:
    for a typed run (`stepwise.run/<definition>`) and one started as `stepwise.run`, as
    versions before typed runs started them."""
    from workflows.engine.models import (
        EVENT_SIGNAL,
        WORKFLOW_NAME,
        WORKFLOW_QUEUE,
        ExternalEvent,
        RunInput,
        RunOutput,
        run_type,
    )

    plan = plan_of(
        'output: "{{ steps.paid.payload }}"\nsteps: [{id: paid, wait: {signal: payment_received}}]'
    )
    handle = await stack.env.client.start_workflow(
        run_type(plan.name) if typed else WORKFLOW_NAME,
        RunInput(plan=plan, plan_hash=plan.content_hash(), queue_prefix=stack.settings.task_queue_prefix),
        id=f"early-event-{typed}-{stack.settings.task_queue_prefix}",
        task_queue=stack.settings.task_queue_prefix + WORKFLOW_QUEUE,
        result_type=RunOutput,
        start_signal=EVENT_SIGNAL,
        start_signal_args=[ExternalEvent(name="payment_received", payload="early")],
    )
    assert (await handle.result()).output == "early"


@pytest.mark.parametrize(
    ("workflow_type", "args", "says"),
    [
        ("invoices.nightly", [{}], "no workflow type 'invoices.nightly' on this queue"),
        ("stepwise.run/x", [{"plan": 3}], "its input is not a Stepwise run's input"),
        ("stepwise.run/x", [{"name": "x"}, {"plan_hash": "0"}], "its input is not a Stepwise run's input"),
        ("stepwise.run/x", [], "a Stepwise run takes a RunInput, or a plan and the rest of one, not 0"),
        (
            "stepwise.run/x",
            [{}, {}, {}],
            "a Stepwise run takes a RunInput, or a plan and the rest of one, not 3",
        ),
    ],
)
async def test_a_workflow_that_is_no_run_fails_and_says_why(
    stack: Stack, workflow_type: str, args: list[Any], says: str
) -> None:
    """The Stepwise queue takes any workflow type (typed runs are a dynamic workflow): another
    type, or a typed run with a wrong input, fails at once instead of retrying its task."""
    from workflows.engine.models import WORKFLOW_QUEUE

    handle = await stack.env.client.start_workflow(
        workflow_type,
        args=args,
        id=f"not-a-run-{uuid.uuid4().hex[:8]}",
        task_queue=stack.settings.task_queue_prefix + WORKFLOW_QUEUE,
    )
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result()
    assert isinstance(raised.value.cause, ApplicationError)
    assert raised.value.cause.type == "NotAStepwiseRun"
    assert says in raised.value.cause.message


PLAN_A = """
output: "{{ steps.a.v }}"
steps:
  - {id: a, module: transform.extract, inputs: {v: a}}
"""


@pytest.mark.parametrize(
    ("plan_json", "hash_of", "ends"),
    [
        # What start_run sends: the canonical JSON, whose hash is checked on its bytes.
        (lambda plan: plan.canonical_json(), PLAN_A, "a"),
        # Another client's JSON (indented, keys unsorted): checked on the decoded plan.
        (lambda plan: plan.model_dump_json(indent=2).encode(), PLAN_A, "a"),
        # A hash that is not the plan's, either way.
        (lambda plan: plan.canonical_json(), PLAN_A.replace("{v: a}", "{v: b}"), "PlanMismatch"),
        (lambda plan: plan.model_dump_json().encode(), PLAN_A.replace("{v: a}", "{v: b}"), "PlanMismatch"),
    ],
    ids=["canonical", "other-json", "canonical-wrong-hash", "other-json-wrong-hash"],
)
async def test_a_typed_runs_plan_is_checked_against_its_hash(
    stack: Stack, plan_json: Any, hash_of: str, ends: str
) -> None:
    """A typed run's first input is its plan's JSON: runs whose plan does not hash to the
    hash they carry fail, whether the JSON is the canonical one or not."""
    from temporalio.api.common.v1 import Payload
    from temporalio.common import RawValue

    from core.runs import JSON_PLAIN
    from workflows.engine.models import (
        ENGINE_GENERATION,
        WORKFLOW_QUEUE,
        RunInput,
        RunOutput,
        rest_of,
        run_type,
    )

    plan = plan_of(PLAN_A)
    rest = rest_of(RunInput(plan=plan, plan_hash=plan_of(hash_of).content_hash(), engine=ENGINE_GENERATION))
    handle = await stack.env.client.start_workflow(
        run_type(plan.name),
        args=[RawValue(Payload(metadata=JSON_PLAIN, data=plan_json(plan))), rest],
        id=f"hashed-{uuid.uuid4().hex[:8]}",
        task_queue=stack.settings.task_queue_prefix + WORKFLOW_QUEUE,
        result_type=RunOutput,
    )
    if ends == "PlanMismatch":
        with pytest.raises(WorkflowFailureError) as raised:
            await handle.result()
        assert isinstance(raised.value.cause, ApplicationError)
        assert raised.value.cause.type == "PlanMismatch"
    else:
        assert (await handle.result()).output == ends


async def test_cancelling_a_run_cancels_its_child_run(stack: Stack) -> None:
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError

    from tests.integration.eventually import assert_eventually

    child = "stepwise: 1\nname: waits-forever\nsteps: [{id: hold, wait: {signal: never}}]\n"
    prepared = Prepared(
        plan_of("steps: [{id: sub, call: waits-forever}]"), {"waits-forever": plan_of(child, header=False)}
    )
    handle = await start_run(stack.env.client, prepared, {}, stack.settings)
    child_handle = stack.env.client.get_workflow_handle(f"{handle.id}.sub.1")

    async def child_waiting() -> None:
        try:
            description = await child_handle.describe()
        except RPCError as exc:  # not started yet
            raise AssertionError(str(exc)) from exc
        attributes = {k.name: v for k, v in description.typed_search_attributes}
        assert attributes.get("StepwiseStatus") == "waiting"

    await assert_eventually(child_waiting)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    async def child_cancelled() -> None:
        assert (await child_handle.describe()).status == WorkflowExecutionStatus.CANCELED

    await assert_eventually(child_cancelled)


def test_per_queue_concurrency_overrides_the_default() -> None:
    from core.settings import Settings

    settings = Settings(worker_queue_concurrency={"llm": 2})
    assert settings.worker_queue_concurrency.get("llm", settings.worker_max_concurrent_activities) == 2
    assert (
        settings.worker_queue_concurrency.get("integrations", settings.worker_max_concurrent_activities)
        == 100
    )
