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


def _field_def(name: str, call: ast.Call) -> FieldDef | None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == "fields"):
        return None
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    relation = None
    if func.attr in ("Many2one", "One2many", "Many2many"):
        relation = _const(call.args[0]) if call.args else _const(kwargs["comodel_name"])
    stored = "compute" not in kwargs or bool(_const(kwargs.get("store", ast.Constant(False))))
    return FieldDef(name, func.attr.lower(), relation, stored)


def read_models(addon: Path = ADDON) -> dict[str, ModelDef]:
    models: dict[str, ModelDef] = {}
    for path in sorted((addon / "models").glob("*.py")):
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef):
                continue
            attrs: dict[str, Any] = {}
            found: dict[str, FieldDef] = {}
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                        and isinstance(stmt.targets[0], ast.Name):
                    target = stmt.targets[0].id
                    if isinstance(stmt.value, ast.Call):
                        fdef = _field_def(target, stmt.value)
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
