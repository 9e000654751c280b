"""Rule 2 made explicit: a cursor moves only past work that has a durable outcome.

Every flush that came from the change feed gets a `Ticket` carrying the feed position
it covers. Each listing the flush hands to a channel worker adds one to the ticket; the
worker settles it once the outcome is in the state file (pushed, failed, or parked in
the retry queue). `CursorTracker` stores a position only when its ticket and every
earlier ticket are settled, so a crash at any point replays from a position whose work
is all durable.

Usage::

    tracker = CursorTracker(store, "outbox")
    ticket = tracker.open(position=42); ticket.add(); ...; ticket.seal()
    ticket.settle()   # from the worker, after store.record_outcomes(...)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any


class Ticket:
    """Counts the listings of one flush still waiting for a durable outcome."""

    def __init__(self, position: Any = None, on_done: Callable[[Ticket], None] | None = None) -> None:
        self.position = position
        self._outstanding = 0
        self._sealed = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._on_done = on_done

    def add(self, n: int = 1) -> None:
        with self._lock:
            self._outstanding += n

    def settle(self, n: int = 1) -> None:
        with self._lock:
            self._outstanding -= n
            finished = self._sealed and self._outstanding <= 0 and not self._done.is_set()
            if finished:
                self._done.set()
        if finished and self._on_done:
            self._on_done(self)

    def seal(self) -> None:
        """No more listings will be added; done as soon as the outstanding ones settle."""
        with self._lock:
            self._sealed = True
            finished = self._outstanding <= 0 and not self._done.is_set()
            if finished:
                self._done.set()
        if finished and self._on_done:
            self._on_done(self)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class CursorTracker:
    """Stores a feed position once every ticket up to it is done (in opening order)."""

    def __init__(self, store_cursor: Callable[[Any], None]) -> None:
        self._store_cursor = store_cursor
        self._open: deque[Ticket] = deque()
        self._lock = threading.Lock()
        self.stored: Any = None

    def open(self, position: Any) -> Ticket:
        ticket = Ticket(position, on_done=self._advance)
        with self._lock:
            self._open.append(ticket)
        return ticket

    def pending(self) -> int:
        with self._lock:
            return len(self._open)

    def discard(self, ticket: Ticket) -> None:
        """Forget a ticket whose flush failed half-way; the same entries are read again."""
        with self._lock:
            try:
                self._open.remove(ticket)
            except ValueError:
                return
        self._advance(ticket)

    def _advance(self, _ticket: Ticket) -> None:
        with self._lock:
            newest: Ticket | None = None
            while self._open and self._open[0].done:
                newest = self._open.popleft()
            if newest is None or newest.position is None:
                return
            # Under the lock, so two workers cannot store positions out of order.
            self._store_cursor(newest.position)
            self.stored = newest.position
