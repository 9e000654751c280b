"""Bridge (service) over a real listener with fake ERP/adapters, and the CLI's contract:
exit codes, --json shapes, one-line config errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.cli import app as cli
from connector.config import load_config, parse_config
from connector.cli import explain as explain_command
from connector.cli import resync as resync_command
from connector.sync.engine import EngineDeps, EngineSettings
from connector.sync.service import Bridge
from connector.sync.webhook import sign
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute
from tests.sync.fakes import CHANNELS

SECRET = "hook-secret-1234"


def write_config(tmp: Path, **bridge: object) -> Path:
    lines = [
        "[erp]", 'url = "http://127.0.0.1:9"', 'database = "demo"', 'password = "pw-never-shown"', "",
        "[bridge]", f'state_path = "{tmp / "state.sqlite3"}"', 'listen = "127.0.0.1:0"',
        f'webhook_secret = "{SECRET}"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in bridge.items()]
    path = tmp / "bridge.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.config_path = write_config(tmp)
        self.config = load_config(self.config_path)
        self.source = FakeSource(CHANNELS, {"MUG": 5, "LAMP": 1, "TEA": 10})
        self.feed = FakeFeed()
        self.adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
        deps = EngineDeps(source=self.source, compute=fake_compute,
                          adapter_factory=lambda c, m: self.adapters[c], feed=self.feed)
        self.bridge = Bridge(self.config, deps=deps, settings=EngineSettings(poll_interval_s=5))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    s.bridge.start()
    yield s
    s.bridge.stop()


def test_a_signed_webhook_wakes_the_bridge_and_stock_flows(stack: Stack) -> None:
    assert stack.bridge.wait_idle(5)
    stack.source.set("LAMP", 0)
    stack.feed.emit(stack.source.pid("LAMP"))
    body = b'{"events": [{"id": 1, "product_id": 2, "reason": "move_done"}]}'
    url = stack.bridge.trigger_url
    assert url is not None
    # poll_interval is 5 s: only the webhook can make this fast
    reply = requests.post(url, data=body, headers={"X-Signature-256": sign(body, SECRET)}, timeout=5)
    assert reply.status_code == 202
    assert stack.bridge.wait_idle(3)
    assert stack.adapters["etsy_shop"].remote["etsy_shop-LAMP"] == (0, False)
    status = stack.bridge.status()
    assert status["channels"]["etsy_shop"]["deactivated"] == 1
    assert status["cursor"]["position"] == 1


def test_a_badly_signed_webhook_changes_nothing(stack: Stack) -> None:
    assert stack.bridge.wait_idle(5)
    pushes = sum(len(a.calls) for a in stack.adapters.values())
    body = b'{"events": []}'
    url = stack.bridge.trigger_url
    assert url is not None
    assert requests.post(url, data=body, headers={"X-Signature-256": "sha256=00"}, timeout=5).status_code == 401
    assert sum(len(a.calls) for a in stack.adapters.values()) == pushes


def test_explain_live_and_timeline(stack: Stack) -> None:
    items = stack.bridge.explain("MUG", channel="amazon_de")
    assert [(i["channel"], i["quantity"], i["source"]) for i in items] == [("amazon_de", 5, "live")]
    assert "free 5" in items[0]["text"]
    rows = stack.bridge.timeline("MUG")
    assert {r["channel"] for r in rows} == {c for c, _ in CHANNELS} and rows[0]["new"] == 5


def test_cli_status_timeline_explain_from_the_state_file(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.bridge.wait_idle(5)
    cfg = str(stack.config_path)
    assert cli.main(["status", "--json", "--config", cfg]) == 0
    status = json.loads(capsys.readouterr().out)
    assert set(status) >= {"channels", "cursor", "problems", "alerts"}
    assert status["channels"]["amazon_de"]["synced"] == 3
    assert cli.main(["status", "--config", cfg]) == 0
    assert "amazon_de" in capsys.readouterr().out

    assert cli.main(["timeline", "MUG", "--since", "1h", "--json", "--config", cfg]) == 0
    timeline = json.loads(capsys.readouterr().out)
    assert timeline["sku"] == "MUG" and len(timeline["entries"]) == 3
    assert {"at", "channel", "old", "new", "action", "events", "result", "message", "duration_ms"} <= set(
        timeline["entries"][0])
    assert cli.main(["timeline", "MUG", "--since", "yesterday-ish", "--config", cfg]) == 2

    def erp_down(*_a: object) -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(explain_command, "_explain_live", erp_down)
    assert cli.main(["explain", "MUG", "--channel", "etsy_shop", "--json", "--config", cfg]) == 0
    explained = json.loads(capsys.readouterr().out)
    [item] = explained["listings"]
    assert item["source"].startswith("stored") and item["quantity"] == 5 and "ERP unreachable" in explained["note"]
    assert cli.main(["explain", "NOPE", "--config", cfg]) == 2
    out = capsys.readouterr()
    assert "pw-never-shown" not in out.out + out.err
    assert out.err.strip().splitlines() == ["stock-bridge explain: unknown SKU NOPE: no listing"]


def test_cli_resync_json_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    s = Stack(tmp_path)
    deps = s.bridge._deps
    real_init = Bridge.__init__

    def with_fakes(self: Bridge, config: object, **kw: object) -> None:
        kw["deps"] = deps
        real_init(self, config, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Bridge, "__init__", with_fakes)
    cfg = str(s.config_path)
    assert cli.main(["resync", "--all", "--dry-run", "--json", "--config", cfg]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["changed"] == 9 and s.adapters["amazon_de"].calls == []
    assert cli.main(["resync", "--sku", "MUG", "--channel", "lazada_sg", "--json", "--config", cfg]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(c["channel_code"], c["new_qty"], c["result"]) for c in report["changes"]] == [("lazada_sg", 5, "synced")]
    assert cli.main(["resync", "--sku", "MUG", "--channel", "lazada_sg", "--config", cfg]) == 0
    assert "0 changed, 1 unchanged" in capsys.readouterr().out
    assert cli.main(["resync", "--sku", "GHOST", "--config", cfg]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "stock-bridge resync: unknown SKU GHOST (not in the ERP)"]
    assert cli.main(["resync", "--sku", "GHOST", "--json", "--config", cfg]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert "GHOST" in doc["error"] and doc["report"]["unknown_skus"] == ["GHOST"]
    # a channel code nobody knows (not in the config, the state file or the ERP): exit 2
    calls = sum(len(a.calls) for a in s.adapters.values())
    assert cli.main(["resync", "--all", "--channel", "lazada_typo", "--config", cfg]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown channel lazada_typo" in err[0] and "lazada_sg" in err[0]
    assert sum(len(a.calls) for a in s.adapters.values()) == calls
    # --channel alone: that channel's listings, and an unknown one is named (not "say which")
    assert cli.main(["resync", "--channel", "lazada_typo", "--config", cfg]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown channel lazada_typo" in err[0]
    assert cli.main(["resync", "--channel", "lazada_sg", "--dry-run", "--json", "--force",
                     "--config", cfg]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert changes and {c["channel_code"] for c in changes} == {"lazada_sg"}
    assert cli.main(["resync", "--config", cfg]) == 2
    assert cli.main(["resync", "--json", "--config", cfg]) == 2
    assert "--sku" in json.loads(capsys.readouterr().out)["error"]


def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, poll_interval_s=-1)
    assert cli.main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bridge.poll_interval_s" in err
    assert cli.main(["status", "--config", str(tmp_path / "missing.toml")]) == 2


def test_status_without_a_state_file_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--config", str(write_config(tmp_path))]) == 1
    assert "does not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["status"], ["timeline", "MUG"], ["timeline", "MUG", "--since", "soon"],
                                  ["explain", "MUG", "--channel", "nowhere"], ["resync", "--all"]])
def test_json_commands_always_print_a_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    cfg = str(write_config(tmp_path))  # no state file; the ERP at port 9 is unreachable
    monkeypatch.setattr(resync_command, "running_bridge", lambda config: None)
    code = cli.main([*argv, "--json", "--config", cfg])
    doc = json.loads(capsys.readouterr().out)
    assert code in (1, 2) and isinstance(doc["error"], str) and doc["error"]


def test_json_and_a_bad_config_or_usage_still_print_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_config(tmp_path, poll_interval_s=-1)
    assert cli.main(["status", "--json", "--config", str(bad)]) == 2
    assert "bridge.poll_interval_s" in json.loads(capsys.readouterr().out)["error"]
    with pytest.raises(SystemExit) as exc:
        cli.main(["timeline", "--json"])
    assert exc.value.code == 2
    assert "sku" in json.loads(capsys.readouterr().out)["error"]


def test_timeline_and_explain_name_an_unknown_sku_or_channel(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.bridge.wait_idle(5)
    cfg = str(stack.config_path)
    assert cli.main(["timeline", "GHOST", "--config", cfg]) == 2
    assert "unknown SKU GHOST" in capsys.readouterr().err
    assert cli.main(["timeline", "MUG", "--since", "1s", "--config", cfg]) in (0,)  # known, maybe no pushes since
    capsys.readouterr()
    assert cli.main(["timeline", "MUG", "--since", "soon", "--config", cfg]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--since" in err[0] and "'soon'" in err[0]
    monkeypatch.setattr(explain_command, "_explain_live", lambda *a: [])
    assert cli.main(["explain", "MUG", "--channel", "etsy_typo", "--config", cfg]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown channel etsy_typo" in err[0]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["explain"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["bogus"])
    assert exc.value.code == 2


def test_embedded_default_parses_and_names_every_demo_channel() -> None:
    from connector.defaults import DEMO_CHANNELS, embedded_default

    config = parse_config(embedded_default(), source="embedded default")
    assert set(config.channels) == set(DEMO_CHANNELS)
    assert config.channels["bol_nl"].settings("bol_nl", environ={})["token_url"].endswith("/bol/token")
    assert config.bridge.listen == "127.0.0.1:8765" and config.webhook_secret()


def test_a_bridge_started_directly_takes_the_automation_token_and_not_the_secret_as_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STOCK_BRIDGE_AUTOMATION_TOKEN", raising=False)
    monkeypatch.delenv("STOCK_BRIDGE_WEBHOOK_SECRET", raising=False)
    token = "automation-wake-7f3c"
    config = load_config(write_config(tmp_path, automation_token=token))
    source = FakeSource(CHANNELS, {"MUG": 5, "LAMP": 1, "TEA": 10})
    feed = FakeFeed()
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda c, m: adapters[c], feed=feed)
    # Not through the CLI: nothing but Bridge.start hands the token to the listener.
    bridge = Bridge(config, deps=deps, settings=EngineSettings(poll_interval_s=5))
    bridge.start()
    try:
        assert bridge.wait_idle(5)
        url = bridge.trigger_url
        assert url is not None
        payload = {"_model": "stock.quant", "_id": 1, "_name": "LAMP"}  # Odoo's automation webhook
        for wrong in (SECRET, token + "x", ""):
            assert requests.post(f"{url}?token={wrong}", json=payload, timeout=5).status_code == 401
        source.set("LAMP", 0)
        feed.emit(source.pid("LAMP"))
        reply = requests.post(f"{url}?token={token}", json=payload, timeout=5)
        assert reply.status_code == 202, reply.text
        # poll_interval is 5 s: only the accepted wake-up makes this fast
        assert bridge.wait_idle(3)
        assert adapters["etsy_shop"].remote["etsy_shop-LAMP"] == (0, False)
    finally:
        bridge.stop()


def test_an_automation_wake_up_is_looked_at_again_after_odoos_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Odoo posts an automation rule's webhook before its transaction commits: the first
    read may see the old stock, so the bridge reads the named product again a moment later."""
    from connector.sync import service

    monkeypatch.setattr(service, "AUTOMATION_RECHECK_S", 0.3)
    token = "automation-wake-9b1d"
    config = load_config(write_config(tmp_path, automation_token=token))
    source = FakeSource(CHANNELS, {"MUG": 5, "LAMP": 1, "TEA": 10})
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda c, m: adapters[c],
                      feed=FakeFeed())
    bridge = Bridge(config, deps=deps, settings=EngineSettings(poll_interval_s=30))
    bridge.start()
    try:
        assert bridge.wait_idle(5)
        url = bridge.trigger_url
        assert url is not None
        lamp = source.pid("LAMP")
        payload = {"_model": "stock.quant", "_id": 1, "product_id": lamp}
        # the wake-up arrives while Odoo has not committed yet: the stock still reads 1
        assert requests.post(f"{url}?token={token}", json=payload, timeout=5).status_code == 202
        assert bridge.wait_idle(3)
        assert adapters["etsy_shop"].remote["etsy_shop-LAMP"] == (1, True)
        source.set("LAMP", 0)  # ...and now the commit lands; no feed entry, no second webhook
        deadline = time.monotonic() + 5
        while adapters["etsy_shop"].remote["etsy_shop-LAMP"] != (0, False) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert adapters["etsy_shop"].remote["etsy_shop-LAMP"] == (0, False)
    finally:
        bridge.stop()
