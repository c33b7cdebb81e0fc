"""DCF: the ten-year young-growth model (the core's :func:`gpuval.core.young_growth_dcf`).

Column C is the base year (the latest full fiscal year's revenue), D the start of the valuation
after the bridge years (``revenue x (1 + bridge growth) ^ bridge years``; the bridge years' cash
flows are history by the valuation date and are not valued), E..N the ten valued fiscal years
and O the terminal year; every row is one formula copied across. Per year t:

* growth: year 1 ``g1``; years 2..H ``g``; then ``g - (g - g_T) x (t - H) / (10 - H)``
* revenue_t = revenue_{t-1} x (1 + growth_t); margin_t = target - (target - today) x
  max(N - t, 0) / N; EBIT = margin x revenue
* tax rate: effective to year H, then linear to the marginal rate by year 10 (the terminal year
  pays the marginal rate); tax with loss carry-forward: used = min(max(EBIT, 0), NOL_{t-1});
  tax = (max(EBIT, 0) - used) x rate_t; NOL_t = NOL_{t-1} - used + max(-EBIT, 0)
* FCFF = EBIT - tax - (revenue_t - revenue_{t-1}) / sales-to-capital
* cost of capital r_t: flat to year H, then linear to the mature rate by year 10; discount factor
  DF_t = DF_{t-1} / (1 + r_t)
* terminal: revenue x (1 + g_T), EBIT at the target margin taxed at the marginal rate,
  reinvestment = g_T / ROC x after-tax EBIT, value = FCFF / (mature rate - g_T), discounted
  with DF_10
* operating assets = (1 - p_fail) x going concern + p_fail x (fraction x going concern);
  equity = operating assets + cash + IPO proceeds - debt
"""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference, Series

from gpuval.core.dcf_rules import (
    bridge_revenue_xl,
    coc_xl,
    distress_value_xl,
    equity_xl,
    growth_xl,
    margin_xl,
    nol_xl,
    operating_assets_xl,
    reinvestment_xl,
    tax_rate_xl,
    tax_xl,
    terminal_value_xl,
)
from gpuval.core.units import (
    LISTING_VALUE_LABEL_XL,
    listing_value_xl,
    per_share_xl,
    upside_xl,
)
from gpuval.workbook.sheets import peers
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "DCF"
BASE = 3  # column C: the base year
YEAR0 = 4  # column D: the start of the valuation, after the bridge years
LAST_YEAR = YEAR0 + 10  # column N
TERMINAL = LAST_YEAR + 1  # column O
HIGH = "tgt_dcf_high_growth_years"


def _c(key: str, column: str = "{c}") -> str:
    return column + "{r[" + key + "]}"


_T, _P = _c("t"), "{p}"
#: key, label, unit, start-column formula, year-t formula ({c} this column, {p} previous), format
ROWS = [
    ("t", "Year of the valuation", "year", "0", "={p}{r[t]}+1", "int"),
    ("growth", "Revenue growth", "fraction",  # a bridge: its yearly growth, shown at the start
     '=IF(N(tgt_dcf_bridge_years)>0,tgt_dcf_bridge_growth,"")',
     "=" + growth_xl(_T, "tgt_dcf_growth_y1", "tgt_dcf_growth_y2_5", "tgt_dcf_terminal_growth",
                     HIGH), "pct"),
    ("revenue", "Revenue", "USD",
     "=" + bridge_revenue_xl("C{r[revenue]}", "tgt_dcf_bridge_growth", "tgt_dcf_bridge_years"),
     "={p}{r[revenue]}*(1+{c}{r[growth]})", "usd_bn"),
    ("margin", "Operating margin", "fraction", "=tgt_dcf_operating_margin",
     "=" + margin_xl(_T, "tgt_dcf_operating_margin", "tgt_dcf_target_margin",
                     "tgt_dcf_convergence_year"), "pct"),
    ("ebit", "Operating income (EBIT)", "USD", None, "={c}{r[margin]}*{c}{r[revenue]}", "usd_bn"),
    ("tax_rate", "Tax rate", "fraction", None,
     "=" + tax_rate_xl(_T, "tgt_dcf_tax_rate", "tgt_dcf_marginal_tax_rate", HIGH), "pct"),
    ("tax", "Taxes", "USD", None, "=" + tax_xl(_c("ebit"), _c("nol", _P), _c("tax_rate")),
     "usd_bn"),
    ("nol", "Losses carried forward", "USD", "=tgt_dcf_nol",
     "=" + nol_xl(_c("ebit"), _c("nol", _P)), "usd_bn"),
    ("nopat", "After-tax operating income", "USD", None, "={c}{r[ebit]}-{c}{r[tax]}", "usd_bn"),
    ("reinvestment", "Reinvestment", "USD", None,
     "=" + reinvestment_xl(_c("revenue"), _c("revenue", _P), "tgt_dcf_sales_to_capital"),
     "usd_bn"),
    ("fcff", "Free cash flow to the firm", "USD", None, "={c}{r[nopat]}-{c}{r[reinvestment]}",
     "usd_bn"),
    ("coc", "Cost of capital", "fraction", None,
     "=" + coc_xl(_T, "tgt_dcf_coc", "tgt_dcf_mature_coc", HIGH), "pct"),
    ("df", "Cumulative discount factor", "", "1", "={p}{r[df]}/(1+{c}{r[coc]})", "factor"),
    ("pv", "Present value of FCFF", "USD", None, "={c}{r[fcff]}*{c}{r[df]}", "usd_bn"),
]  # fmt: skip
FIRST = 7
R = {key: FIRST + i for i, (key, *_rest) in enumerate(ROWS)}
SUMMARY = R["pv"] + 2


