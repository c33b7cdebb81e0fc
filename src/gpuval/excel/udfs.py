"""xlwings UDFs: the valuation core and the dataset as ``GPUVAL_*`` Excel functions.

A thin layer: each function names its arguments, coerces them with :mod:`gpuval.excel.args`
(Excel shapes -> numbers and arrays, blanks -> documented defaults, Excel errors -> a message)
and calls :mod:`gpuval.core`. Conventions (see the README, "Excel functions"):

* **Errors** never raise into Excel: a function returns the text ``"#GPUVAL! <one sentence>"``.
* **Blanks** (empty cells, omitted optional arguments) take the default named in the help text.
* **Ranges** in number arguments broadcast as in the core (a column against a row gives a grid)
  and the result spills, sized exactly. Tables (peers, name/value inputs, distributions) are
  plain Excel ranges; Python callers may pass lists, numpy arrays, pandas objects or dicts.
* **Bounds**: a range holds at most 100,000 cells, a sensitivity grid 10,000, a Monte Carlo run
  200,000 draws.

The docstring of each ``GPUVAL_*`` function is its description in Excel's function wizard (kept
under Excel's 255 characters); the ``doc`` of each ``xw.arg`` the help of one parameter. UDF
parameters carry no type annotations on purpose: xlwings would turn them into converters that
fail before this layer can word the error.

On Linux ``xlwings.func``/``arg``/``ret`` are no-ops, so these are plain Python functions; with
``XLWINGS_ON_SERVER=true`` they register with xlwings' Office.js machinery (xlwings Lite/Server).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from gpuval import core
from gpuval.data.dataset import Dataset, Record, load_dataset
from gpuval.data.fx import FxRates
from gpuval.errors import GpuvalError
from gpuval.excel.args import (
    REQUIRED,
    UdfError,
    broadcast,
    cells,
    choice,
    flag,
    guard,
    number,
    numbers,
    pairs,
    result,
    show,
    single,
    text,
    whole,
)

__all__ = [
    "GPUVAL_DATA",
    "GPUVAL_DCF",
    "GPUVAL_DCF_SCHEDULE",
    "GPUVAL_DCF_TABLE",
    "GPUVAL_FX",
    "GPUVAL_IMPLIED_GROWTH",
    "GPUVAL_IMPLIED_SHARE",
    "GPUVAL_MONTECARLO",
    "GPUVAL_NVIDIA_FRACTION",
    "GPUVAL_NVIDIA_SHARE_PER_SHARE",
    "GPUVAL_NVIDIA_SHARE_VALUE",
    "GPUVAL_PEER_STATS",
    "GPUVAL_PEER_VALUE",
    "GPUVAL_PS",
    "GPUVAL_PS_BACKLOG",
    "GPUVAL_PS_RUNRATE",
    "GPUVAL_SENSITIVITY",
    "GPUVAL_SOURCE",
    "GPUVAL_TAM_AT",
    "GPUVAL_TAM_PER_SHARE",
    "GPUVAL_TAM_SCENARIO",
    "GPUVAL_TAM_VALUE",
    "GPUVAL_VENUE_GAP",
    "GPUVAL_VERSION",
]

MAX_DRAWS = 200_000
"""Most Monte Carlo draws one cell may ask for."""

DEFAULT_DRAWS = 10_000
"""Monte Carlo draws when the argument is blank."""

DEFAULT_SEED = 20260105
"""Monte Carlo seed when the argument is blank (the core's default)."""

MAX_DRAWS_SCHEDULE = 20_000
"""Most draws for a DCF output other than value_per_share / equity_value: the core computes
those through ``young_growth_dcf``, which keeps every yearly schedule (about 1 kB a draw)."""

MAX_GRID = 10_000
"""Most cells of a sensitivity grid (e.g. 100 x 100)."""

MAX_AXIS = 1_000
"""Most values along one side of a sensitivity grid."""

MAX_PEERS = 10_000
"""Most peer values in one peer range."""

CATEGORY = "gpuval"
"""Function category in classic Excel's function wizard."""

# --- help text shared by parameters of the same name -------------------------------------------

_DOCS: dict[str, str] = {
    "market_value": "Market value of equity (price x shares outstanding), > 0.",
    "shares_outstanding": "Shares outstanding today, > 0.",
    "share": "Share of the exit-year TAM the company wins, 0 to 1 (5% = 0.05).",
    "tam": "Total addressable market in the exit year, model currency, >= 0.",
    "margin": "Mature net margin, 0 to 1.",
    "exit_multiple": "Exit multiple: P/E (basis pe) or P/S (basis ps), >= 0.",
    "cost_of_equity": "Annual cost of equity used to discount the exit value, > -1 (12% = 0.12).",
    "years": "Years from the valuation date to exit (fractions allowed), >= 0.",
    "prob_success": "Optional. Probability of commercial success, 0 to 1. Blank = 1.",
    "distress_value": "Optional. Equity value if it fails, model currency, >= 0. Blank = 0.",
    "dilution": "Optional. New shares issued before exit / today's shares. Blank = 0.",
    "price": "Optional. Today's share price, listing currency; only upside uses it.",
    "basis": 'Optional. "pe" (exit multiple x earnings) or "ps" (x revenue). Blank = "pe".',
    "fx": "Optional. Listing-currency units per model-currency unit. Blank = 1.",
    "labels": "Optional. TRUE adds a first column of labels. Blank = TRUE.",
    "model": 'Model: "tam", "dcf", "implied_share", "ps", "ps_runrate", "ps_backlog", '
    '"nvidia_value" or "nvidia_per_share".',
    "inputs": "Two-column range of input names and base values for the model (header optional).",
    "output": "Optional. Which result of the model to report. Blank = the model's main value.",
    "assumptions": "Two-column range of DCF input names and values, e.g. revenue | 337000000 "
    "(header optional; blank values take their defaults).",
    "peers": "Peer multiples: a range of numbers (blanks ignored) or a two-column name | "
    "multiple table.",
    "target": "Optional. Name of the company valued, left out of the peers (needs a name column).",
    "entity": 'Entity id, English or Chinese name or ticker, e.g. "biren"; or a record id when '
    "metric is blank.",
    "metric": 'Optional. Metric, e.g. "revenue", "order_backlog", "market_cap"; blank when '
    "entity is a record id.",
    "selector": "Optional. When several records match: a record id, period (2024) or kind "
    "(reported, estimate, range_low...).",
}

# Young-growth DCF inputs: required names, then optional names with their defaults.
DCF_REQUIRED = (
    "revenue",
    "growth_y1",
    "growth_y2_5",
    "terminal_growth",
    "operating_margin",
    "target_margin",
    "sales_to_capital",
    "tax_rate",
    "cost_of_capital",
    "mature_cost_of_capital",
    "shares_outstanding",
)
DCF_DEFAULTS: dict[str, Any] = {
    "margin_convergence_year": 10, "nol": 0.0, "terminal_roc": None, "prob_failure": 0.0,
    "distress_proceeds": 0.0, "cash": 0.0, "debt": 0.0, "fx": 1.0,
}  # fmt: skip
DCF_OUTPUTS = (
    "value_per_share",
    "equity_value",
    "operating_assets_value",
    "going_concern_value",
    "sum_pv_fcff",
    "terminal_value",
    "pv_terminal_value",
    "terminal_revenue",
    "terminal_after_tax_ebit",
    "terminal_reinvestment",
    "terminal_fcff",
)
DCF_SCHEDULE = (
    "growth",
    "revenue",
    "operating_margin",
    "ebit",
    "taxes",
    "nol",
    "after_tax_ebit",
    "reinvestment",
    "fcff",
    "cost_of_capital",
    "discount_factor",
    "pv_fcff",
)
TAM_OUTPUTS = (
    "revenue",
    "earnings",
    "exit_value",
    "discount_factor",
    "pv_exit_value",
    "value",
    "value_per_share",
    "upside",
)

_DOCS.update(
    revenue="Base-year (trailing) revenue, model currency, >= 0.",
    growth_y1="Revenue growth in year 1, > -1 (80% = 0.8).",
    growth_y2_5="Revenue growth in years 2 to 5, > -1.",
    terminal_growth="Growth after year 10; below the mature cost of capital.",
    operating_margin="Today's operating margin (may be very negative), <= 1.",
    target_margin="Mature operating margin, <= 1.",
    sales_to_capital="Revenue added per unit of capital invested, > 0.",
    tax_rate="Marginal tax rate, 0 to 1.",
    cost_of_capital="Cost of capital in years 1 to 5, > -1.",
    mature_cost_of_capital="Cost of capital from year 10 on, > -1.",
    margin_convergence_year="Optional. Year (1-10) the target margin is reached. Blank = 10.",
    nol="Optional. Tax losses carried forward today, >= 0. Blank = 0.",
    terminal_roc="Optional. Return on capital after year 10, > 0. Blank = mature cost of capital.",
    prob_failure="Optional. Probability the firm fails, 0 to 1. Blank = 0.",
    distress_proceeds="Optional. Operating assets' value if it fails, >= 0. Blank = 0.",
    cash="Optional. Cash, model currency, >= 0. Blank = 0.",
    debt="Optional. Debt, model currency, >= 0. Blank = 0.",
)


def _excel(
    *, ret: dict[str, Any] | None = None, **docs: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a ``GPUVAL_*`` function with xlwings: help for each parameter, errors as text.

    Every argument is read with ``ndim=2`` (a cell arrives as ``[[x]]``, so a range keeps its
    orientation) and ``err_to_str=True`` (an Excel error arrives as its text, not as a blank).
    ``ret`` holds result-converter options (``xw.ret``), for functions returning a DataFrame.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        doc = inspect.getdoc(func) or ""
        if not doc or len(doc) > 255:
            raise RuntimeError(f"{func.__name__}: the Excel description must be 1-255 characters.")
        udf = guard(func)
        if ret is not None:
            udf = xw.ret(**ret)(udf)
        for name in reversed(inspect.signature(func).parameters):
            help_text = docs.get(name) or _DOCS.get(name)
            if not help_text or len(help_text) > 255:
                raise RuntimeError(f"{func.__name__}: parameter {name} needs help of 1-255 chars.")
            udf = xw.arg(name, doc=help_text, ndim=2, err_to_str=True)(udf)
        return xw.func(category=CATEGORY)(udf)

    return decorate


# --- evaluation helpers -------------------------------------------------------------------------


def _evaluate(
    func: Callable[..., Any], nums: dict[str, Any], attr: str | None = None, **extra: Any
) -> Any:
    """``func(**nums, **extra)`` (its ``attr``), as a float or, for ranges, rows of floats."""
    for v in nums.values():
        if type(v) is not float and v is not None:
            return _evaluate_ranges(func, nums, attr, extra)
    out = func(**nums, **extra)
    return result(out if attr is None else getattr(out, attr))


def _evaluate_ranges(
    func: Callable[..., Any], nums: dict[str, Any], attr: str | None, extra: dict[str, Any]
) -> Any:
    shape = broadcast(nums)
    with np.errstate(all="ignore"):
        out = func(**nums, **extra)
        out = out if attr is None else getattr(out, attr)
        return result(np.broadcast_to(np.asarray(out, dtype=np.float64), shape))


def _close(word: str, options: Any) -> str:
    """`` (did you mean X?)`` when an option is close to ``word``, else ``""``."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def _names(options: Any, limit: int = 8) -> str:
    options = list(options)
    shown = ", ".join(options[:limit])
    return shown + (f" and {len(options) - limit} more" if len(options) > limit else "")


# === multiples ==================================================================================


@_excel(
    revenue="Revenue (trailing, forward or any basis), > 0.",
    fx="Optional. Market-value currency units per revenue currency unit. Blank = 1.",
)
def GPUVAL_PS(market_value, revenue, fx=None):
    """Price-to-sales multiple: market_value / (revenue x fx). Ranges spill. Example: =GPUVAL_PS(300e9, 1.5e9) returns 200."""  # noqa: E501
    return _evaluate(
        core.price_to_sales,
        {
            "market_value": number("market_value", market_value),
            "revenue": number("revenue", revenue),
            "fx": number("fx", fx, 1.0),
        },
    )


@_excel(
    half_year_revenue="Latest half-year revenue, > 0 (annualised x 2).",
    fx="Optional. Market-value currency units per revenue currency unit. Blank = 1.",
)
def GPUVAL_PS_RUNRATE(market_value, half_year_revenue, fx=None):
    """P/S on run-rate revenue: market_value / (2 x half_year_revenue x fx). Example: =GPUVAL_PS_RUNRATE(300e9, 0.7e9) returns 214.29."""  # noqa: E501
    return _evaluate(
        core.run_rate_ps,
        {
            "market_value": number("market_value", market_value),
            "half_year_revenue": number("half_year_revenue", half_year_revenue),
            "fx": number("fx", fx, 1.0),
        },
    )


@_excel(
    backlog="Order backlog, > 0, in the revenue currency.",
    months="Optional. Months over which the backlog is delivered, > 0. Blank = 15.",
    fx="Optional. Market-value currency units per backlog currency unit. Blank = 1.",
)
def GPUVAL_PS_BACKLOG(market_value, backlog, months=None, fx=None):
    """Forward P/S with the backlog as revenue guide: market_value x months / (backlog x 12 x fx). Example: =GPUVAL_PS_BACKLOG(79.2e9, 1.2e9, 12) returns 66."""  # noqa: E501
    return _evaluate(
        core.backlog_ps,
        {
            "market_value": number("market_value", market_value),
            "backlog": number("backlog", backlog),
            "months": number("months", months, core.BACKLOG_MONTHS),
            "fx": number("fx", fx, 1.0),
        },
    )


# === peers ======================================================================================


def _peers(name: str, value: Any) -> dict[str, Any] | list[float]:
    """Peer multiples: ``{name: multiple or None}`` from a name table, else a list of numbers."""
    rows = cells(name, value)
    n_rows, n_cols = len(rows), len(rows[0])
    first_col = [r[0] for r in rows]
    first_row = rows[0]
    named = (n_cols == 2 and any(isinstance(v, str) for v in first_col)) or (
        n_rows == 2 and n_cols != 2 and any(isinstance(v, str) for v in first_row)
    )
    if not named:
        return numbers(name, rows, limit=MAX_PEERS)
    table: dict[str, Any] = {}
    for key, val, where in pairs(name, rows):
        if key in table:
            raise UdfError(f"{name} names {key!r} twice{where}.")
        if val is not None and type(val) is not float:
            raise UdfError(f"{name} must hold numbers, got {show(val)} for {key}{where}.")
        table[key] = val
    if not any(v is not None for v in table.values()):
        raise UdfError(f"{name} has no numbers (every value is blank).")
    if len(table) > MAX_PEERS:
        raise UdfError(f"{name} has {len(table):,} peers; at most {MAX_PEERS:,} are allowed.")
    return table


def _target(peers: dict[str, Any] | list[float], target: Any) -> str | None:
    """The peer name ``target`` refers to (case-insensitive), or None when blank."""
    t = text("target", target, None)
    if t is None:
        return None
    if not isinstance(peers, dict):
        raise UdfError("target needs peers as a two-column name | multiple table.")
    for key in peers:
        if key.casefold() == t.casefold():
            return key
    raise UdfError(f"target {t!r} is not among the peer names{_close(t, peers)}.")


_PEER_LABELS = (
    ("count", "count"),
    ("minimum", "minimum"),
    ("25th percentile", "p25"),
    ("median", "median"),
    ("mean", "mean"),
    ("75th percentile", "p75"),
    ("maximum", "maximum"),
)


@_excel()
def GPUVAL_PEER_STATS(peers, target=None, labels=None):
    """Peer statistics as a 7-row array: count, min, 25th percentile, median, mean, 75th percentile, max (PERCENTILE.INC). Example: =GPUVAL_PEER_STATS(B2:C7, "Biren")."""  # noqa: E501
    p = _peers("peers", peers)
    stats = core.peer_stats(p, target=_target(p, target))
    show_labels = flag("labels", labels, True)
    rows = [[label, float(getattr(stats, attr))] for label, attr in _PEER_LABELS]
    return rows if show_labels else [[v] for _, v in rows]


@_excel(
    metric="The company's base for the multiple (e.g. revenue for P/S), >= 0.",
    k="Optional. Percentile as a fraction, 0 to 1. Blank = 0.5 (the median).",
    fx="Optional. Valuation-currency units per unit of the metric's currency. Blank = 1.",
)
def GPUVAL_PEER_VALUE(metric, peers, k=None, target=None, fx=None):
    """Value implied by peers: PERCENTILE.INC(peer multiples, k) x metric x fx. Example: =GPUVAL_PEER_VALUE(0.5e9, B2:B7) gives the value at the peer median."""  # noqa: E501
    p = _peers("peers", peers)
    kk = single("k", k, 0.5)
    tgt = _target(p, target)

    def value_at(metric: Any, fx: Any) -> Any:
        return core.implied_values(metric, p, (kk,), target=tgt, fx=fx)[kk]

    return _evaluate(value_at, {"metric": number("metric", metric), "fx": number("fx", fx, 1.0)})


@_excel(
    a_share_peers="A-share (STAR market) peer multiples: numbers, or a name | multiple table.",
    hong_kong_peers="Hong Kong peer multiples: numbers, or a name | multiple table.",
    target="Optional. Name of the company valued, left out of both peer sets.",
)
def GPUVAL_VENUE_GAP(a_share_peers, hong_kong_peers, target=None):
    """A-share vs Hong Kong valuation gap: MEDIAN(A-share multiples) / MEDIAN(Hong Kong multiples); above 1 means A-shares trade richer. Example: =GPUVAL_VENUE_GAP(B2:B4, C2:C3)."""  # noqa: E501
    a = _peers("a_share_peers", a_share_peers)
    h = _peers("hong_kong_peers", hong_kong_peers)
    t = text("target", target, None)
    if t is not None and not (isinstance(a, dict) and isinstance(h, dict)):
        raise UdfError("target needs both peer sets as two-column name | multiple tables.")
    if t is not None:
        keys = {k.casefold(): k for k in (*a, *h)}
        t = keys.get(t.casefold(), t)
    return result(core.venue_gap(a, h, target=t))


# === TAM-share scenarios ========================================================================

_TAM_ARGS = (
    "share",
    "tam",
    "margin",
    "exit_multiple",
    "cost_of_equity",
    "years",
    "shares_outstanding",
    "prob_success",
    "distress_value",
    "dilution",
    "fx",
    "price",
)


_TAM_DEFAULTS = {"prob_success": 1.0, "distress_value": 0.0, "dilution": 0.0, "fx": 1.0,
                 "price": None}  # fmt: skip


def _tam_inputs(args: dict[str, Any]) -> dict[str, Any]:
    """The scenario's numbers from a UDF's arguments (its ``locals()``), blanks as defaults."""
    return {
        name: number(name, args[name], _TAM_DEFAULTS[name])
        if name in _TAM_DEFAULTS
        else number(name, args[name])
        for name in _TAM_ARGS
    }


def _basis(basis: Any) -> str:
    return choice("basis", basis, "pe", ("pe", "ps"))


@_excel()
def GPUVAL_TAM_VALUE(
    share,
    tam,
    margin,
    exit_multiple,
    cost_of_equity,
    years,
    shares_outstanding,
    prob_success=None,
    distress_value=None,
    dilution=None,
    fx=None,
    price=None,
    basis=None,
):
    """Equity value today (model currency) of a TAM-share scenario: share x TAM x margin x exit multiple, discounted, diluted and weighted by the odds of success, as gpuval.core.tam_scenario."""  # noqa: E501
    nums = _tam_inputs(locals())
    return _evaluate(core.tam_scenario, nums, "value", basis=_basis(basis))


@_excel()
def GPUVAL_TAM_PER_SHARE(
    share,
    tam,
    margin,
    exit_multiple,
    cost_of_equity,
    years,
    shares_outstanding,
    prob_success=None,
    distress_value=None,
    dilution=None,
    fx=None,
    price=None,
    basis=None,
):
    """Value per share (listing currency) of a TAM-share scenario: its equity value x fx / shares outstanding. Same inputs as GPUVAL_TAM_VALUE and gpuval.core.tam_scenario."""  # noqa: E501
    nums = _tam_inputs(locals())
    return _evaluate(core.tam_scenario, nums, "value_per_share", basis=_basis(basis))


@_excel()
def GPUVAL_TAM_SCENARIO(
    share,
    tam,
    margin,
    exit_multiple,
    cost_of_equity,
    years,
    shares_outstanding,
    prob_success=None,
    distress_value=None,
    dilution=None,
    fx=None,
    price=None,
    basis=None,
    labels=None,
):
    """Every step of a TAM-share scenario as an array: revenue, earnings, exit value, discount factor, PV of exit value, value, value per share, upside (with a price). Single cells only."""  # noqa: E501
    nums = _tam_inputs(locals())
    for name, v in nums.items():
        if isinstance(v, np.ndarray):
            raise UdfError(f"{name} must be a single cell here; GPUVAL_TAM_VALUE takes ranges.")
    r = core.tam_scenario(**nums, basis=_basis(basis))
    rows = [[k, result(getattr(r, k))] for k in TAM_OUTPUTS if getattr(r, k) is not None]
    return rows if flag("labels", labels, True) else [[v] for _, v in rows]


@_excel(
    year="Year wanted (fractions allowed), e.g. 2029.",
    tam_start="Market size in start_year, > 0.",
    tam_end="Market size in end_year, > 0.",
    start_year="Optional. First forecast year. Blank = 2024.",
    end_year="Optional. Last forecast year, after start_year. Blank = 2029.",
)
def GPUVAL_TAM_AT(year, tam_start, tam_end, start_year=None, end_year=None):
    """TAM in a year on the constant-growth path through two forecast points: tam_start x (tam_end / tam_start)^((year - start_year) / (end_year - start_year)). Example: =GPUVAL_TAM_AT(2027, 30.1e9, 201.2e9)."""  # noqa: E501
    y0 = single("start_year", start_year, float(core.TAM_START_YEAR))
    y1 = single("end_year", end_year, float(core.TAM_END_YEAR))
    return _evaluate(
        core.tam_at,
        {
            "year": number("year", year),
            "tam_start": number("tam_start", tam_start),
            "tam_end": number("tam_end", tam_end),
        },
        start_year=y0,
        end_year=y1,
    )


# === NVIDIA yardstick ===========================================================================


@_excel(
    fraction="Fraction of NVIDIA's market value, 0 to 1 (1% = 0.01).",
    nvidia_market_value="NVIDIA's market value, USD, > 0.",
    fx="Optional. Result-currency units per USD, e.g. 7 CNY per USD. Blank = 1.",
)
def GPUVAL_NVIDIA_SHARE_VALUE(fraction, nvidia_market_value, fx=None):
    """Value of a fraction of NVIDIA: fraction x nvidia_market_value x fx. Example: =GPUVAL_NVIDIA_SHARE_VALUE(1%, 5e12, 7) returns 350,000,000,000 (CNY 350 bn)."""  # noqa: E501
    return _evaluate(
        core.fraction_of_nvidia_value,
        {
            "fraction": number("fraction", fraction),
            "nvidia_market_value": number("nvidia_market_value", nvidia_market_value),
            "fx": number("fx", fx, 1.0),
        },
    )


@_excel(
    fraction="Fraction of NVIDIA's market value, 0 to 1 (1% = 0.01).",
    nvidia_market_value="NVIDIA's market value, USD, > 0.",
    fx="Optional. Listing-currency units per USD, e.g. 7.8 HKD per USD. Blank = 1.",
)
def GPUVAL_NVIDIA_SHARE_PER_SHARE(fraction, nvidia_market_value, shares_outstanding, fx=None):
    """Per-share value of a fraction of NVIDIA: fraction x nvidia_market_value x fx / shares_outstanding. Example: =GPUVAL_NVIDIA_SHARE_PER_SHARE(1%, 5e12, 2.5e9, 7.8) returns 156."""  # noqa: E501
    return _evaluate(
        core.fraction_of_nvidia_per_share,
        {
            "fraction": number("fraction", fraction),
            "nvidia_market_value": number("nvidia_market_value", nvidia_market_value),
            "shares_outstanding": number("shares_outstanding", shares_outstanding),
            "fx": number("fx", fx, 1.0),
        },
    )


@_excel(
    market_value="Company's market value, in the currency fx converts USD into, > 0.",
    nvidia_market_value="NVIDIA's market value, USD, > 0.",
    fx="Optional. Units of market_value's currency per USD. Blank = 1.",
)
def GPUVAL_NVIDIA_FRACTION(market_value, nvidia_market_value, fx=None):
    """The fraction of NVIDIA a market value represents: market_value / (nvidia_market_value x fx). Example: =GPUVAL_NVIDIA_FRACTION(350e9, 5e12, 7) returns 0.01."""  # noqa: E501
    return _evaluate(
        core.implied_fraction_of_nvidia,
        {
            "market_value": number("market_value", market_value),
            "nvidia_market_value": number("nvidia_market_value", nvidia_market_value),
            "fx": number("fx", fx, 1.0),
        },
    )


# === young-growth DCF ===========================================================================


def _dcf(inputs: dict[str, Any], output: str) -> Any:
    """One DCF output; the two headline ones without building the yearly schedules."""
    if output == "value_per_share":
        return core.dcf_value_per_share(**inputs)
    if output == "equity_value":
        return core.dcf_equity_value(**inputs)
    size = math.prod(broadcast({k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}))
    if size > MAX_DRAWS_SCHEDULE:
        raise UdfError(
            f"the dcf output {output} is limited to {MAX_DRAWS_SCHEDULE:,} results at once (it "
            f"keeps every yearly schedule); this asks for {size:,}."
        )
    return getattr(core.young_growth_dcf(**inputs), output)


def _dcf_output(output: Any) -> str:
    return choice("output", output, "value_per_share", DCF_OUTPUTS)


_DCF_OUTPUT_DOC = (
    "Optional. value_per_share (blank), equity_value, operating_assets_value, "
    "going_concern_value, sum_pv_fcff, terminal_value, pv_terminal_value..."
)
_DCF_FX_DOC = "Optional. Listing-currency units per model-currency unit. Blank = 1."


@_excel(fx=_DCF_FX_DOC, output=_DCF_OUTPUT_DOC)
def GPUVAL_DCF(
    revenue,
    growth_y1,
    growth_y2_5,
    terminal_growth,
    operating_margin,
    target_margin,
    sales_to_capital,
    tax_rate,
    cost_of_capital,
    mature_cost_of_capital,
    shares_outstanding,
    margin_convergence_year=None,
    nol=None,
    terminal_roc=None,
    prob_failure=None,
    distress_proceeds=None,
    cash=None,
    debt=None,
    fx=None,
    output=None,
):
    """Young-growth DCF (Damodaran style): 10 years of growth, margin convergence, reinvestment and NOLs, a terminal value and a failure probability. Returns value per share (or output)."""  # noqa: E501
    nums = {
        "revenue": number("revenue", revenue),
        "growth_y1": number("growth_y1", growth_y1),
        "growth_y2_5": number("growth_y2_5", growth_y2_5),
        "terminal_growth": number("terminal_growth", terminal_growth),
        "operating_margin": number("operating_margin", operating_margin),
        "target_margin": number("target_margin", target_margin),
        "sales_to_capital": number("sales_to_capital", sales_to_capital),
        "tax_rate": number("tax_rate", tax_rate),
        "cost_of_capital": number("cost_of_capital", cost_of_capital),
        "mature_cost_of_capital": number("mature_cost_of_capital", mature_cost_of_capital),
        "shares_outstanding": number("shares_outstanding", shares_outstanding),
        "nol": number("nol", nol, 0.0),
        "terminal_roc": number("terminal_roc", terminal_roc, None),
        "prob_failure": number("prob_failure", prob_failure, 0.0),
        "distress_proceeds": number("distress_proceeds", distress_proceeds, 0.0),
        "cash": number("cash", cash, 0.0),
        "debt": number("debt", debt, 0.0),
        "fx": number("fx", fx, 1.0),
    }
    year = whole("margin_convergence_year", margin_convergence_year, 10, 1, 10)
    out = _dcf_output(output)
    if out == "value_per_share":
        return _evaluate(core.dcf_value_per_share, nums, margin_convergence_year=year)
    return _evaluate(lambda **kw: _dcf(kw, out), nums, margin_convergence_year=year)


def _table_inputs(
    name: str, table: Any, kinds: dict[str, str], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A name | value table -> ``{input: value}``; names checked against ``kinds``.

    Kinds: ``"number"`` (a finite number), ``"year"`` (margin_convergence_year, 1..10),
    ``"basis"`` (pe or ps). Blank values are left out (defaults apply).
    """
    lookup = {k.casefold(): k for k in kinds}
    out: dict[str, Any] = {}
    for key, value, where in pairs(name, table, known=kinds):
        canon = lookup.get(key.strip().casefold().replace(" ", "_"))
        if canon is None:
            raise UdfError(
                f"{name} has an unknown input {key!r}{where}{_close(key, kinds)}; "
                f"known inputs: {_names(kinds)}."
            )
        if canon in out:
            raise UdfError(f"{name} gives {canon} twice{where}.")
        if value is None:
            continue
        kind = kinds[canon]
        label = f"{canon}{where}"
        if kind == "basis":
            out[canon] = _basis(value)
        elif kind == "year":
            out[canon] = whole(label, value, REQUIRED, 1, 10)
        else:
            out[canon] = single(label, value)
    missing = [k for k in required if k not in out]
    if missing:
        raise UdfError(f"{name} is missing {', '.join(missing)}; add a row for each.")
    return out


_DCF_KINDS = {
    **dict.fromkeys(DCF_REQUIRED, "number"),
    **dict.fromkeys(DCF_DEFAULTS, "number"),
    "margin_convergence_year": "year",
}


@_excel(output=_DCF_OUTPUT_DOC)
def GPUVAL_DCF_TABLE(assumptions, output=None):
    """Young-growth DCF from a two-column range of input names (as GPUVAL_DCF's parameters) and values; blank values take their defaults. Returns value per share (or output)."""  # noqa: E501
    inputs = _table_inputs("assumptions", assumptions, _DCF_KINDS, DCF_REQUIRED)
    return result(_dcf(inputs, _dcf_output(output)))


@_excel(ret={"index": True, "header": True})
def GPUVAL_DCF_SCHEDULE(assumptions):
    """The DCF's yearly schedule as a table: growth, revenue, margin, EBIT, taxes, NOL, after-tax EBIT, reinvestment, FCFF, cost of capital, discount factor, PV of FCFF, for years 1-10."""  # noqa: E501
    inputs = _table_inputs("assumptions", assumptions, _DCF_KINDS, DCF_REQUIRED)
    r = core.young_growth_dcf(**inputs)
    values = np.array([getattr(r, name) for name in DCF_SCHEDULE], dtype=np.float64)
    result(values)  # finite check
    columns = [f"year {t}" for t in range(1, values.shape[1] + 1)]
    return pd.DataFrame(values, index=pd.Index(DCF_SCHEDULE, name="item"), columns=columns)


# === reverse valuation ==========================================================================


@_excel(
    market_value="Today's market value of equity (price x shares), listing currency, > 0.",
)
def GPUVAL_IMPLIED_SHARE(
    market_value,
    tam,
    margin,
    exit_multiple,
    cost_of_equity,
    years,
    shares_outstanding,
    prob_success=None,
    distress_value=None,
    dilution=None,
    fx=None,
    basis=None,
):
    """Market-implied share of the exit-year TAM: the share at which GPUVAL_TAM_VALUE x fx equals market_value (closed form). Same inputs as the TAM scenario, without share and price."""  # noqa: E501
    nums = {
        "market_value": number("market_value", market_value),
        "tam": number("tam", tam),
        "margin": number("margin", margin),
        "exit_multiple": number("exit_multiple", exit_multiple),
        "cost_of_equity": number("cost_of_equity", cost_of_equity),
        "years": number("years", years),
        "shares_outstanding": number("shares_outstanding", shares_outstanding),
        "prob_success": number("prob_success", prob_success, 1.0),
        "distress_value": number("distress_value", distress_value, 0.0),
        "dilution": number("dilution", dilution, 0.0),
        "fx": number("fx", fx, 1.0),
    }
    with np.errstate(all="ignore"):  # the core works on numpy arrays even for single cells
        return _evaluate(core.implied_share, nums, basis=_basis(basis))


@_excel(
    market_value="Today's market value of equity, listing currency, > 0.",
    assumptions="Two-column range of DCF inputs (as GPUVAL_DCF_TABLE); its growth_y2_5 is "
    "ignored, being solved for.",
    include_year1="Optional. TRUE solves for one growth rate in years 1-5. Blank = FALSE.",
    low="Optional. Lowest growth searched. Blank = -0.5 (-50%).",
    high="Optional. Highest growth searched. Blank = 2 (200%).",
)
def GPUVAL_IMPLIED_GROWTH(market_value, assumptions, include_year1=None, low=None, high=None):
    """Market-implied revenue growth for years 2-5: the growth at which the DCF's equity value x fx equals market_value (bisection). Example: =GPUVAL_IMPLIED_GROWTH(85.5e9, A2:B14)."""  # noqa: E501
    mv = single("market_value", market_value)
    inputs = _table_inputs("assumptions", assumptions, _DCF_KINDS)
    year1 = flag("include_year1", include_year1, False)
    inputs.pop("growth_y2_5", None)
    if year1:
        inputs.pop("growth_y1", None)
    needed = [
        k
        for k in DCF_REQUIRED
        if k not in inputs and k != "growth_y2_5" and not (year1 and k == "growth_y1")
    ]
    if needed:
        raise UdfError(f"assumptions is missing {', '.join(needed)}; add a row for each.")
    lo = single("low", low, -0.5)
    hi = single("high", high, 2.0)
    if not (-1.0 < lo < hi <= 100.0):
        raise UdfError(
            f"low and high must satisfy -1 < low < high <= 100, got {show(lo)} and {show(hi)}."
        )
    return result(core.implied_growth(mv, lo=lo, hi=hi, include_year1=year1, **inputs))


# === sensitivity and Monte Carlo ================================================================


@dataclass(frozen=True)
class _Model:
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
            return (lambda **kw: _dcf(kw, out)), None
        return self.func, out


def _simple(name: str, func: Callable[..., Any]) -> _Model:
    params = inspect.signature(func).parameters.values()
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    return _Model(name, func, dict.fromkeys((p.name for p in params), "number"), required)


_TAM_KINDS = {**dict.fromkeys(_TAM_ARGS, "number"), "basis": "basis"}
_IMPLIED_KINDS = {
    "market_value": "number",
    **{k: v for k, v in _TAM_KINDS.items() if k not in ("share", "price")},
}

MODELS: dict[str, _Model] = {
    "tam": _Model("tam", core.tam_scenario, _TAM_KINDS, _TAM_ARGS[:7], TAM_OUTPUTS,
                  "value_per_share"),
    "dcf": _Model("dcf", core.young_growth_dcf, _DCF_KINDS, DCF_REQUIRED, DCF_OUTPUTS,
                  "value_per_share"),
    "implied_share": _Model("implied_share", core.implied_share, _IMPLIED_KINDS,
                            ("market_value", *_TAM_ARGS[1:7])),
    "ps": _simple("ps", core.price_to_sales),
    "ps_runrate": _simple("ps_runrate", core.run_rate_ps),
    "ps_backlog": _simple("ps_backlog", core.backlog_ps),
    "nvidia_value": _simple("nvidia_value", core.fraction_of_nvidia_value),
    "nvidia_per_share": _simple("nvidia_per_share", core.fraction_of_nvidia_per_share),
}  # fmt: skip
"""Models by the name a formula gives (GPUVAL_SENSITIVITY, GPUVAL_MONTECARLO)."""


def _model(model: Any) -> _Model:
    return MODELS[choice("model", model, REQUIRED, tuple(MODELS))]


def _model_input(m: _Model, arg: str, value: Any) -> str:
    name = text(arg, value)
    canon = {k.casefold(): k for k in m.kinds}.get(name.casefold().replace(" ", "_"))
    if canon is None or m.kinds[canon] == "basis":
        numeric = [k for k, v in m.kinds.items() if v != "basis"]
        raise UdfError(
            f"{arg} must be a number input of the {m.name} model{_close(name, numeric)}; "
            f"its inputs: {_names(numeric)}."
        )
    return canon


def _require(m: _Model, given: set[str], output: str | None) -> None:
    """Every required input of ``m`` is given (and a price when the output is upside)."""
    missing = [k for k in m.required if k not in given]
    if output == "upside" and "price" not in given:
        missing.append("price (for upside)")
    if missing:
        raise UdfError(
            f"the {m.name} model needs {', '.join(missing)}; add them to the inputs table."
        )


@_excel(
    row_input="Name of the input that varies down the rows, e.g. share.",
    row_values="Values for the rows: a row or column of numbers (blanks ignored).",
    col_input="Name of the input that varies across the columns, e.g. exit_multiple.",
    col_values="Values for the columns: a row or column of numbers (blanks ignored).",
    headers="Optional. TRUE adds the input values as a first row and column. Blank = TRUE.",
)
def GPUVAL_SENSITIVITY(
    model, inputs, row_input, row_values, col_input, col_values, output=None, headers=None
):
    """Two-way sensitivity grid of a model's output over two inputs, as Excel's data table: rows down, columns across; other inputs from the inputs table. At most 10,000 cells."""  # noqa: E501
    m = _model(model)
    base = _table_inputs("inputs", inputs, m.kinds)
    r_name = _model_input(m, "row_input", row_input)
    c_name = _model_input(m, "col_input", col_input)
    if r_name == c_name:
        raise UdfError(f"row_input and col_input must differ, got {r_name} twice.")
    r_vals = numbers("row_values", row_values, limit=MAX_AXIS)
    c_vals = numbers("col_values", col_values, limit=MAX_AXIS)
    if len(r_vals) * len(c_vals) > MAX_GRID:
        raise UdfError(
            f"the grid would have {len(r_vals) * len(c_vals):,} cells; at most {MAX_GRID:,}."
        )
    func, attr = m.resolve(output)
    _require(m, set(base) | {r_name, c_name}, attr)
    with np.errstate(all="ignore"):
        g = core.sensitivity_grid(func, (r_name, r_vals), (c_name, c_vals), output=attr, **base)
    values = result(g.values)
    if not flag("headers", headers, True):
        return values
    corner = f"{r_name} \\ {c_name}"
    top = [corner, *g.col_values.tolist()]
    return [top, *([rv, *row] for rv, row in zip(g.row_values.tolist(), values, strict=True))]


_DISTRIBUTIONS: dict[str, tuple[type, int, str]] = {
    "point": (core.Point, 1, "value"),
    "uniform": (core.Uniform, 2, "low, high"),
    "triangular": (core.Triangular, 3, "low, mode, high"),
    "normal": (core.Normal, 2, "mean, sd"),
    "lognormal": (core.LogNormal, 2, "mean, sd"),
}


def _is_header(cell: Any, known: Any) -> bool:
    """True when ``cell`` is text that is not one of ``known`` (casefolded keys)."""
    return isinstance(cell, str) and cell.strip().casefold().replace(" ", "_") not in known


def _distributions(m: _Model, table: Any) -> dict[str, Any]:
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
        if i == 0 and _is_header(key, numeric) and _is_header(dist, _DISTRIBUTIONS):
            continue  # e.g. input | distribution | p1 | p2 | p3 | lower | upper
        if not isinstance(key, str) or not isinstance(dist, str):
            raise UdfError(f"distributions needs an input name and a distribution name{where}.")
        canon = numeric.get(key.strip().casefold().replace(" ", "_"))
        if canon is None:
            raise UdfError(
                f"distributions names {key!r}{where}, not a number input of the {m.name} model"
                f"{_close(key, numeric.values())}."
            )
        if canon in out:
            raise UdfError(f"distributions gives {canon} twice{where}.")
        spec = _DISTRIBUTIONS.get(dist.strip().casefold())
        if spec is None:
            raise UdfError(
                f"distributions has an unknown distribution {dist!r}{where}; use "
                f"{', '.join(_DISTRIBUTIONS)}."
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
        bounds = {"lower": row[5], "upper": row[6]}
        kw = {k: v for k, v in bounds.items() if v is not None}
        try:
            out[canon] = cls(*params, **kw)
        except GpuvalError as exc:
            raise UdfError(f"distributions{where}, {canon}: {exc}") from None
    if not out:
        raise UdfError("distributions has no rows; give at least one input and distribution.")
    return out


@_excel(
    distributions="Range with columns input | distribution (point, uniform, triangular, normal,"
    " lognormal) | parameters | lower | upper.",
    draws="Optional. Number of draws, 1 to 200,000. Blank = 10,000.",
    seed="Optional. Random seed, a whole number >= 0; same seed, same result. Blank = 20260105.",
    price="Optional. A price: adds P(value > price) to the summary.",
)
def GPUVAL_MONTECARLO(
    model, inputs, distributions, draws=None, seed=None, output=None, price=None, labels=None
):
    """Seeded Monte Carlo of a model's output: draws, mean, std, percentiles 5-95 and P(value > price) as an array. Uncertain inputs from distributions, the rest from inputs."""  # noqa: E501
    m = _model(model)
    fixed = _table_inputs("inputs", inputs, m.kinds)
    dists = _distributions(m, distributions)
    n = whole("draws", draws, DEFAULT_DRAWS, 1, MAX_DRAWS)
    s = whole("seed", seed, DEFAULT_SEED, 0, 2**53)
    px = single("price", price, None)
    func, attr = m.resolve(output)
    _require(m, set(fixed) | set(dists), attr)
    if m.name == "dcf" and n > MAX_DRAWS_SCHEDULE:
        out = _dcf_output(output)
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
        r = core.simulate(func, dists, n=n, seed=s, output=attr, price=px, bins=1, **fixed)
    sm = r.summary
    rows: list[list[Any]] = [["draws", float(sm.n)], ["mean", sm.mean], ["std", sm.std]]
    rows += [[f"P{p}", sm.percentiles[p]] for p in core.PERCENTILES]
    if sm.prob_above is not None:
        rows.append(["P(value > price)", sm.prob_above])
    for _, v in rows:
        result(v)
    return rows if flag("labels", labels, True) else [[v] for _, v in rows]


# === dataset ====================================================================================

FIELDS = tuple(
    f.name for f in dataclasses.fields(Record) if f.compare and f.name not in ("entity", "metric")
)
"""Record fields GPUVAL_DATA can return: value, unit, period, kind, source, quote, id, ..."""


@dataclass(frozen=True)
class _Catalogue:
    dataset: Dataset
    entities: dict[str, str]  # casefolded id, names and ticker -> entity id
    records: dict[tuple[str, str], tuple[Record, ...]]  # (entity, casefolded metric)
    metrics: dict[str, tuple[str, ...]]  # entity -> its metrics
    by_id: dict[str, Record]  # casefolded record id -> record


@functools.cache
def _catalogue() -> _Catalogue:
    """The embedded dataset, loaded once per process, indexed for lookups."""
    ds = load_dataset()
    entities: dict[str, str] = {}
    for ent in ds.entities.values():
        for key in (ent.id, ent.name_en, ent.name_zh, ent.ticker):
            if key:
                entities.setdefault(key.strip().casefold(), ent.id)
    records: dict[tuple[str, str], list[Record]] = {}
    metrics: dict[str, list[str]] = {}
    for rec in ds.records.values():
        records.setdefault((rec.entity, rec.metric.casefold()), []).append(rec)
        if rec.metric not in metrics.setdefault(rec.entity, []):
            metrics[rec.entity].append(rec.metric)
    return _Catalogue(
        dataset=ds,
        entities=entities,
        records={k: tuple(v) for k, v in records.items()},
        metrics={k: tuple(v) for k, v in metrics.items()},
        by_id={rec.id.casefold(): rec for rec in ds.records.values()},
    )


@functools.lru_cache(maxsize=4096)
def _find(entity: str, metric: str | None, selector: str | None) -> Record | str:
    """The one record the arguments name, or the sentence saying why there is none (cached)."""
    cat = _catalogue()
    if metric is None:
        rec = cat.by_id.get(entity.casefold())
        if rec is not None:
            return rec
        if entity.casefold() not in cat.entities:
            return f"{entity!r} is neither an entity nor a record id{_close(entity, cat.by_id)}."
        return f"metric is required for entity {entity!r}; or give a record id instead."
    ent = cat.entities.get(entity.casefold())
    if ent is None:
        return (
            f"unknown entity {entity!r}{_close(entity.casefold(), cat.entities)}; "
            f"entities: {_names(cat.dataset.entities)}."
        )
    matches = cat.records.get((ent, metric.casefold()))
    if not matches:
        known = cat.metrics.get(ent, ())
        return (
            f"{ent} has no metric {metric!r}{_close(metric, known)}; its metrics: {_names(known)}."
        )
    metric = matches[0].metric
    if selector is not None:
        key = selector.casefold()
        chosen = [r for r in matches if key in (r.id.casefold(), r.period.casefold(), r.kind)]
        if not chosen:
            return (
                f"no {ent} {metric} record matches selector {selector!r}; choose from "
                f"{_choices(matches)}."
            )
        matches = tuple(chosen)
    if len(matches) > 1:
        return (
            f"{ent} {metric} has {len(matches)} records; give one as the selector: "
            f"{_choices(matches)}."
        )
    return matches[0]


def _choices(records: tuple[Record, ...]) -> str:
    return "; ".join(f"{r.id} ({', '.join(x for x in (r.period, r.kind) if x)})" for r in records)


def _record(entity: Any, metric: Any, selector: Any) -> Record:
    found = _find(
        text("entity", entity), text("metric", metric, None), text("selector", selector, None)
    )
    if isinstance(found, str):
        raise UdfError(found)
    return found


@_excel(
    field="Optional. value (blank), unit, period, kind, source, quote, id, qualifier, "
    "written, how or note."
)
def GPUVAL_DATA(entity, metric=None, field=None, selector=None):
    """A figure from gpuval's sourced dataset, in plain units (1.24e9, not 12.4亿); dates as dates. Example: =GPUVAL_DATA("biren", "revenue", , "biren.revenue.2024") returns 337,000,000."""  # noqa: E501
    rec = _record(entity, metric, selector)
    f = choice("field", field, "value", FIELDS)
    if f != "value":
        return getattr(rec, f)
    if rec.value is not None:
        return rec.value
    try:
        return dt.date.fromisoformat(rec.period)
    except ValueError:
        return rec.period


@_excel()
def GPUVAL_SOURCE(entity, metric=None, selector=None):
    """The citation of a dataset figure: the quoted sentence, its source file and the record. Example: =GPUVAL_SOURCE("biren", "order_backlog", "biren.order_backlog")."""  # noqa: E501
    rec = _record(entity, metric, selector)
    facts = ", ".join(x for x in (rec.kind, rec.period) if x)
    return f"{rec.quote} [{rec.source}; record {rec.id}, {facts}]"


@functools.cache
def _fx() -> FxRates:
    """The dataset's default exchange rates, built once per process."""
    return FxRates.from_dataset(_catalogue().dataset)


@_excel(
    from_currency='Currency converted from: "CNY", "HKD" or "USD".',
    to_currency='Currency converted to: "CNY", "HKD" or "USD".',
)
def GPUVAL_FX(from_currency, to_currency):
    """Exchange rate from the dataset's article-implied defaults: units of to_currency per one from_currency. Example: =GPUVAL_FX("USD", "CNY") returns 7."""  # noqa: E501
    a = text("from_currency", from_currency).upper()
    b = text("to_currency", to_currency).upper()
    return result(_fx().rate(a, b))


@_excel()
def GPUVAL_VERSION():
    """The gpuval version and the dataset version the functions use. Example: =GPUVAL_VERSION()."""
    from gpuval import __version__

    return f"gpuval {__version__}, dataset {_catalogue().dataset.version}"
