"""TAM-share scenarios: value from a share of a forecast market, exit multiple and odds of success.

The story in numbers (one scenario; Bear/Base/Bull are three sets of inputs):

1. TAM in the exit year, from the market forecast's endpoints (China intelligent-computing chips:
   USD 30.1 bn in 2024 to USD 201.2 bn in 2029, 46.3% a year): :func:`tam_at`.
2. ``revenue = share x TAM``; ``earnings = margin x revenue`` (mature net margin).
3. ``exit_value = exit_multiple x earnings`` (``basis="pe"``) or ``x revenue`` (``basis="ps"``).
4. ``pv_exit_value = exit_value / (1 + cost_of_equity)^t``, ``t`` in fractional years from the
   valuation date to the exit date (:func:`gpuval.core.discount.year_fraction`, actual/365.25).
5. Today's holders own ``1 / (1 + dilution)`` of the exit value, ``dilution`` being the new
   shares issued before exit as a fraction of today's count.
6. ``value = prob_success x success + (1 - prob_success) x distress_value``, ``success =
   pv_exit_value / (1 + dilution)`` being today's holders' value if it succeeds and
   ``distress_value = amount + distress_fraction x success`` what their equity is worth if
   commercialisation fails (an amount at today's value, or a fraction of the value if it
   succeeds: Damodaran's distress proceeds as a share of fair value; never a share of today's
   market value, which would make the value follow the price it is compared with).
7. ``value_per_share = value x fx / shares_outstanding`` (``fx``: listing-currency units per unit
   of the model currency, the TAM's); ``upside = value_per_share / price - 1``.

The value is affine in ``share`` (``value = a x share + b``, ``b = (1 - p) x distress_value``),
so the market-implied share has a closed form: :func:`gpuval.core.reverse.implied_share`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gpuval.core import validate as v
from gpuval.core.dcf_rules import _distress, distress_value_xl, one_failure_value
from gpuval.core.validate import ArrayLike, FloatOrArray, InputError

__all__ = [
    "TAM_END_YEAR",
    "TAM_START_YEAR",
    "TamScenario",
    "discount_factor_xl",
    "exit_value_xl",
    "failure_value_xl",
    "probability_weighted",
    "scenario_value",
    "scenario_value_xl",
    "success_value",
    "success_value_xl",
    "tam_at",
    "tam_at_xl",
    "tam_cagr",
    "tam_scenario",
]

TAM_START_YEAR = 2024
"""First endpoint year of the market forecast."""

TAM_END_YEAR = 2029
"""Last endpoint year of the market forecast."""


def tam_cagr(tam_start: ArrayLike, tam_end: ArrayLike, years: ArrayLike = 5.0) -> FloatOrArray:
    """Compound annual growth between two market sizes: ``(tam_end / tam_start)^(1/years) - 1``.

    >>> round(tam_cagr(30.1e9, 201.2e9), 4)  # (201.2 / 30.1)^(1/5) - 1
    0.4622

    The article quotes 46.3% for these endpoints; the rounded endpoints give 46.2%.
    """
    s = v.positive("tam_start", tam_start)
    e = v.positive("tam_end", tam_end)
    n = v.positive("years", years)
    v.broadcast_shape(tam_start=s, tam_end=e, years=n)
    return v.out((e / s) ** (1.0 / n) - 1.0)


def tam_at(
    year: ArrayLike,
    tam_start: ArrayLike,
    tam_end: ArrayLike,
    start_year: float = TAM_START_YEAR,
    end_year: float = TAM_END_YEAR,
) -> FloatOrArray:
    """TAM in ``year`` on the constant-growth path through the two endpoints.

    ``TAM(y) = tam_start x (tam_end / tam_start)^((y - start_year) / (end_year - start_year))``;
    fractional years interpolate, years outside the endpoints extrapolate at the same CAGR.
    Excel: ``=start*(end/start)^((y-y0)/(y1-y0))``.

    >>> tam_at(2026, 100.0, 400.0, 2024, 2028)  # 100 x 4^(2/4) = 100 x 2
    200.0
    """
    y = v.as_float("year", year)
    s = v.positive("tam_start", tam_start)
    e = v.positive("tam_end", tam_end)
    if not end_year > start_year:
        raise InputError(
            f"end_year must be after start_year, got {v.fmt(end_year)} and {v.fmt(start_year)}."
        )
    v.broadcast_shape(year=y, tam_start=s, tam_end=e)
    return v.out(s * (e / s) ** ((y - start_year) / (end_year - start_year)))


def tam_at_xl(year: str, tam_start: str, tam_end: str, start_year: str, end_year: str) -> str:
    """Excel of :func:`tam_at`: ``start*(end/start)^((y-y0)/(y1-y0))``."""
    return f"{tam_start}*({tam_end}/{tam_start})^(({year}-{start_year})/({end_year}-{start_year}))"


def exit_value_xl(share: str, tam: str, margin: str, exit_multiple: str) -> str:
    """Excel of the P/E exit value in :func:`tam_scenario`: ``share x TAM x margin x P/E``."""
    return f"{share}*{tam}*{margin}*{exit_multiple}"


def discount_factor_xl(cost_of_equity: str, years: str) -> str:
    """Excel of the discount factor in :func:`tam_scenario`: ``(1+ke)^-years``."""
    return f"(1+{cost_of_equity})^-{years}"


def success_value(pv_exit_value: FloatOrArray, dilution: FloatOrArray) -> FloatOrArray:
    """Today's holders' value if it succeeds (step 6): ``PV(exit value) / (1 + dilution)``.

    >>> success_value(38.4, 0.2)
    32.0
    """
    return pv_exit_value / (1.0 + dilution)


def success_value_xl(pv_exit_value: str, dilution: str) -> str:
    """Excel of :func:`success_value`: ``pv/(1+dilution)``."""
    return f"{pv_exit_value}/(1+{dilution})"


def failure_value_xl(success: str, fraction: str) -> str:
    """Excel of the value if it fails as a fraction of the value if it succeeds (step 6; the
    DCF's rule :func:`~gpuval.core.dcf_rules.distress_value_xl` with no amount)."""
    return distress_value_xl(success, "0", fraction)


def scenario_value(
    success: FloatOrArray, prob_success: FloatOrArray, distress_value: FloatOrArray
) -> FloatOrArray:
    """Today's equity value of a scenario (step 6 of the module docstring):
    ``p x success + (1 - p) x distress``.

    >>> scenario_value(32.0, 0.5, 2.0)  # 0.5 x 32 + 0.5 x 2
    17.0
    """
    return prob_success * success + (1.0 - prob_success) * distress_value


def scenario_value_xl(success: str, prob_success: str, distress: str) -> str:
    """Excel of :func:`scenario_value`: ``p*success+(1-p)*(distress)``."""
    p = prob_success
    return f"{p}*{success}+(1-{p})*({distress})"


@dataclass(frozen=True)
class TamScenario:
    """Every step of one TAM-share scenario (amounts in the model currency unless noted)."""

    revenue: FloatOrArray
    """Target revenue in the exit year: ``share x tam``."""
    earnings: FloatOrArray
    """Exit-year earnings: ``margin x revenue``."""
    exit_value: FloatOrArray
    """Equity value at exit: ``exit_multiple x earnings`` (P/E) or ``x revenue`` (P/S)."""
    discount_factor: FloatOrArray
    """``1 / (1 + cost_of_equity)^years``."""
    pv_exit_value: FloatOrArray
    """``exit_value x discount_factor``."""
    value: FloatOrArray
    """Today's equity value: success-weighted, diluted, plus distress value otherwise."""
    value_per_share: FloatOrArray
    """``value x fx / shares_outstanding``, listing currency."""
    upside: FloatOrArray | None
    """``value_per_share / price - 1``; ``None`` when no price is given."""


def tam_scenario(
    share: ArrayLike,
    tam: ArrayLike,
    margin: ArrayLike,
    exit_multiple: ArrayLike,
    cost_of_equity: ArrayLike,
    years: ArrayLike,
    shares_outstanding: ArrayLike,
    *,
    prob_success: ArrayLike = 1.0,
    distress_value: ArrayLike = 0.0,
    dilution: ArrayLike = 0.0,
    fx: ArrayLike = 1.0,
    price: ArrayLike | None = None,
    basis: Literal["pe", "ps"] = "pe",
    distress_fraction: ArrayLike = 0.0,
) -> TamScenario:
    """Value one TAM-share scenario (see the module docstring for the equations).

    Args:
        share: target's share of the TAM in the exit year, 0..1.
        tam: TAM in the exit year, model currency (>= 0).
        margin: mature net margin, 0..1 (unused by ``basis="ps"`` except for ``earnings``).
        exit_multiple: exit P/E (``basis="pe"``) or P/S (``basis="ps"``), >= 0.
        cost_of_equity: annual discount rate, > -1.
        years: valuation date to exit date, fractional years (>= 0).
        shares_outstanding: today's share count, > 0.
        prob_success: probability of commercial success, 0..1.
        distress_value: today's equity value if it fails, model currency (>= 0).
        distress_fraction: instead, the value if it fails as a fraction of the value if it
            succeeds, ``pv_exit_value / (1 + dilution)``, 0..1.
        dilution: new shares issued before exit / today's shares (> -1; negative = buy-back).
        fx: listing-currency units per model-currency unit (> 0).
        price: today's share price, listing currency (> 0), for ``upside``.
        basis: ``"pe"`` or ``"ps"``.

    Worked example: 5% of a USD 200 bn TAM = USD 10 bn revenue; 20% margin = USD 2 bn
    earnings; 30x P/E = USD 60 bn at exit; two years at 25%: 60 / 1.5625 = USD 38.4 bn; 50%
    success, diluted by 20%: 0.5 x 38.4 / 1.2 = 16 bn, plus 0.5 x USD 2 bn distress = USD 17 bn;
    x 7.8 HKD/USD / 2.6 bn shares = HKD 51.0 per share, 2% above a HKD 50 price.

    >>> r = tam_scenario(0.05, 200e9, 0.20, 30.0, 0.25, 2.0, 2.6e9, prob_success=0.5,
    ...                  distress_value=2e9, dilution=0.2, fx=7.8, price=50.0)
    >>> round(r.value / 1e9, 9), round(r.value_per_share, 9), round(r.upside, 9)
    (17.0, 51.0, 0.02)

    The failure value as 10% of the value if it succeeds (32 bn): 16 + 0.5 x 3.2 = 17.6 bn.

    >>> round(tam_scenario(0.05, 200e9, 0.20, 30.0, 0.25, 2.0, 2.6e9, prob_success=0.5,
    ...                    distress_fraction=0.1, dilution=0.2).value / 1e9, 9)
    17.6
    """
    s = v.fraction("share", share)
    t_ = v.nonnegative("tam", tam)
    m = v.fraction("margin", margin)
    k = v.nonnegative("exit_multiple", exit_multiple)
    ke = v.rate("cost_of_equity", cost_of_equity)
    t = v.nonnegative("years", years)
    n = v.positive("shares_outstanding", shares_outstanding)
    p = v.fraction("prob_success", prob_success)
    d = v.nonnegative("distress_value", distress_value)
    d_frac = v.fraction("distress_fraction", distress_fraction)
    dil = v.rate("dilution", dilution)
    f = v.positive("fx", fx)
    px = None if price is None else v.positive("price", price)
    if basis not in ("pe", "ps"):
        raise InputError(f"basis must be 'pe' or 'ps', got {basis!r}.")
    v.broadcast_shape(
        share=s, tam=t_, margin=m, exit_multiple=k, cost_of_equity=ke, years=t,
        shares_outstanding=n, prob_success=p, distress_value=d, dilution=dil, fx=f,
        price=0.0 if px is None else px, distress_fraction=d_frac,
    )  # fmt: skip
    one_failure_value(d, d_frac, ("distress_value", "distress_fraction"), "value if it succeeds")
    revenue = s * t_
    earnings = m * revenue
    exit_value = k * (earnings if basis == "pe" else revenue)
    df = (1.0 + ke) ** -t
    pv_exit = exit_value * df
    success = success_value(pv_exit, dil)
    value = scenario_value(success, p, _distress(success, d, d_frac))
    vps = value * f / n
    return TamScenario(
        revenue=v.out(revenue),
        earnings=v.out(earnings),
        exit_value=v.out(exit_value),
        discount_factor=v.out(df),
        pv_exit_value=v.out(pv_exit),
        value=v.out(value),
        value_per_share=v.out(vps),
        upside=None if px is None else v.out(vps / px - 1.0),
    )


def probability_weighted(
    values: Sequence[ArrayLike] | Mapping[str, ArrayLike],
    probabilities: Sequence[float] | Mapping[str, float],
) -> FloatOrArray:
    """Probability-weighted value across scenarios (e.g. Bear/Base/Bull).

    ``value = sum_i p_i x value_i``; each ``p_i`` in 0..1 and ``sum p_i = 1`` (within 1e-9).
    Excel: ``=SUMPRODUCT(probabilities, values)``.

    >>> probability_weighted({"Bear": 10.0, "Base": 30.0, "Bull": 80.0},
    ...                      {"Bear": 0.25, "Base": 0.5, "Bull": 0.25})  # 2.5 + 15 + 20
    37.5
    """
    if isinstance(values, Mapping) and isinstance(probabilities, Mapping):
        if set(values) != set(probabilities):
            raise InputError(
                f"values and probabilities must name the same scenarios, got {sorted(values)} "
                f"and {sorted(probabilities)}."
            )
        names = list(values)
        vals = [values[k] for k in names]
        probs = [probabilities[k] for k in names]
    elif isinstance(values, Mapping) or isinstance(probabilities, Mapping):
        raise InputError("values and probabilities must both be mappings or both be sequences.")
    else:
        names = [f"[{i}]" for i in range(len(values))]
        vals, probs = list(values), list(probabilities)
        if len(vals) != len(probs):
            raise InputError(
                f"values and probabilities must have the same length, got {len(vals)} "
                f"and {len(probs)}."
            )
    if not vals:
        raise InputError("values must name at least one scenario.")
    vs = {name: v.as_float(f"values {name}", x) for name, x in zip(names, vals, strict=True)}
    ps = [float(v.fraction(f"probability {name}", p)) for name, p in zip(names, probs, strict=True)]
    total = math.fsum(ps)
    if abs(total - 1.0) > 1e-9:
        raise InputError(f"probabilities must sum to 1, got {v.fmt(total)}.")
    v.broadcast_shape(**vs)
    result: FloatOrArray = 0.0
    for p, x in zip(ps, vs.values(), strict=True):
        result = result + p * x
    return v.out(result)
