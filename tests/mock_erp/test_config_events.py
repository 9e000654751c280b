"""Configuration changes write "manual" outbox events, as the addon does (issue: config events).

Allocations (create/write/unlink and their start/end passing), listing and channel
publishing fields: each call writes one event per affected product, in the call's own
transaction, and wakes the bridge after commit; the bridge's sync status writes never do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase

ADMIN = 2
Woken = list[list[dict[str, Any]]]


def x(db: MockDatabase, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    return db.execute(ADMIN, model, method, list(args), kwargs)


def product(db: MockDatabase, code: str) -> int:
    [rid] = x(db, "product.product", "search", [("default_code", "=", code)])
    return int(rid)


def channel(db: MockDatabase, code: str) -> int:
    [rid] = x(db, "marketplace.channel", "search", [("code", "=", code)])
    return int(rid)


def last_event(db: MockDatabase) -> int:
    found = x(db, "marketplace.stock.event", "search", [], limit=1, order="id desc")
    return int(found[0]) if found else 0


def events_after(db: MockDatabase, mark: int) -> list[tuple[int, str]]:
    rows = x(db, "marketplace.stock.event", "search_read", [("id", ">", mark)], fields=["product_id", "reason"])
    return [(r["product_id"][0], r["reason"]) for r in rows]


def manual_after(db: MockDatabase, mark: int) -> set[int]:
    found = events_after(db, mark)
    assert all(reason == "manual" for _, reason in found), found
    assert len(found) == len(set(found)), f"one event per product and reason: {found}"
    return {pid for pid, _ in found}


def listing_of(db: MockDatabase, channel_code: str, channel_sku: str) -> int:
    [rid] = x(db, "marketplace.listing", "search",
              [("channel_id", "=", channel(db, channel_code)), ("channel_sku", "=", channel_sku)])
    return int(rid)


def odoo_dt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def db() -> MockDatabase:
    return MockDatabase()


@pytest.fixture
def woken(db: MockDatabase) -> Woken:
    calls: Woken = []
    db.store.on_events = calls.append
    return calls


def test_demo_database_starts_without_manual_events(db: MockDatabase) -> None:
    assert all(reason != "manual" for _, reason in events_after(db, 0))


def test_allocation_create_write_unlink(db: MockDatabase, woken: Woken) -> None:
    bottle, mug = product(db, "BOTTLE-STEEL-750"), product(db, "MUG-CER-350")
    mark = last_event(db)
    aid = x(db, "marketplace.allocation", "create", {"channel_id": channel(db, "shopee_sg"), "product_id": bottle,
                                                     "mode": "reservation", "quantity": 20})
    assert manual_after(db, mark) == {bottle}
    assert [[e["product_id"] for e in call] for call in woken] == [[bottle]]
    assert woken[0][0]["reason"] == "manual"

    mark = last_event(db)
    x(db, "marketplace.allocation", "write", [aid], {"quantity": 5})
    assert manual_after(db, mark) == {bottle}

    mark = last_event(db)
    x(db, "marketplace.allocation", "write", [aid], {"product_id": mug})  # the bottle gets its units back
    assert manual_after(db, mark) == {bottle, mug}

    mark = last_event(db)
    x(db, "marketplace.allocation", "unlink", [aid])
    assert manual_after(db, mark) == {mug}
    assert len(woken) == 4


def test_failed_call_leaves_no_event_and_no_wakeup(db: MockDatabase, woken: Woken) -> None:
    mark = last_event(db)
    with pytest.raises(Exception, match="mandatory|required"):
        x(db, "marketplace.allocation", "create", [
            {"channel_id": channel(db, "shopee_sg"), "product_id": product(db, "MUG-CER-350"), "quantity": 1},
            {"channel_id": False, "product_id": product(db, "BOTTLE-STEEL-750"), "quantity": 1},
        ])
    assert events_after(db, mark) == []
    assert woken == []


@pytest.mark.parametrize("vals", [
    {"buffer_override": True, "buffer_qty": 3}, {"max_qty": 4}, {"pack_size": 2}, {"active": False},
    {"channel_sku": "MUG-NEW"},
])
def test_listing_publishing_fields(db: MockDatabase, woken: Woken, vals: dict[str, Any]) -> None:
    lid = listing_of(db, "amazon_de", "MUG-CER-350")
    mark = last_event(db)
    x(db, "marketplace.listing", "write", [lid], vals)
    assert manual_after(db, mark) == {product(db, "MUG-CER-350")}
    assert len(woken) == 1


def test_listing_sync_status_writes_are_silent(db: MockDatabase, woken: Woken) -> None:
    lid = listing_of(db, "amazon_de", "MUG-CER-350")
    mark = last_event(db)
    x(db, "marketplace.listing", "write", [lid], {"sync_state": "synced", "last_pushed_qty": 7,
                                                  "last_sync_at": "2025-06-01 12:00:00", "last_error": False})
    assert events_after(db, mark) == []
    assert woken == []


def test_listing_sync_status_reports_in_one_call_are_silent(db: MockDatabase, woken: Woken) -> None:
    first, second = listing_of(db, "amazon_de", "MUG-CER-350"), listing_of(db, "woo_shop", "MUG-CER-350")
    mark = last_event(db)
    written = x(db, "marketplace.listing", "report_sync_status", [
        {"id": first, "sync_state": "synced", "last_pushed_qty": 7},
        {"id": second, "sync_state": "error", "last_error": "unknown SKU"},
        {"id": 999999, "sync_state": "synced"}])  # a deleted listing is skipped
    assert sorted(written) == sorted([first, second])
    rows = x(db, "marketplace.listing", "read", [first, second], ["sync_state", "last_pushed_qty", "last_error"])
    assert [(r["sync_state"], r["last_pushed_qty"], r["last_error"]) for r in rows] == [
        ("synced", 7, False), ("error", 0, "unknown SKU")]
    assert events_after(db, mark) == []
    assert woken == []
    with pytest.raises(Exception, match="Only sync status fields"):
        x(db, "marketplace.listing", "report_sync_status", [{"id": first, "channel_sku": "X"}])


def test_listing_create_and_product_change(db: MockDatabase) -> None:
    lamp, mug = product(db, "LAMP-DESK-01"), product(db, "MUG-CER-350")
    mark = last_event(db)
    lid = x(db, "marketplace.listing", "create", {"channel_id": channel(db, "woo_shop"), "product_id": lamp,
                                                  "channel_sku": "LAMP-WOO"})
    assert manual_after(db, mark) == {lamp}
    mark = last_event(db)
    x(db, "marketplace.listing", "write", [lid], {"product_id": mug})
    assert manual_after(db, mark) == {lamp, mug}


def _active_listed(db: MockDatabase, code: str) -> set[int]:
    rows = x(db, "marketplace.listing", "search_read", [("channel_id", "=", channel(db, code))],
             fields=["product_id"])
    return {r["product_id"][0] for r in rows}


@pytest.mark.parametrize("vals", [
    {"buffer_qty": 5}, {"max_qty": 3}, {"zero_stock_action": "deactivate"}, {"active": False},
    {"warehouse_ids": [(6, 0, [1])]}, {"excluded_location_ids": [(6, 0, [])]},
])
def test_channel_publishing_fields_cover_its_listed_products(db: MockDatabase, woken: Woken,
                                                             vals: dict[str, Any]) -> None:
    expected = _active_listed(db, "shopify_eu")
    assert len(expected) > 3
    mark = last_event(db)
    x(db, "marketplace.channel", "write", [channel(db, "shopify_eu")], vals)
    assert manual_after(db, mark) == expected
    assert len(woken) == 1, "one wake-up per call"


def test_channel_products_include_allocations_not_archived_listings(db: MockDatabase) -> None:
    cid = channel(db, "bol_nl")
    listed = _active_listed(db, "bol_nl")
    first = x(db, "marketplace.listing", "search_read", [("channel_id", "=", cid)], fields=["product_id"],
              order="id asc", limit=1)[0]
    x(db, "marketplace.listing", "write", [first["id"]], {"active": False})
    archived_product = first["product_id"][0]
    unlisted = min(set(x(db, "product.product", "search", [])) - listed)
    x(db, "marketplace.allocation", "create", {"channel_id": cid, "product_id": unlisted, "quantity": 1})
    mark = last_event(db)
    x(db, "marketplace.channel", "write", [cid], {"buffer_qty": 0})
    # (a product of bol's with a second, active listing would stay: the demo has none)
    assert manual_after(db, mark) == (listed - {archived_product}) | {unlisted}


def test_channel_other_fields_are_silent(db: MockDatabase, woken: Woken) -> None:
    mark = last_event(db)
    x(db, "marketplace.channel", "write", [channel(db, "shopify_eu")], {"name": "Shopify (renamed)"})
    assert events_after(db, mark) == []
    assert woken == []


def test_channel_unlink(db: MockDatabase) -> None:
    expected = _active_listed(db, "woo_shop")
    mark = last_event(db)
    x(db, "marketplace.channel", "unlink", [channel(db, "woo_shop")])
    assert manual_after(db, mark) == expected


# -- time edges: allocations starting or ending without a write ------------------------------


@pytest.fixture
def clock(db: MockDatabase) -> Callable[[timedelta], None]:
    """Move the mock's "now" forward by a timedelta from the real time at fixture setup."""
    start = datetime.now(UTC)
    db.clock = lambda: start

    def move(delta: timedelta) -> None:
        moment = start + delta
        db.clock = lambda: moment

    return move


