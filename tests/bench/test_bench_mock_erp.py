"""Benchmark: mock ERP JSON-RPC throughput on loopback, and a child_of search over 100k quants.

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
from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase

FULL = os.environ.get("BENCH_FULL") == "1"
SECONDS = 8.0 if FULL else 1.0
CLIENTS = 2
SERVER = (
    "import sys, threading\n"
    "from connector.mock_erp.server import start_mock_erp\n"
    "erp = start_mock_erp()\n"
    "print(erp.url, flush=True)\n"
    "sys.stdin.read()\n"
    "erp.stop()\n"
)


def _throughput(url: str, payload: dict[str, Any]) -> float:
    stop = time.monotonic() + SECONDS
    counts = [0] * CLIENTS

    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(payload)
    headers = {"Content-Type": "application/json"}

    def worker(i: int) -> None:
        # a light client (http.client) so the number measures the server, not the client library
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop:
            conn.request("POST", "/jsonrpc", body, headers)
            response = conn.getresponse()
            reply = json.loads(response.read())
            assert "result" in reply, reply
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 30)
    return sum(counts) / (time.monotonic() - started)


@pytest.mark.bench
def test_bench_jsonrpc_throughput() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")

        def object_call(model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "service": "object", "method": "execute_kw",
                "args": ["demo", 3, "bridge", model, method, args, kwargs]}}

        search_read = object_call("stock.quant", "search_read",
                                  [[["location_id", "child_of", [9, 17]], ["location_id.usage", "=", "internal"]]],
                                  {"fields": ["product_id", "location_id", "quantity", "reserved_quantity"]})
        read = object_call("product.product", "read", [[1, 2, 3]], {"fields": ["default_code", "barcode"]})
        for name, payload in (("search_read quants child_of", search_read), ("execute_kw read", read)):
            rate = _throughput(url, payload)
            print(f"\nmock ERP JSON-RPC {name}: {rate:.0f} calls/s ({CLIENTS} client threads, {SECONDS:.0f}s)")
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=10)


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
