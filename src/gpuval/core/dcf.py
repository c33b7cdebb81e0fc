"""Young-growth DCF, in the manner of Damodaran's models for money-losing growth firms.

Ten explicit years (``t = 1..10``), a terminal year (``t = 11``) and a failure probability.

* Revenue growth: ``g_1 = growth_y1``; ``g_t = growth_y2_5`` for ``t = 2..H`` (``H =
  high_growth_years``, default 5); then a linear fade ``g_t = growth_y2_5 - (growth_y2_5 -
  terminal_growth) x (t - H) / (10 - H)`` for ``t = H+1..10``, so ``g_10 = terminal_growth``.
  ``revenue_t = revenue_{t-1} x (1 + g_t)``, ``revenue_0 = revenue``.
* Operating margin converges linearly from today's ``operating_margin`` to ``target_margin`` by
  year ``N = margin_convergence_year``:
  ``margin_t = target_margin - (target_margin - operating_margin) x max(N - t, 0) / N``.
* ``ebit_t = margin_t x revenue_t``.
* Taxes with net-operating-loss carry-forward (``nol_0 = nol``): a loss adds to the NOL and pays
  no tax; a profit first uses the NOL,
  ``used_t = min(max(ebit_t, 0), nol_{t-1})``, ``tax_t = (max(ebit_t, 0) - used_t) x tax_rate``,
  ``nol_t = nol_{t-1} - used_t + max(-ebit_t, 0)``. ``after_tax_ebit_t = ebit_t - tax_t``.
* ``reinvestment_t = (revenue_t - revenue_{t-1}) / sales_to_capital``;
  ``fcff_t = after_tax_ebit_t - reinvestment_t``.
* Cost of capital: ``r_t = cost_of_capital`` for ``t = 1..H``, then linear to the mature rate,
  ``r_t = cost_of_capital - (cost_of_capital - mature_cost_of_capital) x (t - H) / (10 - H)``.
  End-of-year flows, cumulative discount factor ``DF_t = 1 / prod_{k<=t} (1 + r_k)`` (with a flat
  rate this is Excel's ``NPV``, which treats its first value as a year-1 flow).
* Terminal year: ``revenue_11 = revenue_10 x (1 + terminal_growth)``, ``ebit_11 = target_margin x
  revenue_11``, taxed in full at ``tax_rate`` (any NOL left after year 10 is ignored, as in
  Damodaran's sheets); reinvestment ``= terminal_growth / terminal_roc x after_tax_ebit_11``;
  ``terminal_value = fcff_11 / (mature_cost_of_capital - terminal_growth)``, discounted by
  ``DF_10``. ``terminal_roc`` defaults to the mature cost of capital (no excess returns).
* ``going_concern = sum_t fcff_t DF_t + terminal_value x DF_10``;
  ``operating_assets = (1 - prob_failure) x going_concern + prob_failure x distress_proceeds``;
  ``equity_value = operating_assets + cash - debt``;
  ``value_per_share = equity_value x fx / shares_outstanding``.

Amounts are in the model currency; ``fx`` converts to the listing currency (listing units per
model unit). Rates are annual decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuval.core.validate import (
    ArrayLike,
    FloatOrArray,
    InputError,
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
    "YEARS",
    "DcfResult",
    "coc_xl",
    "cost_of_capital_path",
    "dcf_equity_value",
    "dcf_value_per_share",
    "equity_xl",
    "growth_path",
    "growth_xl",
    "margin_path",
    "margin_xl",
    "nol_xl",
    "operating_assets_xl",
    "reinvestment_xl",
    "tax_xl",
    "terminal_fcff_xl",
    "terminal_value_xl",
    "young_growth_dcf",
]

YEARS = 10
"""Explicit forecast years."""

HIGH_GROWTH_YEARS = 5
"""Years of high growth (and flat cost of capital) before the fade."""


# --- the year-t rules: one home each, in Python and in Excel; the DCF sheet, the Implied sheet's
# bisection rows and the core's own paths all use them ----------------------------------------


def _growth_t(t: int, g1: Any, g25: Any, gt: Any, h: int = HIGH_GROWTH_YEARS) -> Any:
    if t == 1:
        return g1
    if t <= h:
        return g25
    return g25 - (g25 - gt) * (t - h) / (YEARS - h)


def growth_xl(t: str, g1: str, g25: str, gt: str, h: str) -> str:
    """Excel of the year-``t`` growth rule (``h``: years of high growth)."""
    return f"IF({t}=1,{g1},IF({t}<={h},{g25},{g25}-({g25}-{gt})*({t}-{h})/({YEARS}-{h})))"


def _margin_t(t: int, m0: Any, target: Any, n: int) -> Any:
    return target - (target - m0) * max(n - t, 0) / n


def margin_xl(t: str, m0: str, target: str, n: str) -> str:
    """Excel of the year-``t`` operating margin rule."""
    return f"{target}-({target}-{m0})*MAX({n}-{t},0)/{n}"


def _coc_t(t: int, r0: Any, rm: Any, h: int = HIGH_GROWTH_YEARS) -> Any:
    if t <= h:
        return r0
    return r0 - (r0 - rm) * (t - h) / (YEARS - h)


def coc_xl(t: str, r0: str, rm: str, h: str) -> str:
    """Excel of the year-``t`` cost-of-capital rule."""
    return f"IF({t}<={h},{r0},{r0}-({r0}-{rm})*({t}-{h})/({YEARS}-{h}))"


def _tax_t(ebit: Any, nol_prev: Any, tau: Any) -> tuple[Any, Any]:
    """Taxes and the loss carried forward after year t: ``(tax_t, nol_t)``."""
    profit = _maximum(ebit, 0.0)
    used = _minimum(profit, nol_prev)
    return (profit - used) * tau, nol_prev - used + (profit - ebit)  # profit - ebit = max(-ebit, 0)


def tax_xl(ebit: str, nol_prev: str, tax_rate: str) -> str:
    """Excel of the year-t taxes: ``(MAX(ebit,0)-MIN(MAX(ebit,0),nol_prev))*rate``."""
    return f"(MAX({ebit},0)-MIN(MAX({ebit},0),{nol_prev}))*{tax_rate}"


def nol_xl(ebit: str, nol_prev: str) -> str:
    """Excel of the loss carried forward after year t: ``nol - used + MAX(-ebit,0)``."""
    return f"{nol_prev}-MIN(MAX({ebit},0),{nol_prev})+MAX(-{ebit},0)"


def reinvestment_xl(revenue: str, revenue_prev: str, sales_to_capital: str) -> str:
    """Excel of the year-t reinvestment: ``(revenue - previous revenue) / sales-to-capital``."""
    return f"({revenue}-{revenue_prev})/{sales_to_capital}"


def _terminal(rev10: Any, gt: Any, mt: Any, tau: Any, roc: Any, rm: Any) -> dict[str, Any]:
    rev11 = rev10 * (1.0 + gt)
    ebit11 = mt * rev11
    nopat11 = ebit11 - _maximum(ebit11, 0.0) * tau
    reinv11 = gt / roc * nopat11
    fcff11 = nopat11 - reinv11
    return {"terminal_revenue": rev11, "terminal_after_tax_ebit": nopat11,
            "terminal_reinvestment": reinv11, "terminal_fcff": fcff11,
            "terminal_value": fcff11 / (rm - gt)}  # fmt: skip


def terminal_value_xl(fcff11: str, mature_coc: str, terminal_growth: str) -> str:
    """Excel of the terminal value: ``FCFF_11 / (mature cost of capital - terminal growth)``."""
    return f"{fcff11}/({mature_coc}-{terminal_growth})"


def terminal_fcff_xl(rev10: str, gt: str, target_margin: str, tax_rate: str, roc: str) -> str:
    """Excel of the terminal year's FCFF in one expression (revenue, EBIT at the target margin
    taxed in full, reinvestment ``g / ROC`` of after-tax EBIT)."""
    ebit = f"{target_margin}*{rev10}*(1+{gt})"
    return f"({ebit}-MAX({ebit},0)*{tax_rate})*(1-{gt}/{roc})"


def _operating_assets(going: Any, pf: Any, dp: Any) -> Any:
    return (1.0 - pf) * going + pf * dp


def operating_assets_xl(going: str, prob_failure: str, distress: str) -> str:
    """Excel of the operating assets' value: ``(1-p)*going concern + p*distress``."""
    return f"(1-{prob_failure})*{going}+{prob_failure}*{distress}"


