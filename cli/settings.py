"""Settings for a command: refused settings end it with their reason, not a traceback."""

from __future__ import annotations

import click

from core.codec import KeyListError, configured_keys
from core.settings import Settings, SettingsError, load_settings


def command_settings() -> Settings:
    """The settings from the environment, or a `ClickException` saying which one to fix (the
    encryption keys they name included)."""
    try:
        settings = load_settings()
        configured_keys(settings)
    except (SettingsError, KeyListError) as exc:
        raise click.ClickException(str(exc)) from None
    return settings
