"""The Python side of the workbook, typed: the values of its ``in_*`` and ``data_peers_*`` cells
(:class:`Inputs`), each stage's result, and every ``out_*`` quantity (:meth:`Model.outputs`).

``build`` fills it from the defaults it writes, ``evaluate``, ``check`` and ``refresh`` from the
cells they read; the stages call the core, whose equations the sheets write as formulas through
the core's ``*_xl`` builders. Amounts are USD (the model currency); ``None`` is the sheet's "n/a".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from gpuval import core
from gpuval.core.multiples import (
    DCF_BASE_ORDER,
    HEADLINE_ORDER,
    first_available,
    peer_market_value,
    ps_or_none,
)
from gpuval.core.peers import rerated_market_value
from gpuval.core.units import per_share_or_none, usd_per_unit
from gpuval.core.validate import positive

SCENARIOS = ("bear", "base", "bull")


@dataclass(frozen=True)
class PeerRow:
    """One company's raw row of the peer table (``data_peers_<field>``)."""

    id: str
    name: str
    venue: str
    listing_ccy: str
    reporting_ccy: str
    price: float | None = None
    shares: float | None = None
    market_value: float | None = None
    revenue_trailing: float | None = None
    revenue_h1: float | None = None
    revenue_forward: float | None = None
    backlog: float | None = None


PEER_FIELDS = tuple(f.name for f in fields(PeerRow))


@dataclass(frozen=True)
class Scenario:
    """One column (Bear, Base or Bull) of the scenario inputs (``in_<field>_<scenario>``)."""

    share: float
    margin: float
    exit_pe: float
    coe: float
    prob_success: float
    distress: float
    dilution: float
    prob: float


@dataclass(frozen=True)
class DcfAssumptions:
    """The young-growth DCF's inputs (``in_dcf_<field>``)."""

    growth_y1: float
    growth_y2_5: float
    high_growth_years: float
    terminal_growth: float
    operating_margin: float
    target_margin: float
    convergence_year: float
    sales_to_capital: float
    tax_rate: float
    nol: float
    coc: float
    mature_coc: float
    terminal_roc: float
    prob_failure: float
    distress: float
    search_low: float
    search_high: float
    cash: float
    debt: float


@dataclass(frozen=True)
class Inputs:
    """Every input of the model (``in_<field>``, except the grouped ones)."""

    target: str
    valuation_date: dt.date
    exit_date: dt.date
    fx_usd_per_hkd: float
    fx_cny_per_usd: float
    days_per_year: float
    tam_start_year: float
    tam_2024: float
    tam_end_year: float
    tam_2029: float
    backlog_months: float
    nvidia_market_cap: float
    nvidia_fraction: float
    gap_closed: float
    scenarios: dict[str, Scenario]
    dcf: DcfAssumptions
    peers: tuple[PeerRow, ...]

    @classmethod
    def from_names(cls, values: Mapping[str, Any]) -> Inputs:
        """From ``{defined name: value}`` as the workbook holds them (peer columns as lists)."""
        grouped = {"scenarios", "dcf", "peers"}
        plain = {f.name: values[f"in_{f.name}"] for f in fields(cls) if f.name not in grouped}
        scenarios = {
            s: Scenario(**{f.name: values[f"in_{f.name}_{s}"] for f in fields(Scenario)})
            for s in SCENARIOS
        }
        dcf = DcfAssumptions(**{f.name: values[f"in_dcf_{f.name}"] for f in fields(DcfAssumptions)})
        columns = [values[f"data_peers_{key}"] for key in PEER_FIELDS]
        peers = tuple(PeerRow(*row) for row in zip(*columns, strict=True))
        return cls(**plain, scenarios=scenarios, dcf=dcf, peers=peers)

    def names(self) -> dict[str, Any]:
        """The inverse of :meth:`from_names`."""
        out = {f"in_{k}": v for k, v in dataclasses.asdict(self).items()
               if k not in ("scenarios", "dcf", "peers")}  # fmt: skip
        for s, scenario in self.scenarios.items():
            out |= {f"in_{k}_{s}": v for k, v in dataclasses.asdict(scenario).items()}
        out |= {f"in_dcf_{k}": v for k, v in dataclasses.asdict(self.dcf).items()}
        for key in PEER_FIELDS:
            out[f"data_peers_{key}"] = [getattr(row, key) for row in self.peers]
        return out


