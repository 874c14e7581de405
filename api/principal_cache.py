"""Who a credential stands for, kept a few seconds so a request does not read the database to
authenticate. A change to users, groups or API keys committed through this process empties the
cache at once; one made elsewhere (another API replica, the CLI) shows within the TTL."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session

from api.commit_watch import after_commits_that_change
from core.auth.principal import Principal
from core.auth.tokens import AccessClaims
from core.db.models import ApiKey, Group, User, user_groups

# What a principal is made of: a change to any of these may change who a credential is.
WATCHED_TABLES = frozenset({User.__tablename__, Group.__tablename__, ApiKey.__tablename__, user_groups.name})
_WATCHED_CLASSES = (User, Group, ApiKey)
_USE_ONLY = frozenset({"last_used_at"})


@dataclass(frozen=True)
class Cached:
    """A principal and, for an API key, when the key stops working and was last marked used."""

    principal: Principal
    stored_at: float
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


class PrincipalCache:
    """Principals by credential (`("user", id)` for access tokens, `("key", hash)` for API
    keys), each kept `ttl_s` seconds; `ttl_s == 0` keeps nothing."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: dict[tuple[str, str], Cached] = {}

    def get(self, key: tuple[str, str]) -> Cached | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._monotonic() - entry.stored_at >= self.ttl_s:
            del self._entries[key]
            return None
        return entry

    def put(
        self,
        key: tuple[str, str],
        principal: Principal,
        expires_at: datetime | None = None,
        last_used_at: datetime | None = None,
    ) -> None:
        if self.ttl_s > 0:
            self._entries[key] = Cached(principal, self._monotonic(), expires_at, last_used_at)

    def clear(self) -> None:
        self._entries.clear()

    def watch(self, session_class: type[Session]) -> None:
        """Empty the cache after every commit of `session_class` that changed a watched table,
        through the ORM (objects added, changed, deleted) or a bulk INSERT, UPDATE or DELETE."""
        after_commits_that_change(
            session_class, self.clear, _flush_changes_principals, _bulk_changes_principals
        )


class VerifiedTokens:
    """Access tokens whose signature and claims were checked already, by their text (the
    `size` most recently used): a token's claims never change, so only its expiry is checked
    again. Who the token's user is comes from PrincipalCache or the database."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._claims: OrderedDict[str, AccessClaims] = OrderedDict()

    def get(self, token: str, now: datetime) -> AccessClaims | None:
        claims = self._claims.get(token)
        if claims is None:
            return None
        if claims.exp <= int(now.timestamp()):  # expired, as joserfc decides it
            del self._claims[token]
            return None
        self._claims.move_to_end(token)
        return claims

    def put(self, token: str, claims: AccessClaims) -> None:
        self._claims[token] = claims
        while len(self._claims) > self._size:
            self._claims.popitem(last=False)


def _flush_changes_principals(session: Session) -> bool:
    touched = [*session.new, *session.deleted, *(obj for obj in session.dirty if _changes_more_than_use(obj))]
    return any(isinstance(obj, _WATCHED_CLASSES) for obj in touched)


def _changes_more_than_use(obj: object) -> bool:
    """False for an object whose only change is when it was last used (a key's `last_used_at`,
    written as it is used), which says nothing about who it stands for."""
    changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
    return not changed <= _USE_ONLY


def _bulk_changes_principals(state: ORMExecuteState) -> bool:
    if not (state.is_insert or state.is_update or state.is_delete):
        return False
    table = getattr(state.statement, "table", None)
    return getattr(table, "name", None) in WATCHED_TABLES
