"""`stock-bridge demo` runs the narrated scenarios on its own stack and says whether they matched."""

from __future__ import annotations

import io

import pytest

from connector.cli import demo

pytestmark = pytest.mark.timeout(90)


def test_demo_narrates_every_step_and_exits_0() -> None:
    out = io.StringIO()
    assert demo.run_demo(out=out) == 0, out.getvalue()
    text = out.getvalue()
    assert "[11/11]" in text and "every step matched" in text
    assert "shopee_sg 16" in text  # the drift was corrected
    assert "lazada_sg 1 listing locked" in text


def test_demo_exits_1_when_a_channel_shows_something_else(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_wrong_step(run: demo.DemoRun) -> list[demo.Step]:
        # LAMP-DESK-01 shows 1 on Shopify after the first sync; claim 7
        return [demo.Step("nothing happens", lambda: None, "LAMP-DESK-01", {"shopify_eu": 7})]

    monkeypatch.setattr(demo, "_steps", one_wrong_step)
    out = io.StringIO()
    assert demo.run_demo(out=out) == 1
    assert "MISMATCH" in out.getvalue() and "1 step(s) did not match" in out.getvalue()
