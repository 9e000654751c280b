"""`stock-bridge advise` and `stock-bridge simulate` (issue 13 items 3 and 4).

advise: for every listed product, the buffers that keep the oversell risk per sell-out
under the target, from the ERP's sales history and each channel's delays; a table of
buffer now / advised, risk now / advised and units hidden. It writes nothing unless
`--apply` is given: then, with the addon, it writes the listings' buffer override (as a
Marketplace manager: the bridge user may only write sync status), and without the addon
it prints the config lines to paste.

simulate: the seeded oversell simulator on the shop (or on `--rate`s), comparing a batch
sync every T minutes, this bridge without buffers, with the current (fixed) buffers and
with the advised ones; `--chart` draws risk against buffer per channel as SVG.

Bad input is exit 2 with one line (unknown channel, negative rate, target outside (0, 1),
no sales history); an unreachable ERP is exit 1.

Usage::

    stock-bridge advise --target-risk 0.001 --channel amazon_de
    stock-bridge simulate --peak 20 --json --chart risk.svg
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.config import ENV_PREFIX, BridgeConfig, ConfigError, ErpConfig, load_config
from connector.risk.advisor import (
    AdviceError,
    ChannelLoad,
    advise_per_channel,
    advise_uniform,
    channel_risks,
    check_target,
    product_risk,
    uniform_risk,
)
from connector.risk.chart import risk_chart
from connector.risk.delays import ChannelDelays, DelaySource, MeasuredDelays, NoMeasurements
from connector.risk.inputs import parse_leg_overrides, parse_rates, resolve_legs
from connector.risk.simulator import CANCEL_THRESHOLDS, Policy, SimChannel, sellout_trials
from connector.risk.simulator import simulate as run_simulation

if TYPE_CHECKING:  # the ERP side is imported only by the commands that read it
    from connector.risk.shop import ProductView, Shop

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
CHART_MAX_BUFFER = 12

# Where measured delays come from: None reads the bridge's state file (the engine's rolling
# per-channel histograms, connector/sync/delay_recorder.py); tests may set a DelaySource.
delay_source: DelaySource | None = None


def measured_delays(config: BridgeConfig) -> Mapping[str, MeasuredDelays]:
    """The bridge's measured push delays per channel; none before `run` has pushed."""
    if delay_source is not None:
        return delay_source.measured()
    from connector.state.errors import StateError
    from connector.state.sqlite import StateStore
    from connector.sync.delay_recorder import StoredDelays

    try:
        store = StateStore.open(config.bridge.state_path, read_only=True)
    except StateError:
        return NoMeasurements().measured()
    try:
        return StoredDelays(store).measured()
    finally:
        store.close()


# -- the command line -----------------------------------------------------------------------


def add_parsers(sub: Any, common: argparse.ArgumentParser, reporting: argparse.ArgumentParser) -> None:
    """Register `advise` and `simulate` on connector.cli's subparsers."""
    p = sub.add_parser("advise", parents=[common, reporting], help="buffers sized from demand and delay")
    _shared(p)
    p.add_argument("--apply", action="store_true",
                   help="write the advised buffers (addon: as a Marketplace manager; no addon: print config lines)")
    p = sub.add_parser("simulate", parents=[common, reporting], help="seeded oversell simulator")
    _shared(p)
    p.add_argument("--rate", action="append", default=[], metavar="C=R",
                   help="orders per day on channel C (repeatable; instead of the ERP's history)")
    p.add_argument("--orders", type=int, default=20_000, help="orders of the steady run per policy (whole shop)")
    p.add_argument("--trials", type=int, default=1_000, help="sell-outs simulated per product and policy")
    p.add_argument("--lot-size", type=int, default=None, help="restock lot (default: each product's stock now)")
    p.add_argument("--restock-hours", type=float, default=24.0, help="sold out -> the next lot arrives")
    p.add_argument("--batch-minutes", type=float, default=None, help="the batch sync compared with (15)")
    p.add_argument("--fixed-buffer", type=int, default=None, help="also simulate this buffer on every channel")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chart", type=Path, default=None, help="write risk against buffer per channel (SVG)")


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target-risk", type=float, default=None, help="oversell chance per sell-out (0..1)")
    p.add_argument("--channel", action="append", default=[], help="only this channel (repeatable)")
    p.add_argument("--sku", action="append", default=[], help="only this product (repeatable)")
    p.add_argument("--mode", choices=("per_channel", "uniform"), default=None,
                   help="per-channel buffers (slow channels stop first) or one buffer for all")
    p.add_argument("--peak", type=float, default=None, help="demand multiplier, e.g. 20 for a flash sale")
    p.add_argument("--dispersion", type=float, default=None, help="over-dispersion of orders (0: Poisson)")
    for leg, what in (("detect", "order -> ERP"), ("push", "ERP -> marketplace accepted"),
                      ("live", "accepted -> buyers see it")):
        p.add_argument(f"--{leg}", action="append", default=[], metavar="C=P50:P99",
                       help=f"{what} delay of channel C in seconds (repeatable)")


