"""Settings refuse placeholder secrets outside development and say what to set."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from cli.main import main
from core.settings import PLACEHOLDER_SECRET_KEY, Settings, SettingsError, load_settings


def test_development_starts_with_the_placeholder_and_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.secret_key.get_secret_value() == PLACEHOLDER_SECRET_KEY
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    assert PLACEHOLDER_SECRET_KEY not in repr(settings)


def test_production_refuses_the_placeholder_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="STEPWISE_SECRET_KEY is the development placeholder"):
        load_settings()


def test_production_refuses_a_short_secret_without_printing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    monkeypatch.setenv("STEPWISE_SECRET_KEY", "hunter2")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "at least 32" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_production_starts_with_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    monkeypatch.setenv("STEPWISE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("STEPWISE_DATABASE_URL", "postgresql+asyncpg://stepwise@db/stepwise")
    assert load_settings().database_url == "postgresql+asyncpg://stepwise@db/stepwise"


def test_a_command_with_refused_settings_says_why_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STEPWISE_ENVIRONMENT", "production")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "STEPWISE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.output


def test_worker_tuning_settings_reach_the_workflow_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from temporalio.worker import UnsandboxedWorkflowRunner
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

    from workers.runner import SandboxByPlan
    from workers.worker import worker_options
    from workflows.engine.models import WORKFLOW_QUEUE

    monkeypatch.setenv("STEPWISE_WORKER_MAX_CACHED_WORKFLOWS", "20")
    monkeypatch.setenv("STEPWISE_WORKER_WORKFLOW_TASK_POLLS", "8")
    monkeypatch.setenv("STEPWISE_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "40")
    options = worker_options(WORKFLOW_QUEUE, Settings(), [])
    assert options["max_cached_workflows"] == 20
    assert options["workflow_task_poller_behavior"].maximum == 8
    assert options["max_concurrent_workflow_tasks"] == 40
    assert options["task_queue"] == WORKFLOW_QUEUE
    # By default each run's plan decides (workers/runner.py); `always` and `never` (or the
    # `true` and `false` the setting took before) decide for every run.
    assert isinstance(options["workflow_runner"], SandboxByPlan)
    for value, runner in (
        ("false", UnsandboxedWorkflowRunner),
        ("never", UnsandboxedWorkflowRunner),
        ("true", SandboxedWorkflowRunner),
        ("Always", SandboxedWorkflowRunner),
        ("plugins", SandboxByPlan),
    ):
        monkeypatch.setenv("STEPWISE_WORKER_SANDBOX", value)
        assert isinstance(worker_options(WORKFLOW_QUEUE, Settings(), [])["workflow_runner"], runner), value
    assert Settings(worker_sandbox=False).worker_sandbox == "never"
    monkeypatch.setenv("STEPWISE_WORKER_SANDBOX", "sometimes")
    with pytest.raises(ValidationError, match="worker_sandbox"):
        Settings()


def test_worker_tuning_settings_refuse_what_the_sdk_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWISE_WORKER_WORKFLOW_TASK_POLLS", "1")
    with pytest.raises(ValidationError, match="worker_workflow_task_polls"):
        Settings()
