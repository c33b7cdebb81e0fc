"""Navigation and the print package: Contents links, sheet order, headers and footers, frozen
panes, collapsed helper columns, the Sensitivity shading and the Monte Carlo histogram markers;
the rendered PDF (LibreOffice) for the print scale and the Monte Carlo pages."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from gpuval.workbook import finish
from gpuval.workbook.build import build
from gpuval.workbook.sheets import contents, montecarlo, sensitivity
from gpuval.workbook.sheets.peer_charts import CHART_COLUMNS, SLOT_COLUMNS
from gpuval.workbook.sheets.peers import TABLE_HEADER_ROW
from gpuval.workbook.sheets.scenarios import R as SCENARIO_ROWS


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory):
    return load_workbook(build(tmp_path_factory.mktemp("nav") / "biren.xlsx"))


def test_contents_links_to_every_sheet(wb) -> None:
    """Each link goes to a defined name of the sheet's A1 (which a rename follows)."""
    ws = wb[contents.TITLE]
    links = {c.value: c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink}
    for title in wb.sheetnames:
        if title not in ("Cover", contents.TITLE):
            name = "nav_" + title.lower().replace(" ", "_")  # nav_monte_carlo
            assert links.get(title) == name, title
            assert list(wb.defined_names[name].destinations) == [(title, "$A$1")], title


@pytest.mark.libreoffice
def test_contents_links_follow_sheets_renamed_in_libreoffice(tmp_path: Path) -> None:
    """Two sheets renamed in LibreOffice: every Contents link still resolves, in LibreOffice's
    own PDF an internal destination (a link to a sheet name that is gone exports as an empty
    URI, which is how the links broke before they went to names); the collapsed columns stay
    collapsed."""
    from apps.libreoffice import RenameSheet, edit_in_libreoffice, require_uno
    from gpuval.pipeline.recalc import convert

    require_uno()
    renames = [RenameSheet("Valuation", "Val"), RenameSheet("Monte Carlo", "MC draws")]
    built = build(tmp_path / "biren.xlsx")
    path = edit_in_libreoffice(built, tmp_path / "renamed.xlsx", renames)
    wb = load_workbook(path)
    assert list(wb.defined_names["nav_monte_carlo"].destinations) == [("MC draws", "$A$1")]
    pdf = convert(path, "pdf", tmp_path).read_bytes()
    listed = sum(1 for row in wb[contents.TITLE].iter_rows() for c in row if c.hyperlink)
    assert pdf.count(b"/URI") == 0
    assert pdf.count(b"/Subtype/Link") + pdf.count(b"/Subtype /Link") >= listed
    # LibreOffice keeps Peers' collapsed columns and bound marks: its copy still prints Peers
    # on one page, Moore Threads' floor P/S (300 / 14.98) marked
    peers = wb["Peers"]
    assert _hidden(peers, 7) and not _hidden(peers, 2)  # Shares collapsed, Company shown
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "renamed.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    (page,) = [p for p in text.split("\f") if re.match(r"\s*Peers\s", p)]
    assert "≥200.3x" in page


def test_valuation_first_appendix_last(wb) -> None:
    names = wb.sheetnames
    assert names[:3] == ["Cover", "Contents", "Valuation"]
    assert names[-2:] == ["Data", "Sources"]
    assert names.index("Monte Carlo") < names.index("Inputs") < names.index("Checks")


def test_every_header_and_footer(wb) -> None:
    # Biren's as-of date: the oldest market figure used, its own price of 2026-01-05 (no peer of
    # its fiscal year; "x% of NVIDIA" weight 0)
    asof = "Oldest market figure 2026-01-05"
    for ws in wb.worksheets:
        head, foot = ws.oddHeader, ws.oddFooter
        text = " ".join(str(s.text) for s in (head.left, head.center, head.right, foot.center))
        assert "&A" in text and asof in text and "dataset 2026.02.05" in text, ws.title
        assert "&P" in str(foot.right.text) and "&N" in str(foot.right.text), ws.title
        assert ("Appendix" in str(head.left.text)) == (ws.title in ("Data", "Sources")), ws.title
        # a portrait page (Checks) is too narrow for three sections: the version at the foot
        portrait = ws.page_setup.orientation == "portrait"
        assert (head.center.text is None, foot.center.text is not None) == (portrait,) * 2


