"""The columnar fast path (compute_table) equals the per-listing reference on random shops.

Random: several warehouses (overlapping, repeated, unknown), excluded locations, foreign
companies, consigned and fractional quants, allocations and reservations (active, future,
expired, negative), listing and channel buffers (velocity classes, peak periods, marketplace
extras, negative rules), listing / channel / marketplace caps, pack sizes, zero-stock actions
(the channel's own and the marketplace defaults), previous actions, inactive listings and
channels, listings of unknown channels or of products outside the snapshot, and a subset of
wanted listings. Equal means: same rows in the same order, same numbers, actions and
oversold flags, and the same explanation (to_dict and render).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.stock.baseline import Baseline, changed_rows
from connector.stock.columns import ColumnarSnapshot, ListingColumnsBuilder, StringColumn
from connector.stock.compute import FAST_FROM, compute_listings, compute_listings_reference
from connector.stock import columns as columns_module
from connector.stock import fast as fast_module
from connector.stock.fast import compute_table
from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    Channel,
    Listing,
    Location,
    PeakPeriod,
    Product,
    PushAction,
    Quant,
    StockSnapshot,
    Warehouse,
    ZeroStockAction,
)
from connector.stock.table import ResultTable
from tests.stock.shop import NOW, OWN_PARTNER

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MARKETS = ("amazon", "bol", "etsy", "ebay")
HOUR = timedelta(hours=1)
# Quantities the ERP really sends: whole units, tenths (float noise in sums), negatives.
QTY = st.sampled_from(
    [0.0, 1.0, 3.0, 7.0, 12.0, 12.0, 40.0, 40.0, 100.0, 0.1, 0.2, 0.3, 2.5, 5.9999999999, -1.0]
)
RESERVED = st.sampled_from([0.0, 0.0, 1.0, 2.0, 0.1, 0.2])
# Mostly active holds (so that they matter), some future or expired ones.
STARTS = st.sampled_from([None, None, NOW - HOUR, NOW, NOW + HOUR])
ENDS = st.sampled_from([None, None, NOW + HOUR, NOW - HOUR])


@st.composite
def shops(draw: st.DrawFn) -> StockSnapshot:
    n_loc = draw(st.integers(2, 12))
    locations = {1: Location(1, "L1", None, "internal", 1)}
    for i in range(2, n_loc + 1):
        locations[i] = Location(
            i,
            f"L{i}",
            draw(st.none() | st.integers(1, i - 1)),
            draw(st.sampled_from(["internal"] * 4 + ["view", "transit"])),
            draw(st.sampled_from([1, 1, 1, 2, None])),
            active=draw(st.sampled_from([True] * 5 + [False])),
        )
    n_wh = draw(st.integers(1, 4))
    warehouses = {1: Warehouse(1, "W1", 1, 1)}
    for w in range(2, n_wh + 1):
        warehouses[w] = Warehouse(w, f"W{w}", draw(st.integers(1, n_loc)), draw(st.sampled_from([1, 2])))
    policies = st.builds(
        BufferPolicy,
        fixed=st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5]),
        by_velocity=st.sampled_from([{}, {"A": 2.0}, {"A": 3.0, "B": 1.0}]),
        peak_periods=st.sampled_from(
            [(), (PeakPeriod(NOW - HOUR, NOW + HOUR, 2.0),), (PeakPeriod(NOW + HOUR, NOW + 2 * HOUR, 9.0),)]
        ),
        marketplace_extra=st.sampled_from([0.0, 0.0, 1.0]),
    )
    channels: dict[int, Channel] = {}
    for c in range(1, draw(st.integers(1, 5)) + 1):
        channels[c] = Channel(
            c,
            f"ch{c}",
            draw(st.sampled_from(MARKETS)),
            draw(st.sampled_from([1, 1, None, 2])),
            # Mostly warehouse 1 (stock to publish), plus repeats, overlaps and an unknown one.
            tuple(draw(st.sampled_from([[1], [1], [1], []])) + draw(st.lists(st.integers(1, n_wh + 1), max_size=3))),
            excluded_location_ids=tuple(draw(st.lists(st.integers(1, n_loc + 1), max_size=2))),
            buffer=draw(policies),
            max_qty=draw(st.sampled_from([0.0, 0.0, 5.0, 5.0, 40.0, 0.5])),
            zero_stock_action=draw(st.none() | st.sampled_from(list(ZeroStockAction))),
            active=draw(st.sampled_from([True] * 8 + [False])),
        )
    n_products = draw(st.integers(1, 4))
    products = range(1, n_products + 1)
    quants = [
        Quant(
            draw(st.sampled_from(products)),
            # Mostly location 1; n_loc + 1: a location the snapshot lacks.
            draw(st.sampled_from([1, 1, 1]) | st.integers(1, n_loc + 1)),
            draw(QTY),
            draw(RESERVED),
            lot_id=draw(st.none() | st.integers(1, 3)),
            owner_id=draw(st.sampled_from([None, None, OWN_PARTNER, 555])),
        )
        for _ in range(draw(st.integers(0, 14)))
    ]
    listings: list[Listing] = []
    for _ in range(draw(st.integers(0, 16))):
        listings.append(
            Listing(
                len(listings) + 1,
                # Mostly known channels and products; +1: a channel nobody knows, a product
                # outside product_ids.
                draw(st.integers(1, len(channels)) | st.integers(1, len(channels) + 1)),
                draw(st.integers(1, n_products) | st.integers(1, n_products + 1)),
                f"S{len(listings)}",
                external_id=draw(st.none() | st.just(f"E{len(listings)}")),
                buffer_qty=draw(st.sampled_from([None, None, None, 0.0, 2.0, -1.0, 1.5])),
                max_qty=draw(st.sampled_from([0.0, 0.0, 3.0, 25.0, 0.5])),
                pack_size=draw(st.sampled_from([1, 1, 2, 6, 0])),
                active=draw(st.sampled_from([True] * 6 + [False])),
                velocity_class=draw(st.sampled_from([None, "A", "B", "C"])),
            )
        )
    allocations = [
        Allocation(
            draw(st.integers(1, 50)),
            draw(st.integers(1, len(channels) + 1)),
            draw(st.sampled_from(products)),
            draw(st.sampled_from(list(AllocationMode))),
            draw(st.sampled_from([0.0, 1.0, 3.0, 10.0, -2.0, 0.5])),
            date_start=draw(STARTS),
            date_end=draw(ENDS),
        )
        for _ in range(draw(st.integers(0, 5)))
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
        allocations,
        frozenset({OWN_PARTNER}),
    )


def _rows(results: object) -> list[tuple[object, ...]]:
    return [
        (r.listing_id, r.channel_id, r.channel_code, r.marketplace, r.product_id, r.sku,
         r.external_id, r.quantity, r.action, r.oversold)  # fmt: skip
        for r in results  # type: ignore[attr-defined]
    ]


@SETTINGS
@given(shops(), st.data())
def test_fast_path_equals_the_reference(snap: StockSnapshot, data: st.DataObject) -> None:
    ids = [x.id for x in snap.listings]
    previous = data.draw(
        st.dictionaries(st.sampled_from(ids), st.sampled_from([*PushAction, PushAction.DEACTIVATE, PushAction.END]))
        if ids
        else st.just({})
    )
    wanted = data.draw(st.none() | st.none() | st.sets(st.sampled_from(ids or [0]) | st.just(999)))
    kwargs = dict(
        previous_actions=previous,
        zero_stock_defaults=data.draw(
            st.sampled_from([None, {}, {"etsy": ZeroStockAction.DEACTIVATE, "ebay": ZeroStockAction.END_LISTING}])
        ),
        listing_ids=wanted,
        marketplace_caps=data.draw(
            st.sampled_from([None, {"bol": 4, "ebay": 3}, {"amazon": 10, "etsy": 0}])
        ),
    )
    reference = compute_listings_reference(snap, NOW, **kwargs)  # type: ignore[arg-type]
    fast = compute_table(ColumnarSnapshot.from_snapshot(snap), NOW, **kwargs)  # type: ignore[arg-type]
    assert _rows(fast) == _rows(reference)
    # The same previous actions as arrays (what the engine's compact baseline would hand in).
    as_arrays = dict(kwargs, previous_actions=Baseline.of_actions(previous))
    fast_arrays = compute_table(ColumnarSnapshot.from_snapshot(snap), NOW, **as_arrays)  # type: ignore[arg-type]
    assert _rows(fast_arrays) == _rows(reference)
    for got, want in zip(fast_arrays, reference):
        assert got.explanation.action is want.explanation.action
    for got, want in zip(fast, reference):
        assert got.explanation.to_dict() == want.explanation.to_dict()
        assert got.explanation.render() == want.explanation.render()
        assert got.explanation.published == got.quantity


@settings(max_examples=60, deadline=None)
@given(shops())
def test_columns_give_back_the_same_records(snap: StockSnapshot) -> None:
    cols = ColumnarSnapshot.from_snapshot(snap)
    back = cols.to_snapshot()
    assert back.listings == snap.listings and back.quants == snap.quants
    assert back.product_ids == snap.product_ids


def test_listings_built_page_by_page_equal_built_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns_module, "_PAGE", 7)  # the builder's own pages too
    listings = [
        Listing(i, 1 + i % 3, 1 + i % 7, f"SKU-{i}-é", None if i % 4 else f"ext{i}",
                buffer_qty=None if i % 5 else 1.0, velocity_class=(None, "A", "B")[i % 3])
        for i in range(1, 101)
    ]  # fmt: skip
    b = ListingColumnsBuilder()
    for start in range(0, 100, 30):
        b.add(listings[start : start + 30])
    cols = b.build()
    assert [cols.row(i) for i in range(len(cols))] == listings
    quants = [Quant(1 + i % 5, 1 + i % 3, float(i), 0.5, owner_id=None if i % 2 else 100) for i in range(30)]
    q = ColumnarSnapshot.from_snapshot(
        StockSnapshot(NOW, frozenset(), {}, {}, {}, {}, listings, quants, [])
    )
    assert [q.quants.row(i) for i in range(len(quants))] == quants
    assert StringColumn.of(["a", None, ""])[1] is None
    assert StringColumn.of(["a", None, ""])[2] == ""


@pytest.mark.parametrize("chunk", [fast_module._CHUNK, 97])
def test_big_snapshots_take_the_fast_path_with_the_same_answers(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compute_listings (the engine's entry) switches to columns at FAST_FROM listings; the
    fast path's chunks (here also 97 rows, so that products straddle them) change nothing."""
    monkeypatch.setattr(fast_module, "_CHUNK", chunk)
    channels = {c: Channel(c, f"ch{c}", "amazon", 1, (1,)) for c in (1, 2)}
    n = max(FAST_FROM, 100) // 2 + 1
    snap = StockSnapshot(
        NOW,
        frozenset(range(1, n + 1)),
        {},
        {1: Location(1, "WH/Stock", None, "internal", 1)},
        {1: Warehouse(1, "WH", 1, 1)},
        channels,
        [Listing(2 * p + c, c, p, f"S{p}") for p in range(1, n + 1) for c in (1, 2)],
        [Quant(p, 1, float(p % 9) - 1, 0.0) for p in range(1, n + 1)],
        [Allocation(1, 1, 5, AllocationMode.ALLOCATION, 2.0)],
    )
    fast = compute_listings(snap, NOW, previous_actions={7: PushAction.DEACTIVATE})
    assert isinstance(fast, ResultTable)
    reference = compute_listings_reference(snap, NOW, previous_actions={7: PushAction.DEACTIVATE})
    assert _rows(fast) == _rows(reference)
    assert fast == reference and fast != reference[1:]
    assert next(r for r in fast if r.listing_id == 7).action is PushAction.REACTIVATE
    assert np.array_equal(fast.listing_ids, [r.listing_id for r in reference])
    assert fast[-1].explanation.render() == reference[-1].explanation.render()
    assert any(r.oversold for r in reference)  # the data above covers an oversell


