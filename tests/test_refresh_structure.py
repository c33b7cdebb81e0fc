"""Refresh after an analyst restructured the workbook in LibreOffice (rows inserted at the top of
Inputs, Peers and Monte Carlo, a column inserted in Scenarios, sheets renamed, Data among them
before any refresh defined its name): every labelled value equals the unedited copy's, because
refresh finds everything by name or label."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from apps.libreoffice import (
    InsertColumns,
    InsertRows,
    RenameSheet,
    edit_in_libreoffice,
    require_uno,
)
from gpuval.pipeline.recalc import recalculate
from gpuval.pipeline.refresh import refresh
from gpuval.pipeline.soak import soak
from gpuval.workbook.build import build
from gpuval.workbook.sheets import montecarlo
from workbook_helpers import close, named_cell

pytestmark = pytest.mark.libreoffice

EDITS = [
    InsertRows("Inputs", at=1, count=2),
    InsertRows("Peers", at=1, count=2),
    InsertRows("Monte Carlo", at=1, count=2),
    InsertColumns("Scenarios", at="B", count=1),
    RenameSheet("Inputs", "My inputs"),
    RenameSheet("Monte Carlo", "Simulation"),
    RenameSheet("Peers", "同业"),  # a name Excel writes unquoted in formulas
    RenameSheet("Data", "Records"),  # before any refresh: found by its header row
]


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    require_uno()
    folder = tmp_path_factory.mktemp("structure")
    built = build(folder / "built.xlsx")
    plain = edit_in_libreoffice(built, folder / "plain.xlsx")  # opened and saved, no edits
    edited = edit_in_libreoffice(built, folder / "edited.xlsx", EDITS)
    prices = folder / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n"
                      "nvidia,2026-11-19,180.0,USD,24300000000\n")  # fmt: skip
    for path in (plain, edited):
        refresh(path, prices=prices)
    return folder, plain, edited


def labelled(wb: Any) -> dict[str, Any]:
    """Every value under a gpuval name (ranges as lists), and the Monte Carlo figures by label."""
    out: dict[str, Any] = {}
    for name, defined in wb.defined_names.items():
        if not name.startswith(("in_", "out_", "data_", "mc_", "tpl_", "tgt_", "chk_")):
            continue
        places = list(defined.destinations)
        if len(places) != 1:
            continue
        title, coord = places[0]
        cells = wb[title][coord.replace("$", "")]
        rows = cells if isinstance(cells, tuple) else ((cells,),)
        out[name] = [c.value for row in rows for c in row]
    sim = next(ws for ws in wb.worksheets if ws["A1"].value == montecarlo.TITLE or
               ws.title in ("Simulation", montecarlo.TITLE))  # fmt: skip
    for row in sim.iter_rows(max_col=2):
        if isinstance(row[0].value, str) and row[0].value in montecarlo.FACTS:
            out[f"label {row[0].value}"] = [row[1].value]
    return out


def test_every_labelled_value_equals_the_unedited_copys(copies: tuple[Path, Path, Path]) -> None:
    folder, plain, edited = copies
    a = labelled(load_workbook(recalculate(plain, folder / "plain.recalc.xlsx"), data_only=True))
    b = labelled(load_workbook(recalculate(edited, folder / "edited.recalc.xlsx"),
                               data_only=True))  # fmt: skip
    assert set(a) == set(b) and len(a) >= 130
    assert {"mc_mean", "mc_std", "mc_p50", "label Mean value per share"} <= set(a)
    different = [
        name for name in a
        if len(a[name]) != len(b[name]) or not all(
            x == y or (isinstance(x, float) and isinstance(y, float) and close(x, y, 1e-12))
            for x, y in zip(a[name], b[name], strict=True))
    ]  # fmt: skip
    assert different == [], {n: (a[n], b[n]) for n in different}
    # and the values are the refreshed ones, not stale ones
    assert 41.5 in a["data_peers_price"]


def test_the_edits_happened(copies: tuple[Path, Path, Path]) -> None:
    _folder, _plain, edited = copies
    wb = load_workbook(edited)
    assert {"My inputs", "Simulation", "同业", "Records"} <= set(wb.sheetnames)
    assert next(iter(wb.defined_names["data_records"].destinations))[0] == "Records"
    title, coord = next(iter(wb.defined_names["mc_mean"].destinations))
    assert title == "Simulation" and coord == "$B$10"  # row 8 before two rows were inserted


def test_gpuvals_notes_stay_single_after_libreoffice_drops_their_author(
    copies: tuple[Path, Path, Path],
) -> None:
    """LibreOffice saves every note with the author " ": refresh still knows its own notes by
    their text and replaces them, instead of appending its citation to "an analyst's" note."""
    folder, plain, _edited = copies

    def notes(path: Path) -> dict[str, tuple[str, str]]:
        ws = load_workbook(path)["Peers"]
        return {c.coordinate: (c.comment.author, c.comment.text)
                for row in ws.iter_rows() for c in row if c.comment}  # fmt: skip

    built, refreshed = notes(folder / "built.xlsx"), notes(plain)
    assert len(built) >= 15 and {a for a, _ in built.values()} == {"gpuval"}
    assert {a.strip() for a, _ in refreshed.values()} == {""}  # LibreOffice's doing
    assert refreshed.keys() == built.keys()
    priced = {k for k, (_a, t) in refreshed.items() if t.startswith("prices file: ")}
    assert priced == {"F6", "F12", "G12"}  # the prices file's Biren price, NVIDIA's price, shares
    assert {k: t for k, (_a, t) in refreshed.items() if k not in priced} == {
        k: t for k, (_a, t) in built.items() if k not in priced}  # fmt: skip


def test_soak_on_a_libreoffice_saved_copy(copies: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _folder, plain, _edited = copies
    base = tmp_path / "lo.xlsx"
    shutil.copy(plain, base)
    result = soak(base, tmp_path, refreshes=8, seed=11)
    assert result.lost == []


def test_a_libreoffice_saved_copy_has_nothing_to_refresh(tmp_path: Path) -> None:
    require_uno()
    built = build(tmp_path / "built.xlsx")
    saved = edit_in_libreoffice(built, tmp_path / "saved.xlsx")  # 15 significant digits kept
    report = refresh(saved)
    assert report.changes == [], report.lines()


def test_an_input_the_analyst_made_a_formula_is_read_from_its_cached_value(
    tmp_path: Path,
) -> None:
    from apps.libreoffice import SetFormula
    from gpuval.workbook.evaluate import evaluate

    require_uno()
    built = build(tmp_path / "built.xlsx")
    cell = named_cell(load_workbook(built), "in_share_base")  # Biren's Base share
    title, coord = cell.parent.title, cell.coordinate
    saved = edit_in_libreoffice(built, tmp_path / "formula.xlsx",
                                [SetFormula(title, coord, "=0.01*2")])  # fmt: skip
    report = refresh(saved)
    assert not [n for n in report.notes if "not valid" in n], report.notes
    assert load_workbook(saved)[title][coord].value == "=0.01*2"
    assert report.changes == [] and report.movers == []  # read the same way before and after
    assert evaluate(saved)["out_value_per_share_base"] is not None
