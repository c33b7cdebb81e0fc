"""The Python side of the workbook, typed: the values of its ``in_*`` and ``data_peers_*`` cells
(:class:`Inputs`), each stage's result, and every ``out_*`` quantity (:meth:`Model.outputs`).

``build`` fills it from the defaults it writes, ``evaluate``, ``check`` and ``refresh`` from the
cells they read; the stages call the core, whose equations the sheets write as formulas through
the core's ``*_xl`` builders. Amounts are USD (the model currency); ``None`` is the sheet's "n/a".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from gpuval import core
from gpuval.core.multiples import (
    DCF_BASE_ORDER,
    basis_key,
    first_available,
    fiscal_year_counts,
    peer_market_value,
    ps_or_none,
)
from gpuval.core.peers import rerated_market_value
from gpuval.core.units import per_share_or_none, usd_per_unit
from gpuval.core.validate import positive

SCENARIOS = ("bear", "base", "bull")


@dataclass(frozen=True)
class PeerRow:
    """One company's raw row of the peer table (``data_peers_<field>``; the label columns are
    display only)."""

    id: str
    name: str
    venue: str
    listing_ccy: str
    reporting_ccy: str
    in_stats: str
    """ "yes" when the company may count in the China peer statistics and the venue gap (in any
    case, as Excel's ``="yes"`` compares: :attr:`in_china_stats`; whether it does:
    :func:`counted_lines`)."""
    price: float | None = None
    shares: float | None = None
    market_value: float | None = None
    revenue_fy: float | None = None
    fy_year: float | None = None
    revenue_h1: float | None = None
    revenue_forward: float | None = None
    backlog: float | None = None
    backlog_months: float | None = None

    @property
    def in_china_stats(self) -> bool:
        """``In China statistics`` says yes (in any case, as the sheet's ``="yes"``)."""
        return isinstance(self.in_stats, str) and self.in_stats.lower() == "yes"


PEER_FIELDS = tuple(f.name for f in fields(PeerRow))
PEER_NUMBERS = frozenset(f.name for f in fields(PeerRow) if f.type == "float | None")
"""The peer row's figures: text in one is no figure, as the sheet's ISNUMBER reads it (a reader
that must refuse text, :mod:`gpuval.workbook.evaluate`, names the cell first)."""


def _number(value: Any) -> Any:
    return None if isinstance(value, str) else value


CHINA_VENUES = ("A", "HK")
"""The venues of China's AI-chip companies, the A-share market and Hong Kong: a target listed
elsewhere (NVIDIA) is no China peer (:attr:`Target.comparable`)."""


def listed_in_china(row: PeerRow) -> bool:
    """Listed on a China venue (:data:`CHINA_VENUES`, in any case as the sheet compares)."""
    return str(row.venue or "").upper() in CHINA_VENUES


NO_ASSUMPTIONS = (
    "has no column on the Assumptions sheet, so its scenarios and DCF cannot be valued: pick a "
    "company from the Target list on Inputs."
)
"""Why a target typed into the peer table cannot be valued (after its id; the sheet says it too)."""


@dataclass(frozen=True)
class Scenario:
    """One column (Bear, Base or Bull) of the scenario inputs (``in_<field>_<scenario>``)."""

    share: float
    margin: float
    exit_pe: float
    coe: float
    prob_success: float
    fail_fraction: float
    dilution: float
    prob: float


@dataclass(frozen=True)
class DcfAssumptions:
    """The young-growth DCF's inputs (``in_dcf_<field>``, the target's column)."""

    bridge_years: float
    bridge_growth: float
    growth_y1: float
    growth_y2_5: float
    high_growth_years: float
    terminal_growth: float
    operating_margin: float
    target_margin: float
    convergence_year: float
    sales_to_capital: float
    tax_rate: float
    marginal_tax_rate: float
    nol: float
    coc: float
    mature_coc: float
    terminal_roc: float
    prob_failure: float
    distress: float
    cash: float
    ipo_proceeds: float
    debt: float


YARDSTICK = "nvidia"
"""The peer table's id of the yardstick "x% of NVIDIA" reads by default."""


@dataclass(frozen=True)
class Inputs:
    """Every input of the model (``in_<field>``, except the grouped ones). ``scenarios`` and
    ``dcf`` are the target's own assumptions, picked from its column of the Assumptions sheet
    (whose per-company rows are the names :func:`company_input_names` lists)."""

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
    peer_basis: str
    peer_years: str
    peer_min_count: float
    nvidia_value_basis: str
    nvidia_market_cap: float
    nvidia_fraction: float
    gap_closed: float
    dcf_search_low: float
    dcf_search_high: float
    scenarios: dict[str, Scenario]
    dcf: DcfAssumptions
    peers: tuple[PeerRow, ...]

    @classmethod
    def from_names(cls, values: Mapping[str, Any]) -> Inputs:
        """From ``{defined name: value}`` as the workbook holds them (peer columns and the
        per-company rows as lists)."""
        grouped = {"scenarios", "dcf", "peers"}
        plain = {f.name: values[f"in_{f.name}"] for f in fields(cls) if f.name not in grouped}
        ids = list(values["data_assumption_ids"])
        if plain["target"] not in values["data_peers_id"]:
            raise core.InputError(f"in_target {plain['target']!r} is not an id in the peer table.")
        if plain["target"] not in ids:
            raise core.InputError(f"in_target {plain['target']!r} {NO_ASSUMPTIONS}")
        i = ids.index(plain["target"])

        def own(name: str) -> Any:
            value = values[name][i]
            if value is None:
                raise core.InputError(f"{name} is empty for {plain['target']} (Assumptions).")
            return value

        scenarios = {
            s: Scenario(**{f.name: own(f"in_{f.name}_{s}") for f in fields(Scenario)})
            for s in SCENARIOS
        }
        dcf = DcfAssumptions(**{f.name: own(f"in_dcf_{f.name}") for f in fields(DcfAssumptions)})
        columns = [[_number(v) if key in PEER_NUMBERS else v for v in values[f"data_peers_{key}"]]
                   for key in PEER_FIELDS]  # fmt: skip
        peers = tuple(PeerRow(*row) for row in zip(*columns, strict=True))
        return cls(**plain, scenarios=scenarios, dcf=dcf, peers=peers)


def company_input_names() -> list[str]:
    """Every per-company ``in_*`` name (a row of the Assumptions sheet, one cell per company)."""
    names = [f"in_{f.name}_{s}" for f in fields(Scenario) for s in SCENARIOS]
    return names + [f"in_dcf_{f.name}" for f in fields(DcfAssumptions)]


def input_names() -> list[str]:
    """Every ``in_*`` name the model reads."""
    grouped = {"scenarios", "dcf", "peers"}
    names = [f"in_{f.name}" for f in fields(Inputs) if f.name not in grouped]
    return names + company_input_names()


# --- stage 1: the peer table ------------------------------------------------------------------


@dataclass(frozen=True)
class PeerLine:
    """One company's computed row: USD figures, P/S on each basis and on the chosen one."""

    row: PeerRow
    usd_per_listing: float | None
    market_value: float | None
    revenue: dict[str, float | None]
    ps: dict[str, float | None]
    basis: str
    """The chosen basis key (:data:`~gpuval.core.multiples.PEER_BASES`)."""

    @property
    def basis_ps(self) -> float | None:
        return self.ps[self.basis]

    @property
    def basis_revenue(self) -> float | None:
        return self.revenue[self.basis]

    @property
    def eligible(self) -> bool:
        """Included in the China statistics, with a P/S on the basis (counted when also of the
        fiscal year ``in_peer_years`` asks for: :func:`counted_lines`)."""
        return self.row.in_china_stats and self.basis_ps is not None


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
    basis_revenue: float | None
    comparable: bool
    """Listed on a China venue (A-share or Hong Kong): the China peers' P/S and the TAM
    scenarios apply to it (not to NVIDIA: "not comparable" on Peer statistics)."""


@dataclass(frozen=True)
class PeersResult:
    lines: tuple[PeerLine, ...]
    target: Target
    stats: core.PeerStats | None
    venue_gap: float | None
    rerated_market_value: float | None
    min_count: float
    """``in_peer_min_count``: the fewest peers the implied values need."""

    @property
    def median_equity(self) -> float | None:
        """The target's equity (USD) at the peers' median P/S (:meth:`implied_equity`)."""
        return None if self.stats is None else self.implied_equity(self.stats.median)

    def implied_equity(self, multiple: float | None) -> float | None:
        """``equity (USD) = peer P/S x the target's revenue on the chosen basis``; None without
        either, with fewer peers than :attr:`min_count`, or for a target the China peers are not
        comparable with."""
        t, n = self.target, 0 if self.stats is None else self.stats.count
        if multiple is None or t.basis_revenue is None or not t.comparable or n < self.min_count:
            return None
        return multiple * t.basis_revenue


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
    backlog = None if row.backlog is None or row.backlog_months is None else float(
        core.backlog_revenue(row.backlog, row.backlog_months))  # fmt: skip
    revenue = {
        "full_year": _times(row.revenue_fy, fr),
        "run_rate": _times(None if row.revenue_h1 is None
                           else float(core.run_rate_revenue(row.revenue_h1)), fr),
        "forward": _times(row.revenue_forward, fr),
        "backlog": _times(backlog, fr),
    }  # fmt: skip
    ps = {basis: ps_or_none(mv, rev) for basis, rev in revenue.items()}
    return PeerLine(row, fl, mv, revenue, ps, basis_key(inputs.peer_basis))


def counted_lines(lines: Sequence[PeerLine], inputs: Inputs) -> list[PeerLine]:
    """The lines counted in the China statistics and the venue gap (the target's among them):
    :attr:`PeerLine.eligible`, and of the fiscal year ``in_peer_years`` asks for, the target's
    being that of its full-year revenue (``tgt_base_year``)."""
    t = next((line for line in lines if line.row.id == inputs.target), None)
    year = None if t is None or t.revenue["full_year"] is None else t.row.fy_year
    return [line for line in lines if line.eligible and fiscal_year_counts(
        inputs.peer_basis, inputs.peer_years, line.row.fy_year, year)]  # fmt: skip


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
        base_revenue=None if base is None else t.revenue[base], basis_revenue=t.basis_revenue,
        comparable=listed_in_china(t.row),
    )  # fmt: skip
    counted = counted_lines(lines, inputs)
    others = {line.row.id: line.basis_ps for line in counted if line.row.id != target.id}
    stats = core.peer_stats(others) if others else None

    def venue(v: str) -> dict[str, float | None]:
        return {line.row.id: line.basis_ps for line in counted if line.row.venue == v}

    a_share, hong_kong = venue("A"), venue("HK")
    gap = core.venue_gap(a_share, hong_kong) if a_share and hong_kong else None
    rerated = (
        None if gap is None
        else rerated_market_value(target.venue, target.market_value, gap, inputs.gap_closed)
    )  # fmt: skip
    count = inputs.peer_min_count
    if not (isinstance(count, int | float) and count >= 1 and float(count).is_integer()):
        raise core.InputError(f"in_peer_min_count must be a whole number of at least 1, got "
                              f"{count!r}.")  # fmt: skip
    return PeersResult(lines, target, stats, gap, rerated, count)


