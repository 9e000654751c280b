"""Which keys a `[channels.<code>]` section may and must hold, from the adapter registry.

connector.config cannot import the adapters (imports run cli → sync → marketplaces →
config), so the per-marketplace check lives here and runs when the bridge is wired up:
a missing required key or an unknown key is a ConfigError naming the channel and the key
(exit 2), instead of a `run` that starts and never pushes.

A key is known when the adapter class lists it (`required_keys`, `secret_keys`, and
`optional_keys` when it declares them), when every channel takes it (`base_url`,
`token_url`, `rate_per_s`, `burst`), or when it is in `OPTIONAL_KEYS` below (settings
the existing adapters read with a default). A new marketplace needs nothing here: its
module declares its keys.

Usage::

    validate_channels(config)                           # sections that name their marketplace
    validate_channels(config, {"amazon_de": "amazon"})  # + marketplaces the ERP says
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from connector.catalogue import CATALOGUE
from connector.config import ENV_PREFIX, BridgeConfig, ChannelConfig, ConfigError, is_secret_key

COMMON_KEYS = frozenset({"base_url", "token_url", "rate_per_s", "burst"})

# Optional settings the bundled adapters read (with a default) that their classes do not
# declare (connector.catalogue); an adapter may declare `optional_keys` itself instead.
OPTIONAL_KEYS: dict[str, frozenset[str]] = {m.code: m.optional_keys for m in CATALOGUE if m.optional_keys}


# Keys whose value the marketplace's API takes as an integer id: a typo there would only
# show up as a signature or "shop not found" error at the first call, so it is checked here.
NUMERIC_KEYS: dict[str, frozenset[str]] = {m.code: m.numeric_keys for m in CATALOGUE if m.numeric_keys}


def _adapter(marketplace: str) -> type:
    from connector.marketplaces.registry import adapter_class

    return adapter_class(marketplace)


def known_keys(marketplace: str) -> frozenset[str]:
    """Every key a channel of `marketplace` may set (raises ValueError for an unknown one)."""
    cls = _adapter(marketplace)
    return (
        COMMON_KEYS
        | frozenset(getattr(cls, "required_keys", ()))
        | frozenset(getattr(cls, "secret_keys", ()))
        | frozenset(getattr(cls, "optional_keys", ()))
        | OPTIONAL_KEYS.get(marketplace, frozenset())
    )


def secret_keys() -> frozenset[str]:
    """Every adapter's secret keys (what must never be printed), across the registry."""
    from connector.marketplaces.registry import ADAPTERS

    found: set[str] = set()
    for marketplace in ADAPTERS:
        try:
            found |= set(getattr(_adapter(marketplace), "secret_keys", ()))
        except (ImportError, AttributeError, ValueError):
            continue
    return frozenset(found)


def validate_channel(
    code: str, section: ChannelConfig, marketplace: str, environ: Mapping[str, str] | None = None
) -> None:
    """ConfigError (one line: channel, key) for a missing required or an unknown key;
    also holds the adapter's declared secret keys as SecretStr."""
    where = f"[channels.{code}]"
    try:
        cls = _adapter(marketplace)
    except ValueError as exc:
        raise ConfigError(f"{where}: marketplace: {exc}") from None
    section.protect(getattr(cls, "secret_keys", ()))
    allowed = known_keys(marketplace)
    for key in sorted(section.model_extra or {}):
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r} for marketplace {marketplace} "
                f"(known: {', '.join(sorted(allowed))})"
            )
    settings = section.settings(code, os.environ if environ is None else environ)
    for key in ("base_url", *getattr(cls, "required_keys", ())):
        if not settings.get(key):
            env = f"{ENV_PREFIX}{code.upper()}_{key.upper()}"
            hint = f" (or set {env})" if is_secret_key(key) else ""
            raise ConfigError(f"{where}: missing key {key!r} for marketplace {marketplace}{hint}")
    for key in sorted(NUMERIC_KEYS.get(marketplace, frozenset())):
        value = settings.get(key, "").strip()
        if value and not value.isdigit():  # the value is an id, never a secret: no echo anyway
            raise ConfigError(f"{where}: {key} must be a number for marketplace {marketplace}")


def validate_channels(
    config: BridgeConfig,
    erp_marketplaces: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Check every enabled channel section whose marketplace is known (from the section,
    else from `erp_marketplaces`: the ERP's channel code -> marketplace)."""
    for code, section in sorted(config.channels.items()):
        if not section.enabled:
            continue
        marketplace = section.marketplace or (erp_marketplaces or {}).get(code)
        if marketplace:
            validate_channel(code, section, marketplace, environ)
