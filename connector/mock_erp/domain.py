"""Odoo's search domains, evaluated in memory (odoo/osv/expression.py semantics).

`compile_domain(env, model, domain)` turns a prefix-notation domain into a row predicate
plus, when the domain pins an indexed field (`product_id in [...]`, `location_id child_of
...`), a candidate id set so a search over 100k quants only looks at the few that can match.
Empty values are `False`; negative operators (`!=`, `not in`, `not like`, …) also match
unset values, as SQL's `OR col IS NULL` does in Odoo. Usage::

    pred, candidates = compile_domain(env, "stock.quant", [("location_id", "child_of", 8)])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.mock_erp.orm import Env

Row = dict[str, Any]
Pred = Callable[[Row], bool]

TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
OPERATORS = frozenset(
    {"=", "!=", "<>", ">", ">=", "<", "<=", "=?", "=like", "=ilike", "like", "not like", "ilike", "not ilike",
     "in", "not in", "child_of", "parent_of", "any", "not any"}
)
NEGATIVE = frozenset({"!=", "<>", "not like", "not ilike", "not in", "not any"})
_ARITY = {"!": 1, "&": 2, "|": 2}


def _true(row: Row) -> bool:
    return True


def _false(row: Row) -> bool:
    return False


def is_empty(value: Any) -> bool:
    return value is False or value is None or (isinstance(value, list) and not value)


def normalize(domain: Iterable[Any]) -> list[Any]:
    """Insert the implicit '&' operators (expression.normalize_domain)."""
    result: list[Any] = []
    expected = 1
    for token in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(token, (list, tuple)):
            expected -= 1
        elif token in _ARITY:
            expected += _ARITY[token] - 1
        else:
            raise ValueError(f"Invalid domain term {token!r}")
        result.append(token)
    if expected != 0 and result:
        raise ValueError(f"Invalid domain {list(domain)!r}: missing operands")
    return result


def like_regex(pattern: str, insensitive: bool) -> re.Pattern[str]:
    """A SQL LIKE pattern (`%` any run, `_` one character, backslash escapes) as a regex."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + r"\Z", re.DOTALL | (re.IGNORECASE if insensitive else 0))