class _Usage(Exception):
    """Bad input: exit 2 with this line."""


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    print(message, file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": message}))
    return code


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapper(args: argparse.Namespace) -> int:
        # the transport's retry warnings would bury the one line that says what failed
        logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
        try:
            return run(args)
        except (_Usage, AdviceError, ConfigError) as exc:
            return _fail(args, f"stock-bridge {args.command}: {exc}", EXIT_USAGE)
        except _ErpDown as exc:
            return _fail(args, f"stock-bridge {args.command}: {exc}", EXIT_FAILURE)
    return wrapper


# -- inputs ---------------------------------------------------------------------------------


@dataclass
class Inputs:
    config: BridgeConfig
    target: float
    mode: str
    peak: float
    dispersion: float
    quantile: float
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    _measured: Mapping[str, MeasuredDelays] | None = None

    def legs(self, code: str, marketplace: str) -> ChannelDelays:
        if self._measured is None:
            self._measured = measured_delays(self.config)
        return resolve_legs(code, marketplace, self.config.risk, self._measured, self.overrides)


def _inputs(args: argparse.Namespace, config: BridgeConfig) -> Inputs:
    risk = config.risk
    target = risk.target_risk if args.target_risk is None else args.target_risk
    check_target(target)
    peak = risk.peak_multiplier if args.peak is None else args.peak
    if not peak > 0:
        raise _Usage(f"--peak must be a positive multiplier, got {peak}")
    dispersion = risk.dispersion if args.dispersion is None else args.dispersion
    if not dispersion >= 0:
        raise _Usage(f"--dispersion must be non-negative, got {dispersion}")
    overrides = parse_leg_overrides(detect=args.detect, push=args.push, live=args.live)
    return Inputs(config, target, args.mode or risk.mode, peak, dispersion, risk.delay_quantile, overrides)


def _known(codes: set[str], wanted: list[str], what: str) -> None:
    unknown = sorted(set(wanted) - codes)
    if unknown:
        raise _Usage(f"unknown channel {', '.join(unknown)} {what} (known: {', '.join(sorted(codes)) or 'none'})")


class _ErpDown(Exception):
    pass


def _uses_embedded(args: argparse.Namespace) -> bool:
    return args.config is None and not os.environ.get("STOCK_BRIDGE_CONFIG")


def _config(args: argparse.Namespace) -> BridgeConfig:
    if _uses_embedded(args):
        from connector.launcher import running_embedded_config

        published = running_embedded_config()
        if published is not None:
            return load_config(published)
    return load_config(args.config)


@contextmanager
def _erp(args: argparse.Namespace, config: BridgeConfig) -> Iterator[tuple[Any, BridgeConfig]]:
    """A client of the configured ERP; with the embedded default and no embedded run
    going, a mock ERP of the demo shop started here for the command's lifetime."""
    from connector.erp.client import connect
    from connector.erp.errors import ErpError

    mock = None
    if _uses_embedded(args):
        from connector.launcher import running_embedded_config

        if running_embedded_config() is None:
            from connector.defaults import fixtures_dir
            from connector.mock_erp.server import start_mock_erp

            mock = start_mock_erp(fixtures=fixtures_dir(), port=0)
            erp = config.erp.model_copy(update={"url": mock.url})
            config = config.model_copy(update={"erp": erp})
    try:
        try:
            client = connect(config.erp)
        except (ErpError, OSError) as exc:
            raise _ErpDown(f"cannot use the ERP at {config.erp.url}: {exc}") from None
        try:
            yield client, config
        except ErpError as exc:
            raise _ErpDown(f"the ERP at {config.erp.url} failed: {exc}") from None
        finally:
            client.close()
    finally:
        if mock is not None:
            mock.stop()


def _read_shop(args: argparse.Namespace, client: Any, config: BridgeConfig, skus: list[str]) -> Shop:
    from connector.risk.shop import read_shop

    shop = read_shop(client, config, datetime.now(UTC))
    _known(set(shop.channels), args.channel, "")
    if skus:
        known = {p.sku for p in shop.products.values()}
        unknown = sorted(set(skus) - known)
        if unknown:
            raise _Usage(f"unknown SKU {', '.join(unknown)} (no listing in the ERP)")
        shop.products = {pid: p for pid, p in shop.products.items() if p.sku in skus}
    if not any(p.sold_units > 0 for p in shop.products.values()):
        raise _Usage(f"no sales history: no done delivery to a customer in the last {shop.window_days:g} days "
                     "for these products (stock.move, state done, destination usage customer); "
                     "give rates with `simulate --rate C=R`")
    return shop


def _loads(inputs: Inputs, product: ProductView, shop: Shop) -> list[ChannelLoad]:
    codes = sorted({item.channel for item in product.listings})
    return [ChannelLoad(code, product.demand[code].per_second * inputs.peak if code in product.demand else 0.0,
                        inputs.legs(code, shop.channels.get(code, "")))
            for code in codes]


def _advise(inputs: Inputs, loads: list[ChannelLoad]) -> dict[str, int]:
    if inputs.mode == "uniform":
        b = advise_uniform(loads, inputs.target, inputs.quantile, inputs.dispersion)
        return {c.code: b for c in loads}
    return advise_per_channel(loads, inputs.target, inputs.quantile, inputs.dispersion)


def _current(product: ProductView) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in product.listings:
        out[item.channel] = max(out.get(item.channel, 0), item.buffer)
    return out


# -- advise ---------------------------------------------------------------------------------


@_guarded
def advise(args: argparse.Namespace) -> int:
    config = _config(args)
    inputs = _inputs(args, config)
    with _erp(args, config) as (client, live_config):
        shop = _read_shop(args, client, live_config, args.sku)
        report = _advice_report(inputs, shop, args.channel)
        if args.apply:
            report["applied"] = _apply(live_config, shop, report, client)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_render_advice(report))
    return EXIT_OK


