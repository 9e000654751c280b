"""Lint the Odoo addon the way OCA's CI does, without Odoo: `python -m tests.addon.lint`.

Runs pylint with the pylint-odoo plugin and the oca-odoo-pre-commit-hooks module checks
(plus oca-checks-po when the addon ships translations) and exits non-zero on any finding.
Usage: `python -m tests.addon.lint [ADDON_DIR ...]` (default: every addon under addons/).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "addons"
ODOO_SERIES = "18.0"
AUTHORS = "Marketplace Stock Sync contributors"
# pylint-odoo's own checker, plus the generic checks OCA's mandatory pylintrc keeps that
# make sense without Odoo importable (import-error would fire on every `from odoo ...`).
PYLINT_CHECKS = ",".join(
    [
        "odoolint",
        "unused-import",
        "unused-variable",
        "dangerous-default-value",
        "pointless-statement",
        "unreachable",
        "duplicate-key",
        "redefined-builtin",
        "logging-not-lazy",
        "logging-format-interpolation",
        "broad-exception-raised",
    ]
)


def addon_dirs(args: Sequence[str]) -> list[Path]:
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(p.parent for p in ADDONS.glob("*/__manifest__.py"))


def commands(addons: Sequence[Path]) -> list[list[str]]:
    bindir = Path(sys.executable).parent
    paths = [str(a) for a in addons]
    cmds = [
        [
            sys.executable,
            "-m",
            "pylint",
            "--load-plugins=pylint_odoo",
            "--disable=all",
            f"--enable={PYLINT_CHECKS}",
            f"--valid-odoo-versions={ODOO_SERIES}",
            f"--manifest-required-authors={AUTHORS}",
            "--score=n",
            "--reports=n",
            *paths,
        ],
        [str(bindir / "oca-checks-odoo-module"), *paths],
    ]
    po_files = [str(p) for a in addons for p in sorted(a.glob("i18n/*.po*"))]
    if po_files:
        cmds.append([str(bindir / "oca-checks-po"), *po_files])
    return cmds


def main(argv: Sequence[str] | None = None) -> int:
    addons = addon_dirs(sys.argv[1:] if argv is None else argv)
    if not addons:
        print("lint: no addon found", file=sys.stderr)
        return 1
    failed = 0
    for cmd in commands(addons):
        name = Path(cmd[2] if cmd[1] == "-m" else cmd[0]).name
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            failed += 1
            print(f"lint: {name} failed (exit {result.returncode})\n{output}")
        else:
            print(f"lint: {name} ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
