"""Monte Carlo: a snapshot of the TAM scenarios' value under uncertainty, computed by the core at
build time (the only Python-computed numbers in the workbook, labelled as such).

Every scenario input (share, margin, exit P/E, cost of equity, probability of success, distress
value, dilution) is drawn jointly (:func:`gpuval.core.simulate_scenarios`): a triangular marginal
over its Bear, Base (mode) and Bull values, and a one-factor Gaussian copula
``u_k = Phi(sqrt(r) Z + sqrt(1 - r) e_k)`` that moves the inputs together, a low ``Z`` being
Bear-like for all of them. ``r`` is :data:`CORRELATION`.

The simulated quantity is the value per share in the listing currency when the target has a share
count, else the equity value in the listing currency (``value x fx``); P(value > price) becomes
P(equity value > market value). The sheet sets the draws beside the probability-weighted
scenario value: mean, median, and the weighted value's percentile rank among the draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment

from gpuval import core
from gpuval.workbook.model import SCENARIOS, Model, scenario_arguments
from gpuval.workbook.sheets.base import Book, Sheet

TITLE = "Monte Carlo"
SEED = 20260105
DRAWS = 100_000
BINS = 30
CORRELATION = core.SCENARIO_CORRELATION
UNCERTAIN = ("share", "margin", "exit_pe", "coe", "prob_success", "distress", "dilution")
_ARG = {"exit_pe": "exit_multiple", "coe": "cost_of_equity", "distress": "distress_value"}


def _points(m: Model, s: str) -> dict[str, float]:
    """Scenario ``s``'s uncertain inputs as :func:`~gpuval.core.tam_scenario` arguments."""
    x, mv = m.inputs.scenarios[s], m.target.market_value
    return {_ARG.get(k, k): getattr(x, k) * (mv if k == "distress" else 1.0) for k in UNCERTAIN}


def per_share(m: Model) -> bool:
    """True when the snapshot is per share (the target has a share count)."""
    return m.target.shares > 0


def simulate(
    m: Model, *, n: int = DRAWS, seed: int = SEED, correlation: float = CORRELATION
) -> core.MonteCarloResult:
    """The snapshot: value per share (listing currency), or equity value (listing currency) for
    a target without a share count; the summary's price is then the market value."""
    t = m.target
    fixed = scenario_arguments(m.inputs, t, "base", m.scenarios.tam, m.scenarios.years)
    for key in UNCERTAIN:
        fixed.pop(_ARG.get(key, key), None)
    fixed["shares_outstanding"] = t.shares if per_share(m) else 1.0  # 1: value x fx
    price = (t.price if t.price > 0 else None) if per_share(m) else t.market_value * t.fx
    bear, base, bull = (_points(m, s) for s in SCENARIOS)
    return core.simulate_scenarios(
        core.tam_scenario, bear, base, bull, correlation=correlation, n=n, seed=seed,
        output="value_per_share", price=price, bins=BINS, **fixed,
    )  # fmt: skip


def weighted(m: Model) -> float:
    """The probability-weighted scenario value in the snapshot's unit."""
    t = m.target
    return m.scenarios.weighted_value * t.fx / (t.shares if per_share(m) else 1.0)


FACTS = [
    "Target",
    "Draws",
    "Seed",
    "Uncertain inputs (triangular: Bear, Base mode, Bull)",
    "Mean value per share",
    "Standard deviation",
    "Probability value > current price",
]
"""The first facts' labels for a target with a share count (``MC_FACTS`` names them)."""
FACT_NAMES = ["mc_target", "mc_draws", "mc_seed", "mc_uncertain", "mc_mean", "mc_std",
              "mc_prob_above", "mc_correlation", "mc_weighted", "mc_median", "mc_rank"]  # fmt: skip
FACT_FORMATS = ["plain", "count", "int", "plain", None, None, "pct", "number", None, None, "pct"]
TOP = 4  # first fact row
NOTE = TOP + len(FACT_NAMES)  # the explanation
PCT_TOP = NOTE + 2  # section row of the percentiles
HIST_TOP = PCT_TOP + 2 + len(core.PERCENTILES) + 1  # section row of the histogram


@dataclass(frozen=True)
class Labels:
    """The sheet's words and number formats for one target."""

    facts: list[str]
    unit: str
    """e.g. "HKD" (per share) or "CNY bn"."""
    fmt: str
    quantity: str
    """e.g. "Value per share" or "Equity value"."""
    axis_fmt: str


def labels(m: Model, ccy: str) -> Labels:
    """Per share with a share count, equity value (listing currency, bn) without one."""
    rank = "Percentile rank of the weighted value among the draws"
    correlation = "Correlation (one common factor; 0 = independent)"
    if per_share(m):
        facts = [*FACTS, correlation, "Probability-weighted scenario value per share",
                 "Median value per share", rank]  # fmt: skip
        return Labels(facts, ccy, "price", "Value per share", "0.0")
    unit = f"{ccy} bn"
    facts = [*FACTS[:4], f"Mean equity value ({unit})", f"Standard deviation ({unit})",
             "Probability equity value > market value", correlation,
             f"Probability-weighted scenario equity value ({unit})",
             f"Median equity value ({unit})", rank]  # fmt: skip
    return Labels(facts, unit, "ccy_bn", "Equity value", "#,##0.0,,,")


