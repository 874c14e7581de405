"""RunWorkflow and TypedRunWorkflow: interpret a pinned plan on Temporal.

Pure steps and templates run here; modules with I/O run as activities on their task queue;
`call` is a child workflow; `wait` is a durable timer or an external event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.exceptions import TimeoutError as ActivityTimeoutError
from temporalio.workflow import ActivityCancellationType

from workflows import plan as p
from workflows.durations import parse_duration_ms
from workflows.engine.human import (
    InteractionRequest,
    InvalidAnswer,
    RespondInput,
    RespondResult,
    Vote,
    answer_outputs,
    approved_data,
    awaiting,
    cast_vote,
    check_vote,
    default_outputs,
    may_answer,
    request_for,
    tally,
)
from workflows.engine.journal import JOURNAL_MEMO, JOURNAL_PATCH, Journal
from workflows.engine.llm import LLM_MODULE, LlmContext, routed_llm
from workflows.engine.models import (
    ENGINE_GENERATION,
    EVENT_SIGNAL,
    EVENT_UPDATE,
    INBOX_MEMO,
    INBOX_MEMO_PATCH,
    INTERACTIONS_QUERY,
    LLM_ROUTES_PATCH,
    ONE_UPSERT_PATCH,
    REMIND_ACTIVITY,
    RESPOND_UPDATE,
    STATUS_QUERY,
    WORKFLOW_NAME,
    YIELD_ACTIVITY,
    EventReceipt,
    ExternalEvent,
    LlmTarget,
    ModuleCall,
    ModuleResult,
    Reminder,
    RunInput,
    RunOutput,
    RunStatus,
    RunStatusName,
    StepStatus,
    definition_of,
    run_type,
)
from workflows.engine.registry import current_registry
from workflows.engine.reuse import Reuse
from workflows.engine.scheduled import scheduled_input
from workflows.interpreter import ContinueAsNewRequested, Interpreter, Path, RunInfo, StepError
from workflows.typecheck import isinstance

STATUS_KEY = SearchAttributeKey.for_keyword("StepwiseStatus")
DEFINITION_KEY = SearchAttributeKey.for_keyword("StepwiseDefinition")
OWNER_KEY = SearchAttributeKey.for_keyword("StepwiseOwner")
AWAITING_KEY = SearchAttributeKey.for_keyword_list("StepwiseAwaiting")


class _Run:
    """One Stepwise run: what RunWorkflow and TypedRunWorkflow share (all but how their input
    arrives)."""

    def _begin(self, run: RunInput, hash_checked: bool = False) -> None:
        """Called from the workflow's init, not its run(): handlers of the first activation run
        before run() starts. `hash_checked`: the plan is known to match its hash."""
        self._run = run
        self._hash_checked = hash_checked
        self._llm_spent = run.llm_spent.model_copy()
        self._event_names = _signal_names(run.plan)
        self._interactions: dict[str, InteractionRequest] = {}
        self._human_inputs: dict[str, tuple[str, dict[str, Any]]] = {}
        self._answers: dict[str, RespondResult] = {}
        self._votes: dict[str, list[Vote]] = {}
        self._opened = 0
        self._interpreter: Interpreter | None = None
        self._status: RunStatusName = "running"
        # What StepwiseAwaiting and the inbox memo show now, and whether a change waits to be shown.
        self._shown_awaiting: list[str] = []
        self._shown_inbox: list[dict[str, Any]] = []
        self._unshown = False
        # The status to show with them (the run went on after an answer, say).
        self._pending_status: RunStatusName | None = None
        self._events: list[ExternalEvent] = []
        # How many wait steps wait for each event name right now.
        self._listening: dict[str, int] = {}
        self._waits = 0
        self._children = 0
        # Local steps running now (see _journal_due).
        self._locals = 0
        # The run has its result: the task that shows deferred changes ends instead of waiting
        # to be cancelled when the worker evicts the run (a cancellation leaves an exception and
        # its traceback for the garbage collector, in every run).
        self._ended = False
        # The task that shows deferred changes (_show_what_no_step_showed), once started.
        self._shower: asyncio.Task[None] | None = None
        # Set in run() for runs that keep a journal (histories from before JOURNAL_PATCH do not).
        self._journal: Journal | None = None
        # A rerun's recorded api.llm results (nothing for other runs).
        self._reuse = Reuse(run.rerun)

    async def _execute(self, run: RunInput) -> RunOutput:
        if not self._hash_checked and run.plan.content_hash() != run.plan_hash:
            raise ApplicationError(
                "the plan does not match its hash", type="PlanMismatch", non_retryable=True
            )
        info = workflow.info()
        if run.scheduled is not None:
            run = run.model_copy(update={"input": scheduled_input(run, info), "scheduled": None})
        started_at = run.started_at or info.start_time.isoformat()
        run_info = RunInfo(info.workflow_id, run.plan_hash, started_at)
        # Signals in the first activation are handled before this method starts: keep them.
        self._events = [*run.pending_events, *self._events]
        self._children = run.children_started
        if self._patched(JOURNAL_PATCH):
            self._journal = Journal()
        interpreter = Interpreter(
            run.plan,
            current_registry(),
            _Executor(self),
            run.input,
            run_info,
            run.resume,
            notes=self if self._journal is not None else None,
            inline=run.engine >= 3,
        )
        self._interpreter = interpreter
        if run.engine < 3:
            self._start_shower()
        try:
            output = await interpreter.run()
        except ContinueAsNewRequested as request:
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._flush()
            workflow.continue_as_new(
                run.model_copy(
                    update={
                        "resume": request.resume,
                        "started_at": started_at,
                        "pending_events": self._events,
                        "children_started": self._children,
                        "continued": run.continued + 1,
                        "llm_spent": self._llm_spent,
                        "rerun": self._reuse.remaining(),
                    }
                )
            )
        except StepError as exc:
            self._close("failed")
            raise ApplicationError(
                f"step '{exc.step_id}' failed: {exc.message}",
                {"step": exc.step_id, "type": exc.error_type},
                type=exc.error_type,
                non_retryable=True,
            ) from exc
        except asyncio.CancelledError:
            self._close("cancelled")
            raise
        if run.engine < 3 or not workflow.all_handlers_finished():
            await workflow.wait_condition(workflow.all_handlers_finished)
        self._ended = True
        if run.engine < 1 or self._unshown:
            self._close("completed")
            return RunOutput(output=output)
        # The last journal entries travel in the result: one memo upsert less per run.
        if run.engine < 2:
            self._set_status("completed")
        self._status = "completed"
        journal = self._journal.take() if self._journal is not None and self._journal.pending else None
        return RunOutput(output=output, journal=journal)

    def _patched(self, patch: str) -> bool:
        """`workflow.patched(patch)`, except that runs of engine generation 1 and later have
        every patch there was when it began, with no marker (see ENGINE_GENERATION)."""
        return self._run.engine >= 1 or workflow.patched(patch)

    @workflow.signal(name=EVENT_SIGNAL)
    def event(self, event: ExternalEvent) -> None:
        """An external event for `wait: {signal: ...}` steps; kept until a step takes it."""
        self._events.append(event)

    @workflow.update(name=EVENT_UPDATE)
    def send_event(self, event: ExternalEvent) -> EventReceipt:
        """An external event, validated; kept until a `wait: {signal: NAME}` step takes it."""
        waited_for = self._listening.get(event.name, 0) > 0
        self._events.append(event)
        return EventReceipt(name=event.name, received_at=workflow.now().isoformat(), waited_for=waited_for)

    @send_event.validator
    def _check_event(self, event: ExternalEvent) -> None:
        if event.name not in self._event_names:
            expected = ", ".join(sorted(self._event_names)) or "none: it has no wait: {signal: ...} step"
            raise ValueError(f"this run waits for no event named '{event.name}'; it waits for {expected}")

    @workflow.update(name=RESPOND_UPDATE)
    async def respond(self, answer: RespondInput) -> RespondResult:
        """Answer an open human step; the validator has already refused bad answers."""
        request = self._interactions[answer.interaction_id]
        module, inputs = self._human_inputs[answer.interaction_id]
        outputs = answer_outputs(module, inputs, answer.data, answer.responder.user)
        decided = True
        if module == "user.approve":
            votes = self._votes.setdefault(request.id, [])
            vote = cast_vote(votes, answer.responder.user, outputs)
            outcome = tally(inputs, votes)
            decided = outcome is not None
            approvals = sum(1 for v in votes if v.version == vote.version)
            # Later approvers see (and approve) the data as edited so far.
            request.data = approved_data(inputs, votes)[0]
            outputs = outcome or {
                "approvals": approvals,
                "quorum": int(inputs.get("quorum") or 1),
                "data": request.data,
            }
            request.constraints["approvals"] = approvals
            self._show_interactions(now=not decided)
        result = RespondResult(
            interaction_id=request.id,
            step_id=request.step_id,
            outputs=outputs,
            answered_by=answer.responder.user,
            answered_at=workflow.now().isoformat(),
            decided=decided,
        )
        if decided:
            self._interactions.pop(request.id)
            self._human_inputs.pop(request.id)
            self._votes.pop(request.id, None)
            self._answers[request.id] = result
            # The step's wait wakes in this activation and shows the change with the status.
            self._show_interactions(now=False)
        return result

    @respond.validator
    def _check_answer(self, answer: RespondInput) -> None:
        request = self._interactions.get(answer.interaction_id)
        if request is None:
            open_ids = ", ".join(sorted(self._interactions)) or "none"
            raise ValueError(
                f"interaction '{answer.interaction_id}' is not open (answered already, or no such step); "
                f"open now: {open_ids}"
            )
        if not may_answer(request, answer.responder):
            raise ValueError(
                f"{answer.responder.user} may not answer '{request.id}'; "
                f"it is for {', '.join(request.assignees)}"
            )
        module, inputs = self._human_inputs[answer.interaction_id]
        try:
            answer_outputs(module, inputs, answer.data, answer.responder.user)
            if module == "user.approve":
                check_vote(inputs, self._run.owner, self._votes.get(request.id, []), answer.responder)
        except InvalidAnswer as exc:
            raise ValueError(f"answer to '{request.id}' refused: {exc}") from exc

    @workflow.query(name=INTERACTIONS_QUERY)
    def interactions(self) -> list[InteractionRequest]:
        """The human steps waiting for an answer now."""
        return list(self._interactions.values())

    def step(
        self,
        change: str,
        node: p.PlanNode,
        path: Path,
        outputs: dict[str, Any] | None = None,
        error: StepError | None = None,
    ) -> None:
        """A step change that history shows no other way: into the journal (see journal.py)."""
        assert self._journal is not None
        module = node.module if isinstance(node, p.ModuleNode) else None
        failure = (error.error_type, error.message) if error else None
        if self._journal.note(change, node.id, path, node.kind, module, outputs, failure):
            self._write_journal()

    def reused(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path) -> dict[str, Any] | None:
        """A rerun: the outputs the earlier run recorded for this step here with these inputs,
        noted in the journal as reused; None when the step must run."""
        outputs = self._reuse.take(node.id, path, inputs)
        if outputs is None:
            return None
        if self._journal is not None:
            for change, noted in (("start", None), ("done", outputs)):
                kind, run_id = node.kind, self._reuse.run_id
                if self._journal.note(change, node.id, path, kind, node.module, noted, reused=run_id):
                    self._write_journal()
        return outputs

    def _write_journal(self, memo: dict[str, Any] | None = None) -> None:
        """Upsert `memo` (if any) with the journal's pending entries, in one command."""
        fields = dict(memo or {})
        if self._journal is not None and self._journal.pending:
            fields[JOURNAL_MEMO] = self._journal.take()
        if fields:
            workflow.upsert_memo(fields)

    def open_interaction(self, node: p.ModuleNode, inputs: dict[str, Any]) -> str:
        self._opened += 1
        interaction_id = f"{node.id}-{self._opened}"
        request = request_for(node.module, inputs, interaction_id, node.id, workflow.now().isoformat())
        if node.rewind_to is not None:
            # Where a retry (user.select) or a jump back (user.text_input) returns to.
            request.constraints["goes_back_to"] = node.rewind_to
        self._interactions[interaction_id] = request
        self._human_inputs[interaction_id] = (node.module, inputs)
        # The step waits next, which shows it together with the status.
        self._show_interactions(now=False)
        return interaction_id

    def escalate(self, interaction_id: str, group: str) -> None:
        """After a missed deadline, let `group` answer too."""
        request = self._interactions[interaction_id]
        if request.assignees and group not in request.assignees:
            request.assignees.append(group)
        self._show_interactions(now=True)

    def close_interaction(self, interaction_id: str) -> None:
        self._interactions.pop(interaction_id, None)
        self._human_inputs.pop(interaction_id, None)
        self._votes.pop(interaction_id, None)
        self._show_interactions(now=True)

    def _show_interactions(self, now: bool) -> None:
        """The open interactions changed: show who may answer now, or when the run next blocks
        on something (`_flush`), together with its status."""
        if not self._patched(ONE_UPSERT_PATCH):
            self._set_awaiting()
        elif now:
            self._publish(None)
        else:
            self._unshown = True

    def _publish(self, status: RunStatusName | None) -> None:
        """One upsert of what changed in StepwiseStatus and StepwiseAwaiting, and the inbox memo
        if its summaries changed."""
        self._unshown = False
        self._pending_status = None
        updates: list[Any] = []
        if status is not None and status != self._status:
            self._status = status
            updates.append(STATUS_KEY.value_set(status))
        names = awaiting(list(self._interactions.values()))
        if names != self._shown_awaiting:
            self._shown_awaiting = names
            updates.append(AWAITING_KEY.value_set(names) if names else AWAITING_KEY.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)
        summaries = [r.summary().model_dump(mode="json") for r in self._interactions.values()]
        memo: dict[str, Any] = {}
        if summaries != self._shown_inbox:
            self._shown_inbox = summaries
            memo[INBOX_MEMO] = summaries or None
        self._write_journal(memo)

    def _start_shower(self) -> None:
        """Start the task that shows deferred changes: at the start of a run before engine
        generation 3; from generation 3 on, when the run first blocks (`_flush`). Until then
        the run has not yielded, so nothing could show a change before it blocks or ends: a
        run that never blocks (pure steps only) needs no such task."""
        if self._shower is None:
            # Kept so the task is not collected while it waits; it ends with the run.
            self._shower = asyncio.create_task(self._show_what_no_step_showed(), name="show interactions")

    async def _show_what_no_step_showed(self) -> None:
        """A deferred change is normally shown when the step that answered goes on and blocks
        (`_flush`); when nothing does in this activation (its branch ended while another waits),
        show it here, after letting the woken steps run first."""
        while True:
            await workflow.wait_condition(lambda: self._unshown or self._journal_due() or self._ended)
            if self._ended:
                return  # what the run still shows goes with its result or its last flush
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)
            if self._unshown or self._journal_due():
                self._flush()

    def _journal_due(self) -> bool:
        """Journal entries wait to be written. From engine generation 2 on, not while a local
        step runs: it runs within the same workflow task, whose commands all reach history
        together, so the run writes once when it next blocks (`_flush`) or ends (the result)
        instead of once per local step."""
        if self._journal is None or not self._journal.pending:
            return False
        return self._run.engine < 2 or self._locals == 0

    def _flush(self, status: RunStatusName | None = None) -> None:
        """Before the run blocks (or ends): show deferred changes, and `status` if given."""
        if self._unshown:
            self._publish(status or self._pending_status)
            return
        if status is not None:
            self._set_status(status)
        self._write_journal()

    def _blocks(self, status: RunStatusName | None = None) -> None:
        """The run is about to block (on an activity, a child run, a timer, an answer...):
        show what is deferred (`_flush`), and from now on let the shower show what steps
        that end while it waits leave unshown."""
        self._start_shower()
        self._flush(status)

    def _close(self, status: RunStatusName) -> None:
        """The run ends as `status`: show what is deferred. From engine generation 2 on,
        StepwiseStatus is left as it is (a closed run's ExecutionStatus says how it ended)."""
        if self._run.engine < 2:
            self._flush(status)
            return
        self._flush()
        self._status = status

    def _set_awaiting(self) -> None:
        """Histories from before ONE_UPSERT_PATCH: each change of who may answer on its own."""
        names = awaiting(list(self._interactions.values()))
        update = AWAITING_KEY.value_set(names) if names else AWAITING_KEY.value_unset()
        workflow.upsert_search_attributes([update])
        if self._patched(INBOX_MEMO_PATCH):
            summaries = [r.summary().model_dump(mode="json") for r in self._interactions.values()]
            workflow.upsert_memo({INBOX_MEMO: summaries or None})

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> RunStatus:
        """Steps done, running and pending, progress, state keys and the pinned plan."""
        progress = self._interpreter.progress if self._interpreter else {}
        ids = list(dict.fromkeys(node.id for node in p.iter_nodes(self._run.plan.body)))
        steps = [StepStatus.model_validate({"id": i, "status": progress.get(i, "pending")}) for i in ids]
        finished = sum(1 for s in steps if s.status in ("done", "skipped"))
        state = self._interpreter.state if self._interpreter else self._run.plan.state
        return RunStatus(
            status=self._status,
            definition=self._run.plan.name,
            plan_hash=self._run.plan_hash,
            steps=steps,
            done=finished,
            running=sum(1 for s in steps if s.status == "running"),
            pending=sum(1 for s in steps if s.status == "pending"),
            progress=round(100.0 * finished / len(steps), 1) if steps else 100.0,
            state_keys=sorted(state),
            continued=self._run.continued,
        )

    def _set_status(self, status: RunStatusName) -> None:
        self._status = status
        workflow.upsert_search_attributes([STATUS_KEY.value_set(status)])

    @property
    def queue_prefix(self) -> str:
        return self._run.queue_prefix

    def llm_context(self) -> LlmContext:
        run = self._run
        return LlmContext(run.queue_prefix, run.plan.name, run.owner, run.plan.budget, self._llm_spent)

    def take_event(self, name: str) -> ExternalEvent | None:
        for index, event in enumerate(self._events):
            if event.name == name:
                return self._events.pop(index)
        return None

    async def waiting(self, waiter: Any) -> Any:
        """Await something long, showing the run as waiting meanwhile."""
        self._waits += 1
        self._blocks("waiting" if self._waits == 1 else None)
        evicted = False
        try:
            return await waiter
        except GeneratorExit:
            evicted = True  # the worker drops this run from its cache: issue no commands
            raise
        finally:
            self._waits -= 1
            ending: RunStatusName | None = (
                "running" if self._waits == 0 and self._status == "waiting" else None
            )
            if not evicted and self._unshown:
                # Shown by the next _flush, in the same workflow task.
                self._pending_status = ending or self._pending_status
            elif not evicted and ending is not None:
                self._set_status(ending)

    def next_child_id(self, step_id: str) -> str:
        self._children += 1
        return f"{workflow.info().workflow_id}.{step_id}.{self._children}"


