"""`stock-bridge run`: the bridge until Ctrl-C / SIGTERM (no config: the embedded stack)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from connector.cli import common
from connector.cli.common import EXIT_OK, fail
from connector.cli.render import live_line, render_report
from connector.state.errors import StateLocked
from connector.state.rows import PushRecord


def run(args: argparse.Namespace) -> int:
    """Run the bridge until Ctrl-C / SIGTERM (no config: the whole embedded stack)."""
    from connector.erp.errors import ErpError
    from connector.sync.service import Bridge

    common.setup_logging(getattr(args, "verbose", False))
    stack = None
    if common.uses_embedded(args):
        from connector.launcher import start_embedded

        # The mock ERP and the sandbox restart from the fixtures, so the bridge's memory
        # must too: a fresh state per embedded run (start_embedded picks it).
        stack = start_embedded()
        config = stack.config
        print(f"mock ERP (Odoo protocol) {stack.erp.url}  database {config.erp.database}, login {config.erp.username}")
        print(f"marketplace sandbox      {stack.sandbox.url}  (state: {stack.sandbox.url}/_sandbox/state)")
    else:
        config = common.config_for(args)
    from connector.sync.channel_keys import validate_channels

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
            return common.erp_failure(args, config, exc)
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
            print(live_line(outcome), flush=True)

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