def _advice_report(inputs: Inputs, shop: Shop, channels: list[str]) -> dict[str, Any]:
    products, rows = [], []
    sellable = hidden_now = hidden_adv = 0.0
    for product in sorted(shop.products.values(), key=lambda p: p.sku):
        loads = _loads(inputs, product, shop)
        current = _current(product)
        advised = _advise(inputs, loads)
        risk_now = product_risk(loads, current, inputs.quantile, inputs.dispersion)
        risk_adv = product_risk(loads, advised, inputs.quantile, inputs.dispersion)
        windows = {c.code: c.legs.window_quantile(inputs.quantile) for c in loads}
        rate = {c.code: c.rate_per_s * 86400 for c in loads}
        products.append({"sku": product.sku, "orders_per_day": sum(rate.values()), "risk_now": risk_now,
                         "risk_advised": risk_adv})
        for item in product.listings:
            if channels and item.channel not in channels:
                continue
            now_hidden, adv_hidden = min(item.buffer, item.pool), min(advised[item.channel], item.pool)
            sellable += item.pool
            hidden_now += now_hidden
            hidden_adv += adv_hidden
            rows.append({"sku": product.sku, "channel": item.channel, "channel_sku": item.channel_sku,
                         "listing_id": item.listing_id, "orders_per_day": rate[item.channel],
                         "window_s": windows[item.channel], "delay_source": _source(loads, item.channel),
                         "sellable": item.pool, "buffer_now": item.buffer, "buffer_advised": advised[item.channel],
                         "risk_now": risk_now, "risk_advised": risk_adv,
                         "hidden_now": now_hidden, "hidden_advised": adv_hidden})
    return {"target_risk": inputs.target, "mode": inputs.mode, "peak_multiplier": inputs.peak,
            "delay_quantile": inputs.quantile, "erp_mode": shop.mode, "window_days": shop.window_days,
            "deliveries": shop.deliveries, "products": products, "listings": rows,
            "sellable_units": sellable, "hidden_now": hidden_now, "hidden_advised": hidden_adv,
            "hidden_share_now": hidden_now / sellable if sellable else 0.0,
            "hidden_share_advised": hidden_adv / sellable if sellable else 0.0, "applied": None}


