"""The end-to-end stack against real Odoo 18: a shop seeded over RPC, the marketplace
sandbox, and `stock-bridge run` in its own process as the README's bridge user.

- `AdminRpc`: JSON-RPC as admin with the stock flows of tests/e2e/odoo.py (JSON-RPC because
  XML-RPC answers "cannot marshal None" for `action_apply_inventory` although it committed);
  the return and backorder flows follow Odoo 18's wizards.
- `seed_shop(admin)`: products, a second warehouse, shelves and a quarantine location,
  four channels on four marketplaces, their listings and opening stock.
- `expected(admin)`: what every listing should show, computed here from stock.quant rows
  and the channel/listing/allocation config read as admin (DESIGN.md's formula written out
  again, independently of connector/stock).
- `BridgeRun`: the sandbox + one `stock-bridge run --config` process; `settle()` waits
  (bounded) until the bridge read the whole outbox, every listing at the sandbox shows the
  expected number and the listing's status write-back says so.

Usage::

    admin = AdminRpc(odoo.url, odoo.db)
    shop = seed_shop(admin)
    with BridgeRun.start(tmp, odoo, bridge_user, shop, protocol="xmlrpc") as run:
        admin.deliver("E2E-MUG", 1); run.settle()
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from connector.defaults import demo_credentials
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox
from connector.sandbox.urls import channel_urls
from connector.state.errors import StateError
from connector.state.sqlite import StateStore
from tests.e2e.harness import SANDBOX_RATES, TEST_CHANNELS, BridgeProcess, free_port, toml_dumps
from tests.e2e.odoo import OdooRpc
from tests.odoo_real.kit import BridgeUser, OdooServer

WAIT_S = 30.0  # every wait in these tests is bounded by this
WEBHOOK_SECRET = "e2e-webhook-secret-not-for-production"
AUTOMATION_TOKEN = "e2e-automation-token-not-for-production"
# Odoo's own records of the bridge user's activity, not writes of the bridge: its login log
# (res.users.log, written by Odoo at each authentication) and its API key (made for it at
# provisioning, in the README's step 3).
ODOO_OWN_RECORDS = frozenset({"res_users_log", "res_users_apikeys"})
MARKETPLACE_CAPS = {"bol": 999, "etsy": 999}  # the adapters' max_quantity


class AdminRpc(OdooRpc):
    """OdooRpc's flows over JSON-RPC (`/jsonrpc`, Odoo's own web protocol)."""

    def __init__(self, url: str, database: str, login: str = "admin", password: str = "admin") -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.password = password
        self.http = requests.Session()
        self._seq = itertools.count(1)
        self.calls = 0
        self._ids: dict[tuple[str, str], int] = {}
        uid = self._rpc("common", "authenticate", database, login, password, {})
        if not uid:
            raise RuntimeError(f"cannot log in to {url} as {login}")
        self.uid = int(uid)

    def _rpc(self, service: str, method: str, *args: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self._seq),
                "params": {"service": service, "method": method, "args": list(args)}}
        reply = self.http.post(f"{self.url}/jsonrpc", json=body, timeout=WAIT_S * 2)
        reply.raise_for_status()
        data = reply.json()
        if data.get("error"):
            error = data["error"].get("data") or data["error"]
            raise RuntimeError(f"{method}: {error.get('message') or error}")
        return data.get("result")

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._rpc("object", "execute_kw", self.database, self.uid, self.password, model, method,
                         list(args), kwargs)

    def create(self, model: str, values: dict[str, Any], **kwargs: Any) -> int:
        created = self(model, "create", values, **kwargs)
        return int(created[0] if isinstance(created, list) else created)

    # -- Odoo 18's wizards ------------------------------------------------------------------
    def return_to(self, picking_id: int, location: str) -> int:
        """Return everything a done delivery shipped, into `location`, and validate it.

        Odoo 18's return wizard has no destination field: the return is made to the
        delivery's source, and its destination is then changed as a user would."""
        context = {"active_id": picking_id, "active_ids": [picking_id], "active_model": "stock.picking"}
        wid = self.create("stock.return.picking", {"picking_id": picking_id}, context=context)
        action = self("stock.return.picking", "action_create_returns_all", [wid], context=context)
        new_pid = int(action["res_id"])
        self("stock.picking", "write", [new_pid], {"location_dest_id": self.location(location)})
        self.validate(new_pid)
        return new_pid

    def deliver_with_backorder(self, sku: str, ordered: float, shipped: float) -> tuple[int, int]:
        """A delivery of `ordered`, reserved, of which only `shipped` leaves now; the rest
        becomes a backorder (Odoo's "Create Backorder?" wizard answered yes)."""
        pid = self.order(sku, ordered)
        moves = self("stock.picking", "read", [pid], ["move_ids"])[0]["move_ids"]
        self("stock.move", "write", moves, {"quantity": shipped, "picked": True})
        action = self("stock.picking", "button_validate", [pid])
        if not isinstance(action, dict) or action.get("res_model") != "stock.backorder.confirmation":
            raise AssertionError(f"expected the backorder wizard, got {action!r}")
        context = action.get("context") or {}
        wid = self.create("stock.backorder.confirmation", {}, context=context)
        self("stock.backorder.confirmation", "process", [wid], context=context)
        backorders = self("stock.picking", "search", [["backorder_id", "=", pid]])
        if len(backorders) != 1:
            raise AssertionError(f"expected one backorder of picking {pid}, found {backorders}")
        return pid, int(backorders[0])

    def unreserve(self, picking_id: int) -> None:
        self("stock.picking", "do_unreserve", [picking_id])


