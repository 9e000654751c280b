"""The bridge's API key on real Odoo 18: its expiry read as the bridge user, the warning
ahead of it in the log, `status` and /v1/health, and a key revoked while the bridge runs
(one error line, health unhealthy, no retry loop)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests

from tests.odoo_real.bridge_proc import BridgeFiles, read_log, run_once, running
from tests.odoo_real.kit import OdooServer

# Odoo checks (uid, key) once per process and caches the answer (res.users.check is an
# ormcache), and removing a key does not clear that cache: an administrator's revocation
# reaches a client already checked only once the caches are cleared. Done here as any
# cache-clearing change in Odoo would, signalled to the serving process through the database.
REVOKE = """
env['res.users.apikeys'].search([('user_id', '=', {uid})])._remove()
env.cr.commit()
env.registry.clear_cache()
env.registry.signal_changes()
"""


def lines(files: BridgeFiles, level: str) -> list[str]:
    return [ln for ln in read_log(files).splitlines() if re.match(rf"^\d\d:\d\d:\d\d {level}\s", ln)]


def test_expiry_warned_ahead_and_a_revoked_key_is_one_line_and_unhealthy(
        tmp_path: Path, real_odoo: OdooServer) -> None:
    user = real_odoo.provision_bridge(login="odoo_ops_keywatch")
    # 100 days ahead: the 90-day key is inside the window, so every place warns now.
    files = BridgeFiles(tmp_path, real_odoo.url, real_odoo.db, user.login, user.password,
                        key_expiry_warn_days=100.0)
    with running(files) as proc:
        health = requests.get(files.health_url, timeout=5)
        doc = health.json()
        assert health.status_code == 200 and doc["status"] == "ready"
        assert 89.0 < doc["erp_key"]["days_left"] <= 90.0 and doc["erp_key"]["keys"] == 1
        assert len(doc["warnings"]) == 1 and "API key 'stock-bridge' expires" in doc["warnings"][0]
        warned = [ln for ln in lines(files, "WARNING") if "connector.erp.key" in ln]
        assert len(warned) == 1 and "make a new key as Odoo user 'odoo_ops_keywatch'" in warned[0]
        status = run_once(files, "status")
        assert status.code == 0 and "WARNING API key 'stock-bridge' expires" in status.stdout

        real_odoo.kit.shell(real_odoo.db, REVOKE.format(uid=user.uid))
        deadline = time.monotonic() + 30
        while requests.get(files.health_url, timeout=5).status_code != 503:
            assert time.monotonic() < deadline, read_log(files)
            time.sleep(0.25)
        doc = requests.get(files.health_url, timeout=5).json()
        assert doc["status"] == "unhealthy" and "refuses the bridge's credentials" in doc["reasons"][0]
        time.sleep(3.0)  # six poll intervals: nothing more is logged, Odoo is not asked
        errors = lines(files, "ERROR")
        assert len(errors) == 1, errors
        assert "Odoo refused login 'odoo_ops_keywatch'" in errors[0] and "restart the bridge" in errors[0]
        assert len(lines(files, "WARNING")) == 1  # still only the expiry warning
        assert proc.poll() is None  # still serving its health endpoint
    assert user.password not in read_log(files)