def test_allocation_start_and_end_emit_on_the_next_call(db: MockDatabase, woken: Woken,
                                                        clock: Callable[[timedelta], None]) -> None:
    bottle, mug = product(db, "BOTTLE-STEEL-750"), product(db, "MUG-CER-350")
    now = db.clock()
    x(db, "marketplace.allocation", "create", [
        {"channel_id": channel(db, "shopee_sg"), "product_id": bottle, "quantity": 5,
         "date_start": odoo_dt(now + timedelta(minutes=10))},
        {"channel_id": channel(db, "bol_nl"), "product_id": mug, "quantity": 5,
         "date_start": odoo_dt(now - timedelta(days=1)), "date_end": odoo_dt(now + timedelta(minutes=30))},
    ])
    mark, woken[:] = last_event(db), []

    clock(timedelta(minutes=5))
    assert manual_after(db, mark) == set(), "nothing crossed yet"
    clock(timedelta(minutes=10))  # the flash sale starts exactly now: start is inclusive
    assert manual_after(db, mark) == {bottle}
    assert [e["product_id"] for e in woken[0]] == [bottle]
    mark = last_event(db)
    clock(timedelta(minutes=20))
    assert manual_after(db, mark) == set(), "an edge is reported once"
    clock(timedelta(hours=2))  # the mug's reservation ended in between
    assert manual_after(db, mark) == {mug}


def test_edge_events_survive_a_failing_call(db: MockDatabase, clock: Callable[[timedelta], None]) -> None:
    bottle = product(db, "BOTTLE-STEEL-750")
    x(db, "marketplace.allocation", "create", {"channel_id": channel(db, "shopee_sg"), "product_id": bottle,
                                               "quantity": 5, "date_end": odoo_dt(db.clock() + timedelta(minutes=1))})
    mark = last_event(db)
    clock(timedelta(minutes=2))
    with pytest.raises(ValueError):
        x(db, "marketplace.allocation", "write", [1], {"no_such_field": 1})
    assert manual_after(db, mark) == {bottle}


def test_edges_checked_at_most_once_per_second(db: MockDatabase, clock: Callable[[timedelta], None]) -> None:
    clock(timedelta(seconds=1))
    assert db.check_allocation_edges() == []
    before = db.edges_checked_at
    assert db.check_allocation_edges() == [] and db.edges_checked_at == before
