"""GET /modules: the registered modules; POST /modules/{name}/test: try one with sample inputs.

A trial that ran answers 200 even when the module failed: its `error` says how (the module's
failure is the answer asked for, not a fault of the API). 4xx means nothing ran.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.service import RPCError

from api.deps import CurrentUser, RegistryDep, SettingsDep, TemporalDep, require_scope
from api.responses import errors
from core.auth.principal import Principal
from core.auth.scopes import RUNS_START
from core.module_catalog import ModuleInfo, module_catalog
from core.module_trial import (
    HumanModule,
    InvalidTrialInputs,
    TrialError,
    TrialResult,
    UnknownModule,
    prepare_trial,
    run_activity,
    run_pure,
)

router = APIRouter(prefix="/modules", tags=["modules"])


class ModuleTrialRequest(BaseModel):
    """Sample inputs of one step, and the `input` and `state` their templates may read."""

    inputs: dict[str, Any] = Field(default_factory=dict, description="The step's inputs (may hold templates)")
    input: Any = Field(default=None, description="What templates see as `input`")
    state: dict[str, Any] = Field(default_factory=dict, description="What templates see as `state`")


class ErrorMessage(BaseModel):
    detail: str


class InputProblems(BaseModel):
    detail: list[TrialError] = Field(description="Each problem, at its JSON pointer within `inputs`")


@router.get("", response_model=list[ModuleInfo], responses=errors(403))
async def list_modules(registry: RegistryDep, principal: CurrentUser) -> list[ModuleInfo]:
    """Every registered module with its input and output JSON Schemas (as `stepwise modules --json`)."""
    return module_catalog(registry)


@router.post(
    "/{name}/test",
    response_model=TrialResult,
    responses={
        400: {"model": ErrorMessage, "description": "A human module: try it in a run"},
        404: {"model": ErrorMessage, "description": "No such module (the closest name is suggested)"},
        422: {"model": InputProblems, "description": "The inputs break the module's input schema"},
        403: {"model": ErrorMessage, "description": "The caller lacks the runs:start scope"},
        503: {"model": ErrorMessage, "description": "Temporal is unreachable (activity modules only)"},
    },
)
async def test_module(
    name: str,
    body: ModuleTrialRequest,
    registry: RegistryDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, Depends(require_scope(RUNS_START))],
) -> TrialResult | JSONResponse:
    """Run one module with sample inputs; pure modules run here, activity modules on their queue."""
    try:
        trial = prepare_trial(
            registry, name, body.inputs, body.input, body.state, settings.module_test_timeout_s
        )
    except UnknownModule as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except HumanModule as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    except InvalidTrialInputs as exc:
        problems = InputProblems(detail=exc.problems)
        # A number: Starlette renamed this constant (UNPROCESSABLE_CONTENT) within the versions we allow.
        return JSONResponse(problems.model_dump(mode="json"), 422)
    if trial.spec.runs == "workflow":
        return await run_pure(trial, registry)
    try:
        client = await temporal.client()
        return await run_activity(trial, client, settings, owner=principal.username)
    except (RuntimeError, OSError, RPCError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"module {name} runs on task queue '{trial.spec.queue}' and Temporal at {temporal.address} "
            f"cannot be reached: {exc}",
        ) from exc