def _source(loads: list[ChannelLoad], code: str) -> str:
    return next((c.legs.source for c in loads if c.code == code), "default")


def _render_advice(report: dict[str, Any]) -> str:
    lines = [f"buffer advice: oversell risk per sell-out <= {report['target_risk']:g} "
             f"({report['mode'].replace('_', '-')} buffers, demand x{report['peak_multiplier']:g} from "
             f"{report['deliveries']} deliveries in {report['window_days']:g} days, delays at "
             f"p{report['delay_quantile'] * 100:g})",
             f"{'sku':<16} {'channel':<12} {'channel sku':<18} {'/day':>6} {'window':>8} "
             f"{'sellable':>8} {'buffer':>6} {'advised':>7} {'risk now':>9} {'advised':>9}"]
    for row in report["listings"]:
        lines.append(
            f"{row['sku'][:16]:<16} {row['channel'][:12]:<12} {row['channel_sku'][:18]:<18} "
            f"{row['orders_per_day']:>6.2f} {_secs(row['window_s']):>8} {row['sellable']:>8g} "
            f"{row['buffer_now']:>6} {row['buffer_advised']:>7} {_pct(row['risk_now']):>9} "
            f"{_pct(row['risk_advised']):>9}")
    lines.append(f"units hidden by buffers: now {report['hidden_now']:g} of {report['sellable_units']:g} sellable "
                 f"({report['hidden_share_now']:.2%}), advised {report['hidden_advised']:g} "
                 f"({report['hidden_share_advised']:.2%})")
    applied = report.get("applied")
    if applied is None:
        lines.append("nothing written (add --apply to write these buffers)")
    else:
        lines.extend(applied["lines"])
    return "\n".join(lines)


