"""`stock-bridge advise` and `simulate` on the demo shop (an in-process mock ERP)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli.app import main
from connector.defaults import embedded_default, to_toml
from connector.mock_erp.server import start_mock_erp


@pytest.fixture()
def erp() -> Iterator[Any]:
    server = start_mock_erp(port=0, version="18.0")
    yield server
    server.stop()


@pytest.fixture()
def config(erp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("STOCK_BRIDGE_CONFIG", "STOCK_BRIDGE_RISK_MANAGER_USERNAME",
                 "STOCK_BRIDGE_RISK_MANAGER_PASSWORD", "STOCK_BRIDGE_RISK_MANAGER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    data = embedded_default(erp_url=erp.url, state_path=str(tmp_path / "state.sqlite3"))
    path = tmp_path / "bridge.toml"
    path.write_text(to_toml(data))
    return path


def set_policy(erp: Any, code: str, policy: str, low: float = 0, high: float = 0) -> None:
    """As the admin would, on the channel form."""
    from connector.erp.client import connect
    from connector.config import parse_config

    data = embedded_default(erp_url=erp.url)
    data["erp"].update(username="admin", password="admin")
    data["erp"].pop("api_key")
    client = connect(parse_config(data).erp)
    try:
        [cid] = client.call("marketplace.channel", "search", [("code", "=", code)])
        client.call("marketplace.channel", "write", [cid], {"buffer_policy": policy, "advised_buffer_min": low,
                                                            "advised_buffer_max": high})
    finally:
        client.close()


def listing_ids(erp: Any, code: str) -> set[int]:
    from connector.erp.client import connect
    from connector.config import parse_config

    client = connect(parse_config(embedded_default(erp_url=erp.url)).erp)
    try:
        return set(client.call("marketplace.listing", "search", [("channel_id.code", "=", code)]))
    finally:
        client.close()


def buffers(erp: Any) -> dict[int, tuple[bool, float]]:
    from connector.erp.client import connect
    from connector.config import parse_config

    client = connect(parse_config(embedded_default(erp_url=erp.url)).erp)
    try:
        rows = client.call("marketplace.listing", "search_read", [], ["buffer_override", "buffer_qty"])
    finally:
        client.close()
    return {r["id"]: (r["buffer_override"], r["buffer_qty"]) for r in rows}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_advise_reports_and_writes_nothing(erp: Any, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = buffers(erp)
    code, out, _ = run(capsys, "advise", "--config", str(config), "--json", "--target-risk", "0.0001")
    assert code == 0
    report = json.loads(out)
    assert report["applied"] is None and report["deliveries"] > 0
    amazon = [r for r in report["listings"] if r["channel"] == "amazon_de"]
    shopify = [r for r in report["listings"] if r["channel"] == "shopify_eu"]
    # the slow channel (minutes to show a number) is the one that gets held-back units
    assert max(r["buffer_advised"] for r in amazon) > max(r["buffer_advised"] for r in shopify)
    assert all(p["risk_advised"] <= 0.0001 for p in report["products"])
    assert report["hidden_share_advised"] <= 0.02
    assert buffers(erp) == before

    code, text, _ = run(capsys, "advise", "--config", str(config), "--channel", "amazon_de")
    assert code == 0 and "nothing written" in text
    assert all(" amazon_de " in line for line in text.splitlines()[2:-2])


def test_apply_needs_a_manager_and_then_writes(erp: Any, config: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    before = buffers(erp)
    code, _, err = run(capsys, "advise", "--config", str(config), "--apply", "--target-risk", "0.0001")
    assert code == 2 and "manager" in err and len(err.strip().splitlines()) == 1
    assert buffers(erp) == before
    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_USERNAME", "admin")
    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_PASSWORD", "admin")
    # every channel's buffer policy is "fixed" by default: nothing is written
    code, out, err = run(capsys, "advise", "--config", str(config), "--apply", "--target-risk", "0.0001")
    assert code == 0, err
    assert "buffer policy of" in out and buffers(erp) == before
    # Amazon's set to "advised", at most 1 unit; bol's advised without bounds; the rest fixed
    set_policy(erp, "amazon_de", "advised", 0, 1)
    set_policy(erp, "bol_nl", "advised")
    code, out, err = run(capsys, "advise", "--config", str(config), "--apply", "--target-risk", "0.0001", "--json")
    assert code == 0, err
    report = json.loads(out)
    after = buffers(erp)
    written = 0
    for row in report["listings"]:
        expected = min(row["buffer_advised"], 1) if row["channel"] == "amazon_de" else row["buffer_advised"]
        if row["channel"] in ("amazon_de", "bol_nl") and expected != row["buffer_now"]:
            assert after[row["listing_id"]] == (True, float(expected)), row
            written += 1
        else:  # a fixed channel, or already as advised: left alone (it may inherit the channel's rule)
            assert after[row["listing_id"]] == before[row["listing_id"]], row
    assert written and report["applied"]["written"] == written
    assert "amazon_de" not in report["applied"]["skipped_channels"]
    assert "shopify_eu" in report["applied"]["skipped_channels"] or all(
        r["buffer_advised"] == r["buffer_now"] for r in report["listings"] if r["channel"] == "shopify_eu")


def test_apply_with_a_wrong_manager_password_names_no_secret(erp: Any, config: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    set_policy(erp, "amazon_de", "advised")
    before = buffers(erp)
    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_USERNAME", "admin")
    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_PASSWORD", "wrong-secret-4711")
    code, out, err = run(capsys, "advise", "--config", str(config), "--apply", "--target-risk", "0.0001")
    assert code == 1 and "cannot log in as admin" in err and len(err.strip().splitlines()) == 1
    assert "wrong-secret-4711" not in err + out
    assert buffers(erp) == before


@pytest.mark.parametrize(("argv", "needle"), [
    (["advise", "--channel", "nowhere"], "unknown channel nowhere"),
    (["advise", "--target-risk", "1.5"], "target risk must be in (0, 1)"),
    (["advise", "--target-risk", "0"], "target risk must be in (0, 1)"),
    (["simulate", "--rate", "amazon_de=-3"], "non-negative"),
    (["simulate", "--rate", "mars_shop=3"], "unknown channel mars_shop"),
    (["simulate", "--rate", "amazon_de"], "CHANNEL=VALUE"),
    (["simulate", "--push", "amazon_de=9:2"], "p99"),
    (["advise", "--sku", "NO-SUCH-SKU"], "unknown SKU NO-SUCH-SKU"),
])
def test_bad_input_is_one_line_exit_2(config: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                      needle: str) -> None:
    code, out, err = run(capsys, *argv, "--config", str(config))
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, *argv, "--config", str(config), "--json")
    assert code == 2 and needle in json.loads(out)["error"]


def test_no_history_is_a_usage_error(erp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCK_BRIDGE_CONFIG", raising=False)
    data = embedded_default(erp_url=erp.url, state_path=str(tmp_path / "s.sqlite3"))
    data["risk"]["window_days"] = 1  # the demo history starts 3 days ago
    path = tmp_path / "bridge.toml"
    path.write_text(to_toml(data))
    for command in ("advise", "simulate"):
        code, _, err = run(capsys, command, "--config", str(path))
        assert code == 2 and "no sales history" in err


def test_simulate_on_given_rates_with_chart(config: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "risk.svg"
    code, out, err = run(capsys, "simulate", "--config", str(config), "--rate", "amazon_de=20",
                         "--rate", "shopify_eu=20", "--rate", "zalando_de=10", "--orders", "1500",
                         "--trials", "300", "--lot-size", "10", "--json", "--chart", str(chart))
    assert code == 0, err
    report = json.loads(out)
    names = [p["policy"] for p in report["policies"]]
    assert names[0].startswith("batch sync every 15 min") and "this bridge + advised buffers" in names
    batch = report["policies"][0]
    assert batch["oversells_per_10k"] > 0
    assert {c["channel"] for c in batch["channels"]} == {"amazon_de", "shopify_eu", "zalando_de"}
    svg = ET.parse(chart).getroot()
    assert svg.tag.endswith("svg")
    texts = "".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "amazon_de" in texts and "target" in texts


def test_simulate_demo_shop_table(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", "--config", str(config), "--sku", "MUG-CER-350", "--sku",
                         "PEN-GEL-BLK", "--orders", "800", "--trials", "200")
    assert code == 0, err
    assert "this bridge + advised buffers" in out and "oversold/10k" in out


def test_apply_without_the_addon_prints_config_lines(erp: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCK_BRIDGE_CONFIG", raising=False)
    data = embedded_default(erp_url=erp.url, state_path=str(tmp_path / "s.sqlite3"))
    data["erp"]["mode"] = "no_addon"
    data.pop("channels")
    body = to_toml(data) + """
