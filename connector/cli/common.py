"""What every subcommand shares: the config it runs on, exit codes, errors and --json output.

Subcommands call `common.config_for(args)` through the module (not a copied name), so a test
can replace it in one place.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, TextIO

from connector.config import ENV_CONFIG, BridgeConfig, load_config
from connector.state.errors import StateError
from connector.state.sqlite import StateStore

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def config_for(args: argparse.Namespace) -> BridgeConfig:
    """The config named by --config or the environment; without one, the config a running
    embedded `run` published (its real ports and state), else the embedded default."""
    if uses_embedded(args) and getattr(args, "command", None) != "run":
        from connector.launcher import running_embedded_config

        published = running_embedded_config()
        if published is not None:
            return load_config(published)
    return load_config(getattr(args, "config", None))


def uses_embedded(args: argparse.Namespace) -> bool:
    return getattr(args, "config", None) is None and not os.environ.get(ENV_CONFIG)


def setup_logging(verbose: bool = False) -> None:
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


def dump(data: Any, out: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, default=str), file=out or sys.stdout)


def fail(args: argparse.Namespace, message: str, code: int = EXIT_FAILURE, **extra: Any) -> int:
    """One line on stderr and, with --json, `{"error": message, ...}` on stdout; returns `code`.

    Usage: ``return fail(args, "stock-bridge status: state file missing")``
    """
    print(message, file=sys.stderr)
    if getattr(args, "json", False):
        dump({"error": message, **extra})
    return code


def erp_failure(args: argparse.Namespace, config: BridgeConfig, exc: Exception) -> int:
    from connector.erp.errors import AuthenticationError
    from connector.sync.key_expiry import refused_at_start

    # One line, whatever Odoo's text looked like (its messages run over several lines).
    text = refused_at_start(config) if isinstance(exc, AuthenticationError) else " ".join(str(exc).split())
    return fail(args, f"stock-bridge: cannot use the ERP at {config.erp.url}: {text}")


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


def unknown_channel(args: argparse.Namespace, config: BridgeConfig, wanted: list[str], extra: Any = ()) -> int | None:
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


def open_read_only(args: argparse.Namespace, config: BridgeConfig) -> StateStore | int:
    try:
        return StateStore.open(config.bridge.state_path, read_only=True)
    except StateError as exc:
        return fail(args, f"stock-bridge: {exc}")
