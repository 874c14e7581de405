"""Test options shared by every suite."""

from __future__ import annotations

from pathlib import Path

import pytest

SERVERS = ("dev", "time-skipping")


@pytest.fixture(autouse=True)
def _no_stored_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Commands run by tests go straight to Temporal, whatever login the person running them has
    stored; tests of remote mode point STEPWISE_CREDENTIALS_FILE at their own file."""
    monkeypatch.setenv("STEPWISE_CREDENTIALS_FILE", str(tmp_path / "no-login" / "credentials.json"))
    monkeypatch.delenv("STEPWISE_API_URL", raising=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--temporal-servers",
        default=",".join(SERVERS),
        help="Temporal servers for tests that run on either: dev, time-skipping, or both (comma-separated)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "any_env" in metafunc.fixturenames:
        chosen = [
            s.strip() for s in str(metafunc.config.getoption("--temporal-servers")).split(",") if s.strip()
        ]
        unknown = set(chosen) - set(SERVERS)
        if unknown:
            raise pytest.UsageError(
                f"--temporal-servers: unknown {sorted(unknown)}; use {', '.join(SERVERS)}"
            )
        metafunc.parametrize("any_env", chosen, indirect=True)
