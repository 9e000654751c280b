"""A real Odoo 18.0 for tests, through the kit beside the repository (../shared/odoo18 or
$SHARED_DIR/odoo18, see its README): find it, make a database from its template, serve it
on a free loopback port, and provision the bridge user exactly as README.md says.

Usage::

    kit = find_kit()                      # None without the kit: skip with KIT_MISSING
    with kit.server("mss_e2e_1", addon=True) as odoo:
        bridge = odoo.provision_bridge()  # login, API key, uid
        odoo.admin.execute_kw(...)        # XML-RPC as admin
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ADDONS = REPO / "addons"
MODULE = "marketplace_stock_sync"
TEMPLATE = "odoo18_stock_template"
KIT_MISSING = "no Odoo 18 kit (../shared/odoo18/odoo.sh or $SHARED_DIR/odoo18/odoo.sh)"
BRIDGE_GROUP = f"{MODULE}.group_marketplace_bridge"


def kit_script() -> Path | None:
    shared = Path(os.environ["SHARED_DIR"]) if os.environ.get("SHARED_DIR") else REPO.parent / "shared"
    script = shared / "odoo18" / "odoo.sh"
    return script if script.is_file() else None


def find_kit() -> OdooKit | None:
    script = kit_script()
    return OdooKit(script) if script else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_db(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class BridgeUser:
    login: str
    password: str       # the API key (Odoo's RPC takes it in the password's place)
    uid: int
    key_expires: str | None


class Rpc:
    """XML-RPC as one user: `rpc.call(model, method, *args, **kwargs)`."""

    def __init__(self, url: str, db: str, login: str, password: str) -> None:
        self.url, self.db, self.login, self.password = url, db, login, password
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", allow_none=True)
        uid = common.authenticate(db, login, password, {})
        if not uid:
            raise PermissionError(f"Odoo refused {login} on {db}")
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
            raise LookupError(xmlid)
        return int(rows[0]["res_id"])


class OdooServer:
    def __init__(self, kit: OdooKit, db: str, url: str, proc: subprocess.Popen[bytes],
                 log: Path) -> None:
        self.kit, self.db, self.url, self.proc, self.log = kit, db, url, proc, log
        self._admin: Rpc | None = None

    @property
    def admin(self) -> Rpc:
        if self._admin is None:
            self._admin = Rpc(self.url, self.db, "admin", "admin")
        return self._admin

    def rpc(self, login: str, password: str) -> Rpc:
        return Rpc(self.url, self.db, login, password)

    def provision_bridge(self, login: str = "bridge", key_days: int = 90,
                         groups: tuple[str, ...] = ("base.group_user", BRIDGE_GROUP),
                         bridge_url: str | None = None, webhook_secret: str | None = None
                         ) -> BridgeUser:
        """README's "Run with a real Odoo" steps 2-4 on this database (scripts/odoo_provision.py)."""
        from scripts.odoo_provision import provision

        result = provision(self.url, self.db, "admin", "admin", login=login, groups=groups,
                           key_days=key_days, bridge_url=bridge_url,
                           webhook_secret=webhook_secret,
                           make_key=lambda uid, days: self.kit.make_api_key(self.db, uid, days))
        return BridgeUser(login=login, password=result.api_key, uid=result.uid,
                          key_expires=result.key_expires)


class OdooKit:
    def __init__(self, script: Path) -> None:
        self.script = script

    def run(self, *args: str, stdin: str | None = None, timeout: float = 600) -> str:
        done = subprocess.run([str(self.script), *args], input=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"odoo.sh {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def setup(self) -> None:
        self.run("setup", timeout=900)

    def newdb(self, db: str, addon: bool = True) -> None:
        if addon:
            self.run("newdb", db, str(ADDONS), MODULE)
        else:
            self.run("psql", "-c", f'CREATE DATABASE "{db}" TEMPLATE {TEMPLATE} OWNER odoo')

    def dropdb(self, db: str) -> None:
        self.run("psql", "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', timeout=60)

    def shell(self, db: str, script: str, timeout: float = 120) -> str:
        """Run Python in `odoo-bin shell` on `db` (what an administrator with shell access does)."""
        return self.run("bin", "shell", "-d", db, "--no-http", "--log-level=warn",
                        stdin=script, timeout=timeout)

    def make_api_key(self, db: str, uid: int, days: int) -> tuple[str, str | None]:
        """An API key for user `uid`, made as that user would in Preferences › Account
        Security (Odoo's RPC refuses it: the wizard demands an interactive identity check),
        under the same maximum duration Odoo enforces for the user's groups."""
        from scripts.odoo_provision import kit_key_maker

        return kit_key_maker(str(self.script), db)(uid, days)

    @contextmanager
    def server(self, db: str, addon: bool = True, keep_db: bool = False,
               start_timeout: float = 90) -> Iterator[OdooServer]:
        self.newdb(db, addon=addon)
        port = free_port()
        log = Path(f"/tmp/{db}.odoo.log")
        with log.open("wb") as out:
            # In its own process group: odoo.sh execs a shell, python and Odoo's workers.
            proc = subprocess.Popen([str(self.script), "serve", db, str(ADDONS), str(port)],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        server = OdooServer(self, db, f"http://127.0.0.1:{port}", proc, log)
        try:
            _wait_up(server, start_timeout)
            yield server
        finally:
            _stop(proc)
            if not keep_db:
                self.dropdb(db)

    @contextmanager
    def serve_single_db(self, db: str, workers: int = 0, start_timeout: float = 90) -> Iterator[OdooServer]:
        """Another Odoo process on an existing database, started as a single-database
        deployment is (`-d DB`, no `--db-filter`): Odoo then takes the database from its
        config instead of listing PostgreSQL's databases on every cookie-less RPC, as
        `serve` (with `--db-filter`) makes it do. `workers` > 0: Odoo's multi-process mode
        (its websocket port free too, no cron workers). The database is left as it is."""
        port = free_port()
        extra = [f"--workers={workers}"]
        if workers:
            extra += [f"--gevent-port={free_port()}", "--max-cron-threads=0"]
        log = Path(f"/tmp/{db}.single.odoo.log")
        env = {**os.environ, "ADDONS_EXTRA": str(ADDONS)}
        with log.open("wb") as out:
            proc = subprocess.Popen([str(self.script), "bin", "-d", db, "--http-interface=127.0.0.1",
                                     f"--http-port={port}", *extra, "--log-level=warn"],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        server = OdooServer(self, db, f"http://127.0.0.1:{port}", proc, log)
        try:
            _wait_up(server, start_timeout)
            yield server
        finally:
            _stop(proc)


def _wait_up(server: OdooServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"Odoo exited ({server.proc.returncode}); see {server.log}")
        try:
            common.version()
            return
        except (OSError, xmlrpc.client.ProtocolError):
            time.sleep(0.25)
    raise TimeoutError(f"Odoo not up within {timeout:.0f} s; see {server.log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
