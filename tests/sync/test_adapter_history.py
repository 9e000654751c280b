"""A marketplace that counts usage per listing (eBay: 250 revisions a day) gets its recent
accepted pushes back from the journal when the bridge builds its adapter, so a restart
does not reset the count."""

from __future__ import annotations

import time
from pathlib import Path

from connector.config import parse_config
from connector.marketplaces.base import Outcome as PushOutcome
from connector.marketplaces.base import StockUpdate
from connector.marketplaces.ebay import REVISION_BURST
from connector.stock.model import PushAction, SyncState
from connector.state.rows import ListingMeta, PushRecord
from connector.state.sqlite import StateStore
from connector.sync.wiring import make_adapter_factory

CONFIG = {
    "erp": {"url": "http://127.0.0.1:9", "database": "d", "password": "p"},
    "channels": {"ebay_de": {"marketplace": "ebay", "base_url": "https://ebay.test", "client_id": "id",
                             "client_secret": "secret", "refresh_token": "rt", "marketplace_id": "EBAY_DE"}},
}


def journal_pushes(store: StateStore, sku: str, count: int, at: float, result: str = "ok") -> None:
    meta = ListingMeta(7, "ebay_de", "ebay", 3, "MUG", sku, "offer-1")
    for n in range(count):
        store.record_outcomes([PushRecord(meta=meta, quantity=10 + n, action=PushAction.SET,
                                       state=SyncState.SYNCED if result == "ok" else SyncState.PENDING,
                                       result=result, accepted=result == "ok")], now=at)


def test_an_ebay_adapter_built_after_a_restart_holds_a_listing_that_spent_its_burst(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state.sqlite3")
    journal_pushes(store, "MUG", REVISION_BURST, time.time() - 120)  # before the restart
    journal_pushes(store, "TEA", REVISION_BURST, time.time() - 120, result="retry")  # never taken
    journal_pushes(store, "PEN", REVISION_BURST, time.time() - 2 * 86_400)  # another day

    adapter = make_adapter_factory(parse_config(CONFIG, environ={}), store=store)("ebay_de", "ebay")
    [held] = adapter.push([StockUpdate(7, "MUG", 5, external_id="offer-1")])  # no HTTP: it is held

    assert held.outcome is PushOutcome.RETRY and held.deferred
    assert adapter.revisions.wait("TEA") == 0.0 and adapter.revisions.wait("PEN") == 0.0  # type: ignore[attr-defined]


def test_without_a_state_store_the_budget_starts_full(tmp_path: Path) -> None:
    adapter = make_adapter_factory(parse_config(CONFIG, environ={}))("ebay_de", "ebay")
    assert adapter.revisions.wait("MUG") == 0.0  # type: ignore[attr-defined]
