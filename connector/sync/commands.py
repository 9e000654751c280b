"""The bridge's subcommands: run, resync, explain, status, timeline (`demo`: connector.sync.demo).

Each takes the parsed argparse namespace and returns an exit code (0 ok, 1 failure,
2 bad usage/config — a ConfigError raised here is turned into one line by connector.cli).
Reporting commands print a table, or with --json one JSON document on stdout.

Usage::

    stock-bridge run                       # embedded default: mock ERP + sandbox + bridge
    stock-bridge resync --sku MUG-1 --dry-run --json   # sent to a running bridge, if any
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from connector.config import ENV_CONFIG, BridgeConfig, load_config
from connector.sync.remote import RemoteError, remote_resync, running_bridge
from connector.sync.report import ResyncReport
from connector.sync.reports import (
    parse_since,
    render_explanations,
    render_status,
    render_timeline,
    status_report,
    stored_explanations,
    timeline_report,
)
from connector.state.errors import StateError, StateLocked
from connector.state.rows import PushRecord
from connector.state.sqlite import StateStore

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("connector.cli")


def _config(args: argparse.Namespace) -> BridgeConfig:
    """The config named by --config or the environment; without one, the config a running
    embedded `run` published (its real ports and state), else the embedded default."""
    if _uses_embedded(args) and getattr(args, "command", None) != "run":
        from connector.defaults import running_embedded_config

        published = running_embedded_config()
        if published is not None:
            return load_config(published)
    return load_config(getattr(args, "config", None))


def _uses_embedded(args: argparse.Namespace) -> bool:
    import os

    return getattr(args, "config", None) is None and not os.environ.get(ENV_CONFIG)


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "apscheduler", "urllib3", "connector.mock_erp", "connector.sandbox"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The live table on stdout already says what each push did.
    logging.getLogger("connector.sync.engine").setLevel(logging.WARNING)


def _dump(data: Any, out: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, default=str), file=out or sys.stdout)


def fail(args: argparse.Namespace, message: str, code: int = EXIT_FAILURE, **extra: Any) -> int:
    """One line on stderr and, with --json, `{"error": message, ...}` on stdout; returns `code`.

    Usage: ``return fail(args, "stock-bridge status: state file missing")``
    """
    print(message, file=sys.stderr)
    if getattr(args, "json", False):
        _dump({"error": message, **extra})
    return code


def _erp_failure(args: argparse.Namespace, config: BridgeConfig, exc: Exception) -> int:
    return fail(args, f"stock-bridge: cannot use the ERP at {config.erp.url}: {exc}")


def known_channels(config: BridgeConfig, extra: Any = ()) -> set[str]:
    """Channel codes a command may name: the config's sections, the channels the state file
    has listings of (the ERP's, as last synced) and `extra` (e.g. the ERP's, read now)."""
    codes = set(config.channels) | set(extra)
    try:
        store = StateStore.open(config.bridge.state_path, read_only=True)
    except StateError:
        return codes
    try:
        codes |= set(store.channel_summary())
    finally:
        store.close()
    return codes


def _unknown_channel(args: argparse.Namespace, config: BridgeConfig, wanted: list[str], extra: Any = ()) -> int | None:
    """EXIT_USAGE (after one line naming it) when a --channel is not a known channel code."""
    if not wanted:
        return None
    known = known_channels(config, extra)
    unknown = [c for c in wanted if c not in known]
    if not unknown:
        return None
    names = ", ".join(sorted(known)) or "none yet"
    return fail(args, f"stock-bridge {args.command}: unknown channel {', '.join(unknown)} (known: {names})",
                EXIT_USAGE)


# -- tables -------------------------------------------------------------------------------------


def render_report(report: ResyncReport) -> str:
    """The changes of a resync as a table, then one summary line."""
    lines = []
    if report.changes:
        lines.append(
            f"{'channel':<13} {'sku':<18} {'channel sku':<24} {'old':>5}    {'new':<5} {'action':<10} result"
        )
        for c in report.changes:
            old = "-" if c.old_qty is None else str(c.old_qty)
            result = c.result or ("would push" if report.dry_run else "-")
            message = f"  {c.message}" if c.message else ""
            lines.append(
                f"{c.channel_code:<13} {c.sku[:18]:<18} {c.channel_sku[:24]:<24} {old:>5} -> "
                f"{c.new_qty:<5} {c.action:<10} {result}{message}"
            )
    verb = "would change" if report.dry_run else "changed"
    summary = f"{report.checked} listing(s) checked, {len(report.changes)} {verb}, {report.unchanged} unchanged"
    if report.drifted:
        summary += f", {len(report.drifted)} drifted on the marketplace and corrected"
    lines.append(summary)
    for sku in report.oversold:
        lines.append(f"ALERT: {sku} is oversold in the ERP (negative free stock): 0 published everywhere")
    for sku in report.unknown_skus:
        lines.append(f"unknown SKU: {sku}")
    lines.extend(f"error: {e}" for e in report.errors)
    if not report.complete:
        lines.append("some pushes were still in flight when this report was made (see `status`)")
    return "\n".join(lines)


def _live_line(o: PushRecord) -> str:
    old = "-" if o.old_qty is None else str(o.old_qty)
    state = "" if o.result == "ok" else f"  [{o.state}] {o.message}"
    return (
        f"{time.strftime('%H:%M:%S')}  {o.meta.channel_code:<12} {o.meta.sku:<18} "
        f"{old:>4} -> {o.quantity:<4} {o.action}{state}"
    )


class _Progress:
    """A one-line progress bar on stderr, shown only when a resync takes a while."""

    def __init__(self, out: TextIO, after_s: float = 1.5) -> None:
        self.out = out
        self.started = time.monotonic()
        self.after_s = after_s
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and time.monotonic() - self.started < self.after_s:
            return  # short runs stay quiet
        self.shown = True
        width = 30
        filled = int(width * done / total) if total else width
        self.out.write(f"\rresync [{'#' * filled}{'.' * (width - filled)}] {done}/{total} products")
        if done >= total:
            self.out.write("\n")
        self.out.flush()


# -- run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run the bridge until Ctrl-C / SIGTERM (no config: the whole embedded stack)."""
    from connector.erp.errors import ErpError
    from connector.sync.service import Bridge

    _logging(getattr(args, "verbose", False))
    stack = None
    if _uses_embedded(args):
        from connector.defaults import start_embedded

        # The mock ERP and the sandbox restart from the fixtures, so the bridge's memory
        # must too: a fresh state per embedded run (start_embedded picks it).
        stack = start_embedded()
        config = stack.config
        print(f"mock ERP (Odoo protocol) {stack.erp.url}  database {config.erp.database}, login {config.erp.username}")
        print(f"marketplace sandbox      {stack.sandbox.url}  (state: {stack.sandbox.url}/_sandbox/state)")
    else:
        config = _config(args)
    from connector.sync.wiring import validate_channels

    validate_channels(config)
    stopping = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    bridge = Bridge(config)
    try:
        try:
            report = bridge.start()
        except ErpError as exc:
            return _erp_failure(args, config, exc)
        except StateLocked as exc:
            return fail(args, f"stock-bridge run: {exc}")
        if stack is not None:
            stack.connect_webhook(bridge.trigger_url)
            stack.publish(bridge.listener_url)
        print(f"bridge                   {bridge.listener_url}  (POST /v1/triggers, GET /v1/health)")
        fresh = "  (fresh for this run: the mock ERP and sandbox start from the fixtures)" if stack else ""
        print(f"state                    {config.bridge.state_path}{fresh}")
        print()
        if report is not None:
            print("first full sync:")
            print(render_report(report))
        print("\nlive: stock changes in the ERP are pushed as they happen (Ctrl-C to stop)")
        sys.stdout.flush()

        def _echo(outcome: PushRecord) -> None:
            print(_live_line(outcome), flush=True)

        bridge.add_listener(_echo)
        while not stopping.wait(0.5):
            pass
        print("stopping...", file=sys.stderr)
        return EXIT_OK
    finally:
        bridge.stop()
        if stack is not None:
            stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- resync / explain ---------------------------------------------------------------------------


