"""Lazada's rotated tokens reach the state store through the wiring's TokenVault, and the
next start uses them (the adapter reports them with `_token_rotated`)."""

from __future__ import annotations

from pathlib import Path

from connector.config import parse_config
from connector.defaults import demo_credentials
from connector.marketplaces.base import MarketplaceAdapter
from connector.sync.credentials import TokenVault
from connector.state.sqlite import StateStore
from connector.sync.wiring import make_adapter_factory


def test_lazada_rotated_tokens_are_stored_and_used_after_a_restart(tmp_path: Path) -> None:
    section = {"marketplace": "lazada", "base_url": "http://127.0.0.1:9/lazada",
               **demo_credentials("lazada_sg", "lazada")}
    config = parse_config({"erp": {"password": "pw"}, "bridge": {"state_path": str(tmp_path / "s.sqlite3")},
                           "channels": {"lazada_sg": section}}, environ={})
    store = StateStore.open(config.bridge.state_path)
    try:
        adapter = make_adapter_factory(config, TokenVault(store))("lazada_sg", "lazada")
        assert isinstance(adapter, MarketplaceAdapter) and adapter.on_token_rotated is not None
        adapter._token_rotated("access_token", "lazada-access-2")
        adapter._token_rotated("refresh_token", "lazada-refresh-2")
        stored = store.credentials("lazada_sg")
        assert stored["access_token"].value == "lazada-access-2" and stored["refresh_token"].value == "lazada-refresh-2"
        again = make_adapter_factory(config, TokenVault(store))("lazada_sg", "lazada")
        assert isinstance(again, MarketplaceAdapter)
        assert again.settings["access_token"] == "lazada-access-2"
        assert again.settings["refresh_token"] == "lazada-refresh-2"
    finally:
        store.close()
