"""The interface every state backend implements, small enough for a second one (PostgreSQL).

The engine, the outcome writer, the token vault and the readers (`status`, `timeline`,
`explain`) depend on `Store`, never on SQLite. connector/state/sqlite.py is the bundled
backend; a new backend is one module implementing these methods on the same tables
(schema.py), plus the shared store tests run against it.

Cursor values are JSON-able ints, strings or datetimes (write_date watermarks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from connector.state.rows import AlertRow, JournalRow, ListingRow, PushRecord, RetryRow, StoredCredential


class Store(Protocol):
    """What the bridge keeps durable: cursors, listing baselines, retries, journal, alerts,
    rotated credentials. Every write is one transaction; reads see committed writes."""

    path: Path  # where the state lives, as `status` shows it
    read_only: bool

    def close(self) -> None: ...

    # cursors: how far each change feed is fully handled
    def get_cursor(self, name: str) -> Any: ...
    def set_cursor(self, name: str, value: Any) -> None: ...
    def cursors(self) -> dict[str, tuple[Any, float]]: ...

    # outcomes: listing rows, journal and retry queue in one write
    def record_outcomes(self, outcomes: Iterable[PushRecord], now: float | None = None) -> None: ...
    def listings(
        self, *, sku: str | None = None, channel: str | None = None, ids: Iterable[int] | None = None
    ) -> list[ListingRow]: ...
    def listing(self, listing_id: int) -> ListingRow | None: ...

    # the retry queue
    def due_retries(self, now: float | None = None, limit: int = 1000) -> list[RetryRow]: ...
    def drop_retries(self, listing_ids: Iterable[int]) -> int: ...
    def retries(self) -> list[RetryRow]: ...

    # the journal
    def journal(
        self,
        *,
        sku: str | None = None,
        since: float | None = None,
        channel: str | None = None,
        limit: int = 1000,
    ) -> list[JournalRow]: ...
    def prune_journal(self, older_than_days: float, now: float | None = None) -> int: ...

    # oversell alerts
    def open_alert(self, kind: str, product_id: int, sku: str, message: str) -> bool: ...
    def clear_alert(self, kind: str, product_id: int) -> bool: ...
    def alerts(self, *, open_only: bool = True) -> list[AlertRow]: ...

    # rotated marketplace credentials
    def save_credential(self, channel_code: str, key: str, value: str, origin: str = "") -> None: ...
    def credentials(self, channel_code: str) -> dict[str, StoredCredential]: ...

    # per channel: counts by state, last push, retry backlog (status)
    def channel_summary(self) -> dict[str, dict[str, Any]]: ...
