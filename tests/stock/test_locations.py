"""locations(C): child_of the warehouses' stock locations, minus exclusions, same company."""

from __future__ import annotations

from dataclasses import replace

from connector.stock.compute import contributing_locations, contributing_roots
from connector.stock.locations import (
    EXCLUDED,
    FOREIGN_COMPANY,
    INACTIVE,
    NOT_INTERNAL,
    NOT_UNDER_ROOT,
    UNKNOWN_LOCATION,
    LocationTree,
)
from connector.stock.model import Location
from tests.stock.shop import (
    BACK,
    BACKROOM,
    BIN_1,
    LOCATIONS,
    OC,
    OC_STOCK,
    OUTPUT,
    QUARANTINE,
    SHELF_A,
    SHELF_B,
    STOCK,
    WAREHOUSES,
    WH,
    WH2,
    WH2_STOCK,
    channel,
)

WH_ALL = {STOCK, SHELF_A, SHELF_B, BACKROOM}


def test_child_of_stock_locations_only_not_quarantine_or_output() -> None:
    got = contributing_locations(channel(1), LOCATIONS, WAREHOUSES)
    assert got == WH_ALL | {WH2_STOCK, BIN_1}
    assert QUARANTINE not in got and OUTPUT not in got  # under WH's view, not WH/Stock


def test_roots_are_the_lot_stock_ids() -> None:
    assert contributing_roots(channel(1), LOCATIONS, WAREHOUSES) == {STOCK, WH2_STOCK}
    overlap = channel(2, warehouse_ids=(WH, BACK, WH2))
    assert contributing_roots(overlap, LOCATIONS, WAREHOUSES) == {STOCK, BACKROOM, WH2_STOCK}


def test_overlapping_warehouses_give_the_same_set() -> None:
    # BACK's stock location is WH/Stock/Backroom, a child of WH/Stock: reached twice.
    overlap = channel(2, warehouse_ids=(WH, BACK, WH2))
    assert contributing_locations(overlap, LOCATIONS, WAREHOUSES) == WH_ALL | {WH2_STOCK, BIN_1}
    only_back = channel(3, warehouse_ids=(BACK,))
    assert contributing_locations(only_back, LOCATIONS, WAREHOUSES) == {BACKROOM}


def test_excluded_location_and_its_children_never_count_even_via_another_root() -> None:
    bol = channel(1, excluded_location_ids=(SHELF_B,))
    assert contributing_locations(bol, LOCATIONS, WAREHOUSES) == {
        STOCK, SHELF_A, BACKROOM, WH2_STOCK, BIN_1,
    }  # fmt: skip
    # Excluding WH/Stock removes its whole subtree, including BACK's root under it.
    no_wh = channel(2, warehouse_ids=(WH, BACK, WH2), excluded_location_ids=(STOCK,))
    scope = LocationTree(LOCATIONS).scope(no_wh, WAREHOUSES)
    assert scope.counted == {WH2_STOCK, BIN_1}
    assert {scope.reason(i) for i in WH_ALL} == {EXCLUDED}


def test_foreign_company_locations_never_count() -> None:
    greedy = channel(1, warehouse_ids=(WH, OC))
    scope = LocationTree(LOCATIONS).scope(greedy, WAREHOUSES)
    assert OC_STOCK not in scope.counted
    assert scope.reason(OC_STOCK) == FOREIGN_COMPANY
    # A channel without a company takes any company's locations.
    anyone = channel(2, warehouse_ids=(OC,), company_id=None)
    assert contributing_locations(anyone, LOCATIONS, WAREHOUSES) == {OC_STOCK}


def test_not_internal_and_inactive_locations_do_not_count_but_their_children_may() -> None:
    locs = dict(LOCATIONS)
    locs[50] = Location(50, "WH/Stock/Racks", STOCK, "view", 1)
    locs[51] = Location(51, "WH/Stock/Racks/R1", 50, "internal", 1)
    locs[52] = Location(52, "WH/Stock/Transit", STOCK, "transit", 1)
    locs[53] = Location(53, "WH/Stock/Old shelf", STOCK, "internal", 1, active=False)
    scope = LocationTree(locs).scope(channel(1), WAREHOUSES)
    assert 51 in scope.counted  # child_of reaches through a view location
    assert scope.reason(50) == NOT_INTERNAL
    assert scope.reason(52) == NOT_INTERNAL
    assert scope.reason(53) == INACTIVE
    assert scope.reason(QUARANTINE) == NOT_UNDER_ROOT
    assert scope.reason(999) == UNKNOWN_LOCATION


def test_missing_warehouse_and_parent_cycle_are_harmless() -> None:
    locs = dict(LOCATIONS)
    # A (corrupt) cycle: Shelf A's child points back at WH/Stock.
    locs[60] = Location(60, "loop", SHELF_A, "internal", 1)
    locs[STOCK] = replace(locs[STOCK], parent_id=60)
    got = contributing_locations(channel(1, warehouse_ids=(WH, 77)), locs, WAREHOUSES)
    assert got == WH_ALL | {60}
    assert contributing_locations(channel(2, warehouse_ids=(77,)), locs, WAREHOUSES) == set()


def test_shared_location_without_company_counts() -> None:
    locs = dict(LOCATIONS)
    locs[70] = Location(70, "WH/Stock/Shared", STOCK, "internal", None)
    assert 70 in contributing_locations(channel(1), locs, WAREHOUSES)


def test_warehouse_roots_of_wh2_only() -> None:
    assert contributing_locations(channel(1, warehouse_ids=(WH2,)), LOCATIONS, WAREHOUSES) == {
        WH2_STOCK, BIN_1,
    }  # fmt: skip
