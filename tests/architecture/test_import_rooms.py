"""The rooms of connector/ and who may import whom, read from the source (no imports run).

- no import cycles between modules (module-level imports; a function-level import is a
  deliberate late binding and is listed apart below);
- `stock/` is pure: it imports nothing with I/O and nothing of the bridge outside stock/;
- the stand-ins (`mock_erp/`, `sandbox/`) import none of the code they stand in for;
- the catalogue, the defaults' values and the state package import no bridge room above them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "connector"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _typing_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _walk(node: ast.AST, top_level_only: bool) -> Iterator[ast.AST]:
    """Statements that import when run: `if TYPE_CHECKING:` blocks never do."""
    for child in ast.iter_child_nodes(node):
        if _typing_only(child):
            continue
        yield child
        if not top_level_only:
            yield from _walk(child, top_level_only)


def _imports(path: Path, top_level_only: bool) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _walk(tree, top_level_only):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {i for i in _imports(path, top_level_only) if i in MODULES and i != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_at_module_level() -> None:
    graph = _graph(top_level_only=True)
    # a package importing its own submodule (re-export) is not a cycle of rooms
    graph = {m: {i for i in deps if not i.startswith(m + ".")} for m, deps in graph.items()}
    assert _cycles(graph) == []


def test_no_import_cycles_even_with_late_imports() -> None:
    graph = _graph(top_level_only=False)
    graph = {m: {i for i in deps if not i.startswith(m + ".")} for m, deps in graph.items()}
    assert _cycles(graph) == []


IO_MODULES = ("socket", "requests", "sqlite3", "http", "urllib", "xmlrpc", "werkzeug", "subprocess", "shutil")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("connector.stock")))
def test_stock_imports_nothing_with_io(module: str) -> None:
    for imported in _imports(MODULES[module], top_level_only=False):
        assert imported.split(".")[0] not in IO_MODULES, f"{module} imports {imported}"
        if imported.startswith("connector."):
            assert imported.startswith("connector.stock"), f"{module} imports {imported}"


STAND_INS = {
    "connector.mock_erp": ("connector.erp", "connector.sync", "connector.marketplaces", "connector.state"),
    "connector.sandbox": ("connector.marketplaces", "connector.sync", "connector.erp", "connector.state"),
}


@pytest.mark.parametrize("room", sorted(STAND_INS))
def test_stand_ins_import_none_of_what_they_stand_in_for(room: str) -> None:
    for module in (m for m in MODULES if m.startswith(room)):
        for imported in _imports(MODULES[module], top_level_only=False):
            assert not imported.startswith(STAND_INS[room]), f"{module} imports {imported}"


LOWER_ROOMS = {
    "connector.catalogue": ("connector.stock", "connector.catalogue"),
    "connector.defaults": ("connector.catalogue", "connector.sandbox.urls", "connector.stock"),
    "connector.state": ("connector.state", "connector.stock"),
}


@pytest.mark.parametrize("room", sorted(LOWER_ROOMS))
def test_lower_rooms_reach_no_room_above_them(room: str) -> None:
    allowed = LOWER_ROOMS[room]
    for module in (m for m in MODULES if m == room or m.startswith(room + ".")):
        for imported in _imports(MODULES[module], top_level_only=False):
            if imported.startswith("connector."):
                assert imported.startswith(allowed), f"{module} imports {imported}"
