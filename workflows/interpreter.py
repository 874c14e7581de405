"""Interprets a plan: pure steps run here, everything else goes through an Executor.

Deterministic (no clock, no randomness, no I/O; concurrency only through asyncio tasks and
FIFO queues), so RunWorkflow can drive it inside a Temporal workflow.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from workflows import plan as p
from workflows.dsl import case_key
from workflows.modules.registry import Registry
from workflows.resume import Checkpoint, Resume, ResumeLevel
from workflows.templates import TemplateError, render_value
from workflows.typecheck import isinstance

# A goto that keeps failing is stopped after this many jumps in one body.
MAX_GOTOS = 100


class StepError(Exception):
    """A step failed: its id, an error type and a message for people."""

    def __init__(self, step_id: str, error_type: str, message: str, in_history: bool = False) -> None:
        super().__init__(f"step '{step_id}': {message}")
        self.step_id = step_id
        self.error_type = error_type
        self.message = message
        # True when history shows the failure already (a failed activity or child run).
        self.in_history = in_history


class Rewind(Exception):
    """A human step asked to go back: run `target` (an earlier step) again, with what it and
    the steps after it wrote restored; `feedback` (a retry's) is in scope for the re-run."""

    def __init__(self, target: str, origin: str, feedback: str | None, retry: bool) -> None:
        super().__init__(f"step '{origin}' goes back to '{target}'")
        self.target = target
        self.origin = origin
        self.feedback = feedback
        self.retry = retry


class ContinueAsNewRequested(Exception):
    """Raised at a safe point when the executor wants a fresh history; carries the position."""

    def __init__(self, resume: Resume) -> None:
        super().__init__("continue as new")
        self.resume = resume


@dataclass(frozen=True)
class RunInfo:
    """What templates see as `run`."""

    id: str
    definition_hash: str
    started_at: str

    def as_scope(self) -> dict[str, str]:
        return {"id": self.id, "definition_hash": self.definition_hash, "started_at": self.started_at}


# Where a node runs: the (for_each or loop id, index or iteration) of each enclosing iteration.
Path = tuple[tuple[str, int], ...]


class Executor(Protocol):
    """Runs what the interpreter cannot: activities, human steps, child runs, waits."""

    async def module(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path = ()) -> dict[str, Any]:
        """Run a module step that is not pure; `path` says which iteration it belongs to."""

    async def call(self, node: p.CallNode, run_input: Any) -> Any: ...

    async def wait(self, node: p.WaitNode, duration: Any, until: Any) -> Any: ...

    async def pace(self) -> None:
        """Called after every node: a chance to let long pure work yield (see RunWorkflow)."""

    def should_continue_as_new(self) -> bool:
        """Asked at safe points: True to continue in a fresh history from here."""
        return False


class StepNotes(Protocol):
    """Hears of step changes that the executor's own work does not show (RunWorkflow writes
    them into history: workflows/engine/journal.py)."""

    def step(
        self,
        change: str,
        node: p.PlanNode,
        path: Path,
        outputs: dict[str, Any] | None = None,
        error: StepError | None = None,
    ) -> None: ...


def leaves_own_trace(node: p.PlanNode) -> bool:
    """True for nodes whose work is an activity, so history names their start and end."""
    return isinstance(node, p.ModuleNode) and node.runs == "activity" and not node.local


class PureOnly:
    """An executor for plans of pure steps: anything else is an error naming the step."""

    async def module(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path = ()) -> dict[str, Any]:
        raise StepError(node.id, "NotAvailable", f"module {node.module} needs a worker ({node.runs})")

    async def call(self, node: p.CallNode, run_input: Any) -> Any:
        raise StepError(node.id, "NotAvailable", f"calling {node.definition} needs a worker")

    async def wait(self, node: p.WaitNode, duration: Any, until: Any) -> Any:
        raise StepError(node.id, "NotAvailable", "waiting needs a worker")

    async def pace(self) -> None:
        return None

    def should_continue_as_new(self) -> bool:
        return False


@dataclass
class Frame:
    """Step outputs and extra names visible to one body (a for_each iteration has its own)."""

    steps: dict[str, Any] = field(default_factory=dict)
    names: dict[str, Any] = field(default_factory=dict)
    path: Path = ()

    def child(self, **names: Any) -> Frame:
        return Frame(dict(self.steps), {**self.names, **names}, self.path)


@dataclass(frozen=True)
class _Done:
    """A node's outcome: finished (edges taken, maybe with a branch), or not (skip flows on)."""

    taken: bool
    branch: str | None = None


_TAKEN = _Done(True)  # the outcome of most nodes


@dataclass
class _Level:
    """A body on the chain of active blocks (tracked while nothing runs concurrently)."""

    outcome: dict[str, _Done]
    current: str | None = None
    iteration: int | None = None
    chosen: str | None = None
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)

    def snapshot(self) -> ResumeLevel:
        decided = {k: (d.taken, d.branch) for k, d in self.outcome.items()}
        return ResumeLevel(
            decided=decided,
            current=self.current,
            iteration=self.iteration,
            chosen=self.chosen,
            checkpoints=dict(self.checkpoints),
        )


