"""A tiny client for the sandbox's /_sandbox admin endpoints (tests and the demo).

Usage::

    admin = SandboxAdmin(sandbox.url)
    admin.add_listings("bol", [{"sku": "8712345678906", "external_id": "1001", "quantity": 5}])
    admin.set_faults("bol", storm_429={"count": 3, "retry_after": 1})
    admin.state("bol")["bol"][0]["quantity"]
"""

from __future__ import annotations

from typing import Any

import requests


class SandboxAdmin:
    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/_sandbox"
        self.timeout_s = timeout_s
        self.http = requests.Session()

    def _get(self, action: str, **params: Any) -> Any:
        reply = self.http.get(f"{self.url}/{action}", params={k: v for k, v in params.items() if v is not None},
                              timeout=self.timeout_s)
        reply.raise_for_status()
        return reply.json()

    def _post(self, action: str, body: dict[str, Any]) -> Any:
        reply = self.http.post(f"{self.url}/{action}", json=body, timeout=self.timeout_s)
        if reply.status_code >= 400:
            raise ValueError(f"sandbox {action}: HTTP {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def state(self, marketplace: str | None = None) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = self._get("state", marketplace=marketplace)
        return result

    def listing(self, marketplace: str, sku: str) -> dict[str, Any] | None:
        return next((x for x in self.state(marketplace)[marketplace] if x["sku"] == sku), None)

    def requests(self, marketplace: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("requests", marketplace=marketplace, since=since)
        return result

    def set_faults(self, marketplace: str | None = None, **faults: Any) -> None:
        self._post("faults", {"marketplace": marketplace, **faults})

    def add_listings(self, marketplace: str, listings: list[dict[str, Any]]) -> None:
        self._post("listings", {"marketplace": marketplace, "listings": listings})

    def add_account(self, marketplace: str, credentials: dict[str, Any]) -> None:
        self._post("accounts", {"marketplace": marketplace, "credentials": credentials})

    def reset(self, reseed: bool = True) -> None:
        self._post("reset", {"reseed": reseed})

    def close(self) -> None:
        self.http.close()
