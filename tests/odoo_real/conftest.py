"""Fixtures for tests against a real Odoo 18 (the kit in ../shared/odoo18). Every test
here carries the `odoo` marker and is skipped, saying why, when the kit is absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.odoo_real.kit import KIT_MISSING, BridgeUser, OdooKit, OdooServer, find_kit, unique_db


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/odoo_real/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.odoo)


@pytest.fixture(scope="session")
def kit() -> OdooKit:
    found = find_kit()
    if found is None:
        pytest.skip(KIT_MISSING)
    found.setup()
    return found


@pytest.fixture(scope="session")
def real_odoo(kit: OdooKit) -> Iterator[OdooServer]:
    """One Odoo 18 with the addon for the session (its database dropped at the end)."""
    with kit.server(unique_db("mss_real")) as server:
        yield server


@pytest.fixture(scope="session")
def bridge_user(real_odoo: OdooServer) -> BridgeUser:
    """The bridge user exactly as README.md says: Internal User + Marketplace Bridge, an
    API key made as that user (90 days: the addon's group allows it)."""
    return real_odoo.provision_bridge()
