"""Benchmark: the stock computation at 500k and 1M listings (100k products on 5 and on 10
channels), before (the per-listing reference) and after (the columnar fast path).

Each run is a process of its own (tests/bench/stock_run.py), so that its peak RSS is its
own. Quick mode (default, CI) uses 3k products; BENCH_FULL=1 runs the full size. Prints
numbers; asserts only correctness-shaped facts (every run publishes the same numbers),
never timings.

Run: ``BENCH_FULL=1 .venv/bin/pytest -q -s -m bench tests/bench/test_bench_stock.py``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMPLS = (
    ("reference", "before: records in, per-listing loop, records out"),
    ("adapter", "after, engine entry: records in -> columns -> fast path"),
    ("fast", "after, columns in (a paged reader builds them) -> ResultTable"),
)


def _run(impl: str, products: int, per_product: int, timeout: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.stock_run", "--impl", impl,
         "--products", str(products), "--per-product", str(per_product)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.bench
@pytest.mark.timeout(900)
def test_bench_stock_500k_and_1m() -> None:
    full = os.environ.get("BENCH_FULL") == "1"
    products = 100_000 if full else 3_000
    timeout = 600 if full else 120
    lines = [
        f"\nstock bench ({'full' if full else 'quick'}): {products:,} products, ~3 quants "
        f"each, on 5 channels and on 10 (a full resync; each run in its own process)",
        f"  {'run':<10} {'listings':>9} {'compute':>8} {'CPU':>6} {'µs/listing':>10} "
        f"{'RSS in':>7} {'RSS out':>7} {'peak':>6} {'proc peak':>9}  diff CPU / 1k explanations",
    ]
    for per_product in (5, 10):
        sums = set()
        for impl, _ in IMPLS:
            r = _run(impl, products, per_product, timeout)
            assert r["listings"] == products * per_product
            sums.add(r["quantity_sum"])
            extra = ""
            if "diff_cpu_s" in r:
                extra = (
                    f"diff {r['diff_cpu_s']:.3f}s ({r['changed']:,} changed) / explain "
                    f"{r['explain_1000_cpu_s']:.2f}s"
                )
            peak = r["compute_peak_mb"]
            lines.append(
                f"  {impl:<10} {r['listings']:>9,} {r['compute_s']:>7.2f}s "
                f"{r['compute_cpu_s']:>5.2f}s {r['compute_cpu_s'] / r['listings'] * 1e6:>10.2f} "
                f"{r['rss_inputs_mb']:>6.0f}M {r['rss_results_mb']:>6.0f}M "
                f"{'-' if peak is None else f'{peak:.0f}M':>6} {r['process_peak_mb']:>8.0f}M  "
                f"{extra}"
            )
        assert len(sums) == 1, f"the runs published different numbers: {sums}"
    lines.append(
        "  compute: wall time; CPU: process CPU time of the compute (the figure issue 18 "
        "budgets: compute + diff <= 2 s); RSS in/out: with the inputs, with the results; "
        "peak: the compute's peak RSS (whole process, inputs included); proc peak: the run's "
        "peak RSS, building the inputs included. Runs: "
        + "; ".join(f"{impl} = {what}" for impl, what in IMPLS)
    )
    print("\n".join(lines))
