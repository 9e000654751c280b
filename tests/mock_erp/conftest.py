"""Fixtures for the mock ERP tests: a running server on a free port, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.mock_erp.server import RunningMockErp, start_mock_erp

API_KEY = "demo-bridge-api-key-0000000000000000"


@pytest.fixture
def erp() -> Iterator[RunningMockErp]:
    with start_mock_erp() as running:
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
