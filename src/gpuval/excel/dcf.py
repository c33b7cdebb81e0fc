"""The young-growth DCF and the market-implied growth as ``GPUVAL_`` functions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpuval import core
from gpuval.core.dcf import YEARS
from gpuval.excel.args import REQUIRED, UdfError, broadcast, canonical, choice, pairs, single
from gpuval.excel.args import whole as whole_number
from gpuval.excel.declare import Param, udf
from gpuval.excel.params import (
    BASIS,
    DCF,
    DCF_OUTPUT,
    DCF_REQUIRED,
    DCF_SCHEDULE,
    MARKET_VALUE,
    kinds,
)
from gpuval.excel.results import result
from gpuval.excel.text import close, names, show

MAX_DRAWS_SCHEDULE = 20_000
"""Most results at once for a DCF output other than value_per_share / equity_value: those go
through ``young_growth_dcf``, which keeps every yearly schedule (about 1 kB a result)."""

DCF_KINDS = kinds(DCF)
"""DCF input name -> kind (number or year), as a name | value table reads it."""

WHOLE_BOUNDS = {p.name: p.options for p in DCF if p.kind == "whole"}
"""Bounds of the DCF's whole-number inputs (margin_convergence_year 1-10, bridge_years 0-3,
high_growth_years 1-9)."""


def table_inputs(
    name: str, table: Any, kinds: dict[str, str], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A name | value table -> ``{input: value}``; names checked against ``kinds``.

    Kinds: ``number`` (a finite number), ``year`` (a whole number within
    :data:`WHOLE_BOUNDS`, else 1..10), ``basis`` (pe or ps). Blank values are left out (defaults
    apply).
    """
    lookup = {k.casefold(): k for k in kinds}
    out: dict[str, Any] = {}
    for key, value, where in pairs(name, table, known=kinds):
        canon = canonical(
            name, key, lookup, out, where,
            lambda k, w: f"{name} has an unknown input {k!r}{w}{close(k, kinds)}; "
            f"known inputs: {names(kinds)}.",
        )  # fmt: skip
        if value is None:
            continue
        kind, label = kinds[canon], f"{canon}{where}"
        if kind == "basis":
            out[canon] = choice("basis", value, BASIS.default, BASIS.options)
        elif kind == "year":
            lo, hi = WHOLE_BOUNDS.get(canon, (1, YEARS))
            out[canon] = whole_number(label, value, REQUIRED, lo, hi)
        else:
            out[canon] = single(label, value)
    missing = [k for k in required if k not in out]
    if missing:
        raise UdfError(f"{name} is missing {', '.join(missing)}; add a row for each.")
    return out


HEADLINE = ("value_per_share", "equity_value")
"""The DCF outputs computed without building the yearly schedules (``core.dcf_totals``)."""


def dcf_output(inputs: dict[str, Any], output: str) -> Any:
    """One DCF output; the two headline ones without building the yearly schedules."""
    if output in HEADLINE:
        return core.dcf_totals(**inputs)[output]
    size = math.prod(broadcast({k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}))
    if size > MAX_DRAWS_SCHEDULE:
        raise UdfError(
            f"the dcf output {output} is limited to {MAX_DRAWS_SCHEDULE:,} results at once (it "
            f"keeps every yearly schedule); this asks for {size:,}."
        )
    return getattr(core.young_growth_dcf(**inputs), output)


def _dcf(numbers: dict[str, Any], output: str = "value_per_share", **years: int) -> Any:
    """The DCF's ``output`` from the number arguments (a dict) and the whole-year ones
    (evaluated over the number arguments by ``declare.evaluate``)."""
    return dcf_output(numbers | years, output)


GPUVAL_DCF = udf(
    "GPUVAL_DCF",
    "Young-growth DCF (Damodaran style): 10 years of growth, margin convergence, reinvestment, "
    "NOLs and a tax path, a terminal value and failure. Returns value per share (or output).",
    [*DCF, DCF_OUTPUT],
    core=_dcf,
    core_defaults=core.dcf_totals,
    numbers_dict=True,
    summary="young-growth DCF value per share (or `output`)",
    example="`=GPUVAL_DCF(100, 0, 0, 0, 20%, 20%, 1, 25%, 10%, 10%, 10, , , , , , 50)` -> 20",
)

