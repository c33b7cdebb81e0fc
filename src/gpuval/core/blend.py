"""The weighted value across valuation methods (the Valuation sheet's headline).

``weighted = sum_i w_i x v_i / sum_i w_i``, the sums over the methods that have a value (a
method shown as "n/a" drops out and the other weights are scaled up to fill its place). The
weights are the analyst's (each 0..1, summing to 1; the workbook checks the sum); a method kept
for reference only carries weight 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from gpuval.core.validate import InputError, as_float, fraction

__all__ = ["weighted_value", "weighted_value_xl"]


def weighted_value(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """Weighted value across methods: ``sum w_i v_i / sum w_i`` over the methods whose value is
    not None; None when no method with a positive weight has a value.

    >>> round(weighted_value([27.5, 30.4, 3.8, None], [0.3, 0.4, 0.3, 0.0]), 9)  # 8.25+12.16+1.14
    21.55
    >>> weighted_value([10.0, None], [0.5, 0.5])  # the n/a method drops out
    10.0
    """
    if len(values) != len(weights):
        raise InputError(
            f"values and weights must have the same length, got {len(values)} and {len(weights)}."
        )
    total = numerator = 0.0
    for i, (value, weight) in enumerate(zip(values, weights, strict=True)):
        w = float(fraction(f"weights[{i}]", weight))
        if value is None:
            continue
        total += w
        numerator += w * float(as_float(f"values[{i}]", value))
    return numerator / total if total > 0 else None


def weighted_value_xl(values: str, weights: str) -> str:
    """Excel of :func:`weighted_value` over two ranges of one shape (``values`` may hold "n/a",
    which SUMPRODUCT counts as 0):
    ``IF(SUMPRODUCT(w,ISNUMBER(v)*1)>0,SUMPRODUCT(w,v)/SUMPRODUCT(w,ISNUMBER(v)*1),"n/a")``."""
    total = f"SUMPRODUCT({weights},ISNUMBER({values})*1)"
    return f'IF({total}>0,SUMPRODUCT({weights},{values})/{total},"n/a")'
