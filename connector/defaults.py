"""The embedded default's values: the config `stock-bridge run` (and `demo`) use when no
config is given, the demo channels' sandbox accounts, and where the demo fixtures live.

`embedded_default()` is the TOML-shaped config of the embedded stack: the bundled mock ERP
with fixtures/demo, the local marketplace sandbox with one demo account per channel, and
the bridge, on local ports. Values only: it imports neither the config model nor the state
(connector.config reads `embedded_default` from here; connector.launcher starts the stack).

Usage: ``parse_config(embedded_default(state_path="var/x.sqlite3"))``
"""

from __future__ import annotations

import json
import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any

from connector.catalogue import CATALOGUE
from connector.sandbox.urls import channel_urls

ERP_PORT, SANDBOX_PORT, BRIDGE_PORT = 8069, 8780, 8765
HOST = "127.0.0.1"
DEMO_DATABASE = "demo"
DEMO_LOGIN = "bridge"
DEMO_API_KEY = "demo-bridge-api-key-0000000000000000"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-not-for-production"
DEMO_AUTOMATION_TOKEN = "demo-automation-token-not-for-production"
# Where readers (`status`, `timeline`, `explain` without a config) look for the embedded
# run's state. Its own directory, so that it can never be a configured bridge's state.
DEFAULT_STATE_PATH = "var/embedded/bridge.sqlite3"
# Beside a running embedded run's state: its effective config (the ports it really got,
# the state path it really uses), so that `status`, `explain`, `timeline` and `resync`
# without a config read that run and not the default addresses. Removed at stop.
RUNNING_CONFIG_NAME = "current.toml"

# channel code -> marketplace (the demo shop; fixtures/demo/40_marketplace.json)
DEMO_CHANNELS: dict[str, str] = {m.demo_channel: m.code for m in CATALOGUE}

# The demo shop's sales history (fixtures/demo/50_sales.json) names each channel's orders by
# these source-document prefixes; `advise` and `simulate` attribute deliveries with them.
DEMO_ORDER_PREFIXES: dict[str, str] = {
    "amazon_de": "AMZ-", "bol_nl": "BOL-", "zalando_de": "ZAL-", "kaufland_de": "KL-",
    "ebay_de": "EBAY-", "shopify_eu": "SHOP-", "etsy_shop": "ETSY-", "woo_shop": "WC-",
    "lazada_sg": "LZD-", "shopee_sg": "SHP-",
}


def demo_credentials(code: str, marketplace: str) -> dict[str, str]:
    """The sandbox account of a demo channel, with DESIGN.md's key names (not secrets of value)."""
    tag = f"demo-{code}"
    shapes: dict[str, dict[str, str]] = {
        "amazon": {"seller_id": "A3DEMOSELLER01", "marketplace_id": "A1PA6795UKMFR9",
                   "client_id": f"amzn1.application-oa2-client.{code}", "client_secret": f"{tag}-secret",
                   "refresh_token": f"Atzr|{tag}-refresh"},
        "bol": {"client_id": f"{tag}-client", "client_secret": f"{tag}-secret"},
        "zalando": {"merchant_id": "11111111-2222-3333-4444-555555555555",
                    "sales_channel_id": "01924c48-49bb-40c2-9c32-ab582e6db6f4",
                    "client_id": f"{tag}-client", "client_secret": f"{tag}-secret"},
        "kaufland": {"client_key": f"{tag}-client-key", "secret_key": f"{tag}-secret-key", "storefront": "de"},
        "ebay": {"client_id": f"{tag}-client", "client_secret": f"{tag}-secret",
                 "refresh_token": f"v^1.1#{tag}-refresh", "marketplace_id": "EBAY_DE"},
        "shopify": {"access_token": f"shpat_{tag}", "location_id": "gid://shopify/Location/1",
                    "api_version": "2026-10"},  # a supported version (shopify_versions.NEWEST_KNOWN)
        "etsy": {"keystring": f"{tag}-keystring", "shared_secret": f"{tag}-shared",
                 "shop_id": "12345678", "refresh_token": f"12345678.{tag}-refresh"},
        "woocommerce": {"consumer_key": f"ck_{tag}", "consumer_secret": f"cs_{tag}"},
        "lazada": {"app_key": "100001", "app_secret": f"{tag}-app-secret", "access_token": f"{tag}-access",
                   "refresh_token": f"{tag}-refresh"},
        "shopee": {"partner_id": "2000001", "partner_key": f"{tag}-partner-key", "shop_id": "300001",
                   "access_token": f"{tag}-access", "refresh_token": f"{tag}-refresh"},
    }
    return dict(shapes[marketplace])


