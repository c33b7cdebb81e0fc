"""Price-to-sales multiples on trailing, run-rate, forward and backlog-implied revenue.

All amounts are plain numbers in one currency. When the market value and the revenue are in
different currencies, ``fx`` converts the revenue into the market value's currency
(market-value units per revenue unit), so ``P/S = market_value / (revenue x fx)``.

Revenue bases (keys of :data:`PS_LABELS`):

* ``trailing``: last reported twelve months (e.g. FY2024).
* ``run_rate``: the latest half-year x 2. An annualisation, not a reported figure, and labelled so.
* ``forward``: company guidance for the coming year.
* ``backlog``: order backlog delivered evenly over ``months`` months, annualised:
  ``backlog x 12 / months``. The source article reads Biren's CNY 1.24 bn backlog as 12-18 months
  of revenue; the default is the midpoint, 15 months, with 12 and 18 as the sensitivity range.
"""

from __future__ import annotations

from gpuval.core.validate import (
    ArrayLike,
    FloatOrArray,
    broadcast_shape,
    nonnegative,
    out,
    positive,
)

__all__ = [
    "BACKLOG_MONTHS",
    "BACKLOG_MONTHS_RANGE",
    "PS_LABELS",
    "backlog_ps",
    "backlog_revenue",
    "price_to_sales",
    "ps_multiples",
    "run_rate_ps",
    "run_rate_revenue",
]

BACKLOG_MONTHS = 15.0
"""Default delivery period of the order backlog, months (midpoint of the article's 12-18)."""

BACKLOG_MONTHS_RANGE = (12.0, 18.0)
"""The article's range for the backlog delivery period, months: the sensitivity range."""

PS_LABELS = {
    "trailing": "P/S on trailing revenue (last reported 12 months)",
    "run_rate": "P/S on run-rate revenue (latest half-year x 2, annualised, not reported)",
    "forward": "P/S on forward revenue (company guidance)",
    "backlog": "P/S on backlog-implied revenue (backlog delivered over N months, annualised)",
}
"""Display labels for the revenue bases returned by :func:`ps_multiples`."""


def price_to_sales(
    market_value: ArrayLike, revenue: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """Price-to-sales multiple.

    ``P/S = market_value / (revenue x fx)``; market value and revenue > 0.

    >>> price_to_sales(300e9, 1.5e9)  # CNY 300 bn / CNY 1.5 bn revenue
    200.0
    """
    mv = positive("market_value", market_value)
    rev = positive("revenue", revenue)
    f = positive("fx", fx)
    broadcast_shape(market_value=mv, revenue=rev, fx=f)
    return out(mv / (rev * f))


def run_rate_revenue(half_year_revenue: ArrayLike) -> FloatOrArray:
    """Annualised run-rate revenue from one half-year: ``run_rate = half_year_revenue x 2``.

    >>> run_rate_revenue(2.88e9)  # Cambricon H1 2025, CNY
    5760000000.0
    """
    h = nonnegative("half_year_revenue", half_year_revenue)
    return out(h * 2.0)


def run_rate_ps(
    market_value: ArrayLike, half_year_revenue: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """P/S on run-rate revenue: ``market_value / (2 x half_year_revenue x fx)``.

    >>> run_rate_ps(300e9, 0.7e9)  # CNY 300 bn / (0.7 bn x 2)
    214.28571428571428
    """
    mv = positive("market_value", market_value)
    h = positive("half_year_revenue", half_year_revenue)
    f = positive("fx", fx)
    broadcast_shape(market_value=mv, half_year_revenue=h, fx=f)
    return out(mv / (2.0 * h * f))


def backlog_revenue(backlog: ArrayLike, months: ArrayLike = BACKLOG_MONTHS) -> FloatOrArray:
    """Annual revenue implied by delivering ``backlog`` evenly over ``months`` months.

    ``annualised = backlog x 12 / months``; backlog >= 0, months > 0.

    >>> backlog_revenue(1.24e9)  # CNY 1.24 bn over 15 months
    992000000.0
    """
    b = nonnegative("backlog", backlog)
    m = positive("months", months)
    broadcast_shape(backlog=b, months=m)
    return out(b * 12.0 / m)


def backlog_ps(
    market_value: ArrayLike,
    backlog: ArrayLike,
    months: ArrayLike = BACKLOG_MONTHS,
    fx: ArrayLike = 1.0,
) -> FloatOrArray:
    """Forward P/S with backlog as the revenue guide.

    ``P/S = market_value / (backlog x 12 / months x fx)``.

    >>> backlog_ps(79.2e9, 1.2e9, months=12)  # 79.2 / 1.2
    66.0
    """
    mv = positive("market_value", market_value)
    b = positive("backlog", backlog)
    m = positive("months", months)
    f = positive("fx", fx)
    broadcast_shape(market_value=mv, backlog=b, months=m, fx=f)
    return out(mv * m / (b * 12.0 * f))


def ps_multiples(
    market_value: ArrayLike,
    *,
    trailing_revenue: ArrayLike | None = None,
    half_year_revenue: ArrayLike | None = None,
    forward_revenue: ArrayLike | None = None,
    backlog: ArrayLike | None = None,
    backlog_months: ArrayLike = BACKLOG_MONTHS,
    fx: ArrayLike = 1.0,
) -> dict[str, FloatOrArray]:
    """Every P/S basis for which revenue is given, keyed as in :data:`PS_LABELS`.

    >>> ps = ps_multiples(60e9, trailing_revenue=0.3e9, half_year_revenue=0.5e9, backlog=1.2e9)
    >>> {k: round(v, 6) for k, v in ps.items()}
    {'trailing': 200.0, 'run_rate': 60.0, 'backlog': 62.5}
    """
    result: dict[str, FloatOrArray] = {}
    if trailing_revenue is not None:
        result["trailing"] = price_to_sales(market_value, trailing_revenue, fx)
    if half_year_revenue is not None:
        result["run_rate"] = run_rate_ps(market_value, half_year_revenue, fx)
    if forward_revenue is not None:
        result["forward"] = price_to_sales(market_value, forward_revenue, fx)
    if backlog is not None:
        result["backlog"] = backlog_ps(market_value, backlog, backlog_months, fx)
    return result
