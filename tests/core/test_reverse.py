"""Reverse valuation: root-finder, implied share (closed form), implied DCF growth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    dcf_equity_value,
    find_root,
    implied_growth,
    implied_share,
    solve_for,
    tam_scenario,
)

# value(s) = 0.5 x s x 200 bn x 0.2 x 30 x 0.64 / 1.2 + 0.5 x 2 bn = 320 bn x s + 1 bn (USD)
SCENARIO: dict[str, Any] = dict(
    tam=200e9,
    margin=0.2,
    exit_multiple=30.0,
    cost_of_equity=0.25,
    years=2.0,
    shares_outstanding=2.6e9,
    prob_success=0.5,
    distress_value=2e9,
    dilution=0.2,
    fx=7.8,
)

DCF: dict[str, Any] = dict(
    revenue=100.0,
    growth_y1=0.3,
    terminal_growth=0.02,
    operating_margin=-0.2,
    target_margin=0.3,
    margin_convergence_year=6,
    sales_to_capital=3.0,
    tax_rate=0.2,
    nol=50.0,
    cost_of_capital=0.11,
    mature_cost_of_capital=0.08,
    cash=100.0,
    shares_outstanding=10.0,
    fx=1.1,
)


class TestFindRoot:
    def test_cubic(self) -> None:
        assert find_root(lambda x: x**3, 8.0, 0.0, 10.0) == pytest.approx(2.0, abs=1e-11)

    def test_vectorised_targets(self) -> None:
        np.testing.assert_allclose(
            find_root(lambda x: x**2, [1.0, 4.0, 9.0], 0.0, 5.0), [1.0, 2.0, 3.0], atol=1e-11
        )

    def test_root_at_bracket_end(self) -> None:
        assert find_root(lambda x: x, 0.0, 0.0, 1.0) == pytest.approx(0.0, abs=1e-11)
        assert find_root(lambda x: x, 1.0, 0.0, 1.0) == pytest.approx(1.0, abs=1e-11)

    def test_decreasing_function(self) -> None:
        assert find_root(lambda x: 10.0 - x, 4.0, 0.0, 10.0) == pytest.approx(6.0, abs=1e-11)

    def test_not_bracketed(self) -> None:
        with pytest.raises(InputError) as err:
            find_root(lambda x: x**2, 30.0, 0.0, 5.0)
        assert str(err.value) == "no value between 0 and 5 reproduces a target of 30."

    def test_not_bracketed_names_the_failing_element(self) -> None:
        with pytest.raises(InputError, match="reproduces a target of 30"):
            find_root(lambda x: x**2, [1.0, 30.0], 0.0, 5.0)

    def test_bad_bracket(self) -> None:
        with pytest.raises(InputError, match="lo < hi"):
            find_root(lambda x: x, 0.5, 1.0, 0.0)


class TestImpliedShare:
    def test_hand_worked(self) -> None:
        # market value HKD 78 bn / 7.8 = USD 10 bn = 320 bn x s + 1 bn -> s = 9 / 320
        assert implied_share(78e9, **SCENARIO) == pytest.approx(9 / 320, rel=1e-13)

    def test_failure_value_as_a_fraction(self) -> None:
        # failing fetches 10% of the value if it succeeds: value(s) = 320 bn x s x (0.5 + 0.5 x
        # 0.1) / 0.5 = 352 bn x s, so USD 10 bn takes s = 10 / 352
        scenario = SCENARIO | {"distress_value": 0.0, "distress_fraction": 0.1}
        assert implied_share(78e9, **scenario) == pytest.approx(10 / 352, rel=1e-13)

    def test_congruent_with_forward(self) -> None:
        # forward: share 3% -> value; reverse of that value returns 3%
        value = tam_scenario(0.03, **SCENARIO).value
        assert implied_share(value * 7.8, **SCENARIO) == pytest.approx(0.03, rel=1e-12)

    def test_agrees_with_generic_root_finder(self) -> None:
        mv = 120e9
        closed = implied_share(mv, **SCENARIO)
        # value per share = market value / shares at the implied share
        found = solve_for(tam_scenario, "share", mv / 2.6e9, 0.0, 1.0,
                          output="value_per_share", **SCENARIO)  # fmt: skip
        assert closed == pytest.approx(found, abs=1e-11)

    def test_ps_basis(self) -> None:
        # P/S 10, all success, no dilution, DF 0.64: value = s x 200 bn x 10 x 0.64 = 1,280 bn s;
        # HKD 99.84 bn / 7.8 = USD 12.8 bn -> s = 1%
        sc = {**SCENARIO, "exit_multiple": 10.0, "prob_success": 1.0, "dilution": 0.0}
        assert implied_share(99.84e9, **sc, basis="ps") == pytest.approx(0.01, rel=1e-12)

    def test_vectorised(self) -> None:
        # s = (mv / 7.8 - 1 bn) / 320 bn
        mv = np.array([7.8e9, 78e9, 327.6e9])
        np.testing.assert_allclose(implied_share(mv, **SCENARIO), [0.0, 9 / 320, 41 / 320],
                                   atol=1e-15)  # fmt: skip

    def test_no_share_big_enough(self) -> None:
        # USD 1 trn needs s = (1,000 - 1) / 320 = 3.12
        with pytest.raises(InputError) as err:
            implied_share(7.8e12, **SCENARIO)
        assert str(err.value) == (
            "no market share between 0 and 1 reproduces a market value of 7,800,000,000,000; "
            "it would take a share of 3.12188."
        )

    def test_below_distress_value(self) -> None:
        # USD 0.5 bn is below the 1 bn floor from the distress branch
        with pytest.raises(InputError, match=r"it would take a share of -0\.0015625"):
            implied_share(3.9e9, **SCENARIO)

    def test_value_independent_of_share(self) -> None:
        with pytest.raises(InputError, match="does not depend on share"):
            implied_share(78e9, **{**SCENARIO, "prob_success": 0.0})
        # with no chance of success a failure value that is a share of success still depends
        # on share: 0.5 x 640 bn x s = USD 10 bn at s = 1 / 32
        fails = SCENARIO | {"prob_success": 0.0, "distress_value": 0.0, "distress_fraction": 0.5}
        assert implied_share(78e9, **fails) == pytest.approx(1 / 32, rel=1e-13)

    def test_share_must_not_be_given(self) -> None:
        with pytest.raises(InputError, match="share and price must not be given"):
            implied_share(78e9, share=0.1, **SCENARIO)


class TestImpliedGrowth:
    def test_perpetuity_hand_worked(self) -> None:
        # no growth, 20% margin, 25% tax, 10%: perpetuity of 15 -> 150; so 150 implies 0% growth
        flat = dict(revenue=100.0, growth_y1=0.0, terminal_growth=0.0, operating_margin=0.2,
                    target_margin=0.2, sales_to_capital=1.0, tax_rate=0.25, cost_of_capital=0.10,
                    mature_cost_of_capital=0.10, shares_outstanding=10.0)  # fmt: skip
        assert implied_growth(150.0, **flat) == pytest.approx(0.0, abs=1e-10)

    @pytest.mark.parametrize("growth", [-0.2, 0.0, 0.25, 0.8, 1.5])
    def test_congruent_with_forward(self, growth: float) -> None:
        # value rises with growth for this firm (returns above the cost of capital), so the
        # growth is unique: reverse(forward(g)) = g
        mv = dcf_equity_value(**DCF, growth_y2_5=growth) * 1.1
        assert implied_growth(mv, **DCF) == pytest.approx(growth, abs=1e-9)

    def test_include_year1(self) -> None:
        inputs = {k: v for k, v in DCF.items() if k != "growth_y1"}
        mv = dcf_equity_value(**inputs, growth_y1=0.4, growth_y2_5=0.4) * 1.1
        assert implied_growth(mv, include_year1=True, **inputs) == pytest.approx(0.4, abs=1e-9)

    def test_vectorised(self) -> None:
        growths = np.array([0.1, 0.5])
        mv = dcf_equity_value(**DCF, growth_y2_5=growths) * 1.1
        np.testing.assert_allclose(implied_growth(mv, **DCF), growths, atol=1e-9)

    def test_no_solution(self) -> None:
        with pytest.raises(InputError) as err:
            implied_growth(1e12, **DCF)
        assert str(err.value) == (
            "no revenue growth between -50% and 200% reproduces a market value of "
            "1,000,000,000,000."
        )

    def test_custom_bracket_in_message(self) -> None:
        with pytest.raises(InputError, match="between 10% and 20% reproduces"):
            implied_growth(1e12, lo=0.1, hi=0.2, **DCF)

    def test_growth_must_not_be_given(self) -> None:
        with pytest.raises(InputError, match="solves for growth_y2_5"):
            implied_growth(1e3, growth_y2_5=0.1, **DCF)
        with pytest.raises(InputError, match="with include_year1, growth_y1 is solved for"):
            implied_growth(1e3, include_year1=True, **DCF)


class TestSolveFor:
    def test_solved_input_must_not_be_given(self) -> None:
        with pytest.raises(InputError, match="share is the input being solved for"):
            solve_for(tam_scenario, "share", 1.0, 0.0, 1.0, share=0.1, **SCENARIO)

    def test_message_uses_label(self) -> None:
        with pytest.raises(InputError) as err:
            solve_for(tam_scenario, "share", 1e6, 0.0, 1.0, output="value_per_share",
                      label="2029 market share", target_label="a price", **SCENARIO)  # fmt: skip
        assert (
            str(err.value)
            == "no 2029 market share between 0 and 1 reproduces a price of 1,000,000."
        )
