"""A running sandbox with demo accounts and one listing set per marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox

SEED: dict[str, Any] = {
    "accounts": {
        "amazon": [{"client_id": "amzn-client", "client_secret": "amzn-secret-1234", "refresh_token": "Atzr|refresh-1234",
                    "seller_id": "A3EXAMPLE"}],
        "bol": [{"client_id": "bol-client", "client_secret": "bol-secret-1234"}],
        "zalando": [{"client_id": "zal-client", "client_secret": "zal-secret-1234",
                     "merchant_id": "7e0f3c4a-3b2a-4a4e-9a39-0c5a3b1f2d11"}],
        "kaufland": [{"client_key": "kl-client-key", "secret_key": "kl-secret-key-1234"}],
        "ebay": [{"client_id": "ebay-client", "client_secret": "ebay-secret-1234", "refresh_token": "v^1.1#refresh"}],
        "shopify": [{"access_token": "shpat_sandbox_token_1234", "location_id": "gid://shopify/Location/2"}],
        "etsy": [{"keystring": "etsykey", "shared_secret": "etsy-shared-1234", "refresh_token": "123.etsy-refresh",
                  "shop_id": "5001"}],
        "woocommerce": [{"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox_secret"}],
        "lazada": [{"app_key": "100001", "app_secret": "lazada-secret-1234", "access_token": "lzd-access-1234",
                    "refresh_token": "lzd-refresh-1234"}],
        "shopee": [{"partner_id": "2001", "partner_key": "shopee-key-1234", "shop_id": "3001",
                    "access_token": "shopee-access-1234", "refresh_token": "shopee-refresh-1234"}],
    },
    "listings": {
        "amazon": [{"sku": "MUG-RED", "quantity": 5}],
        "bol": [{"sku": "8712345678906", "external_id": "1001", "quantity": 5}],
        "zalando": [{"sku": "4006381333931", "quantity": 5, "sales_channel_id": "01924c48-49bb-40c2-9c32-ab582e6db6f4"}],
        "kaufland": [{"sku": "4006381333948", "external_id": "338765432", "quantity": 5}],
        "ebay": [{"sku": "MUG-RED", "external_id": "9876543210", "quantity": 5}],
        "shopify": [{"sku": "MUG-RED", "external_id": "gid://shopify/InventoryItem/1", "quantity": 5}],
        "etsy": [{"sku": "MUG-RED", "external_id": "123/11", "quantity": 5, "status": "active", "shop_id": "5001"},
                 {"sku": "MUG-BLUE", "external_id": "123/12", "quantity": 2, "status": "active", "shop_id": "5001"}],
        "woocommerce": [{"sku": "MUG-RED", "external_id": "799", "quantity": 5},
                        {"sku": "TEE-S", "external_id": "10/801", "quantity": 3}],
        "lazada": [{"sku": "MUG-RED", "external_id": "234234234/234", "quantity": 5}],
        "shopee": [{"sku": "MUG-RED", "external_id": "1000/3456", "quantity": 5},
                   {"sku": "MUG-BLUE", "external_id": "1000/1234", "quantity": 5}],
    },
}


@pytest.fixture()
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(seed=SEED) as running:
        yield running


@pytest.fixture()
def admin(sandbox: RunningSandbox) -> Iterator[SandboxAdmin]:
    client = SandboxAdmin(sandbox.url)
    yield client
    client.close()