Resuming = tuple[ResumeLevel, list[ResumeLevel]]


class Interpreter:
    """Runs one plan to its output."""

    def __init__(
        self,
        plan: p.Plan,
        registry: Registry,
        executor: Executor,
        run_input: Any,
        run: RunInfo,
        resume: Resume | None = None,
        notes: StepNotes | None = None,
        inline: bool = False,
    ) -> None:
        self.plan = plan
        self.notes = notes
        # A node that is the only one ready while nothing else runs in its body runs in the
        # body's own task instead of one of its own (no task, no report queue). What it does
        # is the same; a workflow's event loop takes fewer turns, which RunWorkflow's deferred
        # changes are timed by, so the engine turns it on only for runs of a new generation.
        self.inline = inline
        self.registry = registry
        self.executor = executor
        self.input = run_input
        self.run_info = run.as_scope()
        # A copy of the plan's initial state, containers and all: steps change what state
        # holds, and the plan may be shared with other runs (plan.read_canonical).
        self.state: dict[str, Any] = dict(resume.state) if resume else copy.deepcopy(plan.state)
        self.graph = plan.form == "graph"
        # Latest status of each node id that has started: running, done, skipped or failed.
        self.progress: dict[str, str] = dict(resume.progress) if resume else {}
        self._resume = resume
        self._levels: list[_Level] = []
        self._concurrent = 0
        self._rewind_targets = {
            n.rewind_to for n in p.iter_nodes(plan.body) if isinstance(n, p.ModuleNode) and n.rewind_to
        }
        self._reach: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    async def run(self) -> Any:
        """Run the plan; the output is the `output` template's value, else the final state."""
        resume = self._resume
        frame = Frame(dict(resume.steps), dict(resume.names)) if resume else Frame()
        await self.body(self.plan.body, frame, resume.levels if resume else None)
        if not self.plan.has_output:
            return dict(self.state)
        try:
            return render_value(self.plan.output, self.scope(frame))
        except TemplateError as exc:
            raise StepError("output", "TemplateError", f"output: {exc}") from exc

    def scope(self, frame: Frame) -> dict[str, Any]:
        """The names templates see in this frame."""
        scope: dict[str, Any] = {
            "input": self.input,
            "state": self.state,
            "steps": frame.steps,
            "run": self.run_info,
            "feedback": None,
        }
        if self.graph:
            scope.update({k: {"output": v} for k, v in frame.steps.items()})
        scope.update(frame.names)
        return scope

    async def body(self, body: p.Body, frame: Frame, resume: list[ResumeLevel] | None = None) -> None:
        """Run a graph of nodes; a node runs once its incoming edges are decided."""
        outcome: dict[str, _Done] = {}
        level = _Level(outcome, checkpoints=dict(resume[0].checkpoints) if resume else {})
        tracked = self._concurrent == 0
        if tracked:
            self._levels.append(level)
        resuming: Resuming | None = None
        if resume:
            outcome.update({k: _Done(taken, branch) for k, (taken, branch) in resume[0].decided.items()})
            if resume[0].current is not None:
                resuming = (resume[0], resume[1:])
        # node id -> (launch number, task); a report from an older launch is stale.
        running: dict[str, tuple[int, asyncio.Task[None]]] = {}
        # Made when a node first runs in a task of its own (a chain run inline needs none).
        reports: asyncio.Queue[tuple[str, int, str | None, Exception | None]] | None = None
        # Nodes to launch again: after an on_error goto (with its error), or a rewind (None).
        forced: dict[str, StepError | None] = {}
        launches = 0
        gotos = 0
        nodes = body.nodes
        # How many nodes at the head of the body are decided: a scan starts after them (only
        # a restart undecides nodes, and it starts the scans from the head again).
        decided = 0

        async def execute(
            node: p.PlanNode,
            launch: int,
            error: StepError | None,
            again: Resuming | None,
            queue: asyncio.Queue[tuple[str, int, str | None, Exception | None]],
        ) -> None:
            try:
                branch = await self.node(node, frame, error, again)
            except Exception as exc:  # reported to the driver, which applies on_error
                queue.put_nowait((node.id, launch, None, exc))
            else:
                queue.put_nowait((node.id, launch, branch, None))

        def begin(node: p.PlanNode) -> int:
            nonlocal launches
            launches += 1
            level.current, level.iteration, level.chosen = node.id, None, None
            if node.id in self._rewind_targets:
                level.checkpoints[node.id] = self._checkpoint(body, node.id, frame)
            return launches

        def start(node: p.PlanNode, error: StepError | None, again: Resuming | None) -> None:
            nonlocal reports
            if reports is None:
                reports = asyncio.Queue()
            number = begin(node)
            running[node.id] = (number, asyncio.create_task(execute(node, number, error, again, reports)))

        def launch(node: p.PlanNode, error: StepError | None, again: Resuming | None = None) -> None:
            if ready is not None:
                ready.append((node, error, again))  # started (or run inline) after the scan
            else:
                start(node, error, again)

        def restart(target: str, error: StepError | None) -> None:
            """Undecide `target` and everything downstream (stopping what runs); launch it again."""
            nonlocal decided
            decided = 0
            for reset in _descendants(body, target):
                outcome.pop(reset, None)
                stale = running.pop(reset, None)
                if stale is not None:
                    stale[1].cancel()
            forced[target] = error

        def settle(node_id: str, branch: str | None, exc: Exception | None) -> None:
            """A launched node ended: its outcome, or what its on_error says (or a rewind)."""
            nonlocal gotos
            level.current = None
            if exc is None:
                outcome[node_id] = _TAKEN if branch is None else _Done(True, branch)
                if tracked and not running and self._levels[0] is level:
                    self._safe_point(frame)
                return
            if isinstance(exc, Rewind) and any(n.id == exc.target for n in body.nodes):
                self._rewind(exc, body, frame, level.checkpoints.get(exc.target))
                restart(exc.target, None)
                return
            if not isinstance(exc, StepError):
                raise exc
            self.progress[node_id] = "failed"
            node = next(n for n in body.nodes if n.id == node_id)
            if exc.step_id == node_id and not exc.in_history:
                self._note("fail", node, frame, error=exc)
            on_error = node.on_error if isinstance(node, p.ModuleNode) else p.OnError()
            if on_error.action == "fail":
                raise exc
            if on_error.action == "continue":
                outcome[node_id] = _TAKEN
                return
            gotos += 1
            if gotos > MAX_GOTOS:
                raise StepError(
                    node_id,
                    "GotoLimit",
                    f"on_error goto ran {MAX_GOTOS} times; last error: {exc.message}",
                )
            outcome[node_id] = _Done(False)
            restart(on_error.target or "", exc)

        # With `inline`, the nodes a scan finds ready (else each is launched as it is found).
        ready: list[tuple[p.PlanNode, StepError | None, Resuming | None]] | None = None
        try:
            while True:
                ready = [] if self.inline else None
                while decided < len(nodes) and nodes[decided].id in outcome:
                    decided += 1
                for index in range(decided, len(nodes)):
                    node = nodes[index]
                    if node.id in outcome or node.id in running:
                        continue
                    if resuming is not None and node.id == resuming[0].current:
                        launch(node, None, resuming)
                        resuming = None
                    elif node.id in forced:
                        launch(node, forced.pop(node.id))
                    elif _all_decided(node.after, outcome):
                        if node.after and not _any_taken(node.after, outcome):
                            outcome[node.id] = _Done(False)
                            self.progress[node.id] = "skipped"
                            self._note("skip", node, frame)
                        else:
                            launch(node, None)
                if ready is not None and len(ready) == 1 and not running:
                    node, error, again = ready[0]
                    begin(node)
                    try:
                        branch = await self.node(node, frame, error, again)
                    except Exception as failure:  # what a report of it would carry
                        settle(node.id, None, failure)
                    else:
                        settle(node.id, branch, None)
                    continue
                for node, error, again in ready or ():
                    start(node, error, again)
                if not running:
                    return
                assert reports is not None  # a node runs in a task: start made it
                node_id, number, branch, exc = await reports.get()
                if running.get(node_id, (None,))[0] != number:
                    continue  # reset by a goto after it finished
                del running[node_id]
                settle(node_id, branch, exc)
        except GeneratorExit:
            # The worker evicts this run from its cache: stop at once, awaiting nothing.
            for _, task in running.values():
                task.cancel()
            running.clear()
            raise
        finally:
            if tracked and self._levels and self._levels[-1] is level:
                self._levels.pop()
            if running:
                await _cancel_all([task for _, task in running.values()])

    async def node(
        self, node: p.PlanNode, frame: Frame, error: StepError | None, resume: Resuming | None = None
    ) -> str | None:
        """Run one node (or carry on inside it, when resuming); returns the branch a route chose."""
        local = (
            frame
            if error is None
            else Frame(frame.steps, {**frame.names, "error": _error_scope(error)}, frame.path)
        )
        self.progress[node.id] = "running"
        if resume is None and node.when is not None and not self._truthy(node.when, local, node.id, "if"):
            self.progress[node.id] = "skipped"
            self._note("skip", node, frame)
            return None
        traced = leaves_own_trace(node)
        if resume is None and not traced:
            self._note("start", node, frame)
        branch = await self._run_node(node, frame, local, resume)
        self.progress[node.id] = "done"
        if not traced:
            module = isinstance(node, p.ModuleNode)  # pure or human: its outputs are noted
            self._note("done", node, frame, outputs=frame.steps.get(node.id) if module else None)
        await self.executor.pace()
        return branch

    def _note(
        self,
        change: str,
        node: p.PlanNode,
        frame: Frame,
        outputs: dict[str, Any] | None = None,
        error: StepError | None = None,
    ) -> None:
        if self.notes is not None:
            self.notes.step(change, node, frame.path, outputs, error)

    async def _run_node(
        self, node: p.PlanNode, frame: Frame, local: Frame, resume: Resuming | None
    ) -> str | None:
        container = self._levels[-1] if self._concurrent == 0 and self._levels else None
        inner = resume[1] if resume else None
        outputs: dict[str, Any]
        if isinstance(node, p.ModuleNode):
            outputs = await self.module(node, local)
        elif isinstance(node, p.RouteNode):
            return "true" if self._truthy(node.condition, local, node.id, "condition") else "false"
        elif isinstance(node, p.BranchNode):
            chosen = resume[0].chosen if resume else None
            if chosen is None:
                chosen = "then" if self._truthy(node.condition, local, node.id, "if") else "otherwise"
            if container is not None:
                container.chosen = chosen
            await self.body(node.then if chosen == "then" else node.otherwise, local, inner)
            outputs = {}
        elif isinstance(node, p.SwitchNode):
            key = resume[0].chosen if resume else case_key(self._render(node.value, local, node.id, "switch"))
            if container is not None:
                container.chosen = key if key in node.cases else None
            await self.body(node.cases.get(key or "", node.default), local, inner)
            outputs = {}
        elif isinstance(node, p.ParallelNode):
            self._concurrent += 1
            try:
                await _all_or_nothing([self.body(b, local) for b in node.branches.values()])
            finally:
                self._concurrent -= 1
            outputs = {}
        elif isinstance(node, p.ForEachNode):
            self._concurrent += 1
            try:
                outputs = {"results": await self.for_each(node, local)}
            finally:
                self._concurrent -= 1
        elif isinstance(node, p.LoopNode):
            start = (resume[0].iteration or 1) if resume else 1
            await self.loop(node, local, container, start, inner)
            outputs = {}
        elif isinstance(node, p.CallNode):
            child_input = self._render(node.input, local, node.id, "input")
            outputs = {"output": await self.executor.call(node, child_input)}
        else:
            duration = self._render(node.duration, local, node.id, "duration")
            until = self._render(node.until, local, node.id, "until")
            outputs = {"payload": await self.executor.wait(node, duration, until)}
        if isinstance(node, p.ModuleNode) and node.rewind_to is not None:
            if outputs.get("retry_requested"):
                raise Rewind(node.rewind_to, node.id, outputs.get("feedback"), retry=True)
            if outputs.get("jump_back_requested"):
                raise Rewind(node.rewind_to, node.id, None, retry=False)
            if "retry_requested" in outputs:
                frame.names.pop("feedback", None)  # reviewed and accepted: the retry is over
        frame.steps[node.id] = outputs
        for key, name in getattr(node, "outputs_to_state", {}).items():
            self.state[key] = outputs.get(name)
        return None

    async def module(self, node: p.ModuleNode, frame: Frame) -> dict[str, Any]:
        scope = self.scope(frame)
        # A module keeps and may change its unrendered inputs: copies, since the plan may be
        # shared with other runs (plan.read_canonical).
        inputs = {
            name: copy.deepcopy(value)
            if name in node.self_rendered
            else self._render_in(value, scope, node.id, f"inputs.{name}")
            for name, value in node.inputs.items()
        }
        if node.runs != "workflow":
            return await self.executor.module(node, inputs, frame.path)
        spec = self.registry.get(node.module)
        if spec is None or spec.run is None:
            raise StepError(node.id, "UnknownModule", f"module {node.module} is not registered here")
        try:
            model = spec.input_model.model_validate(inputs)
        except ValidationError as exc:
            raise StepError(node.id, "InvalidInput", validation_message(node.module, exc)) from exc
        try:
            result = spec.run(model, scope)
        except TemplateError as exc:
            raise StepError(node.id, "TemplateError", str(exc)) from exc
        except Exception as exc:  # a module's own failure: on_error decides what happens
            raise StepError(node.id, type(exc).__name__, f"module {node.module} failed: {exc}") from exc
        return result.model_dump(mode="json", by_alias=True)

    async def for_each(self, node: p.ForEachNode, frame: Frame) -> list[Any]:
        items = self._render(node.items, frame, node.id, "for_each")
        if not isinstance(items, list):
            raise StepError(node.id, "NotAList", f"for_each needs a list, got {type(items).__name__}")
        gate = asyncio.Semaphore(node.max_concurrency or max(len(items), 1))
        results: list[Any] = [None] * len(items)

        async def iteration(index: int, item: Any) -> None:
            async with gate:
                child = frame.child(**{node.item_name: item, "index": index})
                child.path = (*frame.path, (node.id, index))
                await self.body(node.body, child)
                if node.collect is not None:
                    results[index] = self._render(node.collect, child, node.id, "collect")

        await _all_or_nothing([iteration(i, item) for i, item in enumerate(items)])
        return results

    async def loop(
        self,
        node: p.LoopNode,
        frame: Frame,
        container: _Level | None,
        start: int,
        inner: list[ResumeLevel] | None,
    ) -> None:
        """Iterations `start`.. (resuming inside `start` when `inner` says where); between
        iterations is a safe point to continue as new."""
        outer = frame.names.get("loop")
        outer_path = frame.path
        try:
            for iteration in range(start, node.max_iterations + 1):
                frame.names["loop"] = {"iteration": iteration}
                frame.path = (*outer_path, (node.id, iteration))
                if container is not None:
                    container.iteration = iteration
                await self.body(node.body, frame, inner)
                inner = None
                if node.until is not None and self._truthy(node.until, frame, node.id, "until"):
                    break
                if iteration < node.max_iterations and container is not None:
                    container.iteration = iteration + 1
                    self._safe_point(frame)
        finally:
            frame.path = outer_path
            if outer is None:
                frame.names.pop("loop", None)
            else:
                frame.names["loop"] = outer

    def _reach_of(self, body: p.Body, target: str) -> tuple[frozenset[str], frozenset[str]]:
        """The ids that run again when a rewind returns to `target`, and the keys they write."""
        if target not in self._reach:
            ids: set[str] = set()
            keys: set[str] = set()
            again = set(_descendants(body, target))
            for top in body.nodes:
                if top.id not in again:
                    continue
                for node in [top, *(n for b in p.child_bodies(top) for n in p.iter_nodes(b))]:
                    ids.add(node.id)
                    keys.update(getattr(node, "outputs_to_state", {}))
            self._reach[target] = (frozenset(ids), frozenset(keys))
        return self._reach[target]

    def _checkpoint(self, body: p.Body, target: str, frame: Frame) -> Checkpoint:
        ids, keys = self._reach_of(body, target)
        return Checkpoint(
            state={k: self.state[k] for k in keys if k in self.state},
            steps={i: frame.steps[i] for i in ids if i in frame.steps},
        )

    def _rewind(self, rewind: Rewind, body: p.Body, frame: Frame, checkpoint: Checkpoint | None) -> None:
        """Put back what the target and the steps after it wrote, as it was before the target."""
        if checkpoint is None:
            raise StepError(
                rewind.origin, "RewindFailed", f"'{rewind.target}' has no checkpoint to go back to"
            )
        ids, keys = self._reach_of(body, rewind.target)
        for key in keys:
            if key in checkpoint.state:
                self.state[key] = checkpoint.state[key]
            else:
                self.state.pop(key, None)
        for step_id in ids:
            if step_id in checkpoint.steps:
                frame.steps[step_id] = checkpoint.steps[step_id]
            else:
                frame.steps.pop(step_id, None)
            self.progress.pop(step_id, None)
        if rewind.retry:
            frame.names["feedback"] = rewind.feedback
        else:
            frame.names.pop("feedback", None)

    def _safe_point(self, frame: Frame) -> None:
        """Continue as new here if the executor asks and nothing runs concurrently."""
        if self._concurrent == 0 and self.executor.should_continue_as_new():
            names = {k: v for k, v in frame.names.items() if k != "loop"}
            raise ContinueAsNewRequested(
                Resume(
                    state=dict(self.state),
                    steps=dict(frame.steps),
                    names=names,
                    levels=[level.snapshot() for level in self._levels],
                    progress=dict(self.progress),
                )
            )

    def _render(self, value: Any, frame: Frame, step_id: str, what: str) -> Any:
        return self._render_in(value, self.scope(frame), step_id, what)

    @staticmethod
    def _render_in(value: Any, scope: Mapping[str, Any], step_id: str, what: str) -> Any:
        try:
            return render_value(value, scope)
        except TemplateError as exc:
            raise StepError(step_id, "TemplateError", f"{what}: {exc}") from exc

    def _truthy(self, value: str | bool, frame: Frame, step_id: str, what: str) -> bool:
        return bool(self._render(value, frame, step_id, what))


