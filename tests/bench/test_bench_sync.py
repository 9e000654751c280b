"""Benchmark: ERP commit -> marketplace receipt latency, RPC calls per flush, requests per burst.

Mock ERP, sandbox and bridge each run in their own process (tests/e2e/harness.py
`start_process_stack`), so the driver, the stand-ins and the bridge do not share a GIL and
measure each other's waits. Three driver threads (one per product, so each product's commits
stay in order) send inventory adjustments over XML-RPC at a steady total rate, each raising one
product's WH/Stock count by 1 (so every published value only grows and "channel C reflects
commit i" means "C shows at least the value of commit i"). Three products cover all 10 channels.

- latency, END TO END: commit (just before the committing RPC is sent) -> arrival at the
  sandbox of the request that made the channel show that value (the sandbox's own request log
  time). This includes the ERP's commit, outbox and webhook, the ERP reads and the sandbox, so it
  is NOT the bridge-added time; p50/p99 overall and per channel. Printed apart: the bridge's
  own phases from its engine.metrics(): coalesce (wake-up -> flush start), feed read, ERP
  snapshot, compute, queue wait, rate-limit wait (the marketplaces' documented budgets, in the
  adapters' token buckets: not the bridge's own time) and HTTP. Target (issue 6): p50 <= 20 ms,
  p99 <= 100 ms of bridge-added time at 200/s.
- latency, BRIDGE-ADDED (the issue's target), per (commit, channel), from the bridge's push
  traces (connector/sync/tracing.py): from the arrival at the bridge of the commit's webhook
  (its outbox event id) to the moment the bridge handed the value to the marketplace's
  adapter, minus the ERP read time inside that interval. Waiting for the running flush, the
  computation, queueing behind the channel's previous request and recording its outcome all
  count as bridge time (the "strict" figure also takes out the waits behind an earlier flush's ERP
  reads and behind the channel's answers to earlier requests). Printed beside it: commit -> webhook arrival (the ERP's commit and
  webhook), the ERP reads on the path, and hand-over -> sandbox receipt (the marketplace's
  rate budget, the adapter's requests, network and the sandbox).
- RPC calls per flush: calls the bridge user made to the ERP / snapshots it took.
- marketplace requests per burst: a burst of adjustments as fast as the driver can send
  them, then the requests each marketplace received until the bridge is idle.

Two runs: with the marketplaces' rate budgets (the realistic one, with the burst), and a
reference run with the budgets lifted (sandbox throttles off, adapters' token buckets wide
open), where what is left between the webhook and the marketplace is the ERP, the network
and the bridge itself.

Quick mode (default): 40 events/s for 1 s, burst of 100. BENCH_FULL=1: 200 events/s for
10 s and a burst of 1,000. Prints numbers; asserts only that every commit was reflected.
Run: ``BENCH_FULL=1 .venv/bin/pytest -q -s -m bench tests/bench/test_bench_sync.py``
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.sync.tracing import erp_overlap
from tests.e2e.harness import ProcessStack, start_process_stack
from tests.e2e.odoo import OdooRpc

pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]

FULL = os.environ.get("BENCH_FULL") == "1"
RATE = 200.0 if FULL else 40.0
DURATION_S = 10.0 if FULL else 1.0
BURST = 1000 if FULL else 100
# product -> where its count is raised; the three together are listed on all 10 channels
PRODUCTS = ("MUG-CER-350", "CHARGER-USB-C", "TSHIRT-BLK-M")
CAPPED = {"lazada_sg": 100, "shopee_sg": 100, "bol_nl": 999, "etsy_shop": 999}  # channel max_qty; bol, Etsy max 999
# eBay allows 250 revisions per listing per day: after a burst the adapter holds non-zero pushes
# (durably parked, latest wins), so on eBay only the commits inside that budget can show now.
REVISION_BUDGETED = frozenset({"ebay_de"})
BRIDGE_UID_LOGIN = "bridge"
SNAPSHOT = "stock.quant.search_read"  # one per snapshot the bridge takes
FLUSH_PHASES = ("coalesce", "fast_read", "fast_compute", "feed_read", "flush_lock_wait", "snapshot", "compute")
PUSH_PHASES = ("queue_wait", "rate_limit_wait", "http", "record")


class Adjuster:
    """Raises one product's WH/Stock count by 1 per call: two RPC calls (count, apply)."""

    def __init__(self, stack: ProcessStack, sku: str) -> None:
        self.rpc = OdooRpc(stack.erp.url, stack.erp.database, "admin", "admin")
        self.sku = sku
        self.product_id = int(self.rpc.product(sku))
        self.rpc.set_quantity(sku, "WH/Stock", self._current())  # makes sure the quant exists
        [qid] = self.rpc("stock.quant", "search", [["product_id", "=", self.rpc.product(sku)],
                                                   ["location_id", "=", self.rpc.location("WH/Stock")]])
        self.quant = int(qid)
        self.count = self._current()
        self.commits: list[float] = []  # commits[n - 1]: time the n-th bump of this run was sent

    def _current(self) -> float:
        return self.rpc.quants(self.sku).get("WH/Stock", (0.0, 0.0))[0]

    def bump(self) -> None:
        self.count += 1
        self.rpc("stock.quant", "write", [self.quant], {"inventory_quantity": self.count})
        sent = time.time()
        self.rpc("stock.quant", "action_apply_inventory", [self.quant])
        self.commits.append(sent)

    def drive(self, count: int, rate: float | None) -> None:
        start = time.monotonic()
        for i in range(count):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self.bump()


