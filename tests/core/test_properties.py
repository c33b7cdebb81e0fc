"""Property tests (Hypothesis): monotonicity, vectorised = scalar loop, congruence, collapse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpuval.core import (
    InputError,
    Point,
    backlog_ps,
    dcf_equity_value,
    dcf_value_per_share,
    fraction_of_nvidia_value,
    implied_fraction_of_nvidia,
    implied_growth,
    implied_share,
    percentile_inc,
    simulate,
    tam_scenario,
    young_growth_dcf,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fin(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# --- TAM scenario ------------------------------------------------------------------------------

tam_inputs = st.fixed_dictionaries(
    {
        "tam": fin(1e9, 1e12),
        "margin": fin(0.01, 0.6),
        "exit_multiple": fin(1.0, 100.0),
        "cost_of_equity": fin(0.0, 0.5),
        "years": fin(0.1, 8.0),
        "shares_outstanding": fin(1e8, 1e10),
        "prob_success": fin(0.05, 1.0),
        "distress_value": fin(0.0, 1e10),
        "dilution": fin(0.0, 1.0),
        "fx": fin(0.1, 10.0),
    }
)


class TestTamProperties:
    @SETTINGS
    @given(tam_inputs, fin(0.0, 1.0), fin(0.0, 1.0))
    def test_value_rises_with_share(self, kw: dict[str, Any], a: float, b: float) -> None:
        lo, hi = sorted((a, b))
        assume(hi - lo > 1e-6)
        assert tam_scenario(hi, **kw).value_per_share > tam_scenario(lo, **kw).value_per_share

    @SETTINGS
    @given(tam_inputs, fin(0.001, 1.0), fin(0.0, 1.0), fin(0.0, 1.0))
    def test_value_rises_with_margin(
        self, kw: dict[str, Any], s: float, a: float, b: float
    ) -> None:
        lo, hi = sorted((a, b))
        assume(hi - lo > 1e-6)
        k = {**kw, "share": s}
        assert (
            tam_scenario(**{**k, "margin": hi}).value_per_share
            > tam_scenario(**{**k, "margin": lo}).value_per_share
        )

    @SETTINGS
    @given(tam_inputs, fin(0.001, 1.0), fin(-0.5, 1.0), fin(-0.5, 1.0))
    def test_value_falls_with_discount_rate(
        self, kw: dict[str, Any], s: float, a: float, b: float
    ) -> None:
        lo, hi = sorted((a, b))
        assume(hi - lo > 1e-6)
        k = {**kw, "share": s}
        assert (
            tam_scenario(**{**k, "cost_of_equity": hi}).value_per_share
            < tam_scenario(**{**k, "cost_of_equity": lo}).value_per_share
        )

    @SETTINGS
    @given(tam_inputs, st.lists(fin(0.0, 1.0), min_size=1, max_size=8), fin(0.01, 0.5))
    def test_vectorised_equals_scalar_loop(
        self, kw: dict[str, Any], shares: list[float], m: float
    ) -> None:
        margins = np.linspace(m, 0.6, 3)
        grid = tam_scenario(np.array(shares)[:, None], **{**kw, "margin": margins[None, :]})
        for i, s in enumerate(shares):
            for j, mj in enumerate(margins):
                one = tam_scenario(s, **{**kw, "margin": float(mj)})
                assert grid.value_per_share[i, j] == pytest.approx(one.value_per_share, rel=1e-13)

    @SETTINGS
    @given(tam_inputs, fin(0.0, 1.0))
    def test_implied_share_congruent_with_forward(self, kw: dict[str, Any], s: float) -> None:
        mv = tam_scenario(s, **kw).value * kw["fx"]
        assume(mv > 0)  # a market value of 0 is itself an impossible input
        assert implied_share(mv, **kw) == pytest.approx(s, abs=1e-9)


# --- young-growth DCF --------------------------------------------------------------------------

dcf_inputs = st.fixed_dictionaries(
    {
        "revenue": fin(1.0, 1e10),
        "growth_y1": fin(-0.3, 3.0),
        "growth_y2_5": fin(-0.3, 1.5),
        "terminal_growth": fin(0.0, 0.04),
        "operating_margin": fin(-3.0, 0.4),
        "target_margin": fin(0.0, 0.5),
        "margin_convergence_year": st.integers(1, 10),
        "sales_to_capital": fin(0.3, 5.0),
        "tax_rate": fin(0.0, 0.4),
        "nol": fin(0.0, 1e10),
        "cost_of_capital": fin(0.06, 0.2),
        "mature_cost_of_capital": fin(0.05, 0.12),
        "prob_failure": fin(0.0, 0.5),
        "distress_proceeds": fin(0.0, 1e9),
        "cash": fin(0.0, 1e9),
        "shares_outstanding": fin(1e6, 1e10),
    }
)


class TestDcfProperties:
    @SETTINGS
    @given(dcf_inputs, fin(0.0, 0.5), fin(0.0, 0.5))
    def test_value_rises_with_target_margin(self, kw: dict[str, Any], a: float, b: float) -> None:
        lo, hi = sorted((a, b))
        v_lo = dcf_value_per_share(**{**kw, "target_margin": lo})
        v_hi = dcf_value_per_share(**{**kw, "target_margin": hi})
        assert v_hi >= v_lo - 1e-9 * max(1.0, abs(v_lo))

    @SETTINGS
    @given(
        # Profitable, modestly growing firms, so that most draws have positive cash flows.
        dcf_inputs.map(lambda d: {**d, "operating_margin": abs(d["operating_margin"]) % 0.4 + 0.05,
                                  "growth_y1": abs(d["growth_y1"]) % 0.3,
                                  "growth_y2_5": abs(d["growth_y2_5"]) % 0.2,
                                  "sales_to_capital": d["sales_to_capital"] + 2.0}),
        fin(0.001, 0.05),
    )  # fmt: skip
    def test_value_falls_with_discount_rate_when_cash_flows_positive(
        self, kw: dict[str, Any], bump: float
    ) -> None:
        r = young_growth_dcf(**kw)
        assume(bool(np.all(r.fcff >= 0)) and r.terminal_fcff >= 0)
        up = {
            **kw,
            "cost_of_capital": kw["cost_of_capital"] + bump,
            "mature_cost_of_capital": kw["mature_cost_of_capital"] + bump,
        }
        # Equal up to rounding when every flow is ~0; strictly lower otherwise.
        assert dcf_value_per_share(**up) <= r.value_per_share + 1e-9 * max(
            1.0, abs(r.value_per_share)
        )

    @SETTINGS
    @given(dcf_inputs, st.lists(fin(0.0, 0.5), min_size=1, max_size=6))
    def test_vectorised_equals_scalar_loop(self, kw: dict[str, Any], margins: list[float]) -> None:
        v = dcf_value_per_share(**{**kw, "target_margin": margins})
        for i, m in enumerate(margins):
            one = dcf_value_per_share(**{**kw, "target_margin": m})
            assert v[i] == pytest.approx(one, rel=1e-12, abs=1e-9)

    @SETTINGS
    @given(dcf_inputs.map(lambda d: {k: v for k, v in d.items() if k != "growth_y2_5"}),
           fin(-0.4, 1.8))  # fmt: skip
    def test_implied_growth_reproduces_market_value(self, kw: dict[str, Any], g: float) -> None:
        mv = dcf_equity_value(**kw, growth_y2_5=g)
        assume(mv > 0)
        try:
            g_back = implied_growth(mv, **kw)
        except InputError:
            # allowed only if the default bracket really has no sign change
            f_lo = dcf_equity_value(**kw, growth_y2_5=-0.5) - mv
            f_hi = dcf_equity_value(**kw, growth_y2_5=2.0) - mv
            assert f_lo * f_hi > 0
            return
        if dcf_equity_value(**kw, growth_y2_5=g_back) != pytest.approx(mv, rel=1e-7):
            # a market value near 0 is a small difference of large amounts (going concern, cash,
            # debt), whose rounding exceeds any relative tolerance: then the solved growth must
            # still bracket it, the value crossing mv within 1e-9 of growth either side
            below, above = (
                dcf_equity_value(**kw, growth_y2_5=g_back + d) - mv for d in (-1e-9, 1e-9)
            )
            assert below * above <= 0


# --- multiples, peers, NVIDIA -----------------------------------------------------------------


def excel_percentile_inc(values: list[float], k: float) -> float:
    """Excel's PERCENTILE.INC written out in plain Python, independently of numpy."""
    xs = sorted(values)
    h = (len(xs) - 1) * k
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


