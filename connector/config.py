"""The bridge's configuration: TOML validated by pydantic, secrets from the environment.

Every secret may come from `STOCK_BRIDGE_<CHANNEL CODE>_<KEY>` (channels) or
`STOCK_BRIDGE_ERP_<KEY>` / `STOCK_BRIDGE_WEBHOOK_SECRET` / `STOCK_BRIDGE_AUTOMATION_TOKEN`
instead of the file; secrets are
`SecretStr` and never printed. A bad file gives one `ConfigError` line naming the key.

Usage::

    config = load_config(Path("bridge.toml"))      # or load_config(None): embedded default
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from connector.defaults import embedded_default
from connector.risk.settings import RiskSettings

ENV_CONFIG = "STOCK_BRIDGE_CONFIG"
ENV_PREFIX = "STOCK_BRIDGE_"

# A channel key is a secret when its name says so; the adapters' own `secret_keys` (e.g.
# Etsy's `keystring`) are added when the bridge is wired up (connector.sync.channel_keys),
# because this module must not import the adapters.
_SECRET_WORDS = ("secret", "token", "password", "passwd")


def is_secret_key(name: str) -> bool:
    """The generic rule: `is_secret_key("partner_secret_key") is True`, `("shop_id")` False."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS) or lowered.endswith("_key") or lowered == "key"


class ConfigError(Exception):
    """One line: which key, what is wrong."""


def check_http_url(value: str, what: str = "URL") -> str:
    """`value` if it is an http(s) URL with a host and a valid port, else ValueError.

    Checked in the file so that a typo is exit 2 at once, not a connection error later."""
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:
        raise ValueError(f"{what} must be an http(s) URL with a valid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL (http://host[:port]/...)")
    del port
    return value


