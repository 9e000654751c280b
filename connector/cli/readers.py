"""`stock-bridge status` and `timeline`: read the state file only (never the ERP)."""

from __future__ import annotations

import argparse

from connector.cli import common
from connector.cli.common import EXIT_OK, EXIT_USAGE, fail
from connector.sync.reports import parse_since, render_status, render_timeline, status_report, timeline_report


def status(args: argparse.Namespace) -> int:
    config = common.config_for(args)
    store = common.open_read_only(args, config)
    if isinstance(store, int):
        return store
    try:
        report = status_report(store, key_warn_days=config.erp.key_expiry_warn_days)
    finally:
        store.close()
    if args.json:
        common.dump(report)
    else:
        print(render_status(report))
    return EXIT_OK


def timeline(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        return fail(args, f"stock-bridge timeline: {exc}", EXIT_USAGE)
    store = common.open_read_only(args, common.config_for(args))
    if isinstance(store, int):
        return store
    try:
        rows = timeline_report(store, args.sku, since)
        known = bool(rows) or bool(store.listings(sku=args.sku)) or bool(timeline_report(store, args.sku))
    finally:
        store.close()
    if not known:
        return fail(args, f"stock-bridge timeline: unknown SKU {args.sku}: no listing or push in {store.path}",
                    EXIT_USAGE)
    if args.json:
        common.dump({"sku": args.sku, "since": since, "entries": rows})
    else:
        print(render_timeline(rows))
    return EXIT_OK
