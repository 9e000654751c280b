"""What the state store raises."""

from __future__ import annotations


class StateError(Exception):
    """The state file cannot be used (newer schema, unreadable, ...)."""


class StateLocked(StateError):
    """Another process holds the state file for writing (message names it and the lock)."""

