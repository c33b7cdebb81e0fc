"""Contents: every sheet of the workbook, grouped, with a one-line description and an internal
hyperlink to the defined name of the sheet's cell A1 (``nav_monte_carlo``, :func:`nav_name`): a
spreadsheet application renames a sheet in its names, never in a hyperlink's location, so a link
to ``'Monte Carlo'!A1`` would break when an analyst renames the sheet. Valuation sheets come
first, then the inputs, the checks and the appendix (the sourced data and the working tables);
:data:`ORDER` is the workbook's sheet order.
"""

from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.worksheet.hyperlink import Hyperlink

from gpuval.workbook.sheets.base import Book, Sheet

TITLE = "Contents"
GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Valuation", [
        ("Valuation", "Each method's low, mid and high against the market figure on Peers."),
        ("Scenarios", "Bear / Base / Bull: 2029 market share to value, probability-weighted."),
        ("DCF", "Ten-year young-growth DCF of the target, in USD, by fiscal year."),
        ("Peers", "Comparable companies in USD, P/S on each basis; bounds marked."),
        ("Peer statistics", "Peer percentiles, implied value, what each figure is, venue gap."),
        ("Implied", "The 2029 share and DCF growth that the market value on Peers implies."),
        ("Sensitivity", "Two-way grids of the Base value, shaded against the figure on Peers."),
        ("Monte Carlo", "Joint draws of the scenario inputs: percentiles and histogram."),
    ]),
    ("Inputs", [
        ("Inputs", "The target, FX, methods and every general input, with its source."),
        ("Assumptions", "Each company's own scenario and DCF assumptions."),
    ]),
    ("Checks", [
        ("Checks", "Every model check and the master check shown on each sheet."),
    ]),
    ("Appendix", [
        ("Data", "Every record of the dataset, values in plain units."),
        ("Sources", "Each source sentence, its records and the cells that use them."),
        ("UDF check", "Working table: each GPUVAL_ function beside its native formula."),
    ]),
]  # fmt: skip
"""(group, [(sheet, description)]) in print order."""
APPENDIX = [title for group, sheets in GROUPS if group == "Appendix" for title, _ in sheets]
ORDER = ["Cover", TITLE, *(title for _, sheets in GROUPS for title, _ in sheets), "xlwings.conf"]
"""The workbook's sheet order."""
FIRST = 5
"""First row of the listing (row 4 is its header)."""


NAV = "nav_"
"""Prefix of the names the Contents links go to."""


def nav_name(title: str) -> str:
    """The defined name of a sheet's cell A1, the Contents link's location: ``nav_monte_carlo``."""
    return NAV + "_".join(title.lower().split())


def write(book: Book) -> Sheet:
    """The listing of the sheets the workbook holds (a group's absent sheets are left out)."""
    sheet = Sheet(book, TITLE, "Every sheet, in print order; click a name to go to it.")
    sheet.widths({"A": 22, "B": 90})
    sheet.headers(FIRST - 1, ["Sheet", "What it holds"])
    r = FIRST
    present = set(book.wb.sheetnames) | {TITLE}
    for group, sheets in GROUPS:
        shown = [(title, text) for title, text in sheets if title in present]
        if not shown:
            continue
        sheet.section(r, group)
        r += 1
        for title, text in shown:
            cell = sheet.put(r, 1, title, "label")
            book.define(nav_name(title), title, "$A$1")
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=nav_name(title), display=title)
            cell.font = Font(name="Calibri", size=10, color="FF0563C1", underline="single")
            sheet.put(r, 2, text, "label")
            r += 1
    sheet.freeze(f"A{FIRST}")
    return sheet