def test_header_text_for_refresh() -> None:
    left, centre, right = finish.header_text(dt.date(2026, 1, 5), "v1", appendix=True)
    assert (left, centre) == ("Appendix: &A", "gpuval · dataset v1")
    assert right.startswith("Oldest market figure 2026-01-05") and "&D" in right
    assert finish.header_text(None, "v1")[2].startswith("Oldest market figure n/a")


def test_panes_freeze_just_below_the_header(wb) -> None:
    # (sheet, frozen cell): the row below its table header; stacked tables below the title block
    expected = {"Contents": "A5", "Scenarios": "C6", "DCF": "C7", "Peers": "C6",
                "Peer statistics": "A4",
                "Inputs": "C5", "Assumptions": "D6", "Checks": "A5", "Data": "B5",
                "Sources": "B5", "Implied": "A4", "Sensitivity": "A4",
                "Monte Carlo": "A4"}  # fmt: skip
    for title, cell in expected.items():
        assert wb[title].freeze_panes == cell, title


def _hidden(ws, index: int) -> bool:
    for dims in ws.column_dimensions.values():
        if dims.min and dims.max and dims.min <= index <= dims.max:
            return bool(dims.hidden) and dims.outline_level == 1
    return False


def test_helper_columns_collapsed(wb) -> None:
    implied = wb["Implied"]
    assert all(_hidden(implied, c) for c in range(7, 38))  # G:AK, the year-by-year DCF
    assert not _hidden(implied, 6)
    # Peers: the comparables in USD shown (and printed one page wide), every other column of
    # the table (the figures as the sources give them, what each is, the exchange rates, the
    # statistics' and the charts' workings) collapsed
    peers = wb["Peers"]
    header = [c.value for c in peers[TABLE_HEADER_ROW]]
    shown = [h for i, h in enumerate(header, 1) if h is not None and not _hidden(peers, i)]
    assert shown == ["Id", "Company", "Venue", "Listing ccy", "Price (listing)",
                     "Market value (USD)", "Full-year revenue (USD)",
                     "Run-rate revenue (USD, H1 x 2)", "Forward revenue (USD)",
                     "Backlog revenue (USD, annualised)", "P/S full year", "P/S run-rate",
                     "P/S forward", "P/S backlog", "Statistics: counted, or why not"]  # fmt: skip
    for title in [*CHART_COLUMNS, "Shares", "Full-year figure is", "USD per listing unit"]:
        assert _hidden(peers, header.index(title) + 1), title
    stats = wb["Peer statistics"]  # the charts' slot columns, right of the printed table
    slots = {c.value: c.column for row in stats.iter_rows() for c in row if c.value in SLOT_COLUMNS}
    assert set(slots) == set(SLOT_COLUMNS)
    assert all(_hidden(stats, c) for c in slots.values())
    assert not any(_hidden(stats, c) for c in range(1, min(slots.values())))
    # Scenarios: the per-share outputs, which the next row repeats (or, without a share count,
    # replaces by the equity value), collapsed; that row shown
    scenarios = wb["Scenarios"]
    assert scenarios.cell(SCENARIO_ROWS["per_share"], 1).value.startswith("Value per share")
    per_share = scenarios.row_dimensions[SCENARIO_ROWS["per_share"]]
    assert (per_share.hidden, per_share.outline_level) == (True, 1)
    assert not scenarios.row_dimensions[SCENARIO_ROWS["listing"]].hidden
    # each declares its deepest groups in sheetFormatPr, from which Excel sizes the outline bars
    # (openpyxl alone writes neither level)
    assert (implied.sheet_format.outlineLevelRow, implied.sheet_format.outlineLevelCol) == (1, 1)
    assert (peers.sheet_format.outlineLevelCol, scenarios.sheet_format.outlineLevelRow) == (1, 1)
    assert wb["Valuation"].sheet_format.outlineLevelRow is None
    # and the column right of (the row below) each collapsed group is marked collapsed, where
    # Excel reads the state of the group's button
    assert all(peers.column_dimensions[c].collapsed for c in ("F", "Y", "AM", "AW"))
    assert not peers.column_dimensions["Z"].collapsed
    assert implied.column_dimensions["AL"].collapsed
    assert scenarios.row_dimensions[SCENARIO_ROWS["per_share"] + 1].collapsed