def resync(args: argparse.Namespace) -> int:
    """Recompute and push; --dry-run only reports.

    When a bridge is running on the configured listener, it does the resync (one process
    writes the state file); otherwise it runs here, in this process.
    """
    if not args.all and not args.sku:
        return fail(args, "stock-bridge resync: say which: --sku S (repeatable) or --all", EXIT_USAGE)
    config = _config(args)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    progress = None if args.json else _Progress(sys.stderr)
    running = running_bridge(config)
    if running is not None:
        refused = _unknown_channel(args, config, args.channel)
        if refused is not None:
            return refused
        try:
            report = remote_resync(
                running, config.webhook_secret(), skus=None if args.all else args.sku,
                channels=args.channel or None, force=args.force, dry_run=args.dry_run, progress=progress,
            )
        except RemoteError as exc:
            return fail(args, f"stock-bridge resync: {exc}")
    else:
        local = _local_resync(config, args, progress)
        if isinstance(local, int):
            return local
        report = local
    if report.unknown_skus:
        # The known SKUs were resynced; naming an unknown one is still a usage error.
        return fail(args, f"stock-bridge resync: unknown SKU {', '.join(report.unknown_skus)} (not in the ERP)",
                    EXIT_USAGE, report=report.to_dict())
    if args.json:
        _dump(report.to_dict())
    else:
        print(render_report(report))
    return EXIT_OK if report.ok and not report.failed_changes() else EXIT_FAILURE