@workflow.defn(name=WORKFLOW_NAME)
class RunWorkflow(_Run):
    """A run started as `stepwise.run`: child runs (`call`), and the top-level runs that
    versions before typed runs started."""

    @workflow.init
    def __init__(self, run: RunInput) -> None:
        self._begin(run)

    @workflow.run
    async def run(self, run: RunInput) -> RunOutput:
        return await self._execute(run)


@workflow.defn(dynamic=True)
class TypedRunWorkflow(_Run):
    """A top-level run, started as `stepwise.run/<definition>` (models.run_type): its workflow
    type says its definition, so listings by definition need no search attribute, which would
    cost the server a visibility write at every start (docs/fast-path.md)."""

    @workflow.init
    def __init__(self, args: Sequence[RawValue]) -> None:
        arrived = _typed_input(workflow.info().workflow_type, args)
        self._refused: str | None = None
        if isinstance(arrived, str):
            self._refused = arrived
        else:
            self._begin(*arrived)

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> RunOutput:
        if self._refused is not None:
            raise ApplicationError(self._refused, type="NotAStepwiseRun", non_retryable=True)
        return await self._execute(self._run)


# What a workflow worker on the Stepwise queue registers.
RUN_WORKFLOWS = (RunWorkflow, TypedRunWorkflow)


