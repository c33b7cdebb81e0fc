"""Computed values survive refresh: an input the analyst linked by formula to their own sheet is
read, refresh after refresh, by refresh, evaluate and check; without LibreOffice refresh still
works and says plainly that no formula cell carries a value, and reading such an input names the
cell and what to do instead of calling it empty."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gpuval.cli import main
from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import UncomputedInput, evaluate, read_inputs

INPUT = "in_fx_cny_per_usd"
LINKED = 7.05  # the analyst's own figure; the dataset's default is another number
#: The one market figure a Biren workbook uses is Biren's price of 2026-01-05: 15 days old on
#: 2026-01-20, within a 90-day limit.
TODAY, MAX_AGE = dt.date(2026, 1, 20), 90


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("values") / "gpu_valuation.xlsx")


def input_cell(path: Path) -> tuple[str, str]:
    wb = load_workbook(path)
    title, coord = next(iter(wb.defined_names[INPUT].destinations))
    return title, coord.replace("$", "")


def linked(built: Path, folder: Path) -> Path:
    """The analyst's copy: a sheet 'My sheet' holding their number in B2, and the Inputs value
    cell of ``INPUT`` linked to it by formula (saved by openpyxl: no computed values at all)."""
    path = folder / "analyst.xlsx"
    wb = load_workbook(built)
    assert wb[input_cell(built)[0]][input_cell(built)[1]].value != LINKED
    wb.create_sheet("My sheet")["B2"] = LINKED
    title, coord = input_cell(built)
    wb[title][coord] = "='My sheet'!B2"
    wb.save(path)
    return path


def typed(built: Path, folder: Path) -> Path:
    """The same figure typed into the input cell (the independent route to the outputs)."""
    path = folder / "typed.xlsx"
    wb = load_workbook(built)
    title, coord = input_cell(built)
    wb[title][coord] = LINKED
    wb.save(path)
    return path


@pytest.mark.libreoffice
def test_an_input_linked_to_the_analysts_sheet_survives_two_refreshes(
    built: Path, tmp_path: Path
) -> None:
    path = linked(built, tmp_path)
    with pytest.raises(UncomputedInput, match=r"is the formula ='My sheet'!B2 but analyst\.xlsx"):
        read_inputs(path)  # saved without values: named, not "empty"
    steps: list[str] = []
    first = refresh(path, progress=steps.append)
    assert "computing every formula in LibreOffice" in steps
    assert first.values is not None and first.values.filled > 1000
    assert first.values.uncomputed == []
    assert any("it has one now: refresh again" in n for n in first.notes), first.notes
    second = refresh(path)
    assert not any("outputs not computed" in n for n in second.notes), second.notes
    assert load_workbook(path, data_only=True)["Cover"]["C7"].value.startswith("OK")
    title, coord = input_cell(path)
    assert load_workbook(path)[title][coord].value == "='My sheet'!B2"  # the link is kept
    assert read_inputs(path)[INPUT] == LINKED
    assert evaluate(path) == evaluate(typed(built, tmp_path))  # the linked number is used
    report = check_workbook(path, today=TODAY, max_age_days=MAX_AGE)
    assert report.passed, report.as_dict()
    # the fast path drops the values rather than keep ones the new data may make stale
    assert main(["refresh", str(path), "--no-recalc", "-q"]) == 0
    with pytest.raises(UncomputedInput, match=rf"Input {INPUT} \({title}!{coord}\)"):
        evaluate(path)


def test_without_libreoffice_refresh_works_and_says_no_values_were_computed(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", str(tmp_path / "no-such-soffice"))
    path = linked(built, tmp_path)
    assert main(["refresh", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "computing every formula" not in err
    assert (
        "Note: LibreOffice was not found, so no formula cell carries a computed value until the "
        "file is opened and saved in Excel or LibreOffice (or refreshed again where LibreOffice "
        "is installed)" in out
    )
    assert "gpuval evaluate and check stop at any input that is a formula." in out
    title, coord = input_cell(path)
    assert main(["evaluate", str(path)]) == 1
    _, err = capsys.readouterr()
    assert err.startswith(
        f"gpuval: error: Input {INPUT} ({title}!{coord}) is the formula ='My sheet'!B2 but "
        "analyst.xlsx carries no computed value for it"
    )
    assert "open and save it in Excel or LibreOffice, or run gpuval refresh" in err
    assert "is empty" not in err


def test_without_libreoffice_no_stale_value_is_left(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workbook as Excel saves it carries values; after refresh without LibreOffice its formula
    # cells carry none (a value from before the new data would be out of date), its constants do.
    monkeypatch.setenv("GPUVAL_SOFFICE", str(tmp_path / "no-such-soffice"))
    path = tmp_path / "saved.xlsx"
    shutil.copy(built, path)
    wb = load_workbook(path)
    ws = wb.create_sheet("My sheet")
    ws["A1"], ws["A2"] = 3, "=A1*2"
    wb.save(path)
    _give_cached_value(path, "My sheet", "A2", "6")
    assert load_workbook(path, data_only=True)["My sheet"]["A2"].value == 6
    report = refresh(path)
    assert report.values is None
    assert any(n.startswith("LibreOffice was not found, so no formula") for n in report.notes)
    values = load_workbook(path, data_only=True)["My sheet"]
    assert (values["A1"].value, values["A2"].value) == (3, None)
    assert load_workbook(path)["My sheet"]["A2"].value == "=A1*2"


def _give_cached_value(path: Path, sheet: str, ref: str, value: str) -> None:
    """Write a cached value into one formula cell, by hand (as a spreadsheet application would)."""
    wb = load_workbook(path)
    part = f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"
    with zipfile.ZipFile(path) as src:
        files = {i.filename: src.read(i) for i in src.infolist()}
    files[part], count = re.subn(
        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(?:</v>)?'.encode(),
        rb"\1\2<v>" + value.encode() + b"</v>",
        files[part],
    )
    assert count == 1
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in files.items():
            dst.writestr(name, data)


def test_a_libreoffice_that_fails_is_said_and_the_refresh_is_kept(
    built: Path, tmp_path: Path
) -> None:
    # Unmarked: GPUVAL_SOFFICE is the test suite's stand-in, which exits with an error at once.
    path = tmp_path / "analyst.xlsx"
    shutil.copy(built, path)
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,40,HKD\n")
    report = refresh(path, prices=prices)
    assert report.values is None and report.changes  # the data is refreshed all the same
    note = next(n for n in report.notes if n.startswith("LibreOffice could not recalculate"))
    assert "exited with code 97" in note
    assert note.endswith("gpuval evaluate and check stop at any input that is a formula.")
    assert str(path) not in note  # LibreOffice ran on a scratch copy, never the analyst's file
    assert read_inputs(path)["data_peers_price"][0] is not None
