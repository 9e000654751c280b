"""WooCommerce REST API wc/v3 (product and variation stock), as served here.

Paths with or without ``/wp-json``:
- PUT/GET /wc/v3/products/{id}, PUT/GET /wc/v3/products/{parent}/variations/{id}
- POST /wc/v3/products/batch, POST /wc/v3/products/{parent}/variations/batch
  ({"update": [{id, manage_stock, stock_quantity}]}, <= 100 objects, else 413;
  HTTP 200 with a per-item ``error`` for failures)
- GET /wc/v3/products?sku=
Auth, as WooCommerce's WC_REST_Authentication checks it (is_ssl() = the request's scheme):
- https: ?consumer_key=&consumer_secret= (tried first) or HTTP Basic key:secret; an unknown
  key falls through unauthenticated, a wrong secret is 401 "Consumer secret is invalid.".
- http (and https without keys): OAuth 1.0a one-legged only. oauth_* parameters from the
  query, a form body or an ``Authorization: OAuth`` header; signature HMAC-SHA1/SHA256 with
  key ``consumer_secret + "&"`` over ``METHOD&enc(url)&enc(sorted k=v pairs)``; timestamp
  within 15 minutes; a nonce is refused if already used (remembered per timestamp).
- A host that strips the Authorization header (an account with ``strips_authorization``):
  Basic and ``Authorization: OAuth`` never reach WooCommerce; query-string keys still do
  (WooCommerce's docs: "some servers may not parse the Authorization header correctly ...
  you may provide the consumer key/secret as query string parameters instead").
- No credentials at all: the route's own permission error (woocommerce_rest_cannot_batch/
  edit/view, 401). Key permissions read/write/read_write (account "permissions").
stock_quantity applies only when manage_stock is (or becomes) true; status draft = inactive.
Listing: sku, external_id "<id>" or "<parent>/<variation>".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import quote, unquote, unquote_plus
from weakref import WeakKeyDictionary

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header
from connector.sandbox.core import Listing, Market

BATCH_LIMIT = 100
WC = r"(?:/wp-json)?/wc/v3"
NONCE_WINDOW_S = 15 * 60
OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
# The endpoint's own permission error when nobody is authenticated (rest_authorization_required_code).
CANNOT = {
    "batch": ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
}
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')
# Used nonces per market and consumer key: {timestamp: nonce}, as WooCommerce stores them.
_NONCES: WeakKeyDictionary[Market, dict[str, dict[int, str]]] = WeakKeyDictionary()


class AuthError(Exception):
    """A WP_Error WooCommerce's authentication sets (always status 401)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _rfc3986(text: str) -> str:
    """wc_rest_urlencode_rfc3986: PHP rawurlencode."""
    return quote(text, safe="~")


def _empty(value: str | None) -> bool:
    return value in (None, "", "0")  # PHP empty()


def wc_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status}}, status, headers)