def _local_resync(
    config: BridgeConfig, args: argparse.Namespace, progress: _Progress | None
) -> ResyncReport | int:
    from connector.erp.errors import ErpError
    from connector.sync.service import Bridge

    from connector.sync.wiring import validate_channels

    validate_channels(config)
    bridge = Bridge(config, listen=False, schedule=False)
    try:
        bridge.start(initial_sync=False, live=False)
        refused = _unknown_channel(args, config, args.channel, _erp_channels(bridge))
        if refused is not None:
            return refused
        return bridge.resync(
            skus=None if args.all else args.sku,
            channels=args.channel or None,
            force=args.force,
            dry_run=args.dry_run,
            progress=progress,
        )
    except ErpError as exc:
        return _erp_failure(args, config, exc)
    except StateLocked as exc:
        return fail(args, f"stock-bridge resync: {exc}")
    finally:
        bridge.stop()


def _erp_channels(bridge: Any) -> set[str]:
    """The channel codes the ERP has now (a started bridge's stock source)."""
    engine = getattr(bridge, "engine", None)
    if engine is None:
        return set()
    try:
        snapshot = engine.deps.source.snapshot([])
    except Exception:  # unknown then: the config and the state file decide
        return set()
    return {channel.code for channel in snapshot.channels.values()}


def explain(args: argparse.Namespace) -> int:
    """How a SKU's number is made, per channel: live from the ERP, else the stored one."""
    config = _config(args)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    refused = _unknown_channel(args, config, [args.channel] if args.channel else [])
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
    if args.json:
        _dump({"sku": args.sku, "channel": args.channel, "note": problem, "listings": items})
    else:
        if problem:
            print(problem, file=sys.stderr)
        print(render_explanations(items))
    return EXIT_OK


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
    from connector.sync.engine import Engine, EngineDeps
    from connector.sync.wiring import marketplace_caps, settings_from_config, zero_stock_defaults

    quick = quick_erp_config(config, timeout_s)
    client = connect(quick.erp, retry=RetryPolicy(attempts=1))
    try:
        deps = EngineDeps(
            source=StockSource(client, quick),
            compute=compute_listings,
            adapter_factory=_no_pushes,
            zero_stock_defaults=zero_stock_defaults(),
            marketplace_caps=marketplace_caps(),
        )
        path = Path(config.bridge.state_path)
        with tempfile.TemporaryDirectory(prefix="stock-bridge-") as scratch:
            if path.exists():
                store = StateStore.open(path, read_only=True)
            else:  # never ran: an empty throw-away state, so explain still works
                store = StateStore.open(Path(scratch) / "state.sqlite3")
            try:
                return Engine(deps, settings_from_config(config), store).explain(sku, channel)
            finally:
                store.close()
    finally:
        client.close()


def _no_pushes(code: str, marketplace: str) -> Any:
    raise RuntimeError("explain never talks to a marketplace")


# -- status / timeline (state file only) --------------------------------------------------------


def _open_read_only(args: argparse.Namespace, config: BridgeConfig) -> StateStore | int:
    try:
        return StateStore.open(config.bridge.state_path, read_only=True)
    except StateError as exc:
        return fail(args, f"stock-bridge: {exc}")


def status(args: argparse.Namespace) -> int:
    store = _open_read_only(args, _config(args))
    if isinstance(store, int):
        return store
    try:
        report = status_report(store)
    finally:
        store.close()
    if args.json:
        _dump(report)
    else:
        print(render_status(report))
    return EXIT_OK


def timeline(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        return fail(args, f"stock-bridge timeline: {exc}", EXIT_USAGE)
    store = _open_read_only(args, _config(args))
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
        _dump({"sku": args.sku, "since": since, "entries": rows})
    else:
        print(render_timeline(rows))
    return EXIT_OK
