"""The sandbox checks WooCommerce credentials the way WC_REST_Authentication does.

Signatures here come from tests/sandbox/woo_oauth.py (RFC 5849 written out in the test),
never from the adapter or the sandbox.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from connector.sandbox.core import Sandbox
from connector.sandbox.server import RunningSandbox, SandboxApp
from tests.sandbox.conftest import SEED
from tests.sandbox.woo_oauth import signature, woo_query

T = 5
KEY, SECRET = "ck_sandbox", "cs_sandbox_secret"
PRODUCT = "/woocommerce/wp-json/wc/v3/products/799"
BATCH = "/woocommerce/wp-json/wc/v3/products/batch"


def _error(reply: requests.Response) -> tuple[int, str, str, Any]:
    body = reply.json()
    return reply.status_code, body["code"], body["message"], body["data"]


def test_keys_as_basic_or_query_are_refused_over_plain_http(sandbox: RunningSandbox) -> None:
    url = sandbox.url + PRODUCT
    basic = requests.get(url, auth=(KEY, SECRET), timeout=T)
    query = requests.get(url, params={"consumer_key": KEY, "consumer_secret": SECRET}, timeout=T)
    expected = (401, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", {"status": 401})
    assert _error(basic) == expected and _error(query) == expected
    batch = requests.post(sandbox.url + BATCH, auth=(KEY, SECRET), timeout=T,
                          json={"update": [{"id": 799, "stock_quantity": 0}]})
    assert _error(batch)[:2] == (401, "woocommerce_rest_cannot_batch")
    assert requests.get(url, params=woo_query("GET", url, {}, KEY, SECRET), timeout=T).json()["stock_quantity"] == 5


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "HMAC-SHA256"])
def test_oauth_signed_query_is_accepted_and_covers_the_query(sandbox: RunningSandbox, algorithm: str) -> None:
    url = sandbox.url + "/woocommerce/wp-json/wc/v3/products"
    params = woo_query("GET", url, {"sku": "MUG-RED", "per_page": "10"}, KEY, SECRET, algorithm=algorithm)
    reply = requests.get(url, params=params, timeout=T)
    assert reply.status_code == 200 and [p["sku"] for p in reply.json()] == ["MUG-RED"]
    tampered = woo_query("GET", url, {"sku": "MUG-RED", "per_page": "10"}, KEY, SECRET, algorithm=algorithm)
    tampered["sku"] = "TEE-S"  # signed for MUG-RED
    assert _error(requests.get(url, params=tampered, timeout=T)) == (
        401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.",
        {"status": 401})


def test_oauth_in_authorization_header_and_write(sandbox: RunningSandbox) -> None:
    url = sandbox.url + PRODUCT
    params = woo_query("PUT", url, {}, KEY, SECRET, algorithm="HMAC-SHA256")
    header = "OAuth " + ", ".join(f'{k}="{requests.utils.quote(v, safe="")}"' for k, v in params.items())
    reply = requests.put(url, json={"stock_quantity": 2}, headers={"Authorization": header}, timeout=T)
    assert reply.status_code == 200 and reply.json()["stock_quantity"] == 2


def test_oauth_failures_have_woocommerce_codes(sandbox: RunningSandbox) -> None:
    url = sandbox.url + PRODUCT

    def get(params: dict[str, str]) -> tuple[int, str, str, Any]:
        return _error(requests.get(url, params=params, timeout=T))

    assert get(woo_query("GET", url, {}, KEY, "cs_wrong"))[2] == "Invalid signature - provided signature does not match."
    assert get(woo_query("GET", url, {}, "ck_nobody", SECRET))[2] == "Consumer key is invalid."
    stale = woo_query("GET", url, {}, KEY, SECRET, timestamp=int(time.time()) - 16 * 60)
    assert get(stale)[2] == "Invalid timestamp."
    once = woo_query("GET", url, {}, KEY, SECRET, nonce="n0nce-used-once")
    assert requests.get(url, params=once, timeout=T).status_code == 200
    assert get(woo_query("GET", url, {}, KEY, SECRET, nonce="n0nce-used-once"))[2] == (
        "Invalid nonce - nonce has already been used.")
    partial = woo_query("GET", url, {}, KEY, SECRET)
    del partial["oauth_nonce"], partial["oauth_timestamp"]
    assert get(partial)[:3] == (401, "woocommerce_rest_authentication_missing_parameter",
                                "Missing OAuth parameters oauth_timestamp, oauth_nonce")
    plaintext = woo_query("GET", url, {}, KEY, SECRET)
    plaintext["oauth_signature_method"] = "PLAINTEXT"
    plaintext["oauth_signature"] = signature("GET", url, {k: v for k, v in plaintext.items()
                                                          if k != "oauth_signature"}, SECRET)
    assert get(plaintext)[2] == "Invalid signature - signature method is invalid."


def _basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def test_https_takes_basic_or_query_keys() -> None:
    seed: dict[str, Any] = {**SEED, "accounts": {**SEED["accounts"], "woocommerce": [
        {"consumer_key": KEY, "consumer_secret": SECRET},
        {"consumer_key": "ck_reader", "consumer_secret": "cs_reader", "permissions": "read"}]}}
    client = Client(SandboxApp(Sandbox(seed=seed)))
    https = "https://shop.test"
    assert client.get(PRODUCT, base_url=https, headers=_basic(KEY, SECRET)).json["stock_quantity"] == 5
    assert client.get(PRODUCT, base_url=https, query_string={"consumer_key": KEY, "consumer_secret": SECRET}).status_code == 200
    wrong = client.get(PRODUCT, base_url=https, headers=_basic(KEY, "cs_wrong"))
    assert (wrong.status_code, wrong.json["message"]) == (401, "Consumer secret is invalid.")
    unknown = client.get(PRODUCT, base_url=https, headers=_basic("ck_nobody", SECRET))
    assert (unknown.status_code, unknown.json["code"]) == (401, "woocommerce_rest_cannot_view")
    assert client.get(PRODUCT, base_url="http://shop.test", headers=_basic(KEY, SECRET)).status_code == 401
    reader = client.put(PRODUCT, base_url=https, headers=_basic("ck_reader", "cs_reader"), json={"stock_quantity": 1})
    assert (reader.status_code, reader.json["message"]) == (401, "The API key provided does not have write permissions.")


def test_a_host_that_strips_the_authorization_header_still_takes_query_keys() -> None:
    """Issue 17 item 7, WooCommerce REST API docs ("Authentication over HTTPS"): "some servers
    may not parse the Authorization header correctly ... you may provide the consumer
    key/secret as query string parameters instead"."""
    seed: dict[str, Any] = {**SEED, "accounts": {**SEED["accounts"], "woocommerce": [
        {"consumer_key": KEY, "consumer_secret": SECRET, "strips_authorization": True}]}}
    client = Client(SandboxApp(Sandbox(seed=seed)))
    https = "https://shop.test"
    stripped = client.get(PRODUCT, base_url=https, headers=_basic(KEY, SECRET))
    assert (stripped.status_code, stripped.json["code"]) == (401, "woocommerce_rest_cannot_view")
    query = client.get(PRODUCT, base_url=https, query_string={"consumer_key": KEY, "consumer_secret": SECRET})
    assert query.status_code == 200 and query.json["stock_quantity"] == 5
