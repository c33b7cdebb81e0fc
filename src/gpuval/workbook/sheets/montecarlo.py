"""Monte Carlo: a snapshot of the TAM scenarios' value under uncertainty, computed by the core at
build time (the only Python-computed numbers in the workbook, labelled as such).

Every scenario input (share, margin, exit P/E, cost of equity, probability of success, value if
it fails as a fraction of the value if it succeeds, dilution) is drawn jointly
(:func:`gpuval.core.simulate_scenarios`): a triangular marginal over its Bear, Base (mode) and
Bull values, and a one-factor Gaussian copula
``u_k = Phi(sqrt(r) Z + sqrt(1 - r) e_k)`` that moves the inputs together, a low ``Z`` being
Bear-like for all of them. ``r`` is :data:`CORRELATION`.

The simulated quantity is the value per share in the listing currency when the target has a share
count, else the equity value in the listing currency (``value x fx``); P(value > price) becomes
P(equity value > market value). The sheet sets the draws beside the probability-weighted
scenario value: mean, median, and the weighted value's percentile rank among the draws.

The histogram (chart beside the percentiles; its bins in a working table on a page of their own)
marks the bin holding today's price (``tgt_now``, the market value without a share count) and
the bins holding P10, P50 and P90: two marker columns hold a bin's draws there and ``#N/A``
elsewhere, drawn as bars of another colour over the histogram's own (overlap 100 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.pagebreak import Break

from gpuval import core
from gpuval.workbook.model import SCENARIOS, Model, scenario_arguments
from gpuval.workbook.sheets import scenarios
from gpuval.workbook.sheets.base import Book, Sheet, col, fitted_height

TITLE = "Monte Carlo"
SEED = 20260105
DRAWS = 100_000
BINS = 30
CORRELATION = core.SCENARIO_CORRELATION
UNCERTAIN = ("share", "margin", "exit_pe", "coe", "prob_success", "fail_fraction", "dilution")
_ARG = {"exit_pe": "exit_multiple", "coe": "cost_of_equity", "fail_fraction": "distress_fraction"}
TARGET_ID_COL = 8
"""Column of ``mc_target``, the snapshot's target id (grouped and collapsed, as refresh and the
today marker read it); the Target fact shows the company's name from it."""
CURRENT = "mc_current"
"""Defined name, beside ``mc_target``: TRUE while the snapshot is of the workbook's target and
inputs (:func:`current_xl`); the Valuation sheet shows its figures, and today's bin is marked,
only then, and ``gpuval check`` fails otherwise."""
STALE = "Snapshot of other inputs or another target: gpuval refresh redraws it. "
"""Row 3's words while the snapshot is not current (in red)."""


def _points(m: Model, s: str) -> dict[str, float]:
    """Scenario ``s``'s uncertain inputs as :func:`~gpuval.core.tam_scenario` arguments."""
    x = m.inputs.scenarios[s]
    return {_ARG.get(k, k): getattr(x, k) for k in UNCERTAIN}


def current_xl() -> str:
    """The snapshot is of today's target and inputs: ``mc_target = in_target`` and its weighted
    value (``mc_weighted``, stored) equals the Scenarios sheet's, live, in the snapshot's unit
    (per share with a share count, else the equity value in the listing currency), to 1e-6
    relative: an edited input moves the live value, a refresh redraws and stores the new one."""
    live = (f"IF(tgt_shares>0,out_value_per_share_weighted,"
            f"{scenarios.TITLE}!$F${scenarios.R['listing']})")  # fmt: skip
    return (f"IFERROR(AND(mc_target=in_target,ABS({live}-mc_weighted)<=1E-6*ABS(mc_weighted)),"
            "FALSE)")  # fmt: skip


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
CHART_ROWS = 16  # rows beside and below the percentiles that the chart covers
HIST_TOP = PCT_TOP + CHART_ROWS  # section row of the histogram's working table (a new page)
MARKERS: dict[str, str | tuple[str, ...]] = {
    "Marker: today": "tgt_now",
    "Marker: P10, P50, P90": ("mc_p10", "mc_p50", "mc_p90"),
}
"""Marker column header -> the value(s) whose bin it marks."""
MARKER_NAMES = ["chart_mc_today", "chart_mc_percentiles"]
"""The marker columns' defined names: ``chart_*``, where ``#N/A`` means "no bar" to the check."""
BLUE, ORANGE, DARK = "2F5597", "ED7D31", "404040"


@dataclass(frozen=True)
class Labels:
    """The sheet's words and number formats for one target."""

    facts: list[str]
    unit: str
    """The listing currency, e.g. "HKD" (the cells' format scales an equity value: bn or m)."""
    fmt: str
    quantity: str
    """e.g. "Value per share" or "Equity value"."""
    axis_fmt: str
    axis_unit: str
    """e.g. "HKD" or "CNY bn" (an equity value's axis is in bn)."""


