"""Human steps: what a pending step asks (InteractionRequest) and which answers it accepts.

Validation is pure, so RunWorkflow's Update validator can refuse a bad answer before it
reaches history.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from workflows.typecheck import isinstance

ANYONE = "*"


class Responder(BaseModel):
    """Who answers: a user id and the groups it belongs to (the API maps logins onto these)."""

    user: str = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)


class RespondInput(BaseModel):
    """The `respond` Update: an answer to one open interaction."""

    interaction_id: str
    data: dict[str, Any] = Field(default_factory=dict)
    responder: Responder


class RespondResult(BaseModel):
    interaction_id: str
    step_id: str
    outputs: dict[str, Any]
    answered_by: str
    answered_at: str
    # False while an approval still waits for more approvers (outputs then tally the votes).
    decided: bool = True


class Vote(BaseModel):
    """One approver's answer; `version` counts the edits of the data up to and including it."""

    user: str
    approved: bool
    comment: str | None = None
    edited: bool = False
    data: Any = None
    version: int = 0


class InteractionSummary(BaseModel):
    """A pending human step as an inbox lists it: without its data and answer schema, which
    the `interactions` query gives in full."""

    id: str
    step_id: str
    type: str
    prompt: str | None = None
    constraints: dict[str, Any] = Field(default_factory=dict)
    assignees: list[str] = Field(default_factory=list)
    created_at: str
    deadline: str | None = None


# Prompts longer than this are cut in the inbox memo (the query has them in full).
SUMMARY_PROMPT_CHARS = 300


class InteractionRequest(InteractionSummary):
    """A pending human step: what it asks, and the JSON Schema of a valid answer."""

    data: Any = None
    answer_schema: dict[str, Any]
    # user.select's `schema`: display hints for the UI (`display: grid|list`, which keys of an
    # item are its `title`, `subtitle` and `image`, `children` for nested parents).
    display: dict[str, Any] | None = None

    def summary(self) -> InteractionSummary:
        prompt = self.prompt
        if prompt is not None and len(prompt) > SUMMARY_PROMPT_CHARS:
            prompt = prompt[: SUMMARY_PROMPT_CHARS - 1] + "…"
        fields = self.model_dump(include=set(InteractionSummary.model_fields))
        return InteractionSummary.model_validate({**fields, "prompt": prompt})


class InvalidAnswer(ValueError):
    """An answer that the step cannot accept; the message says what is wrong."""


def may_answer(request: InteractionSummary, responder: Responder) -> bool:
    """Anyone may answer an unassigned step; otherwise the user or one of its groups is listed."""
    if not request.assignees:
        return True
    return responder.user in request.assignees or any(g in request.assignees for g in responder.groups)


def awaiting(requests: list[InteractionRequest]) -> list[str]:
    """The StepwiseAwaiting values: who may answer any open interaction (`*` for anyone)."""
    names: list[str] = []
    for request in requests:
        for name in request.assignees or [ANYONE]:
            if name not in names:
                names.append(name)
    return sorted(names)


def request_for(
    module: str, inputs: dict[str, Any], interaction_id: str, step_id: str, now: str
) -> InteractionRequest:
    """The interaction a human step opens, from its rendered inputs."""
    constraints = {
        k: inputs[k]
        for k in (
            "multi_select",
            "min_selections",
            "max_selections",
            "validation_pattern",
            "extensions",
            "quorum",
            "allow_edit",
        )
        if inputs.get(k) is not None
    }
    return InteractionRequest(
        id=interaction_id,
        step_id=step_id,
        type=module,
        prompt=inputs.get("prompt") or inputs.get("message"),
        data=inputs.get("data", inputs.get("default")),
        answer_schema=answer_schema(module, inputs),
        display=inputs.get("schema")
        if module == "user.select" and isinstance(inputs.get("schema"), dict)
        else None,
        constraints=constraints,
        assignees=list(inputs.get("assignees") or []),
        created_at=now,
        deadline=inputs.get("deadline"),
    )


