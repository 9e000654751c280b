"""Fuzz `POST /v1/triggers` on the real HTTP listener: whatever the content (random JSON,
deep nesting, huge numbers, non-UTF-8, odd headers, signed or not), the answer is never a
5xx, the listener keeps serving, and a real signed wake-up afterwards still reaches the
trigger callback; and the whole bridge, fuzzed at its listener, still syncs the ERP's next
change."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.defaults import DEMO_WEBHOOK_SECRET
from connector.sync.webhook import Trigger, WebhookListener, sign
from tests.e2e.conftest import make_stack  # noqa: F401  (the fixture, for the whole-bridge test)
from tests.e2e.harness import Stack

SECRET = "fuzz-webhook-secret-9"
T = 5

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {"events": st.lists(st.dictionaries(st.sampled_from(["id", "product_id", "reason"]), json_values), max_size=3)}
) | st.fixed_dictionaries({"_model": json_values, "_id": json_values, "product_id": json_values})


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "shaped", "deep", "huge", "bytes"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "shaped":
        return json.dumps(draw(shaped)).encode()
    if kind == "deep":
        depth = draw(st.integers(10, 50_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "1" + closer * depth).encode()
    if kind == "huge":
        digits = draw(st.integers(20, 20_000))
        return b'{"events": [{"id": 1, "product_id": ' + b"9" * digits + b"}]}"
    return draw(st.binary(max_size=200))


odd_headers = st.dictionaries(
    st.sampled_from(["Content-Type", "X-Signature-256", "Content-Encoding", "X-Timestamp", "Accept"]),
    # requests refuses leading/trailing blanks itself, so they never reach the listener
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
    max_size=3,
)


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[WebhookListener, list[Trigger]]]:
    got: list[Trigger] = []
    server = WebhookListener("127.0.0.1", 0, SECRET, got.append, max_body_bytes=200_000)
    server.start()
    yield server, got
    server.stop()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies(), signed=st.booleans(), headers=odd_headers)
def test_no_content_gets_a_5xx(
    listener: tuple[WebhookListener, list[Trigger]], body: bytes, signed: bool, headers: dict[str, str]
) -> None:
    server, _ = listener
    if signed:
        headers = {**headers, "X-Signature-256": sign(body, SECRET)}
    reply = requests.post(f"{server.url}/v1/triggers", data=body, headers=headers, timeout=T)
    assert reply.status_code < 500, (reply.status_code, reply.text[:200])
    if signed and reply.status_code != 202:
        assert reply.status_code in (400, 413, 422)


@pytest.mark.parametrize("length", [b"-5", b"abc", b"1e3", b"-0x10"])
def test_bad_content_length_is_400(listener: tuple[WebhookListener, list[Trigger]], length: bytes) -> None:
    server, _ = listener
    raw = b"POST /v1/triggers HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\nConnection: close\r\n\r\n{}"
    with socket.create_connection(("127.0.0.1", server.port), timeout=T) as sock:
        sock.sendall(raw)
        head = sock.recv(4096)
    assert head.split(b"\r\n", 1)[0].split()[1] == b"400", head[:200]


@pytest.mark.parametrize("body", [b"[" * 50_000 + b"]" * 50_000, b'{"events": [{"product_id": ' + b"7" * 5000 + b"}]}"])
def test_issue_15_bodies_are_400_not_500(listener: tuple[WebhookListener, list[Trigger]], body: bytes) -> None:
    server, _ = listener
    signature = {"X-Signature-256": sign(body, SECRET)}
    reply = requests.post(f"{server.url}/v1/triggers", data=body, headers=signature, timeout=T)
    assert reply.status_code == 400


def test_a_real_wake_up_after_the_fuzz_still_arrives(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    before = len(got)
    payload: dict[str, Any] = {"events": [{"id": 42, "product_id": 4242, "reason": "move_done"}]}
    body = json.dumps(payload).encode()
    reply = requests.post(f"{server.url}/v1/triggers", data=body, headers={"X-Signature-256": sign(body, SECRET)}, timeout=T)
    assert reply.status_code == 202
    assert got[before:] == [Trigger(frozenset({4242}), (42,), ((42, 4242, "move_done"),))]


def test_a_fuzzed_bridge_still_syncs_a_real_change(make_stack: Callable[..., Stack]) -> None:
    """The whole bridge (mock ERP + sandbox + bridge over real HTTP): fuzzed at its own
    listener, it keeps serving, and the ERP's next signed wake-up still syncs a change."""
    stack = make_stack()
    bridge = stack.bridge
    assert bridge is not None and bridge.trigger_url and bridge.engine is not None
    statuses: list[int] = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(body=bodies(), signed=st.booleans(), headers=odd_headers)
    def fire(body: bytes, signed: bool, headers: dict[str, str]) -> None:
        if signed:
            headers = {**headers, "X-Signature-256": sign(body, DEMO_WEBHOOK_SECRET)}
        reply = requests.post(bridge.trigger_url, data=body, headers=headers, timeout=T)
        statuses.append(reply.status_code)
        assert reply.status_code < 500, (reply.status_code, reply.text[:200])

    fire()
    assert statuses and any(code >= 400 for code in statuses)
    stack.settle()
    before = stack.qty("MUG-CER-350")["shopify_eu"]
    woken = bridge.engine.woken_flushes
    stack.rpc.deliver("MUG-CER-350", 4)  # the mock ERP commits and sends its signed wake-up
    stack.wait_for(lambda: stack.qty("MUG-CER-350")["shopify_eu"] == before - 4, timeout=10,
                   what="the change synced after the fuzz")
    assert bridge.engine.woken_flushes > woken, "found by the poll, not by the ERP's wake-up"