# -- the shop -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ListingSpec:
    channel: str
    sku: str
    channel_sku: str
    external_id: str | None = None
    pack_size: int = 1


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    marketplace: str
    warehouses: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    buffer_qty: float = 0
    max_qty: float = 0
    zero_stock_action: str | None = None


CHANNELS = (
    ChannelSpec("amazon_de", "amazon", ("WH", "WH2"), buffer_qty=2),
    ChannelSpec("bol_nl", "bol", ("WH",), excluded=("WH/Stock/Shelf B",), buffer_qty=1),
    ChannelSpec("shopify_eu", "shopify", ("WH", "WH2")),
    ChannelSpec("etsy_shop", "etsy", ("WH",), max_qty=20, zero_stock_action="deactivate"),
)
PRODUCTS = {"E2E-MUG": "E2E Mug", "E2E-LAMP": "E2E Lamp", "E2E-TEE": "E2E T-shirt",
            "E2E-PEN": "E2E Pen"}
LISTINGS = (
    ListingSpec("amazon_de", "E2E-MUG", "E2E-MUG"),
    ListingSpec("amazon_de", "E2E-MUG", "E2E-MUG-6PK", pack_size=6),
    ListingSpec("amazon_de", "E2E-LAMP", "E2E-LAMP"),
    ListingSpec("amazon_de", "E2E-TEE", "E2E-TEE"),
    ListingSpec("bol_nl", "E2E-MUG", "8719990000011", "3100000011"),
    ListingSpec("bol_nl", "E2E-TEE", "8719990000028", "3100000028"),
    ListingSpec("shopify_eu", "E2E-MUG", "E2E-MUG", "gid://shopify/InventoryItem/53100000011"),
    ListingSpec("shopify_eu", "E2E-LAMP", "E2E-LAMP", "gid://shopify/InventoryItem/53100000028"),
    ListingSpec("shopify_eu", "E2E-TEE", "E2E-TEE", "gid://shopify/InventoryItem/53100000035"),
    ListingSpec("etsy_shop", "E2E-LAMP", "E2E-LAMP", "1590000011/13100000011"),
    ListingSpec("etsy_shop", "E2E-MUG", "E2E-MUG", "1590000028/13100000028"),
)
# Added during the run (the "listing added" scenario): in the sandbox first, then in Odoo.
LATE_LISTING = ListingSpec("shopify_eu", "E2E-PEN", "E2E-PEN", "gid://shopify/InventoryItem/53100000042")
OPENING_STOCK = (  # (sku, location, quantity)
    ("E2E-MUG", "WH/Stock/Shelf A", 30), ("E2E-MUG", "WH/Stock/Shelf B", 8),
    ("E2E-MUG", "WH2/Stock", 12), ("E2E-LAMP", "WH/Stock", 3), ("E2E-TEE", "WH/Stock", 15),
    ("E2E-TEE", "WH/Quarantine", 4), ("E2E-PEN", "WH/Stock", 50),
)


