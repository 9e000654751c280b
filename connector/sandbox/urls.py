"""Where each marketplace lives under the sandbox: a channel's base_url and token_url.

Kept apart from the server so that config code can name the URLs without loading the
sandbox itself. Usage: ``channel_urls("http://127.0.0.1:8780", "amazon")["token_url"]``.
"""

from __future__ import annotations

from connector.catalogue import CATALOGUE

# The real token path of each marketplace, under the sandbox's per-marketplace prefix.
TOKEN_PATHS: dict[str, str] = {m.code: m.token_path for m in CATALOGUE if m.token_path}


def channel_urls(sandbox_url: str, marketplace: str) -> dict[str, str]:
    """base_url (and token_url where the marketplace issues tokens) for a channel."""
    base = f"{sandbox_url.rstrip('/')}/{marketplace}"
    urls = {"base_url": base}
    if marketplace in TOKEN_PATHS:
        urls["token_url"] = base + TOKEN_PATHS[marketplace]
    return urls
