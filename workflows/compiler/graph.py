"""Form B: nodes and edges, compiled into one plan body with every check."""

from __future__ import annotations

import difflib
from collections import deque
from typing import Any

from workflows import dsl
from workflows.compiler.rewind import node_point
from workflows.compiler.scope import RESERVED_NAMES, TEMPLATE_WORDS, Checker, RewindPoint, Scope, StepInfo
from workflows.compiler.steps import module_node
from workflows.modules.registry import Registry
from workflows.plan import START, Body, Incoming, PlanNode, RouteNode
from workflows.problems import join_pointer, pointer

_CONDITIONAL_KEYS = {"condition", "true_edge", "false_edge"}
_NOT_FOR_CONDITIONAL = ("outputs_to_state", "retry", "timeout", "on_error", "local")


class Edges:
    """The graph's edges: into each node (with the branch) and out of it (with their place)."""

    def __init__(self, ids: list[str]) -> None:
        self.into: dict[str, list[Incoming]] = {i: [] for i in ids}
        self.out: dict[str, list[tuple[str, str]]] = {i: [] for i in [START, *ids]}

    def add(self, source: str, target: str, where: str, branch: str | None = None) -> None:
        edge = Incoming(source=source, branch=branch)
        if edge not in self.into[target]:
            self.into[target].append(edge)
            self.out[source].append((target, where))


