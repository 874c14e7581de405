"""Templates: Jinja2 in a sandbox, strict about undefined names, deterministic, no I/O.

A string that is exactly one `{{ expression }}` yields the expression's value as it is;
any other string containing template syntax renders to a string.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping, MappingView
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from workflows.fast_expressions import Unsure, fast_expression
from workflows.typecheck import isinstance

# A template may not build strings or lists longer than this (guards workers against
# `{{ 'x' * 10**12 }}`); far above anything a definition needs.
MAX_SEQUENCE = 10_000_000
# Globals and filters that are random or otherwise not replay-safe.
_UNSAFE_GLOBALS = ("lipsum", "cycler", "joiner")
_UNSAFE_FILTERS = ("random",)


class TemplateError(Exception):
    """A template that does not parse or does not evaluate."""


class _Environment(SandboxedEnvironment):
    """Sandbox where `a.b` on a mapping means the key `b` first (so `steps.x.items` works)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def make_globals(self, d: Any) -> Any:
        # A plain dict, not Jinja's ChainMap over the environment's globals: every render
        # merges them with the scope, and merging a ChainMap costs a pure step more than the
        # rest of its template. The globals are set once, before any template is compiled.
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str) and name in _PADDING_METHODS:
            _check_sizes(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%":
            if isinstance(left, str):
                _check_format(left)
            return left % right
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sized and len(seq) * times > MAX_SEQUENCE:
                    raise TemplateError(f"result would be longer than {MAX_SEQUENCE} items")
            return left * right
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if numbers and abs(right) > 1 and abs(left) > 1 and abs(right) * math.log2(abs(left)) > 4096:
            raise TemplateError("power too large")
        return left**right


_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_HUGE_WIDTH = re.compile(r"[0-9]{8,}")


def _check_sizes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and value > MAX_SEQUENCE:
            raise TemplateError(f"width {value} is over the limit of {MAX_SEQUENCE}")


def _check_format(text: str) -> None:
    if _HUGE_WIDTH.search(text):
        raise TemplateError(f"a format width in {_short(text)} is over the limit of {MAX_SEQUENCE}")


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that refuses size arguments that would build huge strings."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_sizes(args[1:], kwargs)
        if fn.__name__ == "do_format" and args and isinstance(args[0], str):
            _check_format(args[0])
        return fn(*args, **kwargs)

    return guarded


@functools.lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one template environment (built on first use, never at import)."""
    env = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    for name in _UNSAFE_GLOBALS:
        env.globals.pop(name, None)
    for name in _UNSAFE_FILTERS:
        env.filters.pop(name, None)
    for name in ("center", "indent", "format", "truncate", "wordwrap"):
        env.filters[name] = _guarded(env.filters[name])
    return env


def is_template(text: str) -> bool:
    """True when a string contains template syntax and so is evaluated."""
    return "{{" in text or "{%" in text or "{#" in text


@dataclass(frozen=True)
class Template:
    """A parsed template, ready to evaluate many times."""

    source: str
    whole_value: bool
    paths: frozenset[tuple[str, ...]]
    _render: Callable[[Mapping[str, Any]], Any]

    @property
    def names(self) -> frozenset[str]:
        """The free names the template reads (`input`, `state`, `steps`, ...)."""
        return frozenset(p[0] for p in self.paths)

    def render(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate in `scope`; a whole-value template keeps the value's type."""
        try:
            value = self._render(scope)
        except TemplateError:
            raise
        except Exception as exc:  # any error inside user code is the template's error
            raise TemplateError(f"{_describe(exc)} in template {_short(self.source)}") from exc
        return to_json_value(value, self.source)


@functools.lru_cache(maxsize=4096)
def compile_template(source: str, as_text: bool = False) -> Template:
    """Parse a template once; raises TemplateError naming the line of a syntax error.

    With `as_text`, even a whole-value template renders to a string.
    """
    env = environment()
    try:
        tree = env.parse(source)
        paths = frozenset(_paths(tree))
        expression = None if as_text else _whole_value_expression(env, source, tree)
        if expression is not None:
            compiled = env.compile_expression(expression, undefined_to_none=False)
            return Template(source, True, paths, _whole_value(tree, compiled))
        template = env.from_string(tree)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno} of the template)" if "\n" in source.strip() else ""
        raise TemplateError(f"template syntax error{where}: {_describe_syntax(exc)}") from exc
    return Template(source, False, paths, lambda scope: template.render(**scope))