def drive_all(adjusters: list[Adjuster], total: int, rate: float | None) -> float:
    """`total` commits spread over the adjusters, each on its own thread; seconds taken."""
    share = [total // len(adjusters) + (1 if i < total % len(adjusters) else 0) for i in range(len(adjusters))]
    threads = [threading.Thread(target=a.drive, args=(n, rate / len(adjusters) if rate else None))
               for a, n in zip(adjusters, share)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return time.monotonic() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@pytest.fixture
def bench_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ProcessStack]:
    stack = start_process_stack(tmp_path, budgets=getattr(request, "param", True))
    try:
        stack.wait_for(lambda: stack.stored_cursor() is not None, timeout=30, what="the first full sync")
        yield stack
    finally:
        stack.stop()


def caught_up(stack: ProcessStack) -> bool:
    """The bridge's durable cursor has reached the ERP's newest outbox event."""
    cursor = stack.stored_cursor()
    high = cursor.get("high") if isinstance(cursor, dict) else cursor
    return bool(high == stack.rpc.last_event_id())


def _shown(stack: ProcessStack) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for sku in PRODUCTS:
        for channel, shown in stack.shown(sku).items():
            if "/" not in channel:
                out[(channel, sku)] = shown.qty
    return out


def _watched(stack: ProcessStack) -> dict[tuple[str, str], tuple[str, str]]:
    """(marketplace, channel sku) -> (channel, product) for the listings the latency is taken on."""
    return {(ref.marketplace, ref.channel_sku): (ref.channel, sku)
            for sku in PRODUCTS for ref in stack.refs[sku] if "6PK" not in ref.channel_sku}


@dataclass
class Split:
    """Where one (commit, channel) latency went (ms)."""

    bridge: float  # the "bridge-added time", conservative: only its own ERP reads out
    strict: float  # also without the waits on the outside it queued behind: stock reads of
    # other wake-ups before it was queued, the channel's answers to earlier requests after
    erp_webhook: float  # commit -> the webhook reached the bridge
    erp_reads: float  # ERP reads on the path, after the webhook arrived
    rate_wait: float  # the marketplace's rate budget (of the push's batch)
    network: float  # hand-over to the adapter -> sandbox receipt


def _splits(traces: dict[str, Any], adjusters: list[Adjuster], stack: ProcessStack,
            watched: dict[tuple[str, str], tuple[str, str]], base: dict[tuple[str, str], int],
            seen: dict[tuple[str, str], list[tuple[float, int]]]) -> tuple[dict[str, list[Split]], str]:
    """Bridge-added time per channel, matching each commit to its outbox event's webhook
    arrival and the channel's receipt to the push trace that carried it."""
    arrivals: dict[int, list[tuple[int, float]]] = {}
    for eid, pid, at in traces["arrivals"]:
        arrivals.setdefault(int(pid), []).append((int(eid), float(at)))
    outside: dict[str, list[tuple[float, float]]] = {}
    for on, lo, hi in traces["waits"]:
        outside.setdefault(str(on), []).append((float(lo), float(hi)))
    pushes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in traces["pushes"]:
        pushes.setdefault((p["channel"], p["channel_sku"]), []).append(p)
    out: dict[str, list[Split]] = {}
    problems: Counter[str] = Counter()
    for (marketplace, channel_sku), (channel, sku) in watched.items():
        adjuster = adjusters[PRODUCTS.index(sku)]
        came = [at for _eid, at in sorted(arrivals.get(adjuster.product_id, []))]
        if len(came) != len(adjuster.commits):
            problems[f"{sku}: {len(came)} wake-ups for {len(adjuster.commits)} commits"] += 1
            continue
        rows = seen.get((marketplace, channel_sku), [])
        trail = sorted(pushes.get((channel, channel_sku), []), key=lambda p: p["handed_at"])
        for n, (sent, arrived) in enumerate(zip(adjuster.commits, came), start=1):
            target = base[(channel, sku)] + n
            if target > CAPPED.get(channel, 10**9):
                continue
            hit = next(((t, q) for t, q in rows if q >= target), None)
            if hit is None:
                continue
            carried = [p for p in trail if p["quantity"] == hit[1] and p["handed_at"] <= hit[0]]
            if not carried:
                problems["receipt without a push trace"] += 1
                continue
            push = carried[-1]
            left = float(push["handed_at"])
            spans = [(float(lo), float(hi)) for lo, hi in push["erp_spans"]]
            reads = erp_overlap(spans, arrived, left)
            queued = min(max(float(push.get("created_at") or left), arrived), left)
            waits = erp_overlap(
                spans
                + _clip(outside.get("erp", []), arrived, queued)  # stock reads it waited behind
                + _clip(outside.get(f"market:{channel}", []), queued, left),  # requests queued behind
                arrived, left)
            out.setdefault(channel, []).append(Split(
                bridge=max(0.0, left - arrived - reads) * 1000,
                strict=max(0.0, left - arrived - waits) * 1000,
                erp_webhook=max(0.0, arrived - sent) * 1000,
                erp_reads=reads * 1000,
                rate_wait=float(push["rate_wait_ms"]),
                network=max(0.0, hit[0] - left) * 1000,
            ))
    return out, "; ".join(f"{k} x{v}" for k, v in problems.items())


def _clip(spans: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def _fmt(phase: dict[str, float] | None) -> str:
    if not phase:
        return "       -"
    return f"p50 {phase['p50']:6.1f}  p99 {phase['p99']:7.1f}  mean {phase['mean']:6.1f}"


@pytest.mark.parametrize("bench_stack", [True, False], ids=["marketplace-budgets", "budgets-lifted"],
                         indirect=True)
def test_bench_commit_to_marketplace_latency_rpc_per_flush_requests_per_burst(
    bench_stack: ProcessStack, request: pytest.FixtureRequest
) -> None:
    stack = bench_stack
    budgets = "budgets-lifted" not in request.node.name
    adjusters = [Adjuster(stack, sku) for sku in PRODUCTS]
    stack.wait_for(lambda: caught_up(stack), timeout=30, what="the bridge to catch up")
    [bridge_uid] = stack.rpc("res.users", "search", [["login", "=", BRIDGE_UID_LOGIN]])
    watched = _watched(stack)
    stack.sandbox.watch(list(watched))
    assert stack.bridge is not None
    base = _shown(stack)
    stack.bridge.reset()
    calls0 = stack.erp.calls(int(bridge_uid))
    m0 = stack.bridge.metrics()

    # -- steady rate -------------------------------------------------------------------------------
    events = int(RATE * DURATION_S)
    took = drive_all(adjusters, events, RATE)
    stack.wait_for(lambda: caught_up(stack), timeout=60, what="the bridge to catch up")
    calls = stack.erp.calls(int(bridge_uid)) - calls0
    metrics = stack.bridge.metrics()
    flushes = metrics["flushes"] - m0["flushes"]
    seen = stack.sandbox.seen()
    latencies: dict[str, list[float]] = {}
    missing = 0
    held = 0
    for (marketplace, channel_sku), (channel, sku) in watched.items():
        rows = seen.get((marketplace, channel_sku), [])
        adjuster = adjusters[PRODUCTS.index(sku)]
        for n, sent in enumerate(adjuster.commits, start=1):
            target = base[(channel, sku)] + n
            if target > CAPPED.get(channel, 10**9):
                continue
            hit = next((t for t, q in rows if q >= target), None)
            if hit is None and channel in REVISION_BUDGETED:
                held += 1
                continue
            if hit is None:
                missing += 1
                print(f"[bench sync] never shown: {channel} {sku} commit {n} (target {target})")
                continue
            latencies.setdefault(channel, []).append(max(0.0, hit - sent) * 1000)
    phases = metrics["phases_ms"]
    every = [ms for values in latencies.values() for ms in values]
    unthrottled = [ms for ch, values in latencies.items()
                   if phases.get(f"rate_limit_wait:{ch}", {}).get("max", 0.0) < 1.0 for ms in values]
    mode = "FULL" if FULL else "quick"
    print(f"\n[bench sync] {mode} mode, "
          + ("marketplace rate budgets ON (sandbox throttles, adapters' documented buckets)" if budgets else
             "REFERENCE RUN with the marketplaces' rate budgets LIFTED (sandbox throttles off, adapters' buckets "
             "wide open; eBay's per-listing revision budget stays)")
          + f": {events} commits in {took:.2f}s ({events / took:.0f}/s asked "
          f"{RATE:.0f}/s) over {len(PRODUCTS)} products, 10 channels; ERP, sandbox, bridge in own processes")
    print(f"[bench sync] END-TO-END commit -> sandbox receipt (incl. ERP outbox/webhook, ERP reads, sandbox), "
          f"all channels: p50 {percentile(every, 50):.1f} ms, p99 {percentile(every, 99):.1f} ms, "
          f"max {max(every):.1f} ms over {len(every)} (commit, channel) pairs")
    print(f"[bench sync] END-TO-END, channels the rate limits never held back: "
          f"p50 {percentile(unthrottled, 50):.1f} ms, p99 {percentile(unthrottled, 99):.1f} ms "
          f"(n={len(unthrottled)}; not bridge-only time: the bridge's own phases follow)")
    # The ERP posts wake-ups on its own thread: on a saturated machine the last ones may still
    # be on their way after the cursor caught up (the outbox, not the webhook, drove it).
    traces: dict[str, Any] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        traces = stack.bridge.traces()
        if len(traces["arrivals"]) >= events:
            break
        time.sleep(0.5)
    splits, problems = _splits(traces, adjusters, stack, watched, base, seen)
    every_split = [x for values in splits.values() for x in values]
    free_split = [x for ch, values in splits.items() if ch in {c for c in latencies}
                  and phases.get(f"rate_limit_wait:{ch}", {}).get("max", 0.0) < 1.0 for x in values]

    def _line(label: str, rows: list[Split]) -> str:
        def pct(attr: str, q: float) -> float:
            return percentile([getattr(r, attr) for r in rows], q)
        return (f"[bench sync] {label:<44} BRIDGE-ADDED p50 {pct('bridge', 50):6.1f} ms  p99 {pct('bridge', 99):6.1f} ms"
                f" (strict p50 {pct('strict', 50):5.1f} p99 {pct('strict', 99):6.1f})"
                f" | commit->webhook p50 {pct('erp_webhook', 50):5.1f} | ERP reads p50 {pct('erp_reads', 50):5.1f}"
                f" | rate wait p99 {pct('rate_wait', 99):6.1f} | adapter->receipt p50 {pct('network', 50):5.1f}"
                f"  (n={len(rows)})")

    print("[bench sync] BRIDGE-ADDED time = webhook arrival -> value handed to the adapter, minus the ERP "
          "reads of the value in between (issue 6 target: p50 <= 20 ms, p99 <= 100 ms); strict: also minus "
          "waits behind earlier flushes' ERP reads and the channel's answers to earlier requests")
    print(_line("all channels", every_split))
    print(_line("channels the rate limits never held back", free_split))
    for channel in sorted(splits):
        print(_line(f"  {channel}", splits[channel]))
    if problems:
        print(f"[bench sync] commits left out of the split: {problems}")
    print("[bench sync] bridge's own phases (ms; issue 6 target for bridge-added time: p50 <= 20, p99 <= 100).")
    print("[bench sync]   per flush (coalesce = wake-up -> flush start, i.e. waiting for the running flush; "
          "feed_read = outbox read with the early snapshot beside it; both ERP round trips, timed by the bridge):")
    for name in FLUSH_PHASES:
        print(f"[bench sync]   {name:<16} {_fmt(phases.get(name))}")
    print("[bench sync]   per listing pushed (http = sandbox round trip; rate_limit_wait = marketplace budget):")
    for name in PUSH_PHASES:
        print(f"[bench sync]   {name:<16} {_fmt(phases.get(name))}")
    print("[bench sync] per channel: commit -> receipt | queue wait | rate-limit wait (marketplace budget) | http")
    for channel in sorted(latencies):
        values = latencies[channel]
        print(f"[bench sync]   {channel:<12} p50 {percentile(values, 50):7.1f} p99 {percentile(values, 99):7.1f}"
              f" | q p50 {phases.get(f'queue_wait:{channel}', {}).get('p50', 0):6.1f}"
              f" p99 {phases.get(f'queue_wait:{channel}', {}).get('p99', 0):7.1f}"
              f" | rl p99 {phases.get(f'rate_limit_wait:{channel}', {}).get('p99', 0):7.1f}"
              f" | http p50 {phases.get(f'http:{channel}', {}).get('p50', 0):5.1f}  n={len(values)}")
    fast = metrics.get("fast_reads", 0) - m0.get("fast_reads", 0)
    total = sum(calls.values())
    print(f"[bench sync] flushes (outbox reads that found entries) {flushes} for {events} commits "
          f"({events / max(1, flushes):.1f} commits/flush), fast-path reads {fast}; bridge RPC calls {total} = "
          f"{total / max(1, flushes):.1f} per flush, {total / max(1, flushes + fast):.1f} per read, "
          f"{total / max(1, events):.2f} per commit (incl. outbox reads and status write-back; status batches "
          f"{metrics['status_writes'] - m0['status_writes']})")
    print(f"[bench sync]   calls by method: {dict(calls.most_common(8))}")
    print(f"[bench sync] held by eBay's daily revision budget (parked, latest wins): {held} (commit, channel) pairs")
    assert missing == 0, f"{missing} (commit, channel) pairs never reached the marketplace"

    if not budgets:
        return  # the burst's request count is only meaningful with the real budgets

    # -- burst -----------------------------------------------------------------------------------
    since = time.time()
    calls0 = stack.erp.calls(int(bridge_uid))
    took = drive_all(adjusters, BURST, None)
    stack.wait_for(lambda: caught_up(stack), timeout=120, what="the bridge to catch up after the burst")
    calls = stack.erp.calls(int(bridge_uid)) - calls0
    requests = [r for r in stack.admin.requests(None, since) if r.get("operation") != "token"]
    by_market = Counter(str(r["marketplace"]) for r in requests)
    print(f"[bench sync] burst of {BURST} commits sent in {took:.2f}s: {calls[SNAPSHOT]} flushes, "
          f"{sum(calls.values())} bridge RPC calls, {len(requests)} marketplace requests in total")
    print(f"[bench sync]   requests per marketplace: {dict(sorted(by_market.items()))}")
    final = _shown(stack)
    for (channel, sku), start_qty in base.items():
        want = min(start_qty + len(adjusters[PRODUCTS.index(sku)].commits), CAPPED.get(channel, 10**9))
        if channel in REVISION_BUDGETED:
            assert final[(channel, sku)] <= want, (channel, sku, final[(channel, sku)], want)
        else:
            assert final[(channel, sku)] == want, (channel, sku, final[(channel, sku)], want)
