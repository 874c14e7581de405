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