class _Compiler:
    def __init__(self, env: Env, model: str) -> None:
        self.env = env
        self.model = model
        self.mdef = env.schema[model]

    def compile(self, domain: list[Any]) -> tuple[Pred, set[int] | None]:
        tokens = normalize(domain)
        if not tokens:
            return _true, None
        pred, pos, candidates = self._node(tokens, 0, top=True)
        return pred, candidates

    def _node(self, tokens: list[Any], pos: int, top: bool = False) -> tuple[Pred, int, set[int] | None]:
        token = tokens[pos]
        if token == "!":
            sub, nxt, _ = self._node(tokens, pos + 1)
            return (lambda row: not sub(row)), nxt, None
        if token in ("&", "|"):
            left, nxt, lcand = self._node(tokens, pos + 1, top)
            right, nxt, rcand = self._node(tokens, nxt, top)
            if token == "&":
                cand = lcand if rcand is None else rcand if lcand is None else lcand & rcand
                return (lambda row: left(row) and right(row)), nxt, cand if top else None
            return (lambda row: left(row) or right(row)), nxt, None
        pred, cand = self.leaf(token)
        return pred, pos + 1, cand if top else None

    # -- leaves -------------------------------------------------------------------------
    def leaf(self, leaf: Any) -> tuple[Pred, set[int] | None]:
        if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
            raise ValueError(f"Invalid leaf {leaf!r}")
        path, op, value = leaf
        if tuple(leaf) == TRUE_LEAF:
            return _true, None
        if tuple(leaf) == FALSE_LEAF:
            return _false, None
        if not isinstance(path, str) or not isinstance(op, str):
            raise ValueError(f"Invalid leaf {tuple(leaf)!r}")
        op = op.lower()
        if op not in OPERATORS or (op in ("any", "not any") and self.env.major < 17):
            raise ValueError(f"Invalid leaf {tuple(leaf)!r}")
        if op == "<>":
            op = "!="
        fname, _, rest = path.partition(".")
        fld = self.mdef.fields.get(fname)
        if fld is None:
            raise ValueError(f"Invalid field {self.model}.{fname} in leaf {tuple(leaf)!r}")
        if rest:
            if not fld.relational or fld.relation is None:
                raise ValueError(f"Invalid field {self.model}.{path} in leaf {tuple(leaf)!r}")
            # a dotted path is "any" on the relation (expression.py rewrites it the same way)
            return self._related(fname, "any", [(rest, op, value)])
        if op in ("any", "not any"):
            if not fld.relational:
                raise ValueError(f"Invalid leaf {tuple(leaf)!r}: {op} needs a relational field")
            return self._related(fname, op, list(value))
        if op in ("child_of", "parent_of"):
            return self._hierarchy(fname, op, value)
        if fld.relational and fld.relation and _has_names(value) and op not in ("=?",):
            return self._by_name(fname, op, value)
        return self._compare(fname, op, value, fld.type)

    def _getter(self, fname: str) -> Callable[[Row], Any]:
        return self.env.getter(self.model, fname)

    def _compare(self, fname: str, op: str, value: Any, ftype: str) -> tuple[Pred, set[int] | None]:
        get = self._getter(fname)
        multi = ftype in ("one2many", "many2many")
        candidates: set[int] | None = None
        if op == "=?":
            if value is False or value is None:
                return _true, None
            op = "="
        if op in ("=", "!="):
            if is_empty(value):
                if ftype == "boolean":
                    eq: Pred = lambda row: not get(row)  # noqa: E731 - False and NULL alike
                else:
                    eq = lambda row: is_empty(get(row))  # noqa: E731
            elif multi:
                eq = lambda row: value in get(row)  # noqa: E731
            elif ftype == "boolean":
                want = bool(value)
                eq = lambda row: bool(get(row)) == want  # noqa: E731
            else:
                eq = lambda row: get(row) == value  # noqa: E731
                candidates = self._indexed(fname, [value]) if op == "=" else None
            if op == "=":
                return eq, candidates
            return (lambda row: not eq(row)), None
        if op in ("in", "not in"):
            values = list(value) if isinstance(value, (list, tuple, set)) else [value]
            with_empty = any(v is False or v is None for v in values)
            wanted = {v for v in values if not (v is False or v is None)}
            if multi:
                inn: Pred = lambda row: bool(wanted.intersection(get(row))) or (  # noqa: E731
                    with_empty and not get(row))
            else:
                inn = lambda row: (get(row) in wanted) or (with_empty and is_empty(get(row)))  # noqa: E731
                if op == "in" and not with_empty:
                    candidates = self._indexed(fname, wanted)
            if op == "in":
                return inn, candidates
            return (lambda row: not inn(row)), None
        if op in (">", ">=", "<", "<="):
            cmp = _CMP[op]

            def ordered(row: Row) -> bool:
                v = get(row)
                if is_empty(v) and not isinstance(v, (int, float)):
                    return False
                try:
                    return bool(cmp(v, value))
                except TypeError:
                    return False

            return ordered, (self._id_range(op, value) if fname == "id" else None)
        # like family
        insensitive = "ilike" in op
        negative = op.startswith("not ")
        if value is False or value is None:
            # ('name', 'ilike', False) is "unset" in Odoo
            empty_pred: Pred = lambda row: is_empty(get(row))  # noqa: E731
            return ((lambda row: not empty_pred(row)) if negative else empty_pred), None
        pattern = str(value) if op.startswith("=") else f"%{value}%"
        rx = like_regex(pattern, insensitive)

        def like(row: Row) -> bool:
            v = get(row)
            if is_empty(v):
                return False
            if multi:
                return False
            return rx.match(str(v)) is not None

        if negative:
            return (lambda row: not like(row)), None
        return like, None

    def _indexed(self, fname: str, values: Iterable[Any]) -> set[int] | None:
        idx = self.env.store.index(self.model, fname)
        if idx is None:
            if fname == "id":
                table = self.env.store.table(self.model)
                return {v for v in values if isinstance(v, int) and v in table}
            return None
        out: set[int] = set()
        for v in values:
            out |= idx.get(v, set())
        return out

    def _id_range(self, op: str, value: Any) -> set[int] | None:
        """The ids an `id <op> value` leaf can match, when fewer than the table's rows.

        Ids are handed out increasing (`Store.next_id`), so the bridge's outbox poll `id >
        cursor` looks at the few rows after the cursor instead of the whole growing table.
        """
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        first, end = {">": (value + 1, None), ">=": (value, None), "<": (1, value), "<=": (1, value + 1)}[op]
        if end is None:
            end = self.env.store.next_id.get(self.model, 1)
        if end - first >= len(self.env.store.table(self.model)):
            return None  # a full scan is no dearer
        return set(range(max(first, 1), end))

    def _related(self, fname: str, op: str, subdomain: list[Any]) -> tuple[Pred, set[int] | None]:
        fld = self.mdef.fields[fname]
        assert fld.relation is not None
        matched = set(self.env.search_ids(fld.relation, subdomain, active_test=False, ordered=False))
        pred, cand = self._in_set(fname, fld.type, matched)
        if op == "not any":
            return (lambda row: not pred(row)), None
        return pred, cand

    def _in_set(self, fname: str, ftype: str, ids: set[int]) -> tuple[Pred, set[int] | None]:
        get = self._getter(fname)
        if ftype in ("one2many", "many2many"):
            return (lambda row: not ids.isdisjoint(get(row))), None
        return (lambda row: get(row) in ids), self._indexed(fname, ids)

    def _by_name(self, fname: str, op: str, value: Any) -> tuple[Pred, set[int] | None]:
        fld = self.mdef.fields[fname]
        assert fld.relation is not None
        negative = op in NEGATIVE
        positive = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}.get(op, op)
        names = value if isinstance(value, (list, tuple)) else [value]
        ids: set[int] = set()
        for name in names:
            if isinstance(name, int) and not isinstance(name, bool):
                ids.add(name)
                continue
            sub_op = "=" if positive == "in" else positive
            ids |= set(self.env.name_search_ids(fld.relation, str(name), sub_op))
        pred, cand = self._in_set(fname, fld.type, ids)
        if negative:
            return (lambda row: not pred(row)), None
        return pred, cand

    def _hierarchy(self, fname: str, op: str, value: Any) -> tuple[Pred, set[int] | None]:
        fld = self.mdef.fields[fname]
        comodel = self.model if fname == "id" else fld.relation
        if comodel is None:
            raise ValueError(f"Invalid field {self.model}.{fname}: {op} needs a relational field")
        roots = self._resolve_ids(comodel, value)
        ids = self.env.descendants(comodel, roots) if op == "child_of" else self.env.ancestors(comodel, roots)
        if fname == "id" or comodel == self.model:
            # expression.py: a many2one to the model itself is its parent, so
            # ("location_id", "child_of", x) on stock.location means ("id", "child_of", x)
            return (lambda row: row["id"] in ids), set(ids)
        return self._in_set(fname, fld.type, ids)

    def _resolve_ids(self, comodel: str, value: Any) -> list[int]:
        values = value if isinstance(value, (list, tuple)) else [value]
        out: list[int] = []
        for v in values:
            if v is False or v is None:
                continue
            if isinstance(v, int) and not isinstance(v, bool):
                out.append(v)
            else:
                out.extend(self.env.name_search_ids(comodel, str(v), "ilike"))
        return out


def _has_names(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, str) for v in value)
    return False


_CMP: dict[str, Callable[[Any, Any], Any]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def compile_domain(env: Env, model: str, domain: list[Any] | None) -> tuple[Pred, set[int] | None]:
    """Predicate and optional candidate ids for `domain` on `model` (raises ValueError like Odoo)."""
    if domain is None:
        domain = []
    if not isinstance(domain, (list, tuple)):
        raise ValueError(f"Invalid domain {domain!r}")
    return _Compiler(env, model).compile(list(domain))
