"""The definitions registry: upload (a new version when the plan changed), validate, list, get.

Uploads and validations take the definition file itself as the request body, with its
Content-Type saying how it is written: YAML (application/yaml, text/yaml, text/plain) or JSON
(application/json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError

from api.audit_log import audit
from api.deps import (
    DefinitionsWriter,
    NowDep,
    RegistryDep,
    RunsReader,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.plan_cache import PlanCache
from api.problems import PROBLEMS_RESPONSE, ProblemsError, conflict, unprocessable
from api.responses import errors
from api.schemas.definitions import (
    DefinitionDetail,
    DefinitionPublic,
    DefinitionUploaded,
    NewHookPublic,
    ValidationPublic,
)
from api.temporal import reachable_client
from core.db.repos.definitions import latest_of_each, versions_of
from core.definition_registry import (
    MAX_VERSION,
    DefinitionFormat,
    DefinitionNotFound,
    DefinitionRejected,
    compile_source,
    find_version,
    stored_plan,
    upload,
)
from core.schedule_store import ScheduleRefused, delete_schedules, reconcile_schedules, schedule_rows
from core.webhook_store import NewHook, delete_hooks, reconcile_hooks
from workflows.problems import Problem

router = APIRouter(prefix="/definitions", tags=["definitions"])
Reader = RunsReader
Writer = DefinitionsWriter

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
JSON_TYPES = ("application/json",)
_TEXT = {"type": "string", "description": "The definition file as written"}
SOURCE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The definition file itself; its Content-Type says whether it is YAML or JSON.",
        "content": {
            **{kind: {"schema": _TEXT} for kind in YAML_TYPES[::2]},
            "application/json": {"schema": {"type": "object", "description": "A definition written as JSON"}},
        },
    }
}


async def source_of(request: Request) -> tuple[str, DefinitionFormat]:
    """The definition text of a request body and its format (from the Content-Type)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in JSON_TYPES:
        fmt: DefinitionFormat = "json"
    elif kind in YAML_TYPES:
        fmt = "yaml"
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {kind or '(none)'} is not a definition; send the file with "
            f"Content-Type application/yaml (or text/yaml, text/plain) or application/json",
        )
    raw = await request.body()
    try:
        return raw.decode("utf-8"), fmt
    except UnicodeDecodeError as exc:
        problem = Problem("/", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")
        raise ProblemsError("the definition cannot be read", [problem]) from None


def refused(problems: list[Problem]) -> ProblemsError:
    """422 naming every problem of a definition that does not compile."""
    count = "1 problem; fix it" if len(problems) == 1 else f"{len(problems)} problems; fix them"
    return ProblemsError(f"the definition has {count} and send it again", problems)


@router.post(
    "",
    response_model=DefinitionUploaded,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": DefinitionUploaded, "description": "Same plan as the latest version"},
        **PROBLEMS_RESPONSE,
        **errors(403, 409, 415, 503),
    },
    openapi_extra=SOURCE_BODY,
)
async def create(
    principal: Writer,
    request: Request,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    now: NowDep,
) -> DefinitionUploaded:
    """Compile and store a definition as its next version (201); text whose plan equals the
    latest version's returns that version (200, `created: false`)."""
    source, fmt = await source_of(request)
    try:
        uploaded = await upload(session, source, fmt, registry, principal.user_id, now)
        row = uploaded.version
        touched: list[str] = []
        hooks: list[NewHook] = []
        if uploaded.created:
            plan = stored_plan(row)
            hooks = await reconcile_hooks(session, plan, principal.user_id, principal.username, settings, now)
            if any(t.schedule for t in plan.triggers) or await schedule_rows(session, definition=plan.name):
                client = await reachable_client(temporal)
                touched = await reconcile_schedules(
                    session, client, plan, principal.user_id, principal.username, settings, now
                )
        await audit(
            session,
            request,
            "definition.upload",
            now,
            actor_id=principal.user_id,
            target=f"{row.name}@{row.version}",
            detail={"content_hash": row.content_hash, "created": uploaded.created},
        )
        await session.commit()
    except DefinitionRejected as exc:
        raise refused(exc.problems) from None
    except ScheduleRefused as exc:
        raise unprocessable(f"triggers: Temporal refused a schedule: {exc}") from None
    except IntegrityError:
        # Two uploads of one definition numbered the same version; the unique key kept one.
        raise conflict(
            "another upload of this definition took the same version number; send yours again"
        ) from None
    if not uploaded.created:
        response.status_code = status.HTTP_200_OK
    return DefinitionUploaded(
        **DefinitionPublic.model_validate(row).model_dump(),
        created=uploaded.created,
        schedules=touched,
        hooks=[NewHookPublic(id=h.id, trigger_id=h.trigger_id, path=h.path, secret=h.secret) for h in hooks],
    )


@router.post(
    "/validate",
    response_model=ValidationPublic,
    responses={**PROBLEMS_RESPONSE, **errors(403, 415)},
    openapi_extra=SOURCE_BODY,
)
async def validate(
    _principal: Writer, request: Request, session: SessionDep, registry: RegistryDep
) -> ValidationPublic:
    """Compile a definition without storing it: 200 when valid, else 422 with every problem
    (the list `stepwise validate` prints)."""
    source, fmt = await source_of(request)
    result = await compile_source(session, source, fmt, registry)
    if result.plan is None:
        raise refused(result.problems)
    return ValidationPublic(valid=True, name=result.plan.name, content_hash=result.plan.content_hash())


@router.get("", response_model=list[DefinitionPublic], responses=errors(403))
async def definitions(_principal: Reader, session: SessionDep) -> list[DefinitionPublic]:
    """The latest version of every definition, by name."""
    return [DefinitionPublic.model_validate(row) for row in await latest_of_each(session)]


@router.get("/{name}", response_model=DefinitionDetail, responses=errors(403, 404))
async def definition(
    name: str,
    _principal: Reader,
    session: SessionDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="A version number; the latest if left out")
    ] = None,
) -> DefinitionDetail:
    """One version of a definition (the latest by default) with its source and compiled plan."""
    try:
        row = await find_version(session, name, version)
    except DefinitionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return DefinitionDetail.model_validate(row)


@router.get("/{name}/versions", response_model=list[DefinitionPublic], responses=errors(403, 404))
async def versions(name: str, _principal: Reader, session: SessionDep) -> list[DefinitionPublic]:
    """Every version of a definition, newest first."""
    rows = await versions_of(session, name)
    if not rows:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no definition '{name}': upload it with POST /api/v1/definitions first",
        )
    return [DefinitionPublic.model_validate(row) for row in rows]


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 503))
async def delete_definition(
    name: str,
    principal: Writer,
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    now: NowDep,
) -> Response:
    """Delete every version of a definition with the schedules and webhooks its triggers (or
    anyone) made for it (operators, admins, or the author of its latest version). Runs going on
    go on: each pinned its plan."""
    rows = await versions_of(session, name)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no definition '{name}'")
    if not (principal.sees_all or rows[0].author_id == principal.user_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"only the author of the latest version of '{name}', an operator or an admin may delete it",
        )
    schedules = 0
    if await schedule_rows(session, definition=name):
        schedules = await delete_schedules(session, await reachable_client(temporal), name)
    hooks = await delete_hooks(session, name)
    for row in rows:
        await session.delete(row)
    await audit(
        session,
        request,
        "definition.delete",
        now,
        actor_id=principal.user_id,
        target=name,
        detail={"versions": len(rows), "schedules": schedules, "hooks": hooks},
    )
    await session.commit()
    plans: PlanCache = request.app.state.plans
    plans.forget(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
