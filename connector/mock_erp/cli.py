"""`stock-bridge mock-erp`: serve the mock ERP in the foreground until Ctrl-C.

Usage::

    stock-bridge mock-erp --port 8069 --odoo-version 17.0 \
        --webhook-url http://127.0.0.1:8765/v1/triggers --webhook-secret s3cret
"""

from __future__ import annotations

import argparse
import sys
import threading

from connector.config import ConfigError
from connector.mock_erp.database import FixtureError
from connector.mock_erp.schema import SUPPORTED_VERSIONS
from connector.mock_erp.server import start_mock_erp


def main(args: argparse.Namespace) -> int:
    version = getattr(args, "odoo_version", None) or "19.0"
    if version not in SUPPORTED_VERSIONS:
        raise ConfigError(f"--odoo-version: {version!r} is not one of {', '.join(SUPPORTED_VERSIONS)}")
    webhook_url = getattr(args, "webhook_url", None)
    webhook_secret = getattr(args, "webhook_secret", None)
    if webhook_url and not webhook_secret:
        raise ConfigError("--webhook-url needs --webhook-secret (the bridge rejects unsigned wake-ups)")
    try:
        erp = start_mock_erp(fixtures=getattr(args, "fixtures", None), host=getattr(args, "host", "127.0.0.1"),
                             port=getattr(args, "port", 8069), version=version,
                             webhook_url=webhook_url, webhook_secret=webhook_secret)
    except (FixtureError, OSError) as exc:
        print(f"stock-bridge mock-erp: {exc}", file=sys.stderr)
        return 1
    print(f"mock ERP (Odoo {erp.version}) serving {erp.url} database {erp.database!r}; "
          "users admin/admin, bridge/bridge; Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        erp.stop()
    return 0
