"""Rotated refresh tokens survive a restart: adapters report them, the state store keeps
them (owner-only file, never in the journal), and the next adapter starts from them."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses

from connector.config import BridgeConfig, parse_config
from connector.sync.credentials import TokenVault
from connector.state.sqlite import StateStore
from connector.sync.wiring import make_adapter_factory

ETSY = "https://etsy.test"
SHOPEE = "https://shopee.test"


def config(tmp: Path, etsy_refresh: str = "rt-config", shopee_refresh: str = "sp-config") -> BridgeConfig:
    return parse_config({
        "erp": {"url": "http://127.0.0.1:9", "database": "d", "password": "p"},
        "bridge": {"state_path": str(tmp / "state.sqlite3")},
        "channels": {
            "etsy_shop": {"marketplace": "etsy", "base_url": ETSY, "token_url": f"{ETSY}/v3/public/oauth/token",
                          "keystring": "ks", "shared_secret": "ss",
                          "shop_id": "1", "refresh_token": etsy_refresh},
            "shopee_sg": {"marketplace": "shopee", "base_url": SHOPEE, "partner_id": "2", "partner_key": "pk",
                          "shop_id": "3", "access_token": "at-config", "refresh_token": shopee_refresh},
        },
    }, environ={})


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def etsy_rotation(rsps: responses.RequestsMock, sent: list[str]) -> None:
    """An Etsy token endpoint that rotates: refresh token n -> n+1, the old one dies."""
    def reply(request: responses.PreparedRequest) -> tuple[int, dict[str, str], str]:
        given = parse_qs(str(request.body))["refresh_token"][0]
        sent.append(given)
        nxt = f"rt-{len(sent) + 1}"
        return 200, {}, json.dumps({"access_token": f"at-{len(sent)}", "expires_in": 3600, "refresh_token": nxt})
    rsps.add_callback("POST", f"{ETSY}/v3/public/oauth/token", callback=reply)


def test_the_state_file_is_owner_only_and_holds_credentials_out_of_reprs(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    assert stat.S_IMODE((tmp_path / "s.sqlite3").stat().st_mode) == 0o600
    store.save_credential("etsy_shop", "refresh_token", "very-secret-token", origin="o")
    stored = store.credentials("etsy_shop")["refresh_token"]
    assert stored.value == "very-secret-token"
    assert "very-secret-token" not in repr(stored)
    assert store.credentials("other") == {}
    store.close()


def test_an_older_world_readable_state_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    StateStore.open(path).close()
    path.chmod(0o644)
    StateStore.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_etsy_restarted_with_the_state_store_uses_the_rotated_token(
    tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    sent: list[str] = []
    etsy_rotation(rsps, sent)
    cfg = config(tmp_path)
    store = StateStore.open(cfg.bridge.state_path)
    adapter = make_adapter_factory(cfg, TokenVault(store))("etsy_shop", "etsy")
    assert adapter.token.value() == "at-1"  # type: ignore[attr-defined]
    adapter.close()
    store.close()
    assert sent == ["rt-config"]

    # restart: a new store handle and a new adapter, same config file
    store = StateStore.open(cfg.bridge.state_path)
    adapter = make_adapter_factory(cfg, TokenVault(store))("etsy_shop", "etsy")
    adapter.token.value()  # type: ignore[attr-defined]
    assert sent == ["rt-config", "rt-2"]  # not the dead config value
    assert store.credentials("etsy_shop")["refresh_token"].value == "rt-3"
    assert store.journal() == []  # a credential is never journaled
    adapter.close()
    store.close()


def test_a_re_authorized_config_token_wins_over_the_stored_one(tmp_path: Path, rsps: responses.RequestsMock) -> None:
    sent: list[str] = []
    etsy_rotation(rsps, sent)
    store = StateStore.open(tmp_path / "state.sqlite3")
    make_adapter_factory(config(tmp_path), TokenVault(store))("etsy_shop", "etsy").token.value()  # type: ignore[attr-defined]
    # the operator re-authorizes the shop and pastes a brand-new refresh token
    fresh = config(tmp_path, etsy_refresh="rt-reauthorized")
    make_adapter_factory(fresh, TokenVault(store))("etsy_shop", "etsy").token.value()  # type: ignore[attr-defined]
    assert sent == ["rt-config", "rt-reauthorized"]
    store.close()


def test_without_a_vault_adapters_work_as_before(tmp_path: Path, rsps: responses.RequestsMock) -> None:
    sent: list[str] = []
    etsy_rotation(rsps, sent)
    adapter = make_adapter_factory(config(tmp_path))("etsy_shop", "etsy")
    adapter.token.value()  # type: ignore[attr-defined]
    assert adapter.refresh_token == "rt-2"  # type: ignore[attr-defined]


def test_shopee_refresh_and_access_tokens_survive_a_restart(tmp_path: Path, rsps: responses.RequestsMock) -> None:
    refreshes: list[str] = []

    def refresh(request: responses.PreparedRequest) -> tuple[int, dict[str, str], str]:
        refreshes.append(json.loads(request.body or b"{}")["refresh_token"])
        n = len(refreshes)
        return 200, {}, json.dumps({"access_token": f"sp-at-{n}", "refresh_token": f"sp-rt-{n}", "expire_in": 14400,
                                    "error": "", "message": ""})

    rsps.add_callback("POST", f"{SHOPEE}/api/v2/auth/access_token/get", callback=refresh)
    cfg = config(tmp_path)
    store = StateStore.open(cfg.bridge.state_path)
    adapter = make_adapter_factory(cfg, TokenVault(store))("shopee_sg", "shopee")
    assert adapter.token.value() == "at-config"  # type: ignore[attr-defined]
    adapter.token.invalidate()  # type: ignore[attr-defined]  # what an invalid_access_token reply does
    assert adapter.token.value() == "sp-at-1"  # type: ignore[attr-defined]
    assert refreshes == ["sp-config"]
    store.close()

    store = StateStore.open(cfg.bridge.state_path)
    adapter = make_adapter_factory(cfg, TokenVault(store))("shopee_sg", "shopee")
    assert adapter.token.value() == "sp-at-1"  # type: ignore[attr-defined]  # the stored access token first
    adapter.token.invalidate()  # type: ignore[attr-defined]
    adapter.token.value()  # type: ignore[attr-defined]
    assert refreshes == ["sp-config", "sp-rt-1"]
    store.close()


def test_a_failing_store_does_not_stop_the_adapter(tmp_path: Path, rsps: responses.RequestsMock,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    sent: list[str] = []
    etsy_rotation(rsps, sent)
    store = StateStore.open(tmp_path / "state.sqlite3")
    adapter = make_adapter_factory(config(tmp_path), TokenVault(store))("etsy_shop", "etsy")
    store.close()  # writes now fail
    assert adapter.token.value() == "at-1"  # type: ignore[attr-defined]
    assert "could not store the rotated refresh_token" in caplog.text
    assert "rt-2" not in caplog.text