def embedded_default(
    erp_url: str = f"http://{HOST}:{ERP_PORT}",
    sandbox_url: str = f"http://{HOST}:{SANDBOX_PORT}",
    listen: str = f"{HOST}:{BRIDGE_PORT}",
    state_path: str = DEFAULT_STATE_PATH,
) -> dict[str, Any]:
    """The config (TOML-shaped dict) of the embedded stack at the given addresses."""
    channels: dict[str, Any] = {}
    for code, marketplace in DEMO_CHANNELS.items():
        section: dict[str, Any] = {"marketplace": marketplace, **channel_urls(sandbox_url, marketplace)}
        section.update(demo_credentials(code, marketplace))
        channels[code] = section
    return {
        "erp": {
            "url": erp_url,
            "database": DEMO_DATABASE,
            "username": DEMO_LOGIN,
            "api_key": DEMO_API_KEY,
            "protocol": "jsonrpc",
        },
        "bridge": {
            "state_path": state_path,
            "listen": listen,
            "webhook_secret": DEMO_WEBHOOK_SECRET,
            "automation_token": DEMO_AUTOMATION_TOKEN,
            "poll_interval_s": 2,
            "full_resync_interval_s": 600,
        },
        "channels": channels,
        "risk": {"channels": {code: {"origin_prefixes": [prefix]} for code, prefix in DEMO_ORDER_PREFIXES.items()}},
    }


# Where `pip install .` puts fixtures/demo (pyproject: [tool.setuptools.data-files]).
INSTALLED_FIXTURES = Path("share") / "stock-bridge" / "fixtures" / "demo"


def fixtures_dir() -> Path:
    """The demo fixtures: fixtures/demo of a source checkout, else the copy installed with
    the package (under the environment's data dir), else fixtures/demo under the cwd."""
    beside = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
    if beside.is_dir():
        return beside
    for base in {sys.prefix, sysconfig.get_path("data"), sysconfig.get_path("data", f"{os.name}_user")}:
        installed = Path(base) / INSTALLED_FIXTURES
        if installed.is_dir():
            return installed
    return Path("fixtures/demo")


def sandbox_seed(fixtures: Path | None = None, quantity: int = 0) -> dict[str, Any]:
    """Accounts for every demo channel and the fixture listings, in start_sandbox's seed shape."""
    data: dict[str, Any] = {}
    for path in sorted((fixtures or fixtures_dir()).glob("*.json")):
        for model, records in json.loads(path.read_text(encoding="utf-8")).items():
            data.setdefault(model, {}).update(records)
    channel_codes = {key: rec["code"] for key, rec in data.get("marketplace.channel", {}).items()}
    marketplaces = {key: rec["marketplace"] for key, rec in data.get("marketplace.channel", {}).items()}
    accounts: dict[str, list[dict[str, str]]] = {}
    for key, code in channel_codes.items():
        accounts.setdefault(marketplaces[key], []).append(demo_credentials(code, marketplaces[key]))
    listings: dict[str, list[dict[str, Any]]] = {}
    for rec in data.get("marketplace.listing", {}).values():
        channel = rec.get("channel_id")
        if channel not in marketplaces:
            continue
        entry: dict[str, Any] = {"sku": rec["channel_sku"], "quantity": quantity, "active": True}
        if rec.get("external_id"):
            entry["external_id"] = str(rec["external_id"])
        listings.setdefault(marketplaces[channel], []).append(entry)
    return {"accounts": accounts, "listings": listings}


def to_toml(data: dict[str, Any]) -> str:
    """`data` (tables of strings, numbers, booleans and lists of them) as TOML; enough for embedded_default.

    Usage: ``Path("x.toml").write_text(to_toml(embedded_default()))``
    """
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)  # a JSON string is a TOML basic string
        if isinstance(v, list):
            return "[" + ", ".join(value(item) for item in v) + "]"
        raise TypeError(f"to_toml: cannot write {type(v).__name__}")

    def key(k: str) -> str:
        return k if _BARE_KEY.fullmatch(k) else json.dumps(k)

    lines: list[str] = []

    def table(prefix: str, section: dict[str, Any]) -> None:
        scalars = {k: v for k, v in section.items() if not isinstance(v, dict)}
        if prefix:
            lines.extend(["", f"[{prefix}]"])
        lines.extend(f"{key(k)} = {value(v)}" for k, v in scalars.items())
        for k, v in section.items():
            if isinstance(v, dict):
                table(f"{prefix}.{key(k)}" if prefix else key(k), v)

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