def input_names() -> list[str]:
    """Every ``in_*`` name the model reads."""
    grouped = {"scenarios", "dcf", "peers"}
    names = [f"in_{f.name}" for f in fields(Inputs) if f.name not in grouped]
    names += [f"in_{f.name}_{s}" for f in fields(Scenario) for s in SCENARIOS]
    return names + [f"in_dcf_{f.name}" for f in fields(DcfAssumptions)]


# --- stage 1: the peer table ------------------------------------------------------------------


@dataclass(frozen=True)
class PeerLine:
    """One company's computed row: USD figures, P/S on each basis, the headline basis."""

    row: PeerRow
    usd_per_listing: float | None
    market_value: float | None
    revenue: dict[str, float | None]
    ps: dict[str, float | None]
    basis: str | None

    @property
    def headline_ps(self) -> float | None:
        return None if self.basis is None else self.ps[self.basis]

    @property
    def headline_revenue(self) -> float | None:
        return None if self.basis is None else self.revenue[self.basis]


@dataclass(frozen=True)
class Target:
    """The valued company's figures (``tgt_*`` on Peers)."""

    id: str
    venue: str
    fx: float
    """Listing-currency units per USD."""
    price: float
    """0 when the sources give no price."""
    shares: float
    """0 when the sources give no share count."""
    market_value: float
    base_revenue: float | None
    headline_revenue: float | None


@dataclass(frozen=True)
class PeersResult:
    lines: tuple[PeerLine, ...]
    target: Target
    stats: core.PeerStats | None
    venue_gap: float | None
    rerated_market_value: float | None


def usd_per(ccy: str, inputs: Inputs) -> float | None:
    """USD per unit of ``ccy`` from the FX inputs (None for a currency the model lacks)."""
    positive("in_fx_usd_per_hkd", inputs.fx_usd_per_hkd)  # named as the analyst sees them
    positive("in_fx_cny_per_usd", inputs.fx_cny_per_usd)
    return usd_per_unit(ccy, inputs.fx_usd_per_hkd, inputs.fx_cny_per_usd)


def _times(x: float | None, factor: float | None) -> float | None:
    return None if x is None or factor is None else x * factor


def peer_line(row: PeerRow, inputs: Inputs) -> PeerLine:
    fl, fr = usd_per(row.listing_ccy, inputs), usd_per(row.reporting_ccy, inputs)
    mv = None if fl is None else peer_market_value(row.price, row.shares, row.market_value, fl)
    revenue = {
        "trailing": _times(row.revenue_trailing, fr),
        "run_rate": _times(None if row.revenue_h1 is None
                           else float(core.run_rate_revenue(row.revenue_h1)), fr),
        "forward": _times(row.revenue_forward, fr),
        "backlog": _times(None if row.backlog is None
                          else float(core.backlog_revenue(row.backlog, inputs.backlog_months)), fr),
    }  # fmt: skip
    ps = {basis: ps_or_none(mv, rev) for basis, rev in revenue.items()}
    return PeerLine(row, fl, mv, revenue, ps, first_available(ps, HEADLINE_ORDER))


def peers_stage(inputs: Inputs) -> PeersResult:
    lines = tuple(peer_line(row, inputs) for row in inputs.peers)
    ids = [line.row.id for line in lines]
    if inputs.target not in ids:
        raise core.InputError(f"in_target {inputs.target!r} is not an id in the peer table.")
    t = lines[ids.index(inputs.target)]
    if t.market_value is None or t.usd_per_listing is None:
        raise core.InputError(f"in_target {inputs.target!r} has no market value in the peer table.")
    base = first_available(t.revenue, DCF_BASE_ORDER)
    target = Target(
        id=t.row.id, venue=t.row.venue, fx=1 / t.usd_per_listing,
        price=t.row.price or 0.0, shares=t.row.shares or 0.0, market_value=t.market_value,
        base_revenue=None if base is None else t.revenue[base],
        headline_revenue=t.headline_revenue,
    )  # fmt: skip
    others = {line.row.id: line.headline_ps for line in lines if line.row.id != target.id}
    stats = core.peer_stats(others) if any(v is not None for v in others.values()) else None

    def venue(v: str) -> dict[str, float | None]:
        return {line.row.id: line.headline_ps for line in lines if line.row.venue == v}

    a_share, hong_kong = venue("A"), venue("HK")
    has = all(any(x is not None for x in side.values()) for side in (a_share, hong_kong))
    gap = core.venue_gap(a_share, hong_kong) if has else None
    rerated = (
        None if gap is None
        else rerated_market_value(target.venue, target.market_value, gap, inputs.gap_closed)
    )  # fmt: skip
    return PeersResult(lines, target, stats, gap, rerated)


