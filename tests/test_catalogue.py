"""Every list of marketplaces reads connector.catalogue; the ones that cannot (the Odoo
addon, the demo fixtures, the adapter classes' own declarations) are kept equal to it here."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from connector import catalogue
from connector.catalogue import CATALOGUE, by_code
from connector.marketplaces.registry import ADAPTERS, adapter_class

ROOT = Path(__file__).resolve().parents[1]
ADDON_CHANNEL = ROOT / "addons" / "marketplace_stock_sync" / "models" / "marketplace_channel.py"


def _addon_selection() -> list[tuple[str, str]]:
    tree = ast.parse(ADDON_CHANNEL.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MARKETPLACES" for t in node.targets):
            return [tuple(pair) for pair in ast.literal_eval(node.value)]
    raise AssertionError("no MARKETPLACES list in the addon's marketplace_channel.py")


def test_addon_selection_equals_the_catalogue() -> None:
    assert _addon_selection() == catalogue.selection()


def test_mock_erp_selection_is_the_catalogue() -> None:
    from connector.mock_erp.schema import MARKETPLACES

    assert MARKETPLACES == catalogue.selection()


def test_codes_are_unique_and_lowercase() -> None:
    codes = [m.code for m in CATALOGUE]
    assert len(set(codes)) == len(codes) and all(c == c.lower() and c.isidentifier() for c in codes)
    assert len({m.demo_channel for m in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda m: m.code)
def test_registry_loads_the_catalogue_adapter(entry: catalogue.Marketplace) -> None:
    assert ADAPTERS[entry.code] == entry.adapter
    assert adapter_class(entry.code).__name__ == entry.adapter.partition(":")[2]


def test_sandbox_serves_every_catalogue_marketplace_under_its_code() -> None:
    from connector.sandbox.core import MARKETPLACES
    from connector.sandbox.server import APIS

    assert list(APIS) == [m.code for m in CATALOGUE] == list(MARKETPLACES)
    assert all(api.name == code for code, api in APIS.items())


def test_demo_fixture_channels_match_the_catalogue_demo_channels() -> None:
    from connector.defaults import DEMO_CHANNELS

    data = json.loads((ROOT / "fixtures" / "demo" / "40_marketplace.json").read_text())
    fixture = {row["code"]: row["marketplace"] for row in data["marketplace.channel"].values()}
    assert fixture == DEMO_CHANNELS
    zero = {row["code"]: row["zero_stock_action"] for row in data["marketplace.channel"].values()}
    assert all(zero[m.demo_channel] == adapter_class(m.code).default_zero_stock.value for m in CATALOGUE)


def test_unknown_code_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: amazon, bol"):
        by_code("nope")
