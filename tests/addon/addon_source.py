"""Read the addon's models, manifest, views and security from source, without Odoo.

Usage: `models = read_models(ADDON)`; `models["marketplace.listing"].fields["pack_size"].type`.
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "marketplace_stock_sync"
MODULE = ADDON.name
MAGIC_FIELDS = {"id", "display_name", "create_date", "create_uid", "write_date", "write_uid"}


@dataclass
class FieldDef:
    name: str
    type: str  # Odoo's type name: char, many2one, float, ...
    relation: str | None = None
    stored: bool = True  # False for computed fields without store=True
    selection: tuple[str, ...] = ()  # keys of a selection field
    label: str = ""  # the `string` Odoo shows (derived from the name when not given)


@dataclass
class ModelDef:
    name: str
    new: bool  # declared with _name (ours) rather than _inherit (an extension)
    fields: dict[str, FieldDef] = field(default_factory=dict)


def _const(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _field_def(name: str, call: ast.Call, consts: dict[str, Any]) -> FieldDef | None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == "fields"):
        return None
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    relation = None
    if func.attr in ("Many2one", "One2many", "Many2many"):
        relation = _const(call.args[0]) if call.args else _const(kwargs["comodel_name"])
    stored = "compute" not in kwargs or bool(_const(kwargs.get("store", ast.Constant(False))))
    selection: tuple[str, ...] = ()
    if func.attr == "Selection" and call.args:
        arg = call.args[0]
        values = consts.get(arg.id) if isinstance(arg, ast.Name) else _const(arg)
        selection = tuple(key for key, _label in values or ())
    return FieldDef(name, func.attr.lower(), relation, stored, selection,
                    _label(name, func.attr, call, kwargs))


def _label(name: str, kind: str, call: ast.Call, kwargs: dict[str, ast.expr]) -> str:
    """The field's `string`: the keyword, the positional one (after the comodel of a
    relational field), else Odoo's default (odoo/fields.py: name without _id/_ids, title)."""
    position = 1 if kind in ("Many2one", "One2many", "Many2many") else 0
    if kind == "Selection":
        position = 1
    if "string" in kwargs:
        value = _const(kwargs["string"])
    elif len(call.args) > position:
        value = _const(call.args[position])
    else:
        value = None
    if isinstance(value, str):
        return value
    base = name[:-4] if name.endswith("_ids") else name[:-3] if name.endswith("_id") else name
    return base.replace("_", " ").title()


def read_models(addon: Path = ADDON) -> dict[str, ModelDef]:
    models: dict[str, ModelDef] = {}
    for path in sorted((addon / "models").glob("*.py")):
        tree = ast.parse(path.read_text())
        consts = {
            stmt.targets[0].id: _const(stmt.value)
            for stmt in tree.body
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
        }
        for module_name, module_consts in _imported_consts(path, tree).items():
            consts.setdefault(module_name, module_consts)
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            attrs: dict[str, Any] = {}
            found: dict[str, FieldDef] = {}
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                        and isinstance(stmt.targets[0], ast.Name):
                    target = stmt.targets[0].id
                    if isinstance(stmt.value, ast.Call):
                        fdef = _field_def(target, stmt.value, consts)
                        if fdef:
                            found[target] = fdef
                            continue
                    attrs[target] = _const(stmt.value)
            name = attrs.get("_name") or attrs.get("_inherit")
            if not isinstance(name, str):
                continue
            model = models.setdefault(name, ModelDef(name, new="_name" in attrs))
            model.new = model.new or "_name" in attrs
            model.fields.update(found)
    return models


def _imported_consts(path: Path, tree: ast.Module) -> dict[str, Any]:
    """Constants a model file imports from a sibling module (`from .x import NAME`)."""
    found: dict[str, Any] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and stmt.module:
            sibling = ast.parse((path.parent / f"{stmt.module}.py").read_text())
            values = {
                s.targets[0].id: _const(s.value)
                for s in sibling.body
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            }
            for alias in stmt.names:
                found[alias.asname or alias.name] = values.get(alias.name)
    return found


def module_constant(relative: str, name: str, addon: Path = ADDON) -> Any:
    """A literal module-level constant of an addon file, e.g. BRIDGE_WRITABLE_FIELDS."""
    for stmt in ast.parse((addon / relative).read_text()).body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id == name:
            value = stmt.value
            if isinstance(value, ast.Call) and value.args:  # frozenset({...})
                value = value.args[0]
            return ast.literal_eval(value)
    raise KeyError(name)


def read_manifest(addon: Path = ADDON) -> dict[str, Any]:
    manifest: dict[str, Any] = ast.literal_eval((addon / "__manifest__.py").read_text())
    return manifest


def xml_records(path: Path) -> list[ElementTree.Element]:
    root = ElementTree.parse(path).getroot()
    return [el for el in root if el.tag in ("record", "menuitem")]


def xml_ids(path: Path) -> list[str]:
    return [el.get("id", "") for el in xml_records(path)]


def access_rows(addon: Path = ADDON) -> list[dict[str, str]]:
    with (addon / "security" / "ir.model.access.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def model_xmlid(model: str) -> str:
    return "model_" + model.replace(".", "_")
