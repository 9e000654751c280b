"""StockSource, change feeds and the status writer over the in-memory FakeOdoo."""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from connector.config import BridgeConfig, ConfigError, parse_config
from connector.erp.changes import OutboxFeed, WriteDatePoller
from connector.erp.errors import AccessError, MissingModelError, TransientError
from connector.erp.source import StockSource
from connector.erp.status import ListingStatus, ListingStatusWriter
from connector.stock.model import AllocationMode, SyncState, ZeroStockAction
from tests.erp.conftest import PASSWORD
from tests.erp.fakes import FakeOdoo, demo_tables

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def bridge_config(mode: str = "auto", **extra: Any) -> BridgeConfig:
    data: dict[str, Any] = {
        "erp": {"url": "http://odoo.test", "password": PASSWORD, "mode": mode,
                "cache_ttl_s": 60, "page_size": 1000},
        "channels": {"amazon_de": {"buffer_by_velocity": {"fast": 3},
                                   "peak_periods": [{"start": "2025-11-28T00:00:00",
                                                     "end": "2025-12-01T00:00:00",
                                                     "extra": 2}]}},
        "velocity_classes": {"MUG": "fast"},
    }
    data.update(extra)
    return parse_config(data, environ={})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- snapshot ----------------------------------------------------------------------------


def test_addon_snapshot_reads_the_contributing_quants_and_config() -> None:
    fake = FakeOdoo(demo_tables())
    source = StockSource(fake, bridge_config())
    assert source.mode == "addon"
    snap = source.snapshot([1], now=NOW)

    assert snap.taken_at == NOW and snap.product_ids == frozenset({1})
    # WH/Stock/Shelf A and Backroom count; Quarantine, Other Co and customers are not read
    assert sorted((q.location_id, q.quantity, q.reserved_quantity, q.lot_id)
                  for q in snap.quants) == [(3, 10.0, 2.0, None), (5, 4.0, 0.0, 7)]
    assert set(snap.locations) == {2, 3, 4, 5, 9, 10}  # Backroom once, though a root twice
    assert snap.locations[5].parent_id == 2 and snap.locations[5].name == "WH/Stock/Backroom"
    assert {w.code for w in snap.warehouses.values()} == {"WH", "BACK", "WH2", "OC"}
    assert snap.products[1].barcode == "8712345678906" and snap.products[1].default_code == "MUG"
    assert snap.company_partner_ids == frozenset({1, 2})

    amazon, bol, kaufland = snap.channels[1], snap.channels[2], snap.channels[3]
    assert amazon.warehouse_ids == (1, 3) and amazon.zero_stock_action is ZeroStockAction.PUSH_ZERO
    assert amazon.buffer.fixed == 2.0 and amazon.buffer.by_velocity == {"fast": 3}
    assert amazon.buffer.peak_periods[0].start == datetime(2025, 11, 28, tzinfo=UTC)
    assert bol.excluded_location_ids == (4,) and bol.zero_stock_action is None
    assert kaufland.max_qty == 50.0 and kaufland.warehouse_ids == (1, 2, 3)

    listings = {item.id: item for item in snap.listings}
    assert set(listings) == {10, 12}  # only product 1's active listings
    assert listings[10].buffer_qty is None and listings[10].velocity_class == "fast"
    assert listings[12].external_id == "1234567" and listings[12].max_qty == 5.0

    # the reservation ended in February: only the open-ended allocation is read
    assert [(a.id, a.mode, a.quantity) for a in snap.allocations] == [
        (1, AllocationMode.ALLOCATION, 3.0)]
    assert snap.allocations[0].date_start == datetime(2025, 1, 1, tzinfo=UTC)
    assert snap.allocations[0].date_end is None


def test_listing_buffer_zero_is_an_override_and_pack_size_is_read() -> None:
    source = StockSource(FakeOdoo(demo_tables()), bridge_config())
    (tea,) = source.snapshot([3], now=NOW).listings
    assert tea.buffer_qty == 0.0 and tea.pack_size == 6


def test_buffer_override_flag_is_honoured_when_the_addon_has_one() -> None:
    tables = demo_tables()
    for row in tables["marketplace.listing"]:
        row["buffer_override"] = row["id"] == 12
        row["buffer_qty"] = 0.0 if row["id"] != 12 else 4.0
    source = StockSource(FakeOdoo(tables), bridge_config())
    listings = {item.id: item for item in source.snapshot([1, 3], now=NOW).listings}
    assert listings[10].buffer_qty is None and listings[11].buffer_qty is None
    assert listings[12].buffer_qty == 4.0


