"""Argument checks: one clear InputError naming the argument and value."""

from __future__ import annotations

import numpy as np
import pytest

from gpuval.core.validate import (
    InputError,
    as_float,
    at_most,
    between,
    broadcast_shape,
    fmt,
    fraction,
    less_than,
    nonnegative,
    out,
    positive,
    rate,
)
from gpuval.errors import GpuvalError


class TestInputError:
    def test_is_a_gpuval_error_and_a_value_error(self) -> None:
        assert issubclass(InputError, GpuvalError)
        assert issubclass(InputError, ValueError)


class TestFmt:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (85_540_000_000.0, "85,540,000,000"),
            (1e7 + 0.5, "10,000,000.50"),
        ],
    )
    def test_formats(self, value: float, text: str) -> None:
        assert fmt(value) == text


class TestAsFloat:
    def test_python_scalars_become_float(self) -> None:
        assert as_float("x", 3) == 3.0
        assert type(as_float("x", 3)) is float
        assert type(as_float("x", np.float64(2.5))) is float
        assert type(as_float("x", np.int32(2))) is float

    def test_zero_dimensional_array_becomes_float(self) -> None:
        assert type(as_float("x", np.array(0.5))) is float

    def test_sequences_become_float_arrays(self) -> None:
        a = as_float("x", [1, 2, 3])
        assert isinstance(a, np.ndarray)
        assert a.dtype == np.float64
        assert a.tolist() == [1.0, 2.0, 3.0]

    def test_nan_scalar(self) -> None:
        with pytest.raises(InputError, match=r"^share must be a number, got nan\.$"):
            as_float("share", float("nan"))

    def test_nan_in_array_names_position(self) -> None:
        with pytest.raises(
            InputError, match=r"^share must be a number, got nan \(at position 2\)\.$"
        ):
            as_float("share", [0.1, 0.2, np.nan])

    def test_nan_in_2d_array_names_position(self) -> None:
        with pytest.raises(InputError, match=r"at position \(1, 0\)"):
            as_float("share", [[0.1, 0.2], [np.nan, 0.3]])

    @pytest.mark.parametrize("bad", [None, "0.5", b"1", True, False, {"a": 1}])
    def test_non_numbers_rejected(self, bad: object) -> None:
        with pytest.raises(InputError, match=r"^tam must be a number"):
            as_float("tam", bad)

    def test_text_inside_array_rejected(self) -> None:
        with pytest.raises(InputError, match="tam must be a number or an array of numbers"):
            as_float("tam", [1.0, "x"])

    def test_ragged_rejected(self) -> None:
        with pytest.raises(InputError, match="tam must be a number or an array of numbers"):
            as_float("tam", [[1.0, 2.0], [3.0]])

    def test_infinity_rejected_unless_allowed(self) -> None:
        with pytest.raises(InputError, match=r"^x must be a finite number, got inf\.$"):
            as_float("x", float("inf"))
        with pytest.raises(InputError, match=r"got -inf \(at position 0\)"):
            as_float("x", [-np.inf])
        assert as_float("x", float("inf"), allow_inf=True) == float("inf")


class TestRangeChecks:
    def test_fraction_message_from_the_issue(self) -> None:
        with pytest.raises(InputError) as err:
            fraction("share", 1.5)
        assert str(err.value) == "share must be between 0 and 1, got 1.5."

    def test_fraction_bounds_inclusive(self) -> None:
        assert fraction("share", 0.0) == 0.0
        assert fraction("share", 1.0) == 1.0

    def test_fraction_array_names_first_bad(self) -> None:
        with pytest.raises(InputError, match=r"got -0\.1 \(at position 1\)"):
            fraction("share", [0.5, -0.1, 2.0])

    def test_rate_must_exceed_minus_one(self) -> None:
        assert rate("r", -0.99) == -0.99
        with pytest.raises(InputError) as err:
            rate("cost_of_equity", -1.0)
        assert str(err.value) == "cost_of_equity must be greater than -1 (-100%), got -1."
        with pytest.raises(InputError, match=r"got -1\.5"):
            rate("cost_of_equity", [0.1, -1.5])

    def test_positive_and_nonnegative(self) -> None:
        assert nonnegative("x", 0.0) == 0.0
        with pytest.raises(InputError, match=r"^revenue must be greater than 0, got 0\.$"):
            positive("revenue", 0.0)
        with pytest.raises(InputError, match=r"^revenue must be 0 or more, got -5\.$"):
            nonnegative("revenue", -5.0)

    def test_between_and_at_most(self) -> None:
        with pytest.raises(InputError, match=r"^tax_rate must be between 0 and 1, got 1\.2\.$"):
            between("tax_rate", 1.2, 0.0, 1.0)
        with pytest.raises(InputError, match=r"^target_margin must be at most 1, got 1\.5\.$"):
            at_most("target_margin", 1.5, 1.0)

    def test_less_than(self) -> None:
        less_than("g", 0.02, "r", 0.08)
        with pytest.raises(InputError) as err:
            less_than("terminal_growth", 0.08, "mature_cost_of_capital", 0.08)
        assert str(err.value) == (
            "terminal_growth must be less than mature_cost_of_capital, got 0.08 against 0.08."
        )

    def test_less_than_arrays(self) -> None:
        with pytest.raises(InputError, match=r"got 0\.1 against 0\.08 \(at position \(1,\)\)"):
            less_than("g", np.array([0.02, 0.1]), "r", 0.08)


class TestBroadcastShape:
    def test_scalars_have_empty_shape(self) -> None:
        assert broadcast_shape(a=1.0, b=2.0) == ()

    def test_broadcasts(self) -> None:
        assert broadcast_shape(a=np.zeros((3, 1)), b=np.zeros(4), c=1.0) == (3, 4)

    def test_mismatch_names_both_arguments(self) -> None:
        with pytest.raises(InputError) as err:
            broadcast_shape(share=np.zeros(3), margin=np.zeros(2))
        assert str(err.value) == (
            "share has shape (3,) and margin has shape (2,), which cannot be broadcast together."
        )


class TestOut:
    def test_out(self) -> None:
        assert type(out(np.float64(1.0))) is float
        assert type(out(np.array(2.0))) is float
        a = np.array([1.0])
        assert out(a) is a
