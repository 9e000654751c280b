"""`stock-bridge resync`: recompute and push, through a running bridge when there is one."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from connector.cli import common
from connector.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, fail
from connector.cli.remote import RemoteError, remote_resync, running_bridge
from connector.cli.render import Progress, render_report
from connector.config import BridgeConfig
from connector.state.errors import StateLocked
from connector.sync.report import ResyncReport


def resync(args: argparse.Namespace) -> int:
    """Recompute and push; --dry-run only reports.

    When a bridge is running on the configured listener, it does the resync (one process
    writes the state file); otherwise it runs here, in this process.
    """
    if not args.all and not args.sku and not args.channel:
        return fail(args, "stock-bridge resync: say which: --sku S, --channel C (repeatable) or --all",
                    EXIT_USAGE)
    config = common.config_for(args)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    progress = None if args.json else Progress(sys.stderr)
    running = running_bridge(config)
    if running is not None:
        refused = common.unknown_channel(args, config, args.channel)
        if refused is not None:
            return refused
        try:
            report = remote_resync(
                running, config.webhook_secret(), skus=None if args.all or not args.sku else args.sku,
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
        common.dump(report.to_dict())
    else:
        print(render_report(report))
    return EXIT_OK if report.ok and not report.failed_changes() else EXIT_FAILURE


def _local_resync(
    config: BridgeConfig, args: argparse.Namespace, progress: Progress | None
) -> ResyncReport | int:
    from connector.erp.errors import ErpError
    from connector.sync.service import Bridge

    from connector.sync.channel_keys import validate_channels

    validate_channels(config)
    bridge = Bridge(config, listen=False, schedule=False)
    try:
        bridge.start(initial_sync=False, live=False)
        refused = common.unknown_channel(args, config, args.channel, _erp_channels(bridge))
        if refused is not None:
            return refused
        return bridge.resync(
            skus=None if args.all or not args.sku else args.sku,
            channels=args.channel or None,
            force=args.force,
            dry_run=args.dry_run,
            progress=progress,
        )
    except ErpError as exc:
        return common.erp_failure(args, config, exc)
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