def _many_products(n: int) -> dict[str, list[dict[str, Any]]]:
    tables = demo_tables()
    for pid in range(100, 100 + n):
        tables["product.product"].append({"id": pid, "default_code": f"P{pid}",
                                          "barcode": False, "display_name": f"P{pid}",
                                          "company_id": False, "active": True})
        tables["stock.quant"].append({"id": 1000 + pid, "product_id": pid, "location_id": 3,
                                      "quantity": 5.0, "reserved_quantity": 0.0, "lot_id": False,
                                      "package_id": False, "owner_id": False, "company_id": 1})
        tables["marketplace.listing"].append({
            "id": 1000 + pid, "channel_id": 1, "product_id": pid, "channel_sku": f"P{pid}",
            "external_id": False, "buffer_qty": False, "max_qty": 0.0, "pack_size": 1,
            "active": True})
    return tables


@pytest.mark.parametrize("mode", ["addon", "no_addon"])
def test_snapshot_of_1_and_of_1000_products_make_the_same_number_of_calls(mode: str) -> None:
    fake = FakeOdoo(_many_products(1000))
    config = bridge_config(mode) if mode == "addon" else no_addon_config()
    source = StockSource(fake, config)
    source.snapshot([100], now=NOW)  # warm the configuration cache

    before = fake.calls
    one = source.snapshot([100], now=NOW)
    calls_one = fake.calls - before
    before = fake.calls
    many = source.snapshot(range(100, 1100), now=NOW)
    calls_many = fake.calls - before

    assert calls_one == calls_many == (4 if mode == "addon" else 2)
    assert len(one.quants) == 1 and len(many.quants) == 1000
    if mode == "addon":
        assert len(many.listings) == 1000


def test_config_is_cached_probed_after_the_ttl_and_reloaded_on_change() -> None:
    fake, clock = FakeOdoo(demo_tables()), Clock()
    source = StockSource(fake, bridge_config(), monotonic=clock)
    source.snapshot([1], now=NOW)
    loads = fake.calls_by["marketplace.channel.search_read"]

    source.snapshot([1], now=NOW)  # within the TTL: no probe, no reload
    assert fake.calls_by["marketplace.channel.search_read"] == loads

    clock.now += 61  # TTL passed, nothing changed: one probe, no reload
    before = fake.calls
    source.snapshot([1], now=NOW)
    assert fake.calls - before == 4 + 3
    assert fake.calls_by["marketplace.channel.search_read"] == loads + 1

    fake.tables["marketplace.channel"][1]["excluded_location_ids"] = []
    fake.tables["marketplace.channel"][1]["write_date"] = "2025-03-01 11:00:00"
    clock.now += 61
    probes = fake.calls_by["stock.location.search_read"]
    snap = source.snapshot([1], now=NOW)
    assert snap.channels[2].excluded_location_ids == ()
    # the reload takes the stamps the probe just read: one probe of each model, plus the
    # locations' own read (not a second probe round)
    assert fake.calls_by["stock.location.search_read"] - probes == 2

    fake.tables["marketplace.channel"][0]["buffer_qty"] = 9.0  # no write_date change
    source.refresh_config()
    assert source.snapshot([1], now=NOW).channels[1].buffer.fixed == 9.0


def test_iter_snapshots_pages_and_listed_products_are_paged_by_id() -> None:
    fake = FakeOdoo(_many_products(25))
    config = bridge_config(erp={"url": "http://odoo.test", "password": PASSWORD,
                                "page_size": 10})
    source = StockSource(fake, config)
    listed = source.listed_product_ids()
    assert listed == [1, 3, *range(100, 125)]  # listing 13 (product 2) is archived
    assert fake.calls_by["marketplace.listing.search_read"] == 3  # 28 rows, pages of 10
    pages = list(source.iter_snapshots(page_size=12))
    assert [len(p.product_ids) for p in pages] == [12, 12, 3]
    assert set().union(*(p.product_ids for p in pages)) == set(listed)
    assert [len(p.product_ids) for p in source.iter_snapshots([5, 1, 3, 1])] == [3]


def test_product_ids_for_skus_by_default_code_then_channel_sku() -> None:
    source = StockSource(FakeOdoo(demo_tables()), bridge_config())
    assert source.product_ids_for_skus(["MUG", "TEA-AMZ", "8712345678906", "NOPE"]) == {
        "MUG": 1, "TEA-AMZ": 3, "8712345678906": 1}


# -- modes and missing models ------------------------------------------------------------


def test_auto_without_the_addon_falls_back_to_no_addon() -> None:
    tables = demo_tables()
    tables["ir.model"] = [r for r in tables["ir.model"] if not r["model"].startswith("market")]
    source = StockSource(FakeOdoo(tables), no_addon_config(mode="auto"))
    assert source.mode == "no_addon"