def answer_schema(module: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a valid answer, with the step's own schema where it has one."""
    schema = ANSWER_SCHEMAS[module]
    own = inputs.get("schema")
    if module == "user.form" and isinstance(own, dict):
        rows = {"type": "array", "items": own} if isinstance(inputs.get("data"), list) else own
        return {**schema, "properties": {"form_data": rows}}
    if module == "user.approve" and inputs.get("allow_edit") is False:
        return {**schema, "properties": {k: v for k, v in schema["properties"].items() if k != "data"}}
    if module == "user.approve" and isinstance(own, dict):
        return {**schema, "properties": {**schema["properties"], "data": own}}
    return schema


def answer_outputs(module: str, inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    """The step's outputs for an answer; raises InvalidAnswer saying what is wrong."""
    errors = sorted(Draft202012Validator(ANSWER_SCHEMAS[module]).iter_errors(data), key=lambda e: e.message)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise InvalidAnswer(f"{'/' + where + ': ' if where else ''}{errors[0].message}")
    return _CHECKS[module](inputs, data, who)


def _select(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    if data.get("retry"):
        return {
            "selected_indices": [],
            "selected_data": [],
            "retry_requested": True,
            "feedback": data.get("feedback"),
        }
    items = inputs.get("data")
    if not isinstance(items, list):
        raise InvalidAnswer("this step has no list to choose from")
    chosen: list[int] = data.get("selected_indices", [])
    if len(set(chosen)) != len(chosen):
        raise InvalidAnswer("selected_indices repeats an item")
    for index in chosen:
        if not 0 <= index < len(items):
            raise InvalidAnswer(f"selected_indices: {index} is not an item (0 to {len(items) - 1})")
    multi = bool(inputs.get("multi_select"))
    least = int(inputs.get("min_selections") or (0 if inputs.get("min_selections") == 0 else 1))
    given_most = inputs.get("max_selections")
    most = int(given_most) if given_most is not None else (len(items) if multi else 1)
    if not multi and len(chosen) != 1:
        raise InvalidAnswer(f"choose exactly one item, not {len(chosen)}")
    if len(chosen) < least or len(chosen) > most:
        raise InvalidAnswer(f"choose between {least} and {most} items, not {len(chosen)}")
    return {
        "selected_indices": chosen,
        "selected_data": [items[i] for i in chosen],
        "retry_requested": False,
        "feedback": data.get("feedback"),
    }


def _text(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    if data.get("jump_back"):
        return {"value": "", "jump_back_requested": True}
    value = data.get("value", inputs.get("default"))
    if not isinstance(value, str):
        raise InvalidAnswer("value: an answer is required (this step has no default)")
    pattern = inputs.get("validation_pattern")
    if pattern and re.fullmatch(pattern, value) is None:
        raise InvalidAnswer(f"value: {value!r} does not match the pattern {pattern}")
    return {"value": value, "jump_back_requested": False}


def _form(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    rows = data["form_data"]
    schema = inputs.get("schema") or {}
    items = rows if isinstance(inputs.get("data"), list) else [rows]
    if isinstance(inputs.get("data"), list) and not isinstance(rows, list):
        raise InvalidAnswer("form_data: a list of rows is expected, one per item")
    for index, row in enumerate(items):
        error = next(iter(Draft202012Validator(schema).iter_errors(row)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise InvalidAnswer(f"form_data/{index}{'/' + where if where else ''}: {error.message}")
    return {"form_data": rows}


def _approve(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    edited = "data" in data
    if edited and not data["approved"]:
        raise InvalidAnswer("data: only an approval carries edited data; to reject, say why in comment")
    if edited and inputs.get("allow_edit") is False:
        raise InvalidAnswer("data: this approval does not allow edits (allow_edit: false)")
    if edited and inputs.get("schema") is not None:
        error = next(iter(Draft202012Validator(inputs["schema"]).iter_errors(data["data"])), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise InvalidAnswer(f"data{'/' + where if where else ''}: {error.message}")
    return {
        "approved": data["approved"],
        "comment": data.get("comment"),
        "decided_by": [who],
        "data": data["data"] if edited else inputs.get("data"),
        "edited": edited,
    }


def _pause(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    return {"confirmed": True}


def _file(inputs: dict[str, Any], data: dict[str, Any], who: str) -> dict[str, Any]:
    extensions = [e.lower() for e in inputs.get("extensions") or []]
    if extensions and not any(data["filename"].lower().endswith(e) for e in extensions):
        raise InvalidAnswer(f"filename: {data['filename']!r} is not one of {', '.join(extensions)}")
    return {"value": data["value"], "filename": data["filename"]}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


ANSWER_SCHEMAS: dict[str, dict[str, Any]] = {
    "user.select": _object(
        {
            "selected_indices": {"type": "array", "items": {"type": "integer"}},
            "retry": {"type": "boolean"},
            "feedback": {"type": ["string", "null"]},
        }
    ),
    "user.text_input": _object({"value": {"type": "string"}, "jump_back": {"type": "boolean"}}),
    "user.form": _object({"form_data": {}}, ["form_data"]),
    "user.approve": _object(
        {"approved": {"type": "boolean"}, "comment": {"type": ["string", "null"]}, "data": {}}, ["approved"]
    ),
    "user.pause": _object({"confirmed": {"const": True}}),
    "user.file_input": _object(
        {"value": {"type": "string"}, "filename": {"type": "string"}}, ["value", "filename"]
    ),
}
_CHECKS = {
    "user.select": _select,
    "user.text_input": _text,
    "user.form": _form,
    "user.approve": _approve,
    "user.pause": _pause,
    "user.file_input": _file,
}


def default_outputs(module: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What a step outputs when its deadline passes with `on_timeout: default`."""
    defaults: dict[str, dict[str, Any]] = {
        "user.select": {
            "selected_indices": [],
            "selected_data": [],
            "retry_requested": False,
            "feedback": None,
        },
        "user.text_input": {"value": inputs.get("default") or "", "jump_back_requested": False},
        "user.form": {"form_data": inputs.get("data")},
        "user.approve": {
            "approved": False,
            "comment": "no decision before the deadline",
            "decided_by": [],
            "data": inputs.get("data"),
            "edited": False,
        },
        "user.pause": {"confirmed": False},
        "user.file_input": {"value": "", "filename": ""},
    }
    return defaults[module]


def check_vote(inputs: dict[str, Any], owner: str | None, votes: list[Vote], responder: Responder) -> None:
    """Refuse a second vote by the same person on the same version of the data, and
    self-approval where it is forbidden."""
    version = current_version(votes)
    if any(v.user == responder.user and v.version == version for v in votes):
        raise InvalidAnswer(f"{responder.user} has already answered this approval")
    if inputs.get("forbid_self_approval") and owner is not None and responder.user == owner:
        raise InvalidAnswer(
            f"{responder.user} started this run and may not approve it (forbid_self_approval)"
        )


def current_version(votes: list[Vote]) -> int:
    """How many times approvers have edited the data so far."""
    return votes[-1].version if votes else 0


def cast_vote(votes: list[Vote], user: str, outputs: dict[str, Any]) -> Vote:
    """Record an answer; an edit starts a new version, which earlier approvals do not cover."""
    edited = bool(outputs.get("edited"))
    vote = Vote(
        user=user,
        approved=outputs["approved"],
        comment=outputs.get("comment"),
        edited=edited,
        data=outputs.get("data") if edited else None,
        version=current_version(votes) + (1 if edited else 0),
    )
    votes.append(vote)
    return vote


def approved_data(inputs: dict[str, Any], votes: list[Vote]) -> tuple[Any, bool]:
    """The data as the latest edit left it (or as given), and whether anyone edited it."""
    for vote in reversed(votes):
        if vote.edited:
            return vote.data, True
    return inputs.get("data"), False


def tally(inputs: dict[str, Any], votes: list[Vote]) -> dict[str, Any] | None:
    """The approval's outputs once decided, else None: any rejection decides; otherwise
    `quorum` different approvers must approve the current version of the data."""
    data, edited = approved_data(inputs, votes)
    for vote in votes:
        if not vote.approved:
            return {
                "approved": False,
                "comment": vote.comment,
                "decided_by": [vote.user],
                "data": data,
                "edited": edited,
            }
    version = current_version(votes)
    current = [v for v in votes if v.version == version]
    if len(current) >= int(inputs.get("quorum") or 1):
        return {
            "approved": True,
            "comment": votes[-1].comment,
            "decided_by": [v.user for v in current],
            "data": data,
            "edited": edited,
        }
    return None
