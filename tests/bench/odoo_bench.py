"""Pieces of the real-Odoo benchmark (tests/bench/test_bench_odoo_real.py).

- `RealAdjuster`: raises one product's count at one location by 1 per commit over JSON-RPC
  as admin (write `inventory_quantity`, then `action_apply_inventory`), recording when the
  committing RPC was sent and when it returned (the commit is done by then).
- `BridgeWithCalls`: the bridge (`Bridge(config)`, as `stock-bridge run` starts it) in its own
  process, answering its engine's metrics and its ERP clients' call counts (`RpcClient.calls_by`
  of the source, feed and status connections: the bridge's own calls, counted where made).
- `latencies(...)`: per (commit, listing), commit -> the sandbox request that made the listing
  show at least that commit's value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from tests.e2e.harness import Child, _serve
from tests.odoo_real.e2e_stack import AdminRpc


class Commits(Protocol):
    sku: str
    commits: list[float]


class RealAdjuster:
    def __init__(self, url: str, db: str, sku: str, location: str) -> None:
        self.rpc = AdminRpc(url, db)
        self.sku = sku
        product, loc = self.rpc.product(sku), self.rpc.location(location)
        [quant] = self.rpc("stock.quant", "search_read", [["product_id", "=", product], ["location_id", "=", loc]],
                           ["quantity"])
        self.quant = int(quant["id"])
        self.count = float(quant["quantity"])
        self.commits: list[float] = []  # commit n-1: the applying RPC returned
        self.sent: list[float] = []     # ... and when it was sent

    def bump(self) -> None:
        self.count += 1
        self.rpc("stock.quant", "write", [self.quant], {"inventory_quantity": self.count})
        sent = time.time()
        self.rpc("stock.quant", "action_apply_inventory", [self.quant])
        self.commits.append(time.time())
        self.sent.append(sent)

    def drive(self, count: int, rate: float) -> None:
        start = time.monotonic()
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.bump()


def drive(adjusters: Sequence[Any], total: int, rate: float) -> float:
    """`total` commits at `rate` per second in all, one thread per adjuster; seconds taken."""
    share = [total // len(adjusters) + (1 if i < total % len(adjusters) else 0) for i in range(len(adjusters))]
    threads = [threading.Thread(target=a.drive, args=(n, rate / len(adjusters))) for a, n in zip(adjusters, share)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return time.monotonic() - start


def latencies(adjusters: Sequence[Commits], watched: dict[tuple[str, str], tuple[str, str]],
              base: dict[tuple[str, str], int], seen: dict[tuple[str, str], list[tuple[float, int]]],
              caps: Callable[[str, str], int], commits: Callable[[Commits], list[float]] | None = None
              ) -> tuple[dict[str, list[float]], list[str]]:
    """channel -> [ms from commit to the receipt showing it], and the ones that never showed.

    Every commit raises its product by one, so channel C "shows commit n" when it shows at
    least base + n (a pack listing moves only every pack: leave those out of `watched`);
    commits past a cap (`caps(channel, sku)`, 0 = none) cannot show and are skipped."""
    by_sku = {a.sku: a for a in adjusters}
    out: dict[str, list[float]] = {}
    missing: list[str] = []
    for (marketplace, channel_sku), (channel, sku) in watched.items():
        adjuster = by_sku.get(sku)
        if adjuster is None:
            continue
        rows = seen.get((marketplace, channel_sku), [])
        cap = caps(channel, channel_sku)
        for n, at in enumerate(commits(adjuster) if commits else adjuster.commits, start=1):
            target = base[(channel, channel_sku)] + n
            if cap and target > cap:
                continue
            hit = next((t for t, q in rows if q >= target), None)
            if hit is None:
                missing.append(f"{channel}/{channel_sku} commit {n} (>= {target}; shown {rows[-1:]})")
                continue
            out.setdefault(channel, []).append(max(0.0, hit - at) * 1000)
    return out, missing


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _bridge_child(conn: Connection, config_path: str, log_path: str) -> None:
    logging.basicConfig(level=logging.INFO, filename=log_path)
    for noisy in ("connector.sync.engine", "werkzeug", "apscheduler", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from connector.config import load_config
    from connector.sync.service import Bridge

    bridge = Bridge(load_config(Path(config_path)))
    bridge.start()
    engine = bridge.engine
    assert engine is not None

    def calls() -> dict[str, int]:
        total: Counter[str] = Counter()
        for client in bridge._clients:  # noqa: SLF001 - the bridge's own ERP connections
            total.update(getattr(client, "calls_by", {}))
        return dict(total)

    def reset() -> None:
        engine.times.reset()

    conn.send(bridge.listener_url)
    try:
        _serve(conn, {"metrics": engine.metrics, "calls": calls, "reset": reset})
    finally:
        bridge.stop()


class BridgeWithCalls:
    def __init__(self, config: Path, log_path: Path) -> None:
        self.child = Child(_bridge_child, str(config), str(log_path), timeout=120.0)
        self.url: str = self.child.hello

    def metrics(self) -> dict[str, Any]:
        return dict(self.child.call("metrics"))

    def calls(self) -> Counter[str]:
        return Counter(self.child.call("calls"))

    def reset(self) -> None:
        self.child.call("reset")

    def stop(self) -> None:
        self.child.stop()