def test_forced_addon_mode_without_the_addon_says_what_to_do() -> None:
    tables = demo_tables()
    tables["ir.model"] = [r for r in tables["ir.model"] if r["model"] != "marketplace.listing"]
    with pytest.raises(MissingModelError, match="marketplace.listing .* install or upgrade"):
        StockSource(FakeOdoo(tables), bridge_config("addon"))


def test_without_stock_the_error_says_install_inventory() -> None:
    tables = demo_tables()
    tables["ir.model"] = []
    with pytest.raises(MissingModelError, match="Inventory"):
        StockSource(FakeOdoo(tables), bridge_config())


def test_missing_field_is_named() -> None:
    tables = demo_tables()
    for row in tables["marketplace.channel"]:
        del row["excluded_location_ids"]
    with pytest.raises(MissingModelError, match="marketplace.channel lacks field.*"
                                                "excluded_location_ids.*upgrade the addon"):
        StockSource(FakeOdoo(tables), bridge_config())


# -- no-addon mode -----------------------------------------------------------------------


def no_addon_config(mode: str = "no_addon", **channel_overrides: Any) -> BridgeConfig:
    channels: dict[str, Any] = {
        "zalando_de": {"marketplace": "zalando", "warehouses": ["WH", "WH2"],
                       "excluded_locations": ["WH/Stock/Shelf B"], "buffer_qty": 1,
                       "zero_stock_action": "push_zero",
                       "listings": [{"sku": "MUG", "channel_sku": "8712345678906"},
                                    {"sku": "GHOST"},
                                    {"sku": "LAMP", "buffer_qty": 0, "pack_size": 2}]},
        "amazon_de": {"marketplace": "amazon", "warehouses": ["WH"], "max_qty": 20,
                      "listings": [{"sku": "MUG", "velocity_class": "slow"}] +
                                  [{"sku": f"P{p}"} for p in range(100, 1100)]},
    }
    channels.update(channel_overrides)
    return parse_config({"erp": {"url": "http://odoo.test", "password": PASSWORD, "mode": mode},
                         "channels": channels, "velocity_classes": {"LAMP": "fast"}},
                        environ={})


