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

import math
from collections.abc import Mapping, Sequence

from gpuval.core import validate as v
from gpuval.core.validate import ArrayLike, FloatOrArray, InputError

__all__ = [
    "BACKLOG_MONTHS",
    "BACKLOG_MONTHS_RANGE",
    "DCF_BASE_ORDER",
    "NOT_REPORTED",
    "PEER_BASES",
    "PEER_YEARS",
    "PS_LABELS",
    "backlog_ps",
    "backlog_revenue",
    "backlog_revenue_xl",
    "basis_key",
    "basis_pick_xl",
    "first_available",
    "first_number_xl",
    "fiscal_year_counts",
    "fiscal_year_counts_xl",
    "not_reported_xl",
    "peer_market_value",
    "peer_market_value_xl",
    "price_to_sales",
    "ps_bound",
    "ps_bound_xl",
    "ps_multiples",
    "ps_or_none",
    "ps_xl",
    "run_rate_ps",
    "run_rate_revenue",
    "run_rate_revenue_xl",
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
    mv = v.positive("market_value", market_value)
    rev = v.positive("revenue", revenue)
    f = v.positive("fx", fx)
    v.broadcast_shape(market_value=mv, revenue=rev, fx=f)
    return v.out(mv / (rev * f))


def run_rate_revenue(half_year_revenue: ArrayLike) -> FloatOrArray:
    """Annualised run-rate revenue from one half-year: ``run_rate = half_year_revenue x 2``.

    >>> run_rate_revenue(2.88e9)  # Cambricon H1 2025, CNY
    5760000000.0
    """
    h = v.nonnegative("half_year_revenue", half_year_revenue)
    return v.out(h * 2.0)


def run_rate_ps(
    market_value: ArrayLike, half_year_revenue: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """P/S on run-rate revenue: ``market_value / (2 x half_year_revenue x fx)``.

    >>> run_rate_ps(300e9, 0.7e9)  # CNY 300 bn / (0.7 bn x 2)
    214.28571428571428
    """
    mv = v.positive("market_value", market_value)
    h = v.positive("half_year_revenue", half_year_revenue)
    f = v.positive("fx", fx)
    v.broadcast_shape(market_value=mv, half_year_revenue=h, fx=f)
    return v.out(mv / (2.0 * h * f))


def backlog_revenue(backlog: ArrayLike, months: ArrayLike = BACKLOG_MONTHS) -> FloatOrArray:
    """Annual revenue implied by delivering ``backlog`` evenly over ``months`` months.

    ``annualised = backlog x 12 / months``; backlog >= 0, months > 0.

    >>> backlog_revenue(1.24e9)  # CNY 1.24 bn over 15 months
    992000000.0
    """
    b = v.nonnegative("backlog", backlog)
    m = v.positive("months", months)
    v.broadcast_shape(backlog=b, months=m)
    return v.out(b * 12.0 / m)


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
    mv = v.positive("market_value", market_value)
    b = v.positive("backlog", backlog)
    m = v.positive("months", months)
    f = v.positive("fx", fx)
    v.broadcast_shape(market_value=mv, backlog=b, months=m, fx=f)
    return v.out(mv * m / (b * 12.0 * f))


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
    >>> {k: round(x, 6) for k, x in ps.items()}
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


# --- the peer table's rules, one home each in Python and Excel --------------------------------

PEER_BASES = {
    "full year": "full_year",
    "run-rate": "run_rate",
    "forward": "forward",
    "backlog": "backlog",
}
"""The revenue bases of the peer table: the analyst's choice (``in_peer_basis``) -> its key.
``full_year``: each company's latest full fiscal year (reported, guided or estimated, as its
label on Peers says); ``run_rate``: the latest half-year x 2; ``forward``: a later year's
guidance or estimate; ``backlog``: the order backlog annualised. Statistics, implied values and
the venue gap use one basis for every company; a company without it is left out."""

DCF_BASE_ORDER = ("full_year", "run_rate", "forward")
"""The DCF's base-year revenue is the first basis the sources give, in this order."""


def basis_key(choice: str) -> str:
    """``in_peer_basis`` -> the basis key (raises one sentence for an unknown choice).

    >>> basis_key("full year")
    'full_year'
    """
    if choice not in PEER_BASES:
        raise InputError(f"in_peer_basis must be one of {', '.join(PEER_BASES)}; got {choice!r}.")
    return PEER_BASES[choice]


PEER_YEARS = ("same as the target", "any")
"""Which fiscal years count on the full-year basis (``in_peer_years``): only the target's (like
with like, the default), or any (each company's latest, as the sources give it). No apostrophe:
LibreOffice's autocorrect would type a curly one."""


def fiscal_year_counts(
    choice: str, years: str, year: float | None, target_year: float | None
) -> bool:
    """A company's P/S counts (statistics, venue gap) under the fiscal-year rule: on the full-year
    basis with ``in_peer_years`` = "same as the target", only when its full-year revenue is of
    the target's fiscal year (both years numbers); on another basis, or with "any", always. The
    choices compare in any case, as Excel's ``=`` does.

    For growing companies a later year's revenue is larger, so a P/S of FY2025 applied to a
    target's FY2024 revenue undervalues it by about a year's growth.

    >>> fiscal_year_counts("full year", "same as the target", 2025, 2024)
    False
    >>> fiscal_year_counts("full year", "any", 2025, 2024)
    True
    """
    if not isinstance(years, str) or years.lower() not in PEER_YEARS:
        raise InputError(f"in_peer_years must be one of {', '.join(PEER_YEARS)}; got {years!r}.")
    if basis_key(choice) != "full_year" or years.lower() == PEER_YEARS[1]:
        return True
    both = (year, target_year)
    return all(isinstance(y, int | float) and not isinstance(y, bool) for y in both) and (
        year == target_year
    )


def fiscal_year_counts_xl(choice: str, years: str, year: str, target_year: str) -> str:
    """Excel of :func:`fiscal_year_counts` (``target_year`` text such as "n/a" matches none)."""
    full_year = next(k for k, v in PEER_BASES.items() if v == "full_year")
    return (
        f'OR({choice}<>"{full_year}",{years}="{PEER_YEARS[1]}",AND(ISNUMBER({year}),'
        f"{year}={target_year}))"
    )


def basis_pick_xl(choice: str, cells: Mapping[str, str]) -> str:
    """Excel of :func:`basis_key` then a lookup: the cell of ``cells`` (keyed by basis key) for
    the choice in ``choice``, else "n/a"."""
    formula = '"n/a"'
    for label, key in reversed(list(PEER_BASES.items())):
        formula = f'IF({choice}="{label}",{cells[key]},{formula})'
    return formula


def first_available(values: Mapping[str, float | None], order: Sequence[str]) -> str | None:
    """The first key of ``order`` whose value is a number (not None or NaN), else None.

    >>> first_available({"full_year": None, "run_rate": 77.6}, DCF_BASE_ORDER)
    'run_rate'
    """
    for key in order:
        value = values.get(key)
        if value is not None and not math.isnan(value):
            return key
    return None


def first_number_xl(cells: Sequence[str], results: Sequence[str] | None = None) -> str:
    """Excel of :func:`first_available`: the result (default: the cell itself) of the first cell
    of ``cells`` that holds a number, else "n/a"."""
    formula = '"n/a"'
    for cell, result in reversed(list(zip(cells, results or cells, strict=True))):
        formula = f"IF(ISNUMBER({cell}),{result},{formula})"
    return formula


def peer_market_value(
    price: float | None, shares: float | None, stated: float | None, fx: float
) -> float | None:
    """A company's market value in the model currency: ``price x shares x fx`` when both are
    given, else the stated market value ``x fx``, else None.

    >>> peer_market_value(35.7, 2.0, 90.0, 0.5), peer_market_value(None, None, 90.0, 0.5)
    (35.7, 45.0)
    """
    if price is not None and shares is not None:
        return price * shares * fx
    return None if stated is None else stated * fx


def peer_market_value_xl(price: str, shares: str, stated: str, fx: str) -> str:
    """Excel of :func:`peer_market_value`."""
    return (f"IF(AND(ISNUMBER({price}),ISNUMBER({shares})),{price}*{shares}*{fx},"
            f'IF(ISNUMBER({stated}),{stated}*{fx},"n/a"))')  # fmt: skip


def ps_or_none(market_value: float | None, revenue: float | None) -> float | None:
    """:func:`price_to_sales` when both figures exist and revenue is positive, else None.

    >>> ps_or_none(300.0, 1.5), ps_or_none(300.0, 0.0), ps_or_none(None, 1.5)
    (200.0, None, None)
    """
    if market_value is None or revenue is None or not revenue > 0:
        return None
    return market_value / revenue


def ps_xl(market_value: str, revenue: str) -> str:
    """Excel of :func:`ps_or_none`."""
    both = f"AND(ISNUMBER({market_value}),ISNUMBER({revenue}))"
    return f'IF({both},IF({revenue}>0,{market_value}/{revenue},"n/a"),"n/a")'


def run_rate_revenue_xl(half_year_revenue: str) -> str:
    """Excel of :func:`run_rate_revenue`: ``2*H1``."""
    return f"2*{half_year_revenue}"


def backlog_revenue_xl(backlog: str, months: str) -> str:
    """Excel of :func:`backlog_revenue`: ``backlog*12/months``."""
    return f"{backlog}*12/{months}"


_LOWER, _UPPER, _PEAK = "lower bound", "upper bound", "peak"
"""The words a figure's description uses (:func:`gpuval.data.labels.figure_label`)."""


def _ps_is(m: int, r: int, peak: bool) -> str:
    """The rule of :func:`ps_bound` for directions ``m``, ``r`` and a peak market value."""
    if m == r != 0:
        what = f"no bound: both figures are {'lower' if m > 0 else 'upper'} bounds"
    else:
        what = "lower bound" if m - r > 0 else "upper bound" if m - r < 0 else "point value"
    return f"at a peak, not today: {what}" if peak else what


def _direction(text: str) -> int:
    """+1 when a figure is a lower bound (the true value is at least it), -1 an upper bound."""
    return (_LOWER in text) - (_UPPER in text)


def ps_bound(market_is: str, revenue_is: str) -> str:
    """What P/S = market value / revenue is, given what each figure is: with ``m`` and ``r``
    +1 for a lower bound, -1 for an upper bound and 0 for a stated figure, the P/S is a lower
    bound when ``m - r > 0`` and an upper bound when ``m - r < 0``, unless both figures are
    bounds the same way (then it is no bound). A peak market value bounds nothing about today's:
    its P/S is said to be at a peak, not today, before what it is of the peak.

    >>> ps_bound("2026-01 market value, lower bound (over)", "FY2025 guidance, upper bound")
    'lower bound'
    >>> ps_bound("2025-12 peak market value, lower bound (over)", "FY2025 guidance, upper bound")
    'at a peak, not today: lower bound'
    """
    return _ps_is(_direction(market_is), _direction(revenue_is), _PEAK in market_is)


def _has_xl(cell: str, word: str) -> str:
    return f'ISNUMBER(SEARCH("{word}",{cell}))'  # SEARCH ignores case


def bound_direction_xl(described: str) -> str:
    """Excel of :func:`_direction` on the description in cell ``described``: 1, -1 or 0."""
    return f"({_has_xl(described, _LOWER)}-{_has_xl(described, _UPPER)})"


NOT_REPORTED = ("guidance", "estimate", "assumption", "not reported")
"""Words of a description (:func:`gpuval.data.labels.figure_label`) of a figure no company
reported: guidance, someone's estimate, an assumption, a market quip (Peers puts such revenues
in italics)."""


def not_reported_xl(described: str) -> str:
    """Excel: TRUE when the description in cell ``described`` has a word of
    :data:`NOT_REPORTED`."""
    return f"OR({','.join(_has_xl(described, word) for word in NOT_REPORTED)})"


def peak_xl(market_is: str) -> str:
    """Excel: TRUE when the market figure described in ``market_is`` is at a past peak."""
    return _has_xl(market_is, _PEAK)


def ps_bound_xl(market_is: str, revenue_is: str) -> str:
    """Excel of :func:`ps_bound`: ``CHOOSE`` over :func:`_ps_is`'s 18 cases, numbered
    ``3m + r + 5`` (+ 9 at a peak)."""
    cases = [_ps_is(m, r, peak) for peak in (False, True) for m in (-1, 0, 1) for r in (-1, 0, 1)]
    texts = ",".join(f'"{text}"' for text in cases)
    m, r = bound_direction_xl(market_is), bound_direction_xl(revenue_is)
    return f"CHOOSE(3*{m}+{r}+5+9*{peak_xl(market_is)},{texts})"
