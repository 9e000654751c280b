"""Rotated marketplace credentials kept in the state store, so a restart uses the newest.

Etsy and Shopee (and Lazada) hand out a NEW refresh token on every refresh and may retire
the old one; the config file still holds the first. The adapters report a rotation through
`MarketplaceAdapter.on_token_rotated(key, value)`; `TokenVault` writes it to the state
store's `credential` table before the adapter goes on, and at the next start `overlay()`
puts it back over the config value. "Newer" is decided by the config value itself: a stored
credential remembers a fingerprint of the config value it was rotated from, so when an
operator re-authorizes and puts a fresh token in the config, the config wins.

Usage::

    vault = TokenVault(store)
    settings = vault.overlay("etsy_shop", config_settings)     # stored values where newer
    adapter = build_adapter("etsy_shop", "etsy", settings)
    adapter.on_token_rotated = vault.saver("etsy_shop", config_settings)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping

from connector.state.store import Store

log = logging.getLogger(__name__)


def fingerprint(value: str | None) -> str:
    """A one-way tag of a config value (tokens are long random strings: not guessable)."""
    return hashlib.sha256((value or "").encode()).hexdigest()


class TokenVault:
    """Reads and writes rotated credentials of every channel in one state store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def overlay(self, channel_code: str, settings: Mapping[str, str]) -> dict[str, str]:
        """`settings` with each stored credential in place of its config value, unless the
        config value changed since that credential was rotated from it."""
        merged = dict(settings)
        for key, stored in self.store.credentials(channel_code).items():
            if stored.origin == fingerprint(settings.get(key)):
                merged[key] = stored.value
            else:
                log.info("%s: the config has a new %s; it replaces the stored rotated one", channel_code, key)
        return merged

    def saver(self, channel_code: str, config_settings: Mapping[str, str]) -> Callable[[str, str], None]:
        """The `on_token_rotated` callback of one channel's adapter."""
        origins = {key: fingerprint(value) for key, value in config_settings.items()}

        def save(key: str, value: str) -> None:
            self.store.save_credential(channel_code, key, value, origins.get(key, fingerprint(None)))
            log.info("%s: stored the rotated %s", channel_code, key)  # never the value

        return save
