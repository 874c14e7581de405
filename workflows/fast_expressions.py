"""Whole-value expressions evaluated without Jinja's per-call machinery, where that is safe.

Jinja evaluates `{{ steps.a.value + 1 }}` by building a template context (the globals merged
with the scope, an eval context) at every call: most of a pure step's template cost. The
expressions definitions mostly hold are names, attribute and item reads, constants,
arithmetic without the sandbox's guarded operators, comparisons and `and`/`or`/`not`. For
those, `fast_expression` builds a plain function of the scope.

The function only answers when it is sure it means what Jinja means: it reads a name only
from the scope, `a.b` only as the key `b` of a dict (what the environment's `getattr` does
first) and `a[i]` only of a dict or a list. Anything else (a missing name, a missing key, a
failed operation) raises `Unsure`, and the caller evaluates with Jinja, which gives the value
or the error it always gave. The subset calls nothing and changes nothing, so evaluating an
expression twice is harmless.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes

from workflows.typecheck import isinstance

Evaluate = Callable[[Mapping[str, Any]], Any]

# Binary operators Jinja writes as plain Python (`*`, `**` and `%` go through the sandbox's
# size guards instead: not here).
_BINARY: dict[type[nodes.BinExpr], Callable[[Any, Any], Any]] = {
    nodes.Add: operator.add,
    nodes.Sub: operator.sub,
    nodes.Div: operator.truediv,
    nodes.FloorDiv: operator.floordiv,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lteq": operator.le,
    "gt": operator.gt,
    "gteq": operator.ge,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


class Unsure(Exception):
    """The fast path cannot tell what Jinja would make of this: ask Jinja."""


def fast_expression(node: nodes.Expr) -> Evaluate | None:
    """A function of the scope computing `node` as Jinja would, or None when `node` is
    outside the subset."""
    try:
        return _build(node)
    except _Outside:
        return None


class _Outside(Exception):
    pass


def _build(node: nodes.Node) -> Evaluate:
    if isinstance(node, nodes.Const):
        value = node.value
        if value is not None and type(value) not in (str, int, float, bool):
            raise _Outside
        return lambda scope: value
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return _name(node.name)
    if isinstance(node, nodes.Getattr) and node.ctx == "load":
        return _key(_build(node.node), node.attr)
    if isinstance(node, nodes.Getitem) and node.ctx == "load" and not isinstance(node.arg, nodes.Slice):
        return _item(_build(node.node), _build(node.arg))
    if isinstance(node, nodes.BinExpr) and type(node) in _BINARY:
        return _binary(_BINARY[type(node)], _build(node.left), _build(node.right))
    if isinstance(node, nodes.And | nodes.Or):
        return _logic(isinstance(node, nodes.And), _build(node.left), _build(node.right))
    if isinstance(node, nodes.Not):
        inner = _build(node.node)
        return lambda scope: not inner(scope)
    if isinstance(node, nodes.Neg | nodes.Pos):
        return _unary(operator.neg if isinstance(node, nodes.Neg) else operator.pos, _build(node.node))
    if isinstance(node, nodes.Compare) and all(o.op in _COMPARE for o in node.ops):
        return _compare(_build(node.expr), [(_COMPARE[o.op], _build(o.expr)) for o in node.ops])
    raise _Outside


def _name(name: str) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        try:
            return scope[name]
        except KeyError:
            raise Unsure from None

    return evaluate


def _key(of: Evaluate, key: str) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        value = of(scope)
        if type(value) is dict and key in value:
            return value[key]
        raise Unsure

    return evaluate


def _item(of: Evaluate, index: Evaluate) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        value, key = of(scope), index(scope)
        if type(value) is dict or type(value) is list:
            try:
                return value[key]
            except (TypeError, LookupError):
                raise Unsure from None
        raise Unsure

    return evaluate


def _binary(op: Callable[[Any, Any], Any], left: Evaluate, right: Evaluate) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        a, b = left(scope), right(scope)
        try:
            return op(a, b)
        except Exception:  # Jinja raises it, in its own words
            raise Unsure from None

    return evaluate


def _unary(op: Callable[[Any], Any], inner: Evaluate) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        value = inner(scope)
        try:
            return op(value)
        except Exception:  # Jinja raises it, in its own words
            raise Unsure from None

    return evaluate


def _logic(conjunction: bool, left: Evaluate, right: Evaluate) -> Evaluate:
    if conjunction:
        return lambda scope: left(scope) and right(scope)
    return lambda scope: left(scope) or right(scope)


def _compare(first: Evaluate, rest: list[tuple[Callable[[Any, Any], Any], Evaluate]]) -> Evaluate:
    def evaluate(scope: Mapping[str, Any]) -> Any:
        left = first(scope)
        result: Any = True
        for op, of in rest:
            right = of(scope)
            try:
                result = op(left, right)
            except Exception:  # Jinja raises it, in its own words
                raise Unsure from None
            if not result:
                return result
            left = right
        return result

    return evaluate
