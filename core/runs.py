"""Preparing and starting runs: compile a definition and what it calls, check the input, start."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    RawValue,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.definitions import folder_lookup, names_in_folder
from core.settings import Settings
from workflows.compiler import DefinitionLookup, compile_text
from workflows.compiler.steps import parse_call
from workflows.engine.models import (
    ENGINE_GENERATION,
    WORKFLOW_QUEUE,
    Rerun,
    RunInput,
    RunOutput,
    rest_of,
    run_type,
)
from workflows.engine.run import OWNER_KEY
from workflows.modules import Registry
from workflows.plan import Plan, hash_of_canonical
from workflows.problems import DefinitionError, Problem

# The memo keys a run starts with: the plan (and registry version) it pins.
VERSION_MEMO = "StepwiseVersion"
PLAN_HASH_MEMO = "StepwisePlanHash"
# The metadata of a payload of JSON (what the data converter gives any JSON value).
JSON_PLAIN = {"encoding": b"json/plain"}
# On a rerun: {"run_id": the run it reruns, "from_step": the step it runs anew from}.
RERUN_MEMO = "StepwiseRerun"


class DefinitionFileError(DefinitionError):
    """A definition file that does not compile: its path, and every problem in it."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.path = path


class InvalidRunInput(ValueError):
    """The run input does not match the definition's input schema; nothing was started.
    `problems` holds each place in the input (a JSON pointer into it) and what is wrong there."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{p.where}: {p.message}" for p in problems]
        super().__init__("the input does not match the definition's input schema:\n" + "\n".join(lines))


@dataclass
class Prepared:
    """A compiled definition and the plans of the definitions it calls, pinned together;
    `plan_hash` is the plan's content hash when the caller knows it already."""

    plan: Plan
    children: dict[str, Plan] = field(default_factory=dict)
    plan_hash: str | None = None
    _plan_json: bytes | None = field(default=None, repr=False, compare=False)

    def content_hash(self) -> str:
        """The plan's content hash (worked out once)."""
        if self.plan_hash is None:
            self.plan_hash = hash_of_canonical(self.plan_json())
        return self.plan_hash

    def plan_json(self) -> bytes:
        """The plan's canonical JSON (worked out once): what its hash is of, and the first
        input of the runs started from it (models.rest_of)."""
        if self._plan_json is None:
            self._plan_json = self.plan.canonical_json()
        return self._plan_json


def prepare(path: Path, registry: Registry, definitions: Path | None = None) -> Prepared:
    """Compile a definition file; `call`ed definitions come from the `definitions` folder."""
    known = names_in_folder(definitions) if definitions else {}
    lookup = folder_lookup(known) if definitions else None
    plan = _compile(path, registry, lookup)
    children: dict[str, Plan] = {}
    pending = list(plan.calls)
    while pending:
        key = pending.pop()
        parsed = parse_call(key)
        if key in children or parsed is None:
            continue
        child = _compile(known[parsed[0]], registry, lookup)
        children[key] = child
        pending.extend(child.calls)
    return Prepared(plan, children)


def _compile(path: Path, registry: Registry, lookup: DefinitionLookup | None) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionFileError(path, [Problem("/", f"cannot read: {exc.strerror}")]) from exc
    result = compile_text(text, path.name, registry, lookup)
    if result.plan is None:
        raise DefinitionFileError(path, result.problems)
    return result.plan


def check_input(plan: Plan, value: Any) -> None:
    """Raise InvalidRunInput naming every place the input misses the definition's schema."""
    if plan.input_schema is None:
        return
    errors = sorted(
        Draft202012Validator(plan.input_schema).iter_errors(value), key=lambda e: list(map(str, e.path))
    )
    if errors:
        raise InvalidRunInput(
            [Problem("/" + "/".join(str(p) for p in e.absolute_path), e.message) for e in errors]
        )


def new_run_id(plan: Plan) -> str:
    """A run id: the definition's name and a random suffix."""
    return f"{plan.name}-{uuid.uuid4().hex[:12]}"


def keyed_run_id(plan: Plan, owner: str | None, idempotency_key: str) -> str:
    """The run id an idempotency key stands for: the same owner, definition and key always
    name the same run (so a retried start finds the run the first one started)."""
    digest = hashlib.sha256(f"{owner or ''}\x00{idempotency_key}".encode()).hexdigest()
    return f"{plan.name}-k{digest[:24]}"


async def start_run(
    client: Client,
    prepared: Prepared,
    run_input: Any,
    settings: Settings,
    owner: str | None = None,
    run_id: str | None = None,
    version: int | None = None,
    idempotency_key: str | None = None,
    rerun: Rerun | None = None,
) -> WorkflowHandle[Any, RunOutput]:
    """Check the input and start the run; returns its handle. With an idempotency key, a start
    that was made before (even if that run has ended) returns that run instead of a new one.
    `rerun` (core/rerun.py) makes it a rerun of an earlier run, reusing its recorded results."""
    check_input(prepared.plan, run_input)
    # The workflow type names the definition (run_type): the only search attribute left is the
    # owner's, since every one costs the server a visibility write (docs/fast-path.md).
    attributes = [SearchAttributePair(OWNER_KEY, owner)] if owner else []
    plan_hash = prepared.content_hash()
    memo: dict[str, Any] = {PLAN_HASH_MEMO: plan_hash}
    if version is not None:
        memo[VERSION_MEMO] = version
    if rerun is not None:
        memo[RERUN_MEMO] = {"run_id": rerun.run_id, "from_step": rerun.from_step}
    if idempotency_key is not None:
        run_id = keyed_run_id(prepared.plan, owner, idempotency_key)
    try:
        run = RunInput(
            plan=prepared.plan,
            plan_hash=plan_hash,
            input=run_input,
            owner=owner,
            children=prepared.children,
            queue_prefix=settings.task_queue_prefix,
            continue_as_new_after=settings.continue_as_new_after,
            rerun=rerun,
            engine=ENGINE_GENERATION,
        )
        return await client.start_workflow(
            run_type(prepared.plan.name),
            # The plan as the JSON its hash is of, as is: the worker checks the hash on it.
            args=[RawValue(Payload(metadata=JSON_PLAIN, data=prepared.plan_json())), rest_of(run)],
            id=run_id or new_run_id(prepared.plan),
            task_queue=settings.task_queue_prefix + WORKFLOW_QUEUE,
            result_type=RunOutput,
            search_attributes=TypedSearchAttributes(attributes),
            memo=memo,
            static_summary=f"{prepared.plan.name} (plan {plan_hash[:12]})",
            request_eager_start=settings.eager_start,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING
            if idempotency_key
            else WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE
            if idempotency_key
            else WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        if idempotency_key is None or run_id is None:
            raise
        return client.get_workflow_handle(run_id, result_type=RunOutput)


async def cancel_run(client: Client, run_id: str) -> None:
    """Ask a run to stop: its steps are cancelled and it ends as cancelled."""
    await _control(client.get_workflow_handle(run_id).cancel())


async def terminate_run(client: Client, run_id: str, reason: str) -> None:
    """End a run at once, without running its clean-up (an operator's tool)."""
    await _control(client.get_workflow_handle(run_id).terminate(reason=reason))


async def _control(call: Any) -> None:
    try:
        await call
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RunEnded("the run has ended already") from exc
        raise


class RunEnded(RuntimeError):
    """The run has ended: it can no longer be cancelled or terminated."""
