"""Schemathesis over the app's own OpenAPI document: every operation, as an admin and without
credentials, answers no 5xx and nothing the document does not describe.

Bounded for CI: at most MAX_EXAMPLES generated requests per operation (each sent twice),
derandomized so a failure reproduces, on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import OPENAPI_URL, create_app
from core.accounts import Actor, register_user
from core.auth.sessions import start_session
from core.clock import utcnow
from core.db.engine import create_engine, session_factory
from core.db.migrate import upgrade
from core.settings import Settings
from tests.integration.api_client import PASSWORD, TEST_SECRET
from tests.integration.databases import run_apart

Operation = APIOperation[Any, Any, Any, Any]
MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzed:
    app: FastAPI
    admin: dict[str, str]


async def _admin_token(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            user = await register_user(session, "root", PASSWORD, Actor(None), utcnow(), "admin")
            pair = await start_session(session, user, settings, utcnow())
            await session.commit()
            return pair.access_token
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Fuzzed:
    """The app on a migrated SQLite database with one admin, and that admin's headers."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{folder / 'stepwise.db'}"
    run_apart(upgrade(url))
    # Limits off, so that the sign-in routes are fuzzed themselves rather than their 429s
    # (test_api_hardening checks those, and that the document lists them).
    app_settings = Settings(
        data_dir=folder,
        database_url=url,
        secret_key=TEST_SECRET,
        rate_limit_login_per_minute=0,
        rate_limit_auth_per_minute=0,
    )
    token = run_apart(_admin_token(app_settings))
    return Fuzzed(create_app(app_settings), {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> schemathesis.BaseSchema:
    """The OpenAPI document as the running app serves it."""
    return schemathesis.openapi.from_asgi(OPENAPI_URL, fuzzed.app)


def _fuzz(operation: Operation, mode: GenerationMode, admin: dict[str, str]) -> None:
    # A documented 5xx (the health check's 503 while Temporal is away) is an answer, not a crash;
    # status_code_conformance still refuses any other.
    documented = {str(code) for code in operation.definition.raw.get("responses", {})}
    checks = [c for c in CHECKS if c is not not_a_server_error or not any(s[0] == "5" for s in documented)]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def each(case: Case[Operation]) -> None:
        case.call_and_validate(headers=admin, checks=checks)
        case.call_and_validate(checks=checks)

    each()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_to_the_schema(
    mode: GenerationMode, api_schema: schemathesis.BaseSchema, fuzzed: Fuzzed
) -> None:
    operations: list[Operation] = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 10, "the schema lost its operations"
    failures: list[str] = []
    if mode is GenerationMode.NEGATIVE:
        # An operation that takes nothing has no invalid input to send.
        operations = [o for o in operations if o.definition.raw.get("parameters") or o.body]
    for operation in operations:
        # Every operation is tried, so one run reports all that fail.
        try:
            _fuzz(operation, mode, fuzzed.admin)
        except (AssertionError, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
        except Unsatisfiable:
            # Only parameters that take any string (a path id, say): there is no invalid input to send.
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid input could be made"
    assert not failures, "\n\n".join(failures)