def test_sensitivity_shaded_against_the_price_base_boxed(wb) -> None:
    ws = wb[sensitivity.TITLE]
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    for top in sensitivity.GRID_TOP.values():
        grid = f"C{top + 2}:G{top + 6}"
        ops = {r.operator for ref, r in rules if ref == grid and r.formula == ["tgt_now"]}
        assert ops == {"greaterThanOrEqual", "lessThan"}, grid
        base = ws.cell(top + 4, 5)  # the centre of the 5 x 5 grid: Base row, Base column
        assert base.border.top.style == "thick" and base.border.left.style == "thick"
        assert "\\" not in str(ws.cell(top + 1, 1).value)  # the corner label is words


def test_histogram_title_and_markers(wb) -> None:
    ws = wb[montecarlo.TITLE]
    (chart,) = ws._charts
    title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    assert str(montecarlo.SEED) not in title
    names = [s.tx.strRef.f.replace("$", "") for s in chart.series]
    top = montecarlo.HIST_TOP + 1
    assert names[1:] == [f"'Monte Carlo'!E{top}", f"'Monte Carlo'!F{top}"]
    assert ws.cell(top, 5).value == "Marker: today"
    assert "tgt_now" in ws.cell(top + 1, 5).value and "mc_p50" in ws.cell(top + 1, 6).value
    assert chart.overlap == 100
    assert montecarlo.HIST_TOP - 1 in {b.id for b in ws.row_breaks.brk}  # its own page


def _chart_pages(ws) -> None:
    """Every chart's rows lie between two manual row breaks it does not cross."""
    breaks = sorted(int(b.id) for b in ws.row_breaks.brk)
    for chart in ws._charts:
        top = finish._anchor_cell(chart)[1]
        bottom = finish._chart_end(ws, chart)[1] - 1
        assert not [b for b in breaks if top <= b < bottom], (ws.title, top, bottom, breaks)


def test_no_manual_break_cuts_a_chart(wb) -> None:
    for ws in wb.worksheets:
        _chart_pages(ws)


