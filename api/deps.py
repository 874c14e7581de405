"""Dependencies routes declare: settings, the Temporal connection and the module registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.temporal import TemporalConnection
from core.settings import Settings
from workflows.modules import Registry


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal(request: Request) -> TemporalConnection:
    connection: TemporalConnection = request.app.state.temporal
    return connection


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
