"""Monte Carlo: a snapshot of the Base scenario's value per share under uncertainty, computed by
the core at build time (the only Python-computed numbers in the workbook, labelled as such).

Share, margin, exit P/E, cost of equity and probability of success are drawn from triangular
distributions with the Bear and Bull inputs as bounds and Base as the mode; the rest is Base.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference

from gpuval import core
from gpuval.sheets.base import Book, Sheet

TITLE = "Monte Carlo"
SEED = 20260105
DRAWS = 100_000
BINS = 30
UNCERTAIN = ("share", "margin", "exit_pe", "coe", "prob_success")


def simulate(v: dict[str, Any], *, n: int = DRAWS, seed: int = SEED) -> core.MonteCarloResult:
    """The snapshot's simulation, from the workbook's input values ``v`` (after peers/scenarios)."""
    distributions = {}
    for key in UNCERTAIN:
        lo, mode, hi = sorted(v[f"in_{key}_{s}"] for s in ("bear", "base", "bull"))
        mode = v[f"in_{key}_base"]
        distributions[key] = core.Point(mode) if lo == hi else core.Triangular(lo, mode, hi)
    arg = {"exit_pe": "exit_multiple", "coe": "cost_of_equity"}
    dists = {arg.get(k, k): d for k, d in distributions.items()}
    shares = v["tgt_shares"] if v["tgt_shares"] > 0 else 1.0
    return core.simulate(
        core.tam_scenario, dists, n=n, seed=seed, output="value_per_share", bins=BINS,
        price=v["tgt_price"] if v["tgt_price"] > 0 else None,
        tam=v["scenario_tam"], years=v["scenario_years"], shares_outstanding=shares,
        distress_value=v["in_distress_base"] * v["tgt_mv_usd"], dilution=v["in_dilution_base"],
        fx=v["tgt_fx"],
    )  # fmt: skip


def write(book: Book, v: dict[str, Any]) -> Sheet:
    sheet = Sheet(book, TITLE, "Snapshot computed by the gpuval core when the workbook was built; "
                  "it does not recalculate in Excel.")  # fmt: skip
    sheet.widths({"A": 34, "B": 16, "C": 16, "D": 16, "E": 12})
    result = simulate(v)
    s = result.summary
    ccy = book.dataset.entities[book.target].listing_currency
    facts = [
        ("Target at build time", book.target, "plain"),
        ("Draws", s.n, "count"),
        ("Seed", SEED, "int"),
        ("Uncertain inputs (triangular: Bear, Base mode, Bull)", ", ".join(UNCERTAIN), "plain"),
        ("Mean value per share", s.mean, "price"),
        ("Standard deviation", s.std, "price"),
        ("Probability value > current price", s.prob_above, "pct"),
    ]
    for i, (label, value, fmt) in enumerate(facts):
        sheet.label(4 + i, label)
        sheet.put(4 + i, 2, value if value is not None else "n/a", "data", fmt)
    top = 4 + len(facts) + 1
    sheet.section(top, f"Percentiles of value per share ({ccy})")
    sheet.headers(top + 1, ["Percentile", "Value per share"])
    for i, (p, x) in enumerate(s.percentiles.items()):
        sheet.put(top + 2 + i, 1, f"P{p}", "label")
        sheet.put(top + 2 + i, 2, x, "data", "price", f"mc_p{p}")
    hist = top + 2 + len(s.percentiles) + 1
    sheet.section(hist, "Histogram")
    sheet.headers(hist + 1, ["Bin from", "Bin to", "Bin middle", "Draws"])
    edges, counts = s.hist_edges, s.hist_counts
    for i, count in enumerate(counts):
        r = hist + 2 + i
        sheet.put(r, 1, float(edges[i]), "data", "price")
        sheet.put(r, 2, float(edges[i + 1]), "data", "price")
        sheet.put(r, 3, f"=(A{r}+B{r})/2", "calc", "price")
        sheet.put(r, 4, int(count), "data", "count")
    last = hist + 1 + len(counts)
    bar = BarChart()
    bar.type = "col"
    bar.gapWidth = 10
    bar.title = f"Monte Carlo: value per share ({s.n:,} draws, seed {SEED})"
    bar.x_axis.title = f"Value per share ({ccy}, bin middle)"
    bar.y_axis.title = "Draws"
    bar.add_data(Reference(sheet.ws, min_col=4, min_row=hist + 1, max_row=last),
                 titles_from_data=True)  # fmt: skip
    bar.set_categories(Reference(sheet.ws, min_col=3, min_row=hist + 2, max_row=last))
    bar.x_axis.number_format = "0.0"
    bar.legend = None
    bar.height, bar.width = 8, 18
    sheet.ws.add_chart(bar, "F4")
    return sheet
