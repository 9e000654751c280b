"""The standalone sandbox's access log shows paths, never query-string credentials."""

from __future__ import annotations

import logging

import pytest
import requests

from connector.sandbox.access_log import redact_query
from connector.sandbox.server import RunningSandbox

T = 5
SECRETS = ("shopee-access-1234", "deadbeefsign", "lzd-access-1234", "cafef00dsign",
           "ck_sandbox", "cs_sandbox_secret", "c2lnbmF0dXJl")


def test_access_log_masks_credentials_in_query_strings(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    calls = [
        ("/shopee/api/v2/product/get_model_list", {"partner_id": "2001", "timestamp": "1", "shop_id": "3001",
                                                   "access_token": "shopee-access-1234", "sign": "deadbeefsign",
                                                   "item_id": "1000"}),
        ("/lazada/rest/product/stock/sellable/adjust", {"app_key": "100001", "access_token": "lzd-access-1234",
                                                        "sign": "cafef00dsign", "sign_method": "sha256"}),
        ("/woocommerce/wp-json/wc/v3/products/799", {"consumer_key": "ck_sandbox",
                                                     "consumer_secret": "cs_sandbox_secret"}),
        ("/woocommerce/wp-json/wc/v3/products", {"oauth_consumer_key": "ck_sandbox", "oauth_signature": "c2lnbmF0dXJl",
                                                 "per_page": "5"}),
    ]
    for path, params in calls:
        requests.get(sandbox.url + path, params=params, timeout=T)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "/shopee/api/v2/product/get_model_list" in logged and "item_id=1000" in logged
    assert "shop_id=3001" in logged and "per_page=5" in logged  # harmless parameters stay for debugging
    assert "access_token=***" in logged and "consumer_secret=***" in logged
    for secret in SECRETS:
        assert secret not in logged


def test_redact_query_keeps_paths_and_plain_parameters() -> None:
    assert redact_query('"GET /a/b?sign=1&x=2&oauth_signature=abc%3D HTTP/1.1" 200 -') == (
        '"GET /a/b?sign=***&x=2&oauth_signature=*** HTTP/1.1" 200 -')
    assert redact_query("/plain/path") == "/plain/path"
