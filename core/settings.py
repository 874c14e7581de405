"""Settings of a Stepwise process, from `STEPWISE_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One settings object per process; read once at start-up, never at import."""

    model_config = SettingsConfigDict(env_prefix="STEPWISE_", extra="ignore")

    data_dir: Path = Path(".stepwise")
    temporal_host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    # Outgoing HTTP (api.fetch): internal addresses are refused unless listed here
    # (host names, addresses or CIDR ranges), e.g. STEPWISE_FETCH_ALLOW_HOSTS='["127.0.0.1"]'.
    fetch_allow_hosts: list[str] = []
    fetch_timeout_s: float = 30.0
    fetch_max_bytes: int = 1024 * 1024
    worker_max_concurrent_activities: int = 100
    # Per queue, overriding the above: STEPWISE_WORKER_QUEUE_CONCURRENCY='{"llm": 2, "media": 4}'.
    worker_queue_concurrency: dict[str, int] = {}
    worker_max_concurrent_workflow_tasks: int = 100
    worker_shutdown_grace_s: float = 10.0
    # A run continues as new (same run id, fresh history) once its history has this many events.
    continue_as_new_after: int = 2_000
    # Put before every task queue name, to keep environments (or tests) sharing one Temporal apart.
    task_queue_prefix: str = ""
    # How long POST /api/v1/modules/{name}/test waits for an activity module's result.
    module_test_timeout_s: float = 30.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
