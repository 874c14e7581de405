"""Dependencies routes declare: settings and the Temporal connection."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.temporal import TemporalConnection
from core.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal(request: Request) -> TemporalConnection:
    connection: TemporalConnection = request.app.state.temporal
    return connection


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]