def _secs(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _pct(value: float) -> str:
    if value >= 0.001:
        return f"{value:.2%}"
    return f"{value:.1e}"


# -- apply ----------------------------------------------------------------------------------


def _changes(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in report["listings"] if row["buffer_advised"] != row["buffer_now"]]


def _apply(config: BridgeConfig, shop: Shop, report: dict[str, Any], client: Any) -> dict[str, Any]:
    if shop.mode != "addon":
        changes = _changes(report)
        lines = ["no addon: set these in the bridge config ([[channels.<code>.listings]] buffer_qty):"]
        lines += [f'channels.{row["channel"]} listing sku = "{row["sku"]}": buffer_qty = {row["buffer_advised"]}'
                  for row in changes] or ["(no change)"]
        return {"written": 0, "config_lines": lines[1:], "lines": lines}
    manager = _manager_erp(config)  # asked for even when nothing is to be written: say so now
    policies = _buffer_policies(client)
    changes, skipped = [], set()
    for row in report["listings"]:
        policy, low, high = policies.get(row["channel"], ("advised", 0.0, 0.0))
        # within the bounds the admin set on the channel
        row["buffer_applied"] = int(min(max(row["buffer_advised"], low), high or float("inf")))
        if row["buffer_applied"] == row["buffer_now"]:
            continue
        if policy != "advised":
            skipped.add(row["channel"])
        else:
            changes.append(row)
    note = ([f"not written: the buffer policy of {', '.join(sorted(skipped))} is fixed (set it to Advised on "
             "the channel to let advise --apply keep its buffers)"] if skipped else [])
    if not changes:
        return {"written": 0, "skipped_channels": sorted(skipped),
                "lines": note + ["every other buffer is already as advised: nothing written"]}
    from connector.erp.client import connect
    from connector.erp.errors import ErpError

    try:
        writer = connect(manager)
    except (ErpError, OSError) as exc:
        raise _ErpDown(f"--apply: cannot log in as {manager.username}: {exc}") from None
    by_value: dict[int, list[int]] = {}
    for row in changes:
        by_value.setdefault(int(row["buffer_applied"]), []).append(int(row["listing_id"]))
    try:
        for value, ids in sorted(by_value.items()):
            writer.call("marketplace.listing", "write", ids, {"buffer_override": True, "buffer_qty": float(value)})
    except ErpError as exc:
        raise _ErpDown(f"--apply: the ERP refused the write as {manager.username}: {exc}") from None
    finally:
        writer.close()
    written = sum(len(ids) for ids in by_value.values())
    return {"written": written, "skipped_channels": sorted(skipped),
            "lines": note + [f"wrote {written} listing buffer(s) as {manager.username} "
                             "(buffer override on each listing)"]}


def keep_advised_buffers(config: BridgeConfig) -> dict[str, Any]:
    """The running bridge's periodic job (`[risk] keep_advised_interval_s`): advise with the
    config's defaults and write the buffers of the channels whose policy is Advised, within
    the bounds the admin set on them, as the manager; Fixed channels are never written."""
    from connector.erp.client import connect
    from connector.risk.shop import read_shop

    risk = config.risk
    inputs = Inputs(config, risk.target_risk, risk.mode, risk.peak_multiplier, risk.dispersion,
                    risk.delay_quantile)
    client = connect(config.erp)
    try:
        shop = read_shop(client, config, datetime.now(UTC))
        if shop.mode != "addon":
            return {"written": 0, "lines": ["no addon: buffers live in the config file; nothing kept"]}
        if not any(p.sold_units > 0 for p in shop.products.values()):
            return {"written": 0, "lines": ["no sales history yet: buffers left as they are"]}
        report = _advice_report(inputs, shop, [])
        return _apply(config, shop, report, client)
    finally:
        client.close()


def _buffer_policies(client: Any) -> dict[str, tuple[str, float, float]]:
    """code -> (buffer_policy, advised_buffer_min, advised_buffer_max) from the addon; empty
    for an addon without buffer policies (then every channel is written, as asked)."""
    from connector.erp.errors import ErpError

    try:
        rows = client.call("marketplace.channel", "search_read", [],
                           ["code", "buffer_policy", "advised_buffer_min", "advised_buffer_max"])
    except ErpError:
        return {}
    return {str(r["code"]): (str(r.get("buffer_policy") or "fixed"), float(r.get("advised_buffer_min") or 0),
                             float(r.get("advised_buffer_max") or 0)) for r in rows}


def _manager_erp(config: BridgeConfig) -> ErpConfig:
    """The ERP config of a Marketplace manager: the bridge user may write only sync status."""
    risk = config.risk
    env = os.environ
    username = env.get(f"{ENV_PREFIX}RISK_MANAGER_USERNAME") or risk.manager_username
    password = env.get(f"{ENV_PREFIX}RISK_MANAGER_PASSWORD") or (
        risk.manager_password.get_secret_value() if risk.manager_password else None)
    api_key = env.get(f"{ENV_PREFIX}RISK_MANAGER_API_KEY") or (
        risk.manager_api_key.get_secret_value() if risk.manager_api_key else None)
    if not username or not (password or api_key):
        raise _Usage("--apply writes listing buffers, which the bridge user may not (it writes sync status "
                     "only): give a Marketplace manager's login as [risk] manager_username (or "
                     f"{ENV_PREFIX}RISK_MANAGER_USERNAME) and {ENV_PREFIX}RISK_MANAGER_PASSWORD or "
                     f"{ENV_PREFIX}RISK_MANAGER_API_KEY")
    from pydantic import SecretStr

    return config.erp.model_copy(update={
        "username": username, "password": SecretStr(password) if password else None,
        "api_key": SecretStr(api_key) if api_key else None})


# -- simulate -------------------------------------------------------------------------------


@dataclass
class Scenario:
    sku: str
    channels: list[SimChannel]
    loads: list[ChannelLoad]
    current: dict[str, int]
    advised: dict[str, int]
    lot_size: int


@_guarded
def simulate_command(args: argparse.Namespace) -> int:
    config = _config(args)
    inputs = _inputs(args, config)
    if args.orders < 1 or args.trials < 1:
        raise _Usage("--orders and --trials must be at least 1")
    if args.lot_size is not None and args.lot_size < 1:
        raise _Usage(f"--lot-size must be at least 1, got {args.lot_size}")
    if args.restock_hours < 0:
        raise _Usage(f"--restock-hours must be non-negative, got {args.restock_hours}")
    if args.fixed_buffer is not None and args.fixed_buffer < 0:
        raise _Usage(f"--fixed-buffer must be non-negative, got {args.fixed_buffer}")
    batch_minutes = config.risk.batch_minutes if args.batch_minutes is None else args.batch_minutes
    if not batch_minutes > 0:
        raise _Usage(f"--batch-minutes must be positive, got {batch_minutes}")
    rates = parse_rates(args.rate)
    if rates:
        scenarios = [_given_scenario(args, inputs, config, rates)]
    else:
        with _erp(args, config) as (client, live_config):
            shop = _read_shop(args, client, live_config, args.sku)
        scenarios = _shop_scenarios(args, inputs, shop)
    report = _run_policies(args, inputs, scenarios, batch_minutes * 60)
    if args.chart is not None:
        busiest = max(scenarios, key=lambda s: sum(c.rate_per_s for c in s.loads))
        args.chart.write_text(_chart(inputs, busiest))
        report["chart"] = str(args.chart)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_render_simulation(report))
    return EXIT_OK


