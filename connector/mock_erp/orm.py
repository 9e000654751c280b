"""The ORM the RPC layers call: search/read/write/create/unlink and friends, per model.

`Env` is one call's view of the store (user, context, series); `call(env, model, method,
args, kwargs)` is `odoo.api.call_kw`: it finds the public method, splits record ids from
the arguments, and returns plain JSON/XML-RPC-able values. Model-specific behaviour
(stock flows, marketplace actions) registers methods and hooks with `@method(...)`,
`on_create(...)`, `on_write(...)`, `before_unlink(...)`. Usage::

    env = Env(store, schema, uid=2, context={}, version="18.0")
    call(env, "stock.quant", "search_read", [[("location_id", "child_of", 8)]], {"fields": ["quantity"]})
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from connector.mock_erp.domain import compile_domain, is_empty
from connector.mock_erp.errors import AccessError, MissingError, UserError, ValidationError
from connector.mock_erp.schema import DEFAULT_VERSION, Field, ModelDef, empty_value, major
from connector.mock_erp.store import Store
from connector.mock_erp import security

Row = dict[str, Any]


def now_str() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Env:
    store: Store
    schema: dict[str, ModelDef]
    uid: int
    context: dict[str, Any] = field(default_factory=dict)
    version: str = DEFAULT_VERSION

    @property
    def major(self) -> int:
        return major(self.version)

    def with_context(self, **extra: Any) -> Env:
        return Env(self.store, self.schema, self.uid, {**self.context, **extra}, self.version)

    def rs(self, model: str, ids: Iterable[int] = ()) -> Recordset:
        return Recordset(self, model, list(ids))

    # -- values -----------------------------------------------------------------------
    def getter(self, model: str, fname: str) -> Callable[[Row], Any]:
        """A fast `row -> value` function for one field (stored, computed or one2many)."""
        mdef = self.schema[model]
        fld = mdef.fields[fname]
        if fname == "display_name":
            return lambda row: self.display_name(model, row)
        if fld.compute is not None:
            compute = fld.compute
            return lambda row: compute(self, row)
        if fld.type == "one2many":
            assert fld.relation is not None and fld.inverse is not None
            comodel, inverse = fld.relation, fld.inverse
            index = self.store.index(comodel, inverse)
            if index is not None:
                return lambda row: sorted(index.get(row["id"], ()))
            table = self.store.table(comodel)
            return lambda row: [rid for rid, r in table.items() if r.get(inverse) == row["id"]]
        empty = empty_value(fld)
        return lambda row: row.get(fname, empty)

    def value(self, model: str, row: Row, fname: str) -> Any:
        return self.getter(model, fname)(row)

    def display_name(self, model: str, row: Row) -> str:
        mdef = self.schema[model]
        if mdef.display is not None:
            return str(mdef.display(self, row))
        if mdef.rec_name == "id" or mdef.rec_name not in mdef.fields:
            return f"{model},{row['id']}"
        value = self.value(model, row, mdef.rec_name)
        if isinstance(value, int) and not isinstance(value, bool) and mdef.fields[mdef.rec_name].type == "many2one":
            target = self.store.row(mdef.fields[mdef.rec_name].relation or "", value)
            return self.display_name(mdef.fields[mdef.rec_name].relation or "", target) if target else ""
        return value if isinstance(value, str) else ""

    def row(self, model: str, rid: int) -> Row:
        row = self.store.row(model, rid)
        if row is None:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({rid},), User: {self.uid})"
            )
        return row

    # -- searching ----------------------------------------------------------------------
    def search_ids(self, model: str, domain: list[Any] | None, *, active_test: bool | None = None,
                   order: str | None = None, offset: int = 0, limit: int | None = None,
                   ordered: bool = True) -> list[int]:
        """Ids matching `domain`; `ordered=False` (a sub-search used as a set) skips the sort."""
        mdef = self.schema[model]
        domain = list(domain or [])
        test = self.context.get("active_test", True) if active_test is None else active_test
        if test and "active" in mdef.fields and not _mentions(domain, "active"):
            domain = ["&", ("active", "=", True), *domain] if domain else [("active", "=", True)]
        pred, candidates = compile_domain(self, model, domain)
        rule = security.rule_predicate(self, model)
        if rule is not None:
            base = pred

            def pred(row: Row, base: Callable[[Row], bool] = base, rule: Callable[[Row], bool] = rule) -> bool:
                return rule(row) and base(row)
        table = self.store.table(model)
        if candidates is None:
            rows = [row for row in table.values() if pred(row)]
        else:
            rows = [row for rid in candidates if (row := table.get(rid)) is not None and pred(row)]
        if ordered or offset or limit is not None:
            rows = self.sort(model, rows, order)
        if offset:
            rows = rows[offset:]
        if limit is not None and limit is not False:
            rows = rows[: int(limit)]
        return [row["id"] for row in rows]

    def sort(self, model: str, rows: list[Row], order: str | None) -> list[Row]:
        mdef = self.schema[model]
        spec = order or mdef.order or "id"
        keys: list[tuple[str, bool]] = []
        for part in spec.split(","):
            words = part.strip().split()
            if not words:
                continue
            fname = words[0].strip('"')
            direction = words[1].lower() if len(words) > 1 else "asc"
            if fname not in mdef.fields or direction not in ("asc", "desc"):
                raise ValueError(f"Invalid \"order\" specified ({spec}). A valid \"order\" specification is a "
                                 "comma-separated list of valid field names (optionally followed by asc/desc "
                                 "for the direction)")
            keys.append((fname, direction == "desc"))
        if not keys or keys == [("id", False)]:
            return sorted(rows, key=lambda r: r["id"])
        rows = sorted(rows, key=lambda r: r["id"])
        for fname, desc in reversed(keys):
            fld = mdef.fields[fname]
            get = self.getter(model, fname)
            if fld.type == "many2one" and fld.relation:
                comodel = fld.relation
                base = get

                def get(row: Row, base: Callable[[Row], Any] = base, comodel: str = comodel) -> Any:
                    rid = base(row)
                    target = self.store.row(comodel, rid) if rid else None
                    return self.display_name(comodel, target) if target else False

            def key(row: Row, get: Callable[[Row], Any] = get) -> tuple[int, Any]:
                v = get(row)
                if is_empty(v) and not isinstance(v, (int, float)) or v is None:
                    return (1, 0)  # NULLS LAST ascending (PostgreSQL)
                return (0, v.lower() if isinstance(v, str) else v)

            try:
                rows.sort(key=key, reverse=desc)
            except TypeError:
                rows.sort(key=lambda r: str(key(r)), reverse=desc)
        return rows

    def name_search_ids(self, model: str, name: str, operator: str = "ilike", limit: int | None = None) -> list[int]:
        mdef = self.schema[model]
        fields = [mdef.rec_name] if mdef.rec_name in mdef.fields and mdef.rec_name != "id" else []
        if model == "product.product":
            fields = ["default_code", "name", "barcode"]
        if not fields:
            return []
        domain: list[Any] = ["|"] * (len(fields) - 1) + [(f, operator, name) for f in fields]
        return self.search_ids(model, domain, limit=limit)

    def descendants(self, model: str, roots: Iterable[int]) -> set[int]:
        mdef = self.schema[model]
        table = self.store.table(model)
        if "parent_path" in mdef.fields:
            prefixes = tuple(p for rid in roots if (r := table.get(rid)) and (p := r.get("parent_path")))
            return {rid for rid, r in table.items() if (r.get("parent_path") or "").startswith(prefixes)} if prefixes else set()
        parent = mdef.parent_name or "parent_id"
        out: set[int] = set()
        frontier = [rid for rid in roots if rid in table]
        while frontier:
            out.update(frontier)
            frontier = [rid for rid, r in table.items() if r.get(parent) in out and rid not in out]
        return out

    def ancestors(self, model: str, roots: Iterable[int]) -> set[int]:
        mdef = self.schema[model]
        table = self.store.table(model)
        out: set[int] = set()
        parent = mdef.parent_name or "parent_id"
        for rid in roots:
            while rid and rid in table and rid not in out:
                out.add(rid)
                rid = table[rid].get(parent) or 0
        return out

    # -- reading ------------------------------------------------------------------------
    def read_rows(self, model: str, rows: list[Row], fields: list[str] | None, load: Any = "_classic_read") -> list[Row]:
        mdef = self.schema[model]
        if not fields:
            fields = [f for f in mdef.fields if f not in ("parent_path",)] if model != "res.users" else list(mdef.fields)
        getters = []
        for fname in fields:
            if fname not in mdef.fields:
                raise ValueError(f"Invalid field {fname!r} on model {model!r}")
            fld = mdef.fields[fname]
            getters.append((fname, fld, self.getter(model, fname)))
        out: list[Row] = []
        classic = load == "_classic_read"
        names: dict[tuple[str, int], str] = {}  # display names repeat a lot (locations, products)
        for row in rows:
            rec: Row = {"id": row["id"]}
            for fname, fld, get in getters:
                v = get(row)
                if fld.type == "many2one":
                    if v and classic:
                        key = (fld.relation or "", v)
                        name = names.get(key)
                        if name is None:
                            target = self.store.row(key[0], v)
                            name = names[key] = self.display_name(key[0], target) if target else ""
                        v = [v, name]
                    elif not v:
                        v = False
                elif v is None:
                    v = False
                rec[fname] = v
            out.append(rec)
        return out


def _mentions(domain: list[Any], fname: str) -> bool:
    return any(isinstance(t, (list, tuple)) and len(t) == 3 and str(t[0]).split(".")[0] == fname for t in domain)


@dataclass
class Recordset:
    env: Env
    model: str
    ids: list[int]

    @property
    def mdef(self) -> ModelDef:
        return self.env.schema[self.model]

    def rows(self) -> list[Row]:
        return [self.env.row(self.model, rid) for rid in self.ids]


# -- method registry ---------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    func: Callable[..., Any]
    api_model: bool
    min_version: int = 0
    max_version: int = 99

    def parameters(self) -> list[str]:
        params = list(inspect.signature(self.func).parameters.values())[1:]
        return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


GENERIC: dict[str, Method] = {}
SPECIFIC: dict[tuple[str, str], Method] = {}
CREATE_HOOKS: dict[str, list[Callable[[Env, list[int]], None]]] = {}
WRITE_HOOKS: dict[str, list[Callable[[Env, list[int], dict[str, Any]], None]]] = {}
PRE_CREATE_HOOKS: dict[str, list[Callable[[Env, Row], None]]] = {}
PRE_WRITE_HOOKS: dict[str, list[Callable[[Env, list[int], dict[str, Any]], None]]] = {}
UNLINK_HOOKS: dict[str, list[Callable[[Env, list[int]], None]]] = {}


def method(name: str | None = None, *, models: Iterable[str] | None = None, api_model: bool = False,
           min_version: int = 0, max_version: int = 99) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a public method: generic (every model) or for `models`."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = Method(func, api_model, min_version, max_version)
        mname = name or func.__name__
        if models is None:
            GENERIC[mname] = spec
        else:
            for model in models:
                SPECIFIC[(model, mname)] = spec
        return func

    return deco


def on_create(model: str) -> Callable[[Callable[[Env, list[int]], None]], Callable[[Env, list[int]], None]]:
    def deco(func: Callable[[Env, list[int]], None]) -> Callable[[Env, list[int]], None]:
        CREATE_HOOKS.setdefault(model, []).append(func)
        return func

    return deco


def before_create(model: str) -> Callable[[Callable[[Env, Row], None]], Callable[[Env, Row], None]]:
    """Fill a new row's computed-at-create values (e.g. a move's locations from its picking)."""

    def deco(func: Callable[[Env, Row], None]) -> Callable[[Env, Row], None]:
        PRE_CREATE_HOOKS.setdefault(model, []).append(func)
        return func

    return deco


def before_unlink(model: str) -> Callable[[Callable[[Env, list[int]], None]], Callable[[Env, list[int]], None]]:
    """Run `func(env, ids)` while the rows still exist (e.g. to read what is being deleted)."""

    def deco(func: Callable[[Env, list[int]], None]) -> Callable[[Env, list[int]], None]:
        UNLINK_HOOKS.setdefault(model, []).append(func)
        return func

    return deco


def on_write(model: str, *, before: bool = False) -> Callable[
        [Callable[[Env, list[int], dict[str, Any]], None]], Callable[[Env, list[int], dict[str, Any]], None]]:
    def deco(func: Callable[[Env, list[int], dict[str, Any]], None]) -> Callable[[Env, list[int], dict[str, Any]], None]:
        (PRE_WRITE_HOOKS if before else WRITE_HOOKS).setdefault(model, []).append(func)
        return func

    return deco


def find_method(env: Env, model: str, name: str) -> Method | None:
    spec = SPECIFIC.get((model, name)) or GENERIC.get(name)
    if spec is None or not (spec.min_version <= env.major <= spec.max_version):
        return None
    return spec


def public_method(env: Env, model: str, name: str) -> Method:
    """odoo.service.model.get_public_method: the errors Odoo gives for bad names."""
    if model not in env.schema:
        raise UserError(f"Object {model} doesn't exist")
    if name.startswith("_"):
        raise AccessError(f"Private methods (such as '{model}.{name}') cannot be called remotely.")
    spec = find_method(env, model, name)
    if spec is None:
        raise AttributeError(f"The method '{model}.{name}' does not exist")
    return spec


def call(env: Env, model: str, name: str, args: list[Any] | tuple[Any, ...], kwargs: dict[str, Any] | None) -> Any:
    """api.call_kw: run `model.name(*args, **kwargs)`, ids first for record methods."""
    spec = public_method(env, model, name)
    kwargs = dict(kwargs or {})
    context = kwargs.pop("context", None)
    if isinstance(context, dict):
        # keys with a leading "_" are the mock's own (e.g. "_sudo"): never a client's to set
        env = env.with_context(**{str(k): v for k, v in context.items() if not str(k).startswith("_")})
    args = list(args or [])
    mode = METHOD_MODES.get(name, "read")
    if mode is not None:
        security.check_model_access(env, model, mode)
    if spec.api_model:
        records = env.rs(model)
    else:
        ids = args.pop(0) if args else []
        records = env.rs(model, _ids(ids))
        if mode is not None:
            security.check_rules(env, model, records.ids, mode if mode in ("write", "unlink") else "read")
    return spec.func(records, *args, **kwargs)


# The access right each public method needs (api.call_kw runs it as the user; Odoo's ORM
# checks these in read/search/write/create/unlink). None: no check (fields_get and
# default_get describe a model, exists() only tests ids). Other methods: "read", as the
# records they act on are read first.
METHOD_MODES: dict[str, str | None] = {
    "write": "write", "create": "create", "unlink": "unlink",
    "fields_get": None, "default_get": None, "exists": None, "check_access_rights": None,
}


def _ids(value: Any) -> list[int]:
    if value is False or value is None:
        return []
    if isinstance(value, bool):
        raise ValueError(f"Invalid ids {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError(f"Invalid ids {value!r}")
            out.append(v)
        return out
    raise ValueError(f"Invalid ids {value!r}")


# -- writing helpers ---------------------------------------------------------------------
def _convert(env: Env, model: str, fld: Field, value: Any) -> Any:
    if fld.type == "many2one":
        if value is False or value is None:
            return False
        if isinstance(value, (list, tuple)) and value:
            value = value[0]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"Wrong value for {model}.{fld.name}: {value!r}")
        if fld.relation and env.store.row(fld.relation, value) is None:
            raise MissingError(f"Record does not exist or has been deleted.\n(Record: {fld.relation}({value},), User: {env.uid})")
        return value
    if fld.type == "selection":
        if value is False or value is None:
            return False
        if fld.selection and value not in {k for k, _ in fld.selection}:
            raise ValueError(f"Wrong value for {model}.{fld.name}: {value!r}")
        return value
    if fld.type == "float":
        if value is False or value is None:
            return 0.0 if fld.default is not None else False
        return float(value)
    if fld.type == "integer":
        if value is False or value is None:
            return 0
        return int(value)
    if fld.type == "boolean":
        return bool(value)
    if fld.type in ("char", "text", "datetime"):
        if value is None or value is False or value == "":
            return False
        if fld.type == "datetime" and isinstance(value, str):
            return value.replace("T", " ")[:19]
        return str(value)
    return value


def _x2many_commands(env: Env, model: str, fld: Field, current: list[int], value: Any,
                     parent_id: int | None) -> tuple[list[int], list[tuple[str, Any]]]:
    """Apply x2many commands; returns the new id list and deferred child ops (o2m)."""
    ids = list(current)
    deferred: list[tuple[str, Any]] = []
    if value is False or value is None:
        value = [(5,)]
    for cmd in value:
        if isinstance(cmd, int) and not isinstance(cmd, bool):  # plain list of ids: "set"
            if cmd not in ids:
                ids.append(cmd)
            continue
        if not isinstance(cmd, (list, tuple)) or not cmd:
            raise ValueError(f"Wrong value for {model}.{fld.name}: {value!r}")
        code = cmd[0]
        if code == 0:
            deferred.append(("create", cmd[2]))
        elif code == 1:
            deferred.append(("write", (cmd[1], cmd[2])))
        elif code == 2:
            deferred.append(("unlink", cmd[1]))
            ids = [i for i in ids if i != cmd[1]]
        elif code == 3:
            ids = [i for i in ids if i != cmd[1]]
            if fld.type == "one2many":
                deferred.append(("detach", cmd[1]))
        elif code == 4:
            if cmd[1] not in ids:
                ids.append(cmd[1])
            if fld.type == "one2many":
                deferred.append(("attach", cmd[1]))
        elif code == 5:
            if fld.type == "one2many":
                deferred.extend(("detach", i) for i in ids)
            ids = []
        elif code == 6:
            if fld.type == "one2many":
                deferred.extend(("detach", i) for i in ids if i not in cmd[2])
                deferred.extend(("attach", i) for i in cmd[2])
            ids = list(cmd[2])
        else:
            raise ValueError(f"Wrong value for {model}.{fld.name}: {value!r}")
    if fld.type == "many2many" and fld.relation:
        for rid in ids:
            if env.store.row(fld.relation, rid) is None:
                raise MissingError(f"Record does not exist or has been deleted.\n(Record: {fld.relation}({rid},), User: {env.uid})")
    return ids, deferred


def _apply_o2m(env: Env, fld: Field, parent_id: int, deferred: list[tuple[str, Any]]) -> None:
    comodel, inverse = fld.relation or "", fld.inverse or ""
    for op, arg in deferred:
        if op == "create":
            create_records(env, comodel, [{**arg, inverse: parent_id}])
        elif op == "write":
            write_records(env, comodel, [arg[0]], arg[1])
        elif op == "unlink":
            unlink_records(env, comodel, [arg])
        elif op == "attach":
            write_records(env, comodel, [arg], {inverse: parent_id})
        elif op == "detach":
            write_records(env, comodel, [arg], {inverse: False})


def _check_fields(env: Env, model: str, vals: dict[str, Any]) -> None:
    mdef = env.schema[model]
    for fname in vals:
        if fname not in mdef.fields:
            raise ValueError(f"Invalid field {fname!r} on model {model!r}")


def create_records(env: Env, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
    mdef = env.schema[model]
    new_ids: list[int] = []
    stamp = now_str()
    for vals in vals_list:
        if not isinstance(vals, dict):
            raise ValueError(f"Invalid values {vals!r} for {model}.create()")
        _check_fields(env, model, vals)
        row: Row = {}
        o2m_ops: list[tuple[Field, list[tuple[str, Any]]]] = []
        for fname, fld in mdef.fields.items():
            if fname in ("id", "display_name") or fld.compute is not None:
                continue
            if fname in vals:
                value = vals[fname]
            elif f"default_{fname}" in env.context and fld.type != "one2many":
                value = env.context[f"default_{fname}"]
            elif fld.default is not None:
                value = fld.default(env) if callable(fld.default) else fld.default
            else:
                value = None
            if fld.type == "one2many":
                if value:
                    o2m_ops.append((fld, _x2many_commands(env, model, fld, [], value, None)[1]))
                continue
            if fld.type == "many2many":
                row[fname] = _x2many_commands(env, model, fld, [], value or [], None)[0]
                continue
            row[fname] = _convert(env, model, fld, value) if value is not None else empty_value(fld)
        row.update(create_date=stamp, write_date=stamp, create_uid=env.uid, write_uid=env.uid)
        for pre in PRE_CREATE_HOOKS.get(model, []):
            pre(env, row)
        for fname, fld in mdef.fields.items():
            if fld.required and fld.store and is_empty(row.get(fname)) and fld.type not in ("float", "integer", "boolean"):
                raise ValidationError(
                    "The operation cannot be completed:\n"
                    "- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
                    f"Model: {mdef.description} ({model})\nField: {fld.string} ({fname})\n"
                )
        rid = env.store.insert(model, row)
        new_ids.append(rid)
        for fld, ops in o2m_ops:
            _apply_o2m(env, fld, rid, ops)
    for hook in CREATE_HOOKS.get(model, []):
        hook(env, new_ids)
    return new_ids


def write_records(env: Env, model: str, ids: list[int], vals: dict[str, Any]) -> None:
    mdef = env.schema[model]
    if not isinstance(vals, dict):
        raise ValueError(f"Invalid values {vals!r} for {model}.write()")
    _check_fields(env, model, vals)
    for rid in ids:
        env.row(model, rid)
    for hook in PRE_WRITE_HOOKS.get(model, []):
        hook(env, ids, vals)
    stamp = now_str()
    for rid in ids:
        row = env.row(model, rid)
        changes: Row = {}
        o2m_ops: list[tuple[Field, list[tuple[str, Any]]]] = []
        for fname, value in vals.items():
            fld = mdef.fields[fname]
            if fname in ("id", "display_name") or fld.compute is not None:
                continue
            if fld.type == "one2many":
                current = env.value(model, row, fname)
                o2m_ops.append((fld, _x2many_commands(env, model, fld, current, value, rid)[1]))
            elif fld.type == "many2many":
                changes[fname] = _x2many_commands(env, model, fld, row.get(fname) or [], value, rid)[0]
            else:
                changes[fname] = _convert(env, model, fld, value)
        changes.update(write_date=stamp, write_uid=env.uid)
        env.store.update(model, rid, changes)
        for fld, ops in o2m_ops:
            _apply_o2m(env, fld, rid, ops)
    for hook in WRITE_HOOKS.get(model, []):
        hook(env, ids, vals)


def unlink_records(env: Env, model: str, ids: list[int]) -> None:
    mdef = env.schema[model]
    for rid in ids:
        env.row(model, rid)
    for hook in UNLINK_HOOKS.get(model, []):
        hook(env, ids)
    for rid in ids:
        # cascade the one2many children (picking -> moves, wizard -> lines)
        for fld in mdef.fields.values():
            if fld.type == "one2many" and fld.relation and fld.relation != model:
                children = env.value(model, env.row(model, rid), fld.name)
                if children and model in ("stock.picking", "stock.return.picking"):
                    unlink_records(env, fld.relation, children)
        env.store.delete(model, rid)


# -- the generic ORM methods ----------------------------------------------------------------
def _limit(limit: Any) -> int | None:
    return None if limit is None or limit is False else int(limit)


@method(api_model=True)
def search(rs: Recordset, domain: list[Any] | None = None, offset: int = 0, limit: int | None = None,
           order: str | None = None, count: bool = False) -> Any:
    if count:
        if rs.env.major >= 17:
            raise TypeError("search() got an unexpected keyword argument 'count'")
        return len(rs.env.search_ids(rs.model, domain))
    return rs.env.search_ids(rs.model, domain, order=order or None, offset=int(offset or 0), limit=_limit(limit))


@method(api_model=True)
def search_count(rs: Recordset, domain: list[Any] | None = None, limit: int | None = None) -> int:
    return len(rs.env.search_ids(rs.model, domain, limit=_limit(limit)))


@method(api_model=True)
def search_read(rs: Recordset, domain: list[Any] | None = None, fields: list[str] | None = None, offset: int = 0,
                limit: int | None = None, order: str | None = None, **read_kwargs: Any) -> list[Row]:
    env = rs.env
    for key in read_kwargs:
        if key != "load":
            raise TypeError(f"read() got an unexpected keyword argument '{key}'")
    ids = env.search_ids(rs.model, domain, order=order or None, offset=int(offset or 0), limit=_limit(limit))
    table = env.store.table(rs.model)
    return env.read_rows(rs.model, [table[i] for i in ids], list(fields) if fields else None, read_kwargs.get("load", "_classic_read"))


@method()
def read(rs: Recordset, fields: list[str] | None = None, load: str = "_classic_read") -> list[Row]:
    # Odoo 18 reads what exists and leaves deleted ids out (no MissingError)
    rows = [r for rid in rs.ids if (r := rs.env.store.row(rs.model, rid)) is not None]
    if isinstance(fields, str):
        fields = [fields]
    return rs.env.read_rows(rs.model, rows, list(fields) if fields else None, load)


@method(api_model=True)
def check_access_rights(rs: Recordset, operation: str, raise_exception: bool = True) -> bool:
    """Odoo 18's (deprecated, still public) model access check for the calling user."""
    if operation not in security.MODES:
        raise ValueError(f"Invalid access mode {operation!r}")
    if raise_exception:
        security.check_model_access(rs.env, rs.model, operation)
        return True
    return security.has_access(rs.env, rs.model, operation)


