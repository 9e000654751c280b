"""Benchmark: stock updates across the ten adapters against the sandbox (real HTTP).

Prints, per marketplace, the requests sent vs the minimum its batch limit allows, and the
time taken. Quick mode: 1,000 updates (100 per marketplace); BENCH_FULL=1: 10,000.
Never asserts timings; it asserts only that every update landed.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import pytest

from connector.marketplaces.base import Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.registry import build_adapter
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import start_sandbox
from tests.contract.test_adapter_contract import CASES, ZALANDO_CHANNEL

PER_MARKETPLACE = 1000 if os.environ.get("BENCH_FULL") == "1" else 100


def _ean(n: int) -> str:
    body = f"400{n:09d}"
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
    return body + str(check)


def _listing(marketplace: str, i: int) -> tuple[str, str | None, dict[str, Any]]:
    """(sku, external_id, extra) of the i-th benchmark listing of a marketplace."""
    sku = f"BENCH-{i:05d}"
    return {
        "amazon": (sku, None, {}),
        "bol": (_ean(i), str(500000 + i), {}),
        "zalando": (_ean(i), None, {"sales_channel_id": ZALANDO_CHANNEL}),
        "kaufland": (_ean(i), str(700000 + i), {}),
        "ebay": (sku, str(9000000000 + i), {}),
        "shopify": (sku, f"gid://shopify/InventoryItem/{100000 + i}", {}),
        "etsy": (sku, f"{800000 + i}/{1}", {"status": "active", "shop_id": "5001"}),
        "woocommerce": (sku, str(20000 + i), {}),
        "lazada": (sku, f"{300000 + i}/{i + 1}", {}),
        "shopee": (sku, f"{60000 + i // 50}/{i + 1}", {}),  # 50 models per item: one call per item
    }[marketplace]


@pytest.mark.bench
def test_bench_ten_adapters_against_sandbox() -> None:
    rows = []
    with start_sandbox(rate_limits=False) as sandbox:
        admin = SandboxAdmin(sandbox.url)
        for case in CASES:
            admin.add_account(case.marketplace, case.account)
            admin.add_listings(case.marketplace, [
                {"sku": sku, "external_id": ext, "quantity": 5, **extra}
                for sku, ext, extra in (_listing(case.marketplace, i) for i in range(PER_MARKETPLACE))])
        for case in CASES:
            clock = ManualClock(start=time.time())
            settings = {**sandbox.channel_urls(case.marketplace), **case.settings}
            adapter = build_adapter(f"{case.marketplace}_bench", case.marketplace, settings, clock=clock)
            updates = []
            for i in range(PER_MARKETPLACE):
                sku, ext, _ = _listing(case.marketplace, i)
                updates.append(StockUpdate(listing_id=i + 1, sku=sku, quantity=3, external_id=ext))
            before = len(admin.requests(case.marketplace))
            started = time.perf_counter()
            results = adapter.push(updates)
            elapsed = time.perf_counter() - started
            log = admin.requests(case.marketplace)[before:]
            sent = sum(1 for r in log if r["operation"] not in ("token", "refresh"))
            minimum = (math.ceil(PER_MARKETPLACE / 50) if case.marketplace == "shopee"
                       else math.ceil(PER_MARKETPLACE / max(1, adapter.batch_limit)))
            # Amazon's ACCEPTED is held for a later read-back (issue 17): sent, not failed.
            failed = [r for r in results if r.outcome is not Outcome.OK and not r.awaiting_confirmation]
            rows.append((case.marketplace, adapter.batch_limit, sent, minimum, elapsed, len(failed)))
            adapter.close()
            assert not failed, failed[:3]
        admin.close()
    total_sent = sum(r[2] for r in rows)
    total_min = sum(r[3] for r in rows)
    print(f"\n{len(CASES) * PER_MARKETPLACE} updates across {len(CASES)} adapters "
          f"({'full' if PER_MARKETPLACE == 1000 else 'quick'} mode)")
    print(f"{'marketplace':12} {'batch':>5} {'requests':>8} {'minimum':>8} {'seconds':>8} {'updates/s':>9}")
    for name, batch, sent, minimum, elapsed, _ in rows:
        print(f"{name:12} {batch:>5} {sent:>8} {minimum:>8} {elapsed:>8.2f} {PER_MARKETPLACE / elapsed:>9.0f}")
    print(f"{'total':12} {'':>5} {total_sent:>8} {total_min:>8}")