@dataclass
class Shop:
    products: dict[str, int]
    channels: dict[str, int]
    listings: dict[tuple[str, str], int]  # (channel code, channel sku) -> listing id
    specs: list[ListingSpec] = field(default_factory=list)

    def marketplace(self, channel: str) -> str:
        return next(c.marketplace for c in CHANNELS if c.code == channel)


def _location(admin: AdminRpc, name: str, parent: int) -> int:
    return admin.create("stock.location", {"name": name, "location_id": parent, "usage": "internal"})


def seed_stock(admin: AdminRpc) -> dict[str, int]:
    """Locations, a second warehouse, products and their opening stock; sku -> product id."""
    [wh] = admin("stock.warehouse", "search_read", [["code", "=", "WH"]], ["lot_stock_id", "view_location_id"])
    stock, view = wh["lot_stock_id"][0], wh["view_location_id"][0]
    _location(admin, "Shelf A", stock)
    _location(admin, "Shelf B", stock)
    _location(admin, "Quarantine", view)  # beside WH/Stock, so no channel counts it
    admin.create("stock.warehouse", {"name": "Rotterdam", "code": "WH2"})
    products = {sku: admin.create("product.product", {"name": name, "default_code": sku, "type": "consu",
                                                      "is_storable": True})
                for sku, name in PRODUCTS.items()}
    for sku, location, qty in OPENING_STOCK:
        admin.set_quantity(sku, location, qty)
    return products


def seed_shop(admin: AdminRpc) -> Shop:
    """The shop every scenario runs on (see the module constants), made as admin."""
    products = seed_stock(admin)
    warehouses = {w["code"]: w["id"] for w in admin("stock.warehouse", "search_read", [], ["code"])}
    channels: dict[str, int] = {}
    for spec in CHANNELS:
        values: dict[str, Any] = {
            "name": spec.code, "code": spec.code, "marketplace": spec.marketplace,
            "warehouse_ids": [(6, 0, [warehouses[w] for w in spec.warehouses])],
            "excluded_location_ids": [(6, 0, [admin.location(n) for n in spec.excluded])],
            "buffer_qty": spec.buffer_qty, "max_qty": spec.max_qty,
        }
        if spec.zero_stock_action:
            values["zero_stock_action"] = spec.zero_stock_action
        channels[spec.code] = admin.create("marketplace.channel", values)
    shop = Shop(products=products, channels=channels, listings={})
    for item in LISTINGS:
        add_listing(admin, shop, item)
    return shop


def add_listing(admin: AdminRpc, shop: Shop, item: ListingSpec) -> int:
    lid = admin.create("marketplace.listing", {
        "channel_id": shop.channels[item.channel], "product_id": shop.products[item.sku],
        "channel_sku": item.channel_sku, "external_id": item.external_id or False, "pack_size": item.pack_size})
    shop.listings[(item.channel, item.channel_sku)] = lid
    shop.specs.append(item)
    return lid


def sandbox_seed(shop_listings: list[ListingSpec]) -> dict[str, Any]:
    """The sandbox's accounts (the demo credentials) and a listing for each spec, at 0."""
    accounts: dict[str, list[dict[str, str]]] = {}
    for spec in CHANNELS:
        accounts.setdefault(spec.marketplace, []).append(demo_credentials(spec.code, spec.marketplace))
    listings: dict[str, list[dict[str, Any]]] = {}
    for item in shop_listings:
        listings.setdefault(_marketplace(item.channel), []).append(_sandbox_listing(item))
    return {"accounts": accounts, "listings": listings}


def _marketplace(channel: str) -> str:
    return next(c.marketplace for c in CHANNELS if c.code == channel)


def _sandbox_listing(item: ListingSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"sku": item.channel_sku, "quantity": 0, "active": True}
    if item.external_id:
        entry["external_id"] = item.external_id
    return entry


# -- what every listing should show, from Odoo's rows read as admin ------------------------

