"""Fixtures for the mock ERP tests: a running server on a free port, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.mock_erp.server import RunningMockErp, start_mock_erp

API_KEY = "demo-bridge-api-key-0000000000000000"
# The clients' session creates and validates a delivery, which the bridge user may not
# (as on a real Odoo): they run as admin, with this key for the key-only protocols.
ADMIN_API_KEY = "test-admin-api-key-00000000000000000"


@pytest.fixture
def erp() -> Iterator[RunningMockErp]:
    """The mock as compose's series (18.0)."""
    with start_mock_erp() as running:
        running.db.api_keys[ADMIN_API_KEY] = 2
        yield running


@pytest.fixture
def erp19() -> Iterator[RunningMockErp]:
    """The mock as Odoo 19.0, for what only 19.0 has (JSON-2, /doc-bearer)."""
    with start_mock_erp(version="19.0") as running:
        running.db.api_keys[ADMIN_API_KEY] = 2
        yield running


@pytest.fixture
def erp_factory() -> Iterator[object]:
    started: list[RunningMockErp] = []

    def start(**kwargs: object) -> RunningMockErp:
        running = start_mock_erp(**kwargs)  # type: ignore[arg-type]
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
