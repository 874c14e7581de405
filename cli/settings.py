"""Settings for a command: refused settings end it with their reason, not a traceback."""

from __future__ import annotations

import click

from core.settings import Settings, SettingsError, load_settings


def command_settings() -> Settings:
    """The settings from the environment, or a `ClickException` saying which one to fix."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
