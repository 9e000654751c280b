"""One mock Odoo database: schema for a series, tables loaded from fixtures, users.

`MockDatabase(fixtures_dir, version)` is what the protocol layers talk to:
`authenticate(login, password)` -> uid or None (an API key works as the password),
`check(uid, password)` raises AccessDenied, `execute(uid, model, method, args, kwargs)`
runs one call as one transaction. Before each call it emits "manual" events for the
allocations whose date_start/date_end passed since the previous call (the addon's cron);
`clock` (UTC) is what "now" means there, so tests can move time. Usage::

    db = MockDatabase(Path("fixtures/demo"), "18.0")
    uid = db.authenticate("bridge", "bridge")
    db.execute(uid, "stock.quant", "search_read", [[]], {"fields": ["quantity"], "limit": 5})
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from connector.mock_erp import marketplace as _marketplace  # also registers the marketplace methods
from connector.mock_erp import stock as _stock
from connector.mock_erp.errors import AccessDenied
from connector.mock_erp.security import GROUP_XMLIDS
from connector.mock_erp.orm import CREATE_HOOKS, Env, _convert, call, now_str
from connector.mock_erp.schema import BUILD, DEFAULT_VERSION, build_schema, empty_value, major

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
DATABASE = "demo"
EXTRA_KEYS = {"res.users": {"password", "api_keys", "groups"}, "product.product": {"variant"}}


class FixtureError(ValueError):
    """A fixture file names an unknown model, field or record key."""


class MockDatabase:
    """The state of one database; every public method is thread-safe."""

    def __init__(self, fixtures: Path | None = None, version: str = DEFAULT_VERSION, name: str = DATABASE) -> None:
        self.name = name
        self.version = version
        self.schema = build_schema(version)
        _stock.install_computes(self.schema)
        from connector.mock_erp.store import Store

        self.store = Store()
        self.passwords: dict[int, str] = {}
        self.api_keys: dict[str, int] = {}
        self._load_ir_model()
        load_fixtures(self, fixtures if fixtures is not None else DEFAULT_FIXTURES)
        self.clock: Callable[[], datetime] = _utcnow
        # allocation edges up to this instant (Odoo datetime string) have had their events
        self.edges_checked_at = _odoo_datetime(self.clock())

    # -- auth -------------------------------------------------------------------------------
    def authenticate(self, login: str, password: str) -> int | None:
        if not isinstance(login, str) or not isinstance(password, str):
            return None
        with self.store.lock:
            for uid, row in self.store.table("res.users").items():
                if row.get("login") == login and row.get("active", True):
                    return uid if self._password_ok(uid, password) else None
        return None

    def check(self, uid: Any, password: Any) -> int:
        """security.check: the uid exists, is active and the password (or API key) matches."""
        if isinstance(uid, bool) or not isinstance(uid, int) or not isinstance(password, str):
            raise AccessDenied()
        row = self.store.row("res.users", uid)
        if row is None or not row.get("active", True) or not self._password_ok(uid, password):
            raise AccessDenied()
        return uid

    def uid_for_api_key(self, key: str) -> int | None:
        for candidate, uid in self.api_keys.items():
            if hmac.compare_digest(candidate.encode(), key.encode()):
                row = self.store.row("res.users", uid)
                return uid if row and row.get("active", True) else None
        return None

    def _password_ok(self, uid: int, password: str) -> bool:
        stored = self.passwords.get(uid)
        if stored is not None and hmac.compare_digest(stored.encode(), password.encode()):
            return True
        return self.api_keys.get(password) == uid

    # -- calls ------------------------------------------------------------------------------
    def env(self, uid: int, context: dict[str, Any] | None = None) -> Env:
        return Env(self.store, self.schema, uid, dict(context or {}), self.version)

    def execute(self, uid: int, model: str, method: str, args: Any, kwargs: Any = None) -> Any:
        """One ORM call as one transaction (rolled back entirely if it raises)."""
        if not isinstance(args, (list, tuple)):
            raise TypeError(f"execute_kw() args must be a list, not {type(args).__name__}")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise TypeError(f"execute_kw() kwargs must be a dict, not {type(kwargs).__name__}")
        self.check_allocation_edges()
        with self.store.transaction():
            return call(self.env(uid), model, method, list(args), kwargs)

    def check_allocation_edges(self) -> list[int]:
        """Emit events for allocations that started or ended since the last check.

        Its own transaction, so a failing RPC call cannot roll the events back after the
        check time moved on. At most one table scan per second of `clock`: the time is
        compared at Odoo's datetime precision.
        """
        now = _odoo_datetime(self.clock())
        if now <= self.edges_checked_at:  # most calls: same second, nothing to scan, no lock needed
            return []
        with self.store.transaction():
            if now <= self.edges_checked_at:
                return []
            products = _marketplace.allocation_edges(self.env(1), self.edges_checked_at, now)
            self.edges_checked_at = now
            return products

    @property
    def major_version(self) -> int:
        return major(self.version)

    @property
    def server_version(self) -> str:
        return f"{self.version}-{BUILD}"

    def version_info(self) -> dict[str, Any]:
        m = major(self.version)
        return {
            "server_version": self.server_version,
            "server_version_info": [m, 0, 0, "final", 0, ""],
            "server_serie": self.version,
            "protocol_version": 1,
        }

    def _load_ir_model(self) -> None:
        for name, mdef in self.schema.items():
            row: dict[str, Any] = {"name": mdef.description, "model": name, "transient": mdef.transient}
            if "abstract" in self.schema["ir.model"].fields:
                row["abstract"] = False
            row.update(create_date=now_str(), write_date=now_str(), create_uid=1, write_uid=1)
            self.store.insert("ir.model", row)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _odoo_datetime(moment: datetime) -> str:
    """An aware or naive-UTC datetime as Odoo stores it: "YYYY-MM-DD HH:MM:SS" in UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def load_fixtures(db: MockDatabase, directory: Path) -> None:
    """Load `*.json` files (model -> key -> values) in name order; keys become ids."""
    files = sorted(directory.glob("*.json"))
    if not files:
        raise FixtureError(f"no fixture files (*.json) in {directory}")
    data: list[tuple[Path, dict[str, dict[str, dict[str, Any]]]]] = []
    ids: dict[str, dict[str, int]] = {}
    for path in files:
        content = json.loads(path.read_text(encoding="utf-8"))
        data.append((path, content))
        for model, records in content.items():
            if model not in db.schema:
                raise FixtureError(f"{path.name}: unknown model {model!r}")
            keys = ids.setdefault(model, {})
            for key in records:
                keys[key] = db.store.next_id.get(model, 1) + len(keys) if model == "ir.model" else len(keys) + 1
    env = db.env(1, {"_fixture_load": True})
    created: dict[str, list[int]] = {}
    stamp = now_str()
    for path, content in data:
        for model, records in content.items():
            mdef = db.schema[model]
            for key, vals in records.items():
                row: dict[str, Any] = {}
                for fname, fld in mdef.fields.items():
                    if fld.store and fname != "id":
                        row[fname] = (fld.default(env) if callable(fld.default) else fld.default) \
                            if fld.default is not None else empty_value(fld)
                vals = _series_values(db, model, dict(vals))
                for fname, value in vals.items():
                    if fname in EXTRA_KEYS.get(model, ()):
                        continue
                    known = mdef.fields.get(fname)
                    if known is None and fname in _other_series_fields(model):
                        continue  # e.g. return_location exists up to 17.0 only
                    if known is None:
                        raise FixtureError(f"{path.name}: {model} {key!r}: unknown field {fname!r}")
                    fld = known
                    if fld.type == "datetime" and isinstance(value, str) and value.startswith("now"):
                        value = _relative_datetime(path, value)
                    if fld.type == "many2one" and isinstance(value, str):
                        value = _ref(ids, path, fld.relation or "", value)
                    elif fld.type == "many2many":
                        value = [_ref(ids, path, fld.relation or "", v) if isinstance(v, str) else v for v in value]
                        row[fname] = value
                        continue
                    if fld.type == "many2one":
                        row[fname] = value if value else False
                    else:
                        row[fname] = _convert(env, model, fld, value)
                if model == "res.users" and "groups" in vals:
                    # no `groups`: an administrator; else exactly these groups' rights (security.py)
                    row["groups"] = [GROUP_XMLIDS.get(g, g) for g in vals["groups"]]
                if model == "product.product" and vals.get("variant"):
                    row["variant"] = vals["variant"]
                row.update(create_date=stamp, write_date=stamp, create_uid=1, write_uid=1)
                rid = db.store.insert(model, row, ids[model][key])
                created.setdefault(model, []).append(rid)
                if model == "res.users":
                    if vals.get("password"):
                        db.passwords[rid] = str(vals["password"])
                    for api_key in vals.get("api_keys") or []:
                        db.api_keys[str(api_key)] = rid
    for model, rids in created.items():
        for hook in CREATE_HOOKS.get(model, []):
            hook(env, rids)


