"""The UDF working copy (``gpuval build --udf``): an ``xlwings.conf`` sheet pointing xlwings at
``gpuval.excel.udfs``, and a "UDF check" sheet showing each ``GPUVAL_*`` function beside the
workbook's native formula for the same quantity and their difference.

The distributed workbook never contains UDF calls: recipients without the add-in would see
#NAME?. ``gpuval publish`` freezes UDF cells to their values from the core.
"""

from __future__ import annotations

from gpuval.workbook.sheets import peers, scenarios
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "UDF check"
CONF = "xlwings.conf"

_S = "Scenarios!$D${}"  # Base column of the Scenarios sheet


def _scenario_args(fx: str = "tgt_fx", price: bool = True) -> str:
    """The Base scenario's arguments after ``share`` (or ``market_value``): its failure value as
    ``distress_fraction``, the last argument, with ``distress_value`` 0 (and a blank price)."""
    r = scenarios.R
    cells = [_S.format(r[k]) for k in ("tam", "margin", "exit_pe", "coe", "years")]
    middle = [_S.format(r["prob_success"]), "0", _S.format(r["dilution"]), fx]
    last = ['"pe"', _S.format(r["fail_fraction"])]
    return ",".join([*cells, "tgt_shares", *middle, *([""] if price else []), *last])


def rows(biren_row: int, moore_row: int, revenue_row: int) -> list[tuple[str, str, str]]:
    """(what, UDF formula, native formula) pairs."""
    share = _S.format(scenarios.R["share"])

    def at(column: int, row: int) -> str:
        return f"Peers!${col(column)}${row}"

    mv, rev, fx = peers._K["Market value (USD)"], peers._C["revenue_fy"], peers._K[
        "USD per reporting unit"]  # fmt: skip
    backlog, months = peers._C["backlog"], peers._C["backlog_months"]
    return [
        ("P/S on full-year revenue (Moore Threads)",
         f"=GPUVAL_PS({at(mv, moore_row)},{at(rev, moore_row)},{at(fx, moore_row)})",
         f"={at(peers._K['P/S full year'], moore_row)}"),
        ("Backlog-implied forward P/S (Biren)",
         f"=GPUVAL_PS_BACKLOG({at(mv, biren_row)},{at(backlog, biren_row)},"
         f"{at(months, biren_row)},{at(fx, biren_row)})",
         f"={at(peers._K['P/S backlog'], biren_row)}"),
        ("TAM scenario equity value, Base (USD)",
         f"=GPUVAL_TAM_VALUE({share},{_scenario_args()})", f"={_S.format(scenarios.R['value'])}"),
        ("TAM scenario value per share, Base",
         f"=GPUVAL_TAM_PER_SHARE({share},{_scenario_args()})", "=out_value_per_share_base"),
        ("Market-implied share, Base",
         f"=GPUVAL_IMPLIED_SHARE(tgt_mv_usd,{_scenario_args('1', price=False)})",
         "=out_implied_share"),
        ('"x% of NVIDIA" per share',
         "=GPUVAL_NVIDIA_SHARE_PER_SHARE(in_nvidia_fraction,nvidia_market_value,tgt_shares,"
         "tgt_fx)", "=out_nvidia_share_value"),
        ("DCF value per share (two-column assumptions range below)",
         f'=GPUVAL_DCF_TABLE($A${TABLE_TOP + 1}:$B${TABLE_TOP + len(DCF_TABLE)},'
         '"value_per_share")', "=out_dcf_value_per_share"),
        ("FX: USD per HKD (dataset default)", '=GPUVAL_FX("HKD","USD")', "=in_fx_usd_per_hkd"),
        ("Biren 2024 revenue (dataset)",
         '=GPUVAL_DATA("biren","revenue",,"biren.revenue.2024")', f"=Data!$D${revenue_row}"),
    ]  # fmt: skip


DCF_TABLE = [
    ("revenue", "=tgt_base_revenue"), ("growth_y1", "=tgt_dcf_growth_y1"),
    ("growth_y2_5", "=tgt_dcf_growth_y2_5"), ("terminal_growth", "=tgt_dcf_terminal_growth"),
    ("operating_margin", "=tgt_dcf_operating_margin"), ("target_margin", "=tgt_dcf_target_margin"),
    ("margin_convergence_year", "=tgt_dcf_convergence_year"),
    ("high_growth_years", "=tgt_dcf_high_growth_years"),
    ("sales_to_capital", "=tgt_dcf_sales_to_capital"), ("tax_rate", "=tgt_dcf_tax_rate"),
    ("marginal_tax_rate", "=tgt_dcf_marginal_tax_rate"),
    ("nol", "=tgt_dcf_nol"), ("cost_of_capital", "=tgt_dcf_coc"),
    ("mature_cost_of_capital", "=tgt_dcf_mature_coc"), ("terminal_roc", "=tgt_dcf_terminal_roc"),
    ("prob_failure", "=tgt_dcf_prob_failure"), ("distress_fraction", "=tgt_dcf_distress"),
    ("cash", "=tgt_dcf_cash"), ("ipo_proceeds", "=tgt_dcf_ipo_proceeds"),
    ("debt", "=tgt_dcf_debt"), ("bridge_years", "=tgt_dcf_bridge_years"),
    ("bridge_growth", "=tgt_dcf_bridge_growth"), ("shares_outstanding", "=tgt_shares"),
    ("fx", "=tgt_fx"),
]  # fmt: skip
FIRST = 5
TABLE_TOP = 19  # the DCF assumptions' section row


def write(book: Book, peer_ids: list[str]) -> None:
    conf = book.wb.create_sheet(CONF)
    conf["A1"], conf["B1"] = "UDF Modules", "gpuval.excel.udfs"
    sheet = Sheet(book, TITLE, "Each GPUVAL_ function beside the native formula for the same "
                  "quantity (needs the xlwings add-in; LibreOffice shows #NAME?).")  # fmt: skip
    sheet.widths({"A": 52, "B": 18, "C": 18, "D": 14})
    sheet.headers(FIRST - 1, ["Quantity", "UDF", "Native formula", "UDF - native"])
    biren = peers.FIRST + peer_ids.index("biren")
    moore = peers.FIRST + peer_ids.index("moore_threads")
    ids = list(book.dataset.records)
    revenue = 5 + ids.index("biren.revenue.2024")  # the Data sheet lists records from row 5
    for i, (what, udf, native) in enumerate(rows(biren, moore, revenue)):
        r = FIRST + i
        sheet.put(r, 1, what, "label")
        sheet.put(r, 2, udf, "calc", "number")
        sheet.put(r, 3, native, "link", "number")
        sheet.put(r, 4, f'=IF(ISNUMBER(C{r}),B{r}-C{r},"n/a")', "calc", "number")
    top = TABLE_TOP
    sheet.section(top, "DCF assumptions as a two-column range (GPUVAL_DCF_TABLE)")
    for i, (name, formula) in enumerate(DCF_TABLE):
        sheet.put(top + 1 + i, 1, name, "label")
        sheet.put(top + 1 + i, 2, formula, "link", "number")