def _page_scales(pdf: Path) -> list[tuple[str, float]]:
    """(sheet, print scale) of every page of a rendered workbook, measured: the height of the
    header's first word (the sheet's name, 10 pt) over its height on the Contents page, which
    prints at 100 %."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    word = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                      r"([^<]*)</word>\s*<word[^>]*>([^<]*)<")  # fmt: skip
    firsts = []
    for page in html.split("<page ")[1:]:
        top, bottom, first, second = word.search(page).groups()  # type: ignore[union-attr]
        sheet = second if first == "Appendix:" else first
        firsts.append((sheet, float(bottom) - float(top)))
    full = next(h for sheet, h in firsts if sheet == "Contents")
    return [(sheet, h / full) for sheet, h in firsts]


@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["biren", "metax"])
def test_nothing_prints_below_8_points(target: str, tmp_path: Path) -> None:
    """LibreOffice's own print scale, read off the PDF, never under 80 %, and no cell's font
    under 10 pt: 10 pt x 0.8 = 8 pt. Each sheet is one page wide (Peers: its shown columns),
    so its pages scale alike; Peers with every column shown prints on more pages, no smaller."""
    from gpuval.pipeline.recalc import convert

    match = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout
    assert "Carlito" in match or "Calibri" in match, (
        f"LibreOffice draws Calibri as {match.strip()!r}, whose wider letters shrink every page: "
        "install Calibri's metric twin Carlito (Debian: fonts-crosextra-carlito)"
    )
    built = build(tmp_path / f"{target}.xlsx", target=target)
    scales = _page_scales(convert(built, "pdf", tmp_path))
    assert [s for s, _ in scales][:3] == ["Cover", "Contents", "Valuation"]
    low = [(sheet, round(scale, 3)) for sheet, scale in scales if scale < 0.8 - 0.005]
    assert not low, low
    wb = load_workbook(built)
    for ws in wb.worksheets:
        assert finish.smallest_font(ws, *finish.used_extent(ws)) >= 10, ws.title
        assert ws.page_setup.fitToWidth == 1, ws.title
    # Peers' collapsed columns, once shown (every + clicked), print on more pages at the same
    # scale, its id and company repeated on each, not on one page at a quarter of it
    peers = wb["Peers"]
    assert peers.print_title_cols == "$A:$B"
    for dims in peers.column_dimensions.values():
        dims.hidden = dims.collapsed = False
    wb.save(tmp_path / "shown.xlsx")
    shown = [s for sheet, s in _page_scales(convert(tmp_path / "shown.xlsx", "pdf", tmp_path))
             if sheet == "Peers"]  # fmt: skip
    assert len(shown) > 1 and min(shown) >= 0.8 - 0.005, shown


@pytest.mark.libreoffice
def test_rendered_pdf(tmp_path: Path) -> None:
    from gpuval.pipeline.recalc import convert

    pdf = convert(build(tmp_path / "biren.xlsx"), "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    mc = [p for p in text.split("\f") if p.lstrip().startswith("Monte Carlo")]
    header = re.compile(r"^\s*Percentile\s{2,}\S", re.MULTILINE)  # "Percentile   Value ..."
    assert sum(len(header.findall(p)) for p in mc) == 1  # the percentile header, once
    assert any("Working table" in p and not header.search(p) for p in mc)
    # Peers: the table alone, on one page, its shown columns to the last (the reason a company
    # is or is not counted), and nothing below the last company but the footer (the target's
    # figures and the statistics, on Peer statistics, had printed their units and titles' ends
    # on every page)
    peers = [p for p in text.split("\f") if re.match(r"\s*Peers\s", p)]
    assert len(peers) == 1 and "not in China statistics" in peers[0]
    # Checks: its 28 checks and the master check on one portrait page
    (checks,) = [p for p in text.split("\f") if re.match(r"\s*Checks\s", p)]
    assert re.search(r"Master check\s+TRUE", checks)
    for page in peers:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert all(any(re.match(rf"{i}\s+{n}\b", line) for line in lines) for i, n in COMPANIES)
        # the bounds and the peak marked (conditional number formats, drawn by LibreOffice):
        # Moore Threads "over CNY 300 bn" at 7.0 CNY per USD, >=42.9 bn; FY2025 revenue guidance
        # of at most 14.98 yi, <=214.0 m; 300 / 14.98 = 200.3x, a floor. MetaX's "over 300 bn"
        # is its December peak, and so is its 300 / 19.8 = 151.5x. NVIDIA's figures are points:
        # 4,890 / 120 = 40.75x, on the rounding boundary (its price x the share count derived
        # from price and market value lands a float step either side of 4.89 tn)
        rows = {line.split()[0]: line.split() for line in lines}
        assert {"≥42.9", "≤214.0", "≥200.3x"} <= set(rows["moore_threads"])
        assert {"≥42.9", "bn†", "≤282.9", "≥151.5x†"} <= set(rows["metax"])
        assert "4,890.0" in rows["nvidia"] and {"40.7x", "40.8x"} & set(rows["nvidia"])
        assert not re.search("[≥≤†]", " ".join(rows["nvidia"]))
        below = lines[next(i for i, line in enumerate(lines) if line.startswith("nvidia")) + 1 :]
        assert len(below) == 1 and below[0].startswith("biren.xlsx"), below  # the footer
    # in italics, read off the PDF's fonts: the revenues no company reported and their P/S:
    # Moore Threads' and MetaX's FY2025 guidance, Kunlunxin's FY2025 estimate (Biren's FY2024
    # revenue, 48.1 m, and its P/S are reported; NVIDIA's are derived from stated figures)
    page = 1 + next(i for i, p in enumerate(text.split("\f")) if re.match(r"\s*Peers\s", p))
    xml = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-q", "-stdout", "-f", str(page), "-l", str(page), str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    italic = set(re.findall(r"<i>([^<]*\d[^<]*)</i>", xml))  # fmt: skip
    assert italic == {"≤214.0 m", "≥200.3x", "≤282.9 m", "≥151.5x†", "500.0 m"}, italic


COMPANIES = [("biren", "Biren Technology"), ("moore_threads", "Moore Threads"), ("metax", "MetaX"),
             ("cambricon", "Cambricon"), ("kunlunxin", "Kunlunxin"),
             ("iluvatar_corex", "Iluvatar CoreX"), ("nvidia", "NVIDIA")]  # fmt: skip


def test_print_area_excludes_working_rows(wb) -> None:
    ws = wb["Implied"]
    area = str(ws.print_area).split("!")[-1].replace("$", "")
    assert range_boundaries(area)[2] == 6  # A:F, the bisection detail columns not printed
    hidden = [r for r, d in ws.row_dimensions.items() if d.hidden]
    assert hidden and min(hidden) > 17  # the bisection steps collapsed, the bracket shown
