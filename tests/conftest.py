"""Test options shared by every suite."""

from __future__ import annotations

import pytest

SERVERS = ("dev", "time-skipping")


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
