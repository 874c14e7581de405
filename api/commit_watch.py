"""Acting after a commit that changed certain things: what the API's in-memory caches use to
forget what a commit of their own process made stale."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

# Each watch marks the sessions it saw change under a key of its own.
_watches = itertools.count()


def after_commits_that_change(
    session_class: type[Session],
    then: Callable[[], None],
    flushed: Callable[[Session], bool],
    bulk: Callable[[ORMExecuteState], bool] | None = None,
) -> None:
    """Call `then` after every commit of `session_class` in which a flush (`flushed`, seeing
    the session's new, dirty and deleted objects) or a bulk statement (`bulk`) changed what
    matters; a rollback forgets what was seen."""
    mark = f"stepwise_changed_{next(_watches)}"

    def note_flush(session: Session, _context: Any) -> None:
        if flushed(session):
            session.info[mark] = True

    def note_bulk(state: ORMExecuteState) -> None:
        if bulk is not None and bulk(state):
            state.session.info[mark] = True

    def committed(session: Session) -> None:
        if session.info.pop(mark, False):
            then()

    def rolled_back(session: Session) -> None:
        session.info.pop(mark, None)

    event.listen(session_class, "after_flush", note_flush)
    if bulk is not None:
        event.listen(session_class, "do_orm_execute", note_bulk)
    event.listen(session_class, "after_commit", committed)
    event.listen(session_class, "after_rollback", rolled_back)
