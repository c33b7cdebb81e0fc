"""Presentation standards: money scaled to bn or m (a small company keeps its digits), negatives
in parentheses, % and currency codes in unit columns, company names (not ids) wherever a reader
sees an entity, and articles cited by publisher, title and date with links to the cells that use
each sentence."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gpuval.data.dataset import load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.recalc import convert
from gpuval.workbook.build import build, build_workbook
from gpuval.workbook.sheets.base import Book, Sheet
from gpuval.workbook.sheets.reference import SOURCE_HEADERS, link_location
from gpuval.workbook.template import load_template
from workbook_helpers import named_cell

RECORD_ID = re.compile(r"\b[a-z_]+\.[\w.\-]+")
MODEL_SHEETS = ["Inputs", "Assumptions", "Valuation", "Scenarios", "Peers", "Peer statistics",
                "DCF", "Implied", "Sensitivity", "Monte Carlo"]  # fmt: skip


@pytest.fixture(scope="module")
def book() -> Any:
    return build_workbook(target="moore_threads")


def _seeds() -> Path:
    from conftest import seeds_location

    seeds = seeds_location()
    if not seeds.is_dir():
        pytest.skip("the seed articles are not at hand")
    return seeds


# --- unit columns -------------------------------------------------------------------------------


def test_no_unit_cell_reads_a_code_word(book: Any) -> None:
    """Unit cells (the house unit style) say %, a currency code or x, never the spec's words.
    (The Data sheet shows each record's unit as the dataset states it: not a unit column.)"""
    words = {"fraction", "listing", "id", "basis"}
    found = [f"{ws.title}!{c.coordinate}={c.value!r}"
             for ws in book.wb.worksheets if ws.title in MODEL_SHEETS
             for row in ws.iter_rows() for c in row
             if c.style == "gv_unit" and isinstance(c.value, str) and c.value in words]  # fmt: skip
    assert found == []
    inputs = book.wb["Inputs"]
    share = named_cell(book.wb, "in_nvidia_fraction")
    assert inputs.cell(share.row, 2).value == "%"
    scenarios = book.wb["Scenarios"]
    listing = [scenarios.cell(r, 2).value for r in range(1, scenarios.max_row + 1)
               if scenarios.cell(r, 1).value == "Value per share (listing currency)"]  # fmt: skip
    assert listing == ["=tgt_ccy"]  # the target's currency code, following the drop-down


# --- company names ------------------------------------------------------------------------------


def test_a_number_formulas_text_lines_up_with_the_numbers(book: Any) -> None:
    """A formula in a number-formatted cell can return "n/a" (MetaX's per-share figures, a P/S
    without revenue): it is right-aligned like the numbers around it, not flush left against
    the next column's text."""
    left = [f"{ws.title}!{c.coordinate}"
            for ws in book.wb.worksheets if ws.title in MODEL_SHEETS
            for row in ws.iter_rows() for c in row
            if c.data_type == "f" and c.number_format != "General"
            and c.alignment.horizontal != "right"]  # fmt: skip
    assert left == []
    assert book.wb["Peers"]["AJ6"].alignment.horizontal == "right"  # HK P/S: "n/a" for A-shares


def test_assumption_columns_are_headed_by_names_with_ids_in_a_hidden_row(book: Any) -> None:
    ws = book.wb["Assumptions"]
    ids = named_cell(book.wb, "tgt_col").row
    header = [c.value for c in ws[ids + 1]]
    assert "Moore Threads" in header and "moore_threads" not in header
    assert ws.row_dimensions[ids].hidden and ws.row_dimensions[ids].outlineLevel == 1
    assert "moore_threads" in [c.value for c in ws[ids]]  # what MATCH(in_target, ...) reads


def test_no_static_header_or_corner_label_is_a_code_id(book: Any) -> None:
    ids = set(book.dataset.entities)
    code = re.compile(r"\b[a-z]+_[a-z_]+\b")  # e.g. exit_pe, moore_threads
    found = [f"{ws.title}!{c.coordinate}={c.value!r}"
             for ws in book.wb.worksheets if ws.title in MODEL_SHEETS
             for row in ws.iter_rows() for c in row
             if c.style == "gv_header" and isinstance(c.value, str)
             and not c.value.startswith("=")
             and (c.value in ids or code.search(c.value))]  # fmt: skip
    assert found == []


@pytest.mark.libreoffice
def test_no_value_a_reader_sees_names_an_entity_by_its_id(tmp_path: Path, recalc: Any) -> None:
    """After LibreOffice computes the formulas (samples, headers that follow the target), no
    visible cell of a model sheet shows an id; only the Target input and the peer table's Id
    column hold them, as the drop-down and the formulas need."""
    built = build(tmp_path / "moore.xlsx", target="moore_threads")
    values = load_workbook(recalc(built), data_only=True)
    ids = {e for e in load_dataset().entities if "_" in e or e in ("biren", "metax", "nvidia")}
    allowed = {named_cell(values, "in_target").coordinate + "@Inputs",
               # the Monte Carlo snapshot records which target it was drawn for, by id
               named_cell(values, "mc_target").coordinate + "@Monte Carlo"}  # fmt: skip
    peer_ids = values.defined_names["data_peers_id"].attr_text.split("!")[1].replace("$", "")
    allowed |= {f"{c.coordinate}@Peers" for row in values["Peers"][peer_ids] for c in row}
    found = []
    for title in MODEL_SHEETS:
        ws = values[title]
        for row in ws.iter_rows():
            for c in row:
                hidden = ws.row_dimensions[c.row].hidden
                if hidden or f"{c.coordinate}@{title}" in allowed or not isinstance(c.value, str):
                    continue
                text = RECORD_ID.sub("", c.value)  # a record id cites a Data row, by design
                words = set(re.findall(r"[a-z_]+", text))
                if words & ids:
                    found.append(f"{title}!{c.coordinate}={c.value!r}")
    assert found == [], "\n".join(found)
    sample = [r[2] for r in values["Peer statistics"].iter_rows(values_only=True)
              if r[0] == "Sample"]  # fmt: skip
    assert sample and "Moore Threads" not in sample[0]  # the target is out of its own sample
    assert "MetaX" in sample[0]


# --- number formats, as LibreOffice shows them --------------------------------------------------


def _shown(tmp_path: Path, cells: list[tuple[float, str]]) -> list[str]:
    """The text LibreOffice prints for each value in its format (through the builder's own cell
    writer, so the conditional formats for negatives apply), one line each."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler) is not installed")
    wb, style = load_template()
    book = Book(wb, style, load_dataset(), "biren")
    sheet = Sheet(book, "Shown", "formats")
    sheet.widths({"A": 30})
    for i, (value, fmt) in enumerate(cells):
        sheet.put(5 + i, 1, value, "calc", fmt)
    for title in [t for t in wb.sheetnames if t != "Shown"]:
        del wb[title]
    path = tmp_path / "shown.xlsx"
    wb.save(path)
    pdf = convert(path, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-len(cells) :]


@pytest.mark.libreoffice
def test_money_scales_to_bn_or_m_and_negatives_show_in_parentheses(tmp_path: Path) -> None:
    cells = [
        (50e6, "usd_bn"),  # a small company's revenue: 50.0 m, not 0.05 bn
        (2.5e9, "usd_bn"),
        (-221.7e6, "usd_bn"),  # a small loss: the conditional format's parentheses
        (-1.7e9, "usd_bn"),
        (300e9, "ccy_bn"),
        (-0.907, "pct"),
        (0.123, "pct"),
        (-0.0123, "pct2"),
        (53.7e9, "value"),  # an equity value without a share count
        (-12.34, "value"),  # a per-share value below zero
        (-2.5, "multiple"),
    ]
    assert _shown(tmp_path, cells) == [
        "50.0 m", "2.5 bn", "(221.7 m)", "(1.7 bn)", "300.0 bn", "(90.7%)", "12.3%", "(1.23%)",
        "53.7 bn", "(12.34)", "(2.5x)",
    ]  # fmt: skip


# --- citations ----------------------------------------------------------------------------------


def test_sources_cite_publisher_title_and_date_and_link_the_cells(book: Any) -> None:
    ws = book.wb["Sources"]
    assert [c.value for c in ws[4]][: len(SOURCE_HEADERS)] == SOURCE_HEADERS
    rows = list(ws.iter_rows(min_row=5))
    kr = [r for r in rows if r[1].value == "004_16b3737fc4832ab8.txt"]
    assert kr and all(r[0].value == "36Kr (36氪); \u201c国产芯片的下半场,从撕掉「中国英伟达」"
                                     "的标签开始\u201d; 2026-02-05" for r in kr)  # fmt: skip
    untitled = next(r for r in rows if r[1].value == "002_2b7f2b789b19cbe6.txt")
    assert untitled[0].value.startswith("publisher not stated; untitled (")
    assert untitled[0].value.endswith("; date not stated")
    links = 0
    for r in rows:
        for c in r[len(SOURCE_HEADERS) - 1 :]:
            if c.value is None or "," in str(c.value):
                continue
            assert c.hyperlink is not None, c.coordinate
            assert c.hyperlink.location == link_location(c.value)  # to the cell it names
            sheet, ref = c.hyperlink.location.rsplit("!", 1)
            target = book.wb[sheet.strip("'")][ref]
            assert target.value is not None, c.hyperlink.location  # an existing, used cell
            links += 1
    assert links >= 10


def test_a_sourced_cells_note_reads_as_a_citation(book: Any) -> None:
    """A note begins with the article and the quoted sentence; the record id and seed file
    (which the Data and Sources sheets list) come last."""
    assert named_cell(book.wb, "in_valuation_date").comment.text == (
        "publisher not stated; \u201c中美股市冰火两重天:2026开年AI与半导体资本版图重塑\u201d; "
        "date not stated\n\u201c至1月5日,市值稳定在855.4亿港元,约合110亿美元。\u201d\n"
        "Record biren.market_cap.2026-01-05 \u00b7 003_060f8119ece32c9e.txt"
    )
    ws = book.wb["Assumptions"]  # an assumption's own remark, in brackets, before the record
    nvidia = [c.value for c in ws[5]].index("NVIDIA") + 1
    assert ws.cell(7, nvidia).comment.text == (
        "36Kr (36氪); \u201c国产芯片的下半场,从撕掉「中国英伟达」的标签开始\u201d; 2026-02-05\n"
        "\u201c中国贡献英伟达全球15%收入 约180亿美元/年 是公司第四大市场 [16]\u201d\n"
        "(Assumption: NVIDIA's share of the China market only; this method values its China "
        "business, not the company.)\n"
        "Record nvidia.china_revenue_share \u00b7 004_16b3737fc4832ab8.txt"
    )
    shares = book.wb["Peers"]["G6"].comment.text.split("\n")  # a derived figure: unquoted
    assert shares == [
        "NetEase Hao (網易號), a user's post; untitled (Biren's HKEX listing and the A-share vs "
        "Hong Kong pricing gap); date not stated",
        "derived: biren.market_cap_first_day_high (102,700,000,000 HKD) / "
        "biren.first_day_high_price (42.88 HKD)",
        "Record biren.shares_outstanding \u00b7 000_20127ad21e8e5e0e.txt",
    ]
    dataset, cited = load_dataset(), 0
    for record_id, cells in book.uses.items():
        for cell in cells:
            sheet, ref = cell.rsplit("!", 1)
            note = book.wb[sheet.strip("'")][ref].comment
            first, *_, last = note.text.split("\n")
            assert not first.startswith(record_id), cell
            assert last == f"Record {record_id} \u00b7 {dataset[record_id].source}", cell
            cited += 1
    assert cited >= 30


def test_data_cites_each_records_article(book: Any) -> None:
    ws = book.wb["Data"]
    header = [c.value for c in ws[4]]
    article, source = header.index("article"), header.index("source")
    row = next(r for r in ws.iter_rows(min_row=5, values_only=True)
               if r[source] == "001_dd9633af21bfd11a.txt")  # fmt: skip
    assert (
        row[article] == "publisher not stated; \u201c壁仞科技港股IPO市场研究摘要\u201d; 2026-01-04"
    )


def test_a_source_title_must_stand_in_its_seed_file(tmp_path: Path) -> None:
    seeds = _seeds()
    text = (Path(load_dataset().path)).read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    title = 'title = "壁仞科技港股IPO市场研究摘要"'
    bad.write_text(text.replace(title, 'title = "A made-up title"'), encoding="utf-8")
    with pytest.raises(GpuvalError, match=r"001_dd9633af21bfd11a.txt.*title is not found"):
        load_dataset(bad, seeds=seeds)


def test_every_seed_file_the_shipped_dataset_cites_has_a_citation() -> None:
    dataset = load_dataset()
    cited = {s for rec in dataset.records.values() for s in rec.source.split("; ")}
    assert cited and cited <= set(dataset.sources)


def test_refresh_restores_the_used_in_links(tmp_path: Path) -> None:
    """A Sources sheet whose links were lost (values blanked, hyperlinks gone) gets them back
    from ``gpuval refresh``: the same cells, each linked to the cell it names."""
    from gpuval.pipeline.refresh import refresh

    built = build(tmp_path / "wb.xlsx")
    wb = load_workbook(built)
    ws = wb["Sources"]
    expected = {c.coordinate: c.value for row in ws.iter_rows(min_row=5, min_col=5)
                for c in row if c.value is not None}  # fmt: skip
    assert len(expected) >= 10
    ws._hyperlinks = []  # openpyxl writes the hyperlinks it holds here
    for ref in expected:
        ws[ref].hyperlink = None
        ws[ref].value = None
    wb.save(built)
    lost = load_workbook(built)["Sources"]
    assert not any(lost[ref].hyperlink for ref in expected)  # the links really are gone
    refresh(built)
    ws = load_workbook(built)["Sources"]
    for ref, text in expected.items():
        assert ws[ref].value == text
        if "," not in text:
            assert ws[ref].hyperlink is not None, ref
            assert ws[ref].hyperlink.location == link_location(text)


def _fetches_from(formula: str, names: dict[str, str]) -> str | None:
    """The sheet a formula only fetches from (one reference or name, or the target's entry of a
    table, ``INDEX(table,tgt_row)``), read with openpyxl's formula tokenizer; None for any
    other formula."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    items = [t for t in Tokenizer(formula).items if t.type != Token.WSPACE]
    kinds = [(t.type, t.subtype) for t in items]
    operand = (Token.OPERAND, Token.RANGE)
    if kinds == [operand]:
        ref = items[0].value
    elif [t.value for t in items][::2] == ["INDEX(", ",", ")"] and items[3].value in (
        "tgt_row",
        "tgt_col",
    ):
        ref = items[1].value
    else:
        return None
    ref = names.get(ref, ref)
    return ref.rsplit("!", 1)[0].strip("'") if "!" in ref else ""


def test_green_only_on_direct_links_to_another_sheet(book: Any) -> None:
    # FAST: a formula that fetches a value from another sheet is green; a calculation is black
    # even when it reads named inputs (the issue: the whole Sensitivity grid and the DCF lines
    # were green)
    names = {n: d.attr_text for n, d in book.wb.defined_names.items()}
    seen = {"gv_link": 0, "gv_calc": 0}
    for ws in book.wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                formula = cell.value
                if cell.style not in seen or not str(formula).startswith("="):
                    continue
                source = _fetches_from(formula, names)
                link = source is not None and source not in ("", ws.title)
                where = f"{ws.title}!{cell.coordinate} {formula[:60]}"
                assert (cell.style == "gv_link") == link, where
                seen[cell.style] += 1
    assert seen["gv_link"] >= 50 and seen["gv_calc"] >= 500, seen
    grid = book.wb["Sensitivity"]["E8"]  # the Base corner of the first grid: a calculation
    assert grid.value.startswith("=") and grid.style == "gv_calc"
    # a cell re-coloured keeps its own number format (a style would reset it to General)
    from gpuval.workbook.sheets import valuation

    table = book.wb[valuation.TITLE]
    for r in range(valuation.FIRST, valuation.LAST + 1):
        for c in "CDEF":
            assert table[f"{c}{r}"].number_format != "General", f"Valuation!{c}{r}"


def test_wrapped_text_lines() -> None:
    from gpuval.workbook.sheets.base import text_lines

    # a letter takes 0.8 of a width unit, a CJK character 1.9: 40 letters = 32.0 units fill one
    # 32-wide line, 41 need two; 17 CJK characters = 32.3 units need two; a line break counts
    assert text_lines("a" * 40, 32) == 1
    assert text_lines("a" * 41, 32) == 2
    assert text_lines("壁" * 17, 32) == 2
    assert text_lines("a\nb", 32) == 2


def test_a_template_without_a_newer_format_falls_back_to_the_built_in_one() -> None:
    from gpuval.workbook.template import FORMATS, HouseStyle

    old = HouseStyle(formats={"pct": "0%"})  # a template made before "data_value" existed
    assert old.fmt("pct") == "0%"  # the template's own choice wins
    assert old.fmt("data_value") == FORMATS["data_value"]
    with pytest.raises(GpuvalError, match="no number format 'nonsense'"):
        old.fmt("nonsense")


def test_a_marked_format_marks_each_section_after_its_condition() -> None:
    from gpuval.workbook.sheets.base import marked_format

    assert marked_format('0.0"x";(0.0"x")', "≥", "†") == '"≥"0.0"x""†";"≥"(0.0"x")"†"'
    money = '[>=1000000000]#,##0.0,,," bn";#,##0.0,," m"'
    assert marked_format(money, "≤") == '[>=1000000000]"≤"#,##0.0,,," bn";"≤"#,##0.0,," m"'
    assert marked_format('"a;b"0', "≥") == '"≥""a;b"0'  # a quoted ";" is no section break
    assert marked_format("#,##0\\;0", "≥") == '"≥"#,##0\\;0'  # nor an escaped one
    assert marked_format('0.0;;"-"', "≥") == '"≥"0.0;;"≥""-"'  # an empty section stays empty
    assert marked_format("[Red][<0]0.0;0.0", "≤") == '[Red][<0]"≤"0.0;"≤"0.0'
