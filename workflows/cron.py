"""Cron expressions and calendar fields as Temporal Schedules read them, checked before they
are sent: a field is `*`, a number or name, a range `a-b`, a step `*/15`, `a-b/2` or `a/2`,
or a comma-separated list of those."""

from __future__ import annotations

from dataclasses import dataclass

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


@dataclass(frozen=True)
class Field:
    """One calendar field: its name, the values it may take and the names standing for them."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_name: int = 0  # the value of names[0]


SECOND = Field("second", 0, 59)
MINUTE = Field("minute", 0, 59)
HOUR = Field("hour", 0, 23)
DAY_OF_MONTH = Field("day_of_month", 1, 31)
MONTH = Field("month", 1, 12, MONTHS, 1)
YEAR = Field("year", 1970, 2999)
# 7 is Sunday too, as in most crons.
DAY_OF_WEEK = Field("day_of_week", 0, 7, DAYS, 0)
CALENDAR_FIELDS = (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, YEAR, DAY_OF_WEEK)
_CRON_FIELDS = {
    5: (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK),
    6: (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK),
    7: (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR),
}
CRON_HINT = (
    "write 5 fields (minute hour day-of-month month day-of-week, e.g. '0 9 * * MON-FRI'), "
    "6 with seconds first, 7 with a year last, or one of " + ", ".join(MACROS)
)


class CronError(ValueError):
    """Cron text or a calendar field that does not parse; the message says why and how."""


@dataclass(frozen=True)
class Range:
    """start..end (inclusive) every `step`."""

    start: int
    end: int
    step: int = 1


def parse_field(field: Field, text: str | int) -> list[Range]:
    """The ranges a field's text stands for; CronError naming the field otherwise."""
    source = str(text).strip()
    if not source:
        raise CronError(f"{field.name} is empty: write * for any")
    return [_part(field, part.strip()) for part in source.split(",")]


def _part(field: Field, part: str) -> Range:
    body, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) < 1:
            raise CronError(f"{field.name}: '{part}' has a bad step; write e.g. */15")
        step = int(step_text)
    if body in ("*", "?"):
        return Range(field.low, field.high if field is not DAY_OF_WEEK else 6, step)
    start_text, dash, end_text = body.partition("-")
    start = _value(field, start_text, part)
    if not dash:
        return Range(start, field.high if step_text else start, step)
    end = _value(field, end_text, part)
    if end < start:
        raise CronError(f"{field.name}: '{part}' runs backwards; write the smaller value first")
    return Range(start, end, step)


def _value(field: Field, text: str, part: str) -> int:
    word = text.strip().upper()
    if word in field.names:
        return field.names.index(word) + field.first_name
    if not word.isdigit():
        named = f" or a name ({field.names[0]}..{field.names[-1]})" if field.names else ""
        raise CronError(f"{field.name}: '{part}' is not a number from {field.low} to {field.high}{named}")
    value = int(word)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name}: {value} is out of range ({field.low} to {field.high})")
    return value


def check_cron(text: str) -> None:
    """CronError saying what is wrong with a cron expression (and how to write one)."""
    source = text.strip()
    if source.startswith("@"):
        if source.lower() in MACROS:
            return
        raise CronError(f"'{text}' is not a cron expression: {CRON_HINT}; for '@every', use intervals")
    parts = source.split()
    fields = _CRON_FIELDS.get(len(parts))
    if fields is None:
        raise CronError(f"'{text}' has {len(parts)} fields: {CRON_HINT}")
    for field, part in zip(fields, parts, strict=True):
        try:
            parse_field(field, part)
        except CronError as exc:
            raise CronError(f"'{text}': {exc}") from None