def test_float_noise_below_zero_is_not_an_oversell() -> None:
    """0.3 - 0.1 - 0.2 sums to -2.8e-17 in floats: rounded to 6 places it is no oversell,
    on both paths (bincount sums in the loop's order; Python's round where not whole).
    And 5.9999999999 units publish 6 on both."""
    quants = [Quant(1, 1, 0.3, 0.0), Quant(1, 1, 0.0, 0.1), Quant(1, 1, 0.0, 0.2),
              Quant(2, 1, 0.25, 0.0), Quant(3, 1, 5.9999999999, 0.0)]  # fmt: skip
    snap = StockSnapshot(
        NOW, frozenset({1, 2, 3}), {}, {1: Location(1, "WH/Stock", None, "internal", 1)},
        {1: Warehouse(1, "WH", 1, 1)}, {1: Channel(1, "ch1", "amazon", 1, (1,))},
        [Listing(1, 1, 1, "S1"), Listing(2, 1, 2, "S2", buffer_qty=0.0),
         Listing(3, 1, 3, "S3", buffer_qty=0.0)], quants, [],
    )  # fmt: skip
    assert sum([0.3, -0.1, -0.2]) < 0  # the noise is there
    fast = compute_table(ColumnarSnapshot.from_snapshot(snap), NOW)
    assert _rows(fast) == _rows(compute_listings_reference(snap, NOW))
    assert not fast.oversold.any()
    assert fast[1].explanation.free == 0.25
    assert fast.quantity.tolist() == [0, 0, 6]


