"""``gpuval check`` on workbooks saved and edited by LibreOffice (through UNO, as an analyst would).

check must pass after an application's open-and-save and after structural edits (rows inserted
at the top of Inputs, Peers and Cover, columns inserted, sheets renamed), and must still find, at
the cell's current address, a constant typed over a model formula, a changed formula, shares typed
in millions and a non-integer year.

Expected addresses are worked out here from the fresh build's addresses and the edits made (rows
and columns inserted above or before them), not read from the edited file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from apps.libreoffice import (
    Edit,
    InsertColumns,
    InsertRows,
    InsertSheet,
    RenameSheet,
    SetFormula,
    SetValue,
    edit_in_libreoffice,
    require_uno,
)
from gpuval.pipeline.check import CheckReport, check_workbook
from gpuval.workbook.build import build

#: Rows inserted at the top of Inputs, Peers and Cover; columns before Scenarios!C and Peers!A.
STRUCTURE: list[Edit] = [
    InsertRows("Inputs", at=1, count=3),
    InsertRows("Peers", at=1, count=2),
    InsertRows("Cover", at=1, count=1),
    InsertColumns("Scenarios", at="C"),
    InsertColumns("Peers", at="A"),
]
RENAMES: list[Edit] = [RenameSheet("Inputs", "My inputs"), RenameSheet("Peers", "Peer table")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("check-apps") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def today() -> dt.date:
    """A day after the newest market figure (Biren's price of 2026-01-05); see :data:`AGE`."""
    return dt.date(2026, 1, 6)


#: The age limit that lets a fresh build pass on :func:`today`: the one market figure a Biren
#: workbook uses by default is Biren's price of 2026-01-05, a day before (no peer reports its
#: FY2024; "x% of NVIDIA" has weight 0).
AGE = 1


def address(built: Path, name: str, index: int = 0) -> tuple[str, int, int]:
    """(sheet, row, column) of a defined name's cell in the fresh build."""
    wb = load_workbook(built)
    title, coord = next(iter(wb.defined_names[name].destinations))
    first = coord.replace("$", "").split(":")[0]
    letters = first.rstrip("0123456789")
    return title, int(first[len(letters) :]) + index, column_index_from_string(letters)


def row_of(built: Path, sheet: str, label: str) -> int:
    ws = load_workbook(built)[sheet]
    rows = [c.row for c in ws["A"] if c.value == label]
    assert len(rows) == 1, f"{sheet} has no single row labelled {label!r}; update this test"
    return rows[0]


def column_of(built: Path, sheet: str, header: str, header_row: int) -> int:
    ws = load_workbook(built)[sheet]
    cols = [c.column for c in ws[header_row] if c.value == header]
    assert len(cols) == 1, f"{sheet} has no single column headed {header!r}; update this test"
    return cols[0]


def failures(report: CheckReport) -> dict[str, list[str]]:
    return {r.name: r.details for r in report.results if not r.passed}


@pytest.mark.libreoffice
@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([], id="open-and-save"),
        pytest.param(STRUCTURE[:3], id="rows-at-the-top-of-inputs-peers-cover"),
        pytest.param(STRUCTURE[3:], id="columns-inserted"),
        pytest.param(RENAMES, id="sheets-renamed"),
        # a sheet without defined names, renamed, is known by its heading (it was known by its
        # position, which a sheet of the analyst's inserted before it moved)
        pytest.param(
            [RenameSheet("Sensitivity", "Sens grids"), InsertSheet("My notes", at=1)],
            id="renamed-after-a-sheet-inserted",
        ),
        # two blank rows inside the peer table (its third row; every data_peers_ name grows)
        pytest.param([InsertRows("Peers", at=8, count=2)], id="blank-rows-inside-the-peer-table"),
        pytest.param(
            [*STRUCTURE, *RENAMES, SetValue("Cover", "B40", "Err: none")], id="all-at-once"
        ),
    ],
)
def test_check_passes_after_the_application_saves_and_edits(
    built: Path, today: dt.date, tmp_path: Path, edits: list[Edit]
) -> None:
    require_uno()
    saved = edit_in_libreoffice(built, tmp_path / "analyst.xlsx", edits)
    report = check_workbook(saved, today=today, max_age_days=AGE)
    assert failures(report) == {}


@pytest.mark.libreoffice
def test_a_company_typed_into_the_peer_table_without_an_id_is_found(
    built: Path, today: dt.date, tmp_path: Path
) -> None:
    """A row with a name and a price but no id or formulas is a company the workbook leaves
    out: check names its empty formula cells (a row left wholly empty gives no finding)."""
    require_uno()
    edits: list[Edit] = [InsertRows("Peers", at=8), SetValue("Peers", "B8", "Newco"),
                         SetValue("Peers", "F8", 12.5)]  # fmt: skip
    saved = edit_in_libreoffice(built, tmp_path / "analyst.xlsx", edits)
    details = failures(check_workbook(saved, today=today, max_age_days=AGE)).get("formulas", [])
    row8 = [
        d for d in details if re.match(r"Peers![A-Z]+8: the formula .* was replaced by empty", d)
    ]
    assert row8, details


