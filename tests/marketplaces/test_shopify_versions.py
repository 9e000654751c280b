"""Shopify API versions (issue 17 item 1), following Shopify's own documents:

- "About Shopify API versioning": quarterly stable versions, "Each stable version is
  supported for a minimum of 12 months"; a request to an unsupported version is answered by
  the oldest supported stable version, and `X-Shopify-API-Version` names the version that
  answered.
- Changelog, Dec 12 2025 ("Concurrency protection features for inventory and refund
  mutations"): `changeFromQuantity` from 2026-01; from 2026-04 it is required,
  `compareQuantity` is removed and `@idempotent` is mandatory on inventory mutations.

The stored Admin schema is 2025-01 only (../shared/specs/README.md), so bodies in the newer
syntax cannot be validated against a published schema here; the 2025-01 ones are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import responses

from connector.marketplaces.base import Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.shopify import DEFAULT_API_VERSION, ShopifyAdapter
from connector.marketplaces.shopify_versions import NEWEST_KNOWN, oldest_supported, served_for, supported_until
from tests.marketplaces.conftest import body_of
from tests.support.specs import validate_shopify_graphql

BASE = "https://acme.myshopify.com"
SETTINGS = {"base_url": BASE, "access_token": "shpat_secret_token_123", "location_id": "2"}
ITEM = "gid://shopify/InventoryItem/1"


def at(day: date) -> ManualClock:
    return ManualClock(start=datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


def make(clock: ManualClock, warned: list[tuple[str, str | None]] | None = None, **more: str) -> ShopifyAdapter:
    adapter = ShopifyAdapter("shop_eu", {**SETTINGS, **more}, clock=clock)
    if warned is not None:
        adapter.on_warning = lambda topic, message: warned.append((topic, message))
    return adapter


def set_ok() -> dict[str, Any]:
    return {"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "gid://shopify/x/1"},
                                                "userErrors": []}}}


def row(call: responses.Call) -> dict[str, Any]:
    return body_of(call)["variables"]["input"]["quantities"][0]


UPDATE = StockUpdate(1, "MUG", 7, external_id=ITEM, expected_quantity=5)


@pytest.mark.parametrize(("today", "oldest"), [
    (date(2026, 12, 3), "2026-01"), (date(2026, 1, 1), "2025-04"), (date(2025, 12, 31), "2025-01"),
    (date(2026, 10, 1), "2026-01"), (date(2026, 9, 30), "2025-10"),
])
def test_oldest_supported_version_is_the_first_released_less_than_a_year_ago(today: date, oldest: str) -> None:
    assert oldest_supported(today) == oldest
    assert supported_until(oldest) is not None and supported_until(oldest) > today  # type: ignore[operator]


def test_a_retired_version_is_written_in_the_syntax_shopify_will_serve(rsps: responses.RequestsMock) -> None:
    clock = at(date(2026, 12, 3))
    warned: list[tuple[str, str | None]] = []
    rsps.post(f"{BASE}/admin/api/2025-07/graphql.json", json=set_ok(), headers={"X-Shopify-API-Version": "2026-01"})
    adapter = make(clock, warned, api_version="2025-07")
    assert served_for("2025-07", date(2026, 12, 3)) == adapter.served_version == "2026-01"
    [result] = adapter.push([UPDATE])
    assert result.outcome is Outcome.OK
    assert row(rsps.calls[0])["changeFromQuantity"] == 5 and "compareQuantity" not in row(rsps.calls[0])
    assert '@idempotent(key: "' in body_of(rsps.calls[0])["query"]
    message = adapter.warnings()["api_version"]  # raised while configuring, before any reply
    assert "retired on 2026-07-01" in message and "answers with 2026-01" in message


def test_the_served_version_header_is_followed(rsps: responses.RequestsMock) -> None:
    clock = at(date(2026, 6, 15))  # 2025-10 is supported until 2026-10-01: 108 days, no warning yet
    warned: list[tuple[str, str | None]] = []
    url = f"{BASE}/admin/api/2025-10/graphql.json"
    rsps.post(url, json=set_ok(), headers={"X-Shopify-API-Version": "2026-04"})
    rsps.post(url, json=set_ok(), headers={"X-Shopify-API-Version": "2026-04"})
    adapter = make(clock, warned, api_version="2025-10")
    assert warned == []
    adapter.push([UPDATE])
    first = body_of(rsps.calls[0])
    assert row(rsps.calls[0])["compareQuantity"] == 5  # before any reply: the configured syntax
    validate_shopify_graphql(first["query"], first["variables"])
    adapter.push([UPDATE])
    assert adapter.served_version == "2026-04"
    assert "compareQuantity" not in row(rsps.calls[1]) and row(rsps.calls[1])["changeFromQuantity"] == 5
    assert '@idempotent(key: "' in body_of(rsps.calls[1])["query"]
    assert "serves API version 2026-04 for the configured 2025-10" in adapter.warnings()["api_version"]


def test_a_set_refused_by_another_version_is_rebuilt_once_for_it(rsps: responses.RequestsMock) -> None:
    clock = at(date(2026, 6, 15))
    url = f"{BASE}/admin/api/2025-10/graphql.json"
    rsps.post(url, headers={"X-Shopify-API-Version": "2026-04"}, json={"errors": [
        {"message": "InputObject 'InventoryQuantityInput' doesn't accept argument 'compareQuantity'"}]})
    rsps.post(url, headers={"X-Shopify-API-Version": "2026-04"}, json=set_ok())
    [result] = make(clock, api_version="2025-10").push([UPDATE])
    assert result.outcome is Outcome.OK
    assert "compareQuantity" in row(rsps.calls[0]) and row(rsps.calls[1])["changeFromQuantity"] == 5


def test_a_refusal_by_the_version_it_was_written_for_is_not_resent(rsps: responses.RequestsMock) -> None:
    clock = at(date(2026, 6, 15))
    rsps.post(f"{BASE}/admin/api/2025-10/graphql.json", headers={"X-Shopify-API-Version": "2025-10"},
              json={"errors": [{"message": "Access denied for inventorySetQuantities field."}]})
    [result] = make(clock, api_version="2025-10").push([UPDATE])
    assert result.outcome is Outcome.FAILED and "Access denied" in result.message
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(("today", "warns"), [(date(2026, 10, 15), True), (date(2026, 9, 1), False)])
def test_a_version_retiring_within_90_days_warns(today: date, warns: bool) -> None:
    adapter = make(at(today), api_version="2026-01")  # supported until 2027-01-01
    message = adapter.warnings().get("api_version")
    assert (message is not None) is warns
    if warns:
        assert "supported until 2027-01-01 (78 days)" in str(message)


def test_the_warning_appears_while_the_bridge_runs_and_clears_after_an_upgrade() -> None:
    clock = at(date(2026, 9, 1))
    warned: list[tuple[str, str | None]] = []
    adapter = make(clock, warned, api_version="2026-01")
    assert adapter.warnings() == {}
    clock.advance(40 * 86_400)  # 2026-10-11: 82 days left
    adapter.push([StockUpdate(1, "MUG", 7, external_id="not-a-gid")])  # the check runs on every push
    assert "api_version" in adapter.warnings() and warned[-1][0] == "api_version"


def test_the_default_is_a_supported_version() -> None:
    today = date(2026, 12, 3)
    adapter = make(at(today))
    assert adapter.api_version == DEFAULT_API_VERSION == NEWEST_KNOWN
    until = supported_until(DEFAULT_API_VERSION)
    assert until is not None and (until - today).days > 90
    assert adapter.warnings() == {}
    assert adapter.url == f"{BASE}/admin/api/{NEWEST_KNOWN}/graphql.json"
