"""XML-RPC request decoding, as `xmlrpc.client.loads` does it but without a Python callback per tag.

`loads(data)` returns `(params, method_name)` exactly as `xmlrpc.client.loads(data,
use_builtin_types=False)` would. It walks the tree the C parser (ElementTree) built, and only
for the plain shapes clients send (string, int/i4/i8, boolean, double, nil, array, struct);
anything else — base64, dateTime, odd nesting, malformed XML — goes to `xmlrpc.client.loads`
itself, so the results and the errors stay the stdlib's. Usage::

    params, method = loads(b"<?xml version='1.0'?><methodCall>...</methodCall>")
"""

from __future__ import annotations

import xmlrpc.client
import xml.etree.ElementTree as ET
from typing import Any


class _Unusual(Exception):
    """A shape the fast path leaves to the stdlib decoder."""


def loads(data: bytes) -> tuple[tuple[Any, ...], str | None]:
    try:
        return _fast(data)
    except Exception:  # noqa: BLE001 - whatever it is, the stdlib decides (and raises its own error)
        return xmlrpc.client.loads(data, use_builtin_types=False)


def _fast(data: bytes) -> tuple[tuple[Any, ...], str]:
    root = ET.fromstring(data)
    if root.tag != "methodCall" or len(root) != 2 or _text(root):
        raise _Unusual
    name, params = root[0], root[1]
    if name.tag != "methodName" or len(name) or params.tag != "params" or _text(params):
        raise _Unusual
    out = []
    for param in params:
        if param.tag != "param" or len(param) != 1 or _text(param):
            raise _Unusual
        out.append(_value(param[0]))
    return tuple(out), name.text or ""


def _text(el: ET.Element) -> bool:
    """Non-blank character data inside a structural element (the stdlib would skip it)."""
    if el.text and el.text.strip():
        return True
    return any(child.tail and child.tail.strip() for child in el)


def _value(el: ET.Element) -> Any:
    if el.tag != "value" or el.attrib:
        raise _Unusual
    if not len(el):
        return el.text or ""  # an untyped value is a string
    if len(el) != 1 or _text(el):
        raise _Unusual
    typed = el[0]
    tag = typed.tag
    if tag == "array":
        if len(typed) != 1 or _text(typed) or typed[0].tag != "data" or _text(typed[0]):
            raise _Unusual
        return [_value(v) for v in typed[0]]
    if tag == "struct":
        if _text(typed):
            raise _Unusual
        out: dict[str, Any] = {}
        for member in typed:
            if member.tag != "member" or len(member) != 2 or _text(member):
                raise _Unusual
            key, value = member[0], member[1]
            if key.tag != "name" or len(key):
                raise _Unusual
            out[key.text or ""] = _value(value)
        return out
    if len(typed) or typed.attrib:
        raise _Unusual
    text = typed.text
    if tag == "string":
        return text or ""
    if tag in ("int", "i4", "i8"):
        return int(text or "")
    if tag == "double":
        return float(text or "")
    if tag == "boolean":
        if text == "0":
            return False
        if text == "1":
            return True
        raise _Unusual
    if tag == "nil" and not text:
        return None
    raise _Unusual
