"""The sandbox's wire faults (issue 15): garbled / other-shaped 2xx, a body cut short, a
reply held past the client's timeout, a dropped connection; aimed at reads or writes,
for a number of requests or until cleared. Plain HTTP, no connector code."""

from __future__ import annotations

import pytest
import requests

from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import GARBLED, RunningSandbox

T = 5


def offer(sandbox: RunningSandbox, session: requests.Session) -> requests.Response:
    return session.get(f"{sandbox.url}/bol/retailer/offers/1001", timeout=T)


def test_kinds_on_the_wire(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    http = requests.Session()
    admin.set_faults("bol", wire={"kind": "garbled"})
    reply = offer(sandbox, http)
    assert reply.status_code == 200 and reply.content == GARBLED
    admin.set_faults("bol", wire={"kind": "shape"})
    assert "sandbox" in offer(sandbox, http).json()
    admin.set_faults("bol", wire={"kind": "truncated"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        offer(sandbox, http)
    admin.set_faults("bol", wire={"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        offer(sandbox, http)
    admin.set_faults("bol", wire={"kind": "timeout", "hold_ms": 400})
    with pytest.raises(requests.Timeout):
        http.get(f"{sandbox.url}/bol/retailer/offers/1001", timeout=0.1)
    admin.set_faults("bol", wire=None)
    assert offer(sandbox, http).status_code == 401  # the real route again (no token sent)


def test_reads_or_writes_and_a_count(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    http = requests.Session()
    admin.set_faults("bol", wire={"kind": "garbled", "on": "write"})
    assert offer(sandbox, http).status_code == 401  # a read: untouched
    put = http.put(f"{sandbox.url}/bol/retailer/offers/1001/stock", json={"amount": 1}, timeout=T)
    assert put.status_code == 200 and put.content == GARBLED
    admin.set_faults("bol", wire={"kind": "garbled", "on": "read", "count": 2})
    assert [offer(sandbox, http).status_code for _ in range(3)] == [200, 200, 401]
    assert admin.listing("bol", "8712345678906")["quantity"] == 5  # nothing applied


def test_shopify_queries_read_and_mutations_write(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    url = f"{sandbox.url}/shopify/admin/api/2025-01/graphql.json"
    admin.set_faults("shopify", wire={"kind": "shape", "on": "read"})
    query = requests.post(url, json={"query": "query { shop { name } }"}, timeout=T)
    mutation = requests.post(url, json={"query": "mutation { x }"}, timeout=T)
    assert "sandbox" in query.json() and "sandbox" not in mutation.json()


def test_a_bad_fault_is_refused(admin: SandboxAdmin) -> None:
    with pytest.raises(ValueError, match="kind"):
        admin.set_faults("bol", wire={"kind": "sometimes"})
    with pytest.raises(ValueError, match="'on'"):
        admin.set_faults("bol", wire={"kind": "drop", "on": "tuesdays"})
