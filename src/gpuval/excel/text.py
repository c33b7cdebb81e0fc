"""Wording helpers for the functions' messages: near-miss suggestions and short lists."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import reprlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from gpuval.core.validate import fmt

__all__ = ["close", "names", "number_text", "show"]


def close(word: str, options: Iterable[str]) -> str:
    """`` (did you mean X?)`` when an option is close to ``word``, else ``""``."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def names(options: Iterable[str], limit: int = 8) -> str:
    """``a, b, c and 5 more``: at most ``limit`` options named."""
    shown = list(options)
    text = ", ".join(shown[:limit])
    return text + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def number_text(value: float) -> str:
    """A number for a message: ``1.5``, ``85,540,000,000``; very large ones as ``1e+300``."""
    if math.isfinite(value) and abs(value) >= 1e15:
        return f"{value:.6g}"
    return fmt(value)


def show(value: Any) -> str:
    """How a bad value is named in a message: ``text 'abc'``, ``TRUE``, ``a date``, ``1.5``."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f"text {reprlib.repr(value)}"
    if isinstance(value, dt.date | dt.time):
        return "a date"
    if isinstance(value, float | np.floating):
        return number_text(float(value))
    if isinstance(value, int | np.integer):
        return f"{int(value)}" if abs(int(value)) < 10**15 else "a huge whole number"
    return f"a value of type {type(value).__name__}"