simulate = simulate_command  # the name connector.cli routes to


def _given_scenario(args: argparse.Namespace, inputs: Inputs, config: BridgeConfig,
                    rates: dict[str, float]) -> Scenario:
    known = {code: ch.marketplace or "" for code, ch in config.channels.items()}
    _known(set(known), list(rates), "in --rate")
    _known(set(rates), args.channel, "(not in --rate)")
    loads = [ChannelLoad(code, rate / 86400 * inputs.peak, inputs.legs(code, known[code]))
             for code, rate in sorted(rates.items())]
    current = {code: int(config.channels[code].buffer_qty) for code in rates}
    return Scenario("given rates", _sim_channels(loads, known), loads, current, _advise(inputs, loads),
                    args.lot_size or config.risk.lot_size)


def _shop_scenarios(args: argparse.Namespace, inputs: Inputs, shop: Shop) -> list[Scenario]:
    out = []
    for product in sorted(shop.products.values(), key=lambda p: p.sku):
        if product.sold_units <= 0:
            continue
        loads = _loads(inputs, product, shop)
        lot = args.lot_size or max(1, int(max((item.pool for item in product.listings), default=0)))
        out.append(Scenario(product.sku, _sim_channels(loads, shop.channels), loads, _current(product),
                            _advise(inputs, loads), lot))
    return out


