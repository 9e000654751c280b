"""One measured run of the stock computation, in a process of its own (so that its peak RSS
is its own): ``python -m tests.bench.stock_run --impl fast --products 100000 --per-product 10``
prints one JSON line.

The shop: two warehouses of 40 bins each (plus an overlapping one and a quarantine), ten
channels (one excluding a bin, two capped, one deactivating at zero), ~3 quants per product,
1% of products with an allocation or reservation, a listing buffer on 1 product in 17, packs
of 6 on 1 in 50. It is generated as columns (numpy), as a paged ERP reader would build them;
the records the reference needs are made from those columns.

    --impl reference   records in, records out (compute_listings_reference): the "before"
    --impl adapter     records in, the engine's entry (compute_listings: records -> columns
                       -> fast path); the records are what StockSource builds today
    --impl fast        columns in, a ResultTable out (compute_table): what a paged reader
                       that builds columns gets. Run as a second full resync: the previous
                       actions come as a Baseline (arrays) where 1% of the numbers moved
                       since; also times the vectorised diff against it and 1,000 lazy
                       explanations of changed listings
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from connector.stock.baseline import Baseline, changed_rows
from connector.stock.columns import (
    ColumnarSnapshot,
    ListingColumns,
    QuantColumns,
    StringColumnBuilder,
)
from connector.stock.compute import compute_listings, compute_listings_reference, compute_table
from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    Channel,
    Location,
    PeakPeriod,
    Product,
    Warehouse,
    ZeroStockAction,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
MARKETPLACES = (
    "amazon", "bol", "zalando", "kaufland", "ebay",
    "shopify", "etsy", "woocommerce", "lazada", "shopee",
)  # fmt: skip
PAGE = 50_000


def synthetic_columns(n_products: int, per_product: int, seed: int = 42) -> ColumnarSnapshot:
    rng = np.random.default_rng(seed)
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

    pids = np.arange(1, n_products + 1, dtype=np.int64)
    per_quant = rng.integers(1, 6, n_products)
    q_pid = np.repeat(pids, per_quant)
    nq = len(q_pid)
    none = np.full(nq, np.iinfo(np.int64).min, dtype=np.int64)
    quants = QuantColumns(
        q_pid,
        np.asarray(bins, dtype=np.int64)[rng.integers(0, len(bins), nq)],
        rng.integers(0, 51, nq).astype(np.float64),
        rng.integers(0, 4, nq).astype(np.float64),
        none, none.copy(), none.copy(), none.copy(),
    )  # fmt: skip

    # per_product distinct channels of the ten for every product.
    order = np.argsort(rng.random((n_products, len(channels))), axis=1)[:, :per_product]
    l_cid = (order + 1).astype(np.int64).ravel()
    l_pid = np.repeat(pids, per_product)
    n = len(l_pid)
    skus, externals = StringColumnBuilder(), StringColumnBuilder()
    for start in range(0, n, PAGE):  # page by page, as a reader would
        page_p = l_pid[start : start + PAGE].tolist()
        page_c = l_cid[start : start + PAGE].tolist()
        skus.extend(f"SKU-{p}" for p in page_p)
        externals.extend(str(p * 10 + c) for p, c in zip(page_p, page_c))
    listings = ListingColumns(
        np.arange(1, n + 1, dtype=np.int64),
        l_cid,
        l_pid,
        skus.build(),
        externals.build(),
        np.where(l_pid % 17 == 0, 3.0, np.nan),
        np.zeros(n),
        np.where(l_pid % 50 == 0, 6, 1).astype(np.int64),
        np.ones(n, dtype=bool),
        (rng.integers(0, 4, n) - 1).astype(np.int16),  # -1: None, else A, B, C
        ("A", "B", "C"),
    )
    allocations = [
        Allocation(
            int(p), int(rng.integers(1, 11)), int(p),
            AllocationMode.ALLOCATION if p % 200 == 0 else AllocationMode.RESERVATION, 5.0,
        )
        for p in pids[pids % 100 == 0]
    ]  # fmt: skip
    products = {int(p): Product(int(p), f"SKU-{p}") for p in pids}
    return ColumnarSnapshot(
        NOW, pids, listings, quants, locations, warehouses, channels, allocations,
        frozenset({1}), products,
    )  # fmt: skip


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak() -> bool:
    """Reset the kernel's peak RSS (VmHWM) of this process; False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(impl: str, n_products: int, per_product: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    gc.disable()  # building millions of records: the GC would only slow the setup down
    try:
        cols = synthetic_columns(n_products, per_product)
        snapshot = None
        if impl in ("reference", "adapter"):
            snapshot = cols.to_snapshot()
            del cols
    finally:
        gc.enable()
    gc.collect()
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = {"impl": impl, "products": n_products, "build_s": build_s}
    base: Baseline | None = None
    if impl == "fast":
        # A second full resync: the first one's numbers and actions are the baseline (with
        # 1% of the numbers moved since), handed in as arrays for the previous actions and
        # compared against after the compute.
        base = Baseline.of(compute_table(cols, NOW))
        quantity = base.quantity.copy()
        quantity[::100] += 1
        base = Baseline(base.listing_id, quantity, base.action)
        gc.collect()
    out["rss_inputs_mb"] = rss_mb()
    peak_reset = reset_peak()
    w0, c0 = time.perf_counter(), time.process_time()
    if impl == "fast":
        results: Any = compute_table(cols, NOW, previous_actions=base)
    elif impl == "adapter":
        assert snapshot is not None
        results = compute_listings(snapshot, NOW)
    else:
        assert snapshot is not None
        results = compute_listings_reference(snapshot, NOW)
    out["compute_s"] = time.perf_counter() - w0
    out["compute_cpu_s"] = time.process_time() - c0
    out["listings"] = len(results)
    out["quantity_sum"] = int(sum(r.quantity for r in results[:1000]))
    out["rss_results_mb"] = rss_mb()
    out["compute_peak_mb"] = peak_mb() if peak_reset else None
    if base is not None:
        # The diff's share, then explanations for 1,000 of the changed listings.
        c0 = time.process_time()
        changed = changed_rows(results, base)
        out["diff_cpu_s"] = time.process_time() - c0
        out["changed"] = len(changed)
        c0 = time.process_time()
        for i in changed[:1000].tolist():
            results[i].explanation.to_dict()
        out["explain_1000_cpu_s"] = time.process_time() - c0
    out["process_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=("reference", "adapter", "fast"), required=True)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--per-product", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(run(args.impl, args.products, args.per_product)))


if __name__ == "__main__":
    main()
