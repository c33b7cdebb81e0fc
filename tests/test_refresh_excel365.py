"""Refresh on a workbook carrying what Excel 365 writes (tests/fixtures/excel365.py): every part
refresh does not own comes back byte for byte, every owned part keeps the elements it does not
own, and LibreOffice opens the result and recalculates it with no error values."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fixtures.excel365 import THREAD_PEERS, Injected, add_excel365
from gpuval.pipeline.recalc import recalculate
from gpuval.pipeline.refresh import refresh
from gpuval.pipeline.xlsxpatch import MARKER
from gpuval.workbook.build import ORDER, build
from workbook_helpers import error_cells

OWNED_SHEETS = ("Cover", "Peers", "Monte Carlo", "Data", "Sources")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("e365") / "gpu_valuation.xlsx")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def refreshed(built: Path, folder: Path, *, macros: bool = False) -> tuple[Injected, dict, dict]:
    suffix = ".xlsm" if macros else ".xlsx"
    injected = add_excel365(built, folder / f"analyst{suffix}", macros=macros)
    before = parts(injected.path)
    prices = folder / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    report = refresh(injected.path, prices=prices)
    assert any("has a threaded comment, kept as it is" in n for n in report.notes), report.notes
    return injected, before, parts(injected.path)


@pytest.mark.parametrize("macros", [False, True], ids=["xlsx", "xlsm"])
def test_parts_refresh_does_not_own_are_byte_identical(
    built: Path, tmp_path: Path, macros: bool
) -> None:
    injected, before, after = refreshed(built, tmp_path, macros=macros)
    assert list(after) == list(before)
    for name in injected.foreign:
        assert after[name] == before[name], name
    changed = {n for n in before if before[n] != after[n]}
    owned = [ORDER.index(title) + 1 for title in ("Cover", "Monte Carlo", "Data", "Sources")]
    assert changed <= set(injected.kept) | {f"xl/worksheets/sheet{i}.xml" for i in owned}
    if macros:
        assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
        assert b"macroEnabled.main+xml" in after["[Content_Types].xml"]


def test_owned_parts_keep_what_they_do_not_own(built: Path, tmp_path: Path) -> None:
    injected, _before, after = refreshed(built, tmp_path)
    for part, needles in injected.kept.items():
        for needle in needles:
            assert needle in after[part], (part, needle)
    wb = load_workbook(injected.path)
    peers = wb["Peers"]
    assert peers["F25"].value == 41.5
    # the threaded comment's placeholder note is left alone; the analyst's note keeps its words
    assert peers["F25"].comment.author == f"tc={THREAD_PEERS}"
    assert peers["F25"].comment.text.startswith("[Threaded comment]")
    assert peers["G25"].comment.author == "Lin Wei"
    text = peers["G25"].comment.text
    assert text.startswith("Lin Wei:\nShare count checked against the prospectus, p. 412.")
    assert f"\n\n{MARKER}\nbiren.shares_outstanding\n" in text


@pytest.mark.libreoffice
def test_libreoffice_opens_and_recalculates_the_result(built: Path, tmp_path: Path) -> None:
    injected, _before, _after = refreshed(built, tmp_path)
    values = load_workbook(recalculate(injected.path, tmp_path / "recalc.xlsx"), data_only=True)
    formulas = load_workbook(injected.path)
    # The in-cell picture is a rich value: Excel itself stores #VALUE! as its plain value; #N/A in
    # the chart columns is a point the chart skips.
    assert error_cells(values) == ["Analyst view!A5=#VALUE!"]
    assert formulas["Analyst view"]["A2"].value.text == "=Peers!$F$25:$F$27*2"  # still an array
    assert values["Analyst view"]["A2"].value == pytest.approx(83.0)  # 41.5 x 2, recomputed
    assert values["Cover"]["C7"].value.startswith("OK")  # the master check


def test_a_second_refresh_changes_nothing(built: Path, tmp_path: Path) -> None:
    injected, _before, after = refreshed(built, tmp_path)
    prices = tmp_path / "prices.csv"  # the same prices file again
    report = refresh(injected.path, prices=prices)
    assert report.changes == []
    again = parts(injected.path)
    assert [n for n in after if after[n] != again[n]] == []