[channels.amazon_de]
marketplace = "amazon"
warehouses = ["WH"]

[[channels.amazon_de.listings]]
sku = "MUG-CER-350"

[channels.shopify_eu]
marketplace = "shopify"
warehouses = ["WH"]

[[channels.shopify_eu.listings]]
sku = "MUG-CER-350"
"""
    path = tmp_path / "bridge.toml"
    path.write_text(body)
    before = buffers(erp)
    code, out, err = run(capsys, "advise", "--config", str(path), "--apply", "--target-risk", "0.00001")
    assert code == 0, err
    assert "no addon: set these in the bridge config" in out
    assert 'channels.amazon_de listing sku = "MUG-CER-350": buffer_qty = ' in out
    assert buffers(erp) == before


def test_the_running_bridge_keeps_advised_channels_buffers(erp: Any, config: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`[risk] keep_advised_interval_s`: the bridge's periodic job writes what `advise
    --apply` would, only on Advised channels and within their bounds; Fixed ones untouched."""
    from connector.config import load_config
    from connector.risk.commands import keep_advised_buffers

    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_USERNAME", "admin")
    monkeypatch.setenv("STOCK_BRIDGE_RISK_MANAGER_PASSWORD", "admin")
    loaded = load_config(config)
    loaded = loaded.model_copy(update={"risk": loaded.risk.model_copy(update={"target_risk": 0.0001})})
    before = buffers(erp)
    assert keep_advised_buffers(loaded)["written"] == 0  # every channel Fixed by default
    assert buffers(erp) == before
    set_policy(erp, "amazon_de", "advised", 0, 1)
    result = keep_advised_buffers(loaded)
    after = buffers(erp)
    changed = {lid for lid in after if after[lid] != before[lid]}
    assert result["written"] == len(changed) > 0
    amazon = listing_ids(erp, "amazon_de")
    assert changed <= amazon and all(after[lid][0] and after[lid][1] <= 1.0 for lid in changed)
    assert keep_advised_buffers(loaded)["written"] == 0  # kept: a second round finds nothing to do