def expected(admin: AdminRpc, now: dt.datetime | None = None) -> dict[tuple[str, str], int]:
    """(channel code, channel sku) -> the quantity a buyer can order there, from the quants
    and the addon's channels, listings and allocations (see `published`)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    channels = {c["id"]: c for c in admin("marketplace.channel", "search_read", [["active", "=", True]],
                                          ["code", "marketplace", "warehouse_ids", "excluded_location_ids",
                                           "buffer_qty", "max_qty"])}
    counted = {cid: _counted(admin, ch["warehouse_ids"], ch["excluded_location_ids"])
               for cid, ch in channels.items()}
    quants = _quants(admin)
    allocations = [a for a in admin("marketplace.allocation", "search_read", [],
                                    ["channel_id", "product_id", "mode", "quantity", "date_start", "date_end"])
                   if _active(a, now)]
    out: dict[tuple[str, str], int] = {}
    for row in admin("marketplace.listing", "search_read", [["active", "=", True]],
                     ["channel_id", "product_id", "channel_sku", "buffer_override", "buffer_qty", "max_qty",
                      "pack_size"]):
        ch = channels.get(row["channel_id"][0])
        if ch is None:
            continue
        pid = row["product_id"][0]
        free = _free(quants, pid, counted[ch["id"]])
        held = sum(a["quantity"] for a in allocations
                   if a["product_id"][0] == pid and a["channel_id"][0] != ch["id"])
        own = [a["quantity"] for a in allocations if a["product_id"][0] == pid
               and a["channel_id"][0] == ch["id"] and a["mode"] == "allocation"]
        buffer = row["buffer_qty"] if row["buffer_override"] else ch["buffer_qty"]
        out[(ch["code"], row["channel_sku"])] = published(
            free, held, sum(own) if own else None, buffer, row["pack_size"],
            (row["max_qty"], ch["max_qty"], MARKETPLACE_CAPS.get(ch["marketplace"], 0)))
    return out


def expected_from_file(admin: AdminRpc, listings: list[ListingSpec]) -> dict[tuple[str, str], int]:
    """The same for no-addon mode: channels and listings as the bridge's config file says."""
    warehouses = {w["code"]: w["id"] for w in admin("stock.warehouse", "search_read", [], ["code"])}
    quants = _quants(admin)
    out: dict[tuple[str, str], int] = {}
    for ch in CHANNELS:
        counted = _counted(admin, [warehouses[w] for w in ch.warehouses], [admin.location(n) for n in ch.excluded])
        for item in (i for i in listings if i.channel == ch.code):
            free = _free(quants, admin.product(item.sku), counted)
            out[(ch.code, item.channel_sku)] = published(
                free, 0, None, ch.buffer_qty, item.pack_size, (ch.max_qty, MARKETPLACE_CAPS.get(ch.marketplace, 0)))
    return out


def published(free: float, held: float, own: float | None, buffer: float, pack_size: int,
              caps: tuple[float, ...]) -> int:
    """DESIGN.md's formula, written out here on its own: allocations of other channels
    (`held`) are held back, the channel's own allocation (`own`) caps what it sees; minus
    the buffer, divided by the pack size, capped (0 = no cap), never below 0."""
    if free < 0:
        return 0
    pool = free - held
    if own is not None:
        pool = min(own, pool)
    qty = max(0, math.floor((pool - buffer) / max(1, pack_size)))
    return int(min([qty, *(c for c in caps if c)]))


def _counted(admin: AdminRpc, warehouse_ids: list[int], excluded: list[int]) -> set[int]:
    """Internal locations under the warehouses' stock locations, minus the excluded ones."""
    stock_of = {w["id"]: w["lot_stock_id"][0]
                for w in admin("stock.warehouse", "read", warehouse_ids, ["lot_stock_id"])}
    inside = set(admin("stock.location", "search", [["id", "child_of", list(stock_of.values())],
                                                    ["usage", "=", "internal"]]))
    if excluded:
        inside -= set(admin("stock.location", "search", [["id", "child_of", excluded]]))
    return inside


def _quants(admin: AdminRpc) -> list[dict[str, Any]]:
    return list(admin("stock.quant", "search_read", [["location_id.usage", "=", "internal"]],
                      ["product_id", "location_id", "quantity", "reserved_quantity"]))


def _free(quants: list[dict[str, Any]], product_id: int, locations: set[int]) -> float:
    return float(sum(q["quantity"] - q["reserved_quantity"] for q in quants
                     if q["product_id"][0] == product_id and q["location_id"][0] in locations))


def _active(allocation: Mapping[str, Any], now: dt.datetime) -> bool:
    def at(value: Any) -> dt.datetime | None:
        return dt.datetime.fromisoformat(str(value)) if value else None

    start, end = at(allocation["date_start"]), at(allocation["date_end"])
    return (start is None or start <= now) and (end is None or now < end)


# -- the bridge run -------------------------------------------------------------------------

