"""One example per rule of DESIGN.md's formula, with numbers checked by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connector.stock.compute import compute_listings
from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    PeakPeriod,
    PushAction,
    StockSnapshot,
    ZeroStockAction,
)
from connector.stock.result import ListingResult
from tests.stock.shop import (
    BACK,
    BACKROOM,
    BIN_1,
    CUSTOMERS,
    NOW,
    OC,
    OC_STOCK,
    OUTPUT,
    OWN_PARTNER,
    QUARANTINE,
    SHELF_A,
    SHELF_B,
    STOCK,
    WH,
    WH2,
    WH2_STOCK,
    channel,
    listing,
    quant,
    snapshot,
)

ALLOC, RESERV = AllocationMode.ALLOCATION, AllocationMode.RESERVATION


def by_listing(snap: StockSnapshot, **kw: object) -> dict[int, ListingResult]:
    return {r.listing_id: r for r in compute_listings(snap, NOW, **kw)}  # type: ignore[arg-type]


def one(snap: StockSnapshot, **kw: object) -> ListingResult:
    (result,) = compute_listings(snap, NOW, **kw)  # type: ignore[arg-type]
    return result


# locations(C) and free(P, C) ------------------------------------------------------------


def test_free_is_quantity_minus_reserved_across_lots_and_packages() -> None:
    snap = snapshot(
        [channel(1)],
        [listing(1, 1)],
        [
            quant(SHELF_A, 10, 2, lot_id=1),
            quant(SHELF_A, 5, 0, lot_id=2, package_id=9),
            quant(BIN_1, 7, 7),
        ],
    )
    r = one(snap)
    assert r.explanation.free == 13  # (10-2) + (5-0) + (7-7)
    assert r.quantity == 13


def test_quarantine_output_customer_and_foreign_quants_do_not_count() -> None:
    snap = snapshot(
        [channel(1, warehouse_ids=(WH, WH2, OC))],
        [listing(1, 1)],
        [
            quant(STOCK, 4),
            quant(QUARANTINE, 100),  # internal, but under WH's view, not WH/Stock
            quant(OUTPUT, 50),
            quant(CUSTOMERS, -30),  # customer locations go negative: never counted
            quant(OC_STOCK, 70),  # Other Co's stock, even with its warehouse configured
        ],
    )
    r = one(snap)
    assert r.quantity == 4
    reasons = {line.location: line.reason for line in r.explanation.quants}
    assert reasons == {
        "WH/Stock": None,
        "WH/Quarantine": "not under a root",
        "WH/Output": "not under a root",
        "Partners/Customers": "not under a root",
        "OC/Stock": "foreign company",
    }


def test_overlapping_warehouses_count_backroom_once() -> None:
    # kaufland_de: WH + BACK + WH2, BACK's stock location is WH/Stock/Backroom.
    snap = snapshot(
        [channel(1, "kaufland_de", warehouse_ids=(WH, BACK, WH2))],
        [listing(1, 1)],
        [quant(BACKROOM, 10), quant(WH2_STOCK, 6)],
    )
    assert one(snap).quantity == 16  # not 26


def test_excluded_shelf_does_not_count_for_that_channel_only() -> None:
    snap = snapshot(
        [channel(1, "bol_nl", excluded_location_ids=(SHELF_B,)), channel(2, "shopify_eu")],
        [listing(1, 1), listing(2, 2)],
        [quant(SHELF_A, 12), quant(SHELF_B, 5), quant(WH2_STOCK, 6)],
    )
    got = by_listing(snap)
    assert got[1].quantity == 18  # 12 + 6
    assert got[2].quantity == 23  # 12 + 5 + 6
    assert ("WH/Stock/Shelf B", "excluded") in {
        (name, why) for _, name, why in got[1].explanation.locations_not_counted
    }


def test_consigned_quants_with_a_foreign_owner_do_not_count() -> None:
    snap = snapshot(
        [channel(1)],
        [listing(1, 1)],
        [
            quant(SHELF_A, 10),
            quant(SHELF_A, 8, owner_id=555),
            quant(BIN_1, 3, owner_id=OWN_PARTNER),
        ],
    )
    r = one(snap)
    assert r.quantity == 13
    skipped = [line for line in r.explanation.quants if not line.counted]
    assert len(skipped) == 1 and skipped[0].reason == "consigned (owner #555)"


# held(P, ¬C) and pool(P, C) ---------------------------------------------------------------


def flash_sale_shop(*allocations: Allocation) -> StockSnapshot:
    """Bottle: 40 in WH/Stock + 15 in WH2/Stock = 55 free. amazon(1) buffer 2, bol(2)
    buffer 1, shopify(3) no buffer, zalando(4) no buffer."""
    return snapshot(
        [
            channel(1, "amazon_de", buffer=BufferPolicy(fixed=2)),
            channel(2, "bol_nl", buffer=BufferPolicy(fixed=1)),
            channel(3, "shopify_eu"),
            channel(4, "zalando_de"),
        ],
        [listing(1, 1), listing(2, 2), listing(3, 3), listing(4, 4)],
        [quant(STOCK, 40), quant(WH2_STOCK, 15)],
        allocations,
    )


def test_allocated_channel_sees_only_its_remainder_others_free_minus_allocation() -> None:
    got = by_listing(flash_sale_shop(Allocation(1, 1, 1, ALLOC, 10)))
    assert got[1].explanation.pool == 10  # min(10, 55 - 0)
    assert got[1].quantity == 8  # 10 - buffer 2
    assert got[2].quantity == 44  # 55 - 10 - buffer 1
    assert got[3].quantity == 45  # 55 - 10
    assert got[3].explanation.held == 10


def test_reservation_hides_units_from_others_but_not_from_its_own_channel() -> None:
    got = by_listing(flash_sale_shop(Allocation(1, 2, 1, RESERV, 5)))
    assert got[2].explanation.pool == 55  # bol sees the whole pool
    assert got[2].quantity == 54  # 55 - buffer 1
    assert got[3].quantity == 50  # 55 - 5
    assert got[1].quantity == 48  # 55 - 5 - buffer 2


def test_allocation_larger_than_free_is_capped_by_free() -> None:
    snap = snapshot(
        [channel(1)], [listing(1, 1)], [quant(STOCK, 6)], [Allocation(1, 1, 1, ALLOC, 10)]
    )
    assert one(snap).quantity == 6  # min(10, 6)


def test_two_allocations_never_promise_the_same_unit_twice() -> None:
    got = by_listing(
        flash_sale_shop(Allocation(1, 3, 1, ALLOC, 40), Allocation(2, 4, 1, ALLOC, 30))
    )
    shopify, zalando = got[3].quantity, got[4].quantity
    assert shopify == 25  # min(40, 55 - 30)
    assert zalando == 15  # min(30, 55 - 40)
    assert shopify + zalando <= 55
    assert got[1].quantity == 0  # 55 - 70 < 0
    assert got[1].oversold is False  # free stock is positive: nothing was oversold


def test_allocation_and_reservation_together() -> None:
    got = by_listing(
        flash_sale_shop(Allocation(1, 3, 1, ALLOC, 10), Allocation(2, 2, 1, RESERV, 5))
    )
    assert got[3].quantity == 10  # min(10, 55 - 5)
    assert got[2].quantity == 44  # 55 - 10 - buffer 1 (its own reservation not subtracted)
    assert got[4].quantity == 40  # 55 - 10 - 5


def test_own_allocations_add_up_and_multiple_holds_of_others_add_up() -> None:
    got = by_listing(
        flash_sale_shop(
            Allocation(1, 3, 1, ALLOC, 4),
            Allocation(2, 3, 1, ALLOC, 6),
            Allocation(3, 2, 1, RESERV, 5),
            Allocation(4, 1, 1, RESERV, 2),
        )
    )
    assert got[3].explanation.own_allocation == 10
    assert got[3].quantity == 10  # min(4 + 6, 55 - 7)
    assert got[4].quantity == 38  # 55 - 10 - 5 - 2


@pytest.mark.parametrize(
    ("start", "end", "active"),
    [
        (None, None, True),
        (NOW, None, True),  # date_start <= now
        (None, NOW, False),  # now < date_end
        (NOW + timedelta(seconds=1), None, False),
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
        # Odoo's naive UTC datetimes compare with the bridge's aware clock.
        (datetime(2025, 6, 1, 11, 59), datetime(2025, 6, 1, 12, 1), True),
        (datetime(2025, 6, 1, 12, 0), datetime(2025, 6, 1, 12, 1), True),
        (datetime(2025, 1, 1), datetime(2025, 6, 1, 12, 0), False),
    ],
)
def test_only_active_allocations_hold_units(
    start: datetime | None, end: datetime | None, active: bool
) -> None:
    got = by_listing(flash_sale_shop(Allocation(1, 1, 1, ALLOC, 10, start, end)))
    assert got[3].quantity == (45 if active else 55)


# buffer(L) -----------------------------------------------------------------------------------


def test_listing_buffer_overrides_the_channel_rule_even_at_zero() -> None:
    snap = snapshot(
        [channel(1, buffer=BufferPolicy(fixed=2))],
        [listing(1, 1, buffer_qty=0), listing(2, 1, buffer_qty=5), listing(3, 1)],
        [quant(STOCK, 120)],
    )
    got = by_listing(snap)
    assert [got[i].quantity for i in (1, 2, 3)] == [120, 115, 118]
    assert got[1].explanation.buffer_source == "listing"
    assert got[3].explanation.buffer_source == "channel fixed 2"


def test_channel_rule_adds_fixed_velocity_peak_and_marketplace_extra() -> None:
    policy = BufferPolicy(
        fixed=1,
        by_velocity={"A": 2, "C": 0},
        peak_periods=(
            PeakPeriod(NOW - timedelta(hours=1), NOW + timedelta(hours=1), 3),
            PeakPeriod(NOW + timedelta(days=1), NOW + timedelta(days=2), 50),  # not yet
        ),
        marketplace_extra=1,
    )
    snap = snapshot(
        [channel(1, "etsy_shop", buffer=policy)],
        [listing(1, 1, velocity_class="A"), listing(2, 1, velocity_class="C"), listing(3, 1)],
        [quant(STOCK, 20)],
    )
    got = by_listing(snap)
    assert got[1].explanation.buffer == 7  # 1 + 2 + 3 + 1
    assert got[1].quantity == 13
    assert got[1].explanation.buffer_source == (
        "channel fixed 1 + velocity A 2 + peak period 3 + marketplace extra 1"
    )
    assert got[2].quantity == 15  # velocity C adds 0
    assert got[3].quantity == 15


def test_buffer_is_never_negative() -> None:
    snap = snapshot(
        [channel(1, buffer=BufferPolicy(fixed=-5))],
        [listing(1, 1), listing(2, 1, buffer_qty=-3)],
        [quant(STOCK, 10)],
    )
    got = by_listing(snap)
    assert got[1].quantity == 10 and got[1].explanation.buffer == 0
    assert got[2].quantity == 10 and got[2].explanation.buffer == 0


# pack size, cap, clamp ------------------------------------------------------------------------


def test_pack_size_floors_after_the_buffer() -> None:
    # MUG: 60 + 24 = 84 units, buffer 2, packs of 6: floor(82 / 6) = 13.
    snap = snapshot(
        [channel(1, buffer=BufferPolicy(fixed=2))],
        [listing(1, 1, pack_size=6), listing(2, 1)],
        [quant(STOCK, 60), quant(BIN_1, 24)],
    )
    got = by_listing(snap)
    assert got[1].quantity == 13
    assert got[2].quantity == 82


def test_float_noise_does_not_lose_a_pack() -> None:
    # 0.1 * 3 in float is 0.30000000000000004; 3 quants of 0.1 + 5.7 are 6.0 units.
    snap = snapshot(
        [channel(1)],
        [listing(1, 1, pack_size=6)],
        [quant(SHELF_A, 0.1), quant(SHELF_B, 0.1), quant(BACKROOM, 0.1), quant(STOCK, 5.7)],
    )
    assert one(snap).quantity == 1


def test_cap_is_the_smaller_non_zero_max_qty() -> None:
    snap = snapshot(
        [channel(1, max_qty=100), channel(2)],
        [
            listing(1, 1, max_qty=5),
            listing(2, 1),
            listing(3, 1, max_qty=150),
            listing(4, 2),
            listing(5, 2, max_qty=7.9),
        ],
        [quant(STOCK, 250)],
    )
    got = by_listing(snap)
    assert [got[i].quantity for i in range(1, 6)] == [5, 100, 100, 250, 7]
    assert (got[1].explanation.cap, got[1].explanation.cap_source) == (5, "listing")
    assert (got[3].explanation.cap, got[3].explanation.cap_source) == (100, "channel")
    assert got[4].explanation.cap is None


def test_negative_pool_clamps_to_zero_without_oversold() -> None:
    snap = snapshot(
        [channel(1, buffer=BufferPolicy(fixed=5))], [listing(1, 1)], [quant(STOCK, 3)]
    )
    r = one(snap)
    assert (r.quantity, r.oversold, r.action) == (0, False, PushAction.SET)


# oversold ----------------------------------------------------------------------------------------


def test_negative_free_stock_publishes_zero_everywhere_and_flags_oversold() -> None:
    # WH/Stock went to -3 after an oversell; the WH2-only channel has 9 of its own, but
    # the product is oversold: every listing of it shows 0 until someone looks.
    snap = snapshot(
        [channel(1, "amazon_de"), channel(2, "bol_nl", warehouse_ids=(WH2,))],
        [listing(1, 1, pid=1), listing(2, 2, pid=1), listing(3, 2, pid=2)],
        [quant(STOCK, -3, pid=1), quant(WH2_STOCK, 1, pid=1), quant(WH2_STOCK, 4, pid=2)],
    )
    got = by_listing(snap)
    assert (got[1].quantity, got[1].oversold) == (0, True)
    assert (got[2].quantity, got[2].oversold) == (0, True)
    assert got[2].explanation.oversold_on == ("amazon_de",)
    assert got[2].explanation.free == 1  # its own free stock stays visible
    assert (got[3].quantity, got[3].oversold) == (4, False)


def test_oversold_is_found_even_when_only_another_listing_is_asked_for() -> None:
    snap = snapshot(
        [channel(1, warehouse_ids=(WH,)), channel(2, warehouse_ids=(WH2,))],
        [listing(1, 1), listing(2, 2)],
        [quant(STOCK, -1), quant(WH2_STOCK, 5)],
    )
    (r,) = compute_listings(snap, NOW, listing_ids=[2])
    assert (r.listing_id, r.quantity, r.oversold) == (2, 0, True)


# action(L) -----------------------------------------------------------------------------------


def test_zero_stock_action_per_channel_and_marketplace_default() -> None:
    snap = snapshot(
        [
            channel(1, "etsy_shop", zero_stock_action=ZeroStockAction.DEACTIVATE),
            channel(2, "ebay_de", zero_stock_action=ZeroStockAction.END_LISTING),
            channel(3, "amazon_de", zero_stock_action=ZeroStockAction.PUSH_ZERO),
            channel(4, "kaufland_de"),  # defers to the marketplace default
            channel(5, "shopify_eu"),  # no default given: push 0
        ],
        [listing(i, i) for i in range(1, 6)],
        [quant(STOCK, 0)],
    )
    defaults = {"kaufland": ZeroStockAction.DEACTIVATE}
    got = by_listing(snap, zero_stock_defaults=defaults)
    assert [got[i].action for i in range(1, 6)] == [
        PushAction.DEACTIVATE,
        PushAction.END,
        PushAction.SET,
        PushAction.DEACTIVATE,
        PushAction.SET,
    ]
    assert all(got[i].quantity == 0 for i in range(1, 6))
    assert by_listing(snap)[4].action is PushAction.SET  # no defaults at all


def test_back_in_stock_reactivates_or_relists() -> None:
    snap = snapshot(
        [channel(1, zero_stock_action=ZeroStockAction.DEACTIVATE)],
        [listing(i, 1) for i in range(1, 6)],
        [quant(STOCK, 2)],
    )
    previous = {
        1: PushAction.DEACTIVATE,
        2: PushAction.END,
        3: PushAction.SET,
        4: PushAction.REACTIVATE,
    }
    got = by_listing(snap, previous_actions=previous)
    assert [got[i].action for i in range(1, 6)] == [
        PushAction.REACTIVATE,
        PushAction.RELIST,
        PushAction.SET,
        PushAction.SET,
        PushAction.SET,
    ]


def test_last_unit_sells_through_buffers() -> None:
    # LAMP-DESK-01: exactly 1 unit. No buffer: 1; buffer 2: 0; after the sale: 0 everywhere.
    chans = [channel(1, "shopify_eu"), channel(2, "amazon_de", buffer=BufferPolicy(fixed=2))]
    got = by_listing(snapshot(chans, [listing(1, 1), listing(2, 2)], [quant(SHELF_A, 1)]))
    assert (got[1].quantity, got[2].quantity) == (1, 0)
    got = by_listing(snapshot(chans, [listing(1, 1), listing(2, 2)], [quant(SHELF_A, 1, 1)]))
    assert (got[1].quantity, got[2].quantity) == (0, 0)


# which listings ------------------------------------------------------------------------------


def test_only_active_listings_of_active_channels_of_snapshot_products() -> None:
    snap = snapshot(
        [channel(1), channel(2, active=False)],
        [
            listing(1, 1, pid=1),
            listing(2, 1, pid=1, active=False),
            listing(3, 2, pid=1),  # inactive channel
            listing(4, 1, pid=2),  # product not in the snapshot
            listing(5, 99, pid=1),  # unknown channel
            listing(6, 1, pid=1, channel_sku="OTHER", external_id="x/1"),
        ],
        [quant(STOCK, 3)],
        product_ids={1},
    )
    got = compute_listings(snap, NOW)
    assert [r.listing_id for r in got] == [1, 6]
    assert (got[1].sku, got[1].external_id, got[1].product_id) == ("OTHER", "x/1", 1)
    assert [r.listing_id for r in compute_listings(snap, NOW, listing_ids={6, 2, 42})] == [6]
    assert compute_listings(snap, NOW, listing_ids=[]) == []


def test_plain_strings_from_the_erp_work_like_the_enums() -> None:
    snap = snapshot(
        [channel(1, zero_stock_action="deactivate"), channel(2)],
        [listing(1, 1, pid=1), listing(2, 2, pid=1), listing(3, 1, pid=2)],
        [quant(STOCK, 10, pid=1)],
        [Allocation(1, 1, 1, "allocation", 4)],  # type: ignore[arg-type]
        product_ids={1, 2},
    )
    got = by_listing(snap, previous_actions={1: "deactivate"})
    assert (got[1].quantity, got[1].action) == (4, PushAction.REACTIVATE)
    assert got[2].quantity == 6
    assert (got[3].quantity, got[3].action) == (0, PushAction.DEACTIVATE)
    assert "allocation #1" in got[2].explanation.render()