def _fiscal_year(offset: str) -> str:
    """A header: ``FY<base year + offset>``, or the offset alone without a fiscal year."""
    return (f'=IF(ISNUMBER(tgt_base_year),"FY"&(tgt_base_year+{offset}),'
            f'"Year "&({offset}))')  # fmt: skip


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Ten-year young-growth DCF of the target, in USD, by fiscal year "
                  "(base year: the latest full year; bridge years to the valuation).")  # fmt: skip
    h = FIRST - 1
    sheet.headers(h, ["", "Unit"])
    headers = {BASE: _fiscal_year("0") + '&" base"',
               YEAR0: _fiscal_year("tgt_dcf_bridge_years") + '&" start"'}  # fmt: skip
    headers |= {YEAR0 + t: _fiscal_year(f"tgt_dcf_bridge_years+{t}") for t in range(1, 11)}
    headers[TERMINAL] = '="Terminal"'
    for c, formula in headers.items():
        sheet.put(h, c, formula, "calc").style = "gv_header"
    sheet.widths({"A": 28, "B": 9} | {col(c): 10 for c in range(BASE, TERMINAL + 1)})  # one page
    sheet.freeze(f"C{FIRST}")
    sheet.put(R["revenue"], BASE, "=tgt_base_revenue", "calc", "usd_bn")
    # what the base revenue is: a guidance range's top reads as such, not as a reported figure
    base_is = sheet.put(3, 2, f'="Base revenue: "&{peers.BASE_REVENUE_IS_XL}', "calc")
    base_is.style = "gv_note"
    for key, label, unit, year0, template, fmt in ROWS:
        sheet.label(R[key], label, unit)
        if year0 is not None:
            value = int(year0) if year0.isdigit() else year0.format(r=R)
            sheet.put(R[key], YEAR0, value, "calc", fmt)
        for c in range(YEAR0 + 1, LAST_YEAR + 1):
            sheet.put(R[key], c, template.format(c=col(c), p=col(c - 1), r=R), "calc", fmt)
    m, n = col(LAST_YEAR), col(TERMINAL)
    terminal = {
        "revenue": f"={m}{R['revenue']}*(1+tgt_dcf_terminal_growth)",
        "margin": "=tgt_dcf_target_margin",
        "ebit": f"={n}{R['margin']}*{n}{R['revenue']}",
        "tax_rate": "=tgt_dcf_marginal_tax_rate",
        "tax": f"=MAX({n}{R['ebit']},0)*{n}{R['tax_rate']}",
        "nopat": f"={n}{R['ebit']}-{n}{R['tax']}",
        "reinvestment": f"=tgt_dcf_terminal_growth/tgt_dcf_terminal_roc*{n}{R['nopat']}",
        "fcff": f"={n}{R['nopat']}-{n}{R['reinvestment']}",
        "coc": "=tgt_dcf_mature_coc",
    }
    for key, formula in terminal.items():
        fmt = next(row[-1] for row in ROWS if row[0] == key)
        sheet.put(R[key], TERMINAL, formula, "calc", fmt)
    d0, d1 = col(YEAR0 + 1), col(LAST_YEAR)
    s = SUMMARY
    lines = [
        ("Sum of PV of FCFF, years 1-10", f"=SUM({d0}{R['pv']}:{d1}{R['pv']})", "usd_bn", None),
        ("Terminal value",
         "=" + terminal_value_xl(f"{n}{R['fcff']}", "tgt_dcf_mature_coc",
                                 "tgt_dcf_terminal_growth"), "usd_bn", None),
        ("PV of terminal value", f"=C{s + 1}*{m}{R['df']}", "usd_bn", None),
        ("Operating assets, going concern", f"=C{s}+C{s + 2}", "usd_bn", None),
        ("Probability of failure", "=tgt_dcf_prob_failure", "pct", None),
        ("Value if it fails",
         "=" + distress_value_xl(f"C{s + 3}", "0", "tgt_dcf_distress"), "usd_bn", None),
        ("Value of operating assets",
         "=" + operating_assets_xl(f"C{s + 3}", f"C{s + 4}", f"C{s + 5}"), "usd_bn", None),
        ("Cash (0 if none entered)", "=tgt_dcf_cash", "usd_bn", None),
        ("IPO proceeds (0 if none)", "=tgt_dcf_ipo_proceeds", "usd_bn", None),
        ("Debt (0 if none entered)", "=tgt_dcf_debt", "usd_bn", None),
        ("Equity value",
         "=" + equity_xl(f"C{s + 6}", f"C{s + 7}", f"C{s + 9}", ipo_proceeds=f"C{s + 8}"),
         "usd_bn", "out_dcf_equity_value"),
        ("Value per share (listing currency)",
         "=" + per_share_xl(f"C{s + 10}"), "price", "out_dcf_value_per_share"),
        (LISTING_VALUE_LABEL_XL, "=" + listing_value_xl(f"C{s + 10}"), "value", None),
        ("Upside vs market value", "=" + upside_xl(f"C{s + 10}", "tgt_mv_usd"), "pct",
         "out_dcf_upside"),
    ]  # fmt: skip
    sheet.section(s - 1, "Valuation")
    units = {"usd_bn": "USD", "pct": "fraction", "price": "listing", "value": "listing"}
    for i, (label, formula, fmt, name) in enumerate(lines):
        sheet.label(s + i, label, units[fmt])
        sheet.put(s + i, 3, formula, "output" if name else "calc", fmt, name)
    book.check(
        "DCF: going-concern value equals the sum of its discounted flows (parity)",
        f"ABS({TITLE}!C{s + 3}-(SUMPRODUCT({TITLE}!{d0}{R['fcff']}:{d1}{R['fcff']},"
        f"{TITLE}!{d0}{R['df']}:{d1}{R['df']})+{TITLE}!C{s + 2}))<=1E-9*ABS({TITLE}!C{s + 3})",
    )
    book.check("DCF: terminal growth is below the mature cost of capital",
               "tgt_dcf_terminal_growth<tgt_dcf_mature_coc")  # fmt: skip
    _chart(sheet)
    return sheet


def _chart(sheet: Sheet) -> None:
    bar = BarChart()
    bar.type = "col"
    bar.title = "Revenue and free cash flow by fiscal year"
    bar.y_axis.title = "USD"
    bar.x_axis.title = "Fiscal year"
    for key, title in (("revenue", "Revenue"), ("fcff", "Free cash flow")):
        values = Reference(sheet.ws, min_col=YEAR0 + 1, max_col=LAST_YEAR, min_row=R[key])
        bar.series.append(Series(values, title=title))
    bar.set_categories(Reference(sheet.ws, min_col=YEAR0 + 1, max_col=LAST_YEAR, min_row=FIRST - 1))
    bar.y_axis.number_format = sheet.book.style.fmt("money_axis")  # m, negatives (m)
    bar.x_axis.tickLblPos = "low"  # years below the plot, clear of negative bars
    bar.height, bar.width = 7.5, 18
    sheet.ws.add_chart(bar, f"E{SUMMARY}")
