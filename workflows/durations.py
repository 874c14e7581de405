"""Durations as the language writes them: `500ms`, `30s`, `5m`, `2h`, `3d`."""

from __future__ import annotations

import re

DURATION_PATTERN = r"^[0-9]+(ms|s|m|h|d)$"
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(DURATION_PATTERN)


def is_duration(text: str) -> bool:
    """True when `text` is a duration literal such as `30s`."""
    return _DURATION.match(text) is not None


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration literal; raises ValueError naming the accepted forms."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(
            f"'{text}' is not a duration: write a whole number and a unit, "
            "one of ms, s, m, h, d (for example 500ms, 30s, 5m, 2h, 3d)"
        )
    unit = match.group(1)
    return int(text.strip()[: -len(unit)]) * _UNIT_MS[unit]
