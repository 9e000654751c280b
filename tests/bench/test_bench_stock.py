"""Benchmark: compute_listings over a synthetic snapshot (500k listings / 100k products).

Quick mode (default) uses 3k products; BENCH_FULL=1 runs the full size. Prints numbers,
asserts only correctness-shaped facts (result count), never timings.

Run: ``BENCH_FULL=1 .venv/bin/pytest -q -s -m bench tests/bench/test_bench_stock.py``
"""

from __future__ import annotations

import gc
import os
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from connector.stock.compute import compute_listings
from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    Channel,
    Listing,
    Location,
    PeakPeriod,
    Product,
    Quant,
    StockSnapshot,
    Warehouse,
    ZeroStockAction,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
MARKETPLACES = (
    "amazon", "bol", "zalando", "kaufland", "ebay",
    "shopify", "etsy", "woocommerce", "lazada", "shopee",
)  # fmt: skip


def synthetic_snapshot(n_products: int, listings_per_product: int = 5) -> StockSnapshot:
    """Two warehouses of 40 bins each (plus an overlapping one and a quarantine), ten
    channels, ~3 quants per product, 1% of products with an allocation or reservation."""
    rng = random.Random(42)
    locations: dict[int, Location] = {1: Location(1, "Physical", None, "view", None)}
    warehouses: dict[int, Warehouse] = {}
    bins: list[int] = []
    next_id = 2
    for w, code in enumerate(("WH", "WH2"), start=1):
        view, stock = next_id, next_id + 1
        locations[view] = Location(view, code, 1, "view", 1)
        locations[stock] = Location(stock, f"{code}/Stock", view, "internal", 1)
        locations[stock + 1] = Location(stock + 1, f"{code}/Quarantine", view, "internal", 1)
        next_id = stock + 2
        for b in range(40):
            locations[next_id] = Location(next_id, f"{code}/Stock/Bin {b}", stock, "internal", 1)
            bins.append(next_id)
            next_id += 1
        warehouses[w] = Warehouse(w, code, stock, 1)
    warehouses[3] = Warehouse(3, "BACK", bins[0], 1)  # a child of WH/Stock: overlap
    policy = BufferPolicy(
        fixed=1,
        by_velocity={"A": 2, "B": 1},
        peak_periods=(PeakPeriod(NOW - timedelta(days=1), NOW + timedelta(days=1), 1),),
    )
    channels = {
        i: Channel(
            i, f"{m}_x", m, 1, (1, 2, 3) if m == "kaufland" else (1, 2),
            excluded_location_ids=(bins[5],) if m == "bol" else (),
            buffer=policy if i % 2 else BufferPolicy(fixed=2),
            max_qty=100 if m in ("lazada", "shopee") else 0,
            zero_stock_action=ZeroStockAction.DEACTIVATE if m == "etsy" else None,
        )
        for i, m in enumerate(MARKETPLACES, start=1)
    }  # fmt: skip
    products: dict[int, Product] = {}
    quants: list[Quant] = []
    listings: list[Listing] = []
    allocations: list[Allocation] = []
    for pid in range(1, n_products + 1):
        products[pid] = Product(pid, f"SKU-{pid}")
        for _ in range(rng.randint(1, 5)):
            qty = float(rng.randint(0, 50))
            quants.append(Quant(pid, rng.choice(bins), qty, float(rng.randint(0, 3))))
        for cid in rng.sample(range(1, 11), listings_per_product):
            listings.append(
                Listing(
                    len(listings) + 1, cid, pid, f"SKU-{pid}", str(pid * 10 + cid),
                    buffer_qty=3.0 if pid % 17 == 0 else None,
                    pack_size=6 if pid % 50 == 0 else 1,
                    velocity_class=rng.choice(("A", "B", "C", None)),
                )
            )  # fmt: skip
        if pid % 100 == 0:
            mode = AllocationMode.ALLOCATION if pid % 200 == 0 else AllocationMode.RESERVATION
            allocations.append(Allocation(pid, rng.randint(1, 10), pid, mode, 5.0))
    return StockSnapshot(
        NOW, frozenset(products), products, locations, warehouses, channels,
        listings, quants, allocations, frozenset({1}),
    )  # fmt: skip


@pytest.mark.bench
def test_bench_compute_listings() -> None:
    full = os.environ.get("BENCH_FULL") == "1"
    n_products = 100_000 if full else 3_000
    t0 = time.perf_counter()
    gc.disable()  # building millions of objects; the GC would only slow the setup down
    try:
        snapshot = synthetic_snapshot(n_products)
    finally:
        gc.enable()
    build_s = time.perf_counter() - t0

    gc.collect()
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    results = compute_listings(snapshot, NOW)
    compute_s = time.perf_counter() - t0
    rss_after = _rss_mb()
    assert len(results) == len(snapshot.listings)
    assert sum(r.quantity for r in results) > 0
    del results

    # Memory in a second run: tracemalloc slows Python down, so it is not timed.
    gc.collect()
    tracemalloc.start()
    results = compute_listings(snapshot, NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nstock bench ({'full' if full else 'quick'}): {len(snapshot.listings):,} listings, "
        f"{n_products:,} products, {len(snapshot.quants):,} quants | snapshot built in "
        f"{build_s:.2f}s | compute {compute_s:.2f}s "
        f"({compute_s / len(snapshot.listings) * 1e6:.1f} µs/listing) | compute peak "
        f"{peak / 2**20:.0f} MB (tracemalloc) | RSS {rss_before:.0f} MB with the snapshot, "
        f"{rss_after:.0f} MB with the results; process max RSS {maxrss_mb:.0f} MB "
        f"(targets at 500k: 5 s, 300 MB)"
    )
    del results


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), falling back to the peak elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
