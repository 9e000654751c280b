"""Per-push traces, so a benchmark can tell the bridge's own time from the ERP's and the
marketplace's: when each wake-up (outbox event) arrived, and for each push when the
bridge handed it to the marketplace's adapter, how long the marketplace's rate budget then
held the batch, and when the bridge was waiting on ERP reads for the value it carries.

Off by default (a running bridge keeps no traces); `Engine.start_tracing()` turns it on
with bounded memory. Times are wall-clock (`time.time()`), comparable across the
processes of one machine.

    bridge-added time of a value = (handed to the adapter - wake-up arrival)
                                   - ERP read time inside that interval
    (what follows the hand-over, the marketplace's rate budget and its HTTP, is not the
    bridge's; waiting for the channel's previous request to finish is, conservatively)

It also keeps every interval the bridge spent waiting on the outside: the flusher's stock
reads ("erp"; a wake-up that arrives during one waits for it), its change-feed reads ("feed";
nothing waits for those) and each channel's adapter calls ("market:<channel>"; a queued
value waits for them), so a stricter split can take out the ERP reads a value waited
behind before it was queued and the marketplace's answers to the requests it queued behind.

Usage::

    tracer = PushTracer(keep=100_000)
    tracer.arrived([(event_id, product_id)], time.time())
    tracer.pushed(PushTrace(...))
    tracer.waited("erp", started, ended)
    tracer.dump()  # {"arrivals": [[event, product, t], ...], "pushes": [{...}, ...]}
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Span = tuple[float, float]  # wall-clock (start, end) of an ERP read


@dataclass(frozen=True, slots=True)
class PushTrace:
    """One listing's value handed to its marketplace."""

    channel: str
    listing_id: int
    channel_sku: str
    quantity: int
    handed_at: float  # the batch went to the adapter (its rate-limit wait and HTTP follow)
    rate_wait_ms: float  # of the whole batch
    erp_spans: tuple[Span, ...]  # the ERP reads the value came from
    created_at: float = 0.0  # the value was handed to the channel's queue


def erp_overlap(spans: Sequence[Span], start: float, end: float) -> float:
    """Seconds of [start, end] covered by the union of `spans`."""
    total, reach = 0.0, start
    for lo, hi in sorted(spans):
        lo, hi = max(lo, reach), min(hi, end)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


class PushTracer:
    """Bounded, thread-safe records of arrivals and pushes."""

    def __init__(self, keep: int = 100_000) -> None:
        self._arrivals: deque[tuple[int, int, float]] = deque(maxlen=keep)
        self._pushes: deque[PushTrace] = deque(maxlen=keep)
        self._waits: deque[tuple[str, float, float]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def arrived(self, events: Iterable[tuple[int, int]], at: float) -> None:
        """Wake-ups naming (event id, product id) reached the bridge at `at`."""
        with self._lock:
            self._arrivals.extend((eid, pid, at) for eid, pid in events)

    def pushed(self, traces: Iterable[PushTrace]) -> None:
        with self._lock:
            self._pushes.extend(traces)

    def waited(self, on: str, start: float, end: float) -> None:
        """The bridge waited on `on` ("erp" or "market:<channel>") from `start` to `end`."""
        with self._lock:
            self._waits.append((on, start, end))

    def clear(self) -> None:
        with self._lock:
            self._arrivals.clear()
            self._pushes.clear()
            self._waits.clear()

    def dump(self) -> dict[str, Any]:
        """JSON-able copy: {"arrivals": [[event, product, at]], "pushes": [PushTrace as dict],
        "waits": [[on, start, end]]}."""
        with self._lock:
            return {"arrivals": [list(a) for a in self._arrivals],
                    "pushes": [asdict(p) for p in self._pushes],
                    "waits": [list(w) for w in self._waits]}
