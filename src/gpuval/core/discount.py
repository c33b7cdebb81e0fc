"""Time and discounting conventions.

* Fractional years between two dates: ``t = (end - start).days / 365.25`` (actual days over an
  average Julian year; Excel: ``=(end-start)/365.25``). Not Excel's ``YEARFRAC``, whose bases
  differ between Excel and LibreOffice for some dates.
* A single amount received after ``t`` years at annual rate ``r``: ``PV = amount / (1 + r)^t``.
* Multi-year cash flows (the DCF) are end-of-year flows discounted by the *cumulative* factor
  ``DF_t = 1 / prod_{k<=t} (1 + r_k)``, so the rate may change from year to year. With a flat
  rate this equals Excel's ``NPV(r, CF_1..CF_n)``, which treats its first value as a year-1 flow.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from gpuval.core import validate as v
from gpuval.core.validate import ArrayLike, FloatOrArray, InputError

__all__ = ["DAYS_PER_YEAR", "cumulative_discount_factors", "discount_factor", "year_fraction"]

DAYS_PER_YEAR = 365.25
"""Days per year in :func:`year_fraction` (actual/365.25)."""


def _as_date(name: str, value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{name} must be a date (YYYY-MM-DD), got {value!r}.")


def year_fraction(start: dt.date | str, end: dt.date | str) -> float:
    """Years from ``start`` to ``end``: ``t = (end - start).days / 365.25``.

    Raises :class:`InputError` if ``end`` is before ``start``.

    >>> round(year_fraction("2026-01-05", "2029-12-31"), 6)  # 1,456 days / 365.25
    3.986311
    """
    s = _as_date("start", start)
    e = _as_date("end", end)
    days = (e - s).days
    if days < 0:
        raise InputError(
            f"end must not be before start, got {e.isoformat()} before {s.isoformat()}."
        )
    return days / DAYS_PER_YEAR


def discount_factor(rate: ArrayLike, years: ArrayLike) -> FloatOrArray:
    """Discount factor for an amount received after ``years`` years.

    ``DF = 1 / (1 + rate)^years``; ``rate`` > -1, ``years`` >= 0 (fractional allowed).

    >>> discount_factor(0.10, 2)  # 1 / 1.1^2 = 1 / 1.21
    0.8264462809917354
    """
    r = v.rate("rate", rate)
    t = v.nonnegative("years", years)
    v.broadcast_shape(rate=r, years=t)
    return v.out((1.0 + r) ** -t)


def cumulative_discount_factors(rates: ArrayLike) -> np.ndarray:
    """End-of-year discount factors for a path of annual rates along the last axis.

    ``DF_t = 1 / prod_{k=1..t} (1 + r_k)``.

    >>> cumulative_discount_factors([0.10, 0.10, 0.05]).round(6).tolist()
    [0.909091, 0.826446, 0.787092]
    """
    r = v.rate("rates", rates)
    return 1.0 / np.cumprod(1.0 + np.atleast_1d(r), axis=-1)
