"""Acme's Stepwise modules: once this package is installed, `stepwise modules` lists them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from workflows.modules.registry import ModuleInput, ModuleOutput, ModuleSpec


class SlugifyInput(ModuleInput):
    text: str = Field(description="The text to turn into a slug")


class SlugifyOutput(ModuleOutput):
    slug: str = Field(description="Lowercase ASCII words joined by hyphens")


def slugify(inputs: SlugifyInput, scope: Mapping[str, Any]) -> SlugifyOutput:
    """Runs inside the workflow, so it is deterministic: no clock, randomness or I/O."""
    ascii_text = unicodedata.normalize("NFKD", inputs.text).encode("ascii", "ignore").decode("ascii")
    return SlugifyOutput(slug="-".join(re.findall(r"[a-z0-9]+", ascii_text.lower())))


modules = [
    ModuleSpec(
        name="acme.slugify",
        runs="workflow",
        input_model=SlugifyInput,
        output_model=SlugifyOutput,
        description="Turn text into a URL slug",
        run=slugify,
    ),
]