def _sim_channels(loads: list[ChannelLoad], marketplaces: Mapping[str, str]) -> list[SimChannel]:
    return [SimChannel(c.code, c.rate_per_s, c.legs, marketplaces.get(c.code, "")) for c in loads]


def _policies(args: argparse.Namespace, scenario: Scenario, batch_s: float) -> list[Policy]:
    codes = [c.code for c in scenario.channels]
    policies = [
        Policy.batch(batch_s, name=f"batch sync every {batch_s / 60:g} min"),
        Policy.batch(batch_s, scenario.current, name=f"batch every {batch_s / 60:g} min + current buffers"),
        Policy.event(name="this bridge, no buffers"),
        Policy.event(scenario.current, name="this bridge + current (fixed) buffers"),
        Policy.event(scenario.advised, name="this bridge + advised buffers"),
    ]
    if args.fixed_buffer is not None:
        policies.append(Policy.event({c: args.fixed_buffer for c in codes},
                                     name=f"this bridge + fixed buffer {args.fixed_buffer}"))
    return policies


def _run_policies(args: argparse.Namespace, inputs: Inputs, scenarios: list[Scenario],
                  batch_s: float) -> dict[str, Any]:
    """Per policy, over the shop: oversells from sell-out trials (rare events need them),
    lost sales and hidden units from a steady run; added up per day of demand."""
    total_rate = sum(sum(c.rate_per_s for c in s.channels) for s in scenarios)
    acc: dict[str, dict[str, Any]] = {}
    for index, scenario in enumerate(scenarios):
        rate = sum(c.rate_per_s for c in scenario.channels) * 86400  # orders per day
        orders = max(200, int(args.orders * rate / (total_rate * 86400)))
        for policy in _policies(args, scenario, batch_s):
            steady = run_simulation(scenario.channels, policy, lot_size=scenario.lot_size, orders=orders,
                                    restock_after_s=args.restock_hours * 3600, dispersion=inputs.dispersion,
                                    seed=args.seed + index)
            units = max([0, *policy.buffers.values()]) + 2
            trials = sellout_trials(scenario.channels, policy, units=units, trials=args.trials,
                                    dispersion=inputs.dispersion, seed=args.seed + index)
            # accepted orders per day (demand minus what the buffers and lags turned away)
            seen = steady.orders + steady.lost_sales
            accepted = rate * (steady.orders / seen if seen else 1.0)
            cycles = accepted / scenario.lot_size  # sell-outs per day
            row = acc.setdefault(policy.name, {"orders": 0.0, "oversold": 0.0, "lost": 0.0, "hidden": 0.0,
                                               "weight": 0.0, "held": 0, "stock": 0, "trials": 0, "with_oversell": 0, "channels": {}})
            row["orders"] += accepted
            row["oversold"] += cycles * trials.mean_oversold
            row["lost"] += rate - accepted
            row["hidden"] += steady.hidden_share * rate
            row["weight"] += rate
            row["held"] += sum(min(policy.buffers.get(c.code, 0), scenario.lot_size) for c in scenario.channels)
            row["stock"] += scenario.lot_size * len(scenario.channels)
            row["trials"] += trials.trials
            row["with_oversell"] += trials.with_oversell
            for channel in scenario.channels:
                share = channel.rate_per_s * 86400 / rate if rate else 0.0
                mine = row["channels"].setdefault(channel.code, {
                    "marketplace": channel.marketplace, "orders": 0.0, "oversold": 0.0,
                    "threshold": CANCEL_THRESHOLDS.get(channel.marketplace)})
                mine["orders"] += accepted * share
                mine["oversold"] += cycles * trials.by_channel.get(channel.code, 0) / max(1, trials.trials)
    rows = []
    for name, row in acc.items():
        channels = []
        for code, c in sorted(row["channels"].items()):
            cancel = c["oversold"] / c["orders"] if c["orders"] else 0.0
            channels.append({"channel": code, "marketplace": c["marketplace"], "orders_per_day": c["orders"],
                             "oversold_per_day": c["oversold"], "cancel_rate": cancel,
                             "threshold": c["threshold"],
                             "breaches_threshold": c["threshold"] is not None and cancel > c["threshold"]})
        rows.append({"policy": name, "orders_per_day": row["orders"], "oversold_per_day": row["oversold"],
                     "oversells_per_10k": 1e4 * row["oversold"] / row["orders"] if row["orders"] else 0.0,
                     "lost_sales_per_10k": 1e4 * row["lost"] / row["orders"] if row["orders"] else 0.0,
                     "hidden_share": row["hidden"] / row["weight"] if row["weight"] else 0.0,
                     "held_back_share": row["held"] / row["stock"] if row["stock"] else 0.0,
                     "sellout_trials": row["trials"], "sellouts_with_oversell": row["with_oversell"],
                     "channels": channels})
    return {"seed": args.seed, "peak_multiplier": inputs.peak, "dispersion": inputs.dispersion,
            "target_risk": inputs.target, "mode": inputs.mode, "products": [s.sku for s in scenarios],
            "delays": _delay_table(scenarios, inputs), "policies": rows}