def test_no_addon_channels_and_listings_come_from_the_file(caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    caplog.set_level(logging.WARNING)
    fake = FakeOdoo(demo_tables())
    source = StockSource(fake, no_addon_config())
    assert source.mode == "no_addon"
    snap = source.snapshot([1, 2], now=NOW)
    amazon, zalando = snap.channels[1], snap.channels[2]  # sorted codes: amazon_de, zalando_de
    assert (amazon.code, zalando.code) == ("amazon_de", "zalando_de")
    assert amazon.warehouse_ids == (1,) and amazon.max_qty == 20 and amazon.company_id == 1
    assert zalando.warehouse_ids == (1, 3) and zalando.excluded_location_ids == (4,)
    assert zalando.buffer.fixed == 1 and zalando.zero_stock_action is ZeroStockAction.PUSH_ZERO
    listings = {item.id: item for item in snap.listings}
    # ids: channel_id * 100000 + index + 1; GHOST (index 1) is skipped with a warning
    assert set(listings) == {100001, 200001, 200003}
    assert listings[200001].channel_sku == "8712345678906" and listings[200001].product_id == 1
    assert listings[200003].buffer_qty == 0 and listings[200003].pack_size == 2
    assert listings[200003].velocity_class == "fast"
    assert listings[100001].velocity_class == "slow"
    assert snap.allocations == []
    assert "GHOST" in caplog.text
    assert source.listed_product_ids() == [1, 2]
    assert source.product_ids_for_skus(["8712345678906", "LAMP"]) == {"8712345678906": 1,
                                                                       "LAMP": 2}


def test_no_addon_unknown_warehouse_or_location_is_a_config_error() -> None:
    bad = no_addon_config(ebay_de={"marketplace": "ebay", "warehouses": ["XX"]})
    with pytest.raises(ConfigError, match="channels.ebay_de.warehouses: no warehouse .*'XX'"):
        StockSource(FakeOdoo(demo_tables()), bad).snapshot([1])
    bad = no_addon_config(ebay_de={"marketplace": "ebay", "warehouses": ["WH"],
                                   "excluded_locations": ["WH/Nowhere"]})
    with pytest.raises(ConfigError, match="excluded_locations: no location 'WH/Nowhere'"):
        StockSource(FakeOdoo(demo_tables()), bad).snapshot([1])


# -- change feeds ------------------------------------------------------------------------


def test_outbox_reads_in_id_order_after_the_cursor() -> None:
    feed = OutboxFeed(FakeOdoo(demo_tables()))
    events = feed.read(after_id=3, limit=2)
    assert [(e.id, e.product_id, e.reason) for e in events] == [(4, 2, "move_done"),
                                                                (5, 3, "move_done")]
    assert events[0].create_date == "2025-01-01 00:00:04"
    assert feed.latest_id() == 7
    assert feed.read(after_id=7) == []


def test_outbox_latest_id_of_an_empty_outbox_is_zero() -> None:
    tables = demo_tables()
    tables["marketplace.stock.event"] = []
    assert OutboxFeed(FakeOdoo(tables)).latest_id() == 0


def test_write_date_poller_misses_nothing_and_does_not_repeat() -> None:
    tables = demo_tables()
    fake = FakeOdoo(tables)
    poller = WriteDatePoller(fake, overlap_s=2)
    changed, mark = poller.poll(None)
    assert changed == set() and mark == "2025-01-01 00:00:00"

    tables["stock.quant"][4]["write_date"] = "2025-01-01 00:00:10"  # product 2
    tables["stock.move"].append({"id": 1, "product_id": 3, "write_date": "2025-01-01 00:00:11"})
    changed, mark = poller.poll(mark)
    assert changed == {2, 3} and mark == "2025-01-01 00:00:11"

    # a transaction that committed late with an older write_date inside the overlap
    tables["stock.quant"][0]["write_date"] = "2025-01-01 00:00:10"  # product 1
    changed, mark2 = poller.poll(mark)
    assert changed == {1} and mark2 == mark
    assert poller.poll(mark2) == (set(), mark2)  # already reported: not again


# -- status write-back -------------------------------------------------------------------


def test_status_writer_reports_a_batch_in_one_call() -> None:
    fake = FakeOdoo(demo_tables())
    writer = ListingStatusWriter(fake, enabled=True)
    at = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
    statuses = [ListingStatus(10, SyncState.SYNCED, 4, at, None),
                ListingStatus(12, SyncState.SYNCED, 7, at, None),
                ListingStatus(11, SyncState.ERROR, None, at, "unknown SKU"),
                ListingStatus(11, SyncState.SYNCED, 2, at, None)]  # later status wins
    assert writer.write(statuses) == 1
    ((model, method, args, _),) = [entry for entry in fake.log if entry[0] == "marketplace.listing"]
    assert (model, method) == ("marketplace.listing", "report_sync_status")
    assert sorted(args[0], key=lambda s: s["id"]) == [
        {"id": lid, "sync_state": "synced", "last_pushed_qty": qty,
         "last_sync_at": "2025-03-01 12:00:05", "last_error": False}
        for lid, qty in ((10, 4), (11, 2), (12, 7))]
    assert {row["id"]: row["last_pushed_qty"] for row in fake.tables["marketplace.listing"]
            if row["id"] in (10, 11, 12)} == {10: 4, 11: 2, 12: 7}
    assert ListingStatusWriter(fake, enabled=False).write(statuses) == 0


def test_status_writer_groups_identical_values_for_an_addon_without_the_batch_method() -> None:
    fake = FakeOdoo(demo_tables())
    fake.has_report_sync_status = False
    writer = ListingStatusWriter(fake, enabled=True)
    at = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
    statuses = [ListingStatus(10, SyncState.SYNCED, 4, at, None),
                ListingStatus(12, SyncState.SYNCED, 4, at, None),
                ListingStatus(11, SyncState.ERROR, None, at, "unknown SKU"),
                ListingStatus(11, SyncState.SYNCED, 4, at, None)]  # later status wins
    assert writer.write(statuses) == 1
    assert not writer.batched  # asked once, then remembered
    ((model, method, args, _),) = [entry for entry in fake.log if entry[1] == "write"]
    assert (model, args[0]) == ("marketplace.listing", [10, 11, 12])
    assert args[1] == {"sync_state": "synced", "last_pushed_qty": 4,
                       "last_sync_at": "2025-03-01 12:00:05", "last_error": False}
    assert writer.write([ListingStatus(10, SyncState.ERROR, None, at, "x"),
                         ListingStatus(12, SyncState.SYNCED, 1, at, None)]) == 2
    assert [entry[1] for entry in fake.log].count("report_sync_status") == 1


def test_status_writer_raises_a_transient_error_so_the_publisher_requeues() -> None:
    """A down ERP must not swallow sync statuses: the caller re-queues and writes again."""
    calls: list[str] = []

    class Down(FakeOdoo):
        def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
            super().call(model, method, *args, **kwargs)
            calls.append(method)
            raise TransientError("cannot reach Odoo")

    at = datetime(2025, 3, 1, tzinfo=UTC)
    writer = ListingStatusWriter(Down(copy.deepcopy(demo_tables())), enabled=True)
    with pytest.raises(TransientError, match="cannot reach Odoo"):
        writer.write([ListingStatus(10, SyncState.SYNCED, 1, at, None),
                      ListingStatus(11, SyncState.ERROR, None, at, "x")])
    assert calls == ["report_sync_status"]  # one batch call failed: nothing more was attempted


# -- the catalog cache of live flushes ---------------------------------------------------


def test_a_cached_snapshot_reads_only_the_quants_of_products_seen_before() -> None:
    fake = FakeOdoo(demo_tables())
    source = StockSource(fake, bridge_config())
    first = source.snapshot([1], now=NOW, cached=True)  # not known yet: everything is read
    before = dict(fake.calls_by)

    fake.tables["stock.quant"][0]["quantity"] = 99.0
    second = source.snapshot([1], now=NOW, cached=True)

    read = {k: v - before.get(k, 0) for k, v in fake.calls_by.items() if v != before.get(k, 0)}
    assert read == {"stock.quant.search_read": 1}
    assert second.listings == first.listings and second.allocations == first.allocations
    assert second.products == first.products
    assert 99.0 in {q.quantity for q in second.quants}  # stock is always read live


def test_an_uncached_snapshot_and_refresh_config_read_the_catalog_again() -> None:
    fake = FakeOdoo(demo_tables())
    source = StockSource(fake, bridge_config())
    source.snapshot([1], now=NOW, cached=True)
    fake.tables["marketplace.listing"][0]["buffer_qty"] = 7.0  # an edit the outbox announces

    assert source.snapshot([1], now=NOW, cached=True).listings[0].buffer_qty != 7.0  # cached
    assert source.snapshot([1], now=NOW).listings[0].buffer_qty == 7.0  # resync, explain: fresh
    source.refresh_config()  # what the engine does on a "manual" outbox event
    assert source.snapshot([1], now=NOW, cached=True).listings[0].buffer_qty == 7.0


def test_the_ttl_probe_forgets_the_catalog_when_a_row_is_edited_or_deleted() -> None:
    fake, clock = FakeOdoo(demo_tables()), Clock()
    source = StockSource(fake, bridge_config(), monotonic=clock)
    source.snapshot([1], now=NOW, cached=True)
    clock.now += 61
    source.snapshot([1], now=NOW, cached=True)  # the first probe only takes the stamps
    listings = fake.tables["marketplace.listing"]
    count = len(source.snapshot([1], now=NOW, cached=True).listings)

    gone = next(r for r in listings if r["product_id"] == 1)
    listings.remove(gone)  # deleted around the addon: no event, no write_date moves
    assert len(source.snapshot([1], now=NOW, cached=True).listings) == count  # within the TTL
    clock.now += 61
    assert len(source.snapshot([1], now=NOW, cached=True).listings) == count - 1


def test_an_edit_before_the_first_probe_is_caught_and_a_resync_freshens_the_cache() -> None:
    fake, clock = FakeOdoo(demo_tables()), Clock()
    source = StockSource(fake, bridge_config(), monotonic=clock)
    source.snapshot([1], now=NOW, cached=True)  # a live flush fills the cache
    row = next(r for r in fake.tables["marketplace.listing"] if r["product_id"] == 1)
    row["buffer_qty"] = 7.0  # edited around the addon, before any probe took a baseline
    row["write_date"] = "2099-01-01 00:00:00"
    clock.now += 61
    assert source.snapshot([1], now=NOW, cached=True).listings[0].buffer_qty == 7.0

    row["buffer_qty"] = 8.0  # no write_date move, no event: only a full read sees it
    assert source.snapshot([1], now=NOW).listings[0].buffer_qty == 8.0  # the safety-net resync
    assert source.snapshot([1], now=NOW, cached=True).listings[0].buffer_qty == 8.0


def test_start_needs_no_read_right_on_ir_model() -> None:
    # Real Odoo 18 refuses ir.model to the addon's bridge group; FakeOdoo does the same,
    # so starting proves the mode is found from fields_get alone.
    odoo = FakeOdoo(demo_tables())
    source = StockSource(odoo, bridge_config())
    assert source.mode == "addon"
    assert not any(model == "ir.model" for model, *_ in odoo.log)
    with pytest.raises(AccessError):
        odoo.call("ir.model", "search_read", [], ["model"])
