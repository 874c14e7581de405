"""Walking the steps of form A, blocks' inner steps included."""

from __future__ import annotations

from collections.abc import Iterator

from workflows import dsl

Path = tuple[str | int, ...]


def walk_steps(steps: list[dsl.Step], path: Path) -> Iterator[tuple[dsl.Step, Path]]:
    """Every step in a list, blocks' inner steps included, with its path."""
    for index, step in enumerate(steps):
        here = (*path, index)
        yield step, here
        for child_steps, child_path in child_lists(step, here):
            yield from walk_steps(child_steps, child_path)


def child_lists(step: dsl.Step, here: Path) -> Iterator[tuple[list[dsl.Step], Path]]:
    """The step lists a block holds, with their paths."""
    if isinstance(step, dsl.ParallelStep):
        for name, branch in step.parallel.items():
            yield branch, (*here, "parallel", name)
    elif isinstance(step, dsl.ForEachStep | dsl.LoopStep):
        yield step.steps, (*here, "steps")
    elif isinstance(step, dsl.SwitchStep):
        for name, case in step.cases.items():
            yield case, (*here, "cases", name)
        yield step.default, (*here, "default")
    elif isinstance(step, dsl.IfStep):
        yield step.then, (*here, "then")
        yield step.else_, (*here, "else")