def _whole_value(tree: nodes.Template, compiled: Callable[..., Any]) -> Callable[[Mapping[str, Any]], Any]:
    """Evaluate a whole-value template: without Jinja's context where fast_expressions can."""
    output = tree.body[0]
    assert isinstance(output, nodes.Output)
    fast = fast_expression(output.nodes[0])
    if fast is None:
        return lambda scope: compiled(**scope)

    def evaluate(scope: Mapping[str, Any]) -> Any:
        if "self" in scope:  # Jinja refuses it (`compiled(self=...)`): so must this
            return compiled(**scope)
        try:
            return fast(scope)
        except Unsure:
            return compiled(**scope)

    return evaluate


def render_value(value: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate every template inside a value (strings in nested lists and mappings)."""
    if isinstance(value, str):
        return compile_template(value).render(scope) if is_template(value) else value
    if isinstance(value, list):
        return [render_value(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, scope) for k, v in value.items()}
    return value


def iter_templates(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every template string inside a value, with its path from the value's root."""
    if isinstance(value, str):
        if is_template(value):
            yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_templates(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_templates(v, (*path, str(k)))


def to_json_value(value: Any, source: str = "") -> Any:
    """Turn a template's result into plain JSON data, or fail naming what it was."""
    if isinstance(value, Undefined):
        try:
            str(value)
        except Exception as exc:
            raise TemplateError(f"{_describe(exc)} in template {_short(source)}") from exc
        raise TemplateError(f"undefined value in template {_short(source)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise TemplateError(
            f"template {_short(source)} produced {value}, which JSON cannot hold (no NaN or infinity)"
        )
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Markup | str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, source) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [to_json_value(v, source) for v in value]
        try:
            return sorted(items)
        except TypeError:  # mixed kinds: still a fixed order, so replays agree
            return sorted(items, key=repr)
    if isinstance(value, list | tuple | range | MappingView) or hasattr(value, "__next__"):
        return [to_json_value(v, source) for v in value]
    raise TemplateError(
        f"template {_short(source)} produced a {type(value).__name__}, which is not JSON data"
    )


def _whole_value_expression(env: SandboxedEnvironment, source: str, tree: nodes.Template) -> str | None:
    """The expression text when the source is exactly one `{{ expression }}`."""
    if len(tree.body) != 1:
        return None
    output = tree.body[0]
    if not isinstance(output, nodes.Output) or len(output.nodes) != 1:
        return None
    if isinstance(output.nodes[0], nodes.TemplateData):
        return None
    # Read the tags from the lexer, not the text: `}}` may close a nested literal
    # (`{{ {'a': {'b': 1}} }}`) or sit inside a string, and is then no tag's end.
    tokens = list(env.lex(source))
    if len(tokens) < 2 or tokens[0][1] != "variable_begin" or tokens[-1][1] != "variable_end":
        return None
    inner = tokens[1:-1]
    if any(kind.endswith("_begin") for _, kind, _ in inner):
        return None
    return "".join(text for _, _, text in inner).strip()


def _paths(tree: nodes.Template) -> Iterator[tuple[str, ...]]:
    """Free names and the constant attribute chains read from them (`steps.x.field`)."""
    free = meta.find_undeclared_variables(tree)
    for name in free:
        yield (name,)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        chain: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            if isinstance(current, nodes.Getattr):
                chain.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                chain.append(current.arg.value)
            else:
                chain.clear()
            current = current.node
        if isinstance(current, nodes.Name) and current.name in free and chain:
            yield (current.name, *reversed(chain))


def _describe_syntax(exc: TemplateSyntaxError) -> str:
    message = exc.message or "invalid syntax"
    return message[0].lower() + message[1:]


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else text


def _short(source: str, limit: int = 80) -> str:
    text = source if len(source) <= limit else source[: limit - 3] + "..."
    return repr(text)
