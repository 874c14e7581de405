"""Migrations and the command line on both databases: `stepwise db upgrade`, `stepwise user
create`, then signing in as that user."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from api.app import create_app
from cli.main import main
from core.db.engine import create_engine, session_factory
from core.db.migrate import current, head
from core.db.models import Base, User
from core.settings import Settings
from tests.integration.databases import run_apart

TABLES = {
    "users",
    "groups",
    "user_groups",
    "refresh_tokens",
    "backup_codes",
    "trusted_devices",
    "oidc_identities",
    "api_keys",
    "audit_events",
}


async def _tables_and_drift(url: str) -> tuple[set[str], list[object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            drift = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        return tables, drift
    finally:
        await engine.dispose()


def test_migrations_build_exactly_the_schema_of_the_models(db_url: str) -> None:
    tables, drift = run_apart(_tables_and_drift(db_url))
    assert tables >= TABLES
    assert drift == []
    assert run_apart(current(db_url)) == head()


def test_timestamps_come_back_timezone_aware_utc(db_url: str) -> None:
    async def created_at() -> object:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                session.add(User(username="ada", role="member"))
                await session.commit()
            async with session_factory(engine)() as session:
                user = await session.scalar(select(User))
                assert user is not None
                return user.created_at.utcoffset()
        finally:
            await engine.dispose()

    assert run_apart(created_at()).total_seconds() == 0  # type: ignore[attr-defined]


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, *args: str, stdin: str = "") -> tuple[int, str]:
    monkeypatch.setenv("STEPWISE_DATABASE_URL", url)
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stderr


def test_stepwise_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'stepwise.db'}"
    assert run_apart(current(url)) is None
    code, err = _cli(monkeypatch, url, "db", "upgrade")
    assert code == 0, err
    assert f"is at revision {head()}" in err
    tables, _ = run_apart(_tables_and_drift(url))
    assert tables >= TABLES


def test_user_create_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    code, err = _cli(
        monkeypatch, url, "user", "create", "root", "--admin", "--password-stdin", stdin="pw pw pw pw\n"
    )
    assert code == 1
    assert "has no schema yet; run `stepwise db upgrade` first" in err


def test_the_first_admin_from_the_command_line_can_sign_in(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = _cli(
        monkeypatch,
        db_url,
        "user",
        "create",
        "root",
        "--admin",
        "--email",
        "root@example.org",
        "--group",
        "ops",
        "--password-stdin",
        stdin="first admin password\n",
    )
    assert code == 0, err
    assert err.startswith("created admin root (id ")
    code, err = _cli(monkeypatch, db_url, "user", "create", "root", "--password-stdin", stdin="whatever123\n")
    assert (code, err.strip()) == (1, "Error: the username 'root' is taken")
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/api/v1/auth/login", json={"username": "root", "password": "first admin password"}
        )
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = client.get("/api/v1/users/me", headers=headers).json()
        assert (me["role"], me["email"], me["groups"]) == ("admin", "root@example.org", ["ops"])
        audit = client.get("/api/v1/audit", headers=headers).json()["items"]
        assert [e["action"] for e in audit] == ["login", "user.create"]
        assert audit[1]["actor_id"] is None


def test_user_create_prompts_for_the_password_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    assert _cli(monkeypatch, url, "db", "upgrade")[0] == 0
    code, err = _cli(
        monkeypatch,
        url,
        "user",
        "create",
        "ada",
        stdin="one password\nanother one\none password\none password\n",
    )
    assert code == 0, err
    code, err = _cli(monkeypatch, url, "user", "create", "bob", "--admin", "--role", "member", stdin="")
    assert code == 2
    assert "contradict" in err


def test_stepwise_api_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    code, err = _cli(monkeypatch, url, "api")
    assert code == 1
    assert "has no schema yet; run `stepwise db upgrade` first" in err