@method()
def exists(rs: Recordset) -> list[int]:
    return [rid for rid in rs.ids if rs.env.store.row(rs.model, rid) is not None]


@method(api_model=True)
def create(rs: Recordset, vals_list: Any) -> Any:
    single = isinstance(vals_list, dict)
    ids = create_records(rs.env, rs.model, [vals_list] if single else list(vals_list))
    return ids[0] if single else ids


@method()
def write(rs: Recordset, vals: dict[str, Any]) -> bool:
    write_records(rs.env, rs.model, rs.ids, vals)
    return True


@method()
def unlink(rs: Recordset) -> bool:
    unlink_records(rs.env, rs.model, rs.ids)
    return True


@method(api_model=True)
def name_search(rs: Recordset, name: str = "", args: list[Any] | None = None, operator: str = "ilike",
                limit: int = 100, domain: list[Any] | None = None) -> list[list[Any]]:
    env = rs.env
    extra = list(domain or args or [])
    ids = env.name_search_ids(rs.model, name, operator) if name else env.search_ids(rs.model, [])
    if extra:
        allowed = set(env.search_ids(rs.model, extra))
        ids = [i for i in ids if i in allowed]
    ids = ids[: _limit(limit)] if limit else ids
    table = env.store.table(rs.model)
    return [[i, env.display_name(rs.model, table[i])] for i in ids]