def nvidia_market_value(inputs: Inputs, peers: PeersResult) -> float | None:
    """NVIDIA's market value for "x% of NVIDIA": the peer table's (default) or the peak input."""
    if inputs.nvidia_value_basis == "peak":
        return inputs.nvidia_market_cap
    if inputs.nvidia_value_basis != "peer table":
        raise core.InputError(
            "in_nvidia_value_basis must be 'peer table' or 'peak'; "
            f"got {inputs.nvidia_value_basis!r}."
        )
    line = next((x for x in peers.lines if x.row.id == YARDSTICK), None)
    return None if line is None else line.market_value


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
        "prob_success": x.prob_success, "distress_fraction": x.fail_fraction,
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
        "marginal_tax_rate": d.marginal_tax_rate, "bridge_years": d.bridge_years,
        "bridge_growth": d.bridge_growth, "prob_failure": d.prob_failure,
        "distress_fraction": d.distress, "cash": d.cash, "ipo_proceeds": d.ipo_proceeds,
        "debt": d.debt,
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
    """Growth from year 2 to the end of high growth at which the DCF's equity value equals
    today's market value."""
    args = dcf_arguments(inputs, target) | {"fx": 1.0}
    args.pop("growth_y2_5")
    lo, hi = inputs.dcf_search_low, inputs.dcf_search_high
    if target.base_revenue is None:
        return None
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
    dcf: core.DcfResult | None
    """None when the target has no base revenue (a check on Peers says so)."""
    implied_share: dict[str, float | None]
    implied_growth: float | None
    nvidia_market_value: float | None
    nvidia_value: float | None

    @property
    def target(self) -> Target:
        return self.peers.target

    def per_share(self, value: float | None) -> float | None:
        """The per-share rule of every sheet (None without a share count)."""
        t = self.target
        return None if value is None else per_share_or_none(value, t.shares, t.fx)

    def upside(self, value: float | None) -> float | None:
        return None if value is None else float(core.upside(value, self.target.market_value))

    def outputs(self) -> dict[str, float | None]:
        """Every ``out_*`` quantity, by name."""
        p, sc, t = self.peers, self.scenarios, self.target
        median = p.median_equity
        target_line = next(line for line in p.lines if line.row.id == t.id)
        dcf = None if self.dcf is None else float(self.dcf.equity_value)
        nv = self.nvidia_market_value
        out: dict[str, float | None] = {
            "out_backlog_forward_ps": target_line.ps["backlog"],
            "out_peer_median_implied_value": self.per_share(median),
            "out_venue_gap": p.venue_gap,
            "out_gap_value_per_share": self.per_share(p.rerated_market_value),
            "out_equity_value_weighted": sc.weighted_value,
            "out_value_per_share_weighted": self.per_share(sc.weighted_value),
            "out_upside_weighted": self.upside(sc.weighted_value),
            "out_dcf_equity_value": dcf,
            "out_dcf_value_per_share": self.per_share(dcf),
            "out_dcf_upside": self.upside(dcf),
            "out_implied_growth": self.implied_growth,
            "out_nvidia_share_equity_value": self.nvidia_value,
            "out_nvidia_share_value": self.per_share(self.nvidia_value),
            "out_implied_nvidia_fraction": None
            if nv is None
            else float(core.implied_fraction_of_nvidia(t.market_value, nv)),
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
    nv = nvidia_market_value(inputs, peers)
    return Model(
        inputs=inputs,
        peers=peers,
        scenarios=scenarios,
        dcf=None
        if target.base_revenue is None
        else core.young_growth_dcf(**dcf_arguments(inputs, target)),
        implied_share=implied_shares(inputs, target, scenarios),
        implied_growth=implied_growth(inputs, target),
        nvidia_market_value=nv,
        nvidia_value=None  # NVIDIA as the target: a fraction of itself says nothing
        if nv is None or target.id == YARDSTICK
        else float(core.fraction_of_nvidia_value(inputs.nvidia_fraction, nv)),
    )


def run_names(values: Mapping[str, Any], *, bounded: bool = True) -> Model:
    """:func:`run` on ``{defined name: value}``; ``bounded``: refusing a general input outside
    the bounds the Inputs sheet validates, as an analyst's workbook is read (a day count of 0
    would divide by it). A build is not bounded: the sheet flags a dataset figure outside them."""
    from gpuval.workbook.sheets.inputs import out_of_bounds

    refused = out_of_bounds(values) if bounded else None
    if refused is not None:
        raise core.InputError(refused + ".")
    return run(Inputs.from_names(values))