# --- stages 2-5: scenarios, DCF, market-implied figures, "x% of NVIDIA" ------------------------


@dataclass(frozen=True)
class ScenariosResult:
    tam: float
    """The market in the exit year (USD)."""
    years: float
    """Valuation date to exit date, in years of ``in_days_per_year`` days."""
    scenarios: dict[str, core.TamScenario]
    weighted_value: float


def scenario_years(inputs: Inputs) -> float:
    """``(exit date - valuation date) / days per year``, as the sheet computes it."""
    actual = core.year_fraction(inputs.valuation_date, inputs.exit_date) * 365.25
    return actual / inputs.days_per_year


def scenario_arguments(inputs: Inputs, target: Target, s: str, tam: float, years: float
                       ) -> dict[str, Any]:  # fmt: skip
    """The core's :func:`~gpuval.core.tam_scenario` arguments for scenario ``s`` but ``share``."""
    x = inputs.scenarios[s]
    return {
        "tam": tam, "margin": x.margin, "exit_multiple": x.exit_pe, "cost_of_equity": x.coe,
        "years": years, "shares_outstanding": target.shares if target.shares > 0 else 1.0,
        "prob_success": x.prob_success, "distress_value": x.distress * target.market_value,
        "dilution": x.dilution, "fx": target.fx,
    }  # fmt: skip


def scenarios_stage(inputs: Inputs, target: Target) -> ScenariosResult:
    years = scenario_years(inputs)
    tam = float(core.tam_at(inputs.exit_date.year, inputs.tam_2024, inputs.tam_2029,
                            inputs.tam_start_year, inputs.tam_end_year))  # fmt: skip
    results = {
        s: core.tam_scenario(inputs.scenarios[s].share,
                             **scenario_arguments(inputs, target, s, tam, years))
        for s in SCENARIOS
    }  # fmt: skip
    weighted = core.probability_weighted(
        [results[s].value for s in SCENARIOS], [inputs.scenarios[s].prob for s in SCENARIOS]
    )
    return ScenariosResult(tam, years, results, float(weighted))


def dcf_arguments(inputs: Inputs, target: Target) -> dict[str, Any]:
    """The core's :func:`~gpuval.core.young_growth_dcf` arguments from the model."""
    d = inputs.dcf
    return {
        "revenue": target.base_revenue, "growth_y1": d.growth_y1, "growth_y2_5": d.growth_y2_5,
        "high_growth_years": d.high_growth_years, "terminal_growth": d.terminal_growth,
        "operating_margin": d.operating_margin, "target_margin": d.target_margin,
        "margin_convergence_year": d.convergence_year, "sales_to_capital": d.sales_to_capital,
        "tax_rate": d.tax_rate, "nol": d.nol, "cost_of_capital": d.coc,
        "mature_cost_of_capital": d.mature_coc, "terminal_roc": d.terminal_roc,
        "prob_failure": d.prob_failure, "distress_proceeds": d.distress * target.market_value,
        "cash": d.cash, "debt": d.debt,
        "shares_outstanding": target.shares if target.shares > 0 else 1.0, "fx": target.fx,
    }  # fmt: skip


