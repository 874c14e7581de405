"""Problems found in a definition, each tied to a place in the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer (RFC 6901) from path parts; no parts is the whole document."""
    if not parts:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def join_pointer(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer with more path parts."""
    tail = pointer(*parts) if parts else ""
    if base == "/":
        return tail or "/"
    return base + tail


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a definition, at a JSON pointer (or a line and column)."""

    where: str
    message: str
    line: int | None = None
    column: int | None = None

    def render(self, filename: str) -> str:
        """Format as `FILE:/pointer: message`, or `FILE:LINE:COLUMN: message` for syntax errors."""
        if self.line is not None:
            return f"{filename}:{self.line}:{self.column or 1}: {self.message}"
        return f"{filename}:{self.where}: {self.message}"


class DefinitionError(Exception):
    """A definition that cannot be loaded or compiled; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__("; ".join(f"{p.where}: {p.message}" for p in self.problems))


def _sort_key(p: Problem) -> tuple[int, int, list[str | int], str]:
    parts: list[str | int] = [int(s) if s.isdigit() else s for s in p.where.split("/") if s]
    return (p.line or 0, p.column or 0, parts, p.message)