@pytest.fixture(scope="module")
def broken(
    built: Path, today: dt.date, tmp_path_factory: pytest.TempPathFactory
) -> tuple[CheckReport, dict[str, str]]:
    """The structurally edited, renamed copy, then four mistakes; the check report and where
    each mistake is now."""
    require_uno()
    # Scenarios: one column inserted before C, so the Base column moves right by one.
    header = row_of(built, "Scenarios", "Step")
    base = get_column_letter(column_of(built, "Scenarios", "Base", header) + 1)
    revenue = row_of(built, "Scenarios", "Revenue in the exit year")
    earnings = row_of(built, "Scenarios", "Earnings in the exit year")
    # Peers: two rows above and one column before everything; Inputs: three rows above.
    _, shares_row, shares_col = address(built, "data_peers_shares", 0)  # biren, the first row
    _, year_row, year_col = address(built, "in_tam_start_year")
    shares = f"{get_column_letter(shares_col + 1)}{shares_row + 2}"
    year = f"{get_column_letter(year_col)}{year_row + 3}"
    assert load_workbook(built)["Peers"].cell(shares_row, 1).value == "biren"
    mistakes: list[Edit] = [
        SetValue("Scenarios", f"{base}{revenue}", 123.0),
        SetFormula("Scenarios", f"{base}{earnings}", f"={base}{revenue}*2"),
        SetValue("Peer table", shares, 2395.06),
        SetValue("My inputs", year, 2.5),
    ]
    path = tmp_path_factory.mktemp("broken") / "analyst.xlsx"
    edit_in_libreoffice(built, path, [*STRUCTURE, *RENAMES, *mistakes])
    _, bear_row, bear_col = address(built, "out_value_per_share_bear")
    where = {
        "bear": f"Scenarios!{get_column_letter(bear_col + 1)}{bear_row}",
        "revenue": f"Scenarios!{base}{revenue}",
        "earnings": f"Scenarios!{base}{earnings}",
        "shares": f"'Peer table'!{shares}",
        "year": f"'My inputs'!{year}",
    }
    return check_workbook(path, today=today, max_age_days=AGE), where


@pytest.mark.libreoffice
def test_a_constant_over_a_model_formula_is_found_where_it_is(broken) -> None:  # type: ignore[no-untyped-def]
    report, where = broken
    found = [d for d in failures(report)["formulas"] if d.startswith(where["revenue"] + ":")]
    assert len(found) == 1, failures(report)["formulas"]
    assert "was replaced by the constant 123" in found[0]
    assert found[0].endswith("(row 'Revenue in the exit year')")


@pytest.mark.libreoffice
def test_a_changed_formula_is_found_where_it_is(broken) -> None:  # type: ignore[no-untyped-def]
    report, where = broken
    found = [d for d in failures(report)["formulas"] if d.startswith(where["earnings"] + ":")]
    assert len(found) == 1, failures(report)["formulas"]
    assert "formula changed from" in found[0]
    assert found[0].endswith("(row 'Earnings in the exit year')")
    # nothing else: the structural edits, the renames and LibreOffice's rewriting are no finding
    assert len(failures(report)["formulas"]) == 2


@pytest.mark.libreoffice
def test_shares_in_millions_fail_naming_the_cell(broken) -> None:  # type: ignore[no-untyped-def]
    report, where = broken
    details = failures(report)["plausible"]
    found = [d for d in details if d.startswith(f"{where['shares']} (biren shares) = 2,395.06:")]
    assert len(found) == 1, details
    assert "the stated market value 85,540,000,000 HKD" in found[0]
    assert "1/1,000,000 of the stated market value 85,540,000,000 HKD" in found[0]
    # the Bear value per share (not touched by the other mistakes) is then ~1e6 times too large
    bear = where["bear"]
    assert any(
        d.startswith(f"{bear} (out_value_per_share_bear) = ") and " times the share price " in d
        for d in details
    ), details


@pytest.mark.libreoffice
def test_a_non_integer_year_fails_naming_the_cell(broken) -> None:  # type: ignore[no-untyped-def]
    report, where = broken
    details = failures(report)["plausible"]
    assert any(
        d.startswith(f"{where['year']} (in_tam_start_year, ")
        and "= 2.5: must be a whole number (year)" in d
        for d in details
    ), details