class TestOtherProperties:
    @SETTINGS
    @given(st.lists(fin(-1e6, 1e6), min_size=1, max_size=30), fin(0.0, 1.0))
    def test_percentile_inc_matches_excel_definition(self, values: list[float], k: float) -> None:
        assert percentile_inc(values, k) == pytest.approx(
            excel_percentile_inc(values, k), rel=1e-12, abs=1e-9
        )

    @SETTINGS
    @given(fin(0.0, 1.0), fin(1e11, 1e13), fin(0.1, 10.0))
    def test_nvidia_fraction_round_trip(self, f: float, nv: float, fx: float) -> None:
        assume(f > 0)
        mv = fraction_of_nvidia_value(f, nv, fx)
        assert implied_fraction_of_nvidia(mv, nv, fx) == pytest.approx(f, rel=1e-13)

    @SETTINGS
    @given(st.lists(fin(1.0, 24.0), min_size=1, max_size=10), fin(1e9, 1e12), fin(1e8, 1e10))
    def test_backlog_ps_vectorised_equals_loop(
        self, months: list[float], mv: float, backlog: float
    ) -> None:
        v = backlog_ps(mv, backlog, months)
        for i, m in enumerate(months):
            assert v[i] == pytest.approx(backlog_ps(mv, backlog, m), rel=1e-15)


class TestMonteCarloProperties:
    @SETTINGS
    @given(tam_inputs, fin(0.0, 1.0), st.integers(0, 2**32))
    def test_points_collapse_to_the_deterministic_value(
        self, kw: dict[str, Any], s: float, seed: int
    ) -> None:
        dists = {name: Point(kw[name]) for name in ("margin", "exit_multiple", "cost_of_equity")}
        dists["share"] = Point(s)
        fixed = {k: v for k, v in kw.items() if k not in dists}
        r = simulate(tam_scenario, dists, n=64, seed=seed, output="value_per_share", **fixed)
        expected = tam_scenario(s, **kw).value_per_share
        for p in r.summary.percentiles.values():
            assert p == pytest.approx(expected, rel=1e-12)
        assert r.summary.mean == pytest.approx(expected, rel=1e-12)
