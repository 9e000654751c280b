"""Rolling per-channel delay distributions in bounded memory (pure: no I/O, no clock).

Each channel keeps log-bucketed histograms (HDR-style: a bucket's width grows with its
value, about 4.4 % relative error) per minute for the last hour and per hour for the last
day, so `summary` can say p50/p99 over either window without keeping samples. The whole
thing serialises to a small JSON document so the state store can keep it across restarts.

Usage::

    stats = DelayStats()
    stats.record("amazon_de", 0.183, at=time.time())
    stats.summary("amazon_de", "hour", now=time.time())   # WindowSummary(count, p50, p99, max)
    doc = stats.to_json(); DelayStats.from_json(doc)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Window = Literal["hour", "day"]
# 2**(1/16) per bucket: relative error ≤ ~2.2 % either side of the bucket's middle.
_STEPS_PER_DOUBLING = 16
_FLOOR_S = 0.001  # everything under a millisecond shares the first bucket
_MINUTE, _HOUR = 60, 3600


def _bucket(seconds: float) -> int:
    if seconds <= _FLOOR_S:
        return 0
    return 1 + int(math.log2(seconds / _FLOOR_S) * _STEPS_PER_DOUBLING)


def _bucket_value(index: int) -> float:
    """The geometric middle of a bucket (its representative value)."""
    if index == 0:
        return _FLOOR_S
    return float(_FLOOR_S * 2 ** ((index - 0.5) / _STEPS_PER_DOUBLING))


@dataclass
class Histogram:
    counts: dict[int, int] = field(default_factory=dict)
    max_s: float = 0.0

    def record(self, seconds: float) -> None:
        index = _bucket(max(0.0, seconds))
        self.counts[index] = self.counts.get(index, 0) + 1
        self.max_s = max(self.max_s, seconds)

    def merge(self, other: Histogram) -> None:
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.max_s = max(self.max_s, other.max_s)

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def quantile(self, q: float) -> float | None:
        total = self.count
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return min(_bucket_value(index), self.max_s)
        return self.max_s

    def to_json(self) -> dict[str, Any]:
        return {"c": {str(k): v for k, v in self.counts.items()}, "m": self.max_s}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Histogram:
        return cls({int(k): int(v) for k, v in doc.get("c", {}).items()}, float(doc.get("m", 0.0)))


@dataclass(frozen=True)
class WindowSummary:
    count: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None


@dataclass
class _Channel:
    minutes: dict[int, Histogram] = field(default_factory=dict)  # minute number -> histogram
    hours: dict[int, Histogram] = field(default_factory=dict)    # hour number -> histogram
    last: list[float] = field(default_factory=list)              # the latest few, newest last


class DelayStats:
    """Per channel: minute histograms for the last hour, hour histograms for the last day."""

    KEEP_LAST = 5

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}

    def channels(self) -> list[str]:
        return sorted(self._channels)

    def record(self, channel: str, seconds: float, at: float) -> None:
        state = self._channels.setdefault(channel, _Channel())
        minute, hour = int(at // _MINUTE), int(at // _HOUR)
        state.minutes.setdefault(minute, Histogram()).record(seconds)
        state.hours.setdefault(hour, Histogram()).record(seconds)
        state.last = [*state.last[-(self.KEEP_LAST - 1):], seconds]
        self._prune(state, at)

    def summary(self, channel: str, window: Window, now: float) -> WindowSummary:
        state = self._channels.get(channel)
        merged = Histogram()
        if state is not None:
            for histogram in self._in_window(state, window, now):
                merged.merge(histogram)
        if merged.count == 0:
            return WindowSummary(0, None, None, None)
        return WindowSummary(merged.count, merged.quantile(0.50), merged.quantile(0.99),
                             merged.max_s)

    def _in_window(self, state: _Channel, window: Window, now: float) -> Iterable[Histogram]:
        if window == "hour":
            first = int(now // _MINUTE) - 59
            return (h for minute, h in state.minutes.items() if minute >= first)
        first = int(now // _HOUR) - 23
        return (h for hour, h in state.hours.items() if hour >= first)

    @staticmethod
    def _prune(state: _Channel, now: float) -> None:
        oldest_minute, oldest_hour = int(now // _MINUTE) - 59, int(now // _HOUR) - 23
        for minute in [m for m in state.minutes if m < oldest_minute]:
            del state.minutes[minute]
        for hour in [h for h in state.hours if h < oldest_hour]:
            del state.hours[hour]

    def to_json(self) -> dict[str, Any]:
        return {code: {"minutes": {str(k): h.to_json() for k, h in s.minutes.items()},
                       "hours": {str(k): h.to_json() for k, h in s.hours.items()},
                       "last": s.last}
                for code, s in self._channels.items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DelayStats:
        stats = cls()
        for code, body in doc.items():
            stats._channels[code] = _Channel(
                minutes={int(k): Histogram.from_json(v) for k, v in body.get("minutes", {}).items()},
                hours={int(k): Histogram.from_json(v) for k, v in body.get("hours", {}).items()},
                last=[float(x) for x in body.get("last", [])][-cls.KEEP_LAST:],
            )
        return stats

    def last(self, channel: str) -> list[float]:
        state = self._channels.get(channel)
        return list(state.last) if state else []
