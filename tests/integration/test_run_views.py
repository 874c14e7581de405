"""Runs as people see them, on a real dev server: listings with filters and pages, one run in
detail, idempotent starts, cancel and terminate."""

from __future__ import annotations

import uuid

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core.interactions import respond
from core.run_views import BadPageToken, RunFilter, RunNotFound, get_run, list_runs
from core.runs import Prepared, RunEnded, cancel_run, start_run, terminate_run
from tests.helpers import plan_of
from tests.integration.conftest import HttpServer, Stack
from tests.integration.eventually import assert_eventually
from workflows.engine.human import Responder
from workflows.engine.models import ENGINE_GENERATION, WORKFLOW_NAME, WORKFLOW_QUEUE, RunInput, RunOutput
from workflows.engine.run import DEFINITION_KEY, OWNER_KEY
from workflows.plan import Plan


def named(name: str, body: str) -> Plan:
    return plan_of(f"stepwise: 1\nname: {name}\n{body}", header=False)


DONE = "output: '{{ input.n * 2 }}'\nsteps:\n  - {id: a, module: transform.extract, inputs: {n: 1}}\n"
HOLD = "output: '{{ steps.hold.confirmed }}'\nsteps:\n  - {id: hold, module: user.pause, inputs: {message: 'Go on?', assignees: [reviewers]}}\n"
BROKEN = "steps:\n  - {id: bad, module: transform.concat_arrays, inputs: {arrays: '{{ [1] }}'}}\n"


async def test_listings_filter_by_owner_state_definition_and_who_may_answer(stack: Stack) -> None:
    client, settings = stack.env.client, stack.settings
    tag = uuid.uuid4().hex[:8]
    ana, ben = f"ana-{tag}", f"ben-{tag}"
    done = await start_run(client, Prepared(named(f"done-{tag}", DONE)), {"n": 2}, settings, owner=ana)
    held = await start_run(client, Prepared(named(f"hold-{tag}", HOLD)), {}, settings, owner=ana, version=3)
    broken = await start_run(client, Prepared(named(f"broken-{tag}", BROKEN)), {}, settings, owner=ben)
    await done.result()

    async def listed() -> None:
        page = await list_runs(client, RunFilter(owner=ana))
        assert {(r.run_id, r.state) for r in page.items} == {(done.id, "completed"), (held.id, "waiting")}
        failed = await list_runs(client, RunFilter(owner=ben, state="failed"))
        assert [r.run_id for r in failed.items] == [broken.id]

    await assert_eventually(listed)
    (row,) = (await list_runs(client, RunFilter(definition=f"hold-{tag}"))).items
    assert (row.run_id, row.owner, row.version, row.awaiting) == (held.id, ana, 3, ["reviewers"])
    assert row.plan_hash is not None
    assert len(row.plan_hash) == 64
    reviewer = Responder(user=f"zed-{tag}", groups=["reviewers"])
    waiting = await list_runs(client, RunFilter(owner=ana, awaiting=reviewer))
    assert [r.run_id for r in waiting.items] == [held.id]
    stranger = Responder(user=f"yan-{tag}", groups=["others"])
    assert (await list_runs(client, RunFilter(owner=ana, awaiting=stranger))).items == []
    assert (await list_runs(client, RunFilter(owner=ana, state="running"))).items == []
    await terminate_run(client, held.id, "test over")


async def test_runs_typed_by_definition_and_runs_of_earlier_versions_list_alike(stack: Stack) -> None:
    """A run's workflow type names its definition (`stepwise.run/<name>`); runs that earlier
    versions started are `stepwise.run` with a StepwiseDefinition search attribute. Listings
    and details read both; a child run (`stepwise.run`, no definition) is in neither."""
    client, settings = stack.env.client, stack.settings
    tag = uuid.uuid4().hex[:8]
    owner, name = f"olga-{tag}", f"both-{tag}"
    child = named("child", DONE)
    plan = named(name, "steps:\n  - {id: sub, call: child, input: {n: 1}}\n")
    typed = await start_run(client, Prepared(plan, {"child": child}), {}, settings, owner=owner)
    earlier = await client.start_workflow(
        WORKFLOW_NAME,
        RunInput(
            plan=plan,
            plan_hash=plan.content_hash(),
            owner=owner,
            children={"child": child},
            queue_prefix=settings.task_queue_prefix,
            engine=ENGINE_GENERATION,
        ),
        id=f"{name}-earlier",
        task_queue=settings.task_queue_prefix + WORKFLOW_QUEUE,
        result_type=RunOutput,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(DEFINITION_KEY, name), SearchAttributePair(OWNER_KEY, owner)]
        ),
    )
    assert (await typed.result()).output == (await earlier.result()).output
    assert (await typed.describe()).workflow_type == f"stepwise.run/{name}"

    async def listed() -> None:
        for where in (RunFilter(owner=owner), RunFilter(definition=name)):
            rows = (await list_runs(client, where)).items
            assert {(r.run_id, r.definition, r.state) for r in rows} == {
                (typed.id, name, "completed"),
                (earlier.id, name, "completed"),
            }

    await assert_eventually(listed)
    assert (await list_runs(client, RunFilter(definition=f"both-{tag[:4]}"))).items == []
    assert (await get_run(client, earlier.id)).summary.definition == name
    with pytest.raises(RunNotFound):
        await get_run(client, f"{typed.id}.sub.1")


