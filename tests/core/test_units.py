"""FX conversion, market value, per share, upside; year fractions and discount factors."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    convert,
    cumulative_discount_factors,
    discount_factor,
    market_value,
    per_share,
    upside,
    year_fraction,
)


class TestConvert:
    def test_hand_worked(self) -> None:
        # USD 50 bn x 7.1 CNY/USD = CNY 355 bn
        assert convert(50e9, 7.1) == pytest.approx(355e9, rel=1e-15)

    def test_round_trip_through_inverse_rate(self) -> None:
        # HKD -> CNY at 0.92 and back at 1 / 0.92 returns the amount
        assert convert(convert(100.0, 0.92), 1 / 0.92) == pytest.approx(100.0, rel=1e-15)

    def test_vectorised(self) -> None:
        assert convert([1.0, 2.0], 7.0).tolist() == [7.0, 14.0]

    @pytest.mark.parametrize("fx", [0.0, -7.0])
    def test_fx_must_be_positive(self, fx: float) -> None:
        with pytest.raises(InputError, match="fx must be greater than 0"):
            convert(1.0, fx)


class TestMarketValue:
    def test_hand_worked(self) -> None:
        # Biren's IPO price HKD 19.60 x 2.0 bn shares (illustrative count) = HKD 39.2 bn
        assert market_value(19.6, 2.0e9) == pytest.approx(39.2e9, rel=1e-15)

    def test_with_fx(self) -> None:
        # HKD 40 x 1 bn shares = HKD 40 bn; x 0.92 CNY/HKD = CNY 36.8 bn
        assert market_value(40.0, 1e9, fx=0.92) == pytest.approx(36.8e9, rel=1e-15)

    def test_price_must_be_positive(self) -> None:
        with pytest.raises(InputError, match=r"^price must be greater than 0, got -1\.$"):
            market_value(-1.0, 1e9)


class TestPerShare:
    def test_hand_worked(self) -> None:
        # CNY 100 bn x 1.09 HKD/CNY = HKD 109 bn; / 2.5 bn shares = HKD 43.60
        assert per_share(100e9, 2.5e9, fx=1.09) == pytest.approx(43.6, rel=1e-14)

    def test_negative_value_allowed(self) -> None:
        # a DCF can give negative equity: -10 / 4 = -2.5
        assert per_share(-10.0, 4.0) == -2.5

    def test_shares_must_be_positive(self) -> None:
        with pytest.raises(InputError, match="shares_outstanding must be greater than 0"):
            per_share(1.0, 0.0)


class TestUpside:
    def test_hand_worked(self) -> None:
        assert upside(30.0, 24.0) == pytest.approx(0.25)  # 30 / 24 - 1 = 0.25
        assert upside(18.0, 24.0) == pytest.approx(-0.25)  # 18 / 24 - 1 = -0.25

    def test_vectorised(self) -> None:
        np.testing.assert_allclose(upside([24.0, 48.0], 24.0), [0.0, 1.0])


class TestYearFraction:
    def test_leap_year_counts_366_days(self) -> None:
        # 2028 is a leap year: 366 / 365.25
        assert year_fraction("2028-01-01", "2029-01-01") == 366 / 365.25

    def test_valuation_to_2029_year_end(self) -> None:
        # 2026-01-05 -> 2029-01-05 is 365 + 365 + 366 = 1,096 days; -> 2029-12-31 is 360 more
        assert year_fraction(dt.date(2026, 1, 5), dt.date(2029, 12, 31)) == 1456 / 365.25

    def test_datetime_accepted(self) -> None:
        assert year_fraction(dt.datetime(2026, 1, 1, 15, 0), "2026-01-01") == 0.0

    def test_end_before_start(self) -> None:
        with pytest.raises(InputError, match="end must not be before start, got 2025-01-01"):
            year_fraction("2026-01-01", "2025-01-01")

    @pytest.mark.parametrize("bad", ["2026-13-01", "soon", 2026, None])
    def test_bad_dates(self, bad: object) -> None:
        with pytest.raises(InputError, match="must be a date"):
            year_fraction(bad, "2027-01-01")  # type: ignore[arg-type]


class TestDiscountFactor:
    def test_hand_worked(self) -> None:
        assert discount_factor(0.10, 2) == pytest.approx(1 / 1.21, rel=1e-15)  # 1.1^2 = 1.21
        assert discount_factor(0.25, 2) == pytest.approx(0.64, rel=1e-15)  # 1 / 1.5625

    def test_fractional_years(self) -> None:
        # half a year at 21%: 1 / sqrt(1.21) = 1 / 1.1
        assert discount_factor(0.21, 0.5) == pytest.approx(1 / 1.1, rel=1e-15)

    def test_zero_years(self) -> None:
        assert discount_factor(0.3, 0.0) == 1.0

    def test_rate_of_minus_100_percent_is_impossible(self) -> None:
        with pytest.raises(InputError, match=r"^rate must be greater than -1 \(-100%\), got -1\.$"):
            discount_factor(-1.0, 1.0)

    def test_negative_years_rejected(self) -> None:
        with pytest.raises(InputError, match="years must be 0 or more"):
            discount_factor(0.1, -1.0)


class TestCumulativeDiscountFactors:
    def test_hand_worked(self) -> None:
        # 1/1.1, 1/(1.1 x 1.1), 1/(1.1 x 1.1 x 1.05)
        expected = [1 / 1.1, 1 / 1.21, 1 / (1.21 * 1.05)]
        np.testing.assert_allclose(
            cumulative_discount_factors([0.1, 0.1, 0.05]), expected, rtol=1e-15
        )

    def test_flat_rate_matches_excel_npv_convention(self) -> None:
        # Excel NPV(r, CF1..CFn) = sum CF_t / (1 + r)^t, first flow at t = 1
        cfs = [10.0, -5.0, 20.0]
        df = cumulative_discount_factors([0.08] * 3)
        excel_npv = sum(cf / 1.08 ** (t + 1) for t, cf in enumerate(cfs))
        assert math.isclose(float(np.dot(cfs, df)), excel_npv, rel_tol=1e-14)
