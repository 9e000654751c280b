"""The state store's value types: what the engine writes (`PushRecord`) and what readers
get back (`ListingRow`, `RetryRow`, `JournalRow`, `AlertRow`, `StoredCredential`).

Backend-neutral dataclasses: the SQLite store (sqlite.py) and any other backend return these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.stock.model import PushAction, SyncState

@dataclass(frozen=True, slots=True)
class ListingMeta:
    """What the journal and the reports need to name a listing."""

    listing_id: int
    channel_code: str
    marketplace: str
    product_id: int
    sku: str  # the ERP product's default_code
    channel_sku: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class PushRecord:
    """One durable result of one push (or one decision not to push), for `record_outcomes`."""

    meta: ListingMeta
    quantity: int
    action: PushAction
    state: SyncState  # synced / deactivated / error / locked, or pending when parked for retry
    result: str  # ok / retry / failed / gave_up
    message: str = ""
    error_category: str | None = None
    old_qty: int | None = None
    events: Sequence[int] = ()
    trigger: str = ""
    duration_ms: float = 0.0
    retry_due_at: float | None = None  # with result "retry": park in the retry queue
    # the explanation, or a function building it: only the last outcome of a listing in a
    # write is turned into JSON (a burst replaces a listing's value many times over)
    explanation: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None
    accepted: bool = False  # the marketplace now holds `quantity`
    # With result "retry": a hold, not a failure (eBay's revision budget); the stored
    # attempt count stays as it was, so a restart does not turn holds into give-ups.
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class ListingRow:
    listing_id: int
    channel_code: str
    marketplace: str
    product_id: int
    sku: str
    channel_sku: str
    external_id: str | None
    pushed_qty: int | None
    pushed_action: str | None
    pushed_at: float | None
    wanted_qty: int | None
    wanted_action: str | None
    state: str
    last_error: str | None
    error_category: str | None
    updated_at: float
    explanation: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RetryRow:
    listing_id: int
    channel_code: str
    product_id: int
    quantity: int
    action: str
    attempts: int
    due_at: float
    last_message: str
    created_at: float


@dataclass(frozen=True, slots=True)
class JournalRow:
    id: int
    at: float
    channel_code: str
    listing_id: int
    sku: str
    channel_sku: str
    old_qty: int | None
    new_qty: int
    action: str
    events: list[int]
    trigger: str
    result: str
    message: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso_time(self.at),
            "channel": self.channel_code,
            "listing_id": self.listing_id,
            "sku": self.sku,
            "channel_sku": self.channel_sku,
            "old": self.old_qty,
            "new": self.new_qty,
            "action": self.action,
            "events": self.events,
            "trigger": self.trigger,
            "result": self.result,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential the marketplace rotated; `value` is a secret and stays out of reprs."""

    value: str = field(repr=False)
    origin: str
    updated_at: float


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    product_id: int
    sku: str
    message: str
    opened_at: float
    cleared_at: float | None = None



def iso_time(epoch: float | None) -> str | None:
    """Local ISO-8601 time (seconds) of an epoch, for reports; None stays None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")