def input_of(instance: object) -> RunInput | None:
    """The input a run's workflow instance started with (None for another workflow, or for a
    typed one refused at its start); for interceptors, which see a typed run's raw input."""
    run = getattr(instance, "_run", None) if isinstance(instance, _Run) else None
    return run if isinstance(run, RunInput) else None


def _typed_input(workflow_type: str, args: Sequence[RawValue]) -> tuple[RunInput, bool] | str:
    """A typed run's input, and whether its plan came as the JSON its hash is of (models.
    rest_of); or, for a workflow that reached the Stepwise queue under another type or with
    another input, why it is no run of ours (it then fails, not retries)."""
    if definition_of(workflow_type) is None:
        return (
            f"no workflow type '{workflow_type}' on this queue: Stepwise runs are "
            f"'{WORKFLOW_NAME}' or '{run_type('<definition>')}'"
        )
    if len(args) not in (1, 2):
        return f"a Stepwise run takes a RunInput, or a plan and the rest of one, not {len(args)} inputs"
    try:
        if len(args) == 1:  # started by a version before typed runs had two inputs
            return workflow.payload_converter().from_payload(args[0].payload, RunInput), False
        plan_json, rest = (arg.payload.data for arg in args)
        # Read as plain JSON: the converter would build a pydantic schema for `dict` each time.
        fields = json.loads(rest)
        if not isinstance(fields, dict):
            raise ValueError(f"the rest of a RunInput is a JSON object, not {type(fields).__name__}")
        plan, plan_hash = p.read_canonical(plan_json)
        run = RunInput.model_validate({**fields, "plan": plan})
    except ValueError as exc:
        return f"its input is not a Stepwise run's input: {exc}"
    # The plan's canonical JSON hashes to its hash: no need to work that JSON out again.
    return run, plan_hash == run.plan_hash


