"""README's "Run with a real Odoo" steps 2-4, performed over XML-RPC as an administrator:
the bridge's technical user (Internal User + Marketplace Bridge only), its API key with an
expiry, and the addon's settings (bridge URL, webhook secret).

    python scripts/odoo_provision.py --url http://127.0.0.1:8069 --db odoo \\
        --bridge-url http://bridge:8765 [--key-days 90] [--kit ../shared/odoo18/odoo.sh]

The administrator's password comes from $ODOO_ADMIN_PASSWORD (default "admin"), the webhook
secret from $BRIDGE_WEBHOOK_SECRET. Odoo makes API keys only in an interactive session
(Preferences › Account Security; the wizard demands an identity check, so RPC cannot), or
in `odoo-bin shell`: with --kit the key is made there, as the bridge user, under the
maximum duration Odoo enforces for its groups; without it the script says what to click.
The key is printed once on stdout, like Odoo's own dialog; it is never logged.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODULE = "marketplace_stock_sync"
BRIDGE_GROUP = f"{MODULE}.group_marketplace_bridge"
DEFAULT_GROUPS = ("base.group_user", BRIDGE_GROUP)

MakeKey = Callable[[int, int], tuple[str, str | None]]


@dataclass(frozen=True)
class Provisioned:
    uid: int
    api_key: str
    key_expires: str | None


class AdminRpc:
    def __init__(self, url: str, db: str, login: str, password: str) -> None:
        self.db, self.password = db, password
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", allow_none=True)
        uid = common.authenticate(db, login, password, {})
        if not uid:
            raise SystemExit(f"Odoo refused the administrator {login!r} on database {db!r}")
        self.uid = int(uid)  # type: ignore[call-overload]
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.models.execute_kw(self.db, self.uid, self.password, model, method,
                                      list(args), kwargs)

    def ref(self, xmlid: str) -> int:
        module, name = xmlid.split(".", 1)
        rows = self.call("ir.model.data", "search_read",
                         [("module", "=", module), ("name", "=", name)], ["res_id"])
        if not rows:
            raise SystemExit(f"{xmlid} not found: is the addon {MODULE} installed?")
        return int(rows[0]["res_id"])


def provision(url: str, db: str, admin_login: str, admin_password: str, *, login: str = "bridge",
              groups: tuple[str, ...] = DEFAULT_GROUPS, key_days: int = 90,
              bridge_url: str | None = None, webhook_secret: str | None = None,
              make_key: MakeKey | None = None) -> Provisioned:
    rpc = AdminRpc(url, db, admin_login, admin_password)
    installed = rpc.call("ir.module.module", "search_count",
                         [("name", "=", MODULE), ("state", "=", "installed")])
    if not installed:
        raise SystemExit(f"the addon {MODULE} is not installed on {db!r} (README step 1)")
    uid = _ensure_user(rpc, login, [rpc.ref(xmlid) for xmlid in groups])
    if bridge_url is not None or webhook_secret is not None:
        _settings(rpc, bridge_url, webhook_secret)
    if make_key is None:
        return Provisioned(uid=uid, api_key="", key_expires=None)
    key, expires = make_key(uid, key_days)
    return Provisioned(uid=uid, api_key=key, key_expires=expires)


def _ensure_user(rpc: AdminRpc, login: str, group_ids: list[int]) -> int:
    # (6, 0, ids): exactly these groups, so a re-run also takes away rights added by hand.
    values = {"name": "Stock Bridge", "login": login, "groups_id": [(6, 0, group_ids)]}
    found = rpc.call("res.users", "search", [("login", "=", login)])
    if found:
        rpc.call("res.users", "write", found, values)
        return int(found[0])
    return int(rpc.call("res.users", "create", values))


def _settings(rpc: AdminRpc, bridge_url: str | None, secret: str | None) -> None:
    values: dict[str, Any] = {}
    if bridge_url is not None:
        values["marketplace_bridge_url"] = bridge_url
    if secret is not None:
        values["marketplace_webhook_secret"] = secret
    wizard = rpc.call("res.config.settings", "create", values)
    try:
        rpc.call("res.config.settings", "execute", [wizard])
    except xmlrpc.client.Fault as fault:
        # execute() has saved the settings when it returns an action that XML-RPC cannot
        # marshal (None inside); anything else is a real failure.
        if "cannot marshal None" not in fault.faultString:
            raise


def kit_key_maker(kit: str, db: str) -> MakeKey:
    def make(uid: int, days: int) -> tuple[str, str | None]:
        script = KEY_SCRIPT.format(uid=uid, days=days)
        done = subprocess.run([kit, "bin", "shell", "-d", db, "--no-http", "--log-level=warn"],
                              input=script, capture_output=True, text=True, timeout=180,
                              check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("APIKEY ")), None)
        if line is None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"could not make the API key in odoo shell: {tail[0]}")
        _, key, expires = line.split(" ", 2)
        return key, (None if expires == "None" else expires)
    return make


KEY_SCRIPT = """
import datetime
user = env['res.users'].browse({uid})
days = {days}
expires = datetime.datetime.now().replace(microsecond=0) + datetime.timedelta(days=days)
key = env['res.users.apikeys'].with_user(user)._generate(None, 'stock-bridge', expires)
env.cr.commit()
print('APIKEY', key, expires.isoformat(sep=' '))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--admin-login", default="admin")
    parser.add_argument("--login", default="bridge")
    parser.add_argument("--key-days", type=int, default=90)
    parser.add_argument("--bridge-url")
    parser.add_argument("--kit", help="odoo.sh of ../shared/odoo18: make the API key there")
    args = parser.parse_args(argv)
    if not 1 <= args.key_days <= 90:
        parser.error("--key-days must be 1..90 (the addon lets the bridge group keep a key "
                     "for 90 days at most)")
    result = provision(args.url, args.db, args.admin_login,
                       os.environ.get("ODOO_ADMIN_PASSWORD", "admin"), login=args.login,
                       key_days=args.key_days, bridge_url=args.bridge_url,
                       webhook_secret=os.environ.get("BRIDGE_WEBHOOK_SECRET"),
                       make_key=kit_key_maker(args.kit, args.db) if args.kit else None)
    print(f"bridge user {args.login!r}: uid {result.uid}, groups Internal User + Marketplace Bridge")
    if result.api_key:
        print(f"API key (shown once; expires {result.key_expires} UTC): {result.api_key}")
    else:
        print(f"API key: log in as {args.login!r}, Preferences › Account Security › New API Key,"
              f" duration 3 Months (at most {args.key_days} days); renew it before it expires")
    return 0


if __name__ == "__main__":
    sys.exit(main())
