"""Trigger intake: what woke the engine and is not read yet.

A webhook (or a plain wake-up) adds the products it names and the events it announces
(event id -> reason); the feed cycle takes them for a fast read, and puts them back when
that read fails. Two events wake the threads: `wake` (the flusher, between cycles) and
`fast_wake` (a cycle waiting for the change feed's answer).

Usage::

    intake.add({7}, {7: {101: "move_done"}}, time.monotonic()); intake.signal()
    products, announced, first_wake = intake.take()
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

Announced = dict[int, dict[int, str]]  # product id -> announced event id -> reason


class TriggerIntake:
    """Pending products and announced events, and when the first unflushed wake-up came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._products: set[int] = set()
        self._events: Announced = {}
        self._woken_at: float | None = None  # monotonic time of the first wake-up not yet flushed
        self._last_wake = 0.0  # monotonic time of the newest wake-up
        self.wake = threading.Event()  # the flusher: something to do
        self.fast_wake = threading.Event()  # a cycle: a wake-up or the feed read's answer

    def add(self, product_ids: Iterable[int], events: Iterable[tuple[int, int, str]], now: float) -> None:
        with self._lock:
            self._products.update(product_ids)
            for eid, pid, reason in events:
                self._products.add(pid)
                self._events.setdefault(pid, {})[eid] = reason
            self._last_wake = now
            if self._woken_at is None:
                self._woken_at = now

    def signal(self) -> None:
        self.wake.set()
        self.fast_wake.set()

    def take(self) -> tuple[set[int], Announced, float | None]:
        """Everything pending, for a fast read: (products, announced events, first wake-up)."""
        with self._lock:
            products, self._products = self._products, set()
            announced, self._events = self._events, {}
            first_wake, self._woken_at = self._woken_at, None
        return products, announced, first_wake

    def put_back(self, products: set[int], announced: Mapping[int, Mapping[int, str]] = {},
                 first_wake: float | None = None) -> None:
        """A read of what `take` gave failed: it is pending again."""
        with self._lock:
            self._products |= products
            for pid, found in announced.items():
                self._events.setdefault(pid, {}).update(found)
            if self._woken_at is None:
                self._woken_at = first_wake

    def take_woken(self) -> float | None:
        """The first unflushed wake-up's time, now being flushed (None: a poll)."""
        with self._lock:
            woken, self._woken_at = self._woken_at, None
        return woken

    def pending(self) -> bool:
        with self._lock:
            return bool(self._products)

    @property
    def last_wake(self) -> float:
        with self._lock:
            return self._last_wake
