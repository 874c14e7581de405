"""The retention loop the API runs when STEPWISE_RETENTION_DAYS is set: every
STEPWISE_RETENTION_CHECK_S it deletes the runs that finished longer ago than that."""

from __future__ import annotations

import asyncio
import logging

from temporalio.service import RPCError

from api.temporal import TemporalConnection
from core.clock import Clock
from core.privacy import retention_pass
from core.run_history import NO_CACHE, ClosedExecutions

logger = logging.getLogger(__name__)


async def keep_deleting_expired_runs(
    temporal: TemporalConnection,
    retention_days: int,
    every_s: float,
    clock: Clock,
    kept_events: ClosedExecutions = NO_CACHE,
) -> None:
    """Run retention passes until cancelled; a pass that fails (Temporal down) is logged and
    tried again at the next interval. Each API process runs its own: deleting is idempotent."""
    while True:
        try:
            client = await temporal.client()
            deleted = await retention_pass(client, retention_days, clock())
            for run_id in deleted:
                kept_events.forget(run_id)
            if deleted:
                logger.info(
                    "retention: deleted %d runs finished over %d days ago", len(deleted), retention_days
                )
        except (RuntimeError, OSError, RPCError) as exc:
            logger.warning("retention: pass failed, will try again: %s", exc)
        await asyncio.sleep(every_s)