_UNITS = {"d": 86400, "h": 3600, "m": 60}


def _relative_datetime(path: Path, value: str) -> str:
    """A fixture's `"now-3d"` / `"now-6h"`: a moment before load time, so that a sales
    history stays inside "the last 28 days" whenever the fixtures are loaded."""
    rest = value[3:]
    if not rest:
        return _odoo_datetime(_utcnow())
    sign, amount, unit = rest[0], rest[1:-1], rest[-1:]
    try:
        seconds = float(amount) * _UNITS[unit]
    except (KeyError, ValueError):
        raise FixtureError(f"{path.name}: bad relative date {value!r} (use now-3d, now-6h, now-30m)") from None
    if sign not in "+-":
        raise FixtureError(f"{path.name}: bad relative date {value!r} (use now-3d, now-6h, now-30m)")
    return _odoo_datetime(_utcnow() + timedelta(seconds=seconds if sign == "+" else -seconds))


def _other_series_fields(model: str) -> set[str]:
    from connector.mock_erp.schema import SUPPORTED_VERSIONS

    out: set[str] = set()
    for version in SUPPORTED_VERSIONS:
        mdef = build_schema(version).get(model)
        if mdef is not None:
            out.update(mdef.fields)
    return out


def _ref(ids: dict[str, dict[str, int]], path: Path, model: str, key: str) -> int:
    try:
        return ids[model][key]
    except KeyError:
        raise FixtureError(f"{path.name}: no {model} record with key {key!r}") from None


def _series_values(db: MockDatabase, model: str, vals: dict[str, Any]) -> dict[str, Any]:
    """Fixtures speak 18/19 (`type consu` + `is_storable`); older series get `type product`."""
    if model == "product.template" and major(db.version) < 18:
        storable = vals.pop("is_storable", False)
        if storable and vals.get("type", "consu") == "consu":
            vals["type"] = "product"
        vals["detailed_type"] = vals.get("type", "consu")
    return vals
