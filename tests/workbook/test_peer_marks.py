"""The marks on the Peers sheet, as LibreOffice draws them, for every combination of what a
market value and a revenue are: "≥" / "≤" before a lower / upper bound, "†" after a market value
at a past peak and after its P/S, italics on a revenue no company reported and on its P/S. The
expected P/S marks come from the core's rule (:func:`gpuval.core.multiples.ps_bound`), the
others from the descriptions' words, read by hand below; the drawn ones from the PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gpuval.core.multiples import ps_bound
from gpuval.pipeline.recalc import convert
from gpuval.workbook.build import build
from gpuval.workbook.sheets.peers import FIRST, TABLE_HEADER_ROW

#: What each row's market value is: none, a bound either way, a peak, a bounded peak.
MARKETS = ["", "market value, lower bound (over)", "market value, upper bound (up to)",
           "peak market value", "peak market value, lower bound (over)",
           "peak market value, upper bound", "market value, lower bound"]  # fmt: skip
#: What a revenue is: a point figure, an upper bound, a lower bound.
POINTS = ["FY2025 reported", "FY2025 estimate", "H1 2025 reported (about)", "order backlog (about)"]
UPPER = ["FY2025 guidance, upper bound", "FY2025 range, upper bound"]
LOWER = ["FY2025 guidance, lower bound", "FY2025 range, lower bound"]


def _revenues(i: int) -> list[str]:
    """Row ``i``'s four revenues: a point, an upper and a lower bound and one more, turned by
    ``i`` across the bases, so that each market meets each kind of revenue (all 18 cases of
    ``ps_bound``) and each basis sees every kind."""
    kinds = [POINTS[i % 4], UPPER[i % 2], LOWER[i % 2], [*POINTS, *UPPER, *LOWER][i % 8]]
    return kinds[-(i % 4) :] + kinds[: -(i % 4)] if i % 4 else kinds


DESCRIPTIONS = ["Full-year figure is", "Half-year figure is", "Forward figure is",
                "Backlog figure is"]  # fmt: skip
#: Each basis' figure: 100 bn of market value over 1, 1 (0.5 x 2), 2 and 3 (x 12 / 12) bn.
MONEY = {"Stated market value (listing)": 100e9, "Full-year revenue": 1e9,
         "Half-year revenue": 0.5e9, "Forward revenue": 2e9, "Order backlog": 3e9,
         "Backlog delivered over (months)": 12}  # fmt: skip
SHOWN = {"Market value (USD)": "100.0 bn", "Full-year revenue (USD)": "1.0 bn",
         "Run-rate revenue (USD, H1 x 2)": "1.0 bn", "Forward revenue (USD)": "2.0 bn",
         "Backlog revenue (USD, annualised)": "3.0 bn", "P/S full year": "100.0x",
         "P/S run-rate": "100.0x", "P/S forward": "50.0x", "P/S backlog": "33.3x"}  # fmt: skip


def _before(text: str) -> str:
    """A figure described so is at least ("lower bound") or at most ("upper bound") it."""
    return "≥" if "lower bound" in text else "≤" if "upper bound" in text else ""


def _expected(market: str, revenues: list[str]) -> list[tuple[str, bool]]:
    """(text, italic) of the row's shown market value, four revenues and four P/S."""
    peak = "†" if "peak" in market else ""
    cells = [(_before(market) + SHOWN["Market value (USD)"] + peak, False)]
    texts = list(SHOWN.values())
    cells += [(_before(r) + t, bool(re.search("guidance|estimate", r)))
              for r, t in zip(revenues, texts[1:5], strict=True)]  # fmt: skip
    for revenue, text in zip(revenues, texts[5:], strict=True):
        bound = ps_bound(market, revenue).removeprefix("at a peak, not today: ")
        mark = {"lower bound": "≥", "upper bound": "≤"}.get(bound, "")
        cells.append((mark + text + peak, bool(re.search("guidance|estimate", revenue))))
    return cells


@pytest.mark.libreoffice
def test_every_combination_is_marked_as_the_core_reads_it(tmp_path: Path) -> None:
    wb = load_workbook(build(tmp_path / "biren.xlsx"))
    ws = wb["Peers"]
    column = {c.value: c.column for c in ws[TABLE_HEADER_ROW]}
    expected, cases = {}, set()
    for i, market in enumerate(MARKETS):
        r = FIRST + i
        for header in ("Price (listing)", "Shares"):
            ws.cell(r, column[header]).value = None
        for header in ("Listing ccy", "Reporting ccy"):
            ws.cell(r, column[header]).value = "USD"
        for header, value in MONEY.items():
            ws.cell(r, column[header]).value = value
        ws.cell(r, column["Market figure is"]).value = market
        revenues = _revenues(i)
        for header, revenue in zip(DESCRIPTIONS, revenues, strict=True):
            ws.cell(r, column[header]).value = revenue
        expected[ws.cell(r, column["Id"]).value] = _expected(market, revenues)
        cases |= {(_before(market), _before(revenue), "peak" in market) for revenue in revenues}
    assert len(cases) == 18  # each market direction, revenue direction, peak or not
    wb.save(tmp_path / "marks.xlsx")

    pdf = convert(tmp_path / "marks.xlsx", "pdf", tmp_path)
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")  # fmt: skip
    page = 1 + next(i for i, p in enumerate(pages) if p.startswith("Peers"))
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", "-f", str(page), "-l",
                          str(page), str(pdf)], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    lines: dict[int, list[tuple[int, str, bool]]] = {}
    for top, left, body in re.findall(r'<text top="(\d+)" left="(\d+)"[^>]*>(.*?)</text>', xml):
        text = re.sub("<[^>]+>", "", body).replace("&amp;", "&")
        lines.setdefault(int(top), []).append((int(left), text, "<i>" in body))
    drawn = {}
    for cells in lines.values():
        cells.sort()
        if cells[0][1] in expected:  # a company's line: its figures, left to right (a text
            # run may hold the next cell's words too: "≥33.3x the target")
            money = re.compile(r"[≥≤]?\d[\d,.]*(?: bn| m|x)†?")
            drawn[cells[0][1]] = [(m, i) for _, t, i in cells for m in money.findall(t)]
    assert set(drawn) == set(expected)
    for company, cells in expected.items():
        assert drawn[company] == cells, company
