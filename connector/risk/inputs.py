"""Where `advise` and `simulate` get their numbers: delay legs and order rates per channel.

Precedence for a channel's delay legs: the defaults (connector.risk.delays) < the config's
`[risk.channels.<code>]` < the bridge's measurements (a `DelaySource`, push leg only) <
the command line. Pure: the ERP is read in connector.risk.shop.

Usage::

    legs = resolve_legs("amazon_de", "amazon", config.risk, NoMeasurements().measured(), {})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from connector.risk.advisor import AdviceError
from connector.risk.delays import ChannelDelays, Delay, MeasuredDelays, default_legs, parse_delay
from connector.risk.settings import RiskSettings

LEGS = ("detect", "push", "live")


def resolve_legs(code: str, marketplace: str, settings: RiskSettings,
                 measured: Mapping[str, MeasuredDelays],
                 overrides: Mapping[str, Mapping[str, Delay]]) -> ChannelDelays:
    legs = default_legs(marketplace)
    configured = settings.channels.get(code)
    if configured is not None:
        given = {leg: parse_delay(value) for leg in LEGS
                 if (value := getattr(configured, leg)) is not None}
        if given:
            legs = replace(legs, **given, source="config")
    if code in measured:
        legs = replace(legs, push=measured[code].push, source="measured")
    if code in overrides and overrides[code]:
        legs = replace(legs, **dict(overrides[code]), source="command line")
    return legs


def parse_assignments(values: list[str], what: str) -> dict[str, str]:
    """`["amazon_de=20", ...]` -> {"amazon_de": "20"}; AdviceError on a malformed one."""
    out: dict[str, str] = {}
    for value in values:
        code, sep, rest = value.partition("=")
        if not sep or not code or not rest:
            raise AdviceError(f"{what} must look like CHANNEL=VALUE, got {value!r}")
        out[code] = rest
    return out


def parse_rates(values: list[str]) -> dict[str, float]:
    """`--rate C=R` (orders per day) -> {code: rate}; negative or non-numbers refused."""
    rates: dict[str, float] = {}
    for code, text in parse_assignments(values, "--rate").items():
        try:
            rate = float(text)
        except ValueError:
            raise AdviceError(f"--rate {code}: not a number: {text!r}") from None
        if not rate >= 0 or rate == float("inf"):
            raise AdviceError(f"--rate {code}: the order rate must be a non-negative number, got {text}")
        rates[code] = rate
    return rates


def parse_leg_overrides(**legs: list[str]) -> dict[str, dict[str, Delay]]:
    """{"push": ["amazon_de=0.2:1.8"], ...} -> {"amazon_de": {"push": Delay(0.2, 1.8)}}."""
    out: dict[str, dict[str, Delay]] = {}
    for leg, values in legs.items():
        for code, text in parse_assignments(values, f"--{leg}").items():
            try:
                out.setdefault(code, {})[leg] = parse_delay(text)
            except ValueError as exc:
                raise AdviceError(f"--{leg} {code}: {exc}") from None
    return out
