"""The built workbook's structure, without a spreadsheet engine: names, inputs, validation,
provenance, styles, template, reproducibility and atomic writing."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font

from gpuval.cli import main
from gpuval.data.dataset import load_dataset
from gpuval.errors import GpuvalError
from gpuval.workbook.build import build, build_workbook, save_atomic
from gpuval.workbook.sheets import dcf
from gpuval.workbook.sheets.inputs import ALL
from gpuval.workbook.template import DEFAULT_TEMPLATE, write_default_template
from workbook_helpers import named_cell, names

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "workbook" / "gpu_valuation.xlsx"
HEADLINE = [
    "out_value_per_share_bear", "out_value_per_share_base", "out_value_per_share_bull",
    "out_value_per_share_weighted", "out_upside_weighted", "out_peer_median_implied_value",
    "out_backlog_forward_ps", "out_nvidia_share_value", "out_dcf_value_per_share",
    "out_implied_share",
]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("wb") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def wb(built: Path):
    return load_workbook(built)


def test_every_role_has_its_sheet(wb) -> None:
    assert wb.sheetnames == ["Cover", "Contents", "Valuation", "Scenarios", "DCF", "Peers",
                             "Peer statistics", "Implied", "Sensitivity", "Monte Carlo", "Inputs",
                             "Assumptions", "Checks", "Data", "Sources"]  # fmt: skip


def test_headline_outputs_are_named(wb) -> None:
    assert set(HEADLINE) <= set(names(wb, "out_"))
    for name in names(wb, "out_"):
        cell = named_cell(wb, name)
        assert isinstance(cell.value, str) and cell.value.startswith("="), name


def test_every_input_is_named_validated_and_styled(wb) -> None:
    expected = {n for spec in ALL for n in spec.names()}
    assert expected <= set(names(wb, "in_"))
    ws = wb["Inputs"]
    validated = set()
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validated.add(rng.coord)
    for name in expected:
        cell = named_cell(wb, name)
        assert cell.parent.title == "Inputs"
        assert cell.coordinate in validated, name
        assert cell.style == "gv_input", name
        assert not (isinstance(cell.value, str) and cell.value.startswith("=")), name


def test_inputs_say_source_or_assumption(wb) -> None:
    ws = wb["Inputs"]
    for spec in ALL:
        cell = named_cell(wb, spec.names()[0])
        label = ws.cell(cell.row, 6).value
        if spec.name == "target":  # names its company, or why it cannot be valued
            label = label.split(',"', 1)[1]
        assert label.startswith(("Source:", "Assumption", "Convention", "Company")), spec.name
        if spec.source:
            assert cell.comment is not None and spec.source in cell.comment.text


def test_sourced_peer_cells_carry_comments(wb) -> None:
    ws = wb["Peers"]
    comments = [c for row in ws.iter_rows() for c in row if c.comment is not None]
    assert any("biren.order_backlog" in c.comment.text for c in comments)
    assert any("12.4億元人民幣" in c.comment.text for c in comments)


def test_sources_sheet_lists_cells_using_each_record(wb) -> None:
    rows = list(wb["Sources"].iter_rows(min_row=5, values_only=True))
    backlog = next(r for r in rows if r[3] and "biren.order_backlog" in r[3].split(", "))
    assert backlog[1] == "000_20127ad21e8e5e0e.txt"
    assert backlog[0].startswith("NetEase Hao")  # the article, as the seed file names it
    assert any("Peers!" in (cell or "") for cell in backlog[4:])


def test_model_sheets_hold_formulas_not_constants(wb) -> None:
    """Outside Inputs, Peers' raw columns and the labelled snapshot/reference sheets, every
    number is a formula (a few structural constants are labelled cells)."""
    start = dcf.col(dcf.YEAR0)  # the valuation's start: t = 0, DF = 1
    allowed = {("DCF", f"{start}{dcf.R['t']}"), ("DCF", f"{start}{dcf.R['df']}")}
    # the method weights: the analyst's inputs beside the methods they weigh (blue, in_weight_*)
    weights = names(wb, "in_weight_")
    assert len(weights) == 6
    for name in weights:
        cell = named_cell(wb, name)
        assert cell.style == "gv_input"
        allowed.add((cell.parent.title, cell.coordinate))
    for title in ("Valuation", "Scenarios", "DCF", "Implied", "Sensitivity", "Checks"):
        for row in wb[title].iter_rows():
            for cell in row:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    if title == "Implied" and cell.column == 1:
                        continue  # bisection step numbers
                    assert (title, cell.coordinate) in allowed, f"{title}!{cell.coordinate}"


def test_master_check_on_every_sheet(wb) -> None:
    for ws in wb.worksheets:
        if ws.title == "Cover":
            assert "chk_master" in ws["C7"].value
        else:
            assert "chk_master" in ws["A3"].value, ws.title


def test_fast_colours(wb) -> None:
    styles = {named_cell(wb, n).style for n in names(wb, "in_")}
    assert styles == {"gv_input"}
    assert wb["Scenarios"]["C8"].style == "gv_calc"  # revenue = share x TAM, same sheet
    assert wb["Scenarios"]["C7"].style == "gv_link"  # share, linked from Inputs
    assert named_cell(wb, "out_value_per_share_base").style == "gv_output"


def test_print_setup_and_frozen_panes(wb) -> None:
    for ws in wb.worksheets:
        narrow = ws.title == "Checks"  # a list: portrait, one page (landscape took two)
        assert ws.page_setup.orientation == ("portrait" if narrow else "landscape"), ws.title
        # fitted to the page, or, with collapsed columns, at a fixed scale of 80 % or more
        fixed = ws.title in ("Peers", "Peer statistics", "Monte Carlo")
        assert ws.sheet_properties.pageSetUpPr.fitToPage is not fixed, ws.title
        assert not fixed or ws.page_setup.scale >= 80, ws.title
    assert wb["Inputs"].freeze_panes == "C5"


def test_charts_present(wb) -> None:
    counts = {ws.title: len(ws._charts) for ws in wb.worksheets}
    assert counts["Peer statistics"] == 2  # P/S bars, market value vs revenue
    assert counts["Valuation"] == 1  # football field
    assert counts["Scenarios"] == 2  # per share vs price, TAM path
    assert counts["Monte Carlo"] == 1  # histogram
    for ws in wb.worksheets:
        for chart in ws._charts:
            assert chart.title is not None, ws.title


def test_text_from_data_is_never_a_formula(tmp_path: Path) -> None:
    book = build_workbook()
    sheet = book.wb["Data"]
    from gpuval.workbook.sheets.base import Sheet

    writer = Sheet.__new__(Sheet)
    writer.book, writer.title, writer.ws = book, "Data", sheet
    for i, text in enumerate(['=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)", "-1+1"]):
        writer.put(200 + i, 1, text, "data")
    out = save_atomic(book, tmp_path / "inj.xlsx")
    position = load_workbook(out).sheetnames.index("Data") + 1
    xml = zipfile.ZipFile(out).read(f"xl/worksheets/sheet{position}.xml").decode()
    assert "<f>HYPERLINK" not in xml and "<f>SUM" not in xml
    assert re.search(r'<c r="A200" [^>]*t="inlineStr"', xml)


def test_committed_workbook_equals_a_fresh_build(built: Path) -> None:
    """Part by part, ignoring only the save timestamp in docProps/core.xml."""
    fresh, committed = zipfile.ZipFile(built), zipfile.ZipFile(COMMITTED)
    assert fresh.namelist() == committed.namelist()
    for part in fresh.namelist():
        a, b = fresh.read(part), committed.read(part)
        if part == "docProps/core.xml":
            strip = re.compile(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>")
            a, b = strip.sub(b"", a), strip.sub(b"", b)
        assert a == b, f"{part} differs: run `gpuval build` and commit workbook/"


def test_shipped_template_is_the_default_writers(tmp_path: Path) -> None:
    """templates/gpuval_template.xlsx holds what write_default_template writes now (its cover
    labels, styles and every number format), cell by cell: a change to the writer reaches the
    shipped file only when it is written again."""
    fresh = load_workbook(write_default_template(tmp_path / "t.xlsx"))
    shipped = load_workbook(DEFAULT_TEMPLATE)

    def cells(wb: Any) -> dict[tuple[str, str], Any]:
        return {(ws.title, c.coordinate): (c.value, c.style, c.number_format)
                for ws in wb.worksheets for row in ws.iter_rows() for c in row}  # fmt: skip

    assert cells(shipped) == cells(fresh), "run write_default_template() and commit templates/"
    assert shipped["Cover"]["B5"].value == "Oldest market figure used"


def test_restyled_template_flows_into_the_build(tmp_path: Path) -> None:
    template = write_default_template(tmp_path / "t.xlsx")
    wb = load_workbook(template)
    style = next(s for s in wb._named_styles if s.name == "gv_input")
    style.font = Font(name="Calibri", size=10, color="FFFF00FF", bold=True)
    row = next(r for r in wb["Style"].iter_rows(min_row=2) if r[0].value == "multiple")
    row[1].value = '0.00" pts"'  # the analyst's own format for multiples
    wb["Cover"]["B3"] = "House view, restyled"
    wb.save(template)
    out = build(tmp_path / "out.xlsx", template=template)
    result = load_workbook(out)
    cell = named_cell(result, "in_share_base")
    assert cell.font.color.rgb == "FFFF00FF" and cell.font.bold
    assert named_cell(result, "in_exit_pe_base").number_format == '0.00" pts"'
    assert result["Cover"]["B3"].value == "House view, restyled"


def test_other_target(tmp_path: Path) -> None:
    out = build(tmp_path / "mt.xlsx", target="moore_threads")
    assert named_cell(load_workbook(out), "in_target").value == "moore_threads"
    by_ticker = build(tmp_path / "mt2.xlsx", target="688795.sh")  # its ticker, any case
    assert named_cell(load_workbook(by_ticker), "in_target").value == "moore_threads"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "cambricon"], "is not a company with a market value"),
        (
            ["--target", "nobody"],
            "Target 'nobody' is not a company with a market value in the "
            "peer table; choose one of: biren, moore_threads, metax, nvidia.",
        ),
        (["--template", "/nonexistent.xlsx"], "Template /nonexistent.xlsx does not exist"),
    ],
)
def test_build_errors_leave_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "x.xlsx"
    assert main(["build", "--out", str(out), *args]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_failed_save_keeps_the_existing_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"analyst's work")
    book = build_workbook()

    def broken_save(target: Any) -> None:
        target.write(b"half a wor")
        raise OSError("disk full")

    monkeypatch.setattr(book.wb, "save", broken_save)
    with pytest.raises(OSError):
        save_atomic(book, out)
    assert out.read_bytes() == b"analyst's work"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


def test_a_full_disk_names_the_workbook_not_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"analyst's work")

    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as caught:
        save_atomic(build_workbook(), out)
    assert (caught.value.filename, caught.value.strerror) == (str(out), "No space left on device")
    assert out.read_bytes() == b"analyst's work"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


def test_bad_template_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(GpuvalError, match=r"^Template .*bad\.xlsx is not an \.xlsx file"):
        build(tmp_path / "o.xlsx", template=bad)


def test_a_template_that_would_build_a_broken_workbook_is_refused(tmp_path: Path) -> None:
    """A sheet named like one gpuval builds (the model had landed on "Inputs1" with every name
    on the template's empty Inputs; a Peers sheet ended in an internal ValueError), a missing
    sheet named alone, a number format over Excel's 255 characters: one sentence each, no
    workbook written."""
    from openpyxl import load_workbook

    from gpuval.workbook.template import DEFAULT_TEMPLATE

    out = tmp_path / "o.xlsx"
    cases = []
    for change, said in [
        (lambda wb: wb.create_sheet("Inputs"), "has a sheet named 'Inputs', which gpuval "
         "builds; rename or delete it in the template."),
        (lambda wb: wb.create_sheet("Peers"), "has a sheet named 'Peers', which gpuval builds; "
         "rename or delete it in the template."),
        (lambda wb: wb.remove(wb["Style"]), "is missing a Style sheet."),
        (lambda wb: wb["Style"].append(["long", "0.00" + "0" * 300]), "Style!B"),
    ]:  # fmt: skip
        wb = load_workbook(DEFAULT_TEMPLATE)
        change(wb)
        template = tmp_path / f"t{len(cases)}.xlsx"
        wb.save(template)
        with pytest.raises(GpuvalError) as refused:
            build(out, template=template)
        assert str(refused.value).startswith(f"Template {template}")
        assert said in str(refused.value)
        cases.append(template)
    assert str(refused.value).endswith(
        "the number format for 'long' is 304 characters long; Excel allows 255."
    )
    assert not out.exists()


def test_a_house_templates_own_sheet_is_no_analysts_work(tmp_path: Path) -> None:
    """A template with a sheet of the house's own (a disclaimer): a build over a fresh build
    from it is no overwrite of an analyst's work (it was refused as "the analyst's sheet
    'Disclaimer'"), and build --from does not ask to copy a sheet the new build has."""
    from openpyxl import load_workbook

    from gpuval.workbook.build import build_from
    from gpuval.workbook.template import DEFAULT_TEMPLATE

    wb = load_workbook(DEFAULT_TEMPLATE)
    wb.create_sheet("Disclaimer")["A1"] = "For professional investors only."
    house = tmp_path / "house.xlsx"
    wb.save(house)
    out = build(tmp_path / "o.xlsx", template=house)
    assert "Disclaimer" in load_workbook(out).sheetnames
    build(out, template=house)  # rebuilt in place: no one's work is lost
    _, said = build_from(out, tmp_path / "n.xlsx", template=house)
    assert not [line for line in said if "your sheet" in line], said
    mine = load_workbook(out)
    mine.create_sheet("My notes")
    mine.save(out)
    _, said = build_from(out, tmp_path / "m.xlsx", template=house, force=True)
    assert (
        "not carried: your sheet(s) 'My notes'; copy them from the old workbook in Excel "
        "(Move or Copy)" in said
    )


def test_a_peer_table_over_thirty_companies_is_refused_in_one_sentence() -> None:
    """The sample lists on Peer statistics read 30 rows (Excel 2016 has no TEXTJOIN): 31
    companies would leave one out of them, so the build says so instead."""
    from gpuval.workbook.sheets.peers import peer_rows

    rows = peer_rows(load_dataset())
    extra = [{**rows[1], "id": f"copy_{i}", "name": f"Copy {i}"} for i in range(31 - len(rows))]
    assert len(rows) + len(extra) == 31
    build_workbook(peer_rows=rows + extra[:-1], finished=False)  # 30: built
    with pytest.raises(GpuvalError) as caught:
        build_workbook(peer_rows=rows + extra, finished=False)
    assert str(caught.value) == (
        "The peer table has 31 companies, over the 30 a workbook holds (its sample lists read "
        "that many rows); leave some out."
    )
