"""Secrets audit: the whole embedded stack (mock ERP + sandbox + bridge) at DEBUG, a few
stock changes, then no configured secret may show up in any log record of the bridge, in
the state file's tables (journal, listings, cursors, retry queue, alerts), in /v1/health or
in the `status`/`timeline`/`explain`/`resync` --json outputs.

The stand-ins' own logs (connector.mock_erp, connector.sandbox, and werkzeug's access
lines of their servers, which serve no /v1/ path) are the marketplace's and the ERP's side
of the wire and are left out; the bridge's own listener lines are kept.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import app as cli
from connector.config import BridgeConfig
from connector.sync.channel_keys import secret_keys
from connector.launcher import start_embedded
from connector.cli import common
from connector.sync.service import Bridge
from tests.e2e.odoo import OdooRpc

STAND_INS = ("connector.mock_erp", "connector.sandbox")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(STAND_INS):
            return
        text = record.getMessage()
        if record.name == "werkzeug" and "/v1/" not in text:
            return  # a request to the mock ERP or the sandbox, logged by their server
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    names = ("", "connector", "urllib3", "werkzeug", "apscheduler", "connector.sync.engine")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(capture)
    yield capture
    root.removeHandler(capture)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def configured_secrets(config: BridgeConfig) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in ("password", "api_key"):
        value = getattr(config.erp, key, None)
        if value is not None:
            found[f"erp.{key}"] = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    secret = config.webhook_secret()
    assert secret
    found["bridge.webhook_secret"] = secret
    adapter_secrets = secret_keys()  # every adapter's declared secret keys
    assert {"keystring", "partner_secret_key", "app_secret", "partner_key"} <= adapter_secrets
    for code, section in config.channels.items():
        for key, value in section.settings(code, environ={}).items():
            if key in adapter_secrets:
                found[f"{code}.{key}"] = value
    return {name: value for name, value in found.items() if value}


def leaks(secrets: dict[str, str], where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in secrets.items() if value in text]


def test_no_configured_secret_leaks_anywhere(tmp_path: Path, debug_logs: Capture,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Faster, same paths: bol's process-status polling and Amazon's budget, from the environment
    # (the documented way to set a channel key without the config file).
    monkeypatch.setenv("STOCK_BRIDGE_BOL_NL_POLL_INTERVAL_S", "0.02")
    monkeypatch.setenv("STOCK_BRIDGE_AMAZON_DE_RATE_PER_S", "50")
    monkeypatch.setenv("STOCK_BRIDGE_AMAZON_DE_BURST", "50")
    stack = start_embedded(erp_port=0, sandbox_port=0, bridge_port=0, state_path=tmp_path / "state.sqlite3")
    bridge = Bridge(stack.config)
    try:
        bridge.start()
        stack.connect_webhook(bridge.trigger_url)
        assert bridge.wait_idle(30)
        secrets = configured_secrets(stack.config)
        # every marketplace's secret kind is there (so the audit audits something)
        assert {"etsy_shop.refresh_token", "shopee_sg.partner_key", "woo_shop.consumer_secret",
                "lazada_sg.app_secret", "amazon_de.client_secret", "bridge.webhook_secret",
                "erp.api_key"} <= set(secrets)

        erp = OdooRpc(stack.erp.url, stack.config.erp.database, "admin", "admin")
        erp.deliver("LAMP-DESK-01", 1)
        erp.receive("MUG-CER-350", 5)
        erp.deliver("TSHIRT-BLK-M", 1)
        assert bridge.wait_idle(30)
        # the Odoo automation's unsigned form carries the automation token in the query string
        token = stack.config.automation_token()
        assert token and token != stack.config.webhook_secret()
        secrets["bridge.automation_token"] = token
        trigger = f"{bridge.trigger_url}?token={token}"
        assert requests.post(trigger, json={"_model": "stock.quant", "_id": 1}, timeout=5).status_code == 202
        assert requests.post(trigger + "-wrong", json={"_model": "stock.quant", "_id": 1}, timeout=5).status_code == 401
        assert bridge.wait_idle(30)

        found: list[str] = []
        found += leaks(secrets, "/v1/health", requests.get(f"{bridge.listener_url}/v1/health", timeout=5).text)
        # the CLI sees the bridge where it really listens, so its resync goes through /v1/resync
        assert bridge.listener_url is not None
        bridge_section = stack.config.bridge.model_copy(update={"listen": bridge.listener_url.split("//")[1]})
        cli_config = stack.config.model_copy(update={"bridge": bridge_section})
        monkeypatch.setattr(common, "config_for", lambda args: cli_config)
        resync = ["resync", "--sku", "LAMP-DESK-01", "--force", "--json"]
        for code in ("etsy_shop", "shopee_sg", "lazada_sg", "woo_shop", "ebay_de", "amazon_de"):
            resync += ["--channel", code]
        for argv in (["status", "--json"], ["timeline", "LAMP-DESK-01", "--json"],
                     ["explain", "LAMP-DESK-01", "--json"], ["explain", "MUG-CER-350"], resync):
            assert cli.main(argv) in (0, 1)
            out = capsys.readouterr()
            found += leaks(secrets, " ".join(argv), out.out + out.err)
        assert json.loads(out.out)["changes"][0]["reason"] == "forced"
        assert any("POST /v1/resync" in line for line in debug_logs.lines)  # it went to the bridge
    finally:
        bridge.stop()
        stack.stop()

    dump: list[Any] = []
    conn = sqlite3.connect(tmp_path / "state.sqlite3")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert "journal" in tables and conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] > 0
    for table in tables:
        if table != "credential":  # the one place rotated tokens are meant to be (0600 file)
            dump += conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
    conn.close()
    found += leaks(secrets, "the state file", json.dumps(dump, default=str))
    for line in debug_logs.lines:
        found += leaks(secrets, f"log record {line[:160]!r}", line)
    assert len(debug_logs.lines) > 50  # DEBUG really was on
    assert found == [], "\n".join(found)


def test_secret_query_values_are_blanked_in_url_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    from connector.sync.redaction import install, redact_query

    assert redact_query("POST /api?partner_id=2&timestamp=9&access_token=AT-1&shop_id=3&sign=ab12 HTTP/1.1") == (
        "POST /api?partner_id=2&timestamp=9&access_token=***&shop_id=3&sign=*** HTTP/1.1")
    assert redact_query("/wc?consumer_key=ck_1&consumer_secret=cs_2&page=1") == (
        "/wc?consumer_key=***&consumer_secret=***&page=1")
    assert redact_query("/v1/triggers?token=hook") == "/v1/triggers?token=***"
    install()
    install()  # idempotent
    pool = logging.getLogger("urllib3.connectionpool")
    assert sum(type(f).__name__ == "QuerySecretFilter" for f in pool.filters) == 1
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        pool.debug('%s://%s:%s "%s %s %s" %s %s', "http", "h", 80, "POST", "/x?app_key=1&access_token=AT-9",
                   "HTTP/1.1", 200, 5)
    assert "AT-9" not in caplog.text and "/x?app_key=***&access_token=***" in caplog.text
