"""Amazon SP-API Listings Items 2021-08-01 and Login with Amazon, as the sandbox serves them.

- POST /auth/o2/token (form grant_type=refresh_token, refresh_token, client_id, client_secret)
- PATCH/GET /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...
Auth: ``x-amz-access-token``; a bad or expired token gets SP-API's 403 Unauthorized (SP-API
answers 403, not 401, for a revoked/expired access token). Throttle: 429 QuotaExceeded,
no Retry-After (none documented).

ACCEPTED is not applied (Amazon's "Manage Listings Issues" guide: a submission that passes
the synchronous checks is accepted and processed downstream, where issues can still arise
and are reported asynchronously). The sandbox applies an accepted quantity at once, unless
the listing says otherwise in its seed/extra:
- ``apply_delay_s``: the quantity shows only that many seconds after acceptance;
- ``reject_later``: a message; the PATCH is ACCEPTED, the quantity never changes, and the
  item's ``issues`` (includedData=issues) then hold an ERROR issue with that message.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response

TOKEN_LIFETIME_S = 3600


def _errors(status: int, code: str, message: str, details: str = "", headers: dict[str, str] | None = None) -> Response:
    return json_response({"errors": [{"code": code, "message": message, "details": details}]}, status, headers)


class Amazon(MarketplaceApi):
    name = "amazon"
    rate = 5.0
    burst = 10
    routes = [
        ("POST", r"/auth/o2/token", "token", True),
        ("PATCH", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "patch_item", False),
        ("GET", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "get_item", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return _errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                       headers={"x-amzn-RateLimit-Limit": "5.0"})

    def failure(self, call: Call, status: int, message: str) -> Response:
        code = {404: "NotFound", 405: "MethodNotAllowed", 503: "ServiceUnavailable"}.get(status, "InternalFailure")
        return _errors(status, code, message)

    def token(self, call: Call) -> Response:
        form = call.form()
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "The authorization grant type is not supported"}, 400)
        market = call.market
        with market.lock:
            client = market.account_where(client_id=form.get("client_id"), client_secret=form.get("client_secret"))
            if client is None:
                return json_response({"error": "invalid_client",
                                      "error_description": "Client authentication failed"}, 401)
            found = market.account_where(client_id=form.get("client_id"), refresh_token=form.get("refresh_token"))
            if found is None:
                return json_response({"error": "invalid_grant", "error_description":
                                      "The request has an invalid grant parameter : refresh_token"}, 400)
            token = market.issue_token(found[0], TOKEN_LIFETIME_S, prefix="Atza|")
        return json_response({"access_token": token, "refresh_token": form["refresh_token"],
                              "token_type": "bearer", "expires_in": TOKEN_LIFETIME_S})

    def _auth(self, call: Call) -> tuple[dict[str, Any] | None, Response | None]:
        token = call.header("x-amz-access-token")
        with call.market.lock:
            account = call.market.token_account(token)
        if account is None:
            return None, _errors(403, "Unauthorized", "Access to requested resource is denied.",
                                 "The access token you provided is revoked, malformed or invalid.")
        if account.get("seller_id") and account["seller_id"] != call.params["seller"]:
            return None, _errors(403, "Unauthorized", "Access to requested resource is denied.",
                                 "The seller id does not match the authorization.")
        if not call.request.args.get("marketplaceIds"):
            return None, _errors(400, "InvalidInput", "Missing required 'marketplaceIds' query parameter.")
        return account, None

    def patch_item(self, call: Call) -> Response:
        _, refused = self._auth(call)
        if refused is not None:
            return refused
        sku = unquote(call.params["sku"])
        body = call.json()
        call.items = 1
        if not isinstance(body, dict) or "productType" not in body or not isinstance(body.get("patches"), list):
            return _errors(400, "InvalidInput", "Request body must have productType and patches.")
        submission = uuid.uuid4().hex
        quantity: int | None = None
        issues: list[dict[str, Any]] = []
        for patch in body["patches"]:
            if patch.get("op") not in ("add", "replace", "delete", "merge"):
                issues.append(_issue("4000001", f"Unsupported patch op {patch.get('op')!r}."))
                continue
            if patch.get("path") != "/attributes/fulfillment_availability":
                continue  # other attributes: accepted, not emulated
            for value in patch.get("value") or []:
                if value.get("fulfillment_channel_code") == "DEFAULT":
                    quantity = value.get("quantity")
        with call.market.lock:
            listing = call.market.find(sku=sku)
            if listing is None:
                issues.append(_issue("4000003", f"The SKU '{sku}' was not found for this seller.",
                                     ["fulfillment_availability"]))
            elif listing.extra.get("fulfillment_channel_code", "DEFAULT") != "DEFAULT":
                issues.append(_issue("90000900", "Amazon fulfils this SKU (FBA); its quantity cannot be set.",
                                     ["fulfillment_availability"]))
            elif quantity is not None and (not isinstance(quantity, int) or quantity < 0):
                issues.append(_issue("90220", "'quantity' must be an integer greater than or equal to 0.",
                                     ["fulfillment_availability"]))
            if issues:
                return json_response({"sku": sku, "status": "INVALID", "submissionId": submission, "issues": issues})
            assert listing is not None
            if quantity is not None:
                if listing.extra.get("reject_later"):
                    listing.extra["issues"] = [{
                        "code": "99022", "message": str(listing.extra["reject_later"]),
                        "severity": "ERROR", "attributeNames": ["fulfillment_availability"],
                        "categories": ["INVALID_ATTRIBUTE"],
                    }]
                elif float(listing.extra.get("apply_delay_s") or 0) > 0:
                    listing.extra["queued"] = [quantity, time.time() + float(listing.extra["apply_delay_s"])]
                else:
                    _apply(listing, quantity)
        return json_response({"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []})

    def get_item(self, call: Call) -> Response:
        _, refused = self._auth(call)
        if refused is not None:
            return refused
        sku = unquote(call.params["sku"])
        with call.market.lock:
            listing = call.market.find(sku=sku)
            queued = listing.extra.get("queued") if listing is not None else None
            if listing is not None and queued and time.time() >= queued[1]:
                _apply(listing, int(queued[0]))
                listing.extra.pop("queued", None)
            if listing is None:
                return _errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace "
                               f"{call.request.args.get('marketplaceIds')}")
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            item = {
                "sku": sku,
                "summaries": [{
                    "marketplaceId": call.request.args["marketplaceIds"].split(",")[0],
                    "asin": listing.extra.get("asin", "B0SANDBOX0"),
                    "productType": listing.extra.get("product_type", "PRODUCT"),
                    "status": ["BUYABLE", "DISCOVERABLE"] if listing.quantity > 0 else ["DISCOVERABLE"],
                    "itemName": listing.extra.get("name", sku),
                    "createdDate": now, "lastUpdatedDate": now,
                }],
                "fulfillmentAvailability": [{
                    "fulfillmentChannelCode": listing.extra.get("fulfillment_channel_code", "DEFAULT"),
                    "quantity": listing.quantity,
                }],
            }
            included = (call.request.args.get("includedData") or "summaries").split(",")
            if "issues" in included:
                item["issues"] = list(listing.extra.get("issues") or [])
        return json_response(item)


def _apply(listing: Any, quantity: int) -> None:
    listing.quantity = quantity
    listing.active = quantity > 0  # out of stock: no longer BUYABLE


def _issue(code: str, message: str, attributes: list[str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "ERROR", "attributeNames": attributes or []}
