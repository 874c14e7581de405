"""Definition files on disk: a folder of YAML/JSON definitions, found by their `name`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from workflows.compiler import DefinitionLookup
from workflows.loader import parse_text
from workflows.problems import DefinitionError

SUFFIXES = (".yaml", ".yml", ".json")


def definition_files(folder: Path) -> list[Path]:
    """Definition files directly in a folder, sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders replaced by the definition files in them."""
    expanded: list[Path] = []
    for path in paths:
        expanded.extend(definition_files(path) if path.is_dir() else [path])
    return expanded


def names_in_folder(folder: Path) -> dict[str, Path]:
    """The `name` of each parseable definition in a folder (files that do not parse are skipped:
    validating them reports their own problems)."""
    names: dict[str, Path] = {}
    for path in definition_files(folder):
        try:
            data = parse_text(path.read_text(encoding="utf-8"), path.name)
        except (DefinitionError, UnicodeDecodeError, OSError):
            continue
        name = data.get("name")
        if isinstance(name, str):
            names.setdefault(name, path)
    return names


def folder_lookup(known: dict[str, Path]) -> DefinitionLookup:
    """Whether a `call` finds its definition among a folder's names (a folder holds one version
    of each, so a pinned version is not checked here; the registry checks versions)."""
    return lambda name, version: name in known