def _delay_table(scenarios: list[Scenario], inputs: Inputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scenario in scenarios:
        for c in scenario.channels:
            out.setdefault(c.code, {
                "marketplace": c.marketplace, "source": c.legs.source,
                "detect_p50_p99_s": [c.legs.detect.p50, c.legs.detect.p99],
                "push_p50_p99_s": [c.legs.push.p50, c.legs.push.p99],
                "live_p50_p99_s": [c.legs.live.p50, c.legs.live.p99]})
    return out


def _render_simulation(report: dict[str, Any]) -> str:
    lines = [f"oversell simulation: {len(report['products'])} product(s), demand x{report['peak_multiplier']:g}, "
             f"seed {report['seed']}" + (f", dispersion {report['dispersion']:g}" if report["dispersion"] else ""),
             f"{'policy':<40} {'orders/day':>10} {'oversold/10k':>12} {'sell-outs':>13} {'lost/10k':>8} "
             f"{'hidden':>7} {'held':>6}  cancel rate over the marketplace's limit"]
    for row in report["policies"]:
        over = [f"{c['channel']} {c['cancel_rate']:.2%}>{c['threshold']:.1%}"
                for c in row["channels"] if c["breaches_threshold"]]
        trials = f"{row['sellouts_with_oversell']}/{row['sellout_trials']}"
        lines.append(f"{row['policy'][:40]:<40} {row['orders_per_day']:>10.1f} {row['oversells_per_10k']:>12.3f} "
                     f"{trials:>13} {row['lost_sales_per_10k']:>8.1f} {row['hidden_share']:>7.2%} "
                     f"{row['held_back_share']:>6.2%}  "
                     f"{', '.join(over) or '-'}")
    lines.append("oversold/10k: orders cancelled for want of stock per 10,000 orders; sell-outs: simulated "
                 "sell-outs with an oversell / all; lost/10k: orders turned away while the ERP had a unit; "
                 "hidden: demand-weighted share of the ERP's units a buyer could not see (time average); "
                 "held: buffer units / units in stock after a restock, over all listings")
    if "chart" in report:
        lines.append(f"chart: {report['chart']}")
    return "\n".join(lines)


def _chart(inputs: Inputs, scenario: Scenario) -> str:
    curves: dict[str, list[float]] = {}
    for load in scenario.loads:
        curves[load.code] = [channel_risks(scenario.loads, {load.code: b}, inputs.quantile,
                                           inputs.dispersion)[load.code] for b in range(CHART_MAX_BUFFER + 1)]
    uniform = [uniform_risk(scenario.loads, b, inputs.quantile, inputs.dispersion)
               for b in range(CHART_MAX_BUFFER + 1)]
    title = f"{scenario.sku} (demand x{inputs.peak:g})"
    return risk_chart(title, curves, scenario.advised, inputs.target, uniform)
