"""[channels.<code>] sections checked against the adapter registry, and a new marketplace
that is one module + one registry line going through config, wiring and the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connector.config import ConfigError, is_secret_key, parse_config
from connector.marketplaces import registry
from connector.stock.model import ZeroStockAction
from connector.sync.channel_keys import secret_keys, validate_channels
from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from connector.sync.wiring import make_adapter_factory, zero_stock_defaults
from tests.sync import dummy_marketplace
from tests.sync.fakes import FakeFeed, FakeSource, fake_compute
from tests.sync.test_state_lock import keep_log_levels  # noqa: F401  (fixture)

ERP = {"url": "http://127.0.0.1:9", "database": "demo", "password": "pw"}


def config_with(code: str, section: dict[str, Any], tmp: Path | None = None) -> Any:
    bridge = {"state_path": str(tmp / "s.sqlite3")} if tmp else {}
    return parse_config({"erp": ERP, "bridge": bridge, "channels": {code: section}}, environ={})


AMAZON = {"marketplace": "amazon", "base_url": "http://x", "seller_id": "A1", "marketplace_id": "M",
          "client_id": "c", "client_secret": "cs", "refresh_token": "rt"}


def test_a_complete_section_passes_and_optional_keys_are_known() -> None:
    validate_channels(config_with("amazon_de", {**AMAZON, "product_type": "PRODUCT"}), environ={})


@pytest.mark.parametrize("section, words", [
    ({**AMAZON, "seler_id": "A1"}, ["amazon_de", "'seler_id'", "unknown key"]),
    ({k: v for k, v in AMAZON.items() if k != "refresh_token"}, ["amazon_de", "'refresh_token'", "missing key",
                                                                 "STOCK_BRIDGE_AMAZON_DE_REFRESH_TOKEN"]),
    ({k: v for k, v in AMAZON.items() if k != "base_url"}, ["amazon_de", "'base_url'", "missing key"]),
    ({**AMAZON, "marketplace": "amazonn"}, ["amazon_de", "unknown marketplace 'amazonn'"]),
])
def test_a_bad_section_is_one_line_naming_channel_and_key(section: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as exc:
        validate_channels(config_with("amazon_de", section), environ={})
    message = str(exc.value)
    assert len(message.splitlines()) == 1 and all(w in message for w in words), message
    assert "cs" not in message.split("known:")[0] and "rt" not in message.split("(")[0]


def test_a_required_secret_may_come_from_the_environment() -> None:
    section = {k: v for k, v in AMAZON.items() if k != "client_secret"}
    validate_channels(config_with("amazon_de", section), environ={"STOCK_BRIDGE_AMAZON_DE_CLIENT_SECRET": "x"})


def test_the_erp_names_the_marketplace_when_the_section_does_not() -> None:
    section = {k: v for k, v in AMAZON.items() if k not in ("marketplace", "seller_id")}
    config = config_with("amazon_de", section)
    validate_channels(config, environ={})  # marketplace unknown yet: nothing to check
    with pytest.raises(ConfigError, match="amazon_de.*'seller_id'"):
        validate_channels(config, {"amazon_de": "amazon"}, environ={})


def test_cli_run_with_a_typo_exits_2_before_connecting(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      keep_log_levels: None) -> None:
    from connector.cli import app as cli

    path = tmp_path / "bridge.toml"
    path.write_text(
        '[erp]\nurl = "http://127.0.0.1:9"\ndatabase = "d"\npassword = "pw"\n'
        f'[bridge]\nstate_path = "{tmp_path / "s.sqlite3"}"\nlisten = "127.0.0.1:0"\n'
        '[channels.bol_nl]\nmarketplace = "bol"\nbase_url = "http://x"\nclient_id = "c"\nclient_secret = "s"\n'
        'clientsecret = "typo"\n'
    )
    assert cli.main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bol_nl" in err[-1] and "'clientsecret'" in err[-1] and "typo" not in err[-1]


def test_secret_keys_come_from_every_adapter_plus_a_generic_rule() -> None:
    found = secret_keys()
    assert {"partner_secret_key", "keystring", "shared_secret", "consumer_key", "app_secret"} <= found
    assert all(is_secret_key(k) for k in ("partner_client_key", "client_secret", "my_password", "x_token"))
    assert not any(is_secret_key(k) for k in ("shop_id", "seller_id", "storefront", "base_url"))
    etsy = {"marketplace": "etsy", "base_url": "http://x", "keystring": "KS-1", "shared_secret": "SS",
            "shop_id": "1", "refresh_token": "r"}
    config = config_with("etsy_shop", etsy)
    validate_channels(config, environ={})
    extra = config.channels["etsy_shop"].model_extra or {}
    assert isinstance(extra["keystring"], SecretStr)  # Etsy says so, the name does not
    assert "KS-1" not in repr(config) and config.channels["etsy_shop"].settings("etsy_shop", {})["keystring"] == "KS-1"


def test_a_new_marketplace_is_one_module_and_one_registry_line(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ADAPTERS, "dummy", "tests.sync.dummy_marketplace:DummyAdapter")
    dummy_marketplace.PUSHED.clear()
    section = {"marketplace": "dummy", "base_url": "http://dummy.invalid", "shop_id": "7",
               "api_secret": "dummy-secret-1", "signing_phrase": "open sesame", "region": "eu"}
    config = config_with("dummy_x", section, tmp_path)
    validate_channels(config, environ={})  # its own required, secret and optional keys
    with pytest.raises(ConfigError, match="dummy_y.*'shop_id'"):
        validate_channels(config_with("dummy_y", {**section, "shop_id": ""}), environ={})
    assert isinstance((config.channels["dummy_x"].model_extra or {})["signing_phrase"], SecretStr)
    assert "signing_phrase" in secret_keys()
    assert zero_stock_defaults()["dummy"] is ZeroStockAction.DEACTIVATE  # from the adapter class

    factory = make_adapter_factory(config)
    source = FakeSource([("dummy_x", "dummy")], {"MUG": 5, "LAMP": 0})
    store = StateStore.open(tmp_path / "s.sqlite3")
    engine = Engine(
        EngineDeps(source=source, compute=fake_compute, adapter_factory=factory, feed=FakeFeed(),
                   zero_stock_defaults=zero_stock_defaults()),
        EngineSettings(poll_interval_s=0.05), store,
    )
    try:
        engine.start()
        assert engine.wait_idle(10)
        assert ("dummy_x", "dummy_x-MUG", 5) in dummy_marketplace.PUSHED
        source.set("MUG", 3)
        engine.wake([source.pid("MUG")])
        assert engine.wait_idle(10)
        assert dummy_marketplace.PUSHED[-1] == ("dummy_x", "dummy_x-MUG", 3)
        row = store.listing(source.listing_id("dummy_x", "MUG"))
        assert row is not None and row.pushed_qty == 3 and row.marketplace == "dummy"
    finally:
        engine.stop()
        store.close()
