"""`stock-bridge`: the command line (DESIGN.md's contract).

Exit codes: 0 ok, 1 failure, 2 bad usage or config (one line saying why).
Each subcommand lives in its own module of this package (run, resync, explain, readers,
demo); this one only parses and routes. A new subcommand: its module with a function
`(args) -> exit code`, its parser lines in `build_parser`, one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from connector.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from connector.config import ConfigError

# subcommand -> "module:function"; the function takes the parsed args and returns an exit code.
COMMANDS: dict[str, str] = {
    "run": "connector.cli.run:run",
    "demo": "connector.cli.demo:main",
    "resync": "connector.cli.resync:resync",
    "explain": "connector.cli.explain:explain",
    "status": "connector.cli.readers:status",
    "timeline": "connector.cli.readers:timeline",
    "mock-erp": "connector.mock_erp.cli:main",
    "sandbox": "connector.sandbox.cli:main",
    "advise": "connector.risk.commands:advise",
    "simulate": "connector.risk.commands:simulate",
}


class _Parser(argparse.ArgumentParser):
    json_errors = False  # set by main() when the command line asks for --json

    def error(self, message: str) -> None:  # type: ignore[override]
        if _Parser.json_errors:
            print(json.dumps({"error": f"{self.prog}: {message}"}))
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is not in 0-65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stock-bridge", description=__doc__.splitlines()[0] if __doc__ else "")
    common = _Parser(add_help=False)
    common.add_argument("--config", type=Path, default=None, help="bridge config (TOML)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    reporting = _Parser(add_help=False)
    reporting.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("run", parents=[common], help="run the bridge (no config: the embedded demo stack)")
    p.add_argument("--verbose", "-v", action="store_true")

    sub.add_parser("demo", parents=[common], help="a narrated run of the seed scenarios")

    p = sub.add_parser("resync", parents=[common, reporting], help="recompute and push listings")
    p.add_argument("--sku", action="append", default=[], help="ERP SKU (repeatable)")
    p.add_argument("--channel", action="append", default=[], help="channel code (repeatable); alone: every listing on it")
    p.add_argument("--all", action="store_true", help="every listed product")
    p.add_argument("--dry-run", action="store_true", help="only report what would change")
    p.add_argument("--force", action="store_true", help="push unchanged values too")

    p = sub.add_parser("explain", parents=[common, reporting], help="how a SKU's number is made")
    p.add_argument("sku")
    p.add_argument("--channel", default=None)

    sub.add_parser("status", parents=[common, reporting], help="per channel: listings, errors, backlog, cursor")

    p = sub.add_parser("timeline", parents=[common, reporting], help="every push of a SKU")
    p.add_argument("sku")
    p.add_argument("--since", default=None, help="30m, 2h, 1d or an ISO date/time")

    p = sub.add_parser("mock-erp", parents=[common], help="run the bundled Odoo-protocol mock ERP")
    p.add_argument("--fixtures", type=Path, default=None, help="fixtures dir (default: the demo shop)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port, default=8069)
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--webhook-secret", default=None)
    p.add_argument("--odoo-version", default=None, help="series to emulate: 16.0 17.0 18.0 (default, as compose) 19.0")

    p = sub.add_parser("sandbox", parents=[common], help="run the local marketplace sandbox")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port, default=8780)
    p.add_argument("--seed", type=Path, default=None, help="sandbox seed file (JSON; default: the demo shop's accounts and listings)")
    __import__("connector.risk.commands", fromlist=["add_parsers"]).add_parsers(sub, common, reporting)
    return parser


def _resolve(target: str) -> Callable[[argparse.Namespace], int]:
    module_name, _, func = target.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module_name), func)
    return handler


def _packaged_defaults(args: argparse.Namespace) -> None:
    """`mock-erp` / `sandbox` without --fixtures / --seed serve the demo shop, found where
    the package was installed (connector.defaults.fixtures_dir), not only in a checkout."""
    from connector.defaults import fixtures_dir, sandbox_seed

    if args.command == "mock-erp" and args.fixtures is None:
        args.fixtures = fixtures_dir()
    if args.command == "sandbox" and args.seed is None:
        seed = sandbox_seed(fixtures_dir())
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="stock-bridge-seed-", delete=False)
        with handle:
            json.dump(seed, handle)
        args.seed = Path(handle.name)
        atexit.register(args.seed.unlink, missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in words
    args = build_parser().parse_args(words)
    try:
        _packaged_defaults(args)
        return _resolve(COMMANDS[args.command])(args)
    except ConfigError as exc:
        print(f"stock-bridge: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": f"stock-bridge: {exc}"}))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """stdout's reader closed early (`stock-bridge status --json | head`): stop quietly.

    Later writes, including the interpreter's last flush, go to /dev/null so that no
    second BrokenPipeError is printed on the way out (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a descriptor (captured): nothing to silence
        pass
    finally:
        os.close(devnull)
    return EXIT_FAILURE
