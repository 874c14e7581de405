"""Text rendering modules: io.render_template and transform.render_template_array."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, field_validator

from workflows.modules.registry import ModuleInput, ModuleOutput, TemplateSite
from workflows.templates import compile_template, is_template
from workflows.typecheck import isinstance


class RenderTemplateInput(ModuleInput):
    template: str = Field(description="Text with templates, rendered to text (even one {{ value }})")


class RenderTemplateOutput(ModuleOutput):
    rendered: str = Field(description="The rendered text")


def render_template(inputs: RenderTemplateInput, scope: Mapping[str, Any]) -> RenderTemplateOutput:
    """Render the text; the module renders it itself so `{{ state.count }}` gives "3", not 3."""
    if not is_template(inputs.template):
        return RenderTemplateOutput(rendered=inputs.template)
    return RenderTemplateOutput(rendered=str(compile_template(inputs.template, as_text=True).render(scope)))


def render_template_sites(inputs: Mapping[str, Any]) -> Iterator[TemplateSite]:
    """The text template, checked with the run's names."""
    template = inputs.get("template")
    if isinstance(template, str) and is_template(template):
        yield TemplateSite(("template",), template, frozenset())


# Names a template reads as something else, or that would hide the run's names.
_RESERVED = frozenset(
    {
        "self",
        "true",
        "false",
        "none",
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "input",
        "state",
        "steps",
        "run",
    }
)


class RenderTemplateArrayInput(ModuleInput):
    items: list[Any] = Field(description="The items to render the template for")
    template: str = Field(description="Rendered once per item by the module itself")
    separator: str = Field(default="\n\n", description="Put between the rendered sections")
    item_variable: str = Field(
        default="item", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name of the item"
    )
    index_variable: str = Field(
        default="index", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name of its 0-based position"
    )

    @field_validator("item_variable", "index_variable")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if value in _RESERVED:
            raise ValueError(f"'{value}' cannot name a template variable; choose another name")
        return value


class RenderTemplateArrayOutput(ModuleOutput):
    rendered: str = Field(description="The sections joined by the separator")
    sections: list[str] = Field(description="One rendered text per item")
    count: int = Field(description="How many items were rendered")


def render_array_template_sites(inputs: Mapping[str, Any]) -> Iterator[TemplateSite]:
    """The per-item template, with the item and index names it may use."""
    template = inputs.get("template")
    if isinstance(template, str) and is_template(template):
        item = inputs.get("item_variable", "item")
        index = inputs.get("index_variable", "index")
        names = frozenset(n for n in (item, index) if isinstance(n, str))
        yield TemplateSite(("template",), template, names)


def render_template_array(
    inputs: RenderTemplateArrayInput, scope: Mapping[str, Any]
) -> RenderTemplateArrayOutput:
    """Render one section per item and join them."""
    template = compile_template(inputs.template, as_text=True)
    sections = [
        str(template.render({**scope, inputs.item_variable: item, inputs.index_variable: index}))
        for index, item in enumerate(inputs.items)
    ]
    return RenderTemplateArrayOutput(
        rendered=inputs.separator.join(sections), sections=sections, count=len(sections)
    )
