"""Sensitivity grids and Monte Carlo over a model, as ``GPUVAL_`` functions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuval import core
from gpuval.errors import GpuvalError
from gpuval.excel.args import UdfError, canonical, cells, choice, numbers, text
from gpuval.excel.dcf import DCF_KINDS, MAX_DRAWS_SCHEDULE, dcf_output, table_inputs
from gpuval.excel.declare import Param, udf
from gpuval.excel.params import (
    BASIS,
    DCF_OUTPUTS,
    DCF_REQUIRED,
    DISTRESS_FRACTION,
    IMPLIED,
    LABELS,
    OUTPUT,
    TAM,
    TAM_OUTPUTS,
    kinds,
)
from gpuval.excel.results import labelled, result
from gpuval.excel.text import close, names, show

MAX_GRID = 10_000
"""Most cells of a sensitivity grid (e.g. 100 x 100)."""

MAX_AXIS = 1_000
"""Most values along one side of a sensitivity grid."""

MAX_DRAWS = 200_000
"""Most Monte Carlo draws one cell may ask for."""

DEFAULT_DRAWS = 10_000
"""Monte Carlo draws when the argument is blank."""

DEFAULT_SEED = 20260105
"""Monte Carlo seed when the argument is blank (the core's default)."""


@dataclass(frozen=True)
class Model:
    """A core function that GPUVAL_SENSITIVITY and GPUVAL_MONTECARLO can drive by name."""

    name: str
    func: Callable[..., Any]
    kinds: dict[str, str]  # input name -> kind (number, year, basis)
    required: tuple[str, ...]
    outputs: tuple[str, ...] = ()  # () = the function returns one number
    default_output: str | None = None

    def resolve(self, output: Any) -> tuple[Callable[..., Any], str | None]:
        """The function to call and the attribute to read for ``output``."""
        if not self.outputs:
            if text("output", output, None) is not None:
                raise UdfError(f"the {self.name} model has one result; leave output blank.")
            return self.func, None
        out = choice("output", output, self.default_output, self.outputs)
        if self.name == "dcf":
            return functools.partial(_dcf_by_name, output=out), None
        return self.func, out

    def input_name(self, arg: str, value: Any) -> str:
        """The number input ``value`` names (case-insensitive, spaces read as ``_``)."""
        name = text(arg, value)
        canon = {k.casefold(): k for k in self.kinds}.get(name.casefold().replace(" ", "_"))
        if canon is None or self.kinds[canon] == "basis":
            numeric = [k for k, v in self.kinds.items() if v != "basis"]
            raise UdfError(
                f"{arg} must be a number input of the {self.name} model{close(name, numeric)}; "
                f"its inputs: {names(numeric)}."
            )
        return canon

    def require(self, given: set[str], output: str | None) -> None:
        """Every required input is given (and a price when the output is upside)."""
        missing = [k for k in self.required if k not in given]
        if output == "upside" and "price" not in given:
            missing.append("price (for upside)")
        if missing:
            raise UdfError(
                f"the {self.name} model needs {', '.join(missing)}; add them to the inputs table."
            )


def _dcf_by_name(output: str, **inputs: Any) -> Any:
    return dcf_output(inputs, output)


def _simple(name: str, func: Callable[..., Any]) -> Model:
    params = inspect.signature(func).parameters.values()
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    return Model(name, func, dict.fromkeys((p.name for p in params), "number"), required)


def _required(params: tuple[Param, ...]) -> tuple[str, ...]:
    return tuple(p.name for p in params if not p.optional)


MODELS: dict[str, Model] = {
    "tam": Model("tam", core.tam_scenario, kinds((*TAM, BASIS, DISTRESS_FRACTION)),
                 _required(TAM), TAM_OUTPUTS, "value_per_share"),
    "dcf": Model("dcf", core.young_growth_dcf, DCF_KINDS, DCF_REQUIRED, DCF_OUTPUTS,
                 "value_per_share"),
    "implied_share": Model("implied_share", core.implied_share,
                           kinds((*IMPLIED, BASIS, DISTRESS_FRACTION)), _required(IMPLIED)),
    "ps": _simple("ps", core.price_to_sales),
    "ps_runrate": _simple("ps_runrate", core.run_rate_ps),
    "ps_backlog": _simple("ps_backlog", core.backlog_ps),
    "nvidia_value": _simple("nvidia_value", core.fraction_of_nvidia_value),
    "nvidia_per_share": _simple("nvidia_per_share", core.fraction_of_nvidia_per_share),
}  # fmt: skip
"""Models by the name a formula gives (GPUVAL_SENSITIVITY, GPUVAL_MONTECARLO)."""

MODEL = Param(
    "model", "choice", "Model: " + ", ".join(f'"{m}"' for m in MODELS) + ".", options=tuple(MODELS)
)
MODEL_OUTPUT = OUTPUT.with_(kind="range")  # read by Model.resolve, which knows the outputs
INPUTS = Param(
    "inputs",
    "range",
    "Two-column range of input names and base values for the model (header optional).",
)


def _sensitivity(
    model: str,
    inputs: Any,
    row_input: Any,
    row_values: Any,
    col_input: Any,
    col_values: Any,
    output: Any,
    headers: bool,
) -> Any:
    m = MODELS[model]
    base = table_inputs("inputs", inputs, m.kinds)
    r_name = m.input_name("row_input", row_input)
    c_name = m.input_name("col_input", col_input)
    if r_name == c_name:
        raise UdfError(f"row_input and col_input must differ, got {r_name} twice.")
    r_vals = numbers("row_values", row_values, limit=MAX_AXIS)
    c_vals = numbers("col_values", col_values, limit=MAX_AXIS)
    if len(r_vals) * len(c_vals) > MAX_GRID:
        raise UdfError(
            f"the grid would have {len(r_vals) * len(c_vals):,} cells; at most {MAX_GRID:,}."
        )
    func, attr = m.resolve(output)
    m.require(set(base) | {r_name, c_name}, attr)
    with np.errstate(all="ignore"):
        g = core.sensitivity_grid(func, (r_name, r_vals), (c_name, c_vals), output=attr, **base)
    values = result(g.values)
    if not headers:
        return values
    top = [f"{r_name} \\ {c_name}", *g.col_values.tolist()]
    return [top, *([rv, *row] for rv, row in zip(g.row_values.tolist(), values, strict=True))]


GPUVAL_SENSITIVITY = udf(
    "GPUVAL_SENSITIVITY",
    "Two-way sensitivity grid of a model's output over two inputs, as Excel's data table: rows "
    "down, columns across; other inputs from the inputs table. At most 10,000 cells.",
    [
        MODEL,
        INPUTS,
        Param("row_input", "range", "Name of the input that varies down the rows, e.g. share."),
        Param(
            "row_values",
            "range",
            "Values for the rows: a row or column of numbers (blanks ignored).",
        ),
        Param(
            "col_input",
            "range",
            "Name of the input that varies across the columns, e.g. exit_multiple.",
        ),
        Param(
            "col_values",
            "range",
            "Values for the columns: a row or column of numbers (blanks ignored).",
        ),
        MODEL_OUTPUT,
        Param("headers", "flag", "TRUE adds the input values as a first row and column.", True),
    ],
    body=_sensitivity,
    summary="a two-way grid, as Excel's data table",
    example='`=GPUVAL_SENSITIVITY("tam", A2:B12, "share", D2:D6, "exit_multiple", E1:I1)`',
)

DISTRIBUTIONS: dict[str, tuple[type, int, str]] = {
    "point": (core.Point, 1, "value"),
    "uniform": (core.Uniform, 2, "low, high"),
    "triangular": (core.Triangular, 3, "low, mode, high"),
    "normal": (core.Normal, 2, "mean, sd"),
    "lognormal": (core.LogNormal, 2, "mean, sd"),
}


def _is_header(cell: Any, known: Any) -> bool:
    """True when ``cell`` is text that is not one of ``known`` (casefolded keys)."""
    return isinstance(cell, str) and cell.strip().casefold().replace(" ", "_") not in known


def read_distributions(m: Model, table: Any) -> dict[str, Any]:
    """Rows ``input | distribution | p1 | p2 | p3 | lower | upper`` -> ``{input: Distribution}``."""
    rows = cells("distributions", table)
    if len(rows[0]) < 3 or len(rows[0]) > 7:
        raise UdfError(
            "distributions must have 3 to 7 columns: input, distribution, up to three "
            f"parameters, lower, upper; got {len(rows[0])}."
        )
    out: dict[str, Any] = {}
    numeric = {k.casefold(): k for k, v in m.kinds.items() if v == "number"}
    for i, row in enumerate(rows):
        row = row + [None] * (7 - len(row))
        where = f" (row {i + 1})"
        if all(v is None for v in row):
            continue
        key, dist = row[0], row[1]
        if i == 0 and _is_header(key, numeric) and _is_header(dist, DISTRIBUTIONS):
            continue  # e.g. input | distribution | p1 | p2 | p3 | lower | upper
        if not isinstance(key, str) or not isinstance(dist, str):
            raise UdfError(f"distributions needs an input name and a distribution name{where}.")
        canon = canonical(
            "distributions", key, numeric, out, where,
            lambda k, w: f"distributions names {k!r}{w}, not a number input of the {m.name} "
            f"model{close(k, numeric.values())}.",
        )  # fmt: skip
        spec = DISTRIBUTIONS.get(dist.strip().casefold())
        if spec is None:
            raise UdfError(
                f"distributions has an unknown distribution {dist!r}{where}; use "
                f"{', '.join(DISTRIBUTIONS)}."
            )
        cls, n_params, param_names = spec
        params = row[2 : 2 + n_params]
        if any(v is None for v in params) or any(v is not None for v in row[2 + n_params : 5]):
            raise UdfError(
                f"distributions: {dist.strip().lower()} takes {n_params} parameter"
                f"{'s' if n_params > 1 else ''} ({param_names}){where}."
            )
        for v in (*params, row[5], row[6]):
            if v is not None and type(v) is not float:
                raise UdfError(f"distributions must hold numbers, got {show(v)}{where}.")
        kw = {k: v for k, v in (("lower", row[5]), ("upper", row[6])) if v is not None}
        try:
            out[canon] = cls(*params, **kw)
        except GpuvalError as exc:
            raise UdfError(f"distributions{where}, {canon}: {exc}") from None
    if not out:
        raise UdfError("distributions has no rows; give at least one input and distribution.")
    return out


def _montecarlo(
    model: str,
    inputs: Any,
    distributions: Any,
    draws: int,
    seed: int,
    output: Any,
    price: float | None,
    labels: bool,
) -> Any:
    m = MODELS[model]
    fixed = table_inputs("inputs", inputs, m.kinds)
    dists = read_distributions(m, distributions)
    func, attr = m.resolve(output)
    m.require(set(fixed) | set(dists), attr)
    if m.name == "dcf" and draws > MAX_DRAWS_SCHEDULE:
        out = choice("output", output, "value_per_share", DCF_OUTPUTS)
        if out not in ("value_per_share", "equity_value"):
            raise UdfError(
                f"draws for the dcf output {out} are limited to {MAX_DRAWS_SCHEDULE:,} (it "
                "keeps every yearly schedule); value_per_share and equity_value allow "
                f"{MAX_DRAWS:,}."
            )
    for key in dists:
        fixed.pop(key, None)  # a distribution replaces the input's base value
    if "price" in fixed:  # the tam model's own price: keep it apart from the summary's price
        func = functools.partial(func, price=fixed.pop("price"))
    with np.errstate(all="ignore"):
        r = core.simulate(
            func, dists, n=draws, seed=seed, output=attr, price=price, bins=1, **fixed
        )
    sm = r.summary
    rows: list[list[Any]] = [["draws", float(sm.n)], ["mean", sm.mean], ["std", sm.std]]
    rows += [[f"P{p}", sm.percentiles[p]] for p in core.PERCENTILES]
    if sm.prob_above is not None:
        rows.append(["P(value > price)", sm.prob_above])
    for _, v in rows:
        result(v)
    return labelled(rows, labels)


GPUVAL_MONTECARLO = udf(
    "GPUVAL_MONTECARLO",
    "Seeded Monte Carlo of a model's output: draws, mean, std, percentiles 5-95 and P(value > "
    "price) as an array. Uncertain inputs from distributions, the rest from inputs.",
    [
        MODEL,
        INPUTS,
        Param("distributions", "range", "Range with columns input | distribution (point, "
              "uniform, triangular, normal, lognormal) | parameters | lower | upper."),
        Param("draws", "whole", "Number of draws, 1 to 200,000.", DEFAULT_DRAWS, blank="10,000",
              options=(1, MAX_DRAWS)),
        Param("seed", "whole", "Random seed, a whole number >= 0; same seed, same result.",
              DEFAULT_SEED, blank=str(DEFAULT_SEED), options=(0, 2**53)),
        MODEL_OUTPUT,
        Param("price", "single", "A price: adds P(value > price) to the summary.", None),
        LABELS,
    ],
    body=_montecarlo,
    summary="draws, mean, std, P5 ... P95 and, with a price, P(value > price)",
    example='`=GPUVAL_MONTECARLO("tam", A2:B12, D2:J4, 50000, , , 35.7)`',
)  # fmt: skip
