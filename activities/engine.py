"""Activities the workflow worker runs itself, as local activities."""

from __future__ import annotations

from temporalio import activity

from workflows.engine.models import YIELD_ACTIVITY


@activity.defn(name=YIELD_ACTIVITY)
async def yield_point() -> None:
    """Does nothing: awaiting it ends the workflow activation, so long pure work is split into
    short activations and the SDK's deadlock detector never trips."""
