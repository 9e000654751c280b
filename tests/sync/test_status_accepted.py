"""Issue 17: `status` shows, per channel, the writes a marketplace accepted but has not
been seen applying (Amazon's ACCEPTED, held for confirmation), and the adapters'
configuration warnings (kept as channel alerts by the wiring's `on_warning` hook)."""

from __future__ import annotations

from pathlib import Path

from connector.marketplaces.base import PushResult, StockUpdate
from connector.stock.model import PushAction, SyncState
from connector.sync.reports import render_status, status_report
from connector.state.rows import ListingMeta, PushRecord
from connector.state.sqlite import StateStore
from connector.sync.wiring import channel_warnings


def _outcome(listing_id: int, channel: str, result: PushResult | None) -> PushRecord:
    meta = ListingMeta(listing_id, channel, channel.split("_")[0], listing_id, f"SKU{listing_id}",
                       f"C{listing_id}", None)
    if result is None:
        return PushRecord(meta=meta, quantity=3, action=PushAction.SET, state=SyncState.SYNCED, result="ok",
                       accepted=True)
    return PushRecord(meta=meta, quantity=3, action=PushAction.SET, state=SyncState.PENDING, result="retry",
                   message=result.message, retry_due_at=result.retry_at, deferred=result.deferred)


def test_status_counts_accepted_not_applied_per_channel(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    held = PushResult.accepted(StockUpdate(1, "C1", 3), "Amazon submission s1 queued", 100.0)
    plain_retry = PushResult.retry(StockUpdate(3, "C3", 3), "HTTP 503", 100.0)
    store.record_outcomes([_outcome(1, "amazon_de", held), _outcome(2, "amazon_de", held),
                           _outcome(3, "amazon_de", plain_retry), _outcome(4, "bol_nl", None)])
    report = status_report(store)
    assert report["channels"]["amazon_de"]["accepted_not_applied"] == 2
    assert report["channels"]["amazon_de"]["pending"] == 3  # the plain retry is not "accepted"
    assert report["channels"]["bol_nl"]["accepted_not_applied"] == 0
    assert "accepted, not yet applied: amazon_de 2" in render_status(report)


def test_adapter_warnings_become_channel_alerts_and_clear(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    hook = channel_warnings(store, "ebay_de")
    hook("out_of_stock_control", "Out-of-Stock Control is off")
    hook("out_of_stock_control", "Out-of-Stock Control is off (restated)")
    assert [a.message for a in store.alerts()] == ["Out-of-Stock Control is off (restated)"]
    assert "ALERT channel:ebay_de:out_of_stock_control: Out-of-Stock Control is off" in render_status(
        status_report(store))
    hook("out_of_stock_control", None)
    assert store.alerts() == []


def test_an_adapter_built_by_the_bridge_reports_its_warnings_to_status(tmp_path: Path) -> None:
    """eBay with Out-of-Stock Control off (a channel setting here, so no call is needed):
    the warning is an open channel alert as soon as the adapter is built."""
    from connector.config import parse_config
    from connector.sync.wiring import make_adapter_factory

    config = parse_config({
        "erp": {"url": "http://127.0.0.1:9", "database": "d", "password": "p"},
        "channels": {"ebay_de": {"marketplace": "ebay", "base_url": "https://ebay.test", "client_id": "id",
                                 "client_secret": "secret", "refresh_token": "rt", "marketplace_id": "EBAY_DE",
                                 "out_of_stock_control": "off"}},
    }, environ={})
    store = StateStore.open(tmp_path / "s.sqlite3")
    adapter = make_adapter_factory(config, store=store)("ebay_de", "ebay")
    try:
        [alert] = store.alerts()
        assert alert.kind == "channel:ebay_de:out_of_stock_control" and "Out-of-Stock Control is off" in alert.message
        assert "ALERT channel:ebay_de:out_of_stock_control" in render_status(status_report(store))
    finally:
        adapter.close()


def test_status_lists_a_held_increase_with_the_time_it_may_go(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    held = PushResult.held(StockUpdate(5, "C5", 9), "eBay allows 250 revisions per listing per day", 1_800_000_000.0)
    store.record_outcomes([_outcome(5, "ebay_de", held)])
    text = render_status(status_report(store))
    assert "HELD    ebay_de SKU5 (C5): held until 2027-01-15T08:00:00Z: eBay allows 250" in text


def test_explain_says_accepted_not_applied_instead_of_an_error(tmp_path: Path) -> None:
    from connector.sync.reports import render_explanations, stored_explanations

    store = StateStore.open(tmp_path / "s.sqlite3")
    held = PushResult.accepted(StockUpdate(1, "C1", 3), "Amazon submission s1 queued", 100.0)
    store.record_outcomes([_outcome(1, "amazon_de", held)])
    text = render_explanations(stored_explanations(store, "SKU1"))
    assert "state accepted, not yet applied" in text
    assert "marketplace: accepted, not yet applied: Amazon submission s1 queued" in text
    assert "last error" not in text
