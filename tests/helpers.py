"""Shared test helpers: compile snippets, evaluate pure plans."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any

from workflows.compiler import CompileResult, compile_data, compile_text
from workflows.interpreter import Interpreter, PureOnly, RunInfo
from workflows.modules import Registry, builtin_registry
from workflows.plan import Plan

HEADER = "stepwise: 1\nname: test-definition\n"


def registry() -> Registry:
    """A fresh registry of the built-in modules."""
    return builtin_registry()


def compile_yaml(text: str, header: bool = True) -> CompileResult:
    """Compile YAML text (dedented; the stepwise/name header added unless told not to)."""
    body = textwrap.dedent(text)
    return compile_text((HEADER if header else "") + body, "test.yaml", registry())


def problems_of(text: str, header: bool = True) -> list[tuple[str, str]]:
    """(pointer, message) of every problem in a YAML definition."""
    result = compile_yaml(text, header)
    return [(p.where, p.message) for p in result.problems]


def plan_of(text: str, header: bool = True) -> Plan:
    """The plan of a valid YAML definition (fails the test with every problem otherwise)."""
    result = compile_yaml(text, header)
    assert result.plan is not None, [f"{p.where}: {p.message}" for p in result.problems]
    return result.plan


def evaluate(plan: Plan, run_input: Any = None, modules: Registry | None = None) -> Any:
    """Run a plan of pure steps to its output, once with a task per node and once with lone
    nodes inline (Interpreter's `inline`, engine generation 3): both must end the same."""
    run = RunInfo("run-1", plan.content_hash(), "2026-01-01T00:00:00+00:00")
    ends: list[tuple[Any, BaseException | None]] = []
    for inline in (False, True):
        interpreter = Interpreter(
            plan, modules or registry(), PureOnly(), run_input or {}, run, inline=inline
        )
        try:
            ends.append((asyncio.run(interpreter.run()), None))
        except Exception as exc:  # compared below, then raised
            ends.append((None, exc))
    (tasked, tasked_error), (inline_output, inline_error) = ends
    assert repr(inline_error) == repr(tasked_error), "inline and tasked nodes failed differently"
    assert inline_output == tasked, "inline and tasked nodes ended with different outputs"
    if tasked_error is not None:
        raise tasked_error
    return tasked


def evaluate_data(data: dict[str, Any], run_input: Any = None) -> Any:
    """Compile parsed data and run it."""
    result = compile_data(data, registry())
    assert result.plan is not None, [f"{p.where}: {p.message}" for p in result.problems]
    return evaluate(result.plan, run_input)
