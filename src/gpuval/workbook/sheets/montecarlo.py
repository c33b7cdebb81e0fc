"""Monte Carlo: a snapshot of the Base scenario's value per share under uncertainty, computed by
the core at build time (the only Python-computed numbers in the workbook, labelled as such).

Share, margin, exit P/E, cost of equity and probability of success are drawn from triangular
distributions with the Bear and Bull inputs as bounds and Base as the mode; the rest is Base.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference

from gpuval import core
from gpuval.workbook.model import SCENARIOS, Model, scenario_arguments
from gpuval.workbook.sheets.base import Book, Sheet

TITLE = "Monte Carlo"
SEED = 20260105
DRAWS = 100_000
BINS = 30
UNCERTAIN = ("share", "margin", "exit_pe", "coe", "prob_success")


def simulate(m: Model, *, n: int = DRAWS, seed: int = SEED) -> core.MonteCarloResult:
    """The snapshot's simulation of the Base scenario's value per share."""
    inputs, target = m.inputs, m.target
    distributions: dict[str, core.Distribution] = {}
    for key in UNCERTAIN:
        points = [getattr(inputs.scenarios[s], key) for s in SCENARIOS]
        lo, mode, hi = min(points), getattr(inputs.scenarios["base"], key), max(points)
        distributions[key] = core.Point(mode) if lo == hi else core.Triangular(lo, mode, hi)
    arg = {"exit_pe": "exit_multiple", "coe": "cost_of_equity"}
    fixed = scenario_arguments(inputs, target, "base", m.scenarios.tam, m.scenarios.years)
    for key in UNCERTAIN:
        fixed.pop(arg.get(key, key), None)
    return core.simulate(
        core.tam_scenario, {arg.get(k, k): d for k, d in distributions.items()}, n=n, seed=seed,
        output="value_per_share", bins=BINS, price=target.price if target.price > 0 else None,
        **fixed,
    )  # fmt: skip


FACTS = [
    "Target",
    "Draws",
    "Seed",
    "Uncertain inputs (triangular: Bear, Base mode, Bull)",
    "Mean value per share",
    "Standard deviation",
    "Probability value > current price",
]
FACT_FORMATS = ["plain", "count", "int", "plain", "price", "price", "pct"]
PCT_TOP = 4 + len(FACTS) + 1  # section row of the percentiles
HIST_TOP = PCT_TOP + 2 + len(core.PERCENTILES) + 1  # section row of the histogram


def fill(ws: Any, result: core.MonteCarloResult, target: str) -> None:
    """Write a simulation's numbers into the sheet's fixed cells (build and refresh)."""
    s = result.summary
    facts = [target, s.n, SEED, ", ".join(UNCERTAIN), s.mean, s.std,
             "n/a" if s.prob_above is None else s.prob_above]  # fmt: skip
    for i, value in enumerate(facts):
        ws.cell(4 + i, 2).value = value
    for i, x in enumerate(s.percentiles.values()):
        ws.cell(PCT_TOP + 2 + i, 2).value = x
    for i, count in enumerate(s.hist_counts):
        r = HIST_TOP + 2 + i
        ws.cell(r, 1).value = float(s.hist_edges[i])
        ws.cell(r, 2).value = float(s.hist_edges[i + 1])
        ws.cell(r, 4).value = int(count)


def write(book: Book, model: Model) -> Sheet:
    sheet = Sheet(book, TITLE, "Snapshot computed by the gpuval core when the workbook was built "
                  "or refreshed; it does not recalculate in Excel.")  # fmt: skip
    sheet.widths({"A": 34, "B": 16, "C": 16, "D": 16, "E": 12})
    ccy = book.dataset.entities[book.target].listing_currency
    for i, (label, fmt) in enumerate(zip(FACTS, FACT_FORMATS, strict=True)):
        sheet.label(4 + i, label)
        sheet.put(4 + i, 2, None, "data", fmt)
    sheet.section(PCT_TOP, f"Percentiles of value per share ({ccy})")
    sheet.headers(PCT_TOP + 1, ["Percentile", "Value per share"])
    for i, p in enumerate(core.PERCENTILES):
        sheet.put(PCT_TOP + 2 + i, 1, f"P{p}", "label")
        sheet.put(PCT_TOP + 2 + i, 2, None, "data", "price", f"mc_p{p}")
    sheet.section(HIST_TOP, "Histogram")
    sheet.headers(HIST_TOP + 1, ["Bin from", "Bin to", "Bin middle", "Draws"])
    for i in range(BINS):
        r = HIST_TOP + 2 + i
        sheet.put(r, 1, None, "data", "price")
        sheet.put(r, 2, None, "data", "price")
        sheet.put(r, 3, f"=(A{r}+B{r})/2", "calc", "price")
        sheet.put(r, 4, None, "data", "count")
    fill(sheet.ws, simulate(model), book.target)
    last = HIST_TOP + 1 + BINS
    bar = BarChart()
    bar.type = "col"
    bar.gapWidth = 10
    bar.title = f"Monte Carlo: value per share ({DRAWS:,} draws, seed {SEED})"
    bar.x_axis.title = f"Value per share ({ccy}, bin middle)"
    bar.y_axis.title = "Draws"
    bar.add_data(Reference(sheet.ws, min_col=4, min_row=HIST_TOP + 1, max_row=last),
                 titles_from_data=True)  # fmt: skip
    bar.set_categories(Reference(sheet.ws, min_col=3, min_row=HIST_TOP + 2, max_row=last))
    bar.x_axis.number_format = "0.0"
    bar.legend = None
    bar.height, bar.width = 8, 18
    sheet.ws.add_chart(bar, "F4")
    return sheet
