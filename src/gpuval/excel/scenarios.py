"""TAM-share scenarios and the market-implied share as ``GPUVAL_`` functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpuval import core
from gpuval.excel.args import UdfError
from gpuval.excel.declare import Param, udf
from gpuval.excel.params import BASIS, DISTRESS_FRACTION, IMPLIED, LABELS, TAM, TAM_OUTPUTS
from gpuval.excel.results import labelled, result


def _tam_udf(name: str, attr: str, doc: str, summary: str, example: str) -> Callable[..., Any]:
    """A ``GPUVAL_`` function giving the field ``attr`` of :func:`gpuval.core.tam_scenario`."""
    return udf(
        name,
        doc,
        [*TAM, BASIS, DISTRESS_FRACTION],
        core=core.tam_scenario,
        attr=attr,
        summary=summary,
        example=example,
    )


GPUVAL_TAM_VALUE = _tam_udf(
    "GPUVAL_TAM_VALUE",
    "value",
    "Equity value today (model currency) of a TAM-share scenario: share x TAM x margin x exit "
    "multiple, discounted, diluted and weighted by the odds of success, as "
    "gpuval.core.tam_scenario.",
    summary="today's equity value of a TAM-share scenario, model currency",
    example="`=GPUVAL_TAM_VALUE(5%, 200e9, 20%, 30, 25%, 2, 2.6e9, 50%, 2e9, 20%, 7.8)` -> 17e9",
)
GPUVAL_TAM_PER_SHARE = _tam_udf(
    "GPUVAL_TAM_PER_SHARE",
    "value_per_share",
    "Value per share (listing currency) of a TAM-share scenario: its equity value x fx / shares "
    "outstanding. Same inputs as GPUVAL_TAM_VALUE and gpuval.core.tam_scenario.",
    summary="value per share, listing currency (same arguments)",
    example="same arguments -> 51.0",
)


def _steps(labels: bool, basis: Any, **nums: Any) -> list[list[Any]]:
    for name, v in nums.items():
        if isinstance(v, np.ndarray):
            raise UdfError(f"{name} must be a single cell here; GPUVAL_TAM_VALUE takes ranges.")
    r = core.tam_scenario(**nums, basis=basis)  # basis: "pe" or "ps", checked by its Param
    rows = [[k, result(getattr(r, k))] for k in TAM_OUTPUTS if getattr(r, k) is not None]
    return labelled(rows, labels)


GPUVAL_TAM_SCENARIO = udf(
    "GPUVAL_TAM_SCENARIO",
    "Every step of a TAM-share scenario as an array: revenue, earnings, exit value, discount "
    "factor, PV of exit value, value, value per share, upside (with a price). Single cells only.",
    [*TAM, BASIS, LABELS, DISTRESS_FRACTION],
    body=_steps,
    summary="8 x 2 array of every step (revenue ... upside)",
    example="same arguments and price 50 -> upside 2% in the last row",
)

GPUVAL_TAM_AT = udf(
    "GPUVAL_TAM_AT",
    "TAM in a year on the constant-growth path through two forecast points: tam_start x "
    "(tam_end / tam_start)^((year - start_year) / (end_year - start_year)). Example: "
    "=GPUVAL_TAM_AT(2027, 30.1e9, 201.2e9).",
    [
        Param("year", "number", "Year wanted (fractions allowed), e.g. 2029."),
        Param("tam_start", "number", "Market size in start_year, > 0."),
        Param("tam_end", "number", "Market size in end_year, > 0."),
        Param("start_year", "single", "First forecast year.", float(core.TAM_START_YEAR)),
        Param(
            "end_year", "single", "Last forecast year, after start_year.", float(core.TAM_END_YEAR)
        ),
    ],
    core=core.tam_at,
    summary="TAM on the constant-growth path",
    example="`=GPUVAL_TAM_AT(2029, 30.1e9, 201.2e9)` -> 201.2e9",
)

GPUVAL_IMPLIED_SHARE = udf(
    "GPUVAL_IMPLIED_SHARE",
    "Market-implied share of the exit-year TAM: the share at which GPUVAL_TAM_VALUE x fx equals "
    "market_value (closed form). Same inputs as the TAM scenario, without share and price.",
    [*IMPLIED, BASIS, DISTRESS_FRACTION],
    core=core.implied_share,
    summary="TAM share that reproduces the market value (closed form)",
    example="`=GPUVAL_IMPLIED_SHARE(78e9, 200e9, 20%, 30, 25%, 2, 2.6e9, 50%, 2e9, 20%, 7.8)` "
    "-> 2.8125%",
)
