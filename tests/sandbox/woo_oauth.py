"""An OAuth 1.0a one-legged signer for tests, written from RFC 5849 section 3.4 and
WooCommerce's REST API docs, independent of the adapter and of the sandbox.

Usage: ``requests.get(url, params=woo_query("GET", url, {"per_page": "1"}, "ck", "cs"))``
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from urllib.parse import unquote


def _pct(value: str) -> str:
    # RFC 5849 3.6: unreserved characters stay, everything else is %XX of its UTF-8 bytes.
    return "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-._~") else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in value
    )


def signature(method: str, base_uri: str, params: dict[str, str], secret: str, algorithm: str = "HMAC-SHA1") -> str:
    """RFC 5849 3.4.1/3.4.2 with an empty token secret (key = secret + "&")."""
    normalized = "&".join(sorted(f"{_pct(k)}={_pct(v)}" for k, v in params.items()))
    base_string = "&".join((method.upper(), _pct(base_uri), _pct(normalized)))
    algo = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[algorithm]
    # WooCommerce keys with the raw secret + "&" (RFC 5849 would encode it; cs_ keys are hex anyway).
    return base64.b64encode(hmac.new((secret + "&").encode(), base_string.encode(), algo).digest()).decode()


def woo_query(
    method: str, base_uri: str, params: dict[str, str], key: str, secret: str, *,
    algorithm: str = "HMAC-SHA1", timestamp: int | None = None, nonce: str | None = None,
) -> dict[str, str]:
    """`params` plus the oauth_* query parameters WooCommerce's docs describe, signed."""
    oauth = {
        "oauth_consumer_key": key,
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_nonce": nonce or uuid.uuid4().hex,
        "oauth_signature_method": algorithm,
    }
    signed = {**params, **oauth}
    return {**signed, "oauth_signature": signature(method, base_uri, signed, secret, algorithm)}


def header_params(header: str) -> dict[str, str]:
    """`OAuth a="1", b="2"` -> {"a": "1", "b": "2"} (values percent-decoded)."""
    assert header.startswith("OAuth "), header
    pairs = (part.strip().split("=", 1) for part in header[6:].split(","))
    return {k: unquote(v.strip('"')) for k, v in pairs}


__all__ = ["header_params", "signature", "woo_query"]
