"""Young-growth DCF: paths, NOL taxes, reinvestment, terminal value, failure, per share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    cost_of_capital_path,
    dcf_equity_value,
    dcf_value_per_share,
    growth_path,
    margin_path,
    young_growth_dcf,
)
from gpuval.core.dcf import bridge_revenue, fiscal_years, tax_rate_path

# A flat, no-growth firm: revenue 100, 20% margin, 25% tax, 10% cost of capital throughout.
FLAT: dict[str, Any] = dict(
    revenue=100.0,
    growth_y1=0.0,
    growth_y2_5=0.0,
    terminal_growth=0.0,
    operating_margin=0.2,
    target_margin=0.2,
    sales_to_capital=1.0,
    tax_rate=0.25,
    cost_of_capital=0.10,
    mature_cost_of_capital=0.10,
    shares_outstanding=10.0,
)

# A young firm for shape and vectorisation tests.
YOUNG: dict[str, Any] = dict(
    revenue=3.37e8,
    growth_y1=1.5,
    growth_y2_5=0.6,
    terminal_growth=0.03,
    operating_margin=-1.5,
    target_margin=0.25,
    margin_convergence_year=7,
    sales_to_capital=1.5,
    tax_rate=0.15,
    nol=3e9,
    cost_of_capital=0.13,
    mature_cost_of_capital=0.09,
    prob_failure=0.25,
    distress_proceeds=1e9,
    cash=5e9,
    debt=1e9,
    shares_outstanding=2.4e9,
    fx=1.09,
)


class TestPaths:
    def test_growth_path_hand_worked(self) -> None:
        # year 1: 50%; years 2-5: 20%; years 6-10 step down by (0.20 - 0.02) / 5 = 0.036
        np.testing.assert_allclose(
            growth_path(0.5, 0.2, 0.02),
            [0.5, 0.2, 0.2, 0.2, 0.2, 0.164, 0.128, 0.092, 0.056, 0.02],
            atol=1e-15,
        )

    def test_margin_path_hand_worked(self) -> None:
        # from -50% to +30% by year 4: steps of 0.8 / 4 = 0.2, then flat at the target
        np.testing.assert_allclose(
            margin_path(-0.5, 0.3, 4), [-0.3, -0.1, 0.1, 0.3] + [0.3] * 6, atol=1e-15
        )

    def test_margin_path_default_converges_in_year_10(self) -> None:
        # from 0 to 0.5 over 10 years: 0.05 a year
        np.testing.assert_allclose(margin_path(0.0, 0.5), np.arange(1, 11) * 0.05, atol=1e-15)

    def test_cost_of_capital_path_hand_worked(self) -> None:
        # flat 12% for 5 years, then down by (0.12 - 0.08) / 5 = 0.008 a year to 8%
        np.testing.assert_allclose(
            cost_of_capital_path(0.12, 0.08),
            [0.12] * 5 + [0.112, 0.104, 0.096, 0.088, 0.08],
            atol=1e-15,
        )

    def test_paths_vectorise_with_a_year_axis(self) -> None:
        assert growth_path([0.5, 0.6], 0.2, 0.02).shape == (2, 10)
        assert margin_path(-0.5, [[0.2], [0.3]]).shape == (2, 1, 10)

    @pytest.mark.parametrize("year", [0, 11, 2.5, "5"])
    def test_margin_convergence_year(self, year: object) -> None:
        with pytest.raises(InputError, match="margin_convergence_year must be a whole number"):
            margin_path(0.0, 0.2, year)  # type: ignore[arg-type]


class TestYoungGrowthDcf:
    def test_flat_firm_is_a_perpetuity(self) -> None:
        # FCFF = 100 x 0.2 x (1 - 0.25) = 15 a year, nothing reinvested (no growth);
        # terminal value at year 10 = 15 / 0.10 = 150; the whole is 15 / 0.10 = 150;
        # plus cash 50 = 200, / 10 shares = 20
        r = young_growth_dcf(**FLAT, cash=50.0)
        np.testing.assert_allclose(r.fcff, [15.0] * 10, rtol=1e-14)
        assert r.terminal_value == pytest.approx(150.0)
        assert r.sum_pv_fcff == pytest.approx(150 * (1 - 1.1**-10))  # annuity of 15 for 10 years
        assert r.pv_terminal_value == pytest.approx(150 * 1.1**-10)
        assert r.going_concern_value == pytest.approx(150.0)
        assert r.value_per_share == pytest.approx(20.0)

    def test_nol_carry_forward_hand_worked(self) -> None:
        # margins -25%, 0%, 25%, 50% (from -50% to 50% by year 4), revenue flat at 100:
        # EBIT -25, 0, 25, 50, 50, ...; NOL starts at 10; tax 20%
        #   y1: loss 25 -> NOL 35, tax 0       y2: EBIT 0 -> NOL 35, tax 0
        #   y3: 25 uses 25 of NOL -> NOL 10, tax 0
        #   y4: 50 uses the last 10 -> tax (50 - 10) x 0.2 = 8, NOL 0
        #   y5-10: tax 50 x 0.2 = 10
        r = young_growth_dcf(
            revenue=100.0, growth_y1=0.0, growth_y2_5=0.0, terminal_growth=0.0,
            operating_margin=-0.5, target_margin=0.5, margin_convergence_year=4,
            sales_to_capital=1.0, tax_rate=0.2, nol=10.0, cost_of_capital=0.10,
            mature_cost_of_capital=0.10, shares_outstanding=1.0,
        )  # fmt: skip
        np.testing.assert_allclose(r.ebit, [-25, 0, 25] + [50] * 7, atol=1e-12)
        np.testing.assert_allclose(r.taxes, [0, 0, 0, 8] + [10] * 6, atol=1e-12)
        np.testing.assert_allclose(r.nol, [35, 35, 10] + [0] * 7, atol=1e-12)
        np.testing.assert_allclose(r.after_tax_ebit, [-25, 0, 25, 42] + [40] * 6, atol=1e-12)
        np.testing.assert_allclose(r.reinvestment, [0.0] * 10, atol=1e-12)
        # terminal: 50 x (1 - 0.2) = 40, no growth -> TV = 40 / 0.10 = 400
        assert r.terminal_value == pytest.approx(400.0)
        expected = (
            -25 / 1.1 + 25 / 1.1**3 + 42 / 1.1**4
            + sum(40 / 1.1**t for t in range(5, 11)) + 400 / 1.1**10
        )  # fmt: skip
        assert r.going_concern_value == pytest.approx(expected, rel=1e-13)

    def test_revenue_and_reinvestment_hand_worked(self) -> None:
        r = young_growth_dcf(**{**FLAT, "growth_y1": 0.5, "growth_y2_5": 0.2,
                                "terminal_growth": 0.02, "sales_to_capital": 2.5})  # fmt: skip
        # 100 x 1.5 = 150; x 1.2 = 180, 216, 259.2, 311.04; then x 1.164 = 362.05056
        np.testing.assert_allclose(
            r.revenue[:6], [150.0, 180.0, 216.0, 259.2, 311.04, 311.04 * 1.164], rtol=1e-14
        )
        # reinvestment = change in revenue / 2.5: 50 / 2.5 = 20, 30 / 2.5 = 12
        np.testing.assert_allclose(r.reinvestment[:2], [20.0, 12.0], rtol=1e-14)
        # FCFF year 1 = 150 x 0.2 x 0.75 - 20 = 22.5 - 20 = 2.5
        assert r.fcff[0] == pytest.approx(2.5)

    def test_cost_of_capital_and_discounting(self) -> None:
        r = young_growth_dcf(**{**FLAT, "cost_of_capital": 0.12, "mature_cost_of_capital": 0.08})
        # DF_6 = 1 / (1.12^5 x 1.112); end-of-year flows, cumulative factor
        assert r.discount_factor[5] == pytest.approx(1 / (1.12**5 * 1.112), rel=1e-14)
        np.testing.assert_allclose(r.pv_fcff, r.fcff * r.discount_factor, rtol=1e-15)
        # terminal at the mature 8%: 15 / 0.08 = 187.5, discounted by DF_10
        assert r.terminal_value == pytest.approx(187.5)
        assert r.pv_terminal_value == pytest.approx(187.5 * r.discount_factor[-1])

    def test_terminal_reinvestment_from_return_on_capital(self) -> None:
        # 2% growth every year; revenue_11 = 100 x 1.02^11; EBIT(1-t) = 0.2 x 0.75 x that;
        # reinvestment = g / ROC = 0.02 / 0.2 = 10% of it; TV = 90% of it / (0.10 - 0.02)
        r = young_growth_dcf(**{**FLAT, "growth_y1": 0.02, "growth_y2_5": 0.02,
                                "terminal_growth": 0.02, "terminal_roc": 0.2})  # fmt: skip
        nopat11 = 100 * 1.02**11 * 0.2 * 0.75
        assert r.terminal_revenue == pytest.approx(100 * 1.02**11)
        assert r.terminal_reinvestment == pytest.approx(0.1 * nopat11)
        assert r.terminal_value == pytest.approx(0.9 * nopat11 / 0.08)

    def test_terminal_roc_defaults_to_mature_cost_of_capital(self) -> None:
        base = {**FLAT, "growth_y1": 0.02, "growth_y2_5": 0.02, "terminal_growth": 0.02}
        assert young_growth_dcf(**base).terminal_value == pytest.approx(
            young_growth_dcf(**base, terminal_roc=0.10).terminal_value
        )

    def test_failure_cash_debt_fx(self) -> None:
        # going concern 150 (perpetuity above); 80% x 150 + 20% x 50 = 130;
        # + cash 30 - debt 20 = 140; x fx 2 / 10 shares = 28
        r = young_growth_dcf(**FLAT, prob_failure=0.2, distress_proceeds=50.0, cash=30.0,
                             debt=20.0, fx=2.0)  # fmt: skip
        assert r.operating_assets_value == pytest.approx(130.0)
        assert r.equity_value == pytest.approx(140.0)
        assert r.value_per_share == pytest.approx(28.0)

    def test_flat_rate_matches_excel_npv(self) -> None:
        # Excel =NPV(r, CF1..CF10) discounts the first flow a full year: same as the DCF's sum
        r = young_growth_dcf(**{**YOUNG, "cost_of_capital": 0.1, "mature_cost_of_capital": 0.1})
        excel_npv = sum(cf / 1.1 ** (t + 1) for t, cf in enumerate(r.fcff))
        assert r.sum_pv_fcff == pytest.approx(excel_npv, rel=1e-12)

    def test_schedules_have_a_year_axis(self) -> None:
        r = young_growth_dcf(**{**YOUNG, "target_margin": [0.2, 0.25, 0.3]})
        assert r.revenue.shape == (3, 10)
        assert r.cost_of_capital.shape == (3, 10)  # broadcast even though the rate is scalar
        assert np.shape(r.value_per_share) == (3,)

    def test_vectorised_equals_scalar_loop(self) -> None:
        margins = [0.15, 0.25, 0.35]
        growths = [[0.3], [0.6]]
        v = dcf_value_per_share(**{**YOUNG, "target_margin": margins, "growth_y2_5": growths})
        assert v.shape == (2, 3)
        for i, g in enumerate([0.3, 0.6]):
            for j, m in enumerate(margins):
                one = young_growth_dcf(**{**YOUNG, "target_margin": m, "growth_y2_5": g})
                assert v[i, j] == pytest.approx(one.value_per_share, rel=1e-13)

    def test_lean_functions_match_full_result(self) -> None:
        r = young_growth_dcf(**YOUNG)
        assert dcf_value_per_share(**YOUNG) == r.value_per_share
        assert dcf_equity_value(**YOUNG) == r.equity_value
        assert r.equity_value * 1.09 / 2.4e9 == pytest.approx(r.value_per_share, rel=1e-15)


class TestNewRules:
    def test_tax_rate_path_hand_worked(self) -> None:
        # 15% effective to year 5, then (25% - 15%) / 5 = 2 points a year to 25% in year 10
        np.testing.assert_allclose(
            tax_rate_path(0.15, 0.25), [0.15] * 5 + [0.17, 0.19, 0.21, 0.23, 0.25], atol=1e-15
        )
        # with 3 high-growth years the fade takes 7 years: year 4 = 0.15 + 0.10 / 7
        assert tax_rate_path(0.15, 0.25, 3)[3] == pytest.approx(0.15 + 0.1 / 7, rel=1e-14)

    def test_marginal_tax_in_the_years_and_the_terminal_year(self) -> None:
        # flat firm (EBIT 20 a year, no growth, no reinvestment), 20% effective, 30% marginal:
        # taxes 4, 4, 4, 4, 4, 4.4, 4.8, 5.2, 5.6, 6; terminal NOPAT 20 x 0.7 = 14, TV = 140
        r = young_growth_dcf(**{**FLAT, "tax_rate": 0.2, "marginal_tax_rate": 0.3})
        np.testing.assert_allclose(r.taxes, [4.0] * 5 + [4.4, 4.8, 5.2, 5.6, 6.0], rtol=1e-13)
        np.testing.assert_allclose(r.tax_rate, [0.2] * 5 + [0.22, 0.24, 0.26, 0.28, 0.3])
        assert r.terminal_after_tax_ebit == pytest.approx(14.0)
        assert r.terminal_value == pytest.approx(140.0)

    def test_marginal_defaults_to_the_effective_rate(self) -> None:
        assert young_growth_dcf(**FLAT, marginal_tax_rate=0.25).value_per_share == (
            young_growth_dcf(**FLAT).value_per_share
        )

    def test_distress_fraction_hand_worked(self) -> None:
        # going concern 150; 20% chance of failing with 40% of it: 0.8 x 150 + 0.2 x 60 = 132
        r = young_growth_dcf(**FLAT, prob_failure=0.2, distress_fraction=0.4)
        assert r.distress_value == pytest.approx(60.0)
        assert r.operating_assets_value == pytest.approx(132.0)

    def test_equity_bridge_hand_worked(self) -> None:
        # 150 + cash 30 + IPO 20 + non-operating 10 - debt 25 - minority 5 = 180; / 10 = 18
        r = young_growth_dcf(**FLAT, cash=30.0, ipo_proceeds=20.0, non_operating_assets=10.0,
                             debt=25.0, minority_interests=5.0)  # fmt: skip
        assert r.equity_value == pytest.approx(180.0)
        assert r.value_per_share == pytest.approx(18.0)

    def test_bridge_years_hand_worked(self) -> None:
        # base revenue 100, 2 bridge years at 10%: 121; year 1 at 50% = 181.5;
        # year-1 reinvestment = (181.5 - 121) / 2.5 = 24.2 (the bridge years are not valued)
        args = {**FLAT, "growth_y1": 0.5, "sales_to_capital": 2.5}
        r = young_growth_dcf(**args, bridge_years=2, bridge_growth=0.1)
        assert r.bridge_revenue == pytest.approx(121.0)
        assert r.revenue[0] == pytest.approx(181.5)
        assert r.reinvestment[0] == pytest.approx(24.2)
        assert bridge_revenue(100.0, 0.1, 2) == pytest.approx(121.0)
        assert young_growth_dcf(**args).bridge_revenue == 100.0  # no bridge by default

    def test_fiscal_years(self) -> None:
        assert fiscal_years(2024, 1) == list(range(2026, 2036))
        assert fiscal_years(2024) == list(range(2025, 2035))

    def test_terminal_roc_default_means_no_excess_returns(self) -> None:
        # ROC = mature 8%: TV = NOPAT_11 x (1 - g / r) / (r - g) = NOPAT_11 / r, whatever g is;
        # here NOPAT_11 = 100 x 1.02^11 x 0.2 x 0.75 and r = 8% (not the 12% early rate)
        base = {**FLAT, "growth_y1": 0.02, "growth_y2_5": 0.02, "terminal_growth": 0.02,
                "cost_of_capital": 0.12, "mature_cost_of_capital": 0.08}  # fmt: skip
        r = young_growth_dcf(**base)
        assert r.terminal_value == pytest.approx(100 * 1.02**11 * 0.15 / 0.08, rel=1e-13)


class TestDcfErrors:
    def test_terminal_growth_at_cost_of_capital(self) -> None:
        with pytest.raises(InputError) as err:
            young_growth_dcf(**{**FLAT, "terminal_growth": 0.10})
        assert str(err.value) == (
            "terminal_growth must be less than mature_cost_of_capital, got 0.1 against 0.1."
        )

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("revenue", -1.0, "revenue must be 0 or more, got -1."),
            ("cost_of_capital", -1.0, "cost_of_capital must be greater than -1 (-100%), got -1."),
            ("growth_y1", -2.0, "growth_y1 must be greater than -1 (-100%), got -2."),
            ("tax_rate", 1.5, "tax_rate must be between 0 and 1, got 1.5."),
            ("sales_to_capital", 0.0, "sales_to_capital must be greater than 0, got 0."),
            ("target_margin", 1.2, "target_margin must be at most 1, got 1.2."),
            ("prob_failure", 2.0, "prob_failure must be between 0 and 1, got 2."),
            ("terminal_roc", 0.0, "terminal_roc must be greater than 0, got 0."),
            ("nol", float("nan"), "nol must be a number, got nan."),
            ("marginal_tax_rate", 1.2, "marginal_tax_rate must be between 0 and 1, got 1.2."),
            ("distress_fraction", 1.5, "distress_fraction must be between 0 and 1, got 1.5."),
            ("ipo_proceeds", -1.0, "ipo_proceeds must be 0 or more, got -1."),
            ("minority_interests", -2.0, "minority_interests must be 0 or more, got -2."),
            ("non_operating_assets", -3.0, "non_operating_assets must be 0 or more, got -3."),
            ("bridge_growth", -1.0, "bridge_growth must be greater than -1 (-100%), got -1."),
            ("bridge_years", 4, "bridge_years must be a whole number of years from 0 to 3, got 4."),
        ],
    )
    def test_impossible_inputs(self, name: str, value: float, message: str) -> None:
        with pytest.raises(InputError) as err:
            young_growth_dcf(**{**FLAT, name: value})
        assert str(err.value) == message

    def test_failure_value_given_twice(self) -> None:
        with pytest.raises(InputError) as err:
            young_growth_dcf(
                **FLAT, prob_failure=0.2, distress_proceeds=50.0, distress_fraction=0.5
            )
        assert str(err.value) == (
            "give the failure value as distress_proceeds (an amount) or as distress_fraction (a "
            "fraction of the going-concern value), not both; got 50 and 0.5."
        )

    def test_bad_base_year(self) -> None:
        with pytest.raises(InputError, match="base_year must be a whole year"):
            fiscal_years("2024")  # type: ignore[arg-type]
        with pytest.raises(InputError, match="bridge_years must be a whole number"):
            fiscal_years(2024, 1.5)  # type: ignore[arg-type]

    def test_mismatched_shapes(self) -> None:
        with pytest.raises(InputError, match="cannot be broadcast together"):
            dcf_value_per_share(
                **{**FLAT, "growth_y1": [0.1, 0.2], "target_margin": [0.1, 0.2, 0.3]}
            )
