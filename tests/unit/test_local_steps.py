"""`local` on steps and nodes (docs/fast-path.md): which modules may run as local activities,
what the plan says, and that plans without it keep their hash."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from core.plugins import load_registry
from tests.helpers import plan_of, problems_of
from workflows.compiler import compile_text
from workflows.modules import builtin_registry
from workflows.modules.registry import ModuleInput, ModuleOutput, ModuleSpec
from workflows.plan import ModuleNode


def _node(text: str) -> ModuleNode:
    node = plan_of(text).body.nodes[0]
    assert isinstance(node, ModuleNode)
    return node


def test_a_fetch_step_may_run_locally() -> None:
    node = _node('steps: [{id: a, module: api.fetch, inputs: {url: "https://example.com"}, local: true}]')
    assert node.local
    assert node.queue == "integrations"  # where it falls back to


def test_a_fetch_step_is_not_local_unless_it_says_so() -> None:
    node = _node('steps: [{id: a, module: api.fetch, inputs: {url: "https://example.com"}}]')
    assert not node.local
    # A plan without local steps hashes as plans did before `local` existed.
    assert "local" not in node.model_dump(mode="json")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{id: a, module: transform.extract, inputs: {v: 1}, local: true}",
            "local has no effect on transform.extract, which runs inside the workflow already: remove it",
        ),
        (
            "{id: a, module: user.pause, inputs: {message: hi}, local: true}",
            "local has no effect on user.pause, which runs as a human step: remove it",
        ),
        (
            "{id: a, module: api.llm, inputs: {model: m, input: hi}, local: true}",
            "api.llm cannot run as a local activity (it runs on the 'llm' workers: its work is long or "
            "needs them); remove local, or use a module that allows it",
        ),
    ],
)
def test_local_where_it_cannot_apply_is_an_error(step: str, message: str) -> None:
    assert problems_of(f"steps: [{step}]") == [("/steps/0/local", message)]


def test_local_false_is_always_accepted() -> None:
    assert not _node("steps: [{id: a, module: transform.extract, inputs: {v: 1}, local: false}]").local


def test_a_graph_node_may_run_locally_but_a_conditional_may_not_say_so() -> None:
    graph = """
        nodes:
          - {id: get, type: http, config: {url: "https://example.com"}, local: true}
          - {id: route, type: conditional, config: {condition: true, true_edge: get}ROUTE}
        edges:
          - {source: start, target: route}
        """
    plan = plan_of(graph.replace("ROUTE", ""))
    get = next(n for n in plan.body.nodes if n.id == "get")
    assert isinstance(get, ModuleNode)
    assert get.local
    assert problems_of(graph.replace("ROUTE", ", local: true")) == [
        ("/nodes/1/local", "a conditional node only routes: remove local")
    ]


class _In(ModuleInput):
    key: str


class _Out(ModuleOutput):
    value: Any = None


async def _lookup(call: Any) -> Any:
    return None


def test_a_light_module_runs_locally_unless_the_step_opts_out() -> None:
    registry = builtin_registry()
    registry.register(
        ModuleSpec(
            "acme.cache_get",
            "activity",
            _In,
            _Out,
            "Read a cache",
            queue="acme",
            light=True,
            local_activity=_lookup,
        )
    )

    def node(extra: str) -> ModuleNode:
        text = f"stepwise: 1\nname: t\nsteps: [{{id: a, module: acme.cache_get, inputs: {{key: k}}{extra}}}]"
        plan = compile_text(text, "t.yaml", registry).unwrap()
        found = plan.body.nodes[0]
        assert isinstance(found, ModuleNode)
        return found

    assert node("").local
    assert not node(", local: false").local


def test_only_activity_modules_may_be_light() -> None:
    with pytest.raises(ValueError, match="only activity modules run locally"):
        ModuleSpec("acme.pure", "workflow", _In, _Out, "x", run=lambda i, s: _Out(), light=True)


def test_a_plugin_light_module_without_its_activity_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ModuleSpec("acme.cache_get", "activity", _In, _Out, "Read a cache", queue="acme", light=True)

    class Entry:
        name, value, dist = "acme", "acme:modules", None

        def load(self) -> BaseModel | ModuleSpec:
            return spec

    monkeypatch.setattr("core.plugins.entry_points", lambda group: [Entry()])
    loaded = load_registry()
    assert "acme.cache_get" not in loaded.registry
    assert loaded.errors == [
        "plugin 'acme' (?: acme:modules): module 'acme.cache_get' may run locally (light or "
        "local_allowed) but gives no local_activity: set it to its `module:acme.cache_get` activity"
    ]
