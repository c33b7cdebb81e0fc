"""P/S on trailing, run-rate, forward and backlog-implied revenue."""

from __future__ import annotations

import numpy as np
import pytest

from gpuval.core import (
    BACKLOG_MONTHS,
    BACKLOG_MONTHS_RANGE,
    PS_LABELS,
    InputError,
    backlog_ps,
    backlog_revenue,
    price_to_sales,
    ps_multiples,
    run_rate_ps,
    run_rate_revenue,
)


class TestPriceToSales:
    def test_hand_worked(self) -> None:
        # CNY 300 bn market value / CNY 1.5 bn revenue = 200x
        assert price_to_sales(300e9, 1.5e9) == 200.0

    def test_fx_converts_revenue_into_market_value_currency(self) -> None:
        # HKD 100 bn / (CNY 0.4 bn x 1.25 HKD/CNY = HKD 0.5 bn) = 200x
        assert price_to_sales(100e9, 0.4e9, fx=1.25) == pytest.approx(200.0, rel=1e-15)

    def test_biren_trailing_in_article_terms(self) -> None:
        # HKD 85.54 bn (5 Jan 2026) against 2024 revenue CNY 337 m at an assumed 1.09 HKD/CNY:
        # 337 m x 1.09 = HKD 367.33 m; 85,540 / 367.33 = 232.87x
        assert price_to_sales(85.54e9, 3.37e8, fx=1.09) == pytest.approx(232.87, abs=0.005)

    def test_vectorised(self) -> None:
        np.testing.assert_allclose(price_to_sales([100.0, 200.0], [4.0, 5.0]), [25.0, 40.0])

    @pytest.mark.parametrize("revenue", [0.0, -1e8])
    def test_revenue_must_be_positive(self, revenue: float) -> None:
        with pytest.raises(InputError, match=r"^revenue must be greater than 0"):
            price_to_sales(1e9, revenue)

    def test_nan_market_value(self) -> None:
        with pytest.raises(InputError, match=r"^market_value must be a number, got nan"):
            price_to_sales(float("nan"), 1.0)

    def test_shape_mismatch(self) -> None:
        with pytest.raises(InputError, match=r"market_value has shape .* revenue has shape"):
            price_to_sales([1.0, 2.0, 3.0], [1.0, 2.0])


class TestRunRate:
    def test_revenue_is_half_year_times_two(self) -> None:
        # Cambricon H1 2025 CNY 2.88 bn x 2 = CNY 5.76 bn
        assert run_rate_revenue(2.88e9) == 5.76e9

    def test_ps(self) -> None:
        # Moore Threads: CNY 300 bn / (0.7 bn x 2 = 1.4 bn) = 214.2857x
        assert run_rate_ps(300e9, 0.7e9) == pytest.approx(300 / 1.4, rel=1e-15)

    def test_ps_equals_price_to_sales_of_run_rate(self) -> None:
        assert run_rate_ps(50.0, 2.0) == price_to_sales(50.0, run_rate_revenue(2.0))

    def test_negative_half_year_rejected(self) -> None:
        with pytest.raises(InputError, match="half_year_revenue must be 0 or more, got -1"):
            run_rate_revenue(-1.0)


class TestBacklog:
    def test_default_is_midpoint_of_article_range(self) -> None:
        assert BACKLOG_MONTHS_RANGE == (12.0, 18.0)
        assert BACKLOG_MONTHS == (12.0 + 18.0) / 2

    def test_revenue_hand_worked(self) -> None:
        # CNY 1.24 bn over 15 months -> x 12 / 15 = 0.8 -> CNY 0.992 bn a year
        assert backlog_revenue(1.24e9) == pytest.approx(0.992e9, rel=1e-15)
        # over 12 months it is one year's revenue; over 18, two thirds of it
        np.testing.assert_allclose(
            backlog_revenue(1.24e9, [12.0, 18.0]), [1.24e9, 1.24e9 * 2 / 3], rtol=1e-15
        )

    def test_ps_hand_worked(self) -> None:
        # 79.2 bn / (1.2 bn x 12 / 12) = 66x ; at 18 months: 79.2 / 0.8 = 99x
        assert backlog_ps(79.2e9, 1.2e9, months=12) == pytest.approx(66.0, rel=1e-15)
        assert backlog_ps(79.2e9, 1.2e9, months=18) == pytest.approx(99.0, rel=1e-15)

    def test_ps_equals_price_to_sales_of_backlog_revenue(self) -> None:
        assert backlog_ps(5.0, 3.0, 15.0, fx=2.0) == pytest.approx(
            price_to_sales(5.0, backlog_revenue(3.0, 15.0), fx=2.0), rel=1e-15
        )

    def test_months_must_be_positive(self) -> None:
        with pytest.raises(InputError, match=r"^months must be greater than 0, got 0\.$"):
            backlog_revenue(1.0, 0.0)


class TestPsMultiples:
    def test_all_bases_labelled(self) -> None:
        ps = ps_multiples(
            60e9,
            trailing_revenue=0.3e9,  # 60 / 0.3 = 200
            half_year_revenue=0.5e9,  # 60 / 1.0 = 60
            forward_revenue=1.2e9,  # 60 / 1.2 = 50
            backlog=1.2e9,  # 60 / (1.2 x 12 / 15 = 0.96) = 62.5
        )
        assert list(ps) == ["trailing", "run_rate", "forward", "backlog"]
        assert set(ps) == set(PS_LABELS)
        expected = {"trailing": 200.0, "run_rate": 60.0, "forward": 50.0, "backlog": 62.5}
        for key, value in expected.items():
            assert ps[key] == pytest.approx(value, rel=1e-14)

    def test_run_rate_label_says_it_is_annualised(self) -> None:
        assert "x 2" in PS_LABELS["run_rate"]
        assert "not reported" in PS_LABELS["run_rate"]

    def test_only_given_bases(self) -> None:
        assert list(ps_multiples(1.0, forward_revenue=0.5)) == ["forward"]