def values(m: Model, result: core.MonteCarloResult, target: str) -> dict[str, Any]:
    """Every figure of the snapshot by its defined name, for build and refresh (``mc_median``
    is not among them: it is the formula ``=mc_p50``)."""
    s, w = result.summary, weighted(m)
    facts = [target, s.n, SEED, ", ".join(UNCERTAIN), s.mean, s.std,
             "n/a" if s.prob_above is None else s.prob_above, CORRELATION, w,
             core.percentile_rank(result.values, w)]  # fmt: skip
    out = dict(zip([n for n in FACT_NAMES if n != "mc_median"], facts, strict=True))
    out |= {f"mc_p{p}": x for p, x in s.percentiles.items()}
    return out


def explanation(m: Model, result: core.MonteCarloResult) -> str:
    """One sentence on how the draws relate to the probability-weighted value."""
    w, mean = weighted(m), result.summary.mean
    probs = "/".join(f"{m.inputs.scenarios[s].prob:.0%}" for s in SCENARIOS)
    where = (
        "lifts the weighted value above the draws' mean"
        if w > mean
        else "leaves the weighted value below the draws' mean"
    )
    return (
        f"Why they differ: the weighted value averages three points ({probs} on Bear/Base/Bull, "
        "each with every input at that scenario's value at once), while the draws spread each "
        "input from Bear to Bull with Base the most likely and move them together (correlation "
        "above), so they reach the Bear and Bull corners only rarely; as the value multiplies "
        f"share, margin and exit P/E it is convex in the inputs, and the Bull corner {where}."
    )


def fill(ws: Any, m: Model, result: core.MonteCarloResult, target: str) -> None:
    """Write a simulation's numbers into the sheet's fixed cells."""
    figures = values(m, result, target)
    for i, name in enumerate(FACT_NAMES):
        if name in figures:
            ws.cell(TOP + i, 2).value = figures[name]
    for i, p in enumerate(core.PERCENTILES):
        ws.cell(PCT_TOP + 2 + i, 2).value = figures[f"mc_p{p}"]
    s = result.summary
    for i, count in enumerate(s.hist_counts):
        r = HIST_TOP + 2 + i
        ws.cell(r, 1).value = float(s.hist_edges[i])
        ws.cell(r, 2).value = float(s.hist_edges[i + 1])
        ws.cell(r, 4).value = int(count)


def write(book: Book, model: Model) -> Sheet:
    sheet = Sheet(book, TITLE, "Snapshot computed by the gpuval core when the workbook was built "
                  "or refreshed; it does not recalculate in Excel.")  # fmt: skip
    sheet.widths({"A": 50, "B": 16, "C": 16, "D": 16, "E": 12})
    ccy = book.dataset.entities[book.target].listing_currency
    lab = labels(model, ccy)
    result = simulate(model)
    for i, (label, name, fmt) in enumerate(zip(lab.facts, FACT_NAMES, FACT_FORMATS, strict=True)):
        sheet.label(TOP + i, label)
        median = name == "mc_median"
        sheet.put(TOP + i, 2, "=mc_p50" if median else None, "calc" if median else "data",
                  fmt or lab.fmt, name)  # fmt: skip
    note = sheet.put(NOTE, 1, explanation(model, result), "note")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.ws.merge_cells(start_row=NOTE, start_column=1, end_row=NOTE, end_column=5)
    sheet.ws.row_dimensions[NOTE].height = 54  # four wrapped lines
    sheet.section(PCT_TOP, f"Percentiles of {lab.quantity.lower()} ({lab.unit})")
    sheet.headers(PCT_TOP + 1, ["Percentile", lab.quantity])
    for i, p in enumerate(core.PERCENTILES):
        sheet.put(PCT_TOP + 2 + i, 1, f"P{p}", "label")
        sheet.put(PCT_TOP + 2 + i, 2, None, "data", lab.fmt, f"mc_p{p}")
    sheet.section(HIST_TOP, f"Histogram of {lab.quantity.lower()} ({lab.unit})")
    sheet.headers(HIST_TOP + 1, ["Bin from", "Bin to", "Bin middle", "Draws"])
    for i in range(BINS):
        r = HIST_TOP + 2 + i
        sheet.put(r, 1, None, "data", lab.fmt)
        sheet.put(r, 2, None, "data", lab.fmt)
        sheet.put(r, 3, f"=(A{r}+B{r})/2", "calc", lab.fmt)
        sheet.put(r, 4, None, "data", "count")
    fill(sheet.ws, model, result, book.target)
    last = HIST_TOP + 1 + BINS
    book.define("mc_hist", TITLE, f"$A${HIST_TOP + 2}:$D${last}")
    bar = BarChart()
    bar.type = "col"
    bar.gapWidth = 10
    bar.title = f"Monte Carlo: {lab.quantity.lower()} ({DRAWS:,} joint draws)"
    bar.x_axis.title = f"{lab.quantity} ({lab.unit}, bin middle)"
    bar.y_axis.title = "Draws"
    bar.add_data(Reference(sheet.ws, min_col=4, min_row=HIST_TOP + 1, max_row=last),
                 titles_from_data=True)  # fmt: skip
    bar.set_categories(Reference(sheet.ws, min_col=3, min_row=HIST_TOP + 2, max_row=last))
    bar.x_axis.number_format = lab.axis_fmt
    bar.legend = None
    bar.height, bar.width = 8, 18
    sheet.ws.add_chart(bar, "F4")
    return sheet
