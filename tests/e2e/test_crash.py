"""Issue 6 "Must show" 14: the bridge is SIGKILLed in the middle of a burst and restarted.

`stock-bridge run --config F` runs as a separate process against the test's mock ERP and
sandbox. A burst of inventory adjustments is sent over RPC; the process is killed (SIGKILL:
no clean-up of any kind) half-way, the rest of the burst lands while it is down, then it is
started again. Every listing must converge to the value the ERP's final stock gives, and
the outbox cursor must reach the last event (nothing lost, nothing stuck), and the journal
must show that the restart replayed the outbox from the stored cursor: the second run's
pushes carry trigger "event" and name events after the cursor stored at kill time, and the
start-up full sync that follows the replay has nothing left to push.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
import pytest

from connector.state.sqlite import StateStore
from tests.e2e.harness import BridgeProcess, Stack, free_port

pytestmark = pytest.mark.timeout(90)

# ERP SKU -> (location adjusted, units elsewhere that count, {channel: buffer}); 6-pack apart.
PRODUCTS: dict[str, tuple[str, int, dict[str, int]]] = {
    "MUG-CER-350": ("WH/Stock", 24, {"amazon_de": 2, "bol_nl": 1, "kaufland_de": 0, "shopify_eu": 0,
                                     "etsy_shop": 1, "woo_shop": 0}),
    "PEN-GEL-BLK": ("WH/Stock", 120, {"bol_nl": 1, "shopify_eu": 0, "woo_shop": 0}),
    "NOTEBOOK-A5-DOT": ("WH/Stock/Shelf A", 0, {"amazon_de": 2, "bol_nl": 1, "ebay_de": 1, "shopify_eu": 0,
                                                "woo_shop": 0}),
}


def expected(sku: str, counted: int) -> dict[str, int]:
    _location, elsewhere, buffers = PRODUCTS[sku]
    free = counted + elsewhere
    out = {code: max(0, free - buffer) for code, buffer in buffers.items()}
    if sku == "MUG-CER-350":
        out["amazon_de/MUG-CER-350-6PK"] = max(0, (free - 2) // 6)
    return out


def test_14_sigkill_mid_burst_then_restart_converges_and_loses_nothing(make_stack: Callable[..., Stack]) -> None:
    port = free_port()
    stack = make_stack(with_bridge=False, listen=f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    stack.erp.set_webhook(f"{url}/v1/triggers", stack.config.webhook_secret())
    rng = random.Random(14)
    counted = {"MUG-CER-350": 60, "PEN-GEL-BLK": 250, "NOTEBOOK-A5-DOT": 55}
    burst = [(sku, rng.randint(0, 90)) for sku in rng.choices(list(PRODUCTS), k=40)]

    def cursor() -> object:
        out = subprocess.run(
            [sys.executable, "-m", "connector.cli", "status", "--json", "--config", str(stack.config_path)],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if out.returncode != 0:
            return None
        return (json.loads(out.stdout).get("cursor") or {}).get("position")

    first = BridgeProcess(stack.config_path, stack.tmp / "run1", url)
    second: BridgeProcess | None = None
    try:
        first.wait_ready()
        stack.wait_for(lambda: cursor() is not None, timeout=20, what="the first full sync to be durable")
        for sku, qty in burst[:20]:
            stack.rpc.set_quantity(sku, PRODUCTS[sku][0], qty)
            counted[sku] = qty
        time.sleep(0.05)  # some pushes in flight, some not yet
        at_kill = stack.rpc.last_event_id()
        first.kill()
        assert first.proc.returncode == -signal.SIGKILL
        # Usually the cursor is behind here (pushes were in flight): the restart must replay.
        stored_at_kill = cursor()
        assert isinstance(stored_at_kill, int), stored_at_kill
        print(f"killed at event {at_kill}; cursor stored: {stored_at_kill}")
        for sku, qty in burst[20:]:  # the ERP keeps selling while the bridge is down
            stack.rpc.set_quantity(sku, PRODUCTS[sku][0], qty)
            counted[sku] = qty
        last_event = stack.rpc.last_event_id()

        restarted = time.time()
        second = BridgeProcess(stack.config_path, stack.tmp / "run2", url)
        second.wait_ready()
        want = {sku: expected(sku, n) for sku, n in counted.items()}
        stack.wait_for(lambda: {sku: stack.qty(sku) for sku in PRODUCTS} == want, timeout=30,
                       what=f"every listing to converge to {want}")

        stack.wait_for(lambda: cursor() == last_event, timeout=15, what=f"the cursor to reach event {last_event}")

        # Replay, not just a resync: what run 2 pushed came from the outbox after the cursor.
        store = StateStore.open(stack.config.bridge.state_path, read_only=True)
        try:
            rows = store.journal(since=restarted, limit=10_000)
        finally:
            store.close()
        assert rows, "the second run pushed nothing although stock changed while it was down"
        # The retry queue may re-push a parked value (a 429 from the sandbox); the start-up full
        # sync must find nothing: the replay already had every change on its way.
        triggers = sorted({(r.trigger, r.sku) for r in rows})
        assert "startup" not in {r.trigger for r in rows}, triggers
        rows = [r for r in rows if r.trigger == "event"]
        assert rows, triggers
        named = {e for r in rows for e in r.events}
        assert named and min(named) > stored_at_kill and max(named) <= last_event, (stored_at_kill, sorted(named))
        # Every product changed while the bridge was down was replayed up to its last event.
        pids = {sku: stack.rpc.product(sku) for sku in PRODUCTS}
        after_kill = [e for e in stack.rpc("marketplace.stock.event", "search_read",
                                           [["id", ">", at_kill]], ["id", "product_id"])]
        last_by_product = {}
        for e in after_kill:
            last_by_product[e["product_id"][0]] = max(last_by_product.get(e["product_id"][0], 0), e["id"])
        pushed_skus = {r.sku for r in rows}
        for sku, pid in pids.items():
            if pid in last_by_product and sku in pushed_skus:
                assert last_by_product[pid] in named, (sku, last_by_product[pid], sorted(named))
    finally:
        first.stop()
        if second is not None:
            second.stop()
