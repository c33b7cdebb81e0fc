"""The LibreOffice application helper really edits: every edit is seen by openpyxl in the saved
file, at the address a person would expect, with references and defined names moved along."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName

from apps.libreoffice import (
    DeleteColumns,
    DeleteRows,
    InsertColumns,
    InsertRows,
    LibreOfficeEditError,
    RenameSheet,
    SetFormula,
    SetValue,
    edit_in_libreoffice,
    require_uno,
)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Data on 'Data' (A1:B3), a formula on 'Calc' reading it, and a defined name."""
    wb = Workbook()
    data = wb.active
    data.title = "Data"
    for r, (label, value) in enumerate([("a", 1.5), ("b", 2.0), ("c", 4.0)], start=1):
        data.cell(r, 1, label)
        data.cell(r, 2, value)
    calc = wb.create_sheet("Calc")
    calc["A1"] = "total"
    calc["B1"] = "=SUM(Data!B1:B3)"
    calc["B2"] = "=Data!B3*2"
    wb.defined_names["total"] = DefinedName("total", attr_text="Calc!$B$1")
    path = tmp_path / "small.xlsx"
    wb.save(path)
    return path


@pytest.mark.libreoffice
def test_open_and_save_keeps_content_and_adds_values(small: Path, tmp_path: Path) -> None:
    require_uno()
    out = edit_in_libreoffice(small, tmp_path / "saved.xlsx")
    formulas, values = load_workbook(out), load_workbook(out, data_only=True)
    assert formulas["Calc"]["B1"].value == "=SUM(Data!B1:B3)"
    assert values["Calc"]["B1"].value == 7.5  # 1.5 + 2 + 4, computed by LibreOffice on save
    assert values["Calc"]["B2"].value == 8.0


@pytest.mark.libreoffice
def test_inserted_rows_and_columns_shift_cells_references_and_names(
    small: Path, tmp_path: Path
) -> None:
    require_uno()
    out = edit_in_libreoffice(
        small,
        tmp_path / "edited.xlsx",
        [InsertRows("Data", at=1, count=2), InsertColumns("Calc", at="A"),
         InsertRows("Calc", at=2)],
    )  # fmt: skip
    wb = load_workbook(out)
    assert [wb["Data"].cell(r, 1).value for r in range(1, 6)] == [None, None, "a", "b", "c"]
    assert wb["Calc"]["B1"].value == "total"  # column A pushed right
    assert wb["Calc"]["C1"].value == "=SUM(Data!B3:B5)"
    assert wb["Calc"]["C3"].value == "=Data!B5*2"  # row 2 pushed down to 3
    assert wb.defined_names["total"].attr_text == "Calc!$C$1"


@pytest.mark.libreoffice
def test_delete_rename_and_set(small: Path, tmp_path: Path) -> None:
    require_uno()
    out = edit_in_libreoffice(
        small,
        tmp_path / "edited.xlsx",
        [DeleteRows("Data", at=1), RenameSheet("Data", "My data"), DeleteColumns("Calc", "C"),
         SetValue("My data", "B1", 10), SetValue("Calc", "A2", "=not a formula"),
         SetFormula("Calc", "C1", "=MAX(B1;B2)")],
    )  # fmt: skip
    formulas, values = load_workbook(out), load_workbook(out, data_only=True)
    assert formulas.sheetnames == ["My data", "Calc"]
    assert [formulas["My data"].cell(r, 1).value for r in (1, 2)] == ["b", "c"]
    assert formulas["Calc"]["B1"].value == "=SUM('My data'!B1:B2)"
    assert formulas["Calc"]["A2"].value == "=not a formula"
    assert formulas["Calc"]["A2"].data_type == "s"  # text stays text
    assert formulas["Calc"]["C1"].value == "=MAX(B1,B2)"  # stored with Excel's separators
    assert values["Calc"]["B1"].value == 14.0  # 10 + 4
    assert values["Calc"]["C1"].value == 14.0


@pytest.mark.libreoffice
def test_a_bad_edit_is_one_message(small: Path, tmp_path: Path) -> None:
    require_uno()
    with pytest.raises(LibreOfficeEditError, match="no sheet 'Nope'"):
        edit_in_libreoffice(small, tmp_path / "x.xlsx", [InsertRows("Nope", at=1)])
    assert not (tmp_path / "x.xlsx").exists()
