"""`stock-bridge explain`: how a SKU's number is made, live from the ERP, else as stored."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from connector.cli import common
from connector.cli.common import EXIT_OK, EXIT_USAGE, fail
from connector.config import BridgeConfig
from connector.state.errors import StateError
from connector.state.sqlite import StateStore
from connector.sync.reports import render_explanations, stored_explanations


def explain(args: argparse.Namespace) -> int:
    """How a SKU's number is made, per channel: live from the ERP, else the stored one."""
    config = common.config_for(args)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    refused = common.unknown_channel(args, config, [args.channel] if args.channel else [])
    if refused is not None:
        return refused
    items: list[dict[str, Any]] = []
    problem: str | None = None
    try:
        items = _explain_live(config, args.sku, args.channel)
    except Exception as exc:  # ERP down: fall back to what the state file remembers
        reason = " ".join(str(exc).split()) or type(exc).__name__
        problem = f"ERP unreachable ({reason}); showing the explanation stored with the last push"
    if not items:
        try:
            store = StateStore.open(config.bridge.state_path, read_only=True)
        except StateError:
            store = None
        if store is not None:
            items = stored_explanations(store, args.sku, args.channel)
            store.close()
    if not items:
        where = f" on channel {args.channel}" if args.channel else ""
        return fail(args, f"stock-bridge explain: unknown SKU {args.sku}: no listing{where}", EXIT_USAGE,
                    note=problem)
    delays = _channel_delays(config, {str(item.get("channel_code") or item.get("channel") or "")
                                      for item in items})
    if args.json:
        common.dump({"sku": args.sku, "channel": args.channel, "note": problem, "listings": items,
                     "delays": delays})
    else:
        if problem:
            print(problem, file=sys.stderr)
        print(render_explanations(items))
        for code, delay in sorted(delays.items()):
            hour = delay["hour"]
            last = ", ".join(f"{ms:.0f}" for ms in delay["last_ms"])
            print(f"delay {code}: p50 {hour['p50_ms']} ms, p99 {hour['p99_ms']} ms over the last hour "
                  f"({hour['count']} pushes); last: {last} ms")
    return EXIT_OK


def _channel_delays(config: BridgeConfig, channels: set[str]) -> dict[str, Any]:
    """The measured delays (wake-up -> accepted) of these channels, from the state file."""
    from connector.sync.delay_recorder import delay_report

    try:
        store = StateStore.open(config.bridge.state_path, read_only=True)
    except StateError:
        return {}
    try:
        report = delay_report(store)
    finally:
        store.close()
    return {code: report[code] for code in channels if code in report and report[code]["hour"]["count"]}


# A reporting command reads the ERP at most this long per call, and never retries: when
# the ERP is down or hangs, the stored answer now beats the live one in two minutes.
LIVE_READ_TIMEOUT_S = 3.0


def quick_erp_config(config: BridgeConfig, timeout_s: float = LIVE_READ_TIMEOUT_S) -> BridgeConfig:
    """`config` with the ERP timeout cut to `timeout_s` (for reads a person waits on).

    Usage: ``connect(quick_erp_config(config).erp, retry=RetryPolicy(attempts=1))``
    """
    erp = config.erp.model_copy(update={"timeout_s": min(config.erp.timeout_s, timeout_s)})
    return config.model_copy(update={"erp": erp})


def _explain_live(
    config: BridgeConfig, sku: str, channel: str | None, timeout_s: float = LIVE_READ_TIMEOUT_S
) -> list[dict[str, Any]]:
    """The live explanation: one ERP connection, each call bounded by `timeout_s`, no retry."""
    from connector.erp.client import connect
    from connector.erp.source import StockSource
    from connector.erp.transport import RetryPolicy
    from connector.stock.compute import compute_listings
    from connector.sync.explain import explain_sku, ledger_previous_action
    from connector.sync.ledger import ListingLedger
    from connector.sync.plan import bind_compute
    from connector.sync.wiring import marketplace_caps, zero_stock_defaults

    quick = quick_erp_config(config, timeout_s)
    client = connect(quick.erp, retry=RetryPolicy(attempts=1))
    try:
        source = StockSource(client, quick)
        compute = bind_compute(compute_listings, zero_stock_defaults(), marketplace_caps())
        path = Path(config.bridge.state_path)
        with tempfile.TemporaryDirectory(prefix="stock-bridge-") as scratch:
            if path.exists():
                store = StateStore.open(path, read_only=True)
            else:  # never ran: an empty throw-away state, so explain still works
                store = StateStore.open(Path(scratch) / "state.sqlite3")
            try:
                previous = ledger_previous_action(ListingLedger.load(store))
                return explain_sku(source, compute, store, previous, sku, channel)
            finally:
                store.close()
    finally:
        client.close()