def implied_shares(inputs: Inputs, target: Target, sc: ScenariosResult) -> dict[str, float | None]:
    """Share of the exit-year market that today's market value implies, per scenario: the value
    is affine in share, so ``(market value - value(0)) / (value(1) - value(0))``; None when the
    value does not rise with share."""
    shares: dict[str, float | None] = {}
    for s in SCENARIOS:
        args = scenario_arguments(inputs, target, s, sc.tam, sc.years) | {"shares_outstanding": 1.0}
        v0 = float(core.tam_scenario(0.0, **args).value)
        slope = float(core.tam_scenario(1.0, **args).value) - v0
        shares[s] = (target.market_value - v0) / slope if slope > 0 else None
    return shares


def implied_growth(inputs: Inputs, target: Target) -> float | None:
    """Years 2-5 growth at which the DCF's equity value equals today's market value."""
    args = dcf_arguments(inputs, target) | {"fx": 1.0}
    args.pop("growth_y2_5")
    lo, hi = inputs.dcf.search_low, inputs.dcf.search_high
    try:
        return float(core.implied_growth(target.market_value, lo=lo, hi=hi, **args))
    except core.InputError:
        return None


@dataclass(frozen=True)
class Model:
    """Every stage's result, computed once from :class:`Inputs`."""

    inputs: Inputs
    peers: PeersResult
    scenarios: ScenariosResult
    dcf: core.DcfResult
    implied_share: dict[str, float | None]
    implied_growth: float | None
    nvidia_value: float

    @property
    def target(self) -> Target:
        return self.peers.target

    def per_share(self, value: float | None) -> float | None:
        """The per-share rule of every sheet (None without a share count)."""
        t = self.target
        return None if value is None else per_share_or_none(value, t.shares, t.fx)

    def upside(self, value: float) -> float:
        return float(core.upside(value, self.target.market_value))

    def outputs(self) -> dict[str, float | None]:
        """Every ``out_*`` quantity, by name."""
        p, sc, t = self.peers, self.scenarios, self.target
        median = None if p.stats is None or t.headline_revenue is None else (
            p.stats.median * t.headline_revenue)  # fmt: skip
        target_line = next(line for line in p.lines if line.row.id == t.id)
        out: dict[str, float | None] = {
            "out_backlog_forward_ps": target_line.ps["backlog"],
            "out_peer_median_implied_value": self.per_share(median),
            "out_venue_gap": p.venue_gap,
            "out_gap_value_per_share": self.per_share(p.rerated_market_value),
            "out_equity_value_weighted": sc.weighted_value,
            "out_value_per_share_weighted": self.per_share(sc.weighted_value),
            "out_upside_weighted": self.upside(sc.weighted_value),
            "out_dcf_equity_value": float(self.dcf.equity_value),
            "out_dcf_value_per_share": self.per_share(float(self.dcf.equity_value)),
            "out_dcf_upside": self.upside(float(self.dcf.equity_value)),
            "out_implied_growth": self.implied_growth,
            "out_nvidia_share_equity_value": self.nvidia_value,
            "out_nvidia_share_value": self.per_share(self.nvidia_value),
            "out_implied_nvidia_fraction": float(
                core.implied_fraction_of_nvidia(t.market_value, self.inputs.nvidia_market_cap)
            ),
        }
        for s in SCENARIOS:
            value = float(sc.scenarios[s].value)
            out[f"out_value_per_share_{s}"] = self.per_share(value)
            out[f"out_upside_{s}"] = self.upside(value)
            out["out_implied_share" + ("" if s == "base" else f"_{s}")] = self.implied_share[s]
        return {k: _finite(v) for k, v in out.items()}


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def run(inputs: Inputs) -> Model:
    """Every stage, in order (raises :class:`~gpuval.core.InputError` on inputs the core
    refuses)."""
    peers = peers_stage(inputs)
    target = peers.target
    scenarios = scenarios_stage(inputs, target)
    return Model(
        inputs=inputs,
        peers=peers,
        scenarios=scenarios,
        dcf=core.young_growth_dcf(**dcf_arguments(inputs, target)),
        implied_share=implied_shares(inputs, target, scenarios),
        implied_growth=implied_growth(inputs, target),
        nvidia_value=float(
            core.fraction_of_nvidia_value(inputs.nvidia_fraction, inputs.nvidia_market_cap)
        ),
    )


def run_names(values: Mapping[str, Any]) -> Model:
    """:func:`run` on ``{defined name: value}``."""
    return run(Inputs.from_names(values))