_ASSUMPTIONS = Param(
    "assumptions", "range", "Two-column range of DCF input names and values, e.g. revenue | "
    "337000000 (header optional; blank values take their defaults).",
)  # fmt: skip


def _dcf_table(assumptions: Any, output: str) -> Any:
    inputs = table_inputs("assumptions", assumptions, DCF_KINDS, DCF_REQUIRED)
    return result(dcf_output(inputs, output))


GPUVAL_DCF_TABLE = udf(
    "GPUVAL_DCF_TABLE",
    "Young-growth DCF from a two-column range of input names (as GPUVAL_DCF's parameters) and "
    "values; blank values take their defaults. Returns value per share (or output).",
    [_ASSUMPTIONS, DCF_OUTPUT],
    body=_dcf_table,
    summary="the same from a name \\| value range",
    example="`=GPUVAL_DCF_TABLE(A2:B20)`",
)


def _schedule(assumptions: Any) -> list[list[Any]]:
    inputs = table_inputs("assumptions", assumptions, DCF_KINDS, DCF_REQUIRED)
    r = core.young_growth_dcf(**inputs)
    values = result(np.array([getattr(r, name) for name in DCF_SCHEDULE], dtype=np.float64))
    header = ["item", *(f"year {t}" for t in range(1, len(values[0]) + 1))]
    return [header, *([name, *row] for name, row in zip(DCF_SCHEDULE, values, strict=True))]


GPUVAL_DCF_SCHEDULE = udf(
    "GPUVAL_DCF_SCHEDULE",
    "The DCF's yearly schedule as a table: growth, revenue, margin, EBIT, taxes, NOL, after-tax "
    "EBIT, reinvestment, FCFF, cost of capital, discount factor, PV of FCFF, for years 1-10.",
    [_ASSUMPTIONS],
    body=_schedule,
    summary="13 x 11 table: 12 yearly lines x years 1-10, with headers",
    example="`=GPUVAL_DCF_SCHEDULE(A2:B20)`",
)


def _implied_growth(
    market_value: float, assumptions: Any, include_year1: bool, low: float, high: float
) -> Any:
    inputs = table_inputs("assumptions", assumptions, DCF_KINDS)
    inputs.pop("growth_y2_5", None)
    if include_year1:
        inputs.pop("growth_y1", None)
    solved = ("growth_y2_5", "growth_y1") if include_year1 else ("growth_y2_5",)
    needed = [k for k in DCF_REQUIRED if k not in inputs and k not in solved]
    if needed:
        raise UdfError(f"assumptions is missing {', '.join(needed)}; add a row for each.")
    if not (-1.0 < low < high <= 100.0):
        raise UdfError(
            f"low and high must satisfy -1 < low < high <= 100, got {show(low)} and {show(high)}."
        )
    return result(
        core.implied_growth(market_value, lo=low, hi=high, include_year1=include_year1, **inputs)
    )


GPUVAL_IMPLIED_GROWTH = udf(
    "GPUVAL_IMPLIED_GROWTH",
    "Market-implied revenue growth for years 2-5: the growth at which the DCF's equity value x "
    "fx equals market_value (bisection). Example: =GPUVAL_IMPLIED_GROWTH(85.5e9, A2:B14).",
    [
        MARKET_VALUE.with_(
            kind="single", help="Today's market value of equity, listing currency, > 0."
        ),
        _ASSUMPTIONS.with_(
            help="Two-column range of DCF inputs (as GPUVAL_DCF_TABLE); its "
            "growth_y2_5 is ignored, being solved for."
        ),
        Param("include_year1", "flag", "TRUE solves for one growth rate in years 1-5.", False),
        Param("low", "single", "Lowest growth searched.", -0.5, blank="-0.5 (-50%)"),
        Param("high", "single", "Highest growth searched.", 2.0, blank="2 (200%)"),
    ],
    body=_implied_growth,
    summary="years 2-5 growth that reproduces the market value (bisection; the table's "
    "growth_y2_5 is ignored)",
    example="`=GPUVAL_IMPLIED_GROWTH(85.54e9, A2:B20)`",
)
