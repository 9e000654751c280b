"""The bad-input cases of tests/odoo_real/test_clear_errors.py that the mock ERP can play
(wrong password, a database that does not exist), through `stock-bridge run` as its own
process: the same one line as against real Odoo 18, exit 1 within seconds, no traceback,
no secret. The mock answers an unknown database as Odoo 18 does (psycopg2.OperationalError),
so the bridge does not retry it as if it were an outage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.mock_erp.server import RunningMockErp, start_mock_erp
from tests.odoo_real.bridge_proc import BridgeFiles, assert_one_clear_line, run_once

PROTOCOLS = ["jsonrpc", "xmlrpc"]


@pytest.fixture(scope="module")
def mock18() -> Iterator[RunningMockErp]:
    with start_mock_erp(version="18.0") as running:
        yield running


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_password_on_the_mock(tmp_path: Path, mock18: RunningMockErp, protocol: str) -> None:
    wrong = "not-the-bridge-password"
    done = run_once(BridgeFiles(tmp_path, mock18.url, mock18.database, "bridge", wrong, protocol=protocol))
    assert_one_clear_line(done, "Odoo refused login 'bridge' on database 'demo'", "New API Key",
                          secrets=(wrong,))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_database_on_the_mock(tmp_path: Path, mock18: RunningMockErp, protocol: str) -> None:
    done = run_once(BridgeFiles(tmp_path, mock18.url, "odoo_ops_no_such_db", "bridge", "bridge",
                                protocol=protocol))
    assert_one_clear_line(done, 'no database "odoo_ops_no_such_db"', "erp.database")