@method(max_version=16)
def name_get(rs: Recordset) -> list[list[Any]]:
    return [[row["id"], rs.env.display_name(rs.model, row)] for row in rs.rows()]


FIELD_ATTRIBUTES = ("type", "string", "help", "required", "readonly", "store", "searchable", "sortable",
                    "relation", "selection", "relation_field", "name", "manual", "company_dependent",
                    "depends", "groupable", "exportable", "change_default", "translate", "digits", "size")


@method(api_model=True)
def fields_get(rs: Recordset, allfields: list[str] | None = None, attributes: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fname, fld in rs.mdef.fields.items():
        if allfields and fname not in allfields:
            continue
        desc: dict[str, Any] = {
            "type": fld.type,
            "string": fld.string,
            "name": fname,
            "required": fld.required,
            "readonly": fld.readonly,
            "store": fld.store,
            "searchable": True,
            "sortable": fld.store,
            "groupable": fld.store,
            "manual": False,
            "company_dependent": False,
            "depends": [],
            "exportable": True,
            "change_default": False,
        }
        if fld.help:
            desc["help"] = fld.help
        if fld.relation:
            desc["relation"] = fld.relation
            desc["context"] = {}
            desc["domain"] = []
        if fld.type == "one2many":
            desc["relation_field"] = fld.inverse
        if fld.type == "selection":
            desc["selection"] = [list(p) for p in fld.selection or ()]
        if fld.type in ("char", "text"):
            desc["translate"] = False
        if fld.type == "char":
            desc["trim"] = True
        if fld.type == "float":
            desc["aggregator" if rs.env.major >= 17 else "group_operator"] = "sum"
        if attributes:
            desc = {k: v for k, v in desc.items() if k in attributes}
        out[fname] = desc
    return out


@method(api_model=True)
def default_get(rs: Recordset, fields_list: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fname in fields_list:
        fld = rs.mdef.fields.get(fname)
        if fld is None:
            continue
        if f"default_{fname}" in rs.env.context:
            out[fname] = rs.env.context[f"default_{fname}"]
        elif fld.default is not None:
            out[fname] = fld.default(rs.env) if callable(fld.default) else fld.default
    return out


@method(api_model=True)
def read_group(rs: Recordset, domain: list[Any], fields: list[str], groupby: Any, offset: int = 0,
               limit: int | None = None, orderby: str | bool = False, lazy: bool = True) -> list[Row]:
    env = rs.env
    mdef = rs.mdef
    groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if lazy and groupbys:
        groupbys = groupbys[:1]
    ids = env.search_ids(rs.model, domain)
    table = env.store.table(rs.model)
    aggregates: list[tuple[str, str, str]] = []  # (out name, field, func)
    for spec in fields or []:
        name, _, func = spec.partition(":")
        fname, _, inner = (func.partition("(") if "(" in func else ("", "", ""))
        if "(" in spec:  # "total:sum(quantity)"
            func_name, _, rest = func.partition("(")
            aggregates.append((name, rest.rstrip(")"), func_name))
            continue
        if name in groupbys or name == "__count":
            continue
        if name not in mdef.fields:
            raise ValueError(f"Invalid field {name!r} on model {rs.model!r}")
        fld = mdef.fields[name]
        if func or fld.type in ("float", "integer"):
            aggregates.append((name, name, func or "sum"))
    for gb in groupbys:
        if gb.split(":")[0] not in mdef.fields:
            raise ValueError(f"Invalid field {gb!r} on model {rs.model!r}")
    groups: dict[tuple[Any, ...], list[Row]] = {}
    getters = [env.getter(rs.model, gb.split(":")[0]) for gb in groupbys]
    for rid in ids:
        row = table[rid]
        key = tuple(g(row) for g in getters)
        key = tuple(tuple(k) if isinstance(k, list) else k for k in key)
        groups.setdefault(key, []).append(row)
    result: list[Row] = []
    for key, rows in groups.items():
        out: Row = {}
        for gb, value in zip(groupbys, key):
            fname = gb.split(":")[0]
            fld = mdef.fields[fname]
            if fld.type == "many2one" and value:
                target = env.store.row(fld.relation or "", value)
                out[gb] = [value, env.display_name(fld.relation or "", target) if target else ""]
            else:
                out[gb] = value if value is not None else False
        for name, fname, func in aggregates:
            get = env.getter(rs.model, fname)
            values = [get(r) or 0 for r in rows]
            if func == "sum":
                out[name] = sum(values)
            elif func == "max":
                out[name] = max(values) if values else False
            elif func == "min":
                out[name] = min(values) if values else False
            elif func in ("avg",):
                out[name] = sum(values) / len(values) if values else False
            elif func in ("count", "count_distinct"):
                out[name] = len(set(values)) if func == "count_distinct" else len(values)
            else:
                raise ValueError(f"Invalid aggregation function {func!r}.")
        count_key = f"{groupbys[0]}_count" if (lazy and groupbys) else "__count"
        out[count_key] = len(rows)
        sub = [(g, "=", (k[0] if isinstance(k, tuple) else k)) for g, k in zip(groupbys, key)]
        out["__domain"] = [*sub, *(domain or [])]
        if lazy and len(groupby if isinstance(groupby, list) else [groupby]) > 1:
            out["__context"] = {"group_by": list(groupby)[1:]}
        result.append(out)
    result.sort(key=lambda r: tuple(_group_sort_key(r.get(g)) for g in groupbys))
    if orderby and isinstance(orderby, str) and orderby.strip().lower().endswith("desc"):
        result.reverse()
    result = result[int(offset or 0):]
    if limit:
        result = result[: int(limit)]
    return result


def _group_sort_key(value: Any) -> tuple[int, Any]:
    if value is False or value is None:
        return (1, "")
    if isinstance(value, list):
        return (0, str(value[1]).lower() if len(value) > 1 else value[0])
    return (0, value)


@method(models=["res.users"], api_model=True)
def context_get(rs: Recordset) -> dict[str, Any]:
    user = rs.env.row("res.users", rs.env.uid)
    return {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False, "uid": rs.env.uid}


@method(models=["ir.model"], api_model=True, min_version=16)
def get_available_models(rs: Recordset) -> list[Row]:
    table = rs.env.store.table("ir.model")
    return [{"model": r["model"], "name": r["name"], "transient": r.get("transient", False)} for r in table.values()]


@method(api_model=True, min_version=19)
def formatted_read_group(rs: Recordset, domain: list[Any], groupby: list[str] | tuple[str, ...] = (),
                         aggregates: list[str] | tuple[str, ...] = (), having: list[Any] | tuple[Any, ...] = (),
                         offset: int = 0, limit: int | None = None, order: str | None = None) -> list[Row]:
    """19.0's replacement of read_group: aggregates are "field:func" (and "__count")."""
    specs = [a for a in aggregates if a != "__count"]
    rows = read_group(rs, domain, [f"{a.replace(':', '__')}:{a.split(':')[1]}({a.split(':')[0]})" for a in specs],
                      list(groupby), offset, limit, order or False, lazy=False)
    out: list[Row] = []
    for row in rows:
        rec: Row = {g: row[g] for g in groupby}
        for a in specs:
            rec[a] = row[a.replace(":", "__")]
        if "__count" in aggregates:
            rec["__count"] = row["__count"]
        rec["__extra_domain"] = [(g, "=", v[0] if isinstance(v, list) else v) for g, v in rec.items()
                                 if g in groupby]
        out.append(rec)
    return out
