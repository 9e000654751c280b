"""The wheel ships the Odoo addon as data under share/stock-bridge/addons (issue 3).

Reads setuptools' own expansion of pyproject's data-files (what `pip wheel` installs), so
no wheel is built here; every file of the addon must land at its own relative path.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from setuptools.config.pyprojecttoml import read_configuration

ROOT = Path(__file__).resolve().parents[2]
ADDON = "addons/marketplace_stock_sync"
DEST = "share/stock-bridge/addons/marketplace_stock_sync"


def _installed() -> dict[str, str]:
    """source file -> installed path, from pyproject's expanded data-files."""
    cwd = os.getcwd()
    os.chdir(ROOT)  # data-files globs are relative to the project, as in a build
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # setuptools' "beta" notice on [tool.setuptools]
            config = read_configuration(ROOT / "pyproject.toml", expand=True)
    finally:
        os.chdir(cwd)
    return {
        source: f"{target}/{Path(source).name}"
        for target, sources in config["tool"]["setuptools"]["data-files"]
        for source in sources
    }


def test_every_addon_file_is_data_at_its_relative_path() -> None:
    on_disk = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / ADDON).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    installed = _installed()
    assert f"{ADDON}/__manifest__.py" in on_disk
    missing = [f for f in on_disk if f not in installed]
    assert not missing, f"addon files not shipped as data-files (add their folder/pattern to pyproject): {missing}"
    misplaced = {f: installed[f] for f in on_disk if installed[f] != DEST + f[len(ADDON):]}
    assert not misplaced


def test_demo_fixtures_still_ship() -> None:
    installed = _installed()
    assert installed.get("fixtures/demo/README.md") == "share/stock-bridge/fixtures/demo/README.md"
