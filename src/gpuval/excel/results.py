"""What a ``GPUVAL_`` function hands back: finite numbers sized for Excel, or one sentence."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from gpuval.errors import GpuvalError
from gpuval.excel.args import MAX_CELLS, UdfError

__all__ = ["MAX_MESSAGE", "PREFIX", "error_text", "failure", "guard", "labelled", "result"]

PREFIX = "#GPUVAL! "
"""Every error a function returns as text starts with this."""

MAX_MESSAGE = 300
"""Longest error text returned to a cell (characters)."""

_log = logging.getLogger("gpuval.excel")

_NONFINITE = (
    "the result is not a finite number (the calculation overflowed); check the inputs' units "
    "and magnitudes."
)


def result(value: Any) -> Any:
    """A core result as Excel wants it: a finite float, or rows of finite floats."""
    if type(value) is float:
        if value - value == 0.0:
            return value
        raise UdfError(_NONFINITE)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return result(float(value))
        if value.size > MAX_CELLS:
            raise UdfError(f"the result would have {value.size:,} cells, more than {MAX_CELLS:,}.")
        arr = value.astype(np.float64, copy=False)
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            where = (
                f" at position {idx[0] + 1}"
                if arr.ndim == 1
                else (f" in row {idx[0] + 1}, column {idx[1] + 1}" if arr.ndim == 2 else "")
            )
            raise UdfError(_NONFINITE.replace("the result is", f"the result{where} is", 1))
        if arr.ndim == 1:
            return [arr.tolist()]
        if arr.ndim > 2:
            raise UdfError(f"the result has {arr.ndim} dimensions; Excel shows at most 2.")
        return arr.tolist()
    if isinstance(value, int | np.number) and not isinstance(value, bool):
        return result(float(value))
    return value


def labelled(rows: list[list[Any]], labels: bool) -> list[list[Any]]:
    """``[label, value]`` rows as they are (``labels`` TRUE), else the values column alone."""
    return rows if labels else [[v] for _, v in rows]


def error_text(exc: BaseException | str) -> str:
    """``"#GPUVAL! <message>"`` on one line, at most :data:`MAX_MESSAGE` characters."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    text = PREFIX + message
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1].rstrip() + "…"
    return text


def failure(exc: BaseException, function: str) -> str:
    """The one sentence a failed call shows (without :data:`PREFIX`).

    :class:`~gpuval.errors.GpuvalError` (the core's :class:`~gpuval.core.InputError` and
    :class:`UdfError`) gives its own sentence; arithmetic overflow a fixed sentence; anything
    else (a bug) a sentence naming the function, with the traceback sent to the
    ``gpuval.excel`` logger, never to the cell.
    """
    if isinstance(exc, GpuvalError):
        return str(exc)
    if isinstance(exc, ArithmeticError):
        return _NONFINITE
    _log.error("GPUVAL function %s failed", function, exc_info=exc)
    return f"{function} failed unexpectedly ({type(exc).__name__}); please report it."


def guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``func`` so that it returns ``"#GPUVAL! ..."`` text instead of raising."""
    name = func.__name__

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            return error_text(failure(exc, name))

    return wrapper
