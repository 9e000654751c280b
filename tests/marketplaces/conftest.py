"""What every adapter test file needs: a ManualClock, a `responses` mock (lenient `mock`
or strict `rsps`, which fails the test when a mocked reply is never asked for), a token
endpoint that hands out given tokens, and readers for the requests an adapter sent.

Usage::

    from tests.marketplaces.conftest import body_of, token_replies

    def test_push(mock: responses.RequestsMock, clock: ManualClock) -> None:
        token_replies(mock, TOKEN_URL, ["access-1"], expires_in=3600)
        ...
        assert body_of(mock.calls[1]) == {...}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """Replies may stay unused (tests that register a spare token, say)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every registered reply must be asked for."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def token_replies(
    mock: responses.RequestsMock, url: str, tokens: Iterable[str], **fields: Any
) -> None:
    """One OAuth token-endpoint reply per token, in order, each with `fields` too."""
    for token in tokens:
        mock.post(url, json={"access_token": token, **fields})


def text_of(call: responses.Call) -> str:
    """The request body as text ("" when there is none)."""
    raw = call.request.body or b""
    return raw.decode() if isinstance(raw, bytes) else raw


def body_of(call: responses.Call) -> Any:
    """The request's JSON body, or None when it has none."""
    text = text_of(call)
    return json.loads(text) if text else None


def form_of(call: responses.Call) -> dict[str, str]:
    """The request's form-encoded body, one value a key."""
    return {k: v[0] for k, v in parse_qs(text_of(call)).items()}


def query_of(call: responses.Call) -> dict[str, str]:
    """The request URL's query string, one value a key."""
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}
