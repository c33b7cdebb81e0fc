"""The young-growth DCF's year-``t`` rules, one home each, in Python and in Excel.

Each rule's Python (used by :mod:`gpuval.core.dcf`) sits beside its Excel builder (``*_xl``,
formula text without the leading ``=``); the DCF sheet, the Implied sheet's bisection rows and
the core's own paths all use them. The equations are stated in :mod:`gpuval.core.dcf`.

The four rate rules (growth, margin, cost of capital, tax rate) give the whole ten-year path in
one call (a list, year 1 first), so a one-cell valuation makes four calls instead of forty; the
Excel builder states the same rule for one year ``t``. Every rule takes floats or numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpuval.core.validate import InputError, fmt

YEARS = 10
"""Explicit forecast years."""

HIGH_GROWTH_YEARS = 5
"""Years of high growth (and flat cost of capital and tax rate) before the fade."""

MAX_BRIDGE_YEARS = 3
"""Most whole fiscal years between the base year and the first valued year."""


def _fade(start: Any, end: Any, h: int) -> list[Any]:
    """Years ``h+1..10`` of a linear fade from ``start`` (year ``h``) to ``end`` (year 10):
    ``start - (start - end) x (t - h) / (10 - h)``."""
    gap, span, out = start - end, float(YEARS - h), []
    for step in _FADE_STEPS[h]:
        out.append(start - gap * step / span)
    return out


_FADE_STEPS = {h: [float(t - h) for t in range(h + 1, YEARS + 1)] for h in range(1, YEARS)}
"""``t - h`` for the fade years ``t = h+1..10``, by ``h`` (as floats: the same products, and
faster than mixing ints into float arithmetic)."""


def _growth_path(g1: Any, g25: Any, gt: Any, h: int = HIGH_GROWTH_YEARS) -> list[Any]:
    """Years 1..10: ``g1``; ``g25`` through year ``h``; then the fade to ``gt`` by year 10."""
    return [g1, *[g25] * (h - 1), *_fade(g25, gt, h)]


def growth_xl(t: str, g1: str, g25: str, gt: str, h: str) -> str:
    """Excel of the year-``t`` growth rule (``h``: years of high growth)."""
    return f"IF({t}=1,{g1},IF({t}<={h},{g25},{g25}-({g25}-{gt})*({t}-{h})/({YEARS}-{h})))"


def _margin_path(m0: Any, target: Any, n: int) -> list[Any]:
    """Years 1..10: ``target - (target - m0) x max(n - t, 0) / n``, linear from ``m0`` (year 0)
    to ``target`` by year ``n``, then flat."""
    gap, span, out = target - m0, float(n), []
    for to_go in _YEARS_TO_GO[n]:
        out.append(target - gap * to_go / span)
    return out


_YEARS_TO_GO = {n: [float(max(n - t, 0)) for t in range(1, YEARS + 1)] for n in range(1, YEARS + 1)}
"""``max(n - t, 0)`` for years ``t = 1..10``, by convergence year ``n`` (as floats)."""


def margin_xl(t: str, m0: str, target: str, n: str) -> str:
    """Excel of the year-``t`` operating margin rule."""
    return f"{target}-({target}-{m0})*MAX({n}-{t},0)/{n}"


def _coc_path(r0: Any, rm: Any, h: int = HIGH_GROWTH_YEARS) -> list[Any]:
    """Years 1..10: ``r0`` through year ``h``, then the fade to ``rm`` by year 10."""
    return [r0] * h + _fade(r0, rm, h)


def coc_xl(t: str, r0: str, rm: str, h: str) -> str:
    """Excel of the year-``t`` cost-of-capital rule."""
    return f"IF({t}<={h},{r0},{r0}-({r0}-{rm})*({t}-{h})/({YEARS}-{h}))"


def _tax_rate_path(effective: Any, marginal: Any, h: int = HIGH_GROWTH_YEARS) -> list[Any]:
    """Years 1..10: ``effective`` through year ``h``, then the fade to ``marginal`` by year 10
    (``effective + (marginal - effective) x (t - h) / (10 - h)``, the same numbers)."""
    return [effective] * h + _fade(effective, marginal, h)


def tax_rate_xl(t: str, effective: str, marginal: str, h: str) -> str:
    """Excel of the year-``t`` tax rate: effective through year ``h``, then linear to the
    marginal rate by year 10."""
    return f"IF({t}<={h},{effective},{effective}+({marginal}-{effective})*({t}-{h})/({YEARS}-{h}))"


def _tax_t(ebit: Any, nol_prev: Any, tau: Any) -> tuple[Any, Any]:
    """Taxes and the loss carried forward after year t: ``(tax_t, nol_t)``."""
    if type(ebit) is float and type(nol_prev) is float:  # one cell: max and min without calls
        profit = 0.0 if ebit < 0.0 else ebit
        used = nol_prev if nol_prev < profit else profit
    else:
        profit = np.maximum(ebit, 0.0)
        used = np.minimum(profit, nol_prev)
    return (profit - used) * tau, nol_prev - used + (profit - ebit)  # profit - ebit = max(-ebit, 0)


def tax_xl(ebit: str, nol_prev: str, tax_rate: str) -> str:
    """Excel of the year-t taxes at the year's rate: ``(MAX(ebit,0)-MIN(MAX(ebit,0),nol))*rate``."""
    return f"(MAX({ebit},0)-MIN(MAX({ebit},0),{nol_prev}))*{tax_rate}"