# Amazon answers a patch ACCEPTED (queued), and the listing stays "pending" until the bridge
# reads it back (issue 17): after 0.5 s here instead of the shipped 120 s, so that settling
# waits for the confirmed value, not for the default delay.
FOLLOW_UP: dict[str, dict[str, Any]] = {"amazon": {"confirm_after_s": "0.5", "confirm_budget_s": "60"}}


def bridge_config(odoo: OdooServer, user: BridgeUser, sandbox_url: str, state: Path, port: int,
                  protocol: str, *, mode: str = "addon", channels: Mapping[str, Mapping[str, Any]] | None = None,
                  bridge: Mapping[str, Any] | None = None) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for spec in CHANNELS:
        section: dict[str, Any] = {"marketplace": spec.marketplace, **channel_urls(sandbox_url, spec.marketplace),
                                   **demo_credentials(spec.code, spec.marketplace)}
        section.update(TEST_CHANNELS.get(spec.code, {}))
        section.update(FOLLOW_UP.get(spec.marketplace, {}))
        section.update((channels or {}).get(spec.code, {}))
        sections[spec.code] = section
    return {
        "erp": {"url": odoo.url, "database": odoo.db, "username": user.login, "password": user.password,
                "protocol": protocol, "mode": mode},
        "bridge": {"state_path": str(state), "listen": f"127.0.0.1:{port}", "webhook_secret": WEBHOOK_SECRET,
                   "automation_token": AUTOMATION_TOKEN, "poll_interval_s": 5, "coalesce_ms": 5,
                   "retry_interval_s": 0.5, "full_resync_interval_s": 3600, **(bridge or {})},
        "channels": sections,
    }


def file_channels(listings: list[ListingSpec]) -> dict[str, dict[str, Any]]:
    """The channels and listings of the shop as no-addon mode takes them from the config file."""
    out: dict[str, dict[str, Any]] = {}
    for ch in CHANNELS:
        section: dict[str, Any] = {"warehouses": list(ch.warehouses), "excluded_locations": list(ch.excluded),
                                   "buffer_qty": ch.buffer_qty, "max_qty": ch.max_qty}
        if ch.zero_stock_action:
            section["zero_stock_action"] = ch.zero_stock_action
        section["listings"] = [{"sku": i.sku, "channel_sku": i.channel_sku, "pack_size": i.pack_size,
                                **({"external_id": i.external_id} if i.external_id else {})}
                               for i in listings if i.channel == ch.code]
        out[ch.code] = section
    return out


