"""Errors repositories raise for things a user can cause."""

from __future__ import annotations


class AlreadyExists(ValueError):
    """A unique name (username, email, group) is taken; the message names it."""


class UnknownName(LookupError):
    """A name that refers to nothing (e.g. a group that was never created); the message names it."""