class GraphCompiler:
    """Compiles form B, reporting problems to the checker."""

    def __init__(self, definition: dsl.Definition, registry: Registry, checker: Checker) -> None:
        self.definition = definition
        self.registry = registry
        self.checker = checker

    def compile(self, nodes: list[dsl.Node], edges: list[dsl.Edge]) -> tuple[Body, Scope]:
        """The body (nodes in an order where sources come first) and the scope after it."""
        position: dict[str, int] = {}
        for index, node in enumerate(nodes):
            position.setdefault(node.id, index)
            if node.id in TEMPLATE_WORDS:
                self.checker.report(
                    pointer("nodes", index, "id"),
                    f"node id '{node.id}' is a reserved word in templates; rename it",
                )
            elif node.id in RESERVED_NAMES:
                what = "the implicit start node" if node.id == dsl.START else f"the template name {node.id}"
                self.checker.report(
                    pointer("nodes", index, "id"), f"node id '{node.id}' would clash with {what}; rename it"
                )
        graph = Edges(list(position))
        targets = self._conditionals(nodes, position, graph)
        self._edges(edges, position, targets, graph)
        order = self._order(nodes, position, graph)
        self._reachable(nodes, position, graph)
        ancestors = _ancestors(graph, list(position))
        handlers = {n.on_error.goto for n in nodes if isinstance(n.on_error, dsl.Goto)}
        infos: dict[str, StepInfo] = {}
        points: dict[str, RewindPoint] = {}
        plan_nodes: list[PlanNode] = []
        ran = [nodes[index].id for index in order]

        def ancestors_in_order(ids: set[str]) -> list[str]:
            return [i for i in ran if i in ids]

        for index in order:
            node = nodes[index]
            scope = Scope(
                finished={a: infos[a] for a in ancestors[node.id] if a in infos},
                node_names=frozenset(ancestors[node.id]),
                rewind=tuple(points[a] for a in ancestors_in_order(ancestors[node.id]) if a in points),
            ).at(node.id)
            if node.id in handlers:
                scope = scope.with_names("error")
            plan_node, info = self._node(node, index, scope, list(position))
            infos.setdefault(node.id, info)
            points.setdefault(node.id, node_point(node, self.registry))
            plan_nodes.append(plan_node.model_copy(update={"after": graph.into.get(node.id, [])}))
        final = Scope(finished=infos, node_names=frozenset(infos))
        return Body(nodes=plan_nodes), final

    def _conditionals(
        self, nodes: list[dsl.Node], position: dict[str, int], graph: Edges
    ) -> dict[str, set[str]]:
        """Branch edges of conditional nodes; returns each conditional's targets."""
        targets: dict[str, set[str]] = {}
        for index, node in enumerate(nodes):
            if node.type != dsl.CONDITIONAL or position[node.id] != index:
                continue
            targets[node.id] = set()
            where = pointer("nodes", index, "config")
            for branch in ("true", "false"):
                target = node.config.get(f"{branch}_edge")
                if not isinstance(target, str):
                    continue
                at = join_pointer(where, f"{branch}_edge")
                if target in position:
                    graph.add(node.id, target, at, branch)
                    targets[node.id].add(target)
                elif target not in self.checker.broken:
                    self.checker.report(at, f"there is no node '{target}'{_close(target, position)}")
        return targets

    def _edges(
        self, edges: list[dsl.Edge], position: dict[str, int], targets: dict[str, set[str]], graph: Edges
    ) -> None:
        for index, edge in enumerate(edges):
            where = pointer("edges", index)
            ok = True
            if edge.source != dsl.START and edge.source not in position:
                ok = False
                if edge.source not in self.checker.broken:
                    self.checker.report(
                        join_pointer(where, "source"),
                        f"there is no node '{edge.source}'{_close(edge.source, [dsl.START, *position])}",
                    )
            if edge.target == dsl.START:
                ok = False
                self.checker.report(
                    join_pointer(where, "target"), "start is where the run begins; no edge can lead to it"
                )
            elif edge.target not in position:
                ok = False
                if edge.target not in self.checker.broken:
                    self.checker.report(
                        join_pointer(where, "target"),
                        f"there is no node '{edge.target}'{_close(edge.target, position)}",
                    )
            if not ok:
                continue
            if edge.source in targets:
                if edge.target not in targets[edge.source]:
                    self.checker.report(
                        where,
                        f"an edge from conditional '{edge.source}' must lead to its true_edge or "
                        f"false_edge, and '{edge.target}' is neither",
                    )
                else:
                    continue
            source = START if edge.source == dsl.START else edge.source
            graph.add(source, edge.target, where)

    def _order(self, nodes: list[dsl.Node], position: dict[str, int], graph: Edges) -> list[int]:
        """Positions of nodes in a topological order; reports each cycle."""
        waiting = {n: len({e.source for e in graph.into[n] if e.source != START}) for n in position}
        ready = deque(sorted((n for n, c in waiting.items() if c == 0), key=position.__getitem__))
        order: list[int] = []
        while ready:
            current = ready.popleft()
            order.append(position[current])
            for target in sorted({t for t, _ in graph.out[current]}, key=position.__getitem__):
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
        remaining = [n for n in position if waiting[n] > 0]
        reported: set[str] = set()
        for start in remaining:
            if start in reported:
                continue
            cycle, where = _find_cycle(start, graph, set(remaining))
            if cycle:
                reported.update(cycle)
                path = " → ".join([*cycle, cycle[0]])
                self.checker.report(
                    where, f"cycle: {path}; a graph cannot loop back (use a loop block, or on_error goto)"
                )
        order.extend(sorted((position[n] for n in remaining), key=int))
        order.extend(i for i in range(len(nodes)) if i not in order)
        return order

    def _reachable(self, nodes: list[dsl.Node], position: dict[str, int], graph: Edges) -> None:
        seen = {START}
        queue = deque([START])
        while queue:
            for target, _ in graph.out[queue.popleft()]:
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        for node_id, index in position.items():
            if node_id not in seen and node_id not in self.checker.broken:
                self.checker.report(
                    pointer("nodes", index),
                    f"node '{node_id}' is not reachable from start: "
                    "add an edge to it from start or another node",
                )

    def _node(self, node: dsl.Node, index: int, scope: Scope, ids: list[str]) -> tuple[PlanNode, StepInfo]:
        where = pointer("nodes", index)
        if node.type == dsl.CONDITIONAL:
            return self._conditional(node, where, scope)
        if isinstance(node.on_error, dsl.Goto):
            at = join_pointer(where, "on_error", "goto")
            if node.on_error.goto == node.id:
                self.checker.report(
                    at, "on_error goto cannot name the node itself: use retry to run it again"
                )
            elif node.on_error.goto not in ids:
                self.checker.report(
                    at, f"there is no node '{node.on_error.goto}'{_close(node.on_error.goto, ids)}"
                )
        module = dsl.NODE_ALIASES.get(node.type, node.type)
        return module_node(
            node.id,
            module,
            node.config,
            node,
            where,
            join_pointer(where, "type"),
            join_pointer(where, "config"),
            scope,
            self.registry,
            self.checker,
            self.definition.defaults,
        )

    def _conditional(self, node: dsl.Node, where: str, scope: Scope) -> tuple[PlanNode, StepInfo]:
        config: dict[str, Any] = node.config
        for key in sorted(set(config) - _CONDITIONAL_KEYS):
            self.checker.report(
                join_pointer(where, "config", key),
                f"unknown key '{key}'; a conditional's config has condition, true_edge and false_edge",
            )
        for key in _NOT_FOR_CONDITIONAL:
            if key in node.model_fields_set:
                self.checker.report(join_pointer(where, key), f"a conditional node only routes: remove {key}")
        condition = config.get("condition")
        if not isinstance(condition, str | bool):
            self.checker.report(
                join_pointer(where, "config"),
                'a conditional needs config.condition, e.g. "{{ x.output.ok }}"',
            )
            condition = False
        else:
            self.checker.condition(condition, join_pointer(where, "config", "condition"), scope)
        for key in ("true_edge", "false_edge"):
            if key in config and not isinstance(config[key], str):
                self.checker.report(join_pointer(where, "config", key), f"{key} must be a node id")
        if not any(isinstance(config.get(k), str) for k in ("true_edge", "false_edge")):
            self.checker.report(
                join_pointer(where, "config"), "a conditional needs a true_edge, a false_edge or both"
            )
        info = StepInfo(node.id, where, "a conditional", frozenset())
        return RouteNode(id=node.id, pointer=where, condition=condition), info


def _ancestors(graph: Edges, ids: list[str]) -> dict[str, set[str]]:
    """For each node, every node with a path of edges to it."""
    result: dict[str, set[str]] = {}
    for node_id in ids:
        seen: set[str] = set()
        stack = [e.source for e in graph.into[node_id]]
        while stack:
            current = stack.pop()
            if current == START or current in seen:
                continue
            seen.add(current)
            stack.extend(e.source for e in graph.into[current])
        seen.discard(node_id)
        result[node_id] = seen
    return result


def _find_cycle(start: str, graph: Edges, within: set[str]) -> tuple[list[str], str]:
    """A cycle through nodes in `within` reachable from `start`, and where its closing edge is."""
    path: list[str] = []
    on_path: dict[str, int] = {}
    visited: set[str] = set()

    def visit(node: str) -> tuple[list[str], str] | None:
        on_path[node] = len(path)
        path.append(node)
        for target, where in graph.out[node]:
            if target not in within:
                continue
            if target in on_path:
                return path[on_path[target] :], where
            if target not in visited:
                found = visit(target)
                if found:
                    return found
        visited.add(node)
        path.pop()
        del on_path[node]
        return None

    found = visit(start)
    return found if found else ([], "")


def _close(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