def test_changed_rows_follow_the_engines_rule() -> None:
    """Same number and action: unchanged; a switch back on (REACTIVATE / RELIST) followed by
    SET with the same number: unchanged; another number or action, or no baseline: changed."""
    channels = {1: Channel(1, "ch1", "etsy", 1, (1,), zero_stock_action=ZeroStockAction.DEACTIVATE)}
    snap = StockSnapshot(
        NOW, frozenset({1, 2, 3, 4, 5}), {}, {1: Location(1, "WH/Stock", None, "internal", 1)},
        {1: Warehouse(1, "WH", 1, 1)}, channels,
        [Listing(10 + p, 1, p, f"S{p}") for p in (1, 2, 3, 4, 5)],
        [Quant(p, 1, float(p - 1), 0.0) for p in (1, 2, 3, 4, 5)], [],
    )  # fmt: skip
    table = compute_table(ColumnarSnapshot.from_snapshot(snap), NOW)
    assert table.quantity.tolist() == [0, 1, 2, 3, 4]
    code = {a: i for i, a in enumerate(PushAction)}
    base = Baseline(
        np.array([11, 12, 13, 14], dtype=np.int64),
        np.array([0, 1, 2, 9], dtype=np.int64),
        np.array([code[PushAction.DEACTIVATE], code[PushAction.REACTIVATE],
                  code[PushAction.END], code[PushAction.SET]], dtype=np.int8),
    )  # fmt: skip
    # 11: same (0, deactivate); 12: reactivated, now SET 1: same; 13: END -> SET: changed;
    # 14: 9 -> 3: changed; 15: never pushed: changed.
    assert changed_rows(table, base).tolist() == [2, 3, 4]
    assert changed_rows(table, Baseline.of(table)).tolist() == []
