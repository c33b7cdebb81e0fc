"""Valuation: the dashboard. A headline (price and its date, the weighted value across methods,
upside, P(value > price), what today's price implies against what the model assumes), every
method's Low / Mid / High with its upside and weight and what drives it, the football field
(:mod:`gpuval.workbook.sheets.valuation_chart`), and the "x% of NVIDIA" workings (a reference,
not a valuation): ``value = fraction x NVIDIA market value`` (USD), shown in the listing currency.

Values are per share in the listing currency when the target has a share count, else its equity
value in the listing currency; every label says which, and names the currency (``tgt_ccy``).
The weighted value is :func:`gpuval.core.blend.weighted_value` over the Mid column with the
analyst's weights (``in_weight_<method>``, blue inputs on this sheet, checked to sum to 100%).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpyxl.styles import Alignment, Font

from gpuval.core.blend import weighted_value, weighted_value_xl
from gpuval.core.units import listing_value, listing_value_xl, per_share_xl, upside, upside_xl
from gpuval.workbook.model import YARDSTICK, Model
from gpuval.workbook.sheets import montecarlo, peers, scenarios
from gpuval.workbook.sheets.base import Book, Sheet

TITLE = "Valuation"
OUT_WEIGHTED, OUT_UPSIDE = "out_valuation_weighted", "out_valuation_upside"
REFERENCE = "reference, not a valuation"


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    cells: tuple[str, str, str]
    """Low, Mid and High (formulas)."""
    weight: float
    """The default weight (the analyst's input ``in_weight_<key>``)."""
    drives: str
    chart: str
    """Its name in the football field ("" = left out of the chart)."""
    short: str
    """Its name in the line saying what the weighted value rests on."""

    @property
    def name(self) -> str:
        return f"in_weight_{self.key}"


def _listing(equity_usd: str) -> str:
    return f'=IF(ISNUMBER({equity_usd}),{listing_value_xl(equity_usd)},"n/a")'


def _point(equity_usd: str) -> tuple[str, str, str]:
    """Low = Mid = High: a method that gives one value."""
    return (_listing(equity_usd),) * 3


_SV = scenarios.R["value"]


def _snapshot(name: str) -> str:
    """A Monte Carlo figure, n/a while the snapshot is of other inputs or another target
    (``mc_current``; until a refresh redraws it)."""
    return f'=IF({montecarlo.CURRENT},{name},"n/a")'


def _china(formula: str) -> str:
    """``formula`` (``=...``) for a method resting on China's AI-chip market and peers: n/a for a
    target listed outside China's venues (NVIDIA), whose whole business it cannot value."""
    return f'=IF({peers.COMPARABLE_XL},{formula[1:]},"n/a")'


_OTHER = 'AND(N(peer_other_years)>0,peer_reading<>"not comparable")'
_CAVEATS = (
    'IF(N(peer_later_years)>0,", "&peer_later_years&IF(peer_later_years=1," peer",'
    f'" peers")&" on a later fiscal year","")&IF({_OTHER},", "&peer_other_years&" left out for '
    'another fiscal year","")'
)
_FEW = (
    f"AND(N(peer_count)>0,NOT({peers.ENOUGH_PEERS_XL}),ISNUMBER(tgt_basis_revenue),"
    'peer_reading<>"not comparable")'
)
_PEER_DRIVES = (
    '="Pricing: China peers\' P/S today x the target\'s revenue"&IF(AND(peer_reading="n/a",'
    f'N(peer_count)=0,{_OTHER})," (no peer of the target\'s fiscal year: "&peer_other_years&" '
    f'left out; see Peer statistics)",IF({_FEW}," (n/a: "&peer_count&IF(peer_count=1," peer",'
    '" peers")&", under the "&in_peer_min_count&" it needs on Inputs"&'
    f'{_CAVEATS}&"; see Peer statistics)",IF(OR(peer_reading="floors",peer_reading='
    f'"indications",peer_reading="not comparable",N(peer_later_years)>0,{_OTHER}),'
    f'" ("&peer_reading&{_CAVEATS}&": see Peer statistics)","")))'
)
"""The peer method's "What drives it": why it is n/a (no peer of the target's fiscal year, or
fewer than ``in_peer_min_count``), else how its figures read (Peer statistics); how many peers'
fiscal year is later than the target's and how many are left out for another fiscal year,
whenever any is worth a reader's caveat."""

METHODS = [
    Method("peers", "Peer P/S: 25th-75th percentile, median",
           (_listing("peer_equity_p25"), _listing("peer_equity_median"),
            _listing("peer_equity_p75")), 0.30,
           _PEER_DRIVES, "Peer P/S", "peer P/S"),
    Method("tam", "TAM scenarios: Bear-Bull, probability-weighted",
           (_china(_listing(f"Scenarios!C{_SV}")), _china(_listing(f"Scenarios!F{_SV}")),
            _china(_listing(f"Scenarios!E{_SV}"))), 0.40,
           "Intrinsic: exit-year TAM share x margin x exit P/E, discounted, x P(success)",
           "TAM scenarios", "TAM scenarios"),
    Method("dcf", "Young-growth DCF", _point("out_dcf_equity_value"), 0.30,
           "Intrinsic: the company's own revenue path, cash flows at the cost of capital",
           "DCF", "DCF"),
    Method("mc", "Monte Carlo snapshot: P10-P90, median",
           (_china(_snapshot("mc_p10")), _china(_snapshot("mc_p50")),
            _china(_snapshot("mc_p90"))), 0.0,
           "The TAM scenarios' inputs drawn jointly: their spread (weight 0, else counted twice)",
           "Monte Carlo", "Monte Carlo"),
    Method("venue", "Re-rated at the other venue's P/S (reference)",
           _point("gap_market_value"), 0.0,
           "Reference, not a valuation: today's price re-rated by the A-share/HK P/S gap",
           "Venue re-rating (reference)", "venue re-rating"),
    Method("nvidia", '"x% of NVIDIA" (reference)',
           _point("out_nvidia_share_equity_value"), 0.0,
           "Reference, not a valuation: a chosen fraction of NVIDIA's value (workings below)",
           "", '"x% of NVIDIA"'),
]  # fmt: skip
WEIGHTS_NOTE = (
    "Default weights (an analyst's judgement; change them in the blue cells): intrinsic value "
    "70% (TAM scenarios 40%, the story the listing is priced on; DCF 30%, the company's own "
    "revenue path), pricing 30% (peer P/S). Weight 0: the Monte Carlo (the TAM scenarios again, "
    "spread out) and the two references. A method showing n/a drops out and the others' weights "
    "scale up to fill its place (the peer P/S shows n/a under in_peer_min_count China peers). A "
    "target listed outside China (NVIDIA) is valued by its DCF alone: the peer P/S, the TAM "
    "scenarios and the Monte Carlo rest on China's peers and AI-chip market."
)

_PRICE = 'IF(tgt_shares>0,"price","market value")'
"""The target's market figure: its price, or its market value without a share count."""
TOP = 4  # headline section row
IMPLIED = TOP + 1  # header row of market-implied vs assumed (columns E-G, beside the headline)
TABLE = TOP + 9  # header row of the method table
FIRST = TABLE + 1
LAST = FIRST + len(METHODS) - 1
TOTAL = LAST + 1
NOTE = TOTAL + 1
CHART_ROW = NOTE + 2
NV = CHART_ROW + 18  # section row of the NVIDIA workings


RESTS_ON = "val_rests_on"
"""Defined name: the line saying which methods the weighted value rests on, each with its share
of the weight (the Cover repeats it)."""

HEADLINE = [TOP + 2 + i for i in range(5)]
"""The headline rows the Cover repeats: price (or market value), its date, the weighted value,
upside and P(value > price); column A the label, B the unit, C the value."""
FIGURE_NOTE = TOP + 7
"""The row saying what the market figure is (a price, a stated value, a bound or a peak)."""
_BASIS = f"INDEX({peers.MARKET_BASIS},tgt_row)"
_BOUND = (
    'IF(ISNUMBER(SEARCH("peak",{b}))," A past peak, not today\'s value: the upside, the '
    "probability and the implied share and growth are measured against it, not bounds on "
    'today\'s.",IF(ISNUMBER(SEARCH("lower bound",{b}))," Against a lower bound the upside '
    'and the probability are ceilings, the implied share and growth floors.",IF(ISNUMBER('
    'SEARCH("upper bound",{b}))," Against an upper bound the upside and the probability are '
    'floors, the implied share and growth ceilings.","")))'
)
FIGURE_NOTE_XL = (f'=IF({peers.TARGET_VALUED_XL},IF({_BASIS}="","","The "&IF(tgt_shares>0,'
                  f'"price","market value")&" above is the Peers figure: "&{_BASIS}&'
                  f'"."&{_BOUND.format(b=_BASIS)}),{peers.TARGET_PROBLEM_XL})')  # fmt: skip
"""... and, when it is a bound, which way the upside and the implied figures are bounds; or,
when the target cannot be valued, why not (the Cover repeats it)."""
TARGET_XL = "=" + peers.TARGET_NAME_XL
"""The target's name, or its id (the Cover repeats it)."""
FIGURE_NOTE_FONT = Font(name="Calibri", italic=True, size=10)


def value_label_xl(what: str) -> str:
    """A label that says what a listing-currency value is: per share, or (without a share count)
    the equity value, e.g. ``Value per share (HKD)`` / ``Value: equity value (CNY)``."""
    return f'=IF(tgt_shares>0,"{what} per share","{what}: equity value")&" ("&tgt_ccy&")"'


def method_mids(model: Model, mc_median: float | None) -> list[float | None]:
    """Each method's Mid in the listing currency (per share, or equity value without a share
    count), in :data:`METHODS` order; ``mc_median``: the snapshot's ``mc_p50`` (stored; None
    when the snapshot is another target's: the sheet shows n/a until a refresh)."""
    t, p = model.target, model.peers

    def shown(equity_usd: float | None) -> float | None:
        return None if equity_usd is None else listing_value(equity_usd, t.shares, t.fx)

    china = t.comparable  # listed outside China: the China-based methods value nothing
    dcf = None if model.dcf is None else float(model.dcf.equity_value)
    return [shown(p.median_equity), shown(model.scenarios.weighted_value) if china else None,
            shown(dcf), mc_median if china else None, shown(p.rerated_market_value),
            shown(model.nvidia_value)]  # fmt: skip


def headline(model: Model, weights: Mapping[str, float], mc_median: float | None
             ) -> dict[str, float | None]:  # fmt: skip
    """``out_valuation_weighted`` and ``out_valuation_upside`` (weighted value / price - 1, the
    price being the market value without a share count) as the sheet computes them."""
    t = model.target
    value = weighted_value(method_mids(model, mc_median), [weights[m.name] for m in METHODS])
    now = listing_value(t.market_value, t.shares, t.fx)
    return {OUT_WEIGHTED: value,
            OUT_UPSIDE: None if value is None else float(upside(value, now))}  # fmt: skip


def write(book: Book) -> Sheet:
    from gpuval.workbook.sheets.valuation_chart import football_field

    sheet = Sheet(book, TITLE, "The headline, every method side by side (per share, or the equity "
                  "value without a share count, in the listing currency) and the football "
                  "field.")  # fmt: skip
    sheet.widths({"A": 46, "B": 9, "C": 12, "D": 12, "E": 12, "F": 15, "G": 62})
    book.values.update({m.name: m.weight for m in METHODS})
    _headline(sheet)
    _table(book, sheet)
    football_field(sheet, FIRST, [i for i, m in enumerate(METHODS) if m.chart], CHART_ROW)
    _nvidia(sheet)
    sheet.ws.print_area = f"A1:G{NV + 6}"  # the helper columns right of G are hidden
    return sheet


def _headline(sheet: Sheet) -> None:
    sheet.section(TOP, "Headline")
    price = '=IF(tgt_shares>0,"Share price","Market value (no share count)")'
    lines: Sequence[tuple[str, str, str, str, str | None]] = [
        ("Target", "", TARGET_XL, "plain", None),
        (price, "=tgt_ccy", "=tgt_now", "value", None),
        ('=IF(tgt_shares>0,"Price","Market value")&" date (the target\'s market figure on Peers)"',
         "date", f"=INDEX({peers.USED_DATES},tgt_row)", "date", None),
        ('=IF(tgt_shares>0,"Weighted value per share","Weighted equity value")&'
         '" across methods"', "=tgt_ccy",
         f'=IF({peers.TARGET_VALUED_XL},'
         f'{weighted_value_xl(f"D{FIRST}:D{LAST}", f"B{FIRST}:B{LAST}")},"n/a")', "value",
         OUT_WEIGHTED),
        ('=IF(tgt_shares>0,"Upside: weighted value / price - 1",'
         '"Upside: weighted equity value / market value - 1")', "%",
         f'=IF(ISNUMBER(C{TOP + 4}),{upside_xl(f"C{TOP + 4}", "tgt_now")},"n/a")', "pct",
         OUT_UPSIDE),
        # the snapshot draws the TAM scenarios' inputs: its probability is of their value
        ('="P(scenario value > "&IF(tgt_shares>0,"price","market value")&"), Monte Carlo"', "%",
         _china(_snapshot("mc_prob_above")), "pct", None),
    ]  # fmt: skip
    for i, (label, unit, formula, fmt, name) in enumerate(lines):
        r = TOP + 1 + i
        sheet.label(r, label)
        sheet.put(r, 2, unit, "calc" if unit.startswith("=") else "unit")
        role = "output" if i else "link"
        cell = sheet.put(r, 3, formula, role, fmt, name)
        cell.alignment = Alignment(horizontal="right")
    what = f'="What the "&{_PRICE}&" on Peers implies, against the model\'s assumption"'
    for i, text in enumerate(["Implied", "Assumed", what]):
        sheet.put(IMPLIED, 5 + i, text, "calc" if i else "header").style = "gv_header"
    rows = [
        (  # n/a for a target outside China: a share of China's market is not its business
            "Share of the exit-year China AI-chip market, Base scenario (%)",
            _china("=out_implied_share"),
            _china("=tgt_share_base"),
        ),
        (
            "Revenue growth, year 2 to the end of high growth, DCF (%)",
            "=out_implied_growth",
            "=tgt_dcf_growth_y2_5",
        ),
    ]
    for i, (label, implied, assumed) in enumerate(rows):
        r = IMPLIED + 1 + i
        sheet.put(r, 5, implied, "link", "pct")
        sheet.put(r, 6, assumed, "link", "pct")
        sheet.put(r, 7, label, "label")

    def side(r: int) -> str:  # text and errors are neither above nor below
        return (f'IF(AND(ISNUMBER(E{r}),ISNUMBER(F{r})),IF(E{r}>F{r},"above","at or below"),'
                '"n/a")')  # fmt: skip

    note = (f'=IF({peers.COMPARABLE_XL},"Implied vs assumed: share "&{side(IMPLIED + 1)}&", '
            f'growth "&{side(IMPLIED + 2)}&".","Not a China peer: valued by its DCF alone; no '
            'share of China\'s market applies.")')  # fmt: skip
    sheet.put(IMPLIED + 3, 7, note, "calc").style = "gv_note"
    meaning = (f'=IF({peers.COMPARABLE_XL},"Above: the "&{_PRICE}&" asks for more than the '
               'model assumes.","")')  # fmt: skip
    sheet.put(IMPLIED + 4, 7, meaning, "calc").style = "gv_note"  # two lines: one page wide
    sheet.put(FIGURE_NOTE, 1, FIGURE_NOTE_XL).font = FIGURE_NOTE_FONT


def _table(book: Book, sheet: Sheet) -> None:
    sheet.section(TABLE - 1, "By method")
    sheet.put(TABLE - 1, 3, value_label_xl("Value"), "calc", "plain")
    sheet.headers(TABLE, ["Method", "Weight", "Low", "Mid", "High", "Upside", "What drives it"])
    sheet.put(TABLE, 6, f'="Upside (Mid) vs "&{_PRICE}', "calc").style = "gv_header"
    for i, m in enumerate(METHODS):
        r = FIRST + i
        sheet.label(r, m.label)
        sheet.put(r, 2, m.weight, "input", "pct", m.name)
        for c, formula in enumerate(m.cells, start=3):
            sheet.put(r, c, formula, "link", "value")
        cell = sheet.put(r, 6, f'=IF(ISNUMBER(D{r}),{upside_xl(f"D{r}", "tgt_now")},"n/a")',
                         "link", "pct")  # fmt: skip
        cell.alignment = Alignment(horizontal="right")
        # a formula where the text depends on the data (the peers' P/S being floors), on two lines
        drives = sheet.put(r, 7, m.drives, "calc" if m.drives.startswith("=") else "note")
        drives.style = "gv_note"
        if m.drives.startswith("="):
            drives.alignment = Alignment(wrap_text=True)  # its last line beside the values
            sheet.ws.row_dimensions[r].height = 26
    weights = f"{TITLE}!$B${FIRST}:$B${LAST}"
    # the weight the value rests on: the methods with a value (the rest drop out, scaled up)
    sheet.label(TOTAL, "Weighted value (Mid x weight, over the methods with a value)")
    sheet.put(TOTAL, 2, f"=SUMPRODUCT(B{FIRST}:B{LAST},--ISNUMBER(D{FIRST}:D{LAST}))", "calc",
              "pct")  # fmt: skip
    sheet.put(TOTAL, 4, f"={OUT_WEIGHTED}", "link", "value")
    cell = sheet.put(TOTAL, 6, f"={OUT_UPSIDE}", "link", "pct")
    cell.alignment = Alignment(horizontal="right")
    sheet.put(TOTAL, 7, _rests_on(), "calc", "plain", RESTS_ON).style = "gv_note"
    note = sheet.put(NOTE, 1, WEIGHTS_NOTE, "note")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.ws.merge_cells(start_row=NOTE, start_column=1, end_row=NOTE, end_column=7)
    sheet.ws.row_dimensions[NOTE].height = 39  # three wrapped lines
    book.check("Valuation: the method weights are each 0-100% and sum to 100%",
               f"AND(MIN({weights})>=0,MAX({weights})<=1,ABS(SUM({weights})-1)<=1E-9)")  # fmt: skip


def _rests_on() -> str:
    """``Rests on: TAM scenarios 57%, DCF 43%``: each method with a weight and a value, with its
    share of the weight the value rests on (the total row's weight)."""
    pieces = "&".join(
        f'IF(AND(ISNUMBER(D{r}),N(B{r})>0),", {m.short.replace(chr(34), chr(34) * 2)} "&'
        f'TEXT(B{r}/B{TOTAL},"0%"),"")'
        for r, m in enumerate(METHODS, start=FIRST)
    )
    return (
        f'=IF(N(B{TOTAL})>0,"Rests on: "&MID({pieces},3,999),"No method with a weight has a value")'
    )


def _nvidia(sheet: Sheet) -> None:
    sheet.section(NV, f'"x% of NVIDIA" workings ({REFERENCE})')
    row = f'MATCH("{YARDSTICK}",data_peers_id,0)'
    nvidia = (f'IF(in_nvidia_value_basis="peak",in_nvidia_market_cap,'
              f'IFERROR(INDEX(peers_mv_usd,{row}),"n/a"))')  # fmt: skip
    r = NV + 1
    lines = [
        ("NVIDIA market value (Inputs: peer table, or the peak)", "USD", "=" + nvidia, "usd_bn",
         "nvidia_market_value"),
        ("Fraction of NVIDIA (Inputs)", "%", "=in_nvidia_fraction", "pct2", None),
        (f'=IF(in_target="{YARDSTICK}","Value of that fraction: n/a, NVIDIA is the target",'
         '"Value of that fraction")', "USD",
         f'=IF(AND(ISNUMBER(C{r}),in_target<>"{YARDSTICK}"),C{r}*C{r + 1},"n/a")', "usd_bn",
         "out_nvidia_share_equity_value"),
        ('=IF(tgt_shares>0,"... per share","... per share: n/a, no share count")', "=tgt_ccy",
         f'=IF(ISNUMBER(C{r + 2}),{per_share_xl(f"C{r + 2}")},"n/a")', "price",
         "out_nvidia_share_value"),
        ("Fraction of NVIDIA the target's market value is", "%",
         f'=IF(ISNUMBER(C{r}),tgt_mv_usd/C{r},"n/a")', "pct2", "out_implied_nvidia_fraction"),
    ]  # fmt: skip
    for i, (label, unit, formula, fmt, name) in enumerate(lines):
        sheet.label(r + i, label)
        sheet.put(r + i, 2, unit, "calc" if unit.startswith("=") else "unit")
        role = "output" if name and name.startswith("out_") else "calc"
        sheet.put(r + i, 3, formula, role, fmt, name)
