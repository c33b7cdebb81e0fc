"""Joint draws: the one-factor Gaussian copula and the Bear/Base/Bull scenario structure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    Normal,
    Point,
    Triangular,
    Uniform,
    percentile_rank,
    sample,
    sample_joint,
    scenario_marginals,
    simulate,
    simulate_scenarios,
    tam_scenario,
)

# The workbook's default scenario inputs (in_*_bear|base|bull), the failure value as an amount
BEAR = dict(share=0.005, margin=0.10, exit_multiple=20.0, cost_of_equity=0.14, prob_success=0.50,
            distress_value=1.0e9, dilution=0.25)  # fmt: skip
BASE = dict(share=0.015, margin=0.15, exit_multiple=30.0, cost_of_equity=0.12, prob_success=0.70,
            distress_value=1.5e9, dilution=0.15)  # fmt: skip
BULL = dict(share=0.030, margin=0.20, exit_multiple=40.0, cost_of_equity=0.11, prob_success=0.85,
            distress_value=2.0e9, dilution=0.10)  # fmt: skip
FIXED: dict[str, Any] = dict(tam=200e9, years=2.0, shares_outstanding=2.6e9, fx=7.8)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation: Pearson's on the ranks (no ties among continuous draws)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


class TestSampleJoint:
    def test_correlation_zero_is_the_independent_sampler(self) -> None:
        d = {"a": Triangular(0.0, 1.0, 3.0), "b": Normal(0.0, 1.0), "c": Uniform(2.0, 4.0)}
        x = sample(d, 1000, seed=8)
        y = sample_joint(d, 1000, seed=8, correlation=0.0, directions={"b": -1})
        for key in d:
            np.testing.assert_array_equal(x[key], y[key])

    @pytest.mark.parametrize(
        ("r", "expected"),
        # (6 / pi) asin(r / 2): 1.909859 x asin(0.25) = 1.909859 x 0.252680 = 0.48259;
        # 1.909859 x asin(0.35) = 1.909859 x 0.357571 = 0.68291
        [(0.5, 0.48259), (0.7, 0.68291)],
    )
    def test_rank_correlation_follows_the_parameter(self, r: float, expected: float) -> None:
        d = {"a": Triangular(0.0, 1.0, 3.0), "b": Uniform(5.0, 6.0), "c": Normal(0.1, 0.02)}
        x = sample_joint(d, 200_000, seed=3, correlation=r, directions={"c": -1})
        # standard error of a rank correlation ~ (1 - rho^2) / sqrt(n) < 0.002
        assert spearman(x["a"], x["b"]) == pytest.approx(expected, abs=0.006)
        assert spearman(x["a"], x["c"]) == pytest.approx(-expected, abs=0.006)  # mirrored

    def test_independence_at_zero(self) -> None:
        x = sample_joint({"a": Uniform(0.0, 1.0), "b": Uniform(0.0, 1.0)}, 200_000, seed=4)
        assert spearman(x["a"], x["b"]) == pytest.approx(0.0, abs=0.006)

    def test_correlation_one_is_comonotone(self) -> None:
        d = {"a": Triangular(0.0, 1.0, 3.0), "b": Normal(0.0, 1.0), "c": Uniform(0.0, 1.0)}
        x = sample_joint(d, 5000, seed=5, correlation=1.0, directions={"c": -1})
        order = np.argsort(x["a"])
        assert np.all(np.diff(x["b"][order]) >= 0)  # same ranks
        assert np.all(np.diff(x["c"][order]) <= 0)  # reversed ranks
        # u_a = Phi(Z) and u_c = 1 - Phi(Z): with Uniform(0, 1) for c, F_a(a) + c = 1, where
        # F_a(a) = a^2 / 3 up to the mode 1 (low 0, mode 1, high 3)
        low = x["a"] <= 1.0
        np.testing.assert_allclose(x["a"][low] ** 2 / 3 + x["c"][low], 1.0, atol=1e-9)

    def test_points_stay_points(self) -> None:
        x = sample_joint({"p": Point(2.5), "u": Uniform(0.0, 1.0)}, 100, seed=1, correlation=0.8)
        assert x["p"].tolist() == [2.5] * 100

    def test_unbounded_marginals_stay_finite(self) -> None:
        x = sample_joint({"n": Normal(0.0, 1.0), "m": Normal(0.0, 1.0)}, 100_000, seed=6,
                         correlation=0.5)  # fmt: skip
        assert np.isfinite(x["n"]).all() and np.isfinite(x["m"]).all()

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"correlation": 1.5}, "correlation must be between 0 and 1, got 1.5"),
            ({"correlation": -0.1}, "correlation must be between 0 and 1, got -0.1"),
            ({"directions": {"z": 1}}, "directions names 'z', which is not one of the inputs"),
            ({"directions": {"a": 2}}, r"directions\['a'\] must be 1 or -1, got 2"),
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(InputError, match=message):
            sample_joint({"a": Uniform(0.0, 1.0)}, 10, seed=1, **kwargs)


class TestPercentileRank:
    def test_hand_worked(self) -> None:
        assert percentile_rank([1.0, 2.0, 3.0, 4.0], 3.5) == 0.75  # 3 of 4 below
        assert percentile_rank([1.0, 2.0, 3.0, 4.0], 2.0) == 0.375  # (1 + 1/2) / 4
        assert percentile_rank([7.0, 7.0, 7.0], 7.0) == 0.5  # a point: half way
        assert percentile_rank([1.0], 0.0) == 0.0

    def test_empty(self) -> None:
        with pytest.raises(InputError, match="at least one draw"):
            percentile_rank([], 1.0)


class TestScenarioMarginals:
    def test_triangular_over_the_three_values_with_bear_to_bull_directions(self) -> None:
        d, s = scenario_marginals(BEAR, BASE, BULL)
        assert d["share"] == Triangular(0.005, 0.015, 0.03)
        assert d["cost_of_equity"] == Triangular(0.11, 0.12, 0.14)  # low, Base, high
        assert d["dilution"] == Triangular(0.10, 0.15, 0.25)
        assert s == {"share": 1, "margin": 1, "exit_multiple": 1, "cost_of_equity": -1,
                     "prob_success": 1, "distress_value": 1, "dilution": -1}  # fmt: skip

    def test_agreeing_values_are_a_point(self) -> None:
        d, _ = scenario_marginals({"x": 2.0}, {"x": 2.0}, {"x": 2.0})
        assert d["x"] == Point(2.0)

    def test_mismatched_inputs(self) -> None:
        with pytest.raises(InputError, match="bear, base and bull must name the same inputs"):
            scenario_marginals({"x": 1.0}, {"x": 1.0}, {"y": 1.0})


class TestSimulateScenarios:
    def test_degenerate_scenarios_give_a_point(self) -> None:
        point = dict(share=0.05, margin=0.2, exit_multiple=30.0, cost_of_equity=0.25,
                     prob_success=0.5, distress_value=2e9, dilution=0.2)  # fmt: skip
        fixed = dict(FIXED, tam=200e9)
        r = simulate_scenarios(tam_scenario, point, point, point, n=500, seed=2,
                               output="value_per_share", price=50.0, **fixed)  # fmt: skip
        # 5% x 200 bn x 20% x 30 = 60 bn; / 1.25^2 = 38.4 bn; 0.5 x 38.4 / 1.2 + 0.5 x 2 = 17 bn;
        # x 7.8 / 2.6 bn = 51.0 per share (as in test_tam)
        np.testing.assert_allclose(r.values, 51.0, rtol=1e-12)
        assert r.summary.prob_above == 1.0

    def test_every_input_is_drawn(self) -> None:
        r = simulate_scenarios(tam_scenario, BEAR, BASE, BULL, n=1000, seed=1,
                               output="value_per_share", **FIXED)  # fmt: skip
        assert set(r.draws) == set(BASE)
        for key, x in r.draws.items():
            lo, hi = sorted((BEAR[key], BULL[key]))
            assert lo <= x.min() < x.max() <= hi, key

    def test_bear_like_draws_go_together_and_are_worth_less_than_base(self) -> None:
        n = 100_000
        base_value = float(tam_scenario(**BASE, **FIXED).value_per_share)
        shares = {}
        for r in (0.0, 0.7):
            res = simulate_scenarios(tam_scenario, BEAR, BASE, BULL, correlation=r, n=n, seed=7,
                                     output="value_per_share", **FIXED)  # fmt: skip
            bearish = np.ones(n, dtype=bool)  # every input on Base's Bear side
            for key, x in res.draws.items():
                bearish &= (x <= BASE[key]) if BULL[key] >= BEAR[key] else (x >= BASE[key])
            # the value rises with each input towards Bull, so such a draw is worth <= Base
            assert np.all(res.values[bearish] <= base_value * (1 + 1e-12))
            shares[r] = bearish.mean()
        # independent: P = product of each marginal's Bear-side mass F(mode) = (c - a) / (b - a):
        # share 0.4, margin 0.5, P/E 0.5, cost of equity 2/3, success 0.2/0.35, distress 0.5,
        # dilution 2/3 -> 0.4 x 0.5 x 0.5 x 2/3 x 0.5714 x 0.5 x 2/3 = 0.01270
        assert shares[0.0] == pytest.approx(0.01270, abs=0.0015)
        assert shares[0.7] > 4 * shares[0.0]  # the common factor moves them together

    def test_joint_draws_reach_further_than_independent_ones(self) -> None:
        spread = {}
        for r in (0.0, 0.7):
            s = simulate_scenarios(tam_scenario, BEAR, BASE, BULL, correlation=r, n=50_000,
                                   seed=9, output="value_per_share", **FIXED).summary  # fmt: skip
            spread[r] = s.percentiles[90] - s.percentiles[10]
        assert spread[0.7] > 1.2 * spread[0.0]

    def test_simulate_passes_correlation_through(self) -> None:
        d, s = scenario_marginals(BEAR, BASE, BULL)
        run = dict(n=100, seed=4, output="value", **FIXED)
        a = simulate(tam_scenario, d, correlation=0.7, directions=s, **run)
        b = simulate_scenarios(tam_scenario, BEAR, BASE, BULL, correlation=0.7, **run)
        c = simulate(tam_scenario, d, **run)  # independent
        np.testing.assert_array_equal(a.values, b.values)
        assert not np.array_equal(a.values, c.values)
