"""Exchange rates between CNY, HKD and USD.

The defaults are the rates the articles themselves imply (e.g. Biren's market value stated in both
HKD and USD gives USD per HKD); each is a derived dataset record, so its source is traceable. An
analyst overrides a rate with a spec such as ``"USD per HKD=0.1282"`` (0.1282 USD buys 1 HKD).
Rates are stored as one pair per currency linked to USD; every cross rate follows from them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gpuval.data.dataset import Dataset
from gpuval.data.schema import CURRENCIES, fx_pair
from gpuval.errors import GpuvalError

__all__ = ["FxRate", "FxRates"]

_SPEC = re.compile(r"^\s*(?P<unit>[A-Z]{3} per [A-Z]{3})\s*=\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class FxRate:
    """``value`` units of ``quote`` per one ``base``, and where the figure comes from."""

    quote: str
    base: str
    value: float
    label: str

    @property
    def unit(self) -> str:
        return f"{self.quote} per {self.base}"


class FxRates:
    """A consistent set of rates: ``rate(a, b)`` is units of ``b`` per one ``a``."""

    def __init__(self, rates: list[FxRate]) -> None:
        self.rates = rates
        self._usd_per = self._solve(rates)

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> FxRates:
        """The article-implied defaults named in the dataset's ``[fx]`` table."""
        rates = []
        for unit, record_id in dataset.fx_defaults.items():
            pair = fx_pair(unit)
            if pair is None:  # the loader refuses such a table
                raise GpuvalError(f"[fx] {unit!r} is not of the form 'USD per HKD'.")
            rec = dataset[record_id]
            label = f"article-implied default: {rec.id} = {rec.how} ({rec.source})"
            rates.append(FxRate(*pair, rec.number, label))
        return cls(rates)

    @staticmethod
    def _solve(rates: list[FxRate]) -> dict[str, float]:
        usd_per = {"USD": 1.0}
        pending = list(rates)
        while pending:
            progress = False
            for rate in list(pending):
                if rate.base in usd_per and rate.quote not in usd_per:
                    usd_per[rate.quote] = usd_per[rate.base] / rate.value
                elif rate.quote in usd_per and rate.base not in usd_per:
                    usd_per[rate.base] = usd_per[rate.quote] * rate.value
                elif rate.quote not in usd_per:
                    continue
                pending.remove(rate)
                progress = True
            if not progress:
                break
        missing = [c for c in CURRENCIES if c not in usd_per]
        if missing:
            raise GpuvalError(f"No exchange rate links {', '.join(missing)} to USD.")
        return usd_per

    def rate(self, from_ccy: str, to_ccy: str) -> float:
        """Units of ``to_ccy`` per one ``from_ccy``.

        Equation: rate(a, b) = usd_per(a) / usd_per(b).
        """
        for ccy in (from_ccy, to_ccy):
            if ccy not in self._usd_per:
                raise GpuvalError(f"Unknown currency {ccy!r}; use one of {', '.join(CURRENCIES)}.")
        return self._usd_per[from_ccy] / self._usd_per[to_ccy]

    def convert(self, amount: float, from_ccy: str, to_ccy: str) -> float:
        """``amount`` in ``from_ccy`` expressed in ``to_ccy``: amount x rate(from, to)."""
        return amount * self.rate(from_ccy, to_ccy)

    def with_override(self, spec: str) -> FxRates:
        """A copy with one rate replaced, e.g. ``"USD per HKD=0.1282"`` or ``"HKD per USD=7.8"``."""
        match = _SPEC.match(spec)
        pair = fx_pair(match["unit"]) if match else None
        if not match or not pair:
            raise GpuvalError(f"FX override {spec!r} is not of the form 'USD per HKD=0.1282'.")
        quote, base = pair
        if quote not in CURRENCIES or base not in CURRENCIES or quote == base:
            raise GpuvalError(f"FX override {spec!r} must name two of {', '.join(CURRENCIES)}.")
        try:
            value = float(match["value"])
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise GpuvalError(f"FX override {spec!r} needs a positive number after '='.")
        # Replace the default that links the same two currencies, or the one that links the
        # non-USD currency of the override to USD.
        linked = {quote, base}
        keep = [r for r in self.rates if {r.quote, r.base} != linked]
        if len(keep) == len(self.rates):
            other = (linked - {"USD"}).pop() if "USD" in linked else quote
            keep = [r for r in self.rates if other not in (r.quote, r.base)]
        return FxRates([*keep, FxRate(quote, base, value, "analyst override")])

    def table(self) -> list[dict[str, object]]:
        """Every cross rate, with the source of the rate it comes from."""
        rows = []
        for rate in self.rates:
            rows.append({"unit": rate.unit, "rate": rate.value, "label": rate.label})
        for a in CURRENCIES:
            for b in CURRENCIES:
                if a < b and not any({r.quote, r.base} == {a, b} for r in self.rates):
                    rows.append(
                        {"unit": f"{a} per {b}", "rate": self.rate(b, a), "label": "cross rate"}
                    )
        return rows
