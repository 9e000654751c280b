"""Demand per channel from done deliveries (connector/erp/demand.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.config import parse_config
from connector.defaults import DEMO_ORDER_PREFIXES, embedded_default
from connector.erp.client import connect
from connector.erp.demand import AttributionRules, Delivery, attribute, read_deliveries
from connector.mock_erp.server import start_mock_erp
from connector.risk.shop import read_shop


def test_origin_prefixes_then_shares() -> None:
    rules = AttributionRules(origin_prefixes={"amz": ["AMZ-"], "bol": ["BOL-"]}, shares={"amz": 3, "bol": 1})
    history = [Delivery(1, 7, "AMZ-1", ""), Delivery(1, 2, "BOL-9", ""), Delivery(1, 8, "S0001", ""),
               Delivery(2, 5, "AMZ-2", ""), Delivery(9, 4, "AMZ-3", "")]
    rates = attribute(history, {1: ["amz", "bol"], 2: ["bol"]}, rules, days=7)
    assert rates[(1, "amz")].units == 7 and rates[(1, "amz")].shared_units == 6
    assert rates[(1, "bol")].units == 2 and rates[(1, "bol")].shared_units == 2
    assert rates[(1, "amz")].per_day == pytest.approx(13 / 7)
    # sold on Amazon but listed only on bol: counted for the product, on the channel that lists it
    assert rates[(2, "bol")].shared_units == 5
    assert (9, "amz") not in rates  # not listed: not ours to size


def test_equal_shares_without_configuration_and_sales_teams() -> None:
    rules = AttributionRules(sales_teams={"web": "Website"})
    rates = attribute([Delivery(1, 6, "S1", "", team="Website"), Delivery(1, 4, "S2", "")],
                      {1: ["web", "pos"]}, rules, days=2)
    assert rates[(1, "web")].units == 6
    assert rates[(1, "web")].shared_units == rates[(1, "pos")].shared_units == 2


@pytest.fixture(scope="module")
def erp() -> Iterator[Any]:
    server = start_mock_erp(port=0, version="18.0")
    yield server
    server.stop()


def test_reads_the_demo_shops_history(erp: Any) -> None:
    config = parse_config(embedded_default(erp_url=erp.url))
    client = connect(config.erp)
    try:
        now = datetime.now(UTC)
        history = read_deliveries(client, now - timedelta(days=28), now)
        assert history and all(d.quantity > 0 for d in history)
        assert not read_deliveries(client, now - timedelta(days=1), now)  # the fixture's newest is 3 days old
        shop = read_shop(client, config, now)
    finally:
        client.close()
    mug = next(p for p in shop.products.values() if p.sku == "MUG-CER-350")
    amazon = mug.demand["amazon_de"]
    assert amazon.units > 0  # attributed by the AMZ- prefix of the embedded config
    sold = sum(d.quantity for d in history if d.product_id == mug.product_id)
    assert sum(d.units + d.shared_units for d in mug.demand.values()) == pytest.approx(sold)
    assert set(DEMO_ORDER_PREFIXES) >= set(mug.demand)
