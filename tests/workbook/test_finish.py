"""The finishing pass, read back from the saved package XML (what Excel and LibreOffice see)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from gpuval.workbook import finish
from gpuval.workbook.build import build

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = {"c": C, "m": M}
AXES = ("valAx", "catAx", "dateAx", "serAx")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = build(tmp_path_factory.mktemp("finish") / "x.xlsx")
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist()}


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _sheets(package: dict[str, bytes]) -> dict[str, tuple[int, etree._Element]]:
    """Sheet name -> (0-based position, worksheet XML)."""
    book = _xml(package["xl/workbook.xml"])
    rels = _xml(package["xl/_rels/workbook.xml.rels"])
    target = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for i, s in enumerate(book.findall("m:sheets/m:sheet", NS)):
        path = str(target[s.get(f"{{{R}}}id")]).lstrip("/")
        path = path if path.startswith("xl/") else f"xl/{path}"
        out[str(s.get("name"))] = (i, _xml(package[path]))
    return out


def _defined(package: dict[str, bytes], name: str) -> dict[int, str]:
    book = _xml(package["xl/workbook.xml"])
    return {
        int(d.get("localSheetId")): str(d.text)
        for d in book.findall("m:definedNames/m:definedName", NS)
        if d.get("name") == name
    }


def test_every_chart_axis_says_whether_it_is_shown(package: dict[str, bytes]) -> None:
    charts = [n for n in package if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) >= 5
    axes = 0
    for name in charts:
        for axis in _xml(package[name]).iter(*(f"{{{C}}}{a}" for a in AXES)):
            delete = axis.find("c:delete", NS)
            assert delete is not None, f"{name}: axis {axis.find('c:axId', NS).get('val')}"
            axes += 1
    assert axes >= 2 * len(charts)


def test_every_line_says_it_is_not_smoothed(package: dict[str, bytes]) -> None:
    """LibreOffice draws a line series without c:smooth as a curve (a flat price line bowed)."""
    lines = [ser for n in package if n.startswith("xl/charts/chart")
             for chart in _xml(package[n]).iter(f"{{{C}}}lineChart", f"{{{C}}}scatterChart")
             for ser in chart.iter(f"{{{C}}}ser")]  # fmt: skip
    assert len(lines) >= 5
    assert all(ser.find("c:smooth", NS) is not None for ser in lines)
    assert all(ser.find("c:smooth", NS).get("val") in ("0", "false") for ser in lines)


def test_scatter_charts_have_the_required_style(package: dict[str, bytes]) -> None:
    scatters = [
        s
        for n in package
        if n.startswith("xl/charts/chart")
        for s in _xml(package[n]).iter(f"{{{C}}}scatterChart")
    ]
    assert scatters, "the Peers sheet draws a scatter chart"
    for scatter in scatters:
        style = scatter.find("c:scatterStyle", NS)
        assert style is not None and style.get("val") in ("lineMarker", "marker")
        assert scatter[0] is style  # the schema puts it first


def test_every_sheet_prints_with_header_footer_and_a_print_area(package: dict[str, bytes]) -> None:
    areas = _defined(package, "_xlnm.Print_Area")
    for name, (i, ws) in _sheets(package).items():
        odd_header = ws.find("m:headerFooter/m:oddHeader", NS)
        odd_footer = ws.find("m:headerFooter/m:oddFooter", NS)
        assert odd_header is not None and "&A" in str(odd_header.text), name
        assert odd_footer is not None and "Page &P of &N" in str(odd_footer.text), name
        assert i in areas and re.search(r"!\$A\$1:\$[A-Z]+\$\d+$", areas[i]), name


def test_the_frozen_table_header_repeats_when_the_table_runs_over(
    package: dict[str, bytes],
) -> None:
    """The repeated row is the header the panes freeze below; Data (130 rows) and Sources run
    over many pages and repeat it; a sheet printing on one page, or one of stacked tables (the
    Monte Carlo percentiles above the histogram), repeats none."""
    titles = _defined(package, "_xlnm.Print_Titles")
    sheets = _sheets(package)
    for name, (i, ws) in sheets.items():
        rows = re.search(r"\$(\d+):\$\d+", titles.get(i, ""))
        if rows is None:  # no repeated rows (Peers repeats only its Company column)
            continue
        pane = ws.find("m:sheetViews/m:sheetView/m:pane", NS)
        assert pane is not None, f"{name} repeats a header but freezes no panes"
        frozen = int(re.sub(r"[A-Z]+", "", str(pane.get("topLeftCell"))))
        repeated = int(rows.group(1))
        assert repeated == frozen - 1, name
    for name in ("Data", "Sources"):
        assert re.search(r"\$4:\$4", titles[sheets[name][0]]), name
    for name in ("Contents", "Sensitivity", "Monte Carlo", "Implied"):
        assert sheets[name][0] not in titles, name


def test_model_check_is_coloured_by_conditional_format(package: dict[str, bytes]) -> None:
    sheets = _sheets(package)
    for name, (_, ws) in sheets.items():
        a3 = ws.find("m:sheetData/m:row/m:c[@r='A3']/m:f", NS)
        if a3 is None or "chk_master" not in str(a3.text):
            continue
        rules = ws.findall("m:conditionalFormatting[@sqref='A3']/m:cfRule/m:formula", NS)
        texts = [str(r.text) for r in rules]
        assert 'IFERROR(A3="Model check: OK",FALSE)' in texts, name
        assert 'NOT(IFERROR(A3="Model check: OK",FALSE))' in texts, name
    checks = sheets["Checks"][1]
    status = checks.findall("m:conditionalFormatting", NS)
    column = [c for c in status if str(c.get("sqref")).startswith("C")]
    assert column, "the Checks status column is coloured"
    first = str(column[0].get("sqref")).split(":")[0]
    assert {str(f.text) for f in column[0].iter(f"{{{M}}}formula")} == {
        f"AND(ISLOGICAL({first}),{first}=TRUE)",  # green
        f"IF(ISERROR({first}),TRUE,AND(ISLOGICAL({first}),{first}=FALSE))",  # red; blank plain
    }


def test_check_colours_are_green_and_red(package: dict[str, bytes]) -> None:
    dxfs = _xml(package["xl/styles.xml"]).findall("m:dxfs/m:dxf", NS)
    found = (d.find("m:fill/m:patternFill/m:bgColor", NS) for d in dxfs)
    fills = {str(f.get("rgb")) for f in found if f is not None}
    assert {finish.GOOD_FILL, finish.BAD_FILL} <= fills


def test_check_style_is_no_longer_bold_red(package: dict[str, bytes]) -> None:
    styles = _xml(package["xl/styles.xml"])
    named = {str(s.get("name")): int(s.get("xfId")) for s in styles.findall(".//m:cellStyle", NS)}
    xf = styles.findall("m:cellStyleXfs/m:xf", NS)[named["gv_check"]]
    font = styles.findall("m:fonts/m:font", NS)[int(xf.get("fontId"))]
    colour = font.find("m:color", NS)
    assert colour is None or colour.get("rgb") not in ("FFC00000", "FFFF0000")


# -- the functions on a small workbook --------------------------------------------------------


def _small() -> tuple[Workbook, ScatterChart, BarChart, LineChart]:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in range(1, 6):
        ws.append([r, r * r])
    scatter = ScatterChart()
    scatter.series.append(Series(Reference(ws, min_col=2, min_row=1, max_row=5)))
    bar, line = BarChart(), LineChart()
    bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=5))
    line.add_data(Reference(ws, min_col=1, min_row=1, max_row=5))
    line.y_axis.axId = 200
    line.y_axis.delete = True  # a secondary axis hidden on purpose
    bar += line
    ws.add_chart(scatter, "D2")
    ws.add_chart(bar, "D20")
    return wb, scatter, bar, line


def test_fix_charts_shows_unset_axes_and_keeps_hidden_ones() -> None:
    wb, scatter, bar, line = _small()
    # scatter x, y; bar x, y; line's own x and (hidden) y: five unset axes
    assert finish.fix_charts(wb) == 5
    assert scatter.scatterStyle == "lineMarker"
    assert scatter.x_axis.delete is False and bar.y_axis.delete is False
    assert line.y_axis.delete is True
    assert finish.fix_charts(wb) == 0  # idempotent


def test_pages_wide_grows_with_the_width() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.cell(1, 30, "x")
    for c in range(1, 31):
        ws.column_dimensions[get_column_letter(c)].width = 15
    # a column of 15 characters is 7 x 15 + 5 = 110 px; a page is 1045 px at 100 %, so
    # 1045 / 0.8 = 1306.25 px at the 80 % floor: 11 columns (1210 px) fit, 12 (1320) do not
    assert finish.pages_wide(ws, 11) == 1
    assert finish.pages_wide(ws, 12) == 2
    # 30 columns = 3300 px: 3300 / 1306.25 = 2.5 -> 3 pages
    assert finish.pages_wide(ws, 30) == 3
    # two 110-px label columns repeated: (3300 - 220) / (1306.25 - 220) = 2.8 -> 3 pages
    assert finish.pages_wide(ws, 30, titles=(1, 2)) == 3
    # at a 9-pt sheet's floor, 8 / 9: 1045 x 9 / 8 = 1175.6 px: 10 columns (1100) fit, 11 not
    assert finish.pages_wide(ws, 10, floor=8 / 9) == 1
    assert finish.pages_wide(ws, 11, floor=8 / 9) == 2
    ws.column_dimensions["L"].hidden = True  # a hidden column does not print: 11 x 110 again
    assert finish.pages_wide(ws, 12) == 1


def test_floor_scale_keeps_the_smallest_font_at_8_points() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B2"] = "ten", "nine"
    ws["A1"].font, ws["B2"].font = Font(sz=10), Font(sz=10)
    assert finish.floor_scale(ws, 2, 2) == pytest.approx(0.8)  # 8 / 10
    ws["B2"].font = Font(sz=9)
    assert finish.floor_scale(ws, 2, 2) == pytest.approx(8 / 9)
    ws["C3"].font = Font(sz=6)  # outside the print extent given: not counted
    assert finish.floor_scale(ws, 2, 2) == pytest.approx(8 / 9)
    ws["A1"].font = Font(sz=14)  # never above the 10-pt header's 8 / 10
    ws["B2"].font = Font(sz=12)
    assert finish.floor_scale(ws, 2, 2) == pytest.approx(0.8)


def test_print_extent_reaches_the_charts() -> None:
    wb, *_ = _small()
    ws = wb.active
    assert ws is not None
    # the 15 x 7.5 cm bar chart at D20: 15 cm = 567 px over 64 px default columns -> 9 columns,
    # D..L; 7.5 cm = 283 px over 20 px rows -> 15 rows, 20..34
    assert finish.print_extent(ws) == (12, 34)
    before = (set(ws.column_dimensions), set(ws.row_dimensions))
    finish.print_layout(ws, None)
    assert (set(ws.column_dimensions), set(ws.row_dimensions)) == before  # widths untouched
    assert ws.print_area == "'Sheet'!$A$1:$L$34"


def test_header_row_prefers_the_frozen_table() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    assert finish.header_row(ws, [8, 24, 35]) == 8
    ws.freeze_panes = "C25"
    assert finish.header_row(ws, [8, 24, 35]) == 24
    ws.freeze_panes = None
    ws["B12"].style = "Normal"
    assert finish.header_row(ws) is None


def test_ampersand_in_header_text_is_escaped(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "x"
    finish.set_headers(wb, None, "R&D")
    wb.save(tmp_path / "h.xlsx")
    xml = zipfile.ZipFile(tmp_path / "h.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "R&amp;&amp;D" in xml