def _equity(operating: Any, cash: Any, debt: Any) -> Any:
    return operating + cash - debt


def equity_xl(operating: str, cash: str, debt: str) -> str:
    """Excel of the equity value: ``operating assets + cash - debt``."""
    return f"{operating}+{cash}-{debt}"


def _maximum(a: Any, b: Any) -> Any:
    return max(a, b) if type(a) is float and type(b) is float else np.maximum(a, b)


def _minimum(a: Any, b: Any) -> Any:
    return min(a, b) if type(a) is float and type(b) is float else np.minimum(a, b)


def _stack(values: list[Any], shape: tuple[int, ...] = ()) -> np.ndarray:
    """Stack per-year values along a new last axis, broadcast to ``shape + (years,)``."""
    if not shape:  # scalar inputs: the values are floats
        return np.array(values, dtype=float)
    arrays = [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values]
    return np.stack(np.broadcast_arrays(*arrays), axis=-1)


def _whole_years(name: str, value: Any, lo: int, hi: int) -> int:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not ok or value != int(value) or not lo <= value <= hi:
        raise InputError(
            f"{name} must be a whole number of years from {lo} to {hi}, got {value!r}."
        )
    return int(value)


def _convergence_year(value: Any) -> int:
    return _whole_years("margin_convergence_year", value, 1, YEARS)


