"""`stock-bridge sandbox [--host H] [--port P] [--seed F]`: run the sandbox until Ctrl-C.

Without --seed it serves the demo seed (connector/sandbox/demo_seed.json) when present.
Usage: ``stock-bridge sandbox --port 8780``
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from connector.sandbox.server import APIS, channel_urls, start_sandbox

DEMO_SEED = Path(__file__).with_name("demo_seed.json")


def main(args: argparse.Namespace) -> int:
    seed: Path | None = getattr(args, "seed", None)
    if seed is None and DEMO_SEED.exists():
        seed = DEMO_SEED
    if seed is not None and not Path(seed).is_file():
        print(f"stock-bridge sandbox: seed file {seed} not found", file=sys.stderr)
        return 2
    try:
        running = start_sandbox(host=getattr(args, "host", "127.0.0.1"), port=int(getattr(args, "port", 0)), seed=seed)
    except OSError as exc:
        print(f"stock-bridge sandbox: cannot listen: {exc}", file=sys.stderr)
        return 1
    print(f"sandbox listening on {running.url} (admin: {running.url}/_sandbox/state)")
    for name in APIS:
        print(f"  {name:12} " + "  ".join(f"{k}={v}" for k, v in channel_urls(running.url, name).items()))
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0
