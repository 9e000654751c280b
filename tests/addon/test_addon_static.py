"""Static checks of the Odoo addon that need no Odoo: manifest, load order, views, ACLs."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.addon import lint
from tests.addon.addon_source import (
    ADDON,
    MAGIC_FIELDS,
    MODULE,
    access_rows,
    model_xmlid,
    read_manifest,
    read_models,
    xml_ids,
    xml_records,
)

# Modules the addon depends on (directly or through stock) and models of theirs it names.
EXTERNAL_MODELS = {
    "stock": {"stock.quant", "stock.move", "stock.location", "stock.warehouse", "stock.picking"},
    "product": {"product.product", "product.template"},
}
EXTERNAL_GROUPS = {"base.group_user", "base.group_multi_company", "stock.group_stock_user"}


def data_files() -> list[str]:
    files: list[str] = read_manifest()["data"]
    return files


def defined_ids() -> dict[str, int]:
    """xml id (unqualified) -> position in load order of the file that defines it."""
    ids: dict[str, int] = {}
    for position, name in enumerate(data_files()):
        if name.endswith(".xml"):
            for xml_id in xml_ids(ADDON / name):
                ids[xml_id] = position
        elif name.endswith(".csv"):
            for row in access_rows():
                ids[row["id"]] = position
    return ids


def test_manifest_keys():
    manifest = read_manifest()
    assert manifest["version"].startswith("18.0.") and manifest["version"].count(".") == 4
    assert manifest["depends"] == ["stock"]
    assert manifest["license"] in {"LGPL-3", "AGPL-3"}


def test_data_files_exist_and_parse():
    for name in data_files():
        path = ADDON / name
        assert path.is_file(), f"{name} is in the manifest but does not exist"
        if name.endswith(".xml"):
            ElementTree.parse(path)


def test_every_data_file_is_in_the_manifest():
    listed = set(data_files())
    on_disk = {
        str(p.relative_to(ADDON))
        for folder in ("security", "data", "views")
        for p in (ADDON / folder).glob("*")
    }
    assert on_disk <= listed, f"not loaded: {sorted(on_disk - listed)}"


def test_load_order_security_before_views_and_actions_before_menus():
    files = data_files()
    last_security = max(i for i, f in enumerate(files) if f.startswith("security/"))
    first_view = min(i for i, f in enumerate(files) if f.startswith("views/"))
    assert last_security < first_view
    # Groups before the access CSV that names them.
    assert files.index("security/marketplace_security.xml") < files.index(
        "security/ir.model.access.csv"
    )
    ids = defined_ids()
    for position, name in enumerate(files):
        if not name.endswith(".xml"):
            continue
        seen_here: set[str] = set()
        for element in xml_records(ADDON / name):
            for attr in ("action", "parent"):
                ref = element.get(attr)
                if ref and "." not in ref:
                    assert ref in ids, f"{name}: {attr}={ref} is defined nowhere"
                    assert ids[ref] < position or ref in seen_here, (
                        f"{name}: {attr}={ref} is loaded after its use"
                    )
            seen_here.add(element.get("id", ""))


def test_every_view_field_exists_on_its_model():
    models = read_models()
    checked = 0
    for name in data_files():
        if not name.startswith("views/"):
            continue
        for record in xml_records(ADDON / name):
            if record.get("model") != "ir.ui.view":
                continue
            model = record.find("field[@name='model']").text  # type: ignore[union-attr]
            arch_field = record.find("field[@name='arch']")
            assert arch_field is not None and len(arch_field) == 1
            arch = arch_field[0]
            assert model in models, f"{name}: view on {model}, a model the addon does not touch"
            known = set(models[model].fields) | MAGIC_FIELDS
            for element in arch.iter("field"):  # type: ignore[union-attr]
                field_name = element.get("name")
                assert field_name in known, f"{name}: {model} has no field {field_name}"
                checked += 1
            for element in arch.iter():  # type: ignore[union-attr]
                assert "attrs" not in element.attrib and "states" not in element.attrib
            assert not list(arch.iter("tree")), "Odoo 18 uses <list>"  # type: ignore[union-attr]
    assert checked > 30


def test_every_access_row_names_an_existing_model_and_group():
    models = read_models()
    ours = {model_xmlid(m) for m, d in models.items() if d.new}
    groups = {f"{MODULE}.{i}" for i in xml_ids(ADDON / "security/marketplace_security.xml")
              if i.startswith("group_")}
    rows = access_rows()
    for row in rows:
        model_ref = row["model_id:id"]
        if "." in model_ref:
            module, xml_id = model_ref.split(".", 1)
            assert xml_id in {model_xmlid(m) for m in EXTERNAL_MODELS.get(module, ())}, model_ref
        else:
            assert model_ref in ours, f"{row['id']}: no model {model_ref}"
        group = row["group_id:id"]
        qualified = group if "." in group else f"{MODULE}.{group}"
        assert qualified in groups or qualified in EXTERNAL_GROUPS, f"{row['id']}: no group {group}"
        assert set(row[k] for k in row if k.startswith("perm_")) <= {"0", "1"}
    # Every model of ours is reachable by at least one group.
    assert ours == {r["model_id:id"] for r in rows if "." not in r["model_id:id"]}


def test_record_rules_cover_every_model():
    rules = ADDON / "security/marketplace_rules.xml"
    covered = {
        r.find("field[@name='model_id']").get("ref")  # type: ignore[union-attr]
        for r in xml_records(rules)
    }
    ours = {model_xmlid(m) for m, d in read_models().items() if d.new}
    assert covered == ours


def test_lint_fails_on_a_finding(tmp_path: Path):
    broken = tmp_path / MODULE
    shutil.copytree(ADDON, broken)
    manifest = (broken / "__manifest__.py").read_text()
    (broken / "__manifest__.py").write_text(manifest.replace('"license": "LGPL-3",', ""))
    assert lint.main([str(broken)]) == 1


@pytest.mark.parametrize("path", ["readme/DESCRIPTION.md", "readme/USAGE.md",
                                  "readme/CONFIGURE.md", "README.rst"])
def test_readme_parts_exist(path: str):
    assert (ADDON / path).read_text().strip()


def test_quant_hooks_match_odoo_18_and_flows_silence_them():
    """The quant-level hooks (review #12) keep Odoo 18's leading parameters and pass the
    rest through; every move-level flow runs its super() in the flow context, so the quant
    hooks do not add a second reason inside it. Odoo itself runs the behaviour tests
    (tests/test_quant_events.py)."""
    import ast

    tree = ast.parse((ADDON / "models" / "stock_quant.py").read_text())
    methods = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    for name in ("_update_available_quantity", "_update_reserved_quantity"):
        fn = methods[name]
        assert [a.arg for a in fn.args.args] == ["self", "product_id", "location_id"], name
        assert fn.args.vararg and fn.args.kwarg, name  # later series add parameters
        assert any(isinstance(d, ast.Attribute) and d.attr == "model"
                   for d in fn.decorator_list), name
        assert f"super()._{name.lstrip('_')}(" in ast.unparse(fn), name
    move_source = (ADDON / "models" / "stock_move.py").read_text()
    for flow in ("_action_done", "_action_assign", "_do_unreserve", "_action_cancel"):
        assert f"super(StockMove, self._marketplace_flow()).{flow}(" in " ".join(
            move_source.split()).replace("( ", "("), flow
    assert "_apply_inventory" in methods and "FLOW_CONTEXT: True" in ast.unparse(
        methods["_apply_inventory"]).replace("'", "").replace('"', "")


def test_no_two_fields_of_a_model_share_a_label():
    # Odoo warns at install ("Two fields (...) of marketplace.listing() have the same
    # label"), and a user cannot tell the two apart in filters and exports.
    for model in read_models().values():
        seen: dict[str, str] = {}
        for name, fdef in model.fields.items():
            assert fdef.label not in seen, (model.name, seen.get(fdef.label), name, fdef.label)
            seen[fdef.label] = name
