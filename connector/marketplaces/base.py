"""The one small interface every marketplace adapter implements.

An adapter turns absolute stock updates into that marketplace's real requests and its
replies into one `PushResult` per listing. It states its differences as data (batch
limit, rate, compare-and-set, zero-stock default, the keys it needs); the shared HTTP
machinery (connector.marketplaces.http) does retries, backoff and throttling.

Usage::

    adapter = build_adapter(channel_code="amazon_de", marketplace="amazon", settings=cfg)
    results = adapter.push([StockUpdate(listing_id=1, sku="SKU-1", quantity=4)])
"""

from __future__ import annotations

import abc
import logging
from datetime import UTC, datetime
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from connector.marketplaces.http import (
    DEFAULT_ATTEMPTS,
    DEFAULT_TIMEOUT_S,
    ApiSession,
    AuthFailed,
    Clock,
    SystemClock,
)
from connector.stock.model import PushAction, ZeroStockAction

log = logging.getLogger(__name__)
N = TypeVar("N", int, float)


# The message prefix of a write the marketplace accepted (queued) but has not applied yet;
# connector.sync.reports counts listings whose last message starts with it.
ACCEPTED_NOT_APPLIED = "accepted, not yet applied"
# The message prefix of a push held for a marketplace quota (eBay's revisions per listing
# per day), followed by the UTC time it may go; `status` lists these listings.
HELD_UNTIL = "held until"


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"  # transient: the engine parks it in the retry queue until `retry_at`
    FAILED = "failed"  # permanent: the listing goes to error (or locked) state


class FailureCategory(StrEnum):
    UNKNOWN_LISTING = "unknown_listing"
    LOCKED = "locked"  # campaign / promotion lock
    VALIDATION = "validation"
    AUTH = "auth"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class StockUpdate:
    """One absolute update for one listing."""

    listing_id: int
    sku: str  # marketplace.listing.channel_sku
    quantity: int
    action: PushAction = PushAction.SET
    external_id: str | None = None  # marketplace.listing.external_id (offer id, GID, ...)
    expected_quantity: int | None = None  # last value we know the marketplace holds (CAS)


@dataclass(frozen=True, slots=True)
class PushResult:
    listing_id: int
    outcome: Outcome
    category: FailureCategory | None = None
    message: str = ""  # the marketplace's own words, never a credential
    retry_at: float | None = None  # epoch seconds, with Outcome.RETRY
    applied_quantity: int | None = None  # what the marketplace holds now, when known
    active: bool | None = None  # listing active on the marketplace after the push, when known
    # With RETRY: a planned hold (a quota slot not yet free, e.g. eBay's revisions per
    # listing per day), not a failure; the engine does not count it toward giving up.
    deferred: bool = False

    @classmethod
    def ok(cls, update: StockUpdate, *, active: bool | None = None) -> PushResult:
        return cls(update.listing_id, Outcome.OK, applied_quantity=update.quantity, active=active)

    @classmethod
    def failed(
        cls, update: StockUpdate, category: FailureCategory, message: str
    ) -> PushResult:
        return cls(update.listing_id, Outcome.FAILED, category=category, message=message)

    @classmethod
    def retry(
        cls, update: StockUpdate, message: str, retry_at: float, *, deferred: bool = False
    ) -> PushResult:
        return cls(
            update.listing_id, Outcome.RETRY, message=message, retry_at=retry_at, deferred=deferred
        )

    @classmethod
    def accepted(cls, update: StockUpdate, message: str, confirm_at: float) -> PushResult:
        """The marketplace queued the write but has not applied it yet (Amazon's ACCEPTED,
        bol's PENDING process status): not OK, since nothing says the buyer sees it yet. A
        deferred hold until `confirm_at`, when the engine's retry queue brings the update
        back and the adapter confirms it (read back) instead of sending it again; a late
        rejection then comes back FAILED. `status` counts these per channel by the
        message's prefix (ACCEPTED_NOT_APPLIED)."""
        return cls(
            update.listing_id, Outcome.RETRY, message=f"{ACCEPTED_NOT_APPLIED}: {message}",
            retry_at=confirm_at, deferred=True,
        )

    @classmethod
    def held(cls, update: StockUpdate, why: str, until: float) -> PushResult:
        """A push not sent because a marketplace quota has no slot before `until` (epoch
        seconds): a deferred hold whose message says when it may go, for `status`."""
        stamp = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(update.listing_id, Outcome.RETRY, message=f"{HELD_UNTIL} {stamp}: {why}",
                   retry_at=until, deferred=True)

    @property
    def awaiting_confirmation(self) -> bool:
        return self.outcome is Outcome.RETRY and self.message.startswith(ACCEPTED_NOT_APPLIED)


