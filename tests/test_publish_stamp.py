"""publish writes only its stamp cell, never replaces an earlier publication, and runs LibreOffice
once (recalculation, values and the PDF together)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.defined_name import DefinedName

from apps.libreoffice import InsertRows, SetValue, edit_in_libreoffice, require_uno
from gpuval.cli import main
from gpuval.pipeline.publish import publish
from gpuval.pipeline.recalc import find_soffice
from gpuval.workbook.build import build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("publish") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def today(built: Path) -> dt.date:
    asof = load_workbook(built)["Cover"]["C5"].value
    assert isinstance(asof, dt.datetime), "the Cover's market-data date moved; update this test"
    return asof.date() + dt.timedelta(days=1)


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
    report = publish(analyst, out_dir=tmp_path / "dist", today=today)
    before, after = cells(analyst), cells(report.outputs[0])
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # The dataset line is now row 10 (8 + 2), the contact line row 11, "How to use" and its five
    # lines rows 12-17: the first row below the dataset line with B and C empty is 18.
    built_cover = load_workbook(built)["Cover"]
    assert built_cover["B8"].value == "Dataset" and built_cover["B16"].value is None
    assert all(built_cover.cell(r, 2).value for r in range(10, 16))
    assert changed == {"Cover!B18", "Cover!C18"}, changed
    assert after["Cover!B18"] == "Published"
    assert str(after["Cover!C18"]).startswith(f"Published {today.isoformat()} by gpuval; dataset ")
    assert after["Cover!C11"] == "=ann@example.com (text, not a formula)"
    wb = load_workbook(report.outputs[0])
    assert wb["Cover"]["C11"].data_type == "s"  # text stays text
    assert wb.defined_names["pub_stamp"].attr_text == "Cover!$C$18"


@pytest.mark.libreoffice
def test_publish_writes_into_the_named_stamp_cell(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    wb = load_workbook(built)
    wb["Cover"]["E3"] = "Published"
    wb.defined_names["pub_stamp"] = DefinedName("pub_stamp", attr_text="Cover!$F$3")
    path = tmp_path / "named.xlsx"
    wb.save(path)
    report = publish(path, out_dir=tmp_path / "dist", today=today)
    before, after = cells(path), cells(report.outputs[0])
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {"Cover!F3"}
    assert "check passed" in str(after["Cover!F3"])


@pytest.mark.libreoffice
def test_an_earlier_publication_is_never_replaced(
    built: Path, today: dt.date, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(built, path)
    out = tmp_path / "dist"
    first = publish(path, out_dir=out, today=today)
    first_bytes = first.outputs[0].read_bytes()
    asof = (today - dt.timedelta(days=1)).isoformat()
    assert first.outputs[0].name == f"analyst_{asof}.xlsx" and first.notes == []
    args = ["publish", str(path), "--out-dir", str(out), "--today", today.isoformat(), "-q"]
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
    report = publish(path, out_dir=tmp_path / "dist", pdf=True, today=today)
    assert runs(counted) == 1
    xlsx, pdf = report.outputs
    assert pdf.read_bytes().startswith(b"%PDF")
    values = load_workbook(xlsx, data_only=True)
    formulas = load_workbook(xlsx)
    missing = [
        f"{ws.title}!{c.coordinate}"
        for ws in formulas.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" and values[ws.title][c.coordinate].value is None
    ]
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
    assert "UNCHECKED" in str(cover["C9"].value)  # the first free row below the dataset line