# Pure nodes run back to back in one activation; after this many, a no-op local activity ends
# it, so the SDK's deadlock detector (2 s without yielding) never trips on long pure work.
# Changing it changes the commands of runs in flight: do it behind `workflow.patched`.
PURE_NODES_PER_TASK = 200
# Event-loop turns the woken steps get to block (and show a deferred change with their status)
# before the run shows it on its own. What is shown does not depend on it, but how many upserts
# are made does: like PURE_NODES_PER_TASK, change it only behind `workflow.patched`.
SETTLE_TURNS = 10
# How long a `local` step may take as a local activity, retries included, before it runs again
# as a regular activity on its queue (unless its own timeout is shorter: then that is its limit).
# Light work takes milliseconds; a local activity holds its workflow task while it runs.
LOCAL_LIMIT_MS = 5_000


class _Executor:
    """Runs activities, child workflows and waits for the interpreter."""

    def __init__(self, owner: _Run) -> None:
        self.owner = owner
        self.since_yield = 0
        # Asked at every step: its methods read the current activation's figures.
        self.info = workflow.info()

    def should_continue_as_new(self) -> bool:
        limit = self.owner._run.continue_as_new_after
        info = self.info
        return info.get_current_history_length() >= limit or info.is_continue_as_new_suggested()

    async def pace(self) -> None:
        self.since_yield += 1
        if self.since_yield >= PURE_NODES_PER_TASK:
            self.since_yield = 0
            self.owner._blocks()
            await workflow.execute_local_activity(
                YIELD_ACTIVITY,
                start_to_close_timeout=timedelta(seconds=10),
                summary="yield after long pure work",
            )

    def reused(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path) -> dict[str, Any] | None:
        return self.owner.reused(node, inputs, path)

    async def module(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path = ()) -> dict[str, Any]:
        if node.runs == "human":
            return await self.human(node, inputs)
        if node.queue is None:
            raise StepError(node.id, "NotAvailable", f"{node.module} has no task queue")
        if node.module == LLM_MODULE and self.owner._patched(LLM_ROUTES_PATCH):
            return await routed_llm(self, node, inputs, path, self.owner.llm_context())
        return await self.activity(node, inputs, path, node.queue)

    async def activity(
        self,
        node: p.ModuleNode,
        inputs: dict[str, Any],
        path: Path,
        queue: str,
        schedule_to_start: timedelta | None = None,
        target: LlmTarget | None = None,
    ) -> dict[str, Any]:
        """Run the step's module as an activity on `queue` (the run's prefix is added)."""
        call = ModuleCall(
            run_id=workflow.info().workflow_id,
            step_id=node.id,
            module=node.module,
            inputs=inputs,
            path=list(path),
            target=target,
        )
        retry = node.retry or p.RetryPolicy()
        if node.local and target is None:
            # Not a block: a local activity ends within this workflow task (light work does).
            outputs = await self.local(node, call, retry)
            if outputs is not None:
                return outputs
            call = call.model_copy(update={"fallback": True})
        self.owner._blocks()
        try:
            result: ModuleResult = await workflow.execute_activity(
                f"module:{node.module}",
                call,
                task_queue=self.owner.queue_prefix + queue,
                result_type=ModuleResult,
                start_to_close_timeout=timedelta(milliseconds=node.timeout_ms or p.DEFAULT_TIMEOUT_MS),
                schedule_to_start_timeout=schedule_to_start,
                heartbeat_timeout=timedelta(milliseconds=node.heartbeat_ms) if node.heartbeat_ms else None,
                # A heartbeating activity hears of a cancellation: wait until it has stopped.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                if node.heartbeat_ms
                else ActivityCancellationType.TRY_CANCEL,
                retry_policy=_retry_policy(retry),
                summary=f"{node.id} ({node.module})",
            )
        except ActivityError as exc:
            raise step_error(node.id, exc) from exc
        finally:
            self.since_yield = 0
        return result.outputs

    async def local(
        self, node: p.ModuleNode, call: ModuleCall, retry: p.RetryPolicy
    ) -> dict[str, Any] | None:
        """Run a `local` step as a local activity in this worker; None when it ran out of
        LOCAL_LIMIT_MS (the step then runs as a regular activity: docs/fast-path.md)."""
        own_ms = node.timeout_ms or p.DEFAULT_TIMEOUT_MS
        limited = own_ms > LOCAL_LIMIT_MS
        self.owner._locals += 1
        try:
            result: ModuleResult = await workflow.execute_local_activity(
                f"module:{node.module}",
                call,
                result_type=ModuleResult,
                # Limited: attempts and their retries together get LOCAL_LIMIT_MS (an attempt as
                # long: past it the work is not light). Else each attempt gets the step's timeout.
                start_to_close_timeout=None if limited else timedelta(milliseconds=own_ms),
                schedule_to_close_timeout=timedelta(milliseconds=LOCAL_LIMIT_MS) if limited else None,
                retry_policy=_retry_policy(retry),
            )
        except (ActivityError, ApplicationError, ActivityTimeoutError) as exc:
            # A failed local activity raises its failure itself, or wrapped as a regular one's is.
            failure = exc.cause if isinstance(exc, ActivityError) and exc.cause is not None else exc
            if limited and isinstance(failure, ActivityTimeoutError):
                return None
            # Its failure is in a marker, not in activity events: the journal says it.
            error = (
                step_error(node.id, exc) if isinstance(exc, ActivityError) else _step_failure(node.id, exc)
            )
            error.in_history = False
            raise error from exc
        finally:
            self.since_yield = 0
            self.owner._locals -= 1
        return result.outputs

    async def human(self, node: p.ModuleNode, inputs: dict[str, Any]) -> dict[str, Any]:
        """Open an interaction and wait, durably, for its accepted answer or its deadline."""
        interaction_id = self.owner.open_interaction(node, inputs)
        answers = self.owner._answers
        deadline = inputs.get("deadline")
        on_timeout = inputs.get("on_timeout") or "fail"
        escalated = False
        self.since_yield = 0
        while True:
            limit = timedelta(milliseconds=parse_duration_ms(deadline)) if deadline else None
            if await self.owner.waiting(self._answer_or_deadline(node, interaction_id, limit, inputs)):
                return answers.pop(interaction_id).outputs
            if isinstance(on_timeout, dict) and not escalated:
                escalated = True
                self.owner.escalate(interaction_id, str(on_timeout.get("escalate")))
                continue
            self.owner.close_interaction(interaction_id)
            if on_timeout == "default":
                return default_outputs(node.module, inputs)
            if on_timeout == "skip":
                return {}
            raise StepError(node.id, "DeadlineExceeded", f"no answer within {deadline}")

    async def _answer_or_deadline(
        self, node: p.ModuleNode, interaction_id: str, limit: timedelta | None, inputs: dict[str, Any]
    ) -> bool:
        """True once answered; False when `limit` passes first. Reminds every `remind_every`."""
        answers = self.owner._answers
        remind = inputs.get("remind_every")
        every = timedelta(milliseconds=parse_duration_ms(remind)) if remind else None
        end = workflow.now() + limit if limit else None
        while True:
            left = end - workflow.now() if end else None
            wait = min((t for t in (left, every) if t is not None), default=None)
            try:
                await workflow.wait_condition(
                    lambda: interaction_id in answers,
                    timeout=wait,
                    timeout_summary=f"{node.id}: deadline or reminder",
                )
                return True
            except TimeoutError:
                if end is not None and workflow.now() >= end:
                    return False
                await workflow.execute_local_activity(
                    REMIND_ACTIVITY,
                    Reminder(
                        run_id=workflow.info().workflow_id, interaction_id=interaction_id, step_id=node.id
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    summary=f"reminder: {node.id}",
                )

    async def call(self, node: p.CallNode, run_input: Any) -> Any:
        run = self.owner._run
        key = node.definition + (f"@{node.version}" if node.version else "")
        child_plan = run.children.get(key)
        if child_plan is None:
            raise StepError(
                node.id, "DefinitionNotFound", f"definition '{key}' was not pinned when the run started"
            )
        child = RunInput(
            plan=child_plan,
            plan_hash=child_plan.content_hash(),
            input=run_input,
            owner=run.owner,
            children=run.children,
            queue_prefix=run.queue_prefix,
            engine=ENGINE_GENERATION,
        )
        self.owner._blocks()
        try:
            result: RunOutput = await workflow.execute_child_workflow(
                WORKFLOW_NAME,
                child,
                id=self.owner.next_child_id(node.id),
                task_queue=workflow.info().task_queue,
                result_type=RunOutput,
                static_summary=f"{node.id}: call {key}",
            )
        except ChildWorkflowError as exc:
            raise step_error(node.id, exc) from exc
        return result.output

    async def wait(self, node: p.WaitNode, duration: Any, until: Any) -> Any:
        if node.signal is not None:
            signal = node.signal
            timeout = timedelta(milliseconds=node.timeout_ms) if node.timeout_ms else None
            listening = self.owner._listening
            listening[signal] = listening.get(signal, 0) + 1
            try:
                await self.owner.waiting(
                    workflow.wait_condition(
                        lambda: any(e.name == signal for e in self.owner._events),
                        timeout=timeout,
                        timeout_summary=f"{node.id}: timeout waiting for {signal}",
                    )
                )
            except TimeoutError as exc:
                raise StepError(node.id, "WaitTimeout", f"no '{signal}' event within the timeout") from exc
            finally:
                listening[signal] -= 1
            event = self.owner.take_event(signal)
            return event.payload if event else None
        delay = _delay(node, duration, until)
        if delay > timedelta(0):
            await self.owner.waiting(workflow.sleep(delay, summary=f"{node.id}: wait"))
        return None


def _retry_policy(retry: p.RetryPolicy) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(milliseconds=retry.initial_interval_ms),
        backoff_coefficient=retry.backoff,
        maximum_interval=timedelta(milliseconds=retry.max_interval_ms),
        maximum_attempts=retry.max_attempts,
        non_retryable_error_types=retry.non_retryable_errors,
    )


