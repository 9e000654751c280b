"""bol.com Retailer API v10 (offer stock) and Shared API (process status), as served here.

- POST /token?grant_type=client_credentials, HTTP Basic client_id:client_secret -> 299 s token
- PUT /retailer/offers/{offer-id}/stock {"amount" 0..999, "managedByRetailer"} -> 202 ProcessStatus
- GET /shared/process-status/{id}: PENDING on the first poll, then SUCCESS (or FAILURE)
- POST /shared/process-status {"processStatusQueries": [{"processStatusId"}]} (bulk)
- GET /retailer/offers/{offer-id}
Every API call needs ``Accept``/``Content-Type: application/vnd.retailer.v10+json``.
Offers API v11 (the successor the v10 spec's ``deprecated`` stock endpoint points to, per
the bol reference note; no v11 spec is stored): ``PATCH /retailer/offers/{offer-id}`` with
``application/vnd.retailer.v11+json`` and ``{"stock": {"amount", "managedByRetailer"}}``,
applied at once and answered 204 without a body; GET of an offer also takes the v11 type.
Errors are Problem JSON; 429 carries Retry-After and x-ratelimit-* headers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header

MEDIA = "application/vnd.retailer.v10+json"
MEDIA_V11 = "application/vnd.retailer.v11+json"
TOKEN_LIFETIME_S = 299
PENDING_POLLS = 1  # how many polls answer PENDING before the final status


def problem(status: int, title: str, detail: str, violations: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = {"type": "https://api.bol.com/problems", "title": title, "status": status, "detail": detail,
            "host": "sandbox", "instance": "", "violations": violations or []}
    return json_response(body, status, headers, content_type="application/problem+json")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Bol(MarketplaceApi):
    name = "bol"
    read_operations = frozenset({"bulk_process"})  # POST /shared/process-status only queries
    rate = 25.0
    burst = 25
    routes = [
        ("POST", r"/token", "token", True),
        ("PUT", r"/retailer/offers/(?P<offer_id>[^/]+)/stock", "put_stock", False),
        ("GET", r"/retailer/offers/(?P<offer_id>[^/]+)", "get_offer", False),
        ("PATCH", r"/retailer/offers/(?P<offer_id>[^/]+)", "patch_offer", False),
        ("GET", r"/shared/process-status/(?P<process_id>[^/]+)", "get_process", False),
        ("POST", r"/shared/process-status", "bulk_process", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        seconds = retry_after_header(retry_after)
        return problem(429, "Too Many Requests", "Too many requests, retry later.", headers={
            "Retry-After": seconds, "x-ratelimit-limit": str(int(self.rate or 0)),
            "x-ratelimit-remaining": "0", "x-ratelimit-reset": seconds})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return problem(status, {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Service Unavailable"),
                       message)

    def token(self, call: Call) -> Response:
        creds = call.basic()
        if call.request.args.get("grant_type", call.form().get("grant_type")) != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        with call.market.lock:
            found = creds and call.market.account_where(client_id=creds[0], client_secret=creds[1])
            if not found:
                return json_response({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
            token = call.market.issue_token(found[0], TOKEN_LIFETIME_S)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                              "scope": "RETAILER"})

    def _check(self, call: Call, body_expected: bool, media: tuple[str, ...] = (MEDIA,)) -> Response | None:
        with call.market.lock:
            account = call.market.token_account(call.bearer())
        if account is None:
            return problem(401, "Unauthorized", "Access token is missing, invalid or expired.")
        if not any(m in call.header("Accept") for m in media):
            return problem(406, "Not Acceptable", f"Accept header must be {' or '.join(media)}.")
        if body_expected and call.header("Content-Type").split(";")[0].strip() not in media:
            return problem(415, "Unsupported Media Type", f"Content-Type must be {' or '.join(media)}.")
        return None

    def patch_offer(self, call: Call) -> Response:
        refused = self._check(call, body_expected=True, media=(MEDIA_V11,))
        if refused is not None:
            return refused
        body = call.json()
        call.items = 1
        stock = body.get("stock") if isinstance(body, dict) else None
        violations = []
        if stock is not None:
            amount = stock.get("amount") if isinstance(stock, dict) else None
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= 999:
                violations.append({"name": "stock.amount", "reason": "Must be an integer between 0 and 999."})
            if not isinstance(stock, dict) or not isinstance(stock.get("managedByRetailer"), bool):
                violations.append({"name": "stock.managedByRetailer", "reason": "Must be true or false."})
        if violations:
            return problem(400, "Bad Request", "Validation error", violations)
        with call.market.lock:
            listing = call.market.find(external_id=call.params["offer_id"])
            if listing is None:
                return problem(404, "Not Found", f"Offer with id {call.params['offer_id']} not found.")
            if isinstance(stock, dict):
                listing.quantity = int(stock["amount"])
                listing.extra["managedByRetailer"] = stock["managedByRetailer"]
        return Response(status=204)

    def put_stock(self, call: Call) -> Response:
        refused = self._check(call, body_expected=True)
        if refused is not None:
            return refused
        body = call.json()
        call.items = 1
        violations = []
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "Request body is not valid JSON.")
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= 999:
            violations.append({"name": "amount", "reason": "Must be an integer between 0 and 999."})
        if not isinstance(body.get("managedByRetailer"), bool):
            violations.append({"name": "managedByRetailer", "reason": "Must be true or false."})
        if violations:
            return problem(400, "Bad Request", "Validation error", violations)
        offer_id = call.params["offer_id"]
        with call.market.lock:
            market = call.market
            listing = market.find(external_id=offer_id)
            job_id = str(market.next_id())
            job: dict[str, Any] = {
                "processStatusId": job_id, "entityId": offer_id, "eventType": "UPDATE_OFFER_STOCK",
                "description": f"Update stock for offer with id {offer_id}.", "status": "PENDING",
                "createTimestamp": _now(),
                "links": [{"rel": "self", "href": f"{call.prefix_url}/shared/process-status/{job_id}",
                           "method": "GET"}],
                "_polls": 0,
            }
            if listing is None:
                job["_final"] = ("FAILURE", f"Offer with id {offer_id} does not exist.")
            else:
                job["_final"] = ("SUCCESS", None)
                listing.quantity = int(body["amount"])
                listing.extra["managedByRetailer"] = body["managedByRetailer"]
            market.jobs[job_id] = job
            public = _public(job)
        return json_response(public, 202, content_type=MEDIA)

    def _advance(self, call: Call, job_id: str) -> dict[str, Any] | None:
        job = call.market.jobs.get(job_id)
        if job is None:
            return None
        job["_polls"] += 1
        if job["status"] == "PENDING" and job["_polls"] > PENDING_POLLS:
            job["status"], error = job["_final"]
            if error:
                job["errorMessage"] = error
        return _public(job)

    def get_process(self, call: Call) -> Response:
        refused = self._check(call, body_expected=False)
        if refused is not None:
            return refused
        with call.market.lock:
            public = self._advance(call, call.params["process_id"])
        if public is None:
            return problem(404, "Not Found", f"Process status {call.params['process_id']} not found.")
        return json_response(public, content_type=MEDIA)

    def bulk_process(self, call: Call) -> Response:
        refused = self._check(call, body_expected=True)
        if refused is not None:
            return refused
        body = call.json() or {}
        queries = body.get("processStatusQueries") if isinstance(body, dict) else None
        if not isinstance(queries, list) or not 1 <= len(queries) <= 1000:
            return problem(400, "Bad Request", "Validation error",
                           [{"name": "processStatusQueries", "reason": "Must hold 1 to 1000 queries."}])
        with call.market.lock:
            found = [self._advance(call, str(q.get("processStatusId"))) for q in queries]
        return json_response({"processStatuses": [s for s in found if s is not None]}, content_type=MEDIA)

    def get_offer(self, call: Call) -> Response:
        refused = self._check(call, body_expected=False, media=(MEDIA, MEDIA_V11))
        if refused is not None:
            return refused
        with call.market.lock:
            listing = call.market.find(external_id=call.params["offer_id"])
            if listing is None:
                return problem(404, "Not Found", f"Offer with id {call.params['offer_id']} not found.")
            offer = {
                "offerId": listing.external_id, "ean": listing.extra.get("ean", listing.sku),
                "reference": listing.sku, "onHoldByRetailer": not listing.active,
                "pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": listing.extra.get("price", 9.99)}]},
                "stock": {"amount": listing.quantity, "correctedStock": listing.quantity,
                          "managedByRetailer": bool(listing.extra.get("managedByRetailer", True))},
                "fulfilment": {"method": "FBR"}, "store": {"productTitle": listing.sku, "visible": []},
                "condition": {"name": "NEW"},
                "notPublishableReasons": [] if listing.quantity > 0 else [
                    {"code": "4003", "description": "Out of stock."}],
            }
        media = MEDIA_V11 if MEDIA_V11 in call.header("Accept") else MEDIA
        return json_response(offer, content_type=media)


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}
