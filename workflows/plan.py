"""The compiled plan: what RunWorkflow interprets. Both forms of the language compile to it.

A body is a graph: each node lists the edges into it. A node runs once every incoming edge
is decided and at least one was taken; otherwise it is skipped and the skip flows on. An
edge is taken when its source finished (for a route, when it chose that branch). A step
skipped by its own `if` still counts as finished, so a list of steps runs in order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.dsl import Budget, Trigger
from workflows.typecheck import isinstance

PLAN_VERSION = 1
# Edges from the beginning of a body; not a valid step id, so no step can be mistaken for it.
START = "@start"
# Defaults for activity steps that neither the step nor `defaults` configure.
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_INITIAL_INTERVAL_MS = 1_000
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_INTERVAL_MS = 60_000
DEFAULT_TIMEOUT_MS = 300_000


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(PlanModel):
    """An activity step's retry policy, defaults applied."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    initial_interval_ms: int = DEFAULT_INITIAL_INTERVAL_MS
    backoff: float = DEFAULT_BACKOFF
    max_interval_ms: int = DEFAULT_MAX_INTERVAL_MS
    non_retryable_errors: list[str] = Field(default_factory=list)


class Incoming(PlanModel):
    """An edge into a node: from `source`, taken when it finished (and chose `branch`)."""

    source: str
    branch: str | None = None


class OnError(PlanModel):
    action: Literal["fail", "continue", "goto"] = "fail"
    target: str | None = None


class NodeBase(PlanModel):
    id: str
    pointer: str = Field(description="Where the step is in the source file (JSON pointer)")
    after: list[Incoming] = Field(default_factory=list)
    when: str | bool | None = Field(default=None, description="Skip the node unless this holds")


class ModuleNode(NodeBase):
    kind: Literal["module"] = "module"
    module: str
    runs: Literal["workflow", "activity", "human"]
    queue: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    self_rendered: list[str] = Field(default_factory=list)
    outputs_to_state: dict[str, str] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout_ms: int | None = None
    # Set for activities that heartbeat: a worker that dies is noticed after this long.
    heartbeat_ms: int | None = None
    on_error: OnError = Field(default_factory=OnError)
    # Human steps: where a retry or jump back runs again from. Left out of the plan's JSON
    # when None, so plans compiled before it existed keep their hash.
    rewind_to: str | None = Field(default=None, exclude_if=lambda value: value is None)
    # Runs as a local activity (docs/fast-path.md); left out when false, as rewind_to is.
    local: bool = Field(default=False, exclude_if=lambda value: not value)


class RouteNode(NodeBase):
    """Chooses the branch `true` or `false`; its targets' edges carry the branch."""

    kind: Literal["route"] = "route"
    condition: str | bool


class ParallelNode(NodeBase):
    kind: Literal["parallel"] = "parallel"
    branches: dict[str, Body]


class ForEachNode(NodeBase):
    kind: Literal["for_each"] = "for_each"
    items: Any
    item_name: str
    max_concurrency: int | None = None
    body: Body
    collect: Any = None
    outputs_to_state: dict[str, str] = Field(default_factory=dict)


class LoopNode(NodeBase):
    kind: Literal["loop"] = "loop"
    until: str | bool | None = None
    max_iterations: int
    body: Body


class SwitchNode(NodeBase):
    kind: Literal["switch"] = "switch"
    value: Any
    cases: dict[str, Body]
    default: Body


class BranchNode(NodeBase):
    """An if/then/else block."""

    kind: Literal["if"] = "if"
    condition: str | bool
    then: Body
    otherwise: Body


class CallNode(NodeBase):
    kind: Literal["call"] = "call"
    definition: str
    version: int | None = None
    input: Any = None
    outputs_to_state: dict[str, str] = Field(default_factory=dict)


