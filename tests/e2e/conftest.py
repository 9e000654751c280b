"""Fixtures of the end-to-end suite: a fresh stack per test, always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Stack, start_stack


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """start_stack with options (config overrides, with_bridge=False); all stopped afterwards."""
    started: list[Stack] = []

    def make(**options: Any) -> Stack:
        sub = tmp_path / f"stack{len(started)}"
        sub.mkdir()
        stack = start_stack(sub, **options)
        started.append(stack)
        return stack

    yield make
    for stack in started:
        stack.stop()


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    """The default stack: bridge started, first full sync done."""
    return make_stack()
