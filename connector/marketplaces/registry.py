"""Which module serves which marketplace: read from connector.catalogue (one entry there)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from connector.catalogue import CATALOGUE
from connector.marketplaces.base import MarketplaceAdapter

ADAPTERS: dict[str, str] = {m.code: m.adapter for m in CATALOGUE}


def adapter_class(marketplace: str) -> type[MarketplaceAdapter]:
    try:
        target = ADAPTERS[marketplace]
    except KeyError:
        raise ValueError(
            f"unknown marketplace {marketplace!r}; known: {', '.join(sorted(ADAPTERS))}"
        ) from None
    module_name, _, class_name = target.partition(":")
    cls: object = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, MarketplaceAdapter)):
        raise TypeError(f"{target} is not a MarketplaceAdapter")
    return cls


def build_adapter(
    channel_code: str, marketplace: str, settings: Mapping[str, str], **kwargs: object
) -> MarketplaceAdapter:
    return adapter_class(marketplace)(channel_code, settings, **kwargs)  # type: ignore[arg-type]
