"""Oversold alerts: a product whose free stock is negative in the ERP publishes 0 everywhere,
and an alert stays open in the state file until it is no longer oversold.

Usage: ``alerts = OversoldAlerts(store); alerts.update(snapshot, results, report)``
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from connector.state.store import Store
from connector.stock.model import StockSnapshot
from connector.sync.ports import ListingResultLike
from connector.sync.report import ResyncReport

log = logging.getLogger("connector.sync.engine")

OVERSOLD = "oversold"


class OversoldAlerts:
    """The open oversold alerts (product ids), mirrored from the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # flushes run under the flush lock; this guards the set alone
        self._open = {a.product_id for a in store.alerts() if a.kind == OVERSOLD}

    def update(
        self, snapshot: StockSnapshot, results: Sequence[ListingResultLike], report: ResyncReport | None
    ) -> None:
        """Open an alert for every oversold product of `snapshot`, clear the others'."""
        oversold = {r.product_id for r in results if r.oversold}
        with self._lock:
            for product_id in sorted(oversold):
                product = snapshot.products.get(product_id)
                sku = (product.default_code if product else None) or f"product #{product_id}"
                if report is not None:
                    report.oversold.append(sku)
                if product_id in self._open:
                    continue
                message = f"OVERSOLD: free stock of {sku} is negative in the ERP; publishing 0 everywhere"
                self._store.open_alert(OVERSOLD, product_id, sku, message)
                self._open.add(product_id)
                log.error(message)
            for product_id in snapshot.product_ids - oversold:
                if product_id in self._open:
                    self._store.clear_alert(OVERSOLD, product_id)
                    self._open.discard(product_id)
                    log.warning("product #%s is no longer oversold", product_id)
