"""Writing the sync status of listings back to the addon (`marketplace.listing`).

Only the status fields are written, never stock. A batch goes in one call to the addon's
`marketplace.listing.report_sync_status` (every RPC costs an API key check on a real
server, ~20 ms: a stock change on ten channels with ten different numbers would otherwise
cost ten writes); an addon older than that method gets one `write(ids, vals)` per group of
listings that share the same values. A transient ERP error (down, timeout) is raised, so the
caller (connector.sync.statusback.StatusPublisher) keeps the statuses and tries again; a
refusal (a deleted listing, access rights) is logged and skipped, as retrying cannot help.

Usage::

    writer = ListingStatusWriter(client, enabled=(source.mode == "addon"))
    writer.write([ListingStatus(12, SyncState.SYNCED, 7, now, None)])
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.erp.client import OdooClient
from connector.erp.errors import ErpError, MissingModelError, TransientError
from connector.erp.records import to_odoo_datetime
from connector.stock.model import SyncState

log = logging.getLogger(__name__)

MAX_IDS_PER_WRITE = 1000


@dataclass(frozen=True, slots=True)
class ListingStatus:
    listing_id: int
    sync_state: SyncState
    last_pushed_qty: int | None
    last_sync_at: datetime
    last_error: str | None


class ListingStatusWriter:
    """Batches status writes: one `report_sync_status` call per batch (older addons: one
    `write` per group of identical values)."""

    def __init__(self, client: OdooClient, enabled: bool) -> None:
        self.client = client
        self.enabled = enabled
        self.batched = True  # until the server says it lacks report_sync_status

    def write(self, statuses: Sequence[ListingStatus]) -> int:
        """Write `statuses`; returns the number of RPC calls made.

        Raises TransientError when the ERP cannot be reached: nothing is lost, write again.
        """
        if not self.enabled or not statuses:
            return 0
        latest: dict[int, ListingStatus] = {}
        for status in statuses:  # a later status of the same listing wins
            latest[status.listing_id] = status
        if self.batched:
            try:
                return self._report(list(latest.values()))
            except MissingModelError:
                log.info("the addon has no marketplace.listing.report_sync_status (older "
                         "version): writing sync statuses group by group")
                self.batched = False
        return self._write_groups(latest)

    def _report(self, statuses: list[ListingStatus]) -> int:
        calls = 0
        for start in range(0, len(statuses), MAX_IDS_PER_WRITE):
            chunk = statuses[start:start + MAX_IDS_PER_WRITE]
            calls += 1
            try:
                self.client.call("marketplace.listing", "report_sync_status",
                                 [{"id": s.listing_id, **_values(s)} for s in chunk])
            except (TransientError, MissingModelError):
                raise  # re-queued by the publisher / answered by the group-by-group write
            except ErpError as exc:
                log.error("listing status report refused by Odoo for %d listing(s): %s",
                          len(chunk), exc)
        return calls

    def _write_groups(self, latest: dict[int, ListingStatus]) -> int:
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
        for status in latest.values():
            groups[tuple(sorted(_values(status).items()))].append(status.listing_id)
        calls = 0
        for values, listing_ids in groups.items():
            for start in range(0, len(listing_ids), MAX_IDS_PER_WRITE):
                chunk = sorted(listing_ids)[start:start + MAX_IDS_PER_WRITE]
                calls += 1
                try:
                    self.client.call("marketplace.listing", "write", chunk, dict(values))
                except TransientError:
                    raise  # the publisher re-queues the batch (rewriting a group is harmless)
                except ErpError as exc:
                    log.error("listing status write refused by Odoo for %d listing(s): %s",
                              len(chunk), exc)
        return calls


def _values(status: ListingStatus) -> dict[str, Any]:
    return {
        "sync_state": str(status.sync_state),
        "last_pushed_qty": status.last_pushed_qty if status.last_pushed_qty is not None else False,
        # a naive time is local (datetime.now()), as Python's astimezone takes it
        "last_sync_at": to_odoo_datetime(status.last_sync_at.astimezone(UTC)),
        "last_error": status.last_error[:2000] if status.last_error else False,
    }