async def test_a_run_that_never_waited_lists_as_running(stack: Stack, http_server: HttpServer) -> None:
    """Runs of engine generation 2 start without StepwiseStatus: none still lists as running."""
    client, settings = stack.env.client, stack.settings
    owner = f"busy-{uuid.uuid4().hex[:8]}"
    slow = f"steps:\n  - {{id: slow, module: api.fetch, inputs: {{url: '{http_server.base}/slow/60'}}}}\n"
    handle = await start_run(client, Prepared(named("busy", slow)), {}, settings, owner=owner)
    description = await handle.describe()
    assert "StepwiseStatus" not in {k.name for k, _ in description.typed_search_attributes}

    async def listed_running() -> None:
        page = await list_runs(client, RunFilter(owner=owner, state="running"))
        assert [(r.run_id, r.state) for r in page.items] == [(handle.id, "running")]

    await assert_eventually(listed_running)
    assert (await list_runs(client, RunFilter(owner=owner, state="waiting"))).items == []
    await terminate_run(client, handle.id, "test over")


async def test_a_listing_comes_in_pages_newest_first(stack: Stack) -> None:
    client, settings = stack.env.client, stack.settings
    owner = f"pager-{uuid.uuid4().hex[:8]}"
    plan = named("pages", DONE)
    ids = []
    for n in range(3):
        handle = await start_run(client, Prepared(plan), {"n": n}, settings, owner=owner)
        await handle.result()
        ids.append(handle.id)

    async def all_three() -> None:
        assert len((await list_runs(client, RunFilter(owner=owner))).items) == 3

    await assert_eventually(all_three)
    first = await list_runs(client, RunFilter(owner=owner), page_size=2)
    assert first.next_page is not None
    second = await list_runs(client, RunFilter(owner=owner), page_size=2, page=first.next_page)
    assert second.next_page is None
    assert [r.run_id for r in [*first.items, *second.items]] == list(reversed(ids))
    with pytest.raises(BadPageToken):
        await list_runs(client, RunFilter(owner=owner), page="%%%not-base64")


async def test_a_run_in_detail_while_it_waits_after_it_ends_and_when_it_failed(stack: Stack) -> None:
    client, settings = stack.env.client, stack.settings
    tag = uuid.uuid4().hex[:8]
    held = await start_run(client, Prepared(named(f"hold-{tag}", HOLD)), {}, settings, owner="ana")

    async def waiting() -> None:
        detail = await get_run(client, held.id)
        assert detail.summary.state == "waiting"
        assert detail.progress is not None
        assert detail.progress.steps[0].id == "hold"

    await assert_eventually(waiting)
    with pytest.raises(RunNotFound):
        await get_run(client, held.id, owner="ben")
    progress = (await get_run(client, held.id)).progress
    assert progress is not None
    assert [s.status for s in progress.steps] == ["running"]
    await respond(client, held.id, "hold-1", {}, Responder(user="x", groups=["reviewers"]))
    await held.result()
    detail = await get_run(client, held.id, owner="ana")
    assert (detail.summary.state, detail.output) == ("completed", True)
    broken = await start_run(client, Prepared(named(f"broken-{tag}", BROKEN)), {}, settings, owner="ana")

    async def failed() -> None:
        detail = await get_run(client, broken.id)
        assert detail.summary.state == "failed"
        assert detail.error is not None
        assert "step 'bad' failed" in detail.error["message"]

    await assert_eventually(failed)
    with pytest.raises(RunNotFound):
        await get_run(client, f"no-such-run-{tag}")


async def test_the_same_idempotency_key_starts_one_run(stack: Stack) -> None:
    client, settings = stack.env.client, stack.settings
    plan = named("keyed", DONE)
    key = f"key-{uuid.uuid4().hex}"
    first = await start_run(client, Prepared(plan), {"n": 1}, settings, owner="ana", idempotency_key=key)
    again = await start_run(client, Prepared(plan), {"n": 1}, settings, owner="ana", idempotency_key=key)
    assert again.id == first.id
    assert (await first.result()).output == 2
    after = await start_run(client, Prepared(plan), {"n": 1}, settings, owner="ana", idempotency_key=key)
    assert after.id == first.id
    other = await start_run(client, Prepared(plan), {"n": 1}, settings, owner="ben", idempotency_key=key)
    assert other.id != first.id
    await other.result()


async def test_cancel_and_terminate_and_what_an_ended_run_says(stack: Stack) -> None:
    client, settings = stack.env.client, stack.settings
    plan = named("held", HOLD)
    one = await start_run(client, Prepared(plan), {}, settings, owner="ana")
    two = await start_run(client, Prepared(plan), {}, settings, owner="ana")
    await cancel_run(client, one.id)
    await terminate_run(client, two.id, "operator stopped it")

    async def ended() -> None:
        assert (await get_run(client, one.id)).summary.state == "cancelled"
        assert (await get_run(client, two.id)).summary.state == "terminated"

    await assert_eventually(ended)
    with pytest.raises(RunEnded):
        await terminate_run(client, two.id, "again")
