"""'x% of NVIDIA': value, per share, and the inverse."""

from __future__ import annotations

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    fraction_of_nvidia_per_share,
    fraction_of_nvidia_value,
    implied_fraction_of_nvidia,
)


class TestFractionOfNvidiaValue:
    def test_article_example(self) -> None:
        # "1% of USD 5 trn = USD 50 bn, about CNY 350 bn": 0.01 x 5e12 x 7.0
        assert fraction_of_nvidia_value(0.01, 5e12, fx=7.0) == pytest.approx(350e9, rel=1e-15)

    def test_vectorised(self) -> None:
        # 10% and 20% of USD 5 trn, in USD
        np.testing.assert_allclose(fraction_of_nvidia_value([0.1, 0.2], 5e12), [5e11, 1e12])

    def test_fraction_above_one_rejected(self) -> None:
        with pytest.raises(InputError, match=r"^fraction must be between 0 and 1, got 1\.5\.$"):
            fraction_of_nvidia_value(1.5, 5e12)


class TestFractionOfNvidiaPerShare:
    def test_hand_worked(self) -> None:
        # 1% x USD 5 trn = USD 50 bn x 7.8 HKD/USD = HKD 390 bn / 2.5 bn shares = HKD 156
        assert fraction_of_nvidia_per_share(0.01, 5e12, 2.5e9, fx=7.8) == pytest.approx(156.0)

    def test_shares_positive(self) -> None:
        with pytest.raises(InputError, match="shares_outstanding must be greater than 0"):
            fraction_of_nvidia_per_share(0.01, 5e12, 0.0)


class TestImpliedFractionOfNvidia:
    def test_hand_worked(self) -> None:
        # CNY 440 bn (Moore Threads' peak) / (USD 5 trn x 7.0) = 440 / 35,000 = 1.257%
        assert implied_fraction_of_nvidia(440e9, 5e12, fx=7.0) == pytest.approx(440 / 35_000)

    def test_congruent_with_forward(self) -> None:
        f = 0.0123
        mv = fraction_of_nvidia_value(f, 4.89e12, fx=7.1)
        assert implied_fraction_of_nvidia(mv, 4.89e12, fx=7.1) == pytest.approx(f, rel=1e-14)
