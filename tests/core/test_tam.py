"""TAM path and TAM-share scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from gpuval.core import (
    TAM_END_YEAR,
    TAM_START_YEAR,
    InputError,
    probability_weighted,
    tam_at,
    tam_cagr,
    tam_scenario,
    year_fraction,
)

# The worked scenario used across these tests (USD model currency, HKD listing):
BASE = dict(
    share=0.05,  # 5% of the exit-year TAM
    tam=200e9,  # USD 200 bn
    margin=0.20,
    exit_multiple=30.0,
    cost_of_equity=0.25,
    years=2.0,
    shares_outstanding=2.6e9,
    prob_success=0.5,
    distress_value=2e9,
    dilution=0.2,
    fx=7.8,
)


class TestTamCagr:
    def test_hand_worked(self) -> None:
        # (400 / 100)^(1/2) - 1 = 2 - 1 = 100% a year
        assert tam_cagr(100.0, 400.0, 2.0) == pytest.approx(1.0)

    def test_article_endpoints(self) -> None:
        # 201.2 / 30.1 = 6.6844; ln = 1.8998; / 5 = 0.37996; e^0.37996 = 1.4622 -> 46.2%
        # (the article rounds to 46.3%)
        assert tam_cagr(30.1e9, 201.2e9) == pytest.approx(0.4622, abs=1e-4)

    def test_start_must_be_positive(self) -> None:
        with pytest.raises(InputError, match="tam_start must be greater than 0"):
            tam_cagr(0.0, 1.0)


class TestTamAt:
    def test_endpoints(self) -> None:
        assert TAM_START_YEAR == 2024 and TAM_END_YEAR == 2029
        assert tam_at(2024, 30.1e9, 201.2e9) == pytest.approx(30.1e9, rel=1e-15)
        assert tam_at(2029, 30.1e9, 201.2e9) == pytest.approx(201.2e9, rel=1e-15)

    def test_hand_worked_path(self) -> None:
        # 100 -> 400 over 2024-2028 is x 4^(1/4) = sqrt(2) a year
        np.testing.assert_allclose(
            tam_at([2024, 2025, 2026, 2028, 2030], 100.0, 400.0, 2024, 2028),
            [100.0, 100 * 2**0.5, 200.0, 400.0, 800.0],  # 2030: 100 x 4^(6/4) = 800
            rtol=1e-14,
        )

    def test_fractional_year(self) -> None:
        # half-way through 2024-2028 in time is 2026 -> 200; 2025.0 + 0.5 -> 100 x 4^(1.5/4)
        assert tam_at(2025.5, 100.0, 400.0, 2024, 2028) == pytest.approx(100 * 4**0.375)

    def test_end_year_after_start_year(self) -> None:
        with pytest.raises(InputError, match="end_year must be after start_year"):
            tam_at(2026, 1.0, 2.0, 2029, 2024)


class TestTamScenario:
    def test_hand_worked_pe(self) -> None:
        r = tam_scenario(**BASE, price=50.0)
        assert r.revenue == pytest.approx(10e9)  # 0.05 x 200 bn
        assert r.earnings == pytest.approx(2e9)  # 0.20 x 10 bn
        assert r.exit_value == pytest.approx(60e9)  # 30 x 2 bn
        assert r.discount_factor == pytest.approx(0.64)  # 1 / 1.25^2 = 1 / 1.5625
        assert r.pv_exit_value == pytest.approx(38.4e9)  # 60 x 0.64
        # 0.5 x 38.4 / 1.2 = 16 bn, plus (1 - 0.5) x 2 bn distress = 17 bn
        assert r.value == pytest.approx(17e9)
        assert r.value_per_share == pytest.approx(51.0)  # 17 bn x 7.8 / 2.6 bn
        assert r.upside == pytest.approx(0.02)  # 51 / 50 - 1

    def test_hand_worked_ps_basis(self) -> None:
        # revenue 10 bn x P/S 5 = 50 bn; x 0.64 = 32 bn; all success, no dilution:
        # 32 bn x 7.8 / 2.6 bn = HKD 96; against HKD 80: +20%
        r = tam_scenario(0.05, 200e9, 0.20, 5.0, 0.25, 2.0, 2.6e9, fx=7.8, price=80.0, basis="ps")
        assert r.exit_value == pytest.approx(50e9)
        assert r.value_per_share == pytest.approx(96.0)
        assert r.upside == pytest.approx(0.2)

    def test_fractional_years_from_dates(self) -> None:
        # 2026-01-05 -> 2029-12-31 = 1,456 days / 365.25; DF = 1.1^-(1456 / 365.25)
        t = year_fraction("2026-01-05", "2029-12-31")
        r = tam_scenario(0.1, 100.0, 0.5, 10.0, 0.10, t, 1.0)
        assert r.discount_factor == pytest.approx(1.1 ** -(1456 / 365.25), rel=1e-15)
        assert r.value == pytest.approx(0.1 * 100 * 0.5 * 10 * 1.1 ** -(1456 / 365.25))

    def test_dilution_only_touches_the_success_branch(self) -> None:
        # with no chance of success the value is the (undiluted) distress value: 2 bn
        r = tam_scenario(**{**BASE, "prob_success": 0.0})
        assert r.value == pytest.approx(2e9)

    def test_failure_value_as_a_fraction_of_success(self) -> None:
        # success 38.4 / 1.2 = 32 bn; failing fetches 25% of it, 8 bn:
        # 0.5 x 32 + 0.5 x 8 = 20 bn, HKD 60 a share; at zero share both branches are 0
        r = tam_scenario(**{**BASE, "distress_value": 0.0, "distress_fraction": 0.25})
        assert r.value == pytest.approx(20e9)
        assert r.value_per_share == pytest.approx(60.0)  # 20 bn x 7.8 / 2.6 bn
        zero = tam_scenario(**{**BASE, "distress_value": 0.0, "distress_fraction": 0.25,
                               "share": 0.0})  # fmt: skip
        assert zero.value == 0.0

    def test_failure_value_given_twice_rejected(self) -> None:
        with pytest.raises(InputError) as err:
            tam_scenario(**{**BASE, "distress_fraction": 0.25})
        assert str(err.value) == (
            "give the failure value as distress_value (an amount) or as distress_fraction (a "
            "fraction of the value if it succeeds), not both; got 2,000,000,000 and 0.25."
        )

    def test_failure_fraction_above_one_rejected(self) -> None:
        with pytest.raises(InputError, match=r"^distress_fraction must be between 0 and 1"):
            tam_scenario(**{**BASE, "distress_value": 0.0, "distress_fraction": 1.5})

    def test_no_price_no_upside(self) -> None:
        assert tam_scenario(**BASE).upside is None

    def test_scalars_give_floats(self) -> None:
        r = tam_scenario(**BASE)
        assert type(r.value_per_share) is float

    def test_vectorised_share(self) -> None:
        shares = np.array([0.0, 0.05, 0.10])
        r = tam_scenario(**{**BASE, "share": shares})
        # value = 1 bn (distress half) + share x 320 bn; share 0.05 -> 17 bn (above)
        np.testing.assert_allclose(r.value, [1e9, 17e9, 33e9], rtol=1e-14)

    def test_share_above_one_rejected(self) -> None:
        with pytest.raises(InputError) as err:
            tam_scenario(**{**BASE, "share": 1.5})
        assert str(err.value) == "share must be between 0 and 1, got 1.5."

    def test_discount_rate_at_minus_100_percent_rejected(self) -> None:
        with pytest.raises(InputError, match=r"^cost_of_equity must be greater than -1"):
            tam_scenario(**{**BASE, "cost_of_equity": -1.0})

    def test_negative_tam_rejected(self) -> None:
        with pytest.raises(InputError, match=r"^tam must be 0 or more, got -1"):
            tam_scenario(**{**BASE, "tam": -1.0})

    def test_nan_rejected(self) -> None:
        with pytest.raises(InputError, match=r"^margin must be a number, got nan"):
            tam_scenario(**{**BASE, "margin": float("nan")})

    def test_mismatched_shapes_rejected(self) -> None:
        with pytest.raises(
            InputError, match="share has shape \\(3,\\) and margin has shape \\(2,\\)"
        ):
            tam_scenario(**{**BASE, "share": [0.1, 0.2, 0.3], "margin": [0.1, 0.2]})

    def test_unknown_basis(self) -> None:
        with pytest.raises(InputError, match="basis must be 'pe' or 'ps', got 'pb'"):
            tam_scenario(**BASE, basis="pb")  # type: ignore[arg-type]

    def test_price_must_be_positive(self) -> None:
        with pytest.raises(InputError, match="price must be greater than 0"):
            tam_scenario(**BASE, price=0.0)


class TestProbabilityWeighted:
    def test_hand_worked_mapping(self) -> None:
        # 0.25 x 10 + 0.5 x 30 + 0.25 x 80 = 2.5 + 15 + 20 = 37.5
        v = probability_weighted(
            {"Bear": 10.0, "Base": 30.0, "Bull": 80.0}, {"Bull": 0.25, "Bear": 0.25, "Base": 0.5}
        )
        assert v == pytest.approx(37.5)

    def test_sequences_and_arrays(self) -> None:
        v = probability_weighted([np.array([1.0, 2.0]), 3.0], [0.5, 0.5])
        np.testing.assert_allclose(v, [2.0, 2.5])  # (1 + 3) / 2, (2 + 3) / 2

    def test_probabilities_must_sum_to_one(self) -> None:
        with pytest.raises(InputError, match=r"^probabilities must sum to 1, got 0\.9\.$"):
            probability_weighted([1.0, 2.0], [0.4, 0.5])

    def test_probability_range(self) -> None:
        with pytest.raises(
            InputError, match=r"^probability \[0\] must be between 0 and 1, got 1\.5\.$"
        ):
            probability_weighted([1.0, 2.0], [1.5, -0.5])  # [0] = 1.5 is out first

    def test_names_must_match(self) -> None:
        with pytest.raises(InputError, match="must name the same scenarios"):
            probability_weighted({"Bear": 1.0}, {"Bull": 1.0})

    def test_lengths_must_match(self) -> None:
        with pytest.raises(InputError, match="same length, got 2 and 1"):
            probability_weighted([1.0, 2.0], [1.0])

    def test_mixed_kinds(self) -> None:
        with pytest.raises(InputError, match="both be mappings or both be sequences"):
            probability_weighted({"Bear": 1.0}, [1.0])

    def test_empty(self) -> None:
        with pytest.raises(InputError, match="at least one scenario"):
            probability_weighted([], [])

    def test_scenario_values_checked(self) -> None:
        with pytest.raises(InputError, match="values Bear must be a number, got nan"):
            probability_weighted({"Bear": float("nan")}, {"Bear": 1.0})
