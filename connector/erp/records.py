"""Reading Odoo's wire values: many2one pairs, `False` for empty, UTC datetime strings.

Usage::

    m2o_id([7, "WH/Stock"]) == 7;  odoo_datetime("2025-01-01 00:00:00").tzinfo is UTC
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


def m2o_id(value: Any) -> int | None:
    """The id of a many2one value (`[id, name]`, a bare id, or False)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    if isinstance(value, bool) or value is None:
        return None
    return int(value)


def ids(value: Any) -> tuple[int, ...]:
    """An x2many value (list of ids) as a tuple; False/None as empty."""
    if not value:
        return ()
    return tuple(int(v[0]) if isinstance(v, (list, tuple)) else int(v) for v in value)


def text(value: Any) -> str | None:
    """A char/text value; Odoo's False for empty becomes None."""
    if value is False or value is None:
        return None
    return str(value)


def number(value: Any, default: float = 0.0) -> float:
    if value is False or value is None:
        return default
    return float(value)


def optional_number(value: Any) -> float | None:
    """A number where False/None means "not set" (e.g. a listing's buffer override)."""
    if value is False or value is None:
        return None
    return float(value)


def odoo_datetime(value: Any) -> datetime | None:
    """Odoo's "YYYY-MM-DD HH:MM:SS" (UTC, no zone) as an aware UTC datetime."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raw = str(value)[:19].replace("T", " ")
    return datetime.strptime(raw, ODOO_DATETIME).replace(tzinfo=UTC)


def to_odoo_datetime(value: datetime) -> str:
    """An aware (or naive UTC) datetime as Odoo's UTC string."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(ODOO_DATETIME)


def aware(value: datetime) -> datetime:
    """Naive datetimes in the config are taken as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
