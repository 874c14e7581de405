"""workflows/ stays replay-safe: it imports only deterministic libraries (backs the import-linter contract)."""

from __future__ import annotations

import ast
from pathlib import Path

WORKFLOWS = Path(__file__).parents[2] / "workflows"
ALLOWED = {
    "__future__",
    "asyncio",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "difflib",
    "enum",
    "functools",
    "hashlib",
    "itertools",
    "json",
    "math",
    "operator",
    "re",
    "typing",
    "pydantic",
    "jinja2",
    "markupsafe",
    "jsonschema",
    "yaml",
    "workflows",
}
ALLOWED_TEMPORAL = {"temporalio.workflow", "temporalio.common", "temporalio.exceptions"}
# workflows/typecheck.py binds the real isinstance (the sandbox swaps the builtin for a wrapper).
ALLOWED_NAMES = {"builtins.isinstance"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_workflows_import_only_replay_safe_modules() -> None:
    offenders = []
    for path in sorted(WORKFLOWS.rglob("*.py")):
        for name in imports_of(path):
            if (
                name in ALLOWED_NAMES
                or name.split(".")[0] in ALLOWED
                or any(name == t or name.startswith(t + ".") for t in ALLOWED_TEMPORAL)
            ):
                continue
            offenders.append(f"{path.relative_to(WORKFLOWS.parent)}: {name}")
    assert offenders == []


def test_the_check_catches_an_io_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import socket\nfrom sqlalchemy import select\nfrom temporalio import client\n")
    assert imports_of(sample) == {"socket", "sqlalchemy.select", "temporalio.client"}
