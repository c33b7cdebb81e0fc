"""Consistency of the sources with themselves (``gpuval data --quality``).

Each ``[[relation]]`` in the dataset says that one stated figure should follow from others, e.g.
Biren's stated first-day gain should equal high / offer - 1. Figures are compared as *intervals*:
a written figure stands for every value that rounds to it (resolution = place value of its last
significant digit, see :mod:`gpuval.data.numbers`), widened by its qualifier:

=========  =======================
qualifier  interval for value v
=========  =======================
(none)     [v - u/2, v + u/2]
about      [v - u/2, v + u/2]
up_to      [v - u/2, v + u/2]  (the bound itself is exact)
over       [v, v + u]          ("over 170" means 170 to 180)
nearly     [v - u, v]          ("nearly 700%" means 600% to 700%)
=========  =======================

The computed side takes the input intervals through the relation (every relation is monotone in
each input, so the extremes lie at the corners). A finding is a relation whose two intervals do not
overlap: the sources disagree by more than their own rounding can explain.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import mul

from gpuval.data.dataset import OPS, Dataset, Record
from gpuval.errors import GpuvalError

__all__ = ["Check", "check_relations", "interval"]

Interval = tuple[float, float]


def _year(record: Record) -> int:
    try:
        return int(record.period[:4])
    except ValueError:
        raise GpuvalError(
            f"Record {record.id!r} needs a period with a year for a CAGR check."
        ) from None


def _relation_function(kind: str, inputs: Sequence[Record]) -> Callable[[list[float]], float]:
    if kind == "cagr":
        years = _year(inputs[1]) - _year(inputs[0])
        if years <= 0:
            raise GpuvalError(
                f"CAGR check from {inputs[0].id!r} to {inputs[1].id!r} needs a later end year."
            )
        return lambda v: (v[1] / v[0]) ** (1 / years) - 1
    return {
        "return": lambda v: v[1] / v[0] - 1,
        "ratio": lambda v: reduce(lambda a, b: a / b, v),
        "product": lambda v: reduce(mul, v),
        "sum": sum,
        "equal": lambda v: v[0],
    }[kind]


def _corners(function: Callable[[list[float]], float], spans: Sequence[Interval]) -> Interval:
    values = [function(list(corner)) for corner in itertools.product(*spans)]
    return min(values), max(values)


def interval(dataset: Dataset, record_id: str) -> Interval:
    """The values a record's figure may stand for (derived ones through their inputs)."""
    rec = dataset[record_id]
    if rec.value is None:
        raise GpuvalError(f"Record {rec.id!r} is a date and has no value to check.")
    if rec.kind == "derived" and rec.inputs:
        op = OPS[rec.op][0]
        return _corners(op, [interval(dataset, name) for name in rec.inputs])
    v, u = rec.value, rec.resolution
    if rec.qualifier == "over":
        return v, v + u
    if rec.qualifier == "nearly":
        return v - u, v
    return v - u / 2, v + u / 2


@dataclass(frozen=True)
class Check:
    """One relation checked: the stated figure against what its inputs imply."""

    kind: str
    stated: Record
    inputs: tuple[Record, ...]
    computed: float
    stated_span: Interval
    computed_span: Interval

    @property
    def gap(self) -> float:
        """Computed minus stated, in the stated figure's unit."""
        return self.computed - self.stated.number

    @property
    def relative_gap(self) -> float:
        stated = self.stated.value or 0.0
        return self.gap / abs(stated) if stated else math.inf

    @property
    def consistent(self) -> bool:
        """True when the two intervals overlap: the gap is within the sources' rounding."""
        return (
            self.computed_span[0] <= self.stated_span[1]
            and self.stated_span[0] <= self.computed_span[1]
        )

    def describe(self) -> str:
        """One sentence naming both sides and the size of the gap."""
        unit = self.stated.unit
        if unit == "fraction":
            gap = f"{self.gap * 100:+.2f} percentage points"
        else:
            gap = f"{'+' if self.gap >= 0 else '-'}{_show(abs(self.gap), unit)} {unit}"
        verdict = "within the sources' rounding" if self.consistent else "INCONSISTENT"
        stated = self.stated
        shown = _show(stated.number, unit)
        head = (
            f"{stated.id} states {stated.written!r} ({shown})"
            if stated.written
            else f"{stated.id} = {stated.how} = {shown}"
        )
        return (
            f"{head}; {self.kind} of "
            f"{', '.join(r.id for r in self.inputs)} gives {_show(self.computed, unit)}: "
            f"gap {gap} ({self.relative_gap:+.2%}), {verdict}."
        )


def _show(value: float, unit: str) -> str:
    """112.55% for fractions, 1,100,000,000 for large amounts, 6 significant digits otherwise."""
    if unit == "fraction":
        return f"{value * 100:.6g}%"
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.6g}"


def check_relations(dataset: Dataset) -> list[Check]:
    """Every relation of the dataset, checked; inconsistencies first, largest gap first."""
    checks = []
    for rel in dataset.relations:
        stated = dataset[rel.stated]
        inputs = tuple(dataset[name] for name in rel.inputs)
        function = _relation_function(rel.kind, inputs)
        computed = function([r.number for r in inputs])
        checks.append(
            Check(
                kind=rel.kind,
                stated=stated,
                inputs=inputs,
                computed=computed,
                stated_span=interval(dataset, stated.id),
                computed_span=_corners(function, [interval(dataset, r.id) for r in inputs]),
            )
        )
    return sorted(checks, key=lambda c: (c.consistent, -abs(c.relative_gap)))