class WooCommerce(MarketplaceApi):
    name = "woocommerce"
    rate = None  # no limit in core WooCommerce
    routes = [
        ("POST", WC + r"/products/batch", "batch", False),
        ("POST", WC + r"/products/(?P<parent>\d+)/variations/batch", "batch", False),
        ("PUT", WC + r"/products/(?P<parent>\d+)/variations/(?P<id>\d+)", "put_one", False),
        ("GET", WC + r"/products/(?P<parent>\d+)/variations/(?P<id>\d+)", "get_one", False),
        ("PUT", WC + r"/products/(?P<id>\d+)", "put_one", False),
        ("GET", WC + r"/products/(?P<id>\d+)", "get_one", False),
        ("GET", WC + r"/products", "list_products", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return wc_error(429, "rest_too_many_requests", "Too many requests.",
                        {"Retry-After": retry_after_header(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return wc_error(status, "rest_no_route" if status == 404 else "internal_server_error", message)

    def _auth(self, call: Call, context: str) -> Response | None:
        """None when the request authenticates, else WooCommerce's 401 error for it."""
        account: dict[str, Any] | None = None
        error: AuthError | None = None
        if call.request.scheme == "https":  # is_ssl()
            try:
                account = self._basic(call)
            except AuthError as exc:
                error = exc
        if account is None:
            try:
                account = self._oauth(call)
            except AuthError as exc:
                error = exc
        if error is not None:
            return wc_error(401, error.code, error.message)
        if account is None:
            code, message = CANNOT[context]
            return wc_error(401, code, message)
        permissions = account.get("permissions", "read_write")
        if call.request.method in ("GET", "HEAD") and permissions not in ("read", "read_write"):
            return wc_error(401, "woocommerce_rest_authentication_error",
                            "The API key provided does not have read permissions.")
        if call.request.method in ("POST", "PUT", "PATCH", "DELETE") and permissions not in ("write", "read_write"):
            return wc_error(401, "woocommerce_rest_authentication_error",
                            "The API key provided does not have write permissions.")
        return None

    @staticmethod
    def _basic(call: Call) -> dict[str, Any] | None:
        """perform_basic_authentication: query keys first, then HTTP Basic; https only."""
        args = call.request.args
        key, secret = "", ""
        if args.get("consumer_key") and args.get("consumer_secret"):
            key, secret = args["consumer_key"], args["consumer_secret"]
        basic = None if _header_stripped(call) else call.basic()
        if not key and basic and basic[0] and basic[1]:
            key, secret = basic
        if not key or not secret:
            return None
        with call.market.lock:
            found = call.market.account_where(consumer_key=key)
        if found is None:
            return None  # unknown key: no error, the request just stays unauthenticated
        if not hmac.compare_digest(str(found[1].get("consumer_secret", "")), secret):
            raise AuthError("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return found[1]

    @staticmethod
    def _oauth_params(call: Call) -> dict[str, str]:
        """get_oauth_parameters: $_GET + $_POST + Authorization: OAuth header, or {} when no OAuth."""
        params = {k: v for k, v in call.request.args.items(multi=True)}  # PHP: the last one wins
        if call.request.mimetype == "application/x-www-form-urlencoded":
            params.update(call.form())
        header = "" if _header_stripped(call) else call.header("Authorization").strip()
        if header.startswith("OAuth "):
            for name, _, quoted, bare in _HEADER_PARAM.findall(header):
                params[name] = unquote_plus(quoted or bare)
        missing = [name for name in OAUTH_REQUIRED if _empty(params.get(name))]
        if len(missing) == len(OAUTH_REQUIRED):
            return {}
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise AuthError("woocommerce_rest_authentication_missing_parameter",
                            f"Missing OAuth {noun} {', '.join(missing)}")
        return params

    def _oauth(self, call: Call) -> dict[str, Any] | None:
        """perform_oauth_authentication: key, then signature, then timestamp and nonce."""
        params = self._oauth_params(call)
        if not params:
            return None
        with call.market.lock:
            found = call.market.account_where(consumer_key=params["oauth_consumer_key"])
        if found is None:
            raise AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        account = found[1]
        self._check_signature(call, str(account.get("consumer_secret", "")), params)
        self._check_timestamp_and_nonce(call.market, params["oauth_consumer_key"],
                                        params["oauth_timestamp"], params["oauth_nonce"])
        return account

    @staticmethod
    def _check_signature(call: Call, secret: str, params: dict[str, str]) -> None:
        # The home URL + request path without query; the scheme is the request's own.
        url = call.full_url.split("?", 1)[0]
        given = unquote(params["oauth_signature"].replace(" ", "+"))
        rest = sorted(((k, v) for k, v in params.items() if k != "oauth_signature"), key=lambda kv: kv[0].encode())
        joined = "%26".join(_rfc3986(f"{_rfc3986(k)}={_rfc3986(v)}") for k, v in rest)
        base = f"{call.request.method.upper()}&{_rfc3986(url)}&{joined}"
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise AuthError("woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.")
        digest = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()
        if not hmac.compare_digest(expected, given):
            raise AuthError("woocommerce_rest_authentication_error",
                            "Invalid signature - provided signature does not match.")

    @staticmethod
    def _check_timestamp_and_nonce(market: Market, key: str, timestamp: str, nonce: str) -> None:
        now = time.time()
        try:
            stamp = int(timestamp)
        except ValueError:
            stamp = -1
        if stamp < now - NONCE_WINDOW_S or stamp > now + NONCE_WINDOW_S:
            raise AuthError("woocommerce_rest_authentication_error", "Invalid timestamp.")
        with market.lock:
            used = _NONCES.setdefault(market, {}).setdefault(key, {})
            if nonce in used.values():
                raise AuthError("woocommerce_rest_authentication_error",
                                "Invalid nonce - nonce has already been used.")
            used[stamp] = nonce  # keyed by timestamp, like WooCommerce: same second, last nonce kept
            for old in [t for t in used if t < now - NONCE_WINDOW_S]:
                del used[old]

    @staticmethod
    def _key(parent: str | None, item_id: Any) -> str:
        return f"{parent}/{item_id}" if parent else str(item_id)

    def _product(self, listing: Listing) -> dict[str, Any]:
        parent, _, own = (listing.external_id or "").rpartition("/")
        managed = bool(listing.extra.get("manage_stock", True))
        status = "outofstock" if managed and listing.quantity <= 0 else "instock"
        return {"id": int(own or 0), "parent_id": int(parent or 0), "sku": listing.sku,
                "type": "variation" if parent else "simple",
                "status": "publish" if listing.active else "draft",
                "manage_stock": managed, "stock_quantity": listing.quantity if managed else None,
                "stock_status": status, "backorders": "no", "backorders_allowed": False}

    def _update(self, call: Call, parent: str | None, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        listing = call.market.find(external_id=self._key(parent, fields.get("id")))
        if listing is None:
            return 400, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}
        quantity = fields.get("stock_quantity")
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
            return 400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): stock_quantity",
                         "data": {"status": 400, "params": {"stock_quantity": "stock_quantity is not of type integer."}}}
        if "manage_stock" in fields:
            listing.extra["manage_stock"] = bool(fields["manage_stock"])
        if quantity is not None and listing.extra.get("manage_stock", True):
            listing.quantity = quantity
        if fields.get("status") in ("publish", "draft", "private", "pending"):
            listing.active = fields["status"] == "publish"
        return 200, self._product(listing)

    def put_one(self, call: Call) -> Response:
        refused = self._auth(call, 'edit')
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, dict):
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        call.items = 1
        with call.market.lock:
            status, result = self._update(call, call.params.get("parent"), {**body, "id": call.params["id"]})
        return json_response(result, status)

    def batch(self, call: Call) -> Response:
        refused = self._auth(call, 'batch')
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, dict):
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        call.items = len(body.get("update") or [])
        if total > BATCH_LIMIT:
            return wc_error(413, "woocommerce_rest_request_entity_too_large",
                            f"Unable to accept more than {BATCH_LIMIT} items for this request.")
        results = []
        with call.market.lock:
            for fields in body.get("update") or []:
                status, result = self._update(call, call.params.get("parent"), fields)
                results.append(result if status == 200 else {"id": fields.get("id", 0), "error": result})
        return json_response({"update": results})

    def get_one(self, call: Call) -> Response:
        refused = self._auth(call, 'view')
        if refused is not None:
            return refused
        with call.market.lock:
            listing = call.market.find(external_id=self._key(call.params.get("parent"), call.params["id"]))
            if listing is None:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return json_response(self._product(listing))

    def list_products(self, call: Call) -> Response:
        refused = self._auth(call, 'list')
        if refused is not None:
            return refused
        sku = call.request.args.get("sku")
        with call.market.lock:
            found = [self._product(x) for x in call.market.listings.values() if sku is None or x.sku == sku]
        return json_response(found)


def _header_stripped(call: Call) -> bool:
    """Whether the host in front of this store drops the Authorization header."""
    with call.market.lock:
        return any(account.get("strips_authorization") for account in call.market.accounts)
