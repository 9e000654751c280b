"""Measured per-channel delay (issue 13 item 1): for every push the marketplace accepted,
the time from the value's origin — the ERP's wake-up for it, else the moment the bridge
decided the value (a poll, a resync) — to the marketplace's accepting answer. Kept as
rolling histograms (connector/sync/delay_stats.py) in the state store's cursor table, so
`status`, `explain` and `advise`/`simulate` read them, and they survive restarts.

Usage::

    recorder = DelayRecorder.load(store)          # in the engine
    recorder.accepted("amazon_de", origin_at, accepted_at)
    StoredDelays(store).measured()                # a risk.delays.DelaySource
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from connector.risk.delays import Delay, MeasuredDelays
from connector.state.store import Store
from connector.sync.delay_stats import DelayStats, Window

log = logging.getLogger(__name__)

STATE_NAME = "channel_delays"  # its row in the state store's cursor table (a JSON document)
MIN_SAMPLES = 20  # fewer: the advisor keeps the configured or default figure


class DelayRecorder:
    def __init__(self, store: Store, stats: DelayStats, *, save_every_s: float = 2.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._stats = stats
        self._save_every_s = save_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._dirty = False
        self._saved_at = clock()

    @classmethod
    def load(cls, store: Store, **kw: Any) -> DelayRecorder:
        return cls(store, load_stats(store), **kw)

    def accepted(self, channel: str, origin_at: float, accepted_at: float) -> None:
        """One accepted push; saved at most every `save_every_s` (and by `save`)."""
        with self._lock:
            self._stats.record(channel, max(0.0, accepted_at - origin_at), at=accepted_at)
            self._dirty = True
            due = accepted_at - self._saved_at >= self._save_every_s
        if due:
            self.save()

    def save(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            doc = self._stats.to_json()
            self._dirty = False
            self._saved_at = self._clock()
        try:
            self._store.set_cursor(STATE_NAME, doc)
        except Exception as exc:  # a busy or read-only store must not stop the pushes
            log.debug("delay histograms not saved: %s", exc)

    def summary(self, channel: str, window: Window, now: float | None = None) -> Any:
        with self._lock:
            return self._stats.summary(channel, window, self._clock() if now is None else now)


def load_stats(store: Store) -> DelayStats:
    doc = store.get_cursor(STATE_NAME)
    if not isinstance(doc, dict):
        return DelayStats()
    try:
        return DelayStats.from_json(doc)
    except (TypeError, ValueError, AttributeError):
        log.warning("stored delay histograms unreadable; starting afresh")
        return DelayStats()


def delay_report(store: Store, now: float | None = None) -> dict[str, Any]:
    """Per channel: count, p50 and p99 (ms) over the last hour and the last day, and the
    last few delays (ms), for `status`, `explain` and their --json."""
    stats = load_stats(store)
    stamp = time.time() if now is None else now
    report: dict[str, Any] = {}
    for code in stats.channels():
        entry: dict[str, Any] = {}
        for window in ("hour", "day"):
            s = stats.summary(code, window, stamp)
            entry[window] = {"count": s.count, "p50_ms": _ms(s.p50_s), "p99_ms": _ms(s.p99_s),
                             "max_ms": _ms(s.max_s)}
        entry["last_ms"] = [_ms(x) for x in stats.last(code)]
        report[code] = entry
    return report


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class StoredDelays:
    """A risk.delays.DelaySource over the state store: each channel's measured push leg
    (last hour, else last day) once it has MIN_SAMPLES."""

    def __init__(self, store: Store, now: float | None = None) -> None:
        self._store = store
        self._now = now

    def measured(self) -> Mapping[str, MeasuredDelays]:
        stats = load_stats(self._store)
        now = time.time() if self._now is None else self._now
        found: dict[str, MeasuredDelays] = {}
        for code in stats.channels():
            for window, label in (("hour", "1h"), ("day", "24h")):
                s = stats.summary(code, window, now)  # type: ignore[arg-type]
                if s.count >= MIN_SAMPLES and s.p50_s is not None and s.p99_s is not None:
                    found[code] = MeasuredDelays(push=Delay(s.p50_s, max(s.p50_s, s.p99_s)),
                                                 samples=s.count, window=label)
                    break
        return found