def _high_growth_years(value: Any) -> int:
    return _whole_years("high_growth_years", value, 1, YEARS - 1)


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
    return _stack([_growth_t(t, g1, g25, gt, h) for t in range(1, YEARS + 1)], shape)


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
    return _stack([_margin_t(t, m0, mt, n) for t in range(1, YEARS + 1)], shape)


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
    return _stack([_coc_t(t, r0, rm, h) for t in range(1, YEARS + 1)], shape)


@dataclass(frozen=True)
class DcfResult:
    """A young-growth DCF: yearly schedules (last axis = years 1..10) and totals."""

    growth: np.ndarray
    revenue: np.ndarray
    operating_margin: np.ndarray
    ebit: np.ndarray
    taxes: np.ndarray
    nol: np.ndarray
    """NOL carried forward at the end of each year."""
    after_tax_ebit: np.ndarray
    reinvestment: np.ndarray
    fcff: np.ndarray
    cost_of_capital: np.ndarray
    discount_factor: np.ndarray
    pv_fcff: np.ndarray
    terminal_revenue: FloatOrArray
    terminal_after_tax_ebit: FloatOrArray
    terminal_reinvestment: FloatOrArray
    terminal_fcff: FloatOrArray
    terminal_value: FloatOrArray
    pv_terminal_value: FloatOrArray
    sum_pv_fcff: FloatOrArray
    going_concern_value: FloatOrArray
    operating_assets_value: FloatOrArray
    equity_value: FloatOrArray
    value_per_share: FloatOrArray


