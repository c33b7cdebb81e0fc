"""Reverse valuation: the input a market value implies.

* :func:`implied_share` -- the market share (of the exit-year TAM) at which the TAM scenario's
  value equals today's market value. The scenario value is affine in share,
  ``value(s) = value(0) + s x (value(1) - value(0))``, so
  ``s = (market_value / fx - value(0)) / (value(1) - value(0))``: a closed form Excel can mirror.
* :func:`implied_growth` -- the years 2-5 revenue growth at which the young-growth DCF's equity
  value equals today's market value, found with :func:`find_root`.
* :func:`find_root` / :func:`solve_for` -- a vectorised bracketing root-finder (bisection) for
  any scalar input of any vectorised core function. It needs a sign change of
  ``f(x) - target`` over ``[lo, hi]``; without one it raises :class:`InputError` saying no value
  in the bracket reproduces the target.

``market_value`` is always today's total market value of equity in the listing currency
(price x shares outstanding); ``fx`` converts the model currency into it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gpuval.core import validate as v
from gpuval.core.dcf import dcf_equity_value
from gpuval.core.tam import tam_scenario
from gpuval.core.validate import ArrayLike, FloatOrArray, InputError

__all__ = ["find_root", "implied_growth", "implied_share", "solve_for"]

XTOL = 1e-12
"""Default absolute tolerance on the solved input."""


def _pct(x: float) -> str:
    return f"{v.fmt(x * 100.0)}%"


def find_root(
    f: Callable[[FloatOrArray], Any],
    target: ArrayLike,
    lo: float,
    hi: float,
    *,
    xtol: float = XTOL,
    describe: Callable[[float, float, float], str] | None = None,
) -> FloatOrArray:
    """Solve ``f(x) = target`` for ``x`` in ``[lo, hi]`` by vectorised bisection.

    ``f`` maps an array of ``x`` (broadcast against ``target``) to values. Every element must have
    ``f(lo) - target`` and ``f(hi) - target`` of opposite signs (or zero); the first element that
    does not raises :class:`InputError`, worded by ``describe(lo, hi, target)`` if given.
    ``ceil(log2((hi - lo) / xtol))`` halvings; the midpoint of the final bracket is returned.

    >>> round(find_root(lambda x: x**3, 8.0, 0.0, 10.0), 9)
    2.0
    """
    tgt = v.as_float("target", target)
    lo_, hi_ = float(lo), float(hi)
    if not (math.isfinite(lo_) and math.isfinite(hi_) and lo_ < hi_):
        raise InputError(f"the bracket must satisfy lo < hi, got {v.fmt(lo_)} and {v.fmt(hi_)}.")
    f_lo = np.asarray(f(lo_), dtype=float) - tgt
    f_hi = np.asarray(f(hi_), dtype=float) - tgt
    shape = np.broadcast_shapes(np.shape(f_lo), np.shape(f_hi), np.shape(tgt))
    f_lo, f_hi = np.broadcast_to(f_lo, shape), np.broadcast_to(f_hi, shape)
    bad = ~((np.sign(f_lo) * np.sign(f_hi) <= 0) & np.isfinite(f_lo) & np.isfinite(f_hi))
    if bad.any():
        idx = tuple(np.argwhere(bad)[0]) if bad.ndim else ()
        t_bad = float(np.broadcast_to(tgt, shape)[idx])
        msg = (
            describe(lo_, hi_, t_bad)
            if describe
            else f"no value between {v.fmt(lo_)} and {v.fmt(hi_)} reproduces a target of "
            f"{v.fmt(t_bad)}."
        )
        raise InputError(msg)
    a = np.full(shape, lo_)
    b = np.full(shape, hi_)
    fa = f_lo.copy()
    for _ in range(max(1, math.ceil(math.log2((hi_ - lo_) / xtol)))):
        mid = 0.5 * (a + b)
        fm = np.broadcast_to(np.asarray(f(mid), dtype=float) - tgt, shape)
        right = np.sign(fm) == np.sign(fa)  # root lies in [mid, b]
        a = np.where(right, mid, a)
        fa = np.where(right, fm, fa)
        b = np.where(right, b, mid)
    return v.out(0.5 * (a + b))


def solve_for(
    func: Callable[..., Any],
    name: str,
    target: ArrayLike,
    lo: float,
    hi: float,
    *,
    output: str | None = None,
    label: str | None = None,
    target_label: str = "a target",
    xtol: float = XTOL,
    **inputs: Any,
) -> FloatOrArray:
    """The value of input ``name`` at which ``func(**inputs)`` (or its ``output``) hits ``target``.

    >>> from gpuval.core.tam import tam_scenario
    >>> s = solve_for(tam_scenario, "share", 30.0, 0.0, 1.0, output="value_per_share",
    ...               tam=200e9, margin=0.2, exit_multiple=30.0, cost_of_equity=0.25,
    ...               years=2.0, shares_outstanding=2.6e9, prob_success=0.5,
    ...               distress_value=2e9, dilution=0.2, fx=7.8)
    >>> round(s, 9)  # 30 HKD = (0.5 x s x 768 bn / 1.2 + 1 bn) x 3 -> s = 9 / 320 = 0.028125
    0.028125
    """
    if name in inputs:
        raise InputError(f"{name} is the input being solved for, so it must not also be given.")

    def f(x: FloatOrArray) -> Any:
        return v.pick(func(**{name: x}, **inputs), output)

    def describe(a: float, b: float, t: float) -> str:
        what = label or name
        return (
            f"no {what} between {v.fmt(a)} and {v.fmt(b)} reproduces {target_label} of {v.fmt(t)}."
        )

    return find_root(f, target, lo, hi, xtol=xtol, describe=describe)


def implied_share(market_value: ArrayLike, **scenario: Any) -> FloatOrArray:
    """The exit-year market share that today's market value implies in a TAM scenario.

    ``scenario`` holds every argument of :func:`gpuval.core.tam.tam_scenario` except ``share``
    (and ``price``). ``share = (market_value / fx - value(0)) / (value(1) - value(0))``, where
    ``value(s)`` is the scenario's equity value at share ``s``. Raises :class:`InputError` if the
    value does not depend on share or the implied share is outside 0..1.

    >>> implied_share(78e9, tam=200e9, margin=0.2, exit_multiple=30.0, cost_of_equity=0.25,
    ...               years=2.0, shares_outstanding=2.6e9, prob_success=0.5,
    ...               distress_value=2e9, dilution=0.2, fx=7.8)  # (10 - 1) / 320
    0.028125
    """
    mv = v.positive("market_value", market_value)
    if "share" in scenario or "price" in scenario:
        raise InputError("implied_share solves for share, so share and price must not be given.")
    fx = v.positive("fx", scenario.get("fx", 1.0))
    v0 = tam_scenario(0.0, **scenario).value
    v1 = tam_scenario(1.0, **scenario).value
    if (
        isinstance(mv, float)
        and isinstance(v0, float)
        and isinstance(v1, float)
        and isinstance(fx, float)
    ):
        return _implied_share_scalar(mv, v0, v1, fx)  # one cell: no array machinery
    v.broadcast_shape(market_value=mv, value=v0, fx=fx)
    mv_a, v0_a, v1_a, fx_a = np.broadcast_arrays(*(np.asarray(x) for x in (mv, v0, v1, fx)))
    slope = v1_a - v0_a
    flat = slope == 0
    if flat.any():
        i = tuple(np.argwhere(flat)[0]) if flat.ndim else ()
        raise InputError(
            f"no market share reproduces a market value of {v.fmt(mv_a[i])}: the scenario's value "
            "does not depend on share (tam, margin or exit_multiple is 0, or prob_success and "
            "distress_fraction both are)."
        )
    share_a = (mv_a / fx_a - v0_a) / slope
    tol = 1e-12
    outside = (share_a < -tol) | (share_a > 1.0 + tol)
    if outside.any():
        i = tuple(np.argwhere(outside)[0]) if outside.ndim else ()
        raise InputError(
            f"no market share between 0 and 1 reproduces a market value of {v.fmt(mv_a[i])}; "
            f"it would take a share of {v.fmt(share_a[i])}."
        )
    return v.out(np.clip(share_a, 0.0, 1.0))


def _implied_share_scalar(mv: float, v0: float, v1: float, fx: float) -> float:
    """:func:`implied_share` for plain floats (same equation, same errors)."""
    slope = v1 - v0
    if slope == 0:
        raise InputError(
            f"no market share reproduces a market value of {v.fmt(mv)}: the scenario's value "
            "does not depend on share (tam, margin or exit_multiple is 0, or prob_success and "
            "distress_fraction both are)."
        )
    share = (mv / fx - v0) / slope
    if share < -1e-12 or share > 1.0 + 1e-12:
        raise InputError(
            f"no market share between 0 and 1 reproduces a market value of {v.fmt(mv)}; "
            f"it would take a share of {v.fmt(share)}."
        )
    return min(max(share, 0.0), 1.0)


def implied_growth(
    market_value: ArrayLike,
    *,
    lo: float = -0.5,
    hi: float = 2.0,
    include_year1: bool = False,
    xtol: float = XTOL,
    **dcf_inputs: Any,
) -> FloatOrArray:
    """The years 2-5 revenue growth at which the DCF's equity value equals the market value.

    Solves ``dcf_equity_value(growth_y2_5=g, ...) x fx = market_value`` for ``g`` in
    ``[lo, hi]`` (default -50% to 200%) with :func:`find_root`. With ``include_year1`` the same
    growth is used for year 1 too (then ``growth_y1`` must not be given). ``dcf_inputs`` are the
    other arguments of :func:`gpuval.core.dcf.young_growth_dcf`.

    >>> inputs = dict(revenue=100.0, growth_y1=0.0, terminal_growth=0.0, operating_margin=0.2,
    ...     target_margin=0.2, sales_to_capital=1.0, tax_rate=0.25, cost_of_capital=0.10,
    ...     mature_cost_of_capital=0.10, shares_outstanding=10.0)
    >>> abs(implied_growth(150.0, **inputs)) < 1e-9  # 150 is the no-growth perpetuity value
    True
    """
    mv = v.positive("market_value", market_value)
    fx = v.positive("fx", dcf_inputs.get("fx", 1.0))
    if "growth_y2_5" in dcf_inputs:
        raise InputError("implied_growth solves for growth_y2_5, so it must not also be given.")
    if include_year1 and "growth_y1" in dcf_inputs:
        raise InputError("with include_year1, growth_y1 is solved for, so it must not be given.")

    def f(g: FloatOrArray) -> Any:
        extra = {"growth_y1": g} if include_year1 else {}
        return dcf_equity_value(growth_y2_5=g, **extra, **dcf_inputs) * fx

    def describe(a: float, b: float, t: float) -> str:
        return (
            f"no revenue growth between {_pct(a)} and {_pct(b)} reproduces a market value of "
            f"{v.fmt(t)}."
        )

    return find_root(f, mv, lo, hi, xtol=xtol, describe=describe)
