"""The `[risk]` section of the bridge config: what `advise` and `simulate` start from.

Every key has a default, so a config without `[risk]` works. Delays are `"P50:P99"` in
seconds (or one number for a constant); a channel's legs not given here come from
connector.risk.delays' defaults (the benchmark and the marketplaces' estimates).

```toml
[risk]
target_risk = 0.001          # oversell chance per sell-out that `advise` aims at
mode = "per_channel"         # or "uniform": one buffer on every channel of a product
window_days = 28             # sales history read from the ERP
peak_multiplier = 1.0        # e.g. 20 before a flash sale
manager_username = "admin"   # only `advise --apply` with the addon (secret: env)
keep_advised_interval_s = 21600  # the running bridge re-advises Advised channels every 6 h

[risk.channels.amazon_de]
origin_prefixes = ["AMZ-"]   # a done delivery whose source document starts so is Amazon's
share = 0.4                  # of the deliveries no rule names
detect = "30:60"             # order -> ERP (Amazon getOrders is polled once a minute)
live = "180:900"             # accepted -> buyers see it
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connector.risk.delays import parse_delay


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _delay(value: str | float | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    parse_delay(text)  # ValueError names what is wrong
    return text


class RiskChannelSettings(_Strict):
    origin_prefixes: list[str] = Field(default_factory=list)
    sales_team: str | None = None
    share: float | None = Field(default=None, ge=0)
    detect: str | None = None
    push: str | None = None
    live: str | None = None

    _delays = field_validator("detect", "push", "live", mode="before")(_delay)


class RiskSettings(_Strict):
    target_risk: float = Field(default=0.001, gt=0, lt=1)
    mode: Literal["per_channel", "uniform"] = "per_channel"
    delay_quantile: float = Field(default=0.95, gt=0, lt=1)
    dispersion: float = Field(default=0.0, ge=0)
    window_days: float = Field(default=28.0, gt=0)
    peak_multiplier: float = Field(default=1.0, gt=0)
    read_sales_teams: bool = False  # needs the sales app (sale.order.team_id)
    lot_size: int = Field(default=20, ge=1)  # the simulator's restock lot
    batch_minutes: float = Field(default=15.0, gt=0)  # the batch tool it compares with
    manager_username: str | None = None
    manager_password: SecretStr | None = None  # better: STOCK_BRIDGE_RISK_MANAGER_PASSWORD
    manager_api_key: SecretStr | None = None  # or STOCK_BRIDGE_RISK_MANAGER_API_KEY
    # > 0: the running bridge keeps the buffers of channels whose buffer policy is Advised
    # up to date at this interval (as `advise --apply` does; needs the manager's login)
    keep_advised_interval_s: float = Field(default=0.0, ge=0)
    channels: dict[str, RiskChannelSettings] = Field(default_factory=dict)
