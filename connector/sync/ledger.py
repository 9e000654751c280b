"""The listing ledger: what each listing last durably got, mirrored in memory from the store.

It is the diff baseline (Rule 5) and what the outcome recorder updates after every push
result; readers take a batch of entries under one lock (`entries`), never one per listing.
Entries are replaced, never changed in place, so a caller may keep the ones it was given.

Usage::

    ledger = ListingLedger.load(store)
    known = ledger.entries([12, 13]).get(12)      # Known | None
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connector.state.store import Store
from connector.stock.model import PushAction, SyncState

GAVE_UP = "gave_up"  # error category of a listing whose transient retries ran out


@dataclass(frozen=True, slots=True)
class Known:
    """The durable baseline of one listing."""

    wanted_qty: int | None
    wanted_action: PushAction | None
    state: SyncState
    pushed_qty: int | None
    attempts: int = 0
    # The action the marketplace last accepted: what "previous" means to the computation
    # (a REACTIVATE that failed leaves the listing switched off, so the retry reactivates).
    pushed_action: PushAction | None = None
    # What the marketplace told us it holds when it refused a compare-and-set (Shopify
    # *_STALE): the next push compares with it, after a fresh ERP read (Rule 1 and 3).
    remote_qty: int | None = None
    gave_up: bool = False  # error after transient retries ran out: the safety net tries again

    @property
    def previous_action(self) -> PushAction | None:
        """The action the marketplace has: the last accepted one (not merely wanted: a
        refused REACTIVATE left it off), else the wanted one."""
        return self.pushed_action or self.wanted_action

    @property
    def expected_qty(self) -> int | None:
        """What the marketplace holds as far as we know (compare-and-set pushes send it)."""
        return self.remote_qty if self.remote_qty is not None else self.pushed_qty

    @property
    def needs_repair(self) -> bool:
        """The safety net re-pushes it: retries ran out, or the accepted value is not the
        wanted one. Pending belongs to the retry queue; locked stays (Rule 6)."""
        if self.state is SyncState.ERROR:
            return self.gave_up
        if self.state in (SyncState.SYNCED, SyncState.DEACTIVATED):
            return self.pushed_qty != self.wanted_qty
        return False


class ListingLedger:
    """listing id -> Known, thread-safe."""

    def __init__(self, known: Mapping[int, Known] | None = None) -> None:
        self._lock = threading.Lock()
        self._known: dict[int, Known] = dict(known or {})

    @classmethod
    def load(cls, store: Store) -> ListingLedger:
        attempts = {r.listing_id: r.attempts for r in store.retries()}
        known: dict[int, Known] = {}
        for row in store.listings():
            known[row.listing_id] = Known(
                wanted_qty=row.wanted_qty,
                wanted_action=PushAction(row.wanted_action) if row.wanted_action else None,
                state=SyncState(row.state),
                pushed_qty=row.pushed_qty,
                pushed_action=PushAction(row.pushed_action) if row.pushed_action else None,
                attempts=attempts.get(row.listing_id, 0),
                gave_up=row.state == SyncState.ERROR.value and (
                    row.error_category == GAVE_UP or (row.last_error or "").startswith("gave up after")
                ),
            )
        return cls(known)

    def get(self, listing_id: int) -> Known | None:
        with self._lock:
            return self._known.get(listing_id)

    def entries(self, listing_ids: Iterable[int]) -> dict[int, Known]:
        """The known entries of these listings, read under one lock."""
        with self._lock:
            known = self._known
            return {lid: k for lid in listing_ids if (k := known.get(lid)) is not None}

    def replace(self, entries: Mapping[int, Known]) -> None:
        with self._lock:
            self._known.update(entries)
