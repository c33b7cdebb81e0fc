"""The DCF's one-cell path (Python floats throughout) equals its array path element by element.

``young_growth_dcf`` and friends run the same equations on floats (one cell: plain arithmetic,
no numpy) and on arrays (numpy, broadcast). Hypothesis draws several valid input sets, values
each set alone with floats, then all of them at once with arrays (a random subset of the inputs
as arrays, the rest shared scalars), and compares every result and every yearly schedule value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuval.core import InputError, dcf_equity_value, dcf_value_per_share, young_growth_dcf

REL = 1e-12

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fin(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# Every float input of the DCF and a valid range for it; terminal_growth is drawn as a gap
# below mature_cost_of_capital, and distress_proceeds / distress_fraction one at a time.
FLOATS: dict[str, st.SearchStrategy[float]] = {
    "revenue": fin(0.0, 1e12),
    "growth_y1": fin(-0.9, 3.0),
    "growth_y2_5": fin(-0.5, 2.0),
    "operating_margin": fin(-5.0, 0.6),
    "target_margin": fin(-0.2, 0.6),
    "sales_to_capital": fin(0.1, 10.0),
    "tax_rate": fin(0.0, 0.5),
    "cost_of_capital": fin(0.02, 0.3),
    "mature_cost_of_capital": fin(0.03, 0.2),
    "shares_outstanding": fin(1e6, 1e11),
    "nol": fin(0.0, 1e11),
    "prob_failure": fin(0.0, 1.0),
    "cash": fin(0.0, 1e11),
    "debt": fin(0.0, 1e11),
    "fx": fin(0.01, 10.0),
    "ipo_proceeds": fin(0.0, 1e10),
    "non_operating_assets": fin(0.0, 1e10),
    "minority_interests": fin(0.0, 1e10),
    "bridge_growth": fin(-0.5, 1.0),
    "growth_gap": fin(0.001, 0.2),  # mature_cost_of_capital - terminal_growth
    "marginal_tax_rate": fin(0.0, 0.5),
    "terminal_roc": fin(0.01, 0.5),
    "distress_proceeds": fin(0.0, 1e11),
    "distress_fraction": fin(0.0, 1.0),
}


@st.composite
def input_sets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any], set[str]]:
    """``n`` valid float input sets sharing the whole-number inputs and which optional inputs
    are given; the names drawn as arrays (the others are shared by every set)."""
    n = draw(st.integers(1, 4))
    fixed = {
        "margin_convergence_year": draw(st.integers(1, 10)),
        "high_growth_years": draw(st.integers(1, 9)),
        "bridge_years": draw(st.integers(0, 3)),
    }
    optional = {
        "marginal_tax_rate": draw(st.booleans()),
        "terminal_roc": draw(st.booleans()),
        "distress_proceeds": draw(st.booleans()),
    }
    optional["distress_fraction"] = not optional["distress_proceeds"]
    names = [k for k in FLOATS if optional.get(k, True)]
    arrays = set(draw(st.lists(st.sampled_from(names), unique=True))) if n > 1 else set()
    shared = {k: draw(FLOATS[k]) for k in names if k not in arrays}
    sets = []
    for _ in range(n):
        s = {**shared, **{k: draw(FLOATS[k]) for k in arrays}}
        s["terminal_growth"] = s["mature_cost_of_capital"] - s.pop("growth_gap")
        sets.append(s)
    if "growth_gap" in arrays or "mature_cost_of_capital" in arrays:
        arrays |= {"terminal_growth"}
    arrays -= {"growth_gap"}
    return sets, fixed, arrays


def _stacked(sets: list[dict[str, Any]], arrays: set[str]) -> dict[str, Any]:
    """The input sets as one call: the names in ``arrays`` as arrays, the rest scalars."""
    return {k: np.array([s[k] for s in sets]) if k in arrays else sets[0][k] for k in sets[0]}


def _close(one: float, many: float) -> bool:
    if not (math.isfinite(one) and math.isfinite(many)):
        return math.isnan(one) == math.isnan(many) and (math.isnan(one) or one == many)
    return math.isclose(one, many, rel_tol=REL, abs_tol=0.0) or one == many


@SETTINGS
@given(input_sets())
def test_scalar_path_equals_array_path(case: Any) -> None:
    sets, fixed, arrays = case
    together = _stacked(sets, arrays)
    vps = dcf_value_per_share(**together, **fixed)
    equity = dcf_equity_value(**together, **fixed)
    full = young_growth_dcf(**together, **fixed)
    for i, s in enumerate(sets):
        one = young_growth_dcf(**s, **fixed)
        # the one-cell path really is plain floats
        assert type(one.value_per_share) is float
        assert type(dcf_value_per_share(**s, **fixed)) is float
        # (a total that no array input reaches, e.g. equity_value when only
        # shares_outstanding is an array, comes back as one number: it holds for every set)
        pick = (lambda v, i=i: float(np.broadcast_to(v, (len(sets),))[i])) if arrays else float
        assert _close(dcf_value_per_share(**s, **fixed), pick(vps))
        assert _close(dcf_equity_value(**s, **fixed), pick(equity))
        for field in (
            "bridge_revenue", "terminal_revenue", "terminal_after_tax_ebit",
            "terminal_reinvestment", "terminal_fcff", "terminal_value", "pv_terminal_value",
            "sum_pv_fcff", "going_concern_value", "distress_value", "operating_assets_value",
            "equity_value", "value_per_share",
        ):  # fmt: skip
            assert _close(getattr(one, field), pick(getattr(full, field))), field
        for field in (
            "growth", "revenue", "operating_margin", "ebit", "tax_rate", "taxes", "nol",
            "after_tax_ebit", "reinvestment", "fcff", "cost_of_capital", "discount_factor",
            "pv_fcff",
        ):  # fmt: skip
            year_one = getattr(one, field)
            year_many = getattr(full, field)
            row = year_many[i] if arrays else year_many
            assert year_one.shape == (10,)
            for t in range(10):
                assert _close(float(year_one[t]), float(row[t])), (field, t + 1)


@SETTINGS
@given(input_sets(), st.sampled_from(["revenue", "tax_rate", "prob_failure", "fx"]))
def test_both_paths_refuse_the_same_bad_value(case: Any, name: str) -> None:
    # one bad value: the float path and the array path (bad value in the last element) both
    # refuse it with a sentence naming the argument
    sets, fixed, _ = case
    bad = {"revenue": -1.0, "tax_rate": 1.5, "prob_failure": -0.1, "fx": 0.0}[name]
    messages = []
    for inputs in ({**sets[0], name: bad}, {**sets[0], name: np.array([sets[0][name], bad])}):
        try:
            dcf_value_per_share(**inputs, **fixed)
        except InputError as exc:
            messages.append(str(exc))
    assert len(messages) == 2
    assert all(m.startswith(f"{name} must be") for m in messages)