def _not_empty(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not value.get_secret_value().strip():
        raise ValueError("must not be empty (leave it out or set it)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErpConfig(_Strict):
    url: str = "http://127.0.0.1:8069"
    database: str = "odoo"
    username: str = "bridge"
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    protocol: Literal["jsonrpc", "xmlrpc", "json2"] = "jsonrpc"
    timeout_s: float = Field(default=30.0, gt=0)
    # auto: use the addon's marketplace.* models when installed, else the config file
    mode: Literal["auto", "addon", "no_addon"] = "auto"
    cache_ttl_s: float = Field(default=60.0, ge=0)
    page_size: int = Field(default=5000, ge=1)
    # Odoo 18 makes a non-admin's API key expire (1 day by default, 90 for the addon's
    # bridge group): warn this many days ahead (status, /v1/health, log), and read the
    # expiry again this often (connector.sync.key_expiry).
    key_expiry_warn_days: float = Field(default=14.0, ge=0)
    key_check_interval_s: float = Field(default=6 * 3600.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value, "url")

    @field_validator("database", "username")
    @classmethod
    def _filled(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    _secrets_filled = field_validator("password", "api_key")(_not_empty)

    @model_validator(mode="after")
    def _one_secret(self) -> ErpConfig:
        if self.protocol == "json2" and self.api_key is None:
            raise ValueError("protocol json2 needs api_key")
        if self.protocol != "json2" and self.password is None and self.api_key is None:
            raise ValueError("needs password or api_key")
        return self

    def secret(self) -> str:
        chosen = self.api_key if self.protocol == "json2" or self.password is None else self.password
        assert chosen is not None
        return chosen.get_secret_value()


DRIFT_AUDIT_EVERY_RESYNCS = 3  # default drift audit period, in safety-net periods


class BridgeSection(_Strict):
    state_path: Path = Path("var/bridge.sqlite3")
    listen: str = "127.0.0.1:8765"
    webhook_secret: SecretStr | None = None
    # Accepted only as `?token=` on /v1/triggers (Odoo automation rules cannot sign);
    # a wake-up token, never a signing key. Env: STOCK_BRIDGE_AUTOMATION_TOKEN.
    automation_token: SecretStr | None = None
    poll_interval_s: float = Field(default=2.0, gt=0)
    full_resync_interval_s: float = Field(default=600.0, gt=0)
    # Reading every listing back from the marketplaces is costly (their read quotas), so
    # it runs less often than the safety-net resync. None: 3 x full_resync_interval_s
    # (`audit_interval_s` gives the effective value).
    drift_audit_interval_s: float | None = Field(default=None, gt=0)
    coalesce_ms: float = Field(default=30.0, ge=0)
    retry_interval_s: float = Field(default=5.0, gt=0)
    journal_retention_days: int = Field(default=90, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    @property
    def audit_interval_s(self) -> float:
        """Seconds between drift audits: `drift_audit_interval_s`, else 3 x the safety net."""
        if self.drift_audit_interval_s is not None:
            return self.drift_audit_interval_s
        return DRIFT_AUDIT_EVERY_RESYNCS * self.full_resync_interval_s

    @property
    def listen_host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def listen_port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    _secrets_filled = field_validator("webhook_secret", "automation_token")(_not_empty)

    @field_validator("listen")
    @classmethod
    def _listen_shape(cls, listen: str) -> str:
        host, sep, port = listen.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"must be host:port, got {listen!r}")
        if not 0 <= int(port) <= 65535:
            raise ValueError(f"port must be 0..65535, got {port}")
        return listen


class PeakPeriodConfig(_Strict):
    start: datetime
    end: datetime
    extra: float = Field(ge=0)


class ListingConfig(_Strict):
    """A listing for no-addon mode (the addon's marketplace.listing, in the file)."""

    sku: str  # product.product default_code in the ERP
    channel_sku: str | None = None  # defaults to sku
    external_id: str | None = None
    buffer_qty: float | None = Field(default=None, ge=0)
    max_qty: float = Field(default=0, ge=0)
    pack_size: int = Field(default=1, ge=1)
    velocity_class: str | None = None


class ChannelConfig(BaseModel):
    """One `[channels.<code>]` section. Marketplace keys (DESIGN.md's table) are extra keys."""

    model_config = ConfigDict(extra="allow")

    # Required in no-addon mode; with the addon, read from the ERP. Which names exist is the
    # adapter registry's business (connector.marketplaces.registry), checked when wiring up.
    marketplace: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    base_url: str | None = None
    token_url: str | None = None
    enabled: bool = True
    # Buffer rule parts the addon does not hold (the addon holds the fixed buffer_qty):
    buffer_by_velocity: dict[str, float] = Field(default_factory=dict)
    peak_periods: list[PeakPeriodConfig] = Field(default_factory=list)
    marketplace_extra_buffer: float = Field(default=0, ge=0)
    rate_per_s: float | None = Field(default=None, gt=0)
    # No-addon mode only: the rest of marketplace.channel and its listings.
    warehouses: list[str] = Field(default_factory=list)  # stock.warehouse codes
    excluded_locations: list[str] = Field(default_factory=list)  # complete_name
    buffer_qty: float = Field(default=0, ge=0)
    max_qty: float = Field(default=0, ge=0)
    zero_stock_action: Literal["push_zero", "deactivate", "end_listing"] | None = None
    listings: list[ListingConfig] = Field(default_factory=list)

    @field_validator("base_url", "token_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value, "it")

    @model_validator(mode="after")
    def _scalar_extras(self) -> ChannelConfig:
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, (str, int, float, SecretStr)) or isinstance(value, bool):
                raise ValueError(f"{key} must be a string or a number")
        return self

    def settings(self, code: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The adapter's flat string settings: file values overlaid by the environment."""
        env = os.environ if environ is None else environ
        flat: dict[str, str] = {}
        if self.base_url:
            flat["base_url"] = self.base_url
        if self.token_url:
            flat["token_url"] = self.token_url
        if self.rate_per_s:
            flat["rate_per_s"] = str(self.rate_per_s)
        for key, value in (self.model_extra or {}).items():
            if isinstance(value, SecretStr):
                flat[key] = value.get_secret_value()
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
                flat[key] = str(value)
        prefix = f"{ENV_PREFIX}{code.upper()}_"
        for name, value in env.items():
            if name.startswith(prefix):
                flat[name[len(prefix) :].lower()] = value
        return flat

    def protect(self, keys: Iterable[str]) -> None:
        """Hold these keys' values as SecretStr too (an adapter's declared secret_keys)."""
        extra = self.model_extra or {}
        for key in keys:
            if isinstance(extra.get(key), str):
                extra[key] = SecretStr(extra[key])

    @model_validator(mode="after")
    def _wrap_secrets(self) -> ChannelConfig:
        self.protect([key for key in (self.model_extra or {}) if is_secret_key(key)])
        return self


class BridgeConfig(_Strict):
    erp: ErpConfig
    bridge: BridgeSection = Field(default_factory=BridgeSection)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    velocity_classes: dict[str, str] = Field(default_factory=dict)  # product SKU -> class
    risk: RiskSettings = Field(default_factory=RiskSettings)  # `advise` / `simulate`
    source: str = "file"  # where it came from, for messages

    def webhook_secret(self) -> str | None:
        env = os.environ.get(f"{ENV_PREFIX}WEBHOOK_SECRET")
        if env:
            return env
        secret = self.bridge.webhook_secret
        return secret.get_secret_value() if secret else None

    def automation_token(self) -> str | None:
        """The wake-up token Odoo automation rules send as `?token=` (env wins)."""
        env = os.environ.get(f"{ENV_PREFIX}AUTOMATION_TOKEN")
        if env:
            return env
        token = self.bridge.automation_token
        return token.get_secret_value() if token else None


def _erp_env_overlay(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    erp = data.setdefault("erp", {})
    for key in ("password", "api_key", "url", "database", "username", "protocol"):
        value = environ.get(f"{ENV_PREFIX}ERP_{key.upper()}")
        if value:
            erp[key] = value


def _format_error(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: {where}: {message}{more}"


def parse_config(
    data: dict[str, Any], source: str = "config", environ: Mapping[str, str] | None = None
) -> BridgeConfig:
    env = os.environ if environ is None else environ
    for section in ("erp", "bridge", "channels", "velocity_classes", "risk"):
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(f"{source}: {section}: must be a table ([{section}])")
    if "erp" not in data and not any(k.startswith(f"{ENV_PREFIX}ERP_") for k in env):
        raise ConfigError(f"{source}: erp: missing section [erp]")
    data = {**data, "erp": dict(data.get("erp", {}))}
    _erp_env_overlay(data, env)
    data["source"] = source
    try:
        return BridgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> BridgeConfig:
    """Load `path`, or $STOCK_BRIDGE_CONFIG, or, with neither, the embedded default."""
    env = os.environ if environ is None else environ
    if path is None and env.get(ENV_CONFIG):
        path = Path(env[ENV_CONFIG])
    if path is None:
        return parse_config(embedded_default(), source="embedded default", environ=env)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(path), environ=env)
