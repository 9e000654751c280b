"""When the bridge's Odoo API key expires, as far as Odoo lets the bridge user see it.

Odoo 18 forces every non-administrator's API key to expire (by default after 1 day; the
addon's Marketplace Bridge group allows 90). A user may read its own `res.users.apikeys`
rows (name, scope, create_date, expiration_date) but never the key or its index, so when
the user has several keys the bridge cannot tell which one it uses: it then reports the
soonest expiry and says "one of N keys". Odoo before 14.0, the mock ERP without the model
or a user without read access give `KeyInfo.unknown(...)`, never an error.

Usage::

    info = read_key_info(client, uid=client.uid, secret=config.erp.secret())
    info.expires_at, info.describe(now)   # datetime (UTC) or None, one line for humans
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.erp.errors import ErpError

log = logging.getLogger(__name__)

MODEL = "res.users.apikeys"
# Odoo's keys are hexlify(os.urandom(20)) (res_users.py API_KEY_SIZE = 20 bytes): 40 hex
# digits. A secret of another shape is a password, which does not expire.
_API_KEY = re.compile(r"[0-9a-f]{40}")


def looks_like_api_key(secret: str) -> bool:
    return bool(_API_KEY.fullmatch(secret))


def parse_odoo_datetime(value: Any) -> datetime | None:
    """Odoo's "YYYY-MM-DD HH:MM:SS" (UTC, no zone) or False -> an aware UTC datetime."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class KeyInfo:
    """What the bridge knows about its key. `known` False: Odoo did not say (see `note`)."""

    known: bool
    expires_at: datetime | None = None  # the soonest expiry of the candidate keys
    key_name: str | None = None
    keys: int = 0                        # the user's keys that could be this one
    never_expires: bool = False          # every candidate key is persistent (admin-made)
    password: bool = False               # the bridge logs in with a password, not a key
    note: str = ""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def unknown(cls, note: str) -> KeyInfo:
        return cls(known=False, note=note)

    def days_left(self, now: datetime) -> float | None:
        if self.expires_at is None:
            return None
        return (self.expires_at - now).total_seconds() / 86400.0

    def describe(self, now: datetime) -> str:
        """One line: "API key 'stock-bridge' expires 2027-03-03 07:42 UTC (in 89 days)"."""
        if self.password:
            return "the bridge logs in with a password (no API key, no expiry)"
        if not self.known:
            return f"API key expiry unknown ({self.note})"
        if self.expires_at is None:
            return "API key never expires" if self.never_expires else "API key expiry unknown"
        which = f"API key {self.key_name!r}" if self.keys <= 1 else (
            f"one of the user's {self.keys} API keys ({self.key_name!r}; Odoo does not say "
            "which one the bridge uses, this is the soonest)")
        left = self.days_left(now) or 0.0
        when = self.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        if left <= 0:
            return f"{which} expired {when}"
        span = f"{left:.0f} days" if left >= 2 else f"{left * 24:.0f} hours"
        return f"{which} expires {when} (in {span})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "known": self.known,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "key_name": self.key_name,
            "keys": self.keys,
            "never_expires": self.never_expires,
            "password": self.password,
            "note": self.note,
            "checked_at": self.checked_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyInfo:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            known=bool(data.get("known")),
            expires_at=when("expires_at"),
            key_name=data.get("key_name"),
            keys=int(data.get("keys") or 0),
            never_expires=bool(data.get("never_expires")),
            password=bool(data.get("password")),
            note=str(data.get("note") or ""),
            checked_at=when("checked_at") or datetime.now(UTC),
        )


def read_key_info(client: Any, uid: int | None, secret: str,
                  now: datetime | None = None) -> KeyInfo:
    """Read the bridge user's own API keys (one search_read) and pick the candidates."""
    if not looks_like_api_key(secret):
        return KeyInfo(known=True, password=True)
    if uid is None:
        return KeyInfo.unknown("no user id")
    moment = now or datetime.now(UTC)
    try:
        rows = client.call(MODEL, "search_read", [("user_id", "=", uid)],
                           ["name", "scope", "expiration_date"])
    except ErpError as exc:
        # The mock ERP or an old Odoo without the model, or no read right: not fatal.
        log.debug("cannot read %s: %s", MODEL, exc)
        return KeyInfo.unknown(f"Odoo does not let the bridge user read {MODEL}")
    candidates = []
    for row in rows or []:
        # Only global keys (scope empty) or 'rpc' ones log in over RPC (res_users.py
        # _check_credentials); an expired row is not the key the bridge just used.
        if row.get("scope") not in (False, None, "", "rpc"):
            continue
        expires = parse_odoo_datetime(row.get("expiration_date"))
        if expires is not None and expires < moment:
            continue
        candidates.append((expires, str(row.get("name") or "")))
    if not candidates:
        return KeyInfo.unknown("no API key of the bridge user is visible")
    expiring = sorted((e, n) for e, n in candidates if e is not None)
    if not expiring:
        return KeyInfo(known=True, keys=len(candidates), never_expires=True,
                       key_name=candidates[0][1])
    soonest, name = expiring[0]
    return KeyInfo(known=True, expires_at=soonest, key_name=name, keys=len(candidates))