def labels(m: Model, ccy: str) -> Labels:
    """Per share with a share count, equity value (listing currency, bn) without one."""
    rank = "Percentile rank of the weighted value among the draws"
    correlation = "Correlation (one common factor; 0 = independent)"
    if per_share(m):
        facts = [*FACTS, correlation, "Probability-weighted scenario value per share",
                 "Median value per share", rank]  # fmt: skip
        return Labels(facts, ccy, "price", "Value per share", "0.0", ccy)
    facts = [*FACTS[:4], f"Mean equity value ({ccy})", f"Standard deviation ({ccy})",
             "Probability equity value > market value", correlation,
             f"Probability-weighted scenario equity value ({ccy})",
             f"Median equity value ({ccy})", rank]  # fmt: skip
    return Labels(facts, ccy, "ccy_bn", "Equity value", "#,##0.0,,,", f"{ccy} bn")


def values(m: Model, result: core.MonteCarloResult, target: str) -> dict[str, Any]:
    """Every figure of the snapshot by its defined name, for build and refresh (``mc_median``
    is not among them: it is the formula ``=mc_p50``)."""
    s, w = result.summary, weighted(m)
    facts = [target, s.n, SEED, uncertain_labels(), s.mean, s.std,
             "n/a" if s.prob_above is None else s.prob_above, CORRELATION, w,
             core.percentile_rank(result.values, w)]  # fmt: skip
    out = dict(zip([n for n in FACT_NAMES if n != "mc_median"], facts, strict=True))
    out |= {f"mc_p{p}": x for p, x in s.percentiles.items()}
    return out


def uncertain_labels() -> str:
    """The uncertain inputs as the Scenarios sheet labels them, e.g. "Exit P/E"."""
    labels = {key: label for key, label, *_ in scenarios.ROWS}
    return "; ".join(labels[k] for k in UNCERTAIN)


