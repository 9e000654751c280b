"""Properties of the computation over random location trees, warehouses and stock.

The location oracle here walks *up* the parent links (ancestor-or-self is a root, none is
excluded), while the code walks *down* from the roots: two different ways to the same set.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from connector.stock.compute import contributing_locations
from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    Channel,
    Listing,
    Location,
    Product,
    Quant,
    StockSnapshot,
    Warehouse,
    ZeroStockAction,
)
from tests.stock.impls import IMPLS
from tests.stock.shop import NOW, OWN_PARTNER

ALLOC, RESERV = AllocationMode.ALLOCATION, AllocationMode.RESERVATION
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Every property holds for both implementations: the per-listing reference and the fast path.
EACH = pytest.mark.parametrize("compute", list(IMPLS.values()), ids=list(IMPLS))
Compute = Callable[..., Sequence[Any]]


@st.composite
def worlds(draw: st.DrawFn, *, allocations: bool = True) -> StockSnapshot:
    n = draw(st.integers(1, 10))
    # Location 1 is a plain WH/Stock that most channels use, so that most examples have
    # stock to publish; the rest of the tree is random.
    locations = {1: Location(1, "L1", None, "internal", 1)}
    for i in range(2, n + 1):
        parent = draw(st.none() | st.integers(1, i - 1))
        locations[i] = Location(
            i,
            f"L{i}",
            parent,
            draw(st.sampled_from(["internal"] * 4 + ["view", "transit"])),
            draw(st.sampled_from([1, 1, 1, 2, None])),
            active=draw(st.sampled_from([True] * 5 + [False])),
        )
    n_wh = draw(st.integers(1, 4))
    warehouses = {
        w: Warehouse(w, f"W{w}", draw(st.integers(1, n)), draw(st.sampled_from([1, 2])))
        for w in range(2, n_wh + 1)
    }
    warehouses[1] = Warehouse(1, "W1", 1, 1)
    wh_lists = st.lists(st.integers(1, n_wh + 1), max_size=3)
    channels = {}
    for c in range(1, draw(st.integers(1, 3)) + 1):
        channels[c] = Channel(
            c,
            f"ch{c}",
            "m",
            draw(st.sampled_from([1, 1, None])),
            # Repeats and an unknown warehouse (n_wh + 1) on purpose.
            tuple(draw(st.sampled_from([[1], [1], []])) + draw(wh_lists)),
            excluded_location_ids=tuple(draw(st.lists(st.integers(1, n + 1), max_size=2))),
            buffer=BufferPolicy(fixed=draw(st.integers(-2, 3))),
            max_qty=draw(st.sampled_from([0, 0, 5, 40])),
            zero_stock_action=draw(st.sampled_from(list(ZeroStockAction))),
        )
    products = (1, 2)
    quants = [
        Quant(
            draw(st.sampled_from(products)),
            # n + 1: a location the snapshot does not know.
            draw(st.sampled_from([1, 1, 1, *range(1, n + 2)])),
            float(draw(st.sampled_from([*range(0, 31, 3), -1, -5]))),
            float(draw(st.integers(0, 5))),
            owner_id=draw(st.sampled_from([None, None, OWN_PARTNER, 555])),
        )
        for _ in range(draw(st.integers(0, 10)))
    ]
    listings = [
        Listing(
            len(channels) * 10 * p + c,
            c,
            p,
            f"S{p}",
            buffer_qty=draw(st.sampled_from([None, None, 0.0, 2.0])),
            max_qty=draw(st.sampled_from([0, 0, 3, 25])),
            pack_size=draw(st.sampled_from([1, 1, 2, 6])),
        )
        for c in channels
        for p in products
    ]
    holds = []
    if allocations:
        holds = [
            Allocation(
                i,
                draw(st.sampled_from(sorted(channels))),
                draw(st.sampled_from(products)),
                draw(st.sampled_from(list(AllocationMode))),
                float(draw(st.integers(0, 20))),
            )
            for i in range(draw(st.integers(0, 3)))
        ]
    return StockSnapshot(
        NOW,
        frozenset(products),
        {p: Product(p, f"S{p}") for p in products},
        locations,
        warehouses,
        channels,
        listings,
        quants,
        holds,
        frozenset({OWN_PARTNER}),
    )


def oracle_counts(snap: StockSnapshot, channel: Channel, location_id: int) -> bool:
    loc = snap.locations.get(location_id)
    if loc is None:
        return False
    roots = {snap.warehouses[w].lot_stock_id for w in channel.warehouse_ids if w in snap.warehouses}
    chain: list[int] = []
    cur: Location | None = loc
    while cur is not None:
        chain.append(cur.id)
        cur = snap.locations.get(cur.parent_id) if cur.parent_id is not None else None
    company_ok = (
        channel.company_id is None or loc.company_id is None or loc.company_id == channel.company_id
    )
    return (
        any(i in roots for i in chain)
        and not any(i in channel.excluded_location_ids for i in chain)
        and company_ok
        and loc.usage == "internal"
        and loc.active
    )


def oracle_free(snap: StockSnapshot, channel: Channel, pid: int) -> float:
    return sum(
        q.quantity - q.reserved_quantity
        for q in snap.quants
        if q.product_id == pid
        and oracle_counts(snap, channel, q.location_id)
        and q.owner_id in (None, OWN_PARTNER)
    )


def cap_of(snap: StockSnapshot, listing_id: int) -> float:
    lst = next(x for x in snap.listings if x.id == listing_id)
    caps = [m for m in (lst.max_qty, snap.channels[lst.channel_id].max_qty) if m > 0]
    return min(caps) if caps else math.inf


@EACH
@PROPS
@given(worlds())
def test_never_negative_never_above_cap(compute: Compute, snap: StockSnapshot) -> None:
    for r in compute(snap, NOW):
        assert 0 <= r.quantity <= cap_of(snap, r.listing_id)
        assert isinstance(r.quantity, int)


@EACH
@PROPS
@given(worlds())
def test_locations_and_free_match_an_independent_oracle(compute: Compute, snap: StockSnapshot) -> None:
    """Each location once, however the warehouses overlap or repeat; excluded (and their
    children), foreign-company, non-internal, inactive and unknown locations never count."""
    for channel in snap.channels.values():
        got = contributing_locations(channel, snap.locations, snap.warehouses)
        assert got == {i for i in snap.locations if oracle_counts(snap, channel, i)}
    for r in compute(snap, NOW):
        channel = snap.channels[r.channel_id]
        assert r.explanation.free == oracle_free(snap, channel, r.product_id)


@EACH
@PROPS
@given(worlds(), st.data())
def test_repeating_or_nesting_warehouses_changes_nothing(
    compute: Compute, snap: StockSnapshot, data: st.DataObject
) -> None:
    before = {r.listing_id: r.quantity for r in compute(snap, NOW)}
    # Add, to every channel, a warehouse whose stock location lies under one of its roots.
    extra = dict(snap.warehouses)
    channels = {}
    for c in snap.channels.values():
        counted = sorted(contributing_locations(c, snap.locations, snap.warehouses))
        if not counted:
            channels[c.id] = c
            continue
        wid = 100 + c.id
        extra[wid] = Warehouse(wid, f"N{c.id}", data.draw(st.sampled_from(counted)), 1)
        channels[c.id] = replace(c, warehouse_ids=c.warehouse_ids + (wid,) + c.warehouse_ids)
    nested = replace(snap, warehouses=extra, channels=channels)
    assert {r.listing_id: r.quantity for r in compute(nested, NOW)} == before


@EACH
@PROPS
@given(worlds(), st.integers(0, 9), st.integers(1, 20))
def test_monotone_in_stock(compute: Compute, snap: StockSnapshot, which: int, more: int) -> None:
    before = {r.listing_id: r.quantity for r in compute(snap, NOW)}
    quants = list(snap.quants)
    if quants:
        q = quants[which % len(quants)]
        quants[which % len(quants)] = replace(q, quantity=q.quantity + more)
    loc = 1 + which % len(snap.locations)
    quants.append(Quant(1 + which % 2, loc, float(more), 0.0))
    after = {r.listing_id: r.quantity for r in compute(replace(snap, quants=quants), NOW)}
    assert all(after[i] >= before[i] for i in before)


@EACH
@PROPS
@given(worlds(), st.integers(1, 6), st.integers(0, 30))
def test_stock_in_excluded_or_foreign_locations_changes_nothing(
    compute: Compute, snap: StockSnapshot, loc_pick: int, qty: int
) -> None:
    before = compute(snap, NOW)
    for channel in snap.channels.values():
        counted = contributing_locations(channel, snap.locations, snap.warehouses)
        outside = [i for i in snap.locations if i not in counted]
        if not outside:
            continue
        loc = outside[loc_pick % len(outside)]
        more = replace(snap, quants=snap.quants + [Quant(1, loc, float(qty), 0.0)])
        after = {r.listing_id: r for r in compute(more, NOW)}
        for r in before:
            if r.channel_id == channel.id:
                assert after[r.listing_id].explanation.free == r.explanation.free


def free_by_listing(compute: Compute, snap: StockSnapshot) -> dict[int, float]:
    return {r.listing_id: r.explanation.free for r in compute(snap, NOW)}


@EACH
@PROPS
@given(worlds(), st.integers(1, 10), st.integers(1, 30))
def test_a_foreign_company_location_never_counts_even_under_a_root(
    compute: Compute, snap: StockSnapshot, parent_pick: int, qty: int
) -> None:
    before = free_by_listing(compute, snap)
    parent = 1 + parent_pick % len(snap.locations)
    foreign = Location(99, "Other Co shelf", parent, "internal", 2)
    more = replace(
        snap,
        locations={**snap.locations, 99: foreign},
        quants=snap.quants + [Quant(1, 99, float(qty), 0.0), Quant(2, 99, float(qty), 0.0)],
    )
    after = free_by_listing(compute, more)
    for x in snap.listings:
        if snap.channels[x.channel_id].company_id == 1:
            assert after[x.id] == before[x.id]


@EACH
@PROPS
@given(worlds(), st.integers(1, 30))
def test_nothing_under_an_excluded_location_counts(compute: Compute, snap: StockSnapshot, qty: int) -> None:
    for channel in snap.channels.values():
        excluded = [i for i in channel.excluded_location_ids if i in snap.locations]
        if not excluded:
            continue
        before = free_by_listing(compute, snap)
        child = Location(98, "under excluded", excluded[0], "internal", 1)
        more = replace(
            snap,
            locations={**snap.locations, 98: child},
            quants=snap.quants + [Quant(1, 98, float(qty), 0.0), Quant(1, excluded[0], 5.0, 0.0)],
        )
        after = free_by_listing(compute, more)
        for x in snap.listings:
            if x.channel_id == channel.id:
                assert after[x.id] == before[x.id]


@EACH
@PROPS
@given(worlds())
def test_pack_size_floors(compute: Compute, snap: StockSnapshot) -> None:
    single = replace(snap, listings=[replace(x, pack_size=1) for x in snap.listings])
    units = {r.listing_id: r for r in compute(single, NOW)}
    for r in compute(snap, NOW):
        lst = r.explanation.listing
        assert r.quantity * lst.pack_size <= max(0, units[r.listing_id].explanation.pool)
        if cap_of(snap, r.listing_id) == math.inf and not r.oversold:
            assert r.quantity == units[r.listing_id].quantity // lst.pack_size


@EACH
@PROPS
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.integers(0, 30)), max_size=6),
    st.integers(-10, 80),
)
def test_allocated_channels_never_sell_more_than_free_together(
    compute: Compute, channel_buffers: list[int], holds: list[tuple[int, bool, int]], free: int
) -> None:
    n = len(channel_buffers)
    channels = [
        Channel(c + 1, f"ch{c + 1}", "m", 1, (1,), buffer=BufferPolicy(fixed=b))
        for c, b in enumerate(channel_buffers)
    ]
    snap = StockSnapshot(
        NOW,
        frozenset({1}),
        {1: Product(1, "S")},
        {1: Location(1, "WH/Stock", None, "internal", 1)},
        {1: Warehouse(1, "WH", 1, 1)},
        {c.id: c for c in channels},
        [Listing(c.id, c.id, 1, "S") for c in channels],
        [Quant(1, 1, float(free), 0.0)],
        [
            Allocation(i, 1 + c % n, 1, ALLOC if a else RESERV, q)
            for i, (c, a, q) in enumerate(holds)
        ],
    )
    results = compute(snap, NOW)
    allocated = {1 + c % n for c, a, _ in holds if a}
    sold_by_allocated = sum(r.quantity for r in results if r.channel_id in allocated)
    assert sold_by_allocated <= max(free, 0)
    assert all(r.quantity <= max(free, 0) for r in results)


@EACH
@PROPS
@given(worlds())
def test_negative_free_stock_zeroes_every_listing_of_the_product(compute: Compute, snap: StockSnapshot) -> None:
    results = compute(snap, NOW)
    negative = {r.product_id for r in results if r.explanation.free < 0}
    for r in results:
        if r.product_id in negative:
            assert r.quantity == 0 and r.oversold and r.explanation.oversold
        else:
            assert not r.oversold
