"""Bad input against real Odoo 18 stays a clear error: `stock-bridge run` exits non-zero
within seconds with one line naming the cause and what to do, no traceback, no secret.

Wrong password, an expired key, a revoked key, a database that does not exist, a user
without the Marketplace Bridge group, and an Odoo without the addon in mode "addon"; over
jsonrpc and xmlrpc. The mock ERP's answers to the cases it can play are checked in
tests/sync/test_clear_errors_mock.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.odoo_real.bridge_proc import BridgeFiles, assert_one_clear_line, run_once
from tests.odoo_real.kit import BridgeUser, OdooKit, OdooServer, unique_db

PROTOCOLS = ["jsonrpc", "xmlrpc"]


def expire_keys(kit: OdooKit, db: str, uid: int, seconds_from_now: int = -3600) -> None:
    """Move the key's expiry (as if a day, or 90, had passed); straight in PostgreSQL,
    since Odoo offers no way to change it."""
    kit.run("psql", "-d", db, "-c",
            "UPDATE res_users_apikeys SET expiration_date = (now() at time zone 'utc') + "
            f"interval '{seconds_from_now} seconds' WHERE user_id = {uid}", timeout=60)


def revoke_keys(kit: OdooKit, db: str, uid: int) -> None:
    """Preferences › Account Security › remove, as Odoo does it (res.users.apikeys._remove)."""
    kit.shell(db, f"env['res.users.apikeys'].search([('user_id', '=', {uid})])._remove()\n"
                  "env.cr.commit()\n")


@pytest.fixture(scope="module")
def expired_user(real_odoo: OdooServer) -> BridgeUser:
    user = real_odoo.provision_bridge(login="odoo_ops_expired")
    expire_keys(real_odoo.kit, real_odoo.db, user.uid)
    return user


@pytest.fixture(scope="module")
def revoked_user(real_odoo: OdooServer) -> BridgeUser:
    user = real_odoo.provision_bridge(login="odoo_ops_revoked")
    revoke_keys(real_odoo.kit, real_odoo.db, user.uid)
    return user


@pytest.fixture(scope="module")
def internal_user(real_odoo: OdooServer) -> BridgeUser:
    """Internal User only: what the README's step 2 looks like with its tick forgotten
    (Odoo lets such a user keep a key 1 day at most)."""
    return real_odoo.provision_bridge(login="odoo_ops_internal", groups=("base.group_user",),
                                      key_days=1)


@pytest.fixture(scope="module")
def bare_odoo(kit: OdooKit) -> Iterator[tuple[OdooServer, str, str]]:
    """Odoo 18 with stock but without the addon, and an internal user with an API key."""
    with kit.server(unique_db("odoo_ops_bare"), addon=False) as server:
        admin = server.admin
        uid = admin.call("res.users", "create", {
            "name": "Stock Bridge", "login": "bridge",
            "groups_id": [(6, 0, [admin.ref("base.group_user")])]})
        key, _ = kit.make_api_key(server.db, int(uid), 1)
        yield server, "bridge", key


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_password(tmp_path: Path, real_odoo: OdooServer, bridge_user: BridgeUser,
                        protocol: str) -> None:
    wrong = "not-the-key-" + bridge_user.password[:6]
    done = run_once(BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, bridge_user.login, wrong,
                                protocol=protocol))
    assert_one_clear_line(done, "Odoo refused login 'bridge'", real_odoo.db, "password/API key",
                          "New API Key", secrets=(wrong, bridge_user.password))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_expired_key(tmp_path: Path, real_odoo: OdooServer, expired_user: BridgeUser,
                     protocol: str) -> None:
    done = run_once(BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, expired_user.login,
                                expired_user.password, protocol=protocol))
    assert_one_clear_line(done, f"Odoo refused login {expired_user.login!r}", "expired or was revoked",
                          "New API Key", secrets=(expired_user.password,))


def test_expired_key_names_the_expiry_a_previous_run_saw(tmp_path: Path, real_odoo: OdooServer) -> None:
    """A bridge that ran before knows when its key was to expire, and says so."""
    from tests.odoo_real.bridge_proc import running

    user = real_odoo.provision_bridge(login="odoo_ops_expiring")
    expire_keys(real_odoo.kit, real_odoo.db, user.uid, seconds_from_now=15)
    files = BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, user.login, user.password)
    started = time.monotonic()
    with running(files):
        status = run_once(files, "status")
    assert status.code == 0 and "API key 'stock-bridge' expires" in status.stdout
    time.sleep(max(0.0, 16 - (time.monotonic() - started)))  # the key's last second passes
    line = assert_one_clear_line(run_once(files), "the bridge last saw its API key 'stock-bridge'",
                                 "it expired", "expired or was revoked", secrets=(user.password,))
    assert "was to expire" not in line


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_revoked_key(tmp_path: Path, real_odoo: OdooServer, revoked_user: BridgeUser,
                     protocol: str) -> None:
    done = run_once(BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, revoked_user.login,
                                revoked_user.password, protocol=protocol))
    assert_one_clear_line(done, "expired or was revoked", secrets=(revoked_user.password,))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_database_that_does_not_exist(tmp_path: Path, real_odoo: OdooServer,
                                      bridge_user: BridgeUser, protocol: str) -> None:
    done = run_once(BridgeFiles(tmp_path, real_odoo.url, "odoo_ops_no_such_db", bridge_user.login,
                                bridge_user.password, protocol=protocol))
    # Odoo answers it with PostgreSQL's connection error, which is not worth retrying.
    assert_one_clear_line(done, 'no database "odoo_ops_no_such_db"', "erp.database",
                          secrets=(bridge_user.password,))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_user_without_the_bridge_group(tmp_path: Path, real_odoo: OdooServer,
                                       internal_user: BridgeUser, protocol: str) -> None:
    done = run_once(BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, internal_user.login,
                                internal_user.password, protocol=protocol))
    assert_one_clear_line(done, "marketplace.channel", "group Marketplace Bridge",
                          secrets=(internal_user.password,))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_odoo_without_the_addon_in_addon_mode(tmp_path: Path, bare_odoo: tuple[OdooServer, str, str],
                                              protocol: str) -> None:
    server, login, key = bare_odoo
    done = run_once(BridgeFiles(tmp_path, server.url, server.db, login, key, protocol=protocol,
                                mode="addon"))
    assert_one_clear_line(done, "marketplace_stock_sync", 'erp.mode = "no_addon"', secrets=(key,))
