"""Young-growth DCF, in the manner of Damodaran's models for money-losing growth firms.

Ten valued years (``t = 1..10``), a terminal year (``t = 11``) and a failure probability. The
year-``t`` rules and their Excel builders live in :mod:`gpuval.core.dcf_rules`.

* Base year and bridge: ``revenue`` is the latest reported full fiscal year (the base year).
  ``bridge_years`` (0..3) whole fiscal years lie between it and the first valued year (base
  FY2024 valued in January 2026: one, FY2025); ``revenue_0 = revenue x (1 + bridge_growth) ^
  bridge_years`` (the bridge revenue). The bridge years' cash flows are not valued: by the
  valuation date they are history, already in ``cash`` (and ``nol``, ``debt``).
* Revenue growth: ``g_1 = growth_y1``; ``g_t = growth_y2_5`` for ``t = 2..H`` (``H =
  high_growth_years``, default 5); then a linear fade ``g_t = growth_y2_5 - (growth_y2_5 -
  terminal_growth) x (t - H) / (10 - H)`` for ``t = H+1..10``, so ``g_10 = terminal_growth``.
  ``revenue_t = revenue_{t-1} x (1 + g_t)``.
* Operating margin converges linearly from the base year's ``operating_margin`` to
  ``target_margin`` by year ``N = margin_convergence_year``:
  ``margin_t = target_margin - (target_margin - operating_margin) x max(N - t, 0) / N``.
* ``ebit_t = margin_t x revenue_t``.
* Tax rate: ``tax_t = tax_rate`` (effective) for ``t = 1..H``, then linear to
  ``marginal_tax_rate`` by year 10, ``tax_t = tax_rate + (marginal - tax_rate) x (t - H) / (10 -
  H)``; the terminal year pays the marginal rate (as in Damodaran's ginzu sheets).
  ``marginal_tax_rate`` defaults to ``tax_rate`` (one flat rate).
* Taxes with net-operating-loss carry-forward (``nol_0 = nol``): a loss adds to the NOL and pays
  no tax; a profit first uses the NOL,
  ``used_t = min(max(ebit_t, 0), nol_{t-1})``, ``taxes_t = (max(ebit_t, 0) - used_t) x tax_t``,
  ``nol_t = nol_{t-1} - used_t + max(-ebit_t, 0)``. ``after_tax_ebit_t = ebit_t - taxes_t``.
* ``reinvestment_t = (revenue_t - revenue_{t-1}) / sales_to_capital`` (year 1 from the bridge
  revenue); ``fcff_t = after_tax_ebit_t - reinvestment_t``.
* Cost of capital: ``r_t = cost_of_capital`` for ``t = 1..H``, then linear to the mature rate,
  ``r_t = cost_of_capital - (cost_of_capital - mature_cost_of_capital) x (t - H) / (10 - H)``.
  End-of-year flows, cumulative discount factor ``DF_t = 1 / prod_{k<=t} (1 + r_k)`` (with a flat
  rate this is Excel's ``NPV``, which treats its first value as a year-1 flow).
* Terminal year: ``revenue_11 = revenue_10 x (1 + terminal_growth)``, ``ebit_11 = target_margin x
  revenue_11``, taxed in full at ``marginal_tax_rate`` (any NOL left after year 10 is ignored, as
  in Damodaran's sheets); reinvestment ``= terminal_growth / terminal_roc x after_tax_ebit_11``;
  ``terminal_value = fcff_11 / (mature_cost_of_capital - terminal_growth)``, discounted by
  ``DF_10``. ``terminal_roc`` defaults to the mature cost of capital (no excess returns).
* ``going_concern = sum_t fcff_t DF_t + terminal_value x DF_10``;
  ``distress_value = distress_proceeds + distress_fraction x going_concern`` (an amount, or a
  fraction of the going-concern value, Damodaran's "distress proceeds as % of fair value"; at
  most one of the two is non-zero);
  ``operating_assets = (1 - prob_failure) x going_concern + prob_failure x distress_value``;
  ``equity_value = operating_assets + cash + ipo_proceeds + non_operating_assets - debt -
  minority_interests``; ``value_per_share = equity_value x fx / shares_outstanding``.

Amounts are in the model currency; ``fx`` converts to the listing currency (listing units per
model unit). Rates are annual decimals.

Checked against Damodaran's published Twitter IPO valuation (October 2013,
``TwitterIPOvaluation.xls``): same going-concern value to 1e-9; his $17.16 a share is ours less
the value of employee options (which this core does not price; ``debt`` can carry it). See
``tests/core/test_dcf_reference.py`` for the inputs and the conventions table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuval.core.dcf_rules import (
    HIGH_GROWTH_YEARS,
    MAX_BRIDGE_YEARS,
    YEARS,
    _bridge_revenue,
    _coc_path,
    _distress,
    _equity,
    _growth_path,
    _margin_path,
    _operating_assets,
    _tax_rate_path,
    _tax_t,
    _terminal,
    fiscal_years,
    one_failure_value,
    whole_years,
)
from gpuval.core.validate import (
    ArrayLike,
    FloatOrArray,
    all_float,
    at_most,
    between,
    broadcast_shape,
    fraction,
    less_than,
    nonnegative,
    out,
    positive,
    rate,
)

__all__ = [
    "HIGH_GROWTH_YEARS",
    "MAX_BRIDGE_YEARS",
    "YEARS",
    "DcfResult",
    "bridge_revenue",
    "cost_of_capital_path",
    "dcf_equity_value",
    "dcf_totals",
    "dcf_value_per_share",
    "fiscal_years",
    "growth_path",
    "margin_path",
    "tax_rate_path",
    "young_growth_dcf",
]


def _stack(values: list[Any], shape: tuple[int, ...] = ()) -> np.ndarray:
    """Stack per-year values along a new last axis, broadcast to ``shape + (years,)``."""
    if not shape:  # scalar inputs: the values are floats
        return np.array(values, dtype=float)
    arrays = [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values]
    return np.stack(np.broadcast_arrays(*arrays), axis=-1)


def _convergence_year(value: Any) -> int:
    return whole_years("margin_convergence_year", value, 1, YEARS)


def _high_growth_years(value: Any) -> int:
    return whole_years("high_growth_years", value, 1, YEARS - 1)


def growth_path(
    growth_y1: ArrayLike,
    growth_y2_5: ArrayLike,
    terminal_growth: ArrayLike,
    high_growth_years: int = HIGH_GROWTH_YEARS,
) -> np.ndarray:
    """Revenue growth for years 1..10 along the last axis (see the module docstring).

    >>> growth_path(0.8, 0.5, 0.0).round(6).tolist()
    [0.8, 0.5, 0.5, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    """
    g1 = rate("growth_y1", growth_y1)
    g25 = rate("growth_y2_5", growth_y2_5)
    gt = rate("terminal_growth", terminal_growth)
    h = _high_growth_years(high_growth_years)
    shape = broadcast_shape(growth_y1=g1, growth_y2_5=g25, terminal_growth=gt)
    return _stack(_growth_path(g1, g25, gt, h), shape)


def margin_path(
    operating_margin: ArrayLike, target_margin: ArrayLike, margin_convergence_year: int = YEARS
) -> np.ndarray:
    """Operating margin for years 1..10 along the last axis (linear convergence to target).

    >>> margin_path(-0.5, 0.3, 4).round(6).tolist()  # steps of 0.8 / 4 = 0.2
    [-0.3, -0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    """
    m0 = at_most("operating_margin", operating_margin, 1.0)
    mt = at_most("target_margin", target_margin, 1.0)
    n = _convergence_year(margin_convergence_year)
    shape = broadcast_shape(operating_margin=m0, target_margin=mt)
    return _stack(_margin_path(m0, mt, n), shape)


def cost_of_capital_path(
    cost_of_capital: ArrayLike,
    mature_cost_of_capital: ArrayLike,
    high_growth_years: int = HIGH_GROWTH_YEARS,
) -> np.ndarray:
    """Cost of capital for years 1..10 along the last axis: flat 5 years, then linear to mature.

    >>> cost_of_capital_path(0.12, 0.08).round(6).tolist()
    [0.12, 0.12, 0.12, 0.12, 0.12, 0.112, 0.104, 0.096, 0.088, 0.08]
    """
    r0 = rate("cost_of_capital", cost_of_capital)
    rm = rate("mature_cost_of_capital", mature_cost_of_capital)
    h = _high_growth_years(high_growth_years)
    shape = broadcast_shape(cost_of_capital=r0, mature_cost_of_capital=rm)
    return _stack(_coc_path(r0, rm, h), shape)


def tax_rate_path(
    tax_rate: ArrayLike,
    marginal_tax_rate: ArrayLike | None = None,
    high_growth_years: int = HIGH_GROWTH_YEARS,
) -> np.ndarray:
    """Tax rate for years 1..10 along the last axis: effective, then linear to the marginal rate.

    >>> tax_rate_path(0.15, 0.25).round(6).tolist()
    [0.15, 0.15, 0.15, 0.15, 0.15, 0.17, 0.19, 0.21, 0.23, 0.25]
    """
    eff = between("tax_rate", tax_rate, 0.0, 1.0)
    marg = _marginal(eff, marginal_tax_rate)
    h = _high_growth_years(high_growth_years)
    shape = broadcast_shape(tax_rate=eff, marginal_tax_rate=marg)
    return _stack(_tax_rate_path(eff, marg, h), shape)


def _marginal(tax_rate: FloatOrArray, marginal: ArrayLike | None) -> FloatOrArray:
    return tax_rate if marginal is None else between("marginal_tax_rate", marginal, 0.0, 1.0)


def bridge_revenue(revenue: ArrayLike, growth: ArrayLike, years: int) -> FloatOrArray:
    """The revenue the valuation starts from: the base (latest full fiscal) year's revenue grown
    through ``years`` whole bridge years (0..3), ``revenue x (1 + growth) ^ years``.

    >>> bridge_revenue(100.0, 0.5, 2)  # 100 x 1.5 x 1.5
    225.0
    """
    rev = nonnegative("revenue", revenue)
    g = rate("bridge_growth", growth)
    n = whole_years("bridge_years", years, 0, MAX_BRIDGE_YEARS)
    broadcast_shape(revenue=rev, bridge_growth=g)
    return out(_bridge_revenue(rev, g, n))


@dataclass(frozen=True)
class DcfResult:
    """A young-growth DCF: yearly schedules (last axis = years 1..10) and totals."""

    growth: np.ndarray
    revenue: np.ndarray
    operating_margin: np.ndarray
    ebit: np.ndarray
    tax_rate: np.ndarray
    """The year's tax rate (effective, fading to marginal)."""
    taxes: np.ndarray
    nol: np.ndarray
    """NOL carried forward at the end of each year."""
    after_tax_ebit: np.ndarray
    reinvestment: np.ndarray
    fcff: np.ndarray
    cost_of_capital: np.ndarray
    discount_factor: np.ndarray
    pv_fcff: np.ndarray
    bridge_revenue: FloatOrArray
    """Revenue the first valued year grows from (the base year's after the bridge years)."""
    terminal_revenue: FloatOrArray
    terminal_after_tax_ebit: FloatOrArray
    terminal_reinvestment: FloatOrArray
    terminal_fcff: FloatOrArray
    terminal_value: FloatOrArray
    pv_terminal_value: FloatOrArray
    sum_pv_fcff: FloatOrArray
    going_concern_value: FloatOrArray
    distress_value: FloatOrArray
    """Operating assets' value if the firm fails."""
    operating_assets_value: FloatOrArray
    equity_value: FloatOrArray
    value_per_share: FloatOrArray


def dcf_totals(
    *,
    revenue: ArrayLike,
    growth_y1: ArrayLike,
    growth_y2_5: ArrayLike,
    terminal_growth: ArrayLike,
    operating_margin: ArrayLike,
    target_margin: ArrayLike,
    sales_to_capital: ArrayLike,
    tax_rate: ArrayLike,
    cost_of_capital: ArrayLike,
    mature_cost_of_capital: ArrayLike,
    shares_outstanding: ArrayLike,
    margin_convergence_year: int = YEARS,
    high_growth_years: int = HIGH_GROWTH_YEARS,
    nol: ArrayLike = 0.0,
    terminal_roc: ArrayLike | None = None,
    prob_failure: ArrayLike = 0.0,
    distress_proceeds: ArrayLike = 0.0,
    cash: ArrayLike = 0.0,
    debt: ArrayLike = 0.0,
    fx: ArrayLike = 1.0,
    marginal_tax_rate: ArrayLike | None = None,
    distress_fraction: ArrayLike = 0.0,
    ipo_proceeds: ArrayLike = 0.0,
    non_operating_assets: ArrayLike = 0.0,
    minority_interests: ArrayLike = 0.0,
    bridge_years: int = 0,
    bridge_growth: ArrayLike = 0.0,
    schedule: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """The totals of :func:`young_growth_dcf` (``bridge_revenue`` ... ``value_per_share``, as
    it names them), without keeping the yearly schedules: the one home of the DCF's equations.

    Same inputs as :func:`young_growth_dcf`, taken by name (the UDFs call it directly, without
    repacking them). With ``schedule`` (a dict), each year's values are appended to it, one list
    per :class:`DcfResult` schedule field. Values are floats for one-cell inputs, else arrays.

    >>> t = dcf_totals(revenue=100.0, growth_y1=0.0, growth_y2_5=0.0, terminal_growth=0.0,
    ...     operating_margin=0.2, target_margin=0.2, sales_to_capital=1.0, tax_rate=0.25,
    ...     cost_of_capital=0.10, mature_cost_of_capital=0.10, shares_outstanding=10.0)
    >>> round(t["going_concern_value"], 9), round(t["value_per_share"], 9)  # 15 / 0.10
    (150.0, 15.0)
    """
    rev_base = nonnegative("revenue", revenue)
    g1 = rate("growth_y1", growth_y1)
    g25 = rate("growth_y2_5", growth_y2_5)
    gt = rate("terminal_growth", terminal_growth)
    m0 = at_most("operating_margin", operating_margin, 1.0)
    mt = at_most("target_margin", target_margin, 1.0)
    stc = positive("sales_to_capital", sales_to_capital)
    tau = between("tax_rate", tax_rate, 0.0, 1.0)
    marg = _marginal(tau, marginal_tax_rate)
    r0 = rate("cost_of_capital", cost_of_capital)
    rm = rate("mature_cost_of_capital", mature_cost_of_capital)
    n_sh = positive("shares_outstanding", shares_outstanding)
    n_conv = _convergence_year(margin_convergence_year)
    h = _high_growth_years(high_growth_years)
    nol0 = nonnegative("nol", nol)
    roc = rm if terminal_roc is None else positive("terminal_roc", terminal_roc)
    if terminal_roc is None:
        positive("terminal_roc (defaulting to mature_cost_of_capital)", rm)
    pf = fraction("prob_failure", prob_failure)
    dp = nonnegative("distress_proceeds", distress_proceeds)
    dfr = fraction("distress_fraction", distress_fraction)
    c = nonnegative("cash", cash)
    dbt = nonnegative("debt", debt)
    ipo = nonnegative("ipo_proceeds", ipo_proceeds)
    non_op = nonnegative("non_operating_assets", non_operating_assets)
    mino = nonnegative("minority_interests", minority_interests)
    n_bridge = whole_years("bridge_years", bridge_years, 0, MAX_BRIDGE_YEARS)
    gb = rate("bridge_growth", bridge_growth)
    f = positive("fx", fx)
    checked = (
        rev_base, g1, g25, gt, m0, mt, stc, tau, marg, r0, rm, n_sh, nol0, roc, pf, dp, dfr, c,
        dbt, ipo, non_op, mino, gb, f,
    )  # fmt: skip
    if not all_float(checked):  # arrays that cannot broadcast: a sentence naming two of them
        broadcast_shape(**dict(zip(_CHECKED, checked, strict=True)))
    less_than("terminal_growth", gt, "mature_cost_of_capital", rm)
    one_failure_value(dp, dfr, ("distress_proceeds", "distress_fraction"), "going-concern value")

    rev0 = _bridge_revenue(rev_base, gb, n_bridge)
    if schedule is not None:
        schedule.update({k: [] for k in _SCHEDULE})
    rev_prev, nol_prev, df, sum_pv = rev0, nol0, 1.0, 0.0
    for g, margin, tau_t, r in zip(
        _growth_path(g1, g25, gt, h),
        _margin_path(m0, mt, n_conv),
        _tax_rate_path(tau, marg, h),
        _coc_path(r0, rm, h),
        strict=True,
    ):
        rev = rev_prev * (1.0 + g)
        ebit = margin * rev
        tax, nol_t = _tax_t(ebit, nol_prev, tau_t)
        nopat = ebit - tax
        reinv = (rev - rev_prev) / stc
        fcff = nopat - reinv
        df = df / (1.0 + r)
        pv = fcff * df
        sum_pv = sum_pv + pv
        if schedule is not None:
            for key, v in zip(
                _SCHEDULE,
                (g, rev, margin, ebit, tau_t, tax, nol_t, nopat, reinv, fcff, r, df, pv),
                strict=True,
            ):
                schedule[key].append(v)
        rev_prev, nol_prev = rev, nol_t

    terminal = _terminal(rev_prev, gt, mt, marg, roc, rm)
    pv_tv = terminal["terminal_value"] * df
    going = sum_pv + pv_tv
    distress = _distress(going, dp, dfr)
    operating = _operating_assets(going, pf, distress)
    equity = _equity(operating, c, dbt, ipo, non_op, mino)
    return {
        "bridge_revenue": rev0,
        **terminal,
        "pv_terminal_value": pv_tv,
        "sum_pv_fcff": sum_pv,
        "going_concern_value": going,
        "distress_value": distress,
        "operating_assets_value": operating,
        "equity_value": equity,
        "value_per_share": equity * f / n_sh,
    }


_CHECKED = (
    "revenue", "growth_y1", "growth_y2_5", "terminal_growth", "operating_margin", "target_margin",
    "sales_to_capital", "tax_rate", "marginal_tax_rate", "cost_of_capital",
    "mature_cost_of_capital", "shares_outstanding", "nol", "terminal_roc", "prob_failure",
    "distress_proceeds", "distress_fraction", "cash", "debt", "ipo_proceeds",
    "non_operating_assets", "minority_interests", "bridge_growth", "fx",
)  # fmt: skip
"""The names of ``dcf_totals``' ``checked`` values, in order (for the broadcast error)."""

_SCHEDULE = (
    "growth", "revenue", "operating_margin", "ebit", "tax_rate", "taxes", "nol", "after_tax_ebit",
    "reinvestment", "fcff", "cost_of_capital", "discount_factor", "pv_fcff",
)  # fmt: skip


def young_growth_dcf(**inputs: Any) -> DcfResult:
    """Value a young, money-losing growth firm; every step is in the result.

    Keyword arguments (amounts in the model currency, rates as decimals):

    * ``revenue``: base-year revenue (the latest reported full fiscal year), >= 0.
    * ``bridge_years``: whole fiscal years from the base year to the first valued year, 0..3
      (default 0); ``bridge_growth``: revenue growth in each of them, > -1 (default 0).
    * ``growth_y1``, ``growth_y2_5``: revenue growth in year 1 and in years 2-5, > -1.
    * ``terminal_growth``: growth from year 10 on, > -1 and < ``mature_cost_of_capital``.
    * ``operating_margin``: the base year's operating margin (may be very negative), <= 1.
    * ``target_margin``: the mature operating margin, <= 1.
    * ``margin_convergence_year``: year by which the target margin is reached, 1..10 (default 10).
    * ``high_growth_years``: years of ``growth_y2_5`` growth, flat cost of capital and the
      effective tax rate before the linear fades to year 10, 1..9 (default 5).
    * ``sales_to_capital``: revenue added per unit of capital invested, > 0.
    * ``tax_rate``: effective tax rate in years 1..H, 0..1. ``marginal_tax_rate``: the rate it
      reaches in year 10 and the terminal year pays, 0..1 (default ``tax_rate``).
    * ``nol``: loss carried forward at the valuation date, >= 0 (default 0).
    * ``cost_of_capital``: years 1-5, > -1. ``mature_cost_of_capital``: year 10 and after, > -1.
    * ``terminal_roc``: return on capital after year 10, > 0 (default: mature cost of capital).
    * ``prob_failure``: probability the firm fails, 0..1 (default 0). The operating assets'
      value if it does: ``distress_proceeds``, an amount >= 0, or ``distress_fraction``, a
      fraction 0..1 of the going-concern value (defaults 0; at most one non-zero).
    * ``cash``, ``ipo_proceeds``, ``non_operating_assets``, ``debt``, ``minority_interests``:
      the equity bridge at the valuation date, each >= 0 (default 0).
    * ``shares_outstanding``: > 0. ``fx``: listing-currency units per model-currency unit, > 0
      (default 1).

    Any argument may be an array; all broadcast together (schedules get a trailing year axis).

    Worked example: revenue 100, no growth, margin 20% throughout, tax 25%, no NOL, 10% cost of
    capital throughout: FCFF = 15 a year; the terminal year adds 15 / 0.10 = 150 at year 10;
    the whole is a perpetuity worth 15 / 0.10 = 150; with 50 cash and 10 shares, 20 per share.

    >>> r = young_growth_dcf(revenue=100.0, growth_y1=0.0, growth_y2_5=0.0, terminal_growth=0.0,
    ...     operating_margin=0.2, target_margin=0.2, sales_to_capital=1.0, tax_rate=0.25,
    ...     cost_of_capital=0.10, mature_cost_of_capital=0.10, cash=50.0, shares_outstanding=10.0)
    >>> round(r.going_concern_value, 9), round(r.value_per_share, 9)
    (150.0, 20.0)
    """
    sched: dict[str, list[Any]] = {}
    totals = dcf_totals(**inputs, schedule=sched)
    shape = np.shape(totals["value_per_share"])  # it depends on every input: their shape
    fields: dict[str, Any] = {k: _stack(v, shape) for k, v in sched.items()}
    fields |= {k: out(np.broadcast_to(v, shape).copy() if shape else v) for k, v in totals.items()}
    return DcfResult(**fields)


def dcf_value_per_share(**inputs: Any) -> FloatOrArray:
    """Value per share of :func:`young_growth_dcf`, without keeping the yearly schedules.

    Same arguments; memory stays proportional to the input size, which is what Monte Carlo,
    sensitivity grids and the root-finder want.

    >>> v = dcf_value_per_share(revenue=100.0, growth_y1=0.0, growth_y2_5=0.0,
    ...     terminal_growth=0.0, operating_margin=0.2, target_margin=0.2, sales_to_capital=1.0,
    ...     tax_rate=0.25, cost_of_capital=0.10, mature_cost_of_capital=0.10, cash=50.0,
    ...     shares_outstanding=10.0, fx=1.1)  # (150 + 50) x 1.1 / 10
    >>> round(v, 9)
    22.0
    """
    return out(dcf_totals(**inputs)["value_per_share"])


def dcf_equity_value(**inputs: Any) -> FloatOrArray:
    """Equity value of :func:`young_growth_dcf` in the model currency, without schedules.

    ``equity_value = operating_assets + cash + ipo_proceeds + non_operating_assets - debt -
    minority_interests`` (see the module docstring).

    >>> v = dcf_equity_value(revenue=100.0, growth_y1=0.0, growth_y2_5=0.0,
    ...     terminal_growth=0.0, operating_margin=0.2, target_margin=0.2, sales_to_capital=1.0,
    ...     tax_rate=0.25, cost_of_capital=0.10, mature_cost_of_capital=0.10, debt=30.0,
    ...     shares_outstanding=10.0)  # perpetuity 150 - debt 30
    >>> round(v, 9)
    120.0
    """
    return out(dcf_totals(**inputs)["equity_value"])
