"""Argument checks shared by the valuation core.

Every public core function passes its arguments through these helpers first, so an impossible
input (a share of 1.5, a discount rate of -100%, NaN, arrays that cannot be broadcast together)
fails at once with one sentence naming the argument and the offending value, instead of
producing a silent NaN three sheets later.

Scalars stay Python ``float`` (fast, and what a spreadsheet cell holds); anything array-like
becomes a ``float64`` :class:`numpy.ndarray`. Core formulas use plain arithmetic, so the same
code serves both. Each range check first tries the one-cell case, a finite ``float`` inside its
bounds, with two comparisons (``NaN`` and infinities fail them and take the full check, which
words the error).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np

from gpuval.errors import GpuvalError

__all__ = [
    "ArrayLike",
    "FloatOrArray",
    "InputError",
    "all_float",
    "as_float",
    "at_most",
    "between",
    "broadcast_shape",
    "fmt",
    "fraction",
    "less_than",
    "nonnegative",
    "out",
    "pick",
    "positive",
    "rate",
]

_INF = math.inf
_FLOATS = frozenset({float})

FloatOrArray: TypeAlias = float | np.ndarray
"""A Python float for scalar input, a float64 array for array input."""

ArrayLike: TypeAlias = float | int | np.number | Sequence[Any] | np.ndarray
"""What core functions accept for a numeric argument."""


class InputError(GpuvalError, ValueError):
    """An impossible input to a core function; ``str(err)`` names the argument and value."""


def fmt(value: float) -> str:
    """Format a number for an error message: ``1.5``, ``-0.25``, ``85,540,000,000``.

    >>> fmt(1.5), fmt(85_540_000_000.0), fmt(float("nan"))
    ('1.5', '85,540,000,000', 'nan')
    """
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e6:
        return f"{v:,.0f}" if v == round(v) else f"{v:,.2f}"
    return f"{v:.6g}"


def _show(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    return reprlib.repr(value)


def _first_bad(x: np.ndarray, bad: np.ndarray) -> str:
    """The first offending element of ``x`` (where ``bad``) and its position, for a message."""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    where = idx[0] if len(idx) == 1 else idx
    return f"{fmt(x[idx])} (at position {where})"


def as_float(name: str, value: Any, *, allow_inf: bool = False) -> FloatOrArray:
    """Validate a numeric argument: a ``float`` for scalars, else a float64 array.

    NaN, non-numeric values (``None``, strings, booleans) and, unless ``allow_inf``, infinities
    raise :class:`InputError`.

    >>> as_float("share", 0.25)
    0.25
    >>> as_float("share", [0.1, 0.2])
    array([0.1, 0.2])
    >>> as_float("share", float("nan"))
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: share must be a number, got nan.
    """
    t = type(value)
    if t is float or t is int or t is np.float64:
        try:
            v = float(value)
        except OverflowError:
            raise InputError(f"{name} must be a finite number, got {_show(value)}.") from None
        if v != v or (not allow_inf and (v == math.inf or v == -math.inf)):
            what = "a number" if v != v else "a finite number"
            raise InputError(f"{name} must be {what}, got {fmt(v)}.")
        return v
    if value is None or isinstance(value, bool | str | bytes):
        raise InputError(f"{name} must be a number, got {_show(value)}.")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise InputError(
            f"{name} must be a number or an array of numbers, got {_show(value)}."
        ) from exc
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name} must be a number or an array of numbers, got {_show(value)}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 0:
        return as_float(name, float(arr), allow_inf=allow_inf)
    nan = np.isnan(arr)
    if nan.any():
        raise InputError(f"{name} must be a number, got {_first_bad(arr, nan)}.")
    if not allow_inf:
        inf = np.isinf(arr)
        if inf.any():
            raise InputError(f"{name} must be a finite number, got {_first_bad(arr, inf)}.")
    return arr


def _check(
    name: str, x: FloatOrArray, ok: Any, requirement: str | Callable[[], str]
) -> FloatOrArray:
    """Raise unless ``ok``; ``requirement`` (text, or a function making it only when needed)
    says what the value must be."""
    if isinstance(x, float):
        if not ok:
            raise InputError(f"{name} must be {_text(requirement)}, got {fmt(x)}.")
        return x
    ok = np.asarray(ok)
    if not ok.all():
        raise InputError(f"{name} must be {_text(requirement)}, got {_first_bad(x, ~ok)}.")
    return x


def _text(requirement: str | Callable[[], str]) -> str:
    return requirement() if callable(requirement) else requirement


def between(name: str, value: Any, lo: float, hi: float) -> FloatOrArray:
    """Validate ``lo <= value <= hi``.

    >>> between("tax_rate", 1.2, 0.0, 1.0)
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: tax_rate must be between 0 and 1, got 1.2.
    """
    if type(value) is float and -_INF < lo <= value <= hi < _INF:
        return value
    x = as_float(name, value)
    return _check(name, x, (x >= lo) & (x <= hi), lambda: f"between {fmt(lo)} and {fmt(hi)}")


def fraction(name: str, value: Any) -> FloatOrArray:
    """Validate a share, probability or fraction: ``0 <= value <= 1``.

    >>> fraction("share", 1.5)
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: share must be between 0 and 1, got 1.5.
    """
    if type(value) is float and 0.0 <= value <= 1.0:
        return value
    return between(name, value, 0.0, 1.0)


def rate(name: str, value: Any) -> FloatOrArray:
    """Validate a rate of return or growth: ``value > -1`` (more than -100%).

    >>> rate("cost_of_equity", -1.0)
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: cost_of_equity must be greater than -1 (-100%), got -1.
    """
    if type(value) is float and -1.0 < value < _INF:
        return value
    x = as_float(name, value)
    return _check(name, x, x > -1.0, "greater than -1 (-100%)")


def positive(name: str, value: Any) -> FloatOrArray:
    """Validate ``value > 0``."""
    if type(value) is float and 0.0 < value < _INF:
        return value
    x = as_float(name, value)
    return _check(name, x, x > 0.0, "greater than 0")


def nonnegative(name: str, value: Any) -> FloatOrArray:
    """Validate ``value >= 0``."""
    if type(value) is float and 0.0 <= value < _INF:
        return value
    x = as_float(name, value)
    return _check(name, x, x >= 0.0, "0 or more")


def at_most(name: str, value: Any, hi: float) -> FloatOrArray:
    """Validate ``value <= hi``."""
    if type(value) is float and -_INF < value <= hi < _INF:
        return value
    x = as_float(name, value)
    return _check(name, x, x <= hi, lambda: f"at most {fmt(hi)}")


def less_than(name: str, x: FloatOrArray, other_name: str, other: FloatOrArray) -> None:
    """Validate ``x < other`` elementwise (both already validated and broadcastable).

    >>> less_than("terminal_growth", 0.09, "mature_cost_of_capital", 0.08)
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: terminal_growth must be less than mature_cost_of_capital, \
got 0.09 against 0.08.
    """
    if isinstance(x, float) and isinstance(other, float) and x < other:
        return  # the common single-cell case, without numpy
    ok = np.asarray(x < other)
    if ok.all():
        return
    bad = np.argwhere(~ok)[0] if ok.ndim else ()
    xv = np.broadcast_to(x, ok.shape)[tuple(bad)]
    ov = np.broadcast_to(other, ok.shape)[tuple(bad)]
    where = f" (at position {tuple(int(i) for i in bad)})" if ok.ndim else ""
    raise InputError(
        f"{name} must be less than {other_name}, got {fmt(xv)} against {fmt(ov)}{where}."
    )


def all_float(values: Iterable[Any]) -> bool:
    """True when every value is a Python ``float`` (one number each, nothing to broadcast)."""
    return _FLOATS.issuperset(map(type, values))


def broadcast_shape(**named: FloatOrArray) -> tuple[int, ...]:
    """The common broadcast shape of validated arguments, or :class:`InputError` naming a clash.

    >>> broadcast_shape(share=0.1, margin=[0.2, 0.3])
    (2,)
    >>> broadcast_shape(share=[0.1, 0.2, 0.3], margin=[0.2, 0.3])
    Traceback (most recent call last):
    ...
    gpuval.core.validate.InputError: share has shape (3,) and margin has shape (2,), \
which cannot be broadcast together.
    """
    if all_float(named.values()):
        return ()  # every argument one number
    shape: tuple[int, ...] = ()
    owner = ""
    for name, value in named.items():
        if isinstance(value, float):
            continue
        s = np.shape(value)
        try:
            new = np.broadcast_shapes(shape, s)
        except ValueError:
            raise InputError(
                f"{owner} has shape {shape} and {name} has shape {s}, "
                "which cannot be broadcast together."
            ) from None
        if new != shape or not owner:
            owner = name
        shape = new
    return shape


def out(value: Any) -> FloatOrArray:
    """Return 0-d results as a Python ``float``, arrays unchanged."""
    if isinstance(value, np.ndarray):
        return float(value) if value.ndim == 0 else value
    return float(value)


def pick(result: Any, output: str | None) -> Any:
    """``result`` itself, or its attribute / key ``output`` (for functions returning records)."""
    if output is None:
        return result
    if isinstance(result, dict):
        return result[output]
    return getattr(result, output)