@dataclass
class BridgeRun:
    admin: AdminRpc
    sandbox: RunningSandbox
    market: SandboxAdmin
    process: BridgeProcess
    state: Path
    url: str
    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, channel sku) -> marketplace
    expect: Callable[[], dict[tuple[str, str], int]] | None = None  # default: `expected(admin)`

    @classmethod
    @contextmanager
    def start(cls, tmp: Path, odoo: OdooServer, user: BridgeUser, admin: AdminRpc, specs: list[ListingSpec],
              protocol: str, *, mode: str = "addon", config: Mapping[str, Any] | None = None,
              sandbox_listings: list[ListingSpec] | None = None,
              expect: Callable[[], dict[tuple[str, str], int]] | None = None) -> Iterator[BridgeRun]:
        """The sandbox and a bridge process; the addon's settings point Odoo's wake-ups at it."""
        sandbox = start_sandbox(seed=sandbox_seed(sandbox_listings if sandbox_listings is not None else specs))
        market = SandboxAdmin(sandbox.url)
        process: BridgeProcess | None = None
        try:
            for marketplace, limit in SANDBOX_RATES.items():
                market.set_faults(marketplace, rate_limit=limit)
            port = free_port()
            state = tmp / f"state-{protocol}.sqlite3"
            data = bridge_config(odoo, user, sandbox.url, state, port, protocol, mode=mode, **(config or {}))
            path = tmp / f"bridge-{protocol}.toml"
            path.write_text(toml_dumps(data), encoding="utf-8")
            url = f"http://127.0.0.1:{port}"
            if mode == "addon":
                admin("ir.config_parameter", "set_param", "marketplace_stock_sync.bridge_url", url)
                admin("ir.config_parameter", "set_param", "marketplace_stock_sync.webhook_secret", WEBHOOK_SECRET)
            process = BridgeProcess(path, tmp / f"bridge-{protocol}", url)
            process.wait_ready(timeout=WAIT_S * 2)
            run = cls(admin=admin, sandbox=sandbox, market=market, process=process, state=state, url=url,
                      refs={(s.channel, s.channel_sku): _marketplace(s.channel) for s in specs}, expect=expect)
            yield run
        finally:
            if mode == "addon":
                admin("ir.config_parameter", "set_param", "marketplace_stock_sync.bridge_url", False)
            if process is not None:
                process.stop()
            market.close()
            sandbox.stop()

    def log(self) -> str:
        return Path(self.process.out.name).read_text(encoding="utf-8", errors="replace")[-4000:]

    def shown(self) -> dict[tuple[str, str], int]:
        """(channel, channel sku) -> what a buyer can order at the sandbox (0 if inactive)."""
        state = self.market.state()
        out: dict[tuple[str, str], int] = {}
        for (channel, sku), marketplace in self.refs.items():
            item = next((x for x in state.get(marketplace, []) if x["sku"] == sku), None)
            if item is not None:
                out[(channel, sku)] = int(item["quantity"]) if item["active"] else 0
        return out

    def cursor_high(self) -> int | None:
        try:
            store = StateStore.open(self.state, read_only=True)
        except StateError:
            return None
        try:
            cursor = store.get_cursor("outbox")
        finally:
            store.close()
        if isinstance(cursor, dict):
            return int(cursor.get("high") or 0)
        return None if cursor is None else int(cursor)

    def statuses(self) -> dict[tuple[str, str], tuple[str, float]]:
        rows = self.admin("marketplace.listing", "search_read", [["active", "=", True]],
                          ["channel_id", "channel_sku", "sync_state", "last_pushed_qty"])
        codes = {c["id"]: c["code"] for c in self.admin("marketplace.channel", "search_read", [], ["code"])}
        return {(codes[r["channel_id"][0]], r["channel_sku"]): (r["sync_state"], r["last_pushed_qty"])
                for r in rows}

    def settle(self, what: str, *, outbox: bool = True, status: bool = True,
               timeout: float = WAIT_S) -> dict[tuple[str, str], int]:
        """Wait until the bridge has read every outbox event, the sandbox shows the
        expected numbers and the write-back says so; returns the expected numbers."""
        deadline = time.monotonic() + timeout
        last = self.admin.last_event_id() if outbox else 0
        problems: list[str] = []
        while True:
            want = self.expect() if self.expect is not None else expected(self.admin)
            problems = []
            if outbox:
                high = self.cursor_high()
                if high is None or high < last:
                    problems.append(f"outbox cursor {high} < newest event {last}")
            shown = self.shown()
            wrong = {k: (shown.get(k), v) for k, v in want.items() if shown.get(k) != v}
            if wrong:
                problems.append(f"sandbox (shown, expected): {wrong}")
            if status and not wrong:
                back = self.statuses()
                stale = {k: back.get(k) for k, v in want.items()
                         if back.get(k) is None or back[k][0] not in ("synced", "deactivated") or back[k][1] != v}
                if stale:
                    problems.append(f"status write-back (state, last_pushed_qty) not landed: {stale}")
            if not problems:
                return want
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not settled in {timeout:.0f}s: {'; '.join(problems)}\n"
                                     f"bridge log tail:\n{self.log()}")
            time.sleep(0.2)


def bridge_writes(odoo: OdooServer, uid: int) -> dict[str, int]:
    """table -> rows whose create_uid or write_uid is `uid`, over every table of the database."""
    sql = (
        "SELECT c.table_name, (xpath('/row/n/text()', query_to_xml(format("
        "'SELECT count(*) AS n FROM %I WHERE create_uid = {uid} OR write_uid = {uid}', c.table_name), "
        "false, true, '')))[1]::text::int FROM information_schema.columns c "
        "JOIN information_schema.columns w ON w.table_name = c.table_name AND w.table_schema = c.table_schema "
        "AND w.column_name = 'write_uid' JOIN information_schema.tables t ON t.table_name = c.table_name "
        "AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = 'public' AND c.column_name = 'create_uid'"
    ).format(uid=int(uid))
    out = odoo.kit.run("psql", "-d", odoo.db, "-At", "-F", "\t", "-c", sql, timeout=120)
    counts: dict[str, int] = {}
    for line in out.splitlines():
        table, _, n = line.partition("\t")
        if n.strip() and int(n) > 0:
            counts[table] = int(n)
    return counts
