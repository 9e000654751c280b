"""Fixtures for the ERP client tests: configs with known secrets, a recording sleep."""

from __future__ import annotations

from typing import Any

import pytest

from connector.config import ErpConfig
from connector.erp.transport import RetryPolicy

URL = "http://odoo.test"
PASSWORD = "pw-Zq81-not-in-logs"
API_KEY = "key-7f3e9a0c55d1-not-in-logs"
FAST_RETRY = RetryPolicy(attempts=3, initial_s=0.01, max_s=0.05, jitter_s=0.01)


def erp_config(protocol: str = "jsonrpc", **overrides: Any) -> ErpConfig:
    values: dict[str, Any] = {"url": URL, "database": "demo", "username": "bridge",
                              "protocol": protocol, "timeout_s": 2.0}
    if protocol == "json2":
        values["api_key"] = API_KEY
    else:
        values["password"] = PASSWORD
    values.update(overrides)
    return ErpConfig.model_validate(values)


class Sleeps(list[float]):
    """A sleep function that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
