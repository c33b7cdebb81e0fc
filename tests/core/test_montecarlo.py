"""Monte Carlo: distributions, truncation, seeding, summary, collapse to the deterministic value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gpuval.core import (
    PERCENTILES,
    InputError,
    LogNormal,
    Normal,
    Point,
    Triangular,
    Uniform,
    dcf_value_per_share,
    sample,
    simulate,
    summarize,
    tam_scenario,
)

SCENARIO: dict[str, Any] = dict(
    share=0.05, tam=200e9, margin=0.2, exit_multiple=30.0, cost_of_equity=0.25, years=2.0,
    shares_outstanding=2.6e9, prob_success=0.5, distress_value=2e9, dilution=0.2, fx=7.8,
)  # fmt: skip
# deterministic value per share of SCENARIO: 17 bn x 7.8 / 2.6 bn = 51 (see test_tam)


class TestDistributions:
    def test_triangular_hand_worked(self) -> None:
        t = Triangular(0.0, 1.0, 2.0)
        # F(1) = 1^2 / (2 x 1) = 0.5; F^-1(0.125) = sqrt(0.125 x 2 x 1) = 0.5;
        # F^-1(0.875) = 2 - sqrt(0.125 x 2 x 1) = 1.5
        assert t.cdf(1.0) == 0.5
        np.testing.assert_allclose(t.ppf(np.array([0.125, 0.5, 0.875])), [0.5, 1.0, 1.5])
        assert t.cdf(-1.0) == 0.0 and t.cdf(3.0) == 1.0

    def test_triangular_mode_at_an_end(self) -> None:
        # mode = low: F(x) = 1 - (2 - x)^2 / 4 -> F^-1(0.75) = 2 - sqrt(0.25 x 4) = 1
        assert Triangular(0.0, 0.0, 2.0).ppf(np.array([0.75]))[0] == pytest.approx(1.0)
        # mode = high: F(x) = x^2 / 4 -> F^-1(0.25) = 1
        assert Triangular(0.0, 2.0, 2.0).ppf(np.array([0.25]))[0] == pytest.approx(1.0)

    def test_uniform(self) -> None:
        u = Uniform(10.0, 20.0)
        assert u.ppf(np.array([0.25]))[0] == 12.5  # 10 + 0.25 x 10
        assert u.cdf(15.0) == 0.5

    def test_normal(self) -> None:
        n = Normal(0.15, 0.03)
        assert n.ppf(np.array([0.5]))[0] == 0.15
        # P(Z < 1.959964) = 0.975
        assert n.ppf(np.array([0.975]))[0] == pytest.approx(0.15 + 1.959964 * 0.03, abs=1e-7)

    def test_lognormal_parameters(self) -> None:
        # mean 1, sd 1: sigma^2 = ln(1 + 1) = ln 2; mu = 0 - ln 2 / 2
        ln = LogNormal(1.0, 1.0)
        assert ln.sigma == pytest.approx(math.sqrt(math.log(2)))
        assert ln.mu == pytest.approx(-math.log(2) / 2)
        # the median is exp(mu) = 1 / sqrt(2)
        assert ln.ppf(np.array([0.5]))[0] == pytest.approx(2**-0.5)

    def test_lognormal_sample_mean_and_sd(self) -> None:
        x = sample({"m": LogNormal(30.0, 10.0)}, 400_000, seed=3)["m"]
        # standard error of the mean 10 / sqrt(400k) = 0.016
        assert x.mean() == pytest.approx(30.0, abs=0.1)
        assert x.std() == pytest.approx(10.0, abs=0.2)

    @pytest.mark.parametrize(
        ("factory", "message"),
        [
            (lambda: Triangular(1.0, 0.0, 2.0), "Triangular needs low <= mode <= high"),
            (lambda: Uniform(2.0, 1.0), "Uniform low must not exceed high"),
            (lambda: Normal(0.0, -1.0), "Normal sd must be 0 or more"),
            (lambda: LogNormal(0.0, 1.0), "LogNormal mean must be greater than 0"),
            (lambda: LogNormal(1.0, -1.0), "LogNormal sd must be 0 or more"),
            (lambda: Normal(float("nan"), 1.0), "Normal mean must be a number, got nan"),
            (
                lambda: Normal(0.0, 1.0, lower=1.0, upper=1.0),
                "Normal lower must be less than upper",
            ),
            (lambda: Point([1.0, 2.0]), "Point value must be a single number"),  # type: ignore[arg-type]
        ],
    )
    def test_invalid(self, factory: Any, message: str) -> None:
        with pytest.raises(InputError, match=message):
            factory()


class TestSample:
    def test_seeded_and_reproducible(self) -> None:
        d = {"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)}
        x, y = sample(d, 1000, seed=42), sample(d, 1000, seed=42)
        np.testing.assert_array_equal(x["a"], y["a"])
        np.testing.assert_array_equal(x["b"], y["b"])
        assert not np.array_equal(x["a"], sample(d, 1000, seed=43)["a"])

    def test_uses_pcg64_uniforms_in_order(self) -> None:
        # inverse-CDF sampling: Uniform(0, 1) draws are the generator's own uniforms (+ 2^-54)
        u = np.random.Generator(np.random.PCG64(5)).random((2, 4))
        d = sample({"a": Uniform(0.0, 1.0), "b": Uniform(0.0, 10.0)}, 4, seed=5)
        np.testing.assert_allclose(d["a"], u[0], atol=1e-15)
        np.testing.assert_allclose(d["b"], 10 * u[1], atol=1e-14)

    def test_uniform_moments(self) -> None:
        x = sample({"u": Uniform(0.0, 1.0)}, 200_000, seed=1)["u"]
        assert x.mean() == pytest.approx(0.5, abs=0.005)  # s.e. 0.29 / 447 = 0.00065
        assert x.min() > 0.0 and x.max() < 1.0

    def test_truncation_not_clipping(self) -> None:
        x = sample({"n": Normal(0.0, 1.0, lower=-1.0, upper=1.0)}, 100_000, seed=2)["n"]
        assert x.min() >= -1.0 and x.max() <= 1.0
        # clipping would pile ~15.9% of draws on each bound; truncation puts none there
        assert np.count_nonzero(np.abs(x) == 1.0) == 0
        # truncated standard normal on [-1, 1]: P(|x| < 0.5) = (2 Phi(0.5) - 1) / (2 Phi(1) - 1)
        # = 0.382925 / 0.682689 = 0.5609
        assert np.mean(np.abs(x) < 0.5) == pytest.approx(0.5609, abs=0.005)

    def test_truncated_triangular_and_lognormal(self) -> None:
        t = sample({"t": Triangular(0.0, 1.0, 2.0, lower=0.5, upper=1.5)}, 10_000, seed=3)["t"]
        assert t.min() >= 0.5 and t.max() <= 1.5
        ln = sample({"m": LogNormal(30.0, 10.0, lower=5.0, upper=80.0)}, 10_000, seed=3)["m"]
        assert ln.min() >= 5.0 and ln.max() <= 80.0

    def test_bounds_excluding_everything(self) -> None:
        with pytest.raises(InputError, match="share: the bounds 3 to 4 exclude the whole"):
            sample({"share": Uniform(0.0, 1.0, lower=3.0, upper=4.0)}, 10, seed=1)
        with pytest.raises(InputError, match="exclude its only value 5"):
            sample({"x": Point(5.0, lower=0.0, upper=1.0)}, 10, seed=1)

    @pytest.mark.parametrize(("n", "seed"), [(0, 1), (1.5, 1), (10, -1), (10, "x"), (True, 1)])
    def test_bad_n_or_seed(self, n: Any, seed: Any) -> None:
        with pytest.raises(InputError, match="must be a whole number"):
            sample({"a": Point(1.0)}, n, seed)


class TestSummarize:
    def test_hand_worked(self) -> None:
        s = summarize([5.0, 1.0, 4.0, 2.0, 3.0], price=3.5, bins=2)
        assert s.n == 5
        # PERCENTILE.INC on 1..5: h = 4k -> P5 = 1 + 0.2 = 1.2, P25 = 2, P50 = 3, P95 = 4.8
        assert s.percentiles[5] == pytest.approx(1.2)
        assert s.percentiles[25] == pytest.approx(2.0)
        assert s.percentiles[50] == pytest.approx(3.0)
        assert s.percentiles[95] == pytest.approx(4.8)
        assert list(s.percentiles) == list(PERCENTILES)
        assert s.mean == 3.0
        assert s.std == pytest.approx(math.sqrt(2.0))  # population: (4+1+0+1+4)/5 = 2
        assert s.prob_above == pytest.approx(0.4)  # 4 and 5 of 5 draws exceed 3.5
        assert s.hist_edges.tolist() == [1.0, 3.0, 5.0]
        assert s.hist_counts.tolist() == [2, 3]  # [1, 3) and [3, 5]

    def test_prob_above_is_strict(self) -> None:
        assert summarize([1.0, 2.0], price=2.0).prob_above == 0.0  # 2 is not above 2
        assert summarize([1.0, 2.0], price=1.0).prob_above == 0.5

    def test_no_price(self) -> None:
        assert summarize([1.0]).prob_above is None

    def test_non_finite_values(self) -> None:
        with pytest.raises(InputError, match="produced 1 non-finite values out of 3"):
            summarize([1.0, np.inf, 2.0])

    def test_empty(self) -> None:
        with pytest.raises(InputError, match="at least one draw"):
            summarize([])


class TestSimulate:
    def test_collapses_to_deterministic_value_with_points(self) -> None:
        dists = {"share": Point(0.05), "margin": Point(0.2), "exit_multiple": Point(30.0)}
        fixed = {k: v for k, v in SCENARIO.items() if k not in dists}
        r = simulate(tam_scenario, dists, n=1000, seed=9, output="value_per_share", price=50.0,
                     **fixed)  # fmt: skip
        assert all(v == pytest.approx(51.0, rel=1e-14) for v in r.summary.percentiles.values())
        assert r.summary.mean == pytest.approx(51.0, rel=1e-14)
        assert r.summary.std == pytest.approx(0.0, abs=1e-12)
        assert r.summary.prob_above == 1.0
        assert r.summary.hist_counts.sum() == 1000

    def test_collapses_with_degenerate_distributions_of_every_kind(self) -> None:
        dists = {
            "share": Triangular(0.05, 0.05, 0.05),
            "margin": Uniform(0.2, 0.2),
            "cost_of_equity": Normal(0.25, 0.0),
            "exit_multiple": LogNormal(30.0, 0.0),
        }
        fixed = {k: v for k, v in SCENARIO.items() if k not in dists}
        r = simulate(tam_scenario, dists, n=500, seed=1, output="value_per_share", price=60.0,
                     **fixed)  # fmt: skip
        expected = tam_scenario(**SCENARIO).value_per_share
        np.testing.assert_allclose(r.values, expected, rtol=1e-14)
        assert r.summary.prob_above == 0.0  # 51 is below 60

    def test_collapse_for_the_dcf(self) -> None:
        dcf = dict(revenue=100.0, growth_y1=0.3, growth_y2_5=0.2, terminal_growth=0.02,
                   operating_margin=-0.2, target_margin=0.25, sales_to_capital=2.0, tax_rate=0.2,
                   cost_of_capital=0.11, mature_cost_of_capital=0.08,
                   shares_outstanding=10.0)  # fmt: skip
        dists = {"target_margin": Point(0.25), "growth_y2_5": Normal(0.2, 0.0)}
        fixed = {k: v for k, v in dcf.items() if k not in dists}
        r = simulate(dcf_value_per_share, dists, n=100, seed=1, **fixed)
        np.testing.assert_allclose(
            r.summary.percentiles[50], dcf_value_per_share(**dcf), rtol=1e-14
        )

    def test_vectorised_equals_loop_over_the_same_draws(self) -> None:
        dists = {"share": Triangular(0.01, 0.03, 0.08), "margin": Uniform(0.1, 0.3),
                 "cost_of_equity": Normal(0.15, 0.03, lower=0.05, upper=0.3)}  # fmt: skip
        fixed = {k: v for k, v in SCENARIO.items() if k not in dists}
        r = simulate(tam_scenario, dists, n=200, seed=11, output="value_per_share", **fixed)
        loop = [
            tam_scenario(**fixed, **{k: float(v[i]) for k, v in r.draws.items()}).value_per_share
            for i in range(200)
        ]
        np.testing.assert_allclose(r.values, loop, rtol=1e-14)

    def test_affine_output_mean(self) -> None:
        # value per share = (320 bn s + 1 bn) x 3 is affine in share, so its mean is the value at
        # the mean share 0.05 = 51; s.e. of the mean: 960 x 0.0289 / sqrt(100k) = 0.09
        dists = {"share": Uniform(0.0, 0.1)}
        fixed = {k: v for k, v in SCENARIO.items() if k != "share"}
        r = simulate(tam_scenario, dists, n=100_000, seed=4, output="value_per_share", **fixed)
        assert r.summary.mean == pytest.approx(51.0, abs=0.5)
        # and its median is the value at the median share
        assert r.summary.percentiles[50] == pytest.approx(51.0, abs=0.5)

    def test_distribution_and_fixed_overlap(self) -> None:
        with pytest.raises(
            InputError, match="share is given both as a distribution and as a fixed"
        ):
            simulate(tam_scenario, {"share": Point(0.1)}, n=10, **SCENARIO)

    def test_invalid_draws_reach_the_function_checks(self) -> None:
        # a share distribution reaching above 1 is an impossible input for the scenario
        fixed = {k: v for k, v in SCENARIO.items() if k != "share"}
        with pytest.raises(InputError, match=r"^share must be between 0 and 1"):
            simulate(tam_scenario, {"share": Uniform(0.5, 1.5)}, n=1000, output="value", **fixed)
