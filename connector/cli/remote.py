"""Talking to a bridge that is already running: is one listening, and "resync, please".

`stock-bridge resync` must not open the state file for writing while `stock-bridge run`
has it: two writers would each keep their own idea of what every listing last received.
So the CLI first asks the configured listener's `GET /v1/health`; if a bridge answers,
the resync is sent to it (`POST /v1/resync`, signed with a timestamp: connector.sync.webhook) and its streamed
report is printed; only when none answers does the CLI resync in its own process.

Usage::

    url = running_bridge(config)          # "http://127.0.0.1:8765" or None
    if url: report = remote_resync(url, config.webhook_secret(), skus=["MUG-1"])
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from connector.config import BridgeConfig
from connector.sync.report import ResyncReport
from connector.sync.webhook import KEEPALIVE_S, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_timestamped

PROBE_TIMEOUT_S = 1.0
SERVICE = "stock-bridge"


class RemoteError(Exception):
    """The running bridge could not do the resync (message says why and what to do)."""


def listener_base(config: BridgeConfig) -> str | None:
    """Where the configured listener is reachable from this host; None for port 0."""
    host, port = config.bridge.listen_host, config.bridge.listen_port
    if port == 0:
        return None  # a random port: nobody else can know it
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def running_bridge(config: BridgeConfig, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """The base URL of a bridge answering on the configured listener, else None."""
    base = listener_base(config)
    if base is None:
        return None
    try:
        reply = requests.get(f"{base}/v1/health", timeout=timeout_s)
        data = reply.json()
    except (requests.RequestException, ValueError):
        return None
    return base if isinstance(data, dict) and data.get("service") == SERVICE else None


def remote_resync(
    base_url: str,
    secret: str | None,
    *,
    skus: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ResyncReport:
    """Ask the running bridge at `base_url` to resync; returns its report."""
    if not secret:
        raise RemoteError(
            f"a bridge is running at {base_url}, but no webhook_secret is configured to sign the "
            "request; set bridge.webhook_secret (or STOCK_BRIDGE_WEBHOOK_SECRET), or stop the bridge"
        )
    body = json.dumps({
        "skus": list(skus) if skus is not None else None,
        "channels": list(channels) if channels else None,
        "force": force,
        "dry_run": dry_run,
    }).encode()
    stamp = int(time.time())
    headers = {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign_timestamped(body, secret, stamp),
        "Content-Type": "application/json",
    }
    try:
        with requests.post(
            f"{base_url}/v1/resync", data=body, headers=headers, stream=True,
            timeout=(5.0, KEEPALIVE_S * 6),  # keep-alive lines arrive every KEEPALIVE_S
        ) as reply:
            if reply.status_code != 200:
                raise RemoteError(
                    f"the bridge at {base_url} refused the resync (HTTP {reply.status_code}: "
                    f"{_error_of(reply)})"
                )
            for line in reply.iter_lines():
                if not line:
                    continue
                item = json.loads(line)
                if "progress" in item and progress is not None:
                    progress(int(item["progress"]["done"]), int(item["progress"]["total"]))
                elif "report" in item:
                    return ResyncReport.from_dict(item["report"])
                elif "error" in item:
                    raise RemoteError(f"the bridge at {base_url} failed the resync: {item['error']}")
    except requests.RequestException as exc:
        raise RemoteError(f"lost the bridge at {base_url} during the resync: {type(exc).__name__}") from None
    raise RemoteError(f"the bridge at {base_url} ended the resync without a report (see its log)")


def _error_of(reply: requests.Response) -> Any:
    try:
        data = reply.json()
    except ValueError:
        return reply.text[:200]
    return data.get("error") if isinstance(data, dict) else data
