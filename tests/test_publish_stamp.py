"""publish writes only its stamp cell (``pub_stamp``, which build creates below everything on the
Cover) with the workbook's own dataset version, never replaces an earlier publication, and runs
LibreOffice once (recalculation, values and the PDF together)."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.defined_name import DefinedName

from apps.libreoffice import InsertRows, SetValue, edit_in_libreoffice, require_uno
from gpuval.cli import main
from gpuval.pipeline.publish import publish
from gpuval.pipeline.recalc import find_soffice
from gpuval.workbook.build import build
from workbook_helpers import formulas_without_values


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("publish") / "gpu_valuation.xlsx")


#: The oldest market figure a fresh build uses: Biren's own price of 2026-01-05 (no peer reports
#: its FY2024; "x% of NVIDIA" has weight 0); it names the publications.
ASOF = "2026-01-05"
#: On 2026-01-06 that figure is a day old: the limit that lets publish pass.
AGE = 1


@pytest.fixture(scope="module")
def today() -> dt.date:
    return dt.date(2026, 1, 6)


def test_build_makes_the_stamp_area_below_the_cover(built: Path) -> None:
    wb = load_workbook(built)
    cover = wb["Cover"]
    # the legend's last line is row 22; one blank row, then the stamp area
    assert cover["B22"].value is not None and cover["B23"].value is None
    assert wb.defined_names["pub_stamp"].attr_text == "Cover!$C$24"
    assert cover["B24"].value == "Published" and cover["C24"].value.startswith("not published")
    assert cover["B9"].value is None and cover["C9"].value is None  # the analyst's free row


def cells(path: Path) -> dict[str, object]:
    """Every non-empty cell as Sheet!A1 -> stored value (formula text for formulas)."""
    wb = load_workbook(path)
    return {
        f"{ws.title}!{c.coordinate}": c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GPUVAL_SOFFICE -> a wrapper that logs one line per LibreOffice start; returns the log."""
    real = find_soffice()
    assert real is not None
    log = tmp_path / "soffice-runs.log"
    wrapper = tmp_path / "soffice"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("GPUVAL_SOFFICE", str(wrapper))
    return log


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.mark.libreoffice
def test_publish_keeps_the_analysts_cover_and_writes_only_its_stamp(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    require_uno()
    # The analyst's contact line in the free row under the dataset line (where publish used to
    # write), and two rows inserted at the top of the Cover: everything moves down by two.
    analyst = edit_in_libreoffice(
        built,
        tmp_path / "analyst.xlsx",
        [
            SetValue("Cover", "B9", "Contact"),
            SetValue("Cover", "C9", "=ann@example.com (text, not a formula)"),
            InsertRows("Cover", at=1, count=2),
        ],
    )
    report = publish(analyst, out_dir=tmp_path / "dist", today=today, max_age_days=AGE)
    before, after = cells(analyst), cells(report.outputs[0])
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # The stamp area build made in row 24 is now row 26 (24 + 2); only its cell C changes.
    assert changed == {"Cover!C26"}, changed
    assert after["Cover!B26"] == "Published"
    published = dt.date.today().isoformat()
    assert str(after["Cover!C26"]).startswith(f"Published {published} by gpuval; ")
    assert after["Cover!B11"] == "Contact"
    assert after["Cover!C11"] == "=ann@example.com (text, not a formula)"
    wb = load_workbook(report.outputs[0])
    assert wb["Cover"]["C11"].data_type == "s"  # text stays text
    assert wb.defined_names["pub_stamp"].attr_text == "Cover!$C$26"


@pytest.mark.libreoffice
def test_publish_writes_into_the_named_stamp_cell(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    wb = load_workbook(built)
    wb["Cover"]["E3"] = "Published"
    wb.defined_names["pub_stamp"] = DefinedName("pub_stamp", attr_text="Cover!$F$3")
    # the workbook's own dataset version (refresh sets the name), not the installed dataset's
    wb.defined_names["data_version"] = DefinedName("data_version", attr_text='"2099.01.01"')
    path = tmp_path / "named.xlsx"
    wb.save(path)
    report = publish(path, out_dir=tmp_path / "dist", today=today, max_age_days=AGE)
    before, after = cells(path), cells(report.outputs[0])
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {"Cover!F3"}
    assert "; dataset 2099.01.01; check passed" in str(after["Cover!F3"])
    manifest = report.manifest
    assert manifest is not None and '"dataset": "2099.01.01"' in manifest.read_text()


@pytest.mark.libreoffice
def test_an_earlier_publication_is_never_replaced(
    built: Path, today: dt.date, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(built, path)
    out = tmp_path / "dist"
    first = publish(path, out_dir=out, today=today, max_age_days=AGE)
    first_bytes = first.outputs[0].read_bytes()
    asof = ASOF
    assert first.outputs[0].name == f"analyst_{asof}.xlsx" and first.notes == []
    args = ["publish", str(path), "--out-dir", str(out), "--today", today.isoformat(), "-q",
            "--max-age-days", str(AGE)]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"wrote {out / f'analyst_{asof}_2.xlsx'}" in captured.out
    assert f"analyst_{asof}.xlsx is an earlier publication of the same as-of date" in captured.err
    assert first.outputs[0].read_bytes() == first_bytes
    assert sorted(p.name for p in out.iterdir()) == [
        f"analyst_{asof}.manifest.json",
        f"analyst_{asof}.xlsx",
        f"analyst_{asof}_2.manifest.json",
        f"analyst_{asof}_2.xlsx",
    ]


@pytest.mark.libreoffice
def test_one_libreoffice_run_for_values_and_pdf(
    built: Path, today: dt.date, tmp_path: Path, counted: Path
) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(built, path)
    report = publish(path, out_dir=tmp_path / "dist", pdf=True, today=today, max_age_days=AGE)
    assert runs(counted) == 1
    xlsx, pdf = report.outputs
    assert pdf.read_bytes().startswith(b"%PDF")
    values = load_workbook(xlsx, data_only=True)
    missing = formulas_without_values(xlsx)
    assert missing == []  # every formula carries the value of that one run
    assert values["Checks"]["C5"].value is not None


@pytest.mark.libreoffice
def test_forced_publication_of_a_failing_workbook_is_stamped_unchecked(
    built: Path, tmp_path: Path, counted: Path
) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(built, path)
    late = dt.date(2100, 1, 1)  # market data far too old: the age check fails
    report = publish(path, out_dir=tmp_path / "dist", pdf=True, today=late, force=True)
    assert not report.checked
    assert runs(counted) == 2  # rendered once more with the true status
    cover = load_workbook(report.outputs[0])["Cover"]
    assert "UNCHECKED" in str(cover["C24"].value)  # the stamp area build made
    assert cover["C9"].value is None


@pytest.mark.libreoffice
def test_what_only_excel_writes_travels_with_the_published_copy(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    """Threaded comments, sparklines, data bars, a picture and a text box, a picture in a cell,
    a sensitivity label, custom XML and dynamic-array metadata (tests/fixtures/excel365.py):
    the published copy has every part of the analyst's file, byte for byte apart from the
    stamp and the cached values (openpyxl's save had dropped all of them, silently). The stamp
    carries the date it was published, and the date data age was measured on when given."""
    from fixtures.excel365 import add_excel365
    from test_refresh_excel365 import assert_foreign_parts_kept, parts, worksheets

    injected = add_excel365(built, tmp_path / "analyst.xlsx")
    before = parts(injected.path)
    # the rich value (#VALUE! in a cell) fails "No error value": published with --force
    report = publish(injected.path, out_dir=tmp_path / "dist", today=today, force=True,
                     published=dt.date(2026, 1, 7), max_age_days=AGE)  # fmt: skip
    after = parts(report.outputs[0])
    assert set(after) == set(before)
    assert_foreign_parts_kept(injected, before, after)
    for part, needles in injected.kept.items():
        assert all(needle in after[part] for needle in needles), part
    changed = {n for n in before if n not in worksheets(before) and before[n] != after[n]}
    assert changed <= {"xl/workbook.xml", "xl/sharedStrings.xml", "[Content_Types].xml"}, changed
    stamp = load_workbook(report.outputs[0])["Cover"]["C24"].value
    assert stamp == (
        "Published 2026-01-07 by gpuval; dataset 2026.02.05; UNCHECKED (published with --force); "
        "data age measured on 2026-01-06"
    )


@pytest.mark.libreoffice
def test_a_macro_enabled_workbook_is_checked_and_published_without_its_macros(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    """The UDF route saves an .xlsm (its wrappers are VBA): evaluate, check, build --from and
    publish read it (its macros never run; they had refused it, while refresh kept it); the
    published copy is an .xlsx without the VBA project, and publish says where the macros
    stay."""
    from fixtures.excel365 import add_excel365
    from gpuval.workbook.build import build_from
    from gpuval.workbook.evaluate import evaluate
    from test_refresh_excel365 import assert_foreign_parts_kept, parts

    injected = add_excel365(built, tmp_path / "analyst.xlsm", macros=True)
    xlsm = injected.path
    assert evaluate(xlsm) == evaluate(built)
    assert build_from(xlsm, tmp_path / "new.xlsx")[0].exists()
    report = publish(xlsm, out_dir=tmp_path / "dist", today=today, force=True, max_age_days=AGE)
    assert report.check is not None  # publish checks it as check does
    results = {r.name: r.passed for r in report.check.results}
    assert results["outputs"] and results["formulas"]
    assert report.outputs[0].suffix == ".xlsx"
    with zipfile.ZipFile(report.outputs[0]) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert b"vbaProject" not in z.read("xl/_rels/workbook.xml.rels")
    # what only Excel writes travels as from an .xlsx (it had been dropped with the macros)
    before, after = parts(xlsm), parts(report.outputs[0])
    injected.foreign = [n for n in injected.foreign if "vbaproject" not in n.lower()]
    assert_foreign_parts_kept(injected, before, after)
    load_workbook(report.outputs[0])  # a valid .xlsx
    assert "the published copy is an .xlsx workbook: the macros stay in analyst.xlsm." in (
        report.notes
    )
