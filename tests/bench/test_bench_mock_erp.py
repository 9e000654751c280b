"""Benchmark: mock ERP throughput on loopback for the calls the sync bench makes, and a
child_of search over 100k quants.

The hot calls are the bridge's (JSON-RPC execute_kw: outbox poll `id > cursor`, quants by
product with child_of, products, listings, allocations, listing status write) and the
driver's (XML-RPC inventory count + apply), after the outbox has grown as in the sync bench.
Prints numbers, asserts no timing. The server runs in its own process (as in the demo),
clients on threads here. Quick mode by default; BENCH_FULL=1 for longer runs.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase

FULL = os.environ.get("BENCH_FULL") == "1"
SECONDS = 8.0 if FULL else 1.0
HOT_SECONDS = 2.0 if FULL else 0.3  # per hot call
OUTBOX = 3000 if FULL else 300  # inventory adjustments (outbox events) made before the hot calls
CLIENTS = 2
SERVER = (
    "import sys, threading\n"
    "from connector.mock_erp.server import start_mock_erp\n"
    "erp = start_mock_erp()\n"
    "print(erp.url, flush=True)\n"
    "sys.stdin.read()\n"
    "erp.stop()\n"
)


def _throughput(url: str, payload: dict[str, Any] | bytes, path: str = "/jsonrpc", seconds: float = SECONDS,
                content_type: str = "application/json") -> float:
    stop = time.monotonic() + seconds
    counts = [0] * CLIENTS

    host, port = url.removeprefix("http://").split(":")
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": content_type}

    def worker(i: int) -> None:
        # a light client (http.client) so the number measures the server, not the client library
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            raw = response.read()
            if path == "/jsonrpc":
                reply = json.loads(raw)
                assert "result" in reply, reply
            else:
                assert b"<fault>" not in raw, raw
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    return sum(counts) / (time.monotonic() - started)


def _object_call(model: str, method: str, args: list[Any], kwargs: dict[str, Any], uid: int = 3,
                 password: str = "bridge") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw", "args": ["demo", uid, password, model, method, args, kwargs]}}


def _xml_call(model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> bytes:
    return xmlrpc.client.dumps(("demo", 2, "admin", model, method, args, kwargs), "execute_kw").encode()


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        yield url
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=10)


@pytest.mark.bench
def test_bench_jsonrpc_throughput(server_url: str) -> None:
    search_read = _object_call("stock.quant", "search_read",
                               [[["location_id", "child_of", [9, 17]], ["location_id.usage", "=", "internal"]]],
                               {"fields": ["product_id", "location_id", "quantity", "reserved_quantity"]})
    read = _object_call("product.product", "read", [[1, 2, 3]], {"fields": ["default_code", "barcode"]})
    for name, payload in (("search_read quants child_of", search_read), ("execute_kw read", read)):
        rate = _throughput(server_url, payload)
        print(f"\nmock ERP JSON-RPC {name}: {rate:.0f} calls/s ({CLIENTS} client threads, {SECONDS:.0f}s)")


@pytest.mark.bench
def test_bench_sync_hot_calls(server_url: str) -> None:
    """The calls of tests/bench/test_bench_sync.py, one at a time, after OUTBOX adjustments."""
    host, port = server_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    # WH/Stock quant of MUG-CER-350 (product 4, location 9 in fixtures/demo), counted +1 each time
    conn.request("POST", "/jsonrpc", json.dumps(_object_call(
        "stock.quant", "search_read", [[["product_id", "=", 4], ["location_id", "=", 9]]],
        {"fields": ["quantity"]}, 2, "admin")), {"Content-Type": "application/json"})
    [quant] = json.loads(conn.getresponse().read())["result"]
    count = quant["quantity"]

    def adjust() -> list[bytes]:
        nonlocal count
        count += 1
        return [_xml_call("stock.quant", "write", [[quant["id"]], {"inventory_quantity": count}], {}),
                _xml_call("stock.quant", "action_apply_inventory", [[quant["id"]]], {})]

    started = time.monotonic()
    for _ in range(OUTBOX):
        for body in adjust():
            conn.request("POST", "/xmlrpc/2/object", body, {"Content-Type": "text/xml"})
            reply = conn.getresponse().read()
            # action_apply_inventory returns None: fault 1 after its commit, as on Odoo 18
            assert b"<fault>" not in reply or b"cannot marshal None" in reply
    seeded = 2 * OUTBOX / (time.monotonic() - started)
    conn.close()
    products = [4, 18, 2]
    hot: dict[str, dict[str, Any]] = {
        "outbox poll id > cursor": _object_call(
            "marketplace.stock.event", "search_read", [[["id", ">", OUTBOX - 5]]],
            {"fields": ["product_id", "reason", "create_date"], "order": "id asc", "limit": 1000}),
        "quants by product, child_of": _object_call(
            "stock.quant", "search_read", [[["product_id", "in", products], ["location_id", "child_of", [9, 12, 17]],
                                            ["location_id.usage", "=", "internal"]]],
            {"fields": ["product_id", "location_id", "quantity", "reserved_quantity", "lot_id", "package_id",
                        "owner_id", "company_id"]}),
        "products by id": _object_call(
            "product.product", "search_read", [[["id", "in", products]]],
            {"fields": ["default_code", "barcode", "display_name", "company_id"], "context": {"active_test": False}}),
        "listings by product": _object_call(
            "marketplace.listing", "search_read", [[["product_id", "in", products]]],
            {"fields": ["channel_id", "product_id", "channel_sku", "external_id", "buffer_qty", "max_qty",
                        "pack_size", "active"]}),
        "allocations by product": _object_call(
            "marketplace.allocation", "search_read", [[["product_id", "in", products], "|", ["date_end", "=", False],
                                                       ["date_end", ">", "2026-01-01 00:00:00"]]],
            {"fields": ["channel_id", "product_id", "mode", "quantity", "date_start", "date_end"]}),
        "listing status write": _object_call(
            "marketplace.listing", "write", [[1, 2, 3], {"sync_state": "synced", "last_pushed_qty": 5.0}], {}),
    }
    print(f"\n[bench mock ERP] outbox grown by {OUTBOX} adjustments ({seeded:.0f} XML-RPC calls/s, 1 client); "
          f"hot calls, {CLIENTS} client threads, {HOT_SECONDS:.1f}s each:")
    for name, payload in hot.items():
        rate = _throughput(server_url, payload, seconds=HOT_SECONDS)
        print(f"[bench mock ERP]   JSON-RPC {name:30s} {rate:6.0f} calls/s")
    write = _xml_call("stock.quant", "write", [[quant["id"]], {"inventory_quantity": count + 1}], {})
    rate = _throughput(server_url, write, "/xmlrpc/2/object", HOT_SECONDS, "text/xml")
    print(f"[bench mock ERP]   XML-RPC  {'stock.quant.write (count)':30s} {rate:6.0f} calls/s")


@pytest.mark.bench
def test_bench_child_of_over_many_quants() -> None:
    db = MockDatabase(version="19.0")
    n = 100_000 if FULL else 20_000
    locations = [9, 10, 11, 12, 13, 14, 17, 18, 20]
    products = list(range(1, 21))
    with db.store.lock:
        for i in range(n):
            db.store.insert("stock.quant", {
                "product_id": products[i % 20], "location_id": locations[i % len(locations)], "lot_id": False,
                "package_id": False, "owner_id": False, "quantity": 1.0, "reserved_quantity": 0.0,
                "inventory_quantity": 0.0, "inventory_quantity_set": False, "in_date": False})
    domain = [["location_id", "child_of", [9, 17]], ["location_id.usage", "=", "internal"]]
    started = time.perf_counter()
    count = db.execute(3, "stock.quant", "search_count", [domain])
    all_took = time.perf_counter() - started
    started = time.perf_counter()
    rows = db.execute(3, "stock.quant", "search_read", [[["product_id", "in", [1, 2]], *domain]],
                      {"fields": ["quantity", "reserved_quantity"]})
    narrow_took = time.perf_counter() - started
    print(f"\nchild_of over {n} quants: count {count} in {all_took * 1000:.0f} ms; "
          f"2 products search_read {len(rows)} rows in {narrow_took * 1000:.0f} ms")