class WaitNode(NodeBase):
    kind: Literal["wait"] = "wait"
    duration: str | None = None
    until: str | None = None
    signal: str | None = None
    timeout_ms: int | None = None
    outputs_to_state: dict[str, str] = Field(default_factory=dict)


PlanNode = Annotated[
    ModuleNode
    | RouteNode
    | ParallelNode
    | ForEachNode
    | LoopNode
    | SwitchNode
    | BranchNode
    | CallNode
    | WaitNode,
    Field(discriminator="kind"),
]


class Body(PlanModel):
    """A graph of nodes, listed in an order where every node comes after its sources."""

    nodes: list[PlanNode] = Field(default_factory=list)


class Plan(PlanModel):
    """A validated definition, ready to run."""

    plan_version: int = PLAN_VERSION
    name: str
    description: str | None = None
    form: Literal["steps", "graph"]
    input_schema: dict[str, Any] | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    has_output: bool = False
    body: Body
    calls: list[str] = Field(default_factory=list, description="Definitions this plan calls")
    # What starts runs of it besides the API (reconciled when a version is stored; runs ignore it).
    triggers: list[Trigger] = Field(default_factory=list)
    # What a run may spend on LLM steps (the definition's `budget`).
    budget: Budget | None = None

    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON: the same for any formatting or key order."""
        return hash_of_canonical(self.canonical_json())

    def canonical_json(self) -> bytes:
        """The plan as JSON with sorted keys and no spaces, UTF-8: what its hash is of (and
        what a typed run carries, so its worker checks the hash on these very bytes). A plan
        without triggers or a budget leaves them out, as plans did before there were any."""
        unset = {name for name in ("triggers", "budget") if not getattr(self, name)}
        data = self.model_dump(mode="json", exclude=unset or None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


for _model in (ParallelNode, ForEachNode, LoopNode, SwitchNode, BranchNode, Body, Plan):
    _model.model_rebuild()


def hash_of_canonical(canonical_json: bytes) -> str:
    """A plan's content hash, from its canonical JSON (Plan.canonical_json): for those who
    hold the bytes already (a client that sent them, a worker that received them)."""
    return hashlib.sha256(canonical_json).hexdigest()


# Plans this process has read from their canonical JSON, by those bytes, with their hash.
_READ: dict[bytes, tuple[Plan, str]] = {}
# How many it keeps: a worker runs few definitions, and a plan is a few kilobytes.
PLANS_KEPT = 256


def read_canonical(canonical_json: bytes) -> tuple[Plan, str]:
    """The plan that these bytes are the canonical JSON of, and the hash of the bytes (what a
    typed run's worker checks). Each distinct plan is validated and hashed once per process:
    every run of it is handed the same Plan, so nothing may change what it holds (models are
    frozen; a run copies the containers it changes, as Interpreter.state does). Raises
    pydantic's ValidationError (a ValueError) for bytes that are no plan."""
    known = _READ.get(canonical_json)
    if known is None:
        known = (Plan.model_validate_json(canonical_json), hash_of_canonical(canonical_json))
        if len(_READ) >= PLANS_KEPT:
            _READ.clear()  # rare, and safe with workflow threads reading it at the same time
        _READ[canonical_json] = known
    return known


def child_bodies(node: PlanNode) -> list[Body]:
    """The bodies a block holds."""
    if isinstance(node, ParallelNode):
        return list(node.branches.values())
    if isinstance(node, ForEachNode | LoopNode):
        return [node.body]
    if isinstance(node, SwitchNode):
        return [*node.cases.values(), node.default]
    if isinstance(node, BranchNode):
        return [node.then, node.otherwise]
    return []


def iter_nodes(body: Body) -> Iterator[PlanNode]:
    """Every node of a body, blocks' inner nodes included, in plan order."""
    for node in body.nodes:
        yield node
        if not isinstance(node, ModuleNode):  # most nodes: no block to look into
            for child in child_bodies(node):
                yield from iter_nodes(child)
