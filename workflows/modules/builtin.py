"""The modules Stepwise ships with."""

from __future__ import annotations

from workflows.modules import api, human, parse_pattern, render, transform, validate
from workflows.modules.registry import ModuleSpec, Registry

LLM_QUEUE = "llm"
INTEGRATIONS_QUEUE = "integrations"


def builtin_specs() -> list[ModuleSpec]:
    """Declarations of every built-in module."""
    return [
        ModuleSpec(
            "transform.reshape",
            "workflow",
            transform.ReshapeInput,
            transform.ReshapeOutput,
            "Build data from a template, once or once per item (_for_each/_output)",
            run=transform.reshape,
            self_rendered=("template",),
            template_sites=transform.reshape_template_sites,
        ),
        ModuleSpec(
            "transform.extract",
            "workflow",
            transform.ExtractInput,
            transform.ExtractOutput,
            "Name values: every input becomes an output of the same name",
            run=transform.extract,
            outputs_from_inputs=True,
        ),
        ModuleSpec(
            "transform.concat_arrays",
            "workflow",
            transform.ConcatArraysInput,
            transform.ConcatArraysOutput,
            "Join lists end to end",
            run=transform.concat_arrays,
        ),
        ModuleSpec(
            "transform.parse_pattern",
            "workflow",
            parse_pattern.ParsePatternInput,
            parse_pattern.ParsePatternOutput,
            "Parse text into typed records with a regex",
            run=parse_pattern.parse_pattern,
        ),
        ModuleSpec(
            "transform.render_template_array",
            "workflow",
            render.RenderTemplateArrayInput,
            render.RenderTemplateArrayOutput,
            "Render a template once per item and join the texts",
            run=render.render_template_array,
            self_rendered=("template",),
            template_sites=render.render_array_template_sites,
        ),
        ModuleSpec(
            "io.render_template",
            "workflow",
            render.RenderTemplateInput,
            render.RenderTemplateOutput,
            "Render a text template",
            run=render.render_template,
            self_rendered=("template",),
            template_sites=render.render_template_sites,
        ),
        ModuleSpec(
            "io.validate",
            "workflow",
            validate.ValidateInput,
            validate.ValidateOutput,
            "Check data against a JSON Schema",
            run=validate.validate,
        ),
        ModuleSpec(
            "api.fetch",
            "activity",
            api.FetchInput,
            api.FetchOutput,
            "Call an HTTP API",
            queue=INTEGRATIONS_QUEUE,
            heartbeat_ms=15_000,
            # Not light: a POST need not be idempotent, and in production the integrations
            # workers may be the only ones that reach the outside. A step may say `local: true`.
            local_allowed=True,
        ),
        ModuleSpec(
            "api.llm",
            "activity",
            api.LlmInput,
            api.LlmOutput,
            "Ask a language model",
            queue=LLM_QUEUE,
            heartbeat_ms=30_000,
        ),
        ModuleSpec(
            "user.select",
            "human",
            human.SelectInput,
            human.SelectOutput,
            "A person picks items from a list",
        ),
        ModuleSpec(
            "user.text_input",
            "human",
            human.TextInputInput,
            human.TextInputOutput,
            "A person types an answer",
        ),
        ModuleSpec(
            "user.form",
            "human",
            human.FormInput,
            human.FormOutput,
            "A person fills or corrects rows of a form",
        ),
        ModuleSpec(
            "user.approve",
            "human",
            human.ApproveInput,
            human.ApproveOutput,
            "People approve or reject, optionally editing first",
        ),
        ModuleSpec(
            "user.pause",
            "human",
            human.PauseInput,
            human.PauseOutput,
            "Wait until a person continues the run",
        ),
        ModuleSpec(
            "user.file_input",
            "human",
            human.FileInputInput,
            human.FileInputOutput,
            "A person uploads a file",
        ),
    ]


def builtin_registry() -> Registry:
    """A registry holding only the built-in modules."""
    return Registry(builtin_specs())
