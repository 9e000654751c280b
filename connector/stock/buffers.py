"""The safety buffer a listing keeps back, and where each unit of it comes from.

A listing's own `buffer_qty` overrides everything; otherwise the channel's rule adds up
a fixed part, an extra for the listing's velocity class, the extras of the peak periods
running now and a marketplace extra (e.g. Etsy's slow propagation). Never negative.

Usage::

    rule = listing_buffer(listing, channel.buffer, now)
    rule.total, rule.source      # 3.0, "channel fixed 1 + velocity A 2"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.stock.model import BufferPolicy, Listing
from connector.stock.times import is_between

LISTING = "listing"
CHANNEL_FIXED = "channel fixed"
PEAK_PERIOD = "peak period"
MARKETPLACE_EXTRA = "marketplace extra"


def velocity_source(velocity_class: str) -> str:
    return f"velocity {velocity_class}"


@dataclass(frozen=True, slots=True)
class BufferBreakdown:
    """The buffer in units and its non-zero parts, in the order they were added.

    Usage: ``BufferBreakdown.of((("channel fixed", 2.0),)).total == 2.0``
    """

    total: float
    parts: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, parts: tuple[tuple[str, float], ...]) -> BufferBreakdown:
        kept = tuple((source, units) for source, units in parts if units)
        # A negative rule (a misconfigured extra) must never add stock: clamp at zero.
        return cls(max(0.0, float(sum(units for _, units in kept))), kept)

    @property
    def source(self) -> str:
        """Human-readable origin, e.g. "listing" or "channel fixed 1 + peak period 2"."""
        if not self.parts:
            return "none"
        if self.parts[0][0] == LISTING:
            return LISTING
        return " + ".join(f"{source} {_num(units)}" for source, units in self.parts)


NO_BUFFER = BufferBreakdown(0.0, ())


def channel_buffer(
    policy: BufferPolicy, velocity_class: str | None, now: datetime
) -> BufferBreakdown:
    """The channel rule's buffer for a listing of the given velocity class at `now`."""
    parts: list[tuple[str, float]] = [(CHANNEL_FIXED, policy.fixed)]
    if velocity_class is not None and velocity_class in policy.by_velocity:
        parts.append((velocity_source(velocity_class), policy.by_velocity[velocity_class]))
    for period in policy.peak_periods:
        if is_between(now, period.start, period.end):
            parts.append((PEAK_PERIOD, period.extra))
    parts.append((MARKETPLACE_EXTRA, policy.marketplace_extra))
    return BufferBreakdown.of(tuple(parts))


def listing_buffer(listing: Listing, policy: BufferPolicy, now: datetime) -> BufferBreakdown:
    """The listing's override when it has one, else the channel rule."""
    if listing.buffer_qty is not None:
        # Kept even at 0: "listing 0" is the answer to "why is there no buffer here?".
        units = float(listing.buffer_qty)
        return BufferBreakdown(max(0.0, units), ((LISTING, units),))
    return channel_buffer(policy, listing.velocity_class, now)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