async def _all_or_nothing(coroutines: list[Any]) -> None:
    """Run concurrently; the first failure cancels the rest and is raised."""
    results: asyncio.Queue[Exception | None] = asyncio.Queue()

    async def report(coroutine: Any) -> None:
        try:
            await coroutine
        except Exception as exc:  # handed to the caller below
            results.put_nowait(exc)
        else:
            results.put_nowait(None)

    tasks = [asyncio.create_task(report(c)) for c in coroutines]
    try:
        for _ in tasks:
            error = await results.get()
            if error is not None:
                raise error
    except GeneratorExit:
        for task in tasks:
            task.cancel()
        tasks.clear()
        raise
    finally:
        await _cancel_all(tasks)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel unfinished tasks and wait until they have stopped (their activities too)."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _descendants(body: p.Body, start: str) -> list[str]:
    """`start` and every node downstream of it in a body."""
    found = [start]
    for node in body.nodes:
        if node.id not in found and any(e.source in found for e in node.after):
            found.append(node.id)
    return found


def _error_scope(error: StepError) -> dict[str, str]:
    return {"type": error.error_type, "message": error.message, "step": error.step_id}


def validation_message(module: str, exc: ValidationError) -> str:
    """Why inputs do not fit a module, place by place."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(x) for x in error["loc"]) or "inputs"
        parts.append(f"{where}: {error['msg']}")
    return f"inputs do not fit module {module}: " + "; ".join(parts)


def _all_decided(edges: list[p.Incoming], outcome: Mapping[str, _Done]) -> bool:
    """Whether every edge into a node comes from the start or from a decided node."""
    for edge in edges:  # noqa: SIM110 (a loop, not all() over a generator: asked at every scan)
        if edge.source != p.START and edge.source not in outcome:
            return False
    return True


def _any_taken(edges: list[p.Incoming], outcome: Mapping[str, _Done]) -> bool:
    """Whether a node's decided incoming edges let it run: one comes from the start, or from
    a node that ran (and chose the edge's branch, where it names one)."""
    for edge in edges:
        if edge.source == p.START:
            return True
        done = outcome[edge.source]
        if done.taken and (edge.branch is None or edge.branch == done.branch):
            return True
    return False
