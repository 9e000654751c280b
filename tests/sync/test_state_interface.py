"""The state store's interface (connector.state.store.Store) is what the bundled SQLite
backend offers, so a second backend implementing it is enough for the engine."""

from __future__ import annotations

import inspect
from pathlib import Path

from connector.state.sqlite import StateStore
from connector.state.store import Store


def _members(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_every_interface_method_exists_on_the_sqlite_store_with_the_same_parameters() -> None:
    wanted = _members(Store)
    offered = _members(StateStore)
    assert wanted, "the interface declares methods"
    for name, signature in wanted.items():
        assert name in offered, f"StateStore lacks {name}"
        assert list(signature.parameters) == list(offered[name].parameters), name


def test_a_sqlite_store_has_the_interface_attributes(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    try:
        assert isinstance(store.path, Path) and store.read_only is False
        store.set_cursor("outbox", 7)
        assert store.get_cursor("outbox") == 7
    finally:
        store.close()
