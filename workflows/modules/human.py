"""Declarations of the human modules (user.*): steps that pause until someone answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.durations import DURATION_PATTERN
from workflows.modules.registry import ModuleInput, ModuleOutput, json_schema


class Escalate(BaseModel):
    """Hand an unanswered step to another group for one more deadline."""

    model_config = ConfigDict(extra="forbid")

    escalate: str = Field(min_length=1, description="The group that may answer after the deadline")


def json_schema_or_none(value: Any) -> Any:
    """Accept a valid JSON Schema (or nothing); say what is wrong with anything else."""
    return None if value is None else json_schema(value)


class HumanInput(ModuleInput):
    """Inputs every human step takes (see docs/human-steps.md)."""

    assignees: list[str] = Field(
        default_factory=list, description="Users or groups who may answer (default: anyone allowed)"
    )
    deadline: str | None = Field(
        default=None, pattern=DURATION_PATTERN, description="How long to wait for an answer, e.g. 2d"
    )
    on_timeout: Literal["default", "fail", "skip"] | Escalate = Field(
        default="fail",
        description="At the deadline: take the default answer, fail the step, skip it, "
        "or {escalate: <group>} (the group may answer too, for one more deadline)",
    )
    remind_every: str | None = Field(
        default=None, pattern=DURATION_PATTERN, description="Remind the assignees this often"
    )


class SelectInput(HumanInput):
    data: Any = Field(description="The items to choose from: a list, or parents with children")
    schema_: Any = Field(default=None, alias="schema", description="How to show items (display hints)")
    multi_select: bool = Field(default=False, description="Allow choosing more than one")
    min_selections: int | None = Field(default=None, ge=0, description="Fewest items to choose")
    max_selections: int | None = Field(default=None, ge=1, description="Most items to choose")
    prompt: str | None = Field(default=None, description="What to ask")
    retry_from: str | None = Field(
        default=None,
        description="The earlier step a retry runs again from, with `feedback` in scope "
        "(default: the step whose outputs `data` reads)",
    )


class SelectOutput(ModuleOutput):
    selected_indices: list[Any] = Field(description="Positions chosen (paths for nested data)")
    selected_data: list[Any] = Field(description="The chosen items")
    retry_requested: bool = Field(description="The person asked to generate the choices again")
    feedback: str | None = Field(description="What the person said along with a retry")


class TextInputInput(HumanInput):
    prompt: str = Field(description="What to ask")
    default: str | None = Field(default=None, description="Pre-filled answer")
    validation_pattern: str | None = Field(
        default=None, description="Regular expression a valid answer matches in full"
    )
    jump_back_to: str | None = Field(
        default=None,
        description="The earlier step a jump back returns to, state restored as it was there "
        "(default: the previous human step)",
    )


class TextInputOutput(ModuleOutput):
    value: str = Field(description="The answer")
    jump_back_requested: bool = Field(description="The person asked to go back a step")


class FormInput(HumanInput):
    data: Any = Field(default=None, description="Rows to fill or correct, one per item")
    schema_: Any = Field(alias="schema", description="JSON Schema of one row")
    prompt: str | None = Field(default=None, description="What to ask")

    _schema = field_validator("schema_")(json_schema_or_none)


class FormOutput(ModuleOutput):
    form_data: Any = Field(description="The submitted rows")


class ApproveInput(HumanInput):
    prompt: str = Field(description="What to approve")
    data: Any = Field(default=None, description="What the approvers see (and may edit)")
    schema_: Any = Field(default=None, alias="schema", description="JSON Schema that edited data must fit")
    allow_edit: bool = Field(default=True, description="Approvers may edit data as they approve")
    quorum: int = Field(default=1, ge=1, description="Approvals needed (one rejection decides)")
    forbid_self_approval: bool = Field(default=False, description="The run's starter may not approve")

    _schema = field_validator("schema_")(json_schema_or_none)


class ApproveOutput(ModuleOutput):
    approved: bool = Field(description="True when the quorum approved")
    comment: str | None = Field(description="The deciding comment")
    decided_by: list[str] = Field(description="Who decided")
    data: Any = Field(description="The data approved: as the latest edit left it, else as given")
    edited: bool = Field(description="True when an approver edited the data")


class PauseInput(HumanInput):
    message: str = Field(description="What to tell the person before they continue")


class PauseOutput(ModuleOutput):
    confirmed: bool = Field(description="True once someone continued the run")


class FileInputInput(HumanInput):
    prompt: str = Field(description="What to ask for")
    extensions: list[str] = Field(default_factory=list, description="Accepted file extensions, e.g. ['.pdf']")


class FileInputOutput(ModuleOutput):
    value: str = Field(description="Reference of the stored file")
    filename: str = Field(description="The uploaded file's name")
