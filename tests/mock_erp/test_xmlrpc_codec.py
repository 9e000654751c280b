"""The fast XML-RPC request decoder answers exactly as xmlrpc.client.loads: values and errors."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.mock_erp import xmlrpc_codec

# what xmlrpc.client.dumps can write: 32-bit ints, finite doubles, XML-safe text
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r") | st.sampled_from("\t\n "),
               max_size=12)
SCALARS = st.none() | st.booleans() | st.integers(-(2**31), 2**31 - 1) | st.floats(allow_nan=False) | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=20)


def _both(data: bytes) -> tuple[Any, Any]:
    def outcome(fn: Any) -> Any:
        try:
            return ("ok", fn(data))
        except Exception as exc:  # noqa: BLE001 - the comparison is the point
            return ("error", type(exc), str(exc))

    return (outcome(xmlrpc_codec.loads), outcome(lambda d: xmlrpc.client.loads(d, use_builtin_types=False)))


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, max_size=6), st.sampled_from(["execute_kw", "login", "version"]))
def test_same_values_as_the_stdlib(params: list[Any], method: str) -> None:
    data = xmlrpc.client.dumps(tuple(params), method, allow_none=True).encode()
    # the fast path itself (no fallback) gives the stdlib's answer for every plain value
    assert xmlrpc_codec._fast(data) == xmlrpc.client.loads(data, use_builtin_types=False)


def test_the_drivers_call_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = xmlrpc.client.dumps(("demo", 2, "admin", "stock.quant", "write", [[8], {"inventory_quantity": 101.0}], {}),
                               "execute_kw").encode()
    monkeypatch.setattr(xmlrpc.client, "loads", lambda *a, **k: pytest.fail("fell back to the stdlib"))
    assert xmlrpc_codec.loads(data) == (
        ("demo", 2, "admin", "stock.quant", "write", [[8], {"inventory_quantity": 101.0}], {}), "execute_kw")


@pytest.mark.parametrize("data", [
    b"",
    b"<methodCall>",
    b"not xml at all",
    b"<methodCall><methodName>m</methodName></methodCall>",  # no params: stdlib says ((), 'm')
    b"<methodCall><methodName>m</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><int></int></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><bogus>1</bogus></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><array><data>"
    b"<value><int>1</int></value></data></array></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value><base64>aGk=</base64></value></param>"
    b"<param><value><dateTime.iso8601>20250101T10:00:00</dateTime.iso8601></value></param></params></methodCall>",
    b"<methodCall><methodName>m</methodName><params><param><value>junk<string>a</string>more</value></param>"
    b"</params></methodCall>",
    b"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
    b"<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member>"
    b"<member><name>faultString</name><value><string>x</string></value></member></struct></value></fault>"
    b"</methodResponse>",
])
def test_odd_and_broken_requests_answer_as_the_stdlib(data: bytes) -> None:
    fast, stdlib = _both(data)
    assert fast == stdlib  # Binary and DateTime compare by value
