"""One rule for comparing the ERP's dates with the bridge's clock.

Odoo stores datetimes as naive UTC; the bridge's clock is timezone-aware. Comparing the
two raises TypeError, so every comparison goes through `as_utc` first.

Usage: ``as_utc(allocation.date_end) > as_utc(now)``
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (Odoo's convention)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def is_between(now: datetime, start: datetime | None, end: datetime | None) -> bool:
    """start <= now < end, an empty bound being open-ended (allocations, peak periods)."""
    now = as_utc(now)
    return (start is None or as_utc(start) <= now) and (end is None or now < as_utc(end))