WHY = "Why they differ:"
"""How the explanation begins (refresh finds its cell by it)."""


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
        f"{WHY} the weighted value averages three points ({probs} on Bear/Base/Bull, "
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
            ws.cell(TOP + i, TARGET_ID_COL if name == "mc_target" else 2).value = figures[name]
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
    note = scenarios.not_a_china_peer(
        sheet,
        f"the draws vary the scenarios' inputs, {scenarios.OUT_OF_VALUATION}",
        first=f'IF({CURRENT},"","{STALE}")&',
    )
    stale = FormulaRule(formula=[f"NOT({CURRENT})"], font=Font(color="FFC00000", b=True))
    sheet.ws.conditional_formatting.add(note.coordinate, stale)
    sheet.widths({"A": 50, "B": 16, "C": 16, "D": 16, "E": 16, "F": 16})
    ccy = book.dataset.entities[book.target].listing_currency
    lab = labels(model, ccy)
    result = simulate(model)
    for i, (label, name, fmt) in enumerate(zip(lab.facts, FACT_NAMES, FACT_FORMATS, strict=True)):
        sheet.label(TOP + i, label)
        if name == "mc_median":
            sheet.put(TOP + i, 2, "=mc_p50", "calc", fmt or lab.fmt, name)
        elif name == "mc_target":
            sheet.put(TOP, 2, "=IFERROR(INDEX(data_peers_name,MATCH(mc_target,data_peers_id,0)),"
                      "mc_target)", "calc", fmt)  # fmt: skip
            sheet.put(TOP, TARGET_ID_COL - 1, "Snapshot's target id", "label")
            sheet.put(TOP, TARGET_ID_COL, None, "data", fmt, name)
        else:
            sheet.put(TOP + i, 2, None, "data", fmt or lab.fmt, name)
    listed = TOP + FACT_NAMES.index("mc_uncertain")  # two lines across B:F, inside the page
    sheet.ws.merge_cells(start_row=listed, start_column=2, end_row=listed, end_column=6)
    sheet.ws.cell(listed, 1).alignment = Alignment(vertical="top")
    sheet.ws.cell(listed, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.ws.row_dimensions[listed].height = fitted_height(2)
    sheet.put(TOP + 1, TARGET_ID_COL - 1, "Snapshot of today's target and inputs", "label")
    sheet.put(TOP + 1, TARGET_ID_COL, "=" + current_xl(), "calc", "plain", CURRENT)
    sheet.ws.column_dimensions.group(col(TARGET_ID_COL - 1), col(TARGET_ID_COL), hidden=True,
                                     outline_level=1)  # fmt: skip
    note = sheet.put(NOTE, 1, explanation(model, result), "note")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.ws.merge_cells(start_row=NOTE, start_column=1, end_row=NOTE, end_column=5)
    sheet.ws.row_dimensions[NOTE].height = 54  # four wrapped lines
    sheet.section(PCT_TOP, f"Percentiles of {lab.quantity.lower()} ({lab.unit})")
    sheet.headers(PCT_TOP + 1, ["Percentile", lab.quantity])
    for i, p in enumerate(core.PERCENTILES):
        sheet.put(PCT_TOP + 2 + i, 1, f"P{p}", "label")
        sheet.put(PCT_TOP + 2 + i, 2, None, "data", lab.fmt, f"mc_p{p}")
    sheet.section(HIST_TOP, f"Working table: histogram of {lab.quantity.lower()} ({lab.unit})")
    sheet.ws.row_breaks.append(Break(id=HIST_TOP - 1))  # the working table prints on its own
    sheet.headers(HIST_TOP + 1, ["Bin from", "Bin to", "Bin middle", "Draws", *MARKERS])
    last = HIST_TOP + 1 + BINS
    for i in range(BINS):
        r = HIST_TOP + 2 + i
        sheet.put(r, 1, None, "data", lab.fmt)
        sheet.put(r, 2, None, "data", lab.fmt)
        sheet.put(r, 3, f"=(A{r}+B{r})/2", "calc", lab.fmt)
        sheet.put(r, 4, None, "data", "count")
        for j, marked in enumerate(MARKERS.values()):
            sheet.put(r, 5 + j, "=" + marker_xl(marked, r, r == last), "calc", "count")
    today = f"E{HIST_TOP + 2}:E{last}"
    sheet.put(PCT_TOP + 3 + len(core.PERCENTILES), 1,
              f'=IF(COUNT({today})>0,"Histogram: today\'s bin orange; P10, P50, P90 dark"'
              f',IF(NOT({CURRENT}),"Today is marked on a snapshot of today\'s inputs only"'
              f',"Today\'s "&IF(tgt_shares>0,"price","market value")&" is outside the draws: '
              f'no bin marked"))', "calc")  # fmt: skip
    marks = f"E{HIST_TOP + 2}:{col(4 + len(MARKERS))}{last}"
    grey = FormulaRule(formula=[f"ISNA(E{HIST_TOP + 2})"], font=Font(color="FFBFBFBF"))
    sheet.ws.conditional_formatting.add(marks, grey)  # "#N/A: not this bin" in light grey
    fill(sheet.ws, model, result, book.target)
    book.define("mc_hist", TITLE, f"$A${HIST_TOP + 2}:$D${last}")
    for j, name in enumerate(MARKER_NAMES):
        book.define(name, TITLE, f"${col(5 + j)}${HIST_TOP + 2}:${col(5 + j)}${last}")
    sheet.ws.add_chart(_histogram(sheet, lab, last), f"D{PCT_TOP}")
    return sheet


def marker_xl(marked: str | tuple[str, ...], r: int, last: bool) -> str:
    """A marker cell of histogram row ``r``: the bin's draws when a marked value lies in the bin
    (``from <= x < to``; ``<= to`` in the last bin), else ``NA()`` (no bar). Today's price
    marks only while the snapshot is of today's target and inputs (:data:`CURRENT`)."""
    names = (marked,) if isinstance(marked, str) else marked
    inside = [f"AND({x}>=A{r},{x}{'<=' if last else '<'}B{r})" for x in names]
    test = inside[0] if len(inside) == 1 else f"OR({','.join(inside)})"
    if marked == "tgt_now":
        test = f"AND({CURRENT},ISNUMBER(tgt_now),{test})"
    return f"IF({test},D{r},NA())"


def _histogram(sheet: Sheet, lab: Labels, last: int) -> BarChart:
    """The draws per bin, with the marker columns' bars drawn over them in other colours."""
    bar = BarChart()
    bar.type = "col"
    bar.gapWidth = 10
    bar.overlap = 100  # a marker bar sits exactly over its bin's bar
    bar.title = f"Monte Carlo: {lab.quantity.lower()} ({DRAWS:,} joint draws)"
    bar.x_axis.title = f"{lab.quantity} ({lab.axis_unit}, bin middle)"
    bar.y_axis.title = "Draws"
    bar.add_data(Reference(sheet.ws, min_col=4, max_col=4 + len(MARKERS), min_row=HIST_TOP + 1,
                           max_row=last), titles_from_data=True)  # fmt: skip
    bar.set_categories(Reference(sheet.ws, min_col=3, min_row=HIST_TOP + 2, max_row=last))
    for series, colour in zip(bar.series, (BLUE, ORANGE, DARK), strict=True):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    bar.x_axis.number_format = lab.axis_fmt
    bar.legend = Legend(legendPos="b")
    bar.height, bar.width = 8, 15
    return bar
