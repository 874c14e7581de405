"""Activities the workflow worker runs itself, as local activities."""

from __future__ import annotations

from temporalio import activity

from workflows.engine.models import REMIND_ACTIVITY, YIELD_ACTIVITY, Reminder


@activity.defn(name=YIELD_ACTIVITY)
async def yield_point() -> None:
    """Does nothing: awaiting it ends the workflow activation, so long pure work is split into
    short activations and the SDK's deadlock detector never trips."""


@activity.defn(name=REMIND_ACTIVITY)
async def remind(reminder: Reminder) -> Reminder:
    """The hook where a reminder goes out; for now it is logged. It returns the reminder, so
    the marker in history names the step (the run's `reminder` events come from it)."""
    activity.logger.info(
        "reminder: run %s still waits for %s (%s)", reminder.run_id, reminder.interaction_id, reminder.step_id
    )
    return reminder
