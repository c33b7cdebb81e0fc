"""Figures as the articles write them: "12.4億元" -> 1.24e9, "46.3%" -> 0.463.

A written figure is one Arabic number, optionally with a Chinese scale word (万 1e4, 亿 1e8,
万亿 1e12, simplified or traditional), a percent sign (value / 100) or written as a fraction
``a/b``, followed by unit words (元, 港元, 美元, 股, 倍, ...). Anything else ("百倍以上",
"2-3亿元") does not parse, and the dataset must then give the value explicitly.

The *resolution* of a written figure is the place value of its last significant digit in plain
units: "42.88港元" -> 0.01, "4400亿元" -> 1e10, "46.3%" -> 0.001, "-7.30亿元" -> 1e6.
It measures how precisely the article states the figure and drives the consistency checks
in :mod:`gpuval.data.quality`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Parsed", "parse_written", "resolution_of"]

_SCALES = {"万亿": 12, "萬億": 12, "亿": 8, "億": 8, "万": 4, "萬": 4}
_UNIT_WORDS = (
    "元人民币|元人民幣|人民币|人民幣|港元|美元|元|股|倍|片|颗|顆|块|塊|家|个|個|EFLOPS|个月|個月"
)
_FIGURE = re.compile(
    r"^(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?P<scale>万亿|萬億|亿|億|万|萬)?\s*(?P<pct>%)?"
    rf"\s*(?:{_UNIT_WORDS})?$"
)
_RATIO = re.compile(r"^(?P<a>\d+)/(?P<b>\d+)$")


@dataclass(frozen=True)
class Parsed:
    """A parsed figure: ``value`` in plain units and its ``resolution`` (see module docstring)."""

    value: float
    resolution: float


def _last_digit_exponent(number: Decimal) -> int:
    """Power of ten of the last significant digit: 4400 -> 2, 42.88 -> -2, 7.30 -> -2.

    Digits after a decimal point are all significant; trailing zeros of a whole number are not
    (an article's "4400亿" is known to the hundred, not to the unit).
    """
    exponent = int(number.as_tuple().exponent)
    if exponent < 0 or number == 0:
        return exponent
    return int(number.normalize().as_tuple().exponent)


def resolution_of(number: Decimal, shift: int = 0) -> float:
    """Place value of the last significant digit of ``number`` x 10**shift."""
    return float(Decimal(1).scaleb(_last_digit_exponent(number) + shift))


def parse_written(written: str) -> Parsed | None:
    """Parse a figure as written in an article; ``None`` when it is not a single plain figure.

    >>> parse_written("12.4億元")
    Parsed(value=1240000000.0, resolution=10000000.0)
    >>> parse_written("112.55%").value
    1.1255
    >>> parse_written("百倍以上") is None
    True
    """
    text = written.strip()
    ratio = _RATIO.match(text)
    if ratio:
        a, b = Decimal(ratio["a"]), Decimal(ratio["b"])
        if b == 0:
            return None
        value = a / b
        # The denominator carries the precision: "1/3000" is known to within 1/2000..1/4000.
        return Parsed(float(value), float(value * Decimal(resolution_of(b)) / b))
    match = _FIGURE.match(text)
    if not match:
        return None
    number = Decimal(match["num"])
    shift = _SCALES.get(match["scale"] or "", 0) - (2 if match["pct"] else 0)
    return Parsed(float(number.scaleb(shift)), resolution_of(number, shift))
