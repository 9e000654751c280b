"""`stock-bridge mock-erp`: serve the mock ERP in the foreground until Ctrl-C.

Usage::

    stock-bridge mock-erp --port 8069 --odoo-version 17.0 \
        --webhook-url http://127.0.0.1:8765/v1/triggers --webhook-secret s3cret
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from connector.config import ConfigError
from connector.mock_erp.database import FixtureError
from connector.mock_erp.schema import DEFAULT_VERSION, SUPPORTED_VERSIONS
from connector.mock_erp.server import start_mock_erp


def main(args: argparse.Namespace) -> int:
    version = getattr(args, "odoo_version", None) or DEFAULT_VERSION
    if version not in SUPPORTED_VERSIONS:
        raise ConfigError(f"--odoo-version: {version!r} is not one of {', '.join(SUPPORTED_VERSIONS)}")
    webhook_url = getattr(args, "webhook_url", None)
    webhook_secret = getattr(args, "webhook_secret", None)
    if webhook_url and not webhook_secret:
        raise ConfigError("--webhook-url needs --webhook-secret (the bridge rejects unsigned wake-ups)")
    fixtures = getattr(args, "fixtures", None)
    if fixtures is not None and not Path(fixtures).is_dir():
        raise ConfigError(f"--fixtures: {fixtures} is not a directory")
    if fixtures is not None:
        _check_json(Path(fixtures))
    try:
        erp = start_mock_erp(fixtures=fixtures, host=getattr(args, "host", "127.0.0.1"),
                             port=getattr(args, "port", 8069), version=version,
                             webhook_url=webhook_url, webhook_secret=webhook_secret)
    except FixtureError as exc:  # the fixtures given are unusable: bad input, not a failure
        raise ConfigError(f"--fixtures: {' '.join(str(exc).split())}") from None
    except OSError as exc:  # e.g. the port is taken
        print(f"stock-bridge mock-erp: {exc}", file=sys.stderr)
        return 1
    print(f"mock ERP (Odoo {erp.version}) serving {erp.url} database {erp.database!r}; "
          "users admin/admin, bridge/bridge; Ctrl-C stops", flush=True)
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, which Python
    # then leaves ignored; and SIGTERM (docker stop, systemd) should stop it cleanly too.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        erp.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _check_json(fixtures: Path) -> None:
    """A ConfigError naming the first fixture file that is not JSON (the loader would only
    say where in which line, not which file)."""
    for path in sorted(fixtures.glob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"--fixtures: {path}: not readable JSON: {exc}") from None