@dataclass(frozen=True, slots=True)
class RemoteListing:
    """A listing as the marketplace shows it now (for audits and drift checks)."""

    sku: str
    quantity: int | None
    active: bool | None = None
    found: bool = True
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PastPush:
    """A push the marketplace accepted, as the bridge journaled it (`restore_history`)."""

    sku: str  # the channel SKU
    quantity: int
    at: float  # wall clock


class MarketplaceAdapter(abc.ABC):
    """Base of every adapter. Subclasses set the class attributes and implement
    `_push_batch` and `read`; `push` splits into batches of `batch_limit`."""

    marketplace: ClassVar[str]
    batch_limit: ClassVar[int] = 1
    rate_per_s: ClassVar[float] = 1.0  # documented steady rate per account
    burst: ClassVar[int] = 1
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    # The largest quantity the marketplace stores for one listing (bol: 999), or None when
    # it documents none. The stock computation caps at it (cap source "marketplace max")
    # so explain/status show what the marketplace really holds; the adapter clamps too.
    max_quantity: ClassVar[int | None] = None
    required_keys: ClassVar[tuple[str, ...]] = ()  # config keys, DESIGN.md's table
    # Optional on every channel: how long one request may take before it counts as
    # unanswered (seconds), and how many times the session sends it before giving up.
    optional_keys: ClassVar[tuple[str, ...]] = ("timeout_s", "attempts")
    secret_keys: ClassVar[tuple[str, ...]] = ()  # never logged, never in errors
    # Optional hook set by the bridge's wiring: (config key, new value) whenever the
    # marketplace replaces a credential (a rotated refresh token), to persist it durably.
    on_token_rotated: Callable[[str, str], None] | None = None
    # Optional hook set by the bridge's wiring: (topic, message) when the adapter warns about
    # its configuration, (topic, None) when that warning no longer holds; the wiring keeps
    # them as alerts in the state file, which `status` shows.
    on_warning: Callable[[str, str | None], None] | None = None
    # How far back `restore_history` wants the pushes this channel's marketplace accepted
    # (0: it keeps no per-listing usage). eBay: a day, for its revision cap.
    history_window_s: ClassVar[float] = 0.0

    def __init__(
        self,
        channel_code: str,
        settings: Mapping[str, str],
        *,
        session: ApiSession | None = None,
        clock: Clock | None = None,
    ) -> None:
        missing = [k for k in ("base_url", *self.required_keys) if not settings.get(k)]
        if missing:
            raise ValueError(
                f"channel {channel_code!r} ({self.marketplace}): missing config key(s) "
                + ", ".join(missing)
            )
        self.channel_code = channel_code
        self._warnings: dict[str, str] = {}  # topic -> message, see `_warn`
        self.settings = dict(settings)
        self.base_url = self.settings["base_url"].rstrip("/")
        self.clock = clock or SystemClock()
        self.session = session or ApiSession(
            name=f"{self.marketplace}:{channel_code}",
            rate_per_s=float(self.settings.get("rate_per_s", self.rate_per_s)),
            burst=int(self.settings.get("burst", self.burst)),
            clock=self.clock,
            secrets=[self.settings[k] for k in self.secret_keys if self.settings.get(k)],
            attempts=self._positive(int, "attempts", DEFAULT_ATTEMPTS),
            timeout_s=self._positive(float, "timeout_s", DEFAULT_TIMEOUT_S),
        )
        self._configure()

    def _positive(self, kind: Callable[[str], N], key: str, default: N) -> N:
        raw = self.settings.get(key)
        if raw in (None, ""):
            return default
        try:
            value = kind(str(raw))
        except ValueError:
            value = kind("0")
        if not value > 0:
            raise ValueError(
                f"channel {self.channel_code!r} ({self.marketplace}): {key} must be a number > 0, got {raw!r}"
            )
        return value

    def _configure(self) -> None:
        """Read the marketplace's own settings (tokens, ids, options); runs at the end of
        `__init__`, when `settings`, `base_url`, `clock` and `session` are set."""

    def push(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Push every update; one result per update, in the same order."""
        by_id: dict[int, PushResult] = {}
        for batch in self._batches(updates):
            for result in self._push_batch(batch):
                by_id[result.listing_id] = result
        return [
            by_id.get(u.listing_id)
            or PushResult.failed(u, FailureCategory.OTHER, "adapter returned no result")
            for u in updates
        ]

    def _batches(self, updates: Sequence[StockUpdate]) -> Iterator[list[StockUpdate]]:
        return self._chunks(updates)

    def _chunks(self, updates: Sequence[StockUpdate]) -> Iterator[list[StockUpdate]]:
        limit = max(1, self.batch_limit)
        for start in range(0, len(updates), limit):
            yield list(updates[start : start + limit])

    def _grouped_batches(
        self, updates: Sequence[StockUpdate], key: Callable[[StockUpdate], Hashable]
    ) -> Iterator[list[StockUpdate]]:
        """Batches of at most `batch_limit` that never mix two values of `key`, for APIs
        with one endpoint or one item per request:
        `return self._grouped_batches(updates, lambda u: parent_of(u.external_id))`."""
        groups: dict[Hashable, list[StockUpdate]] = {}
        for update in updates:
            groups.setdefault(key(update), []).append(update)
        for group in groups.values():
            yield from self._chunks(group)

    @abc.abstractmethod
    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        """Send one batch (len <= batch_limit) and classify every item."""

    @abc.abstractmethod
    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """Read back (sku, external_id) listings as the marketplace holds them."""

    def _adopt_refreshed(
        self, access: str, rotated: str | None, current_refresh: str | None,
        *, persist_access: bool = False,
    ) -> str | None:
        """After a token refresh: redact the new access token, report a rotated refresh token
        (the marketplace retires the old one) and, where a restart could not use the config's
        access token any more, the access token too. Returns the refresh token now in force.
        """
        self.session.add_secret(access)
        if rotated and rotated != current_refresh:
            self._token_rotated("refresh_token", rotated)
            current_refresh = rotated
        if persist_access:
            self._token_rotated("access_token", access)
        return current_refresh

    def _adopt_refresh_reply(
        self, status: int, payload: Any, current_refresh: str | None, *,
        who: str, accepted: bool = True, code: object = None,
    ) -> tuple[str, str | None]:
        """The access token of a refresh-grant reply, adopted as `_adopt_refreshed` does
        (access token persisted too), with the refresh token now in force; or AuthFailed
        with the marketplace's message (and `code`, when it sends one) and the advice to
        re-authorize the `who` ("seller", "shop"). `accepted` is the marketplace's own
        success flag, for APIs that answer 200 with an error code."""
        access = payload.get("access_token") if isinstance(payload, Mapping) else None
        if status >= 400 or not access or not accepted:
            message = payload.get("message", "") if isinstance(payload, Mapping) else ""
            shown = "" if code is None else f"{code} "
            raise AuthFailed(
                f"{self.session.name}: token refresh failed (HTTP {status}) {shown}"
                f"{self.session.redact(str(message))}; re-authorize the {who}"
            )
        refresh = self._adopt_refreshed(
            str(access), str(payload.get("refresh_token") or ""), current_refresh, persist_access=True,
        )
        return str(access), refresh or current_refresh

    def restore_history(self, pushes: Sequence[PastPush]) -> None:
        """Rebuild per-listing usage from the pushes the marketplace accepted in the last
        `history_window_s` (from the bridge's journal), so a restart does not reset a cap
        the marketplace keeps counting. Default: nothing to rebuild."""

    def _token_rotated(self, key: str, value: str) -> None:
        """Report a credential the marketplace just replaced: `self._token_rotated("refresh_token", new)`.

        Registers it for redaction and hands it to `on_token_rotated` (synchronously, so it
        is stored before the old one can be needed again). A failing store is logged, never
        raised: pushing goes on with the value in memory.
        """
        self.session.add_secret(value)
        if self.on_token_rotated is None:
            return
        try:
            self.on_token_rotated(key, value)
        except Exception as exc:
            log.error(
                "%s: could not store the rotated %s (%s); a restart would use the config value",
                self.session.name, key, type(exc).__name__,
            )

    def warnings(self) -> dict[str, str]:
        """Configuration the operator should know about (an API version close to its
        retirement, an account preference that changes how zero stock behaves): topic ->
        one line, as raised by `_warn`."""
        return dict(self._warnings)

    def pending_confirmations(self) -> int:
        """Writes the marketplace accepted that the adapter has not yet seen applied."""
        return 0

    def _warn(self, topic: str, message: str) -> None:
        """Raise (or restate) a configuration warning: logged once per distinct message and
        handed to `on_warning`: `self._warn("api_version", "2024-01 retires on ...")`."""
        if self._warnings.get(topic) == message:
            return
        self._warnings[topic] = message
        log.warning("%s: %s", self.session.name, message)
        self._tell_warning(topic, message)

    def _clear_warning(self, topic: str) -> None:
        if self._warnings.pop(topic, None) is not None:
            self._tell_warning(topic, None)

    def _tell_warning(self, topic: str, message: str | None) -> None:
        if self.on_warning is None:
            return
        try:
            self.on_warning(topic, message)
        except Exception as exc:  # a failing store must not stop pushing
            log.error("%s: could not store a warning (%s)", self.session.name, type(exc).__name__)

    def close(self) -> None:
        self.session.close()