def _signal_names(plan: p.Plan) -> set[str]:
    return {n.signal for n in p.iter_nodes(plan.body) if isinstance(n, p.WaitNode) and n.signal}


def _delay(node: p.WaitNode, duration: Any, until: Any) -> timedelta:
    if duration is not None:
        try:
            return timedelta(milliseconds=parse_duration_ms(str(duration)))
        except ValueError as exc:
            raise StepError(node.id, "InvalidInput", str(exc)) from exc
    try:
        target = datetime.fromisoformat(str(until))
    except ValueError as exc:
        raise StepError(node.id, "InvalidInput", f"'{until}' is not an ISO 8601 time") from exc
    if target.tzinfo is None:
        target = target.replace(tzinfo=UTC)
    return target - workflow.now()


def _step_failure(step_id: str, exc: ApplicationError | ActivityTimeoutError) -> StepError:
    if isinstance(exc, ApplicationError):
        return StepError(step_id, exc.type or "ApplicationError", exc.message)
    kind = exc.type.name if exc.type else "timeout"
    return StepError(step_id, "Timeout", f"timed out ({kind})")


def step_error(step_id: str, exc: ActivityError | ChildWorkflowError) -> StepError:
    """The failure of an activity or child run, which history shows already."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return StepError(step_id, cause.type or "ApplicationError", cause.message, in_history=True)
    if isinstance(cause, ActivityTimeoutError):
        kind = cause.type.name if cause.type else "timeout"
        return StepError(step_id, "Timeout", f"timed out ({kind})", in_history=True)
    if cause is not None:
        return StepError(step_id, type(cause).__name__, str(cause), in_history=True)
    return StepError(step_id, type(exc).__name__, str(exc), in_history=True)
