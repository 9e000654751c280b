"""The engine's knobs (EngineSettings, from config.bridge) and collaborators (EngineDeps,
wired in connector.sync.wiring; in-memory fakes in the tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connector.stock.model import ZeroStockAction
from connector.sync.ports import AdapterFactory, ChangeFeed, ComputeFn, StatusFactory, StatusSink, StockSourceLike


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The knobs of the engine (from config.bridge; see `settings_from_config` in wiring)."""

    poll_interval_s: float = 2.0
    max_attempts: int = 12  # transient failures in a row before a listing goes to error
    retry_base_s: float = 5.0
    retry_max_s: float = 900.0
    disabled_channels: frozenset[str] = frozenset()
    wait_outcomes_s: float = 120.0  # how long resync waits for its pushes to finish
    status_interval_s: float = 1.0  # sync status write-back to the ERP: at most this late
    stop_timeout_s: float = 5.0  # how long stop() waits for pushes in flight, all channels together


@dataclass(slots=True)
class EngineDeps:
    """The engine's collaborators; the real ones are wired in connector.sync.wiring."""

    source: StockSourceLike
    compute: ComputeFn
    adapter_factory: AdapterFactory
    feed: ChangeFeed | None = None
    status_sink: StatusSink | None = None
    status_factory: StatusFactory | None = None
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None
    clock: Callable[[], float] = time.time
    # marketplace -> the most it stores for one listing (adapters' max_quantity): the
    # computation caps there, so the recorded value is what the marketplace really holds.
    marketplace_caps: Mapping[str, int] | None = None