def _dcf(
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
    keep: bool,
) -> tuple[dict[str, list[Any]], dict[str, Any], tuple[int, ...]]:
    rev0 = nonnegative("revenue", revenue)
    g1 = rate("growth_y1", growth_y1)
    g25 = rate("growth_y2_5", growth_y2_5)
    gt = rate("terminal_growth", terminal_growth)
    m0 = at_most("operating_margin", operating_margin, 1.0)
    mt = at_most("target_margin", target_margin, 1.0)
    stc = positive("sales_to_capital", sales_to_capital)
    tau = between("tax_rate", tax_rate, 0.0, 1.0)
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
    c = nonnegative("cash", cash)
    dbt = nonnegative("debt", debt)
    f = positive("fx", fx)
    shape = broadcast_shape(
        revenue=rev0, growth_y1=g1, growth_y2_5=g25, terminal_growth=gt, operating_margin=m0,
        target_margin=mt, sales_to_capital=stc, tax_rate=tau, cost_of_capital=r0,
        mature_cost_of_capital=rm, shares_outstanding=n_sh, nol=nol0, terminal_roc=roc,
        prob_failure=pf, distress_proceeds=dp, cash=c, debt=dbt, fx=f,
    )  # fmt: skip
    less_than("terminal_growth", gt, "mature_cost_of_capital", rm)

    sched: dict[str, list[Any]] = {k: [] for k in _SCHEDULE} if keep else {}
    rev_prev, nol_prev, df, sum_pv = rev0, nol0, 1.0, 0.0
    for t in range(1, YEARS + 1):
        g = _growth_t(t, g1, g25, gt, h)
        rev = rev_prev * (1.0 + g)
        margin = _margin_t(t, m0, mt, n_conv)
        ebit = margin * rev
        tax, nol_t = _tax_t(ebit, nol_prev, tau)
        nopat = ebit - tax
        reinv = (rev - rev_prev) / stc
        fcff = nopat - reinv
        r = _coc_t(t, r0, rm, h)
        df = df / (1.0 + r)
        pv = fcff * df
        sum_pv = sum_pv + pv
        if keep:
            for key, v in zip(
                _SCHEDULE,
                (g, rev, margin, ebit, tax, nol_t, nopat, reinv, fcff, r, df, pv),
                strict=True,
            ):
                sched[key].append(v)
        rev_prev, nol_prev = rev, nol_t

    terminal = _terminal(rev_prev, gt, mt, tau, roc, rm)
    pv_tv = terminal["terminal_value"] * df
    going = sum_pv + pv_tv
    operating = _operating_assets(going, pf, dp)
    equity = _equity(operating, c, dbt)
    totals = {
        **terminal,
        "pv_terminal_value": pv_tv,
        "sum_pv_fcff": sum_pv,
        "going_concern_value": going,
        "operating_assets_value": operating,
        "equity_value": equity,
        "value_per_share": equity * f / n_sh,
    }
    return sched, totals, shape


_SCHEDULE = (
    "growth", "revenue", "operating_margin", "ebit", "taxes", "nol", "after_tax_ebit",
    "reinvestment", "fcff", "cost_of_capital", "discount_factor", "pv_fcff",
)  # fmt: skip


def young_growth_dcf(**inputs: Any) -> DcfResult:
    """Value a young, money-losing growth firm; every step is in the result.

    Keyword arguments (amounts in the model currency, rates as decimals):

    * ``revenue``: base-year (trailing) revenue, >= 0.
    * ``growth_y1``, ``growth_y2_5``: revenue growth in year 1 and in years 2-5, > -1.
    * ``terminal_growth``: growth from year 10 on, > -1 and < ``mature_cost_of_capital``.
    * ``operating_margin``: today's operating margin (may be very negative), <= 1.
    * ``target_margin``: the mature operating margin, <= 1.
    * ``margin_convergence_year``: year by which the target margin is reached, 1..10 (default 10).
    * ``high_growth_years``: years of ``growth_y2_5`` growth and flat cost of capital before the
      linear fade to year 10, 1..9 (default 5).
    * ``sales_to_capital``: revenue added per unit of capital invested, > 0.
    * ``tax_rate``: marginal tax rate, 0..1. ``nol``: loss carried forward today, >= 0 (default 0).
    * ``cost_of_capital``: years 1-5, > -1. ``mature_cost_of_capital``: year 10 and after, > -1.
    * ``terminal_roc``: return on capital after year 10, > 0 (default: mature cost of capital).
    * ``prob_failure``: probability the firm fails, 0..1 (default 0). ``distress_proceeds``: the
      operating assets' value if it does, >= 0 (default 0).
    * ``cash``, ``debt``: >= 0 (default 0). ``shares_outstanding``: > 0.
    * ``fx``: listing-currency units per model-currency unit, > 0 (default 1).

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
    sched, totals, shape = _dcf(**inputs, keep=True)
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
    return out(_dcf(**inputs, keep=False)[1]["value_per_share"])


def dcf_equity_value(**inputs: Any) -> FloatOrArray:
    """Equity value of :func:`young_growth_dcf` in the model currency, without schedules.

    ``equity_value = operating_assets + cash - debt`` (see the module docstring).

    >>> v = dcf_equity_value(revenue=100.0, growth_y1=0.0, growth_y2_5=0.0,
    ...     terminal_growth=0.0, operating_margin=0.2, target_margin=0.2, sales_to_capital=1.0,
    ...     tax_rate=0.25, cost_of_capital=0.10, mature_cost_of_capital=0.10, debt=30.0,
    ...     shares_outstanding=10.0)  # perpetuity 150 - debt 30
    >>> round(v, 9)
    120.0
    """
    return out(_dcf(**inputs, keep=False)[1]["equity_value"])