def nol_xl(ebit: str, nol_prev: str) -> str:
    """Excel of the loss carried forward after year t: ``nol - used + MAX(-ebit,0)``."""
    return f"{nol_prev}-MIN(MAX({ebit},0),{nol_prev})+MAX(-{ebit},0)"


def _bridge_revenue(revenue: Any, growth: Any, years: int) -> Any:
    return revenue * (1.0 + growth) ** years


def bridge_revenue_xl(revenue: str, growth: str, years: str) -> str:
    """Excel of the revenue the valuation starts from: ``revenue x (1 + growth) ^ years``."""
    return f"{revenue}*(1+{growth})^{years}"


def reinvestment_xl(revenue: str, revenue_prev: str, sales_to_capital: str) -> str:
    """Excel of the year-t reinvestment: ``(revenue - previous revenue) / sales-to-capital``
    (in year 1 the previous revenue is the bridge revenue)."""
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
    taxed in full at ``tax_rate``, the marginal rate; reinvestment ``g / ROC`` of after-tax
    EBIT)."""
    ebit = f"{target_margin}*{rev10}*(1+{gt})"
    return f"({ebit}-MAX({ebit},0)*{tax_rate})*(1-{gt}/{roc})"


def _distress(going: Any, proceeds: Any, fraction: Any) -> Any:
    return proceeds + fraction * going


def one_failure_value(amount: Any, fraction: Any, names: tuple[str, str], of: str) -> None:
    """Raise :class:`InputError` where both ways of giving the failure value are non-zero: an
    amount (``names[0]``) or a fraction (``names[1]``) of ``of``, not both."""
    if type(amount) is float and type(fraction) is float and (amount == 0.0 or fraction == 0.0):
        return  # one cell each, at most one given
    both = np.logical_and(np.not_equal(amount, 0.0), np.not_equal(fraction, 0.0))
    if np.any(both):
        i = tuple(np.argwhere(both)[0]) if np.ndim(both) else ()
        a, f = np.broadcast_arrays(np.asarray(amount), np.asarray(fraction))
        raise InputError(
            f"give the failure value as {names[0]} (an amount) or as {names[1]} (a fraction of "
            f"the {of}), not both; got {fmt(float(a[i]))} and {fmt(float(f[i]))}."
        )


def distress_value_xl(going: str, proceeds: str, fraction: str) -> str:
    """Excel of the value if the firm fails: ``proceeds + fraction x going concern`` (at most
    one of the two is non-zero; ``fraction x going concern`` alone when ``proceeds`` is "0")."""
    share = f"{fraction}*{going}"
    return share if proceeds == "0" else f"{proceeds}+{share}"


def _operating_assets(going: Any, pf: Any, dp: Any) -> Any:
    return (1.0 - pf) * going + pf * dp


def operating_assets_xl(going: str, prob_failure: str, distress: str) -> str:
    """Excel of the operating assets' value: ``(1-p)*going concern + p*distress value``."""
    return f"(1-{prob_failure})*{going}+{prob_failure}*({distress})"


def _equity(
    operating: Any, cash: Any, debt: Any, ipo: Any = 0.0, non_op: Any = 0.0, minority: Any = 0.0
) -> Any:
    return operating + cash + ipo + non_op - debt - minority


def equity_xl(
    operating: str,
    cash: str,
    debt: str,
    ipo_proceeds: str | None = None,
    non_operating_assets: str | None = None,
    minority_interests: str | None = None,
) -> str:
    """Excel of the equity value: ``operating assets + cash + IPO proceeds + non-operating
    assets - debt - minority interests`` (terms not given are left out)."""
    plus = "".join(f"+{x}" for x in (ipo_proceeds, non_operating_assets) if x is not None)
    minus = f"-{minority_interests}" if minority_interests is not None else ""
    return f"{operating}+{cash}{plus}-{debt}{minus}"


def fiscal_years(base_year: int, bridge_years: int = 0) -> list[int]:
    """The fiscal years of the ten valued years: ``base_year + bridge_years + t``, ``t = 1..10``.

    >>> fiscal_years(2024, 1)[:3]  # base FY2024, FY2025 bridged: valuation starts in FY2026
    [2026, 2027, 2028]
    """
    if isinstance(base_year, bool) or not isinstance(base_year, int | np.integer):
        raise InputError(f"base_year must be a whole year such as 2024, got {base_year!r}.")
    n = whole_years("bridge_years", bridge_years, 0, MAX_BRIDGE_YEARS)
    return [int(base_year) + n + t for t in range(1, YEARS + 1)]


def whole_years(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an ``int`` from ``lo`` to ``hi``, or :class:`InputError` naming ``name``."""
    if type(value) is int and lo <= value <= hi:
        return value
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not ok or value != int(value) or not lo <= value <= hi:
        raise InputError(
            f"{name} must be a whole number of years from {lo} to {hi}, got {value!r}."
        )
    return int(value)


def _maximum(a: Any, b: Any) -> Any:
    return max(a, b) if type(a) is float and type(b) is float else np.maximum(a, b)
