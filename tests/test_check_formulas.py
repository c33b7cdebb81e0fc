"""The formula audit by meaning, the error scan and the plausibility checks, without LibreOffice.

Small hand-made workbooks stand for "a fresh build" and "the workbook as an application saved and
an analyst edited it"; every expected finding is written out by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName

from gpuval.pipeline.check import _check_errors, audit_formulas, plausibility_findings
from gpuval.workbook.build import build_workbook


def book(sheets: dict[str, dict[str, Any]], names: dict[str, str] | None = None) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for title, cells in sheets.items():
        ws = wb.create_sheet(title)
        for coord, value in cells.items():
            ws[coord] = value
    for name, target in (names or {}).items():
        wb.defined_names[name] = DefinedName(name, attr_text=target)
    return wb


FRESH = {
    "Inputs": {"A1": "Inputs", "A3": "Growth", "B3": 0.5, "A4": "Years", "B4": 10},
    "Model": {
        "A1": "Model",
        "A3": "Revenue",
        "B3": 100,
        "C3": "=B3*(1+Inputs!B3)",
        "D3": "=C3*(1+Inputs!$B$3)",
        "A4": "Cost",
        "C4": "=IF(C3>4.0,C3*1E-9,FALSE)",
        "D4": "=SUM(C3:D3)",
        "A5": "Margin",
        "C5": "=(C3-C4)/C3",
        "D5": "=round(D3 , 2)",
    },
}


def test_an_unchanged_copy_has_no_finding() -> None:
    assert audit_formulas(book(FRESH), book(FRESH)) == []


def test_canonical_text_of_applications_gives_no_finding() -> None:
    saved = {"Inputs": FRESH["Inputs"], "Model": dict(FRESH["Model"])}
    saved["Model"].update({
        "C4": "=IF(C3>4,C3*0.000000001,FALSE())",  # what LibreOffice writes
        "D5": "=ROUND(D3,2)",  # function case and whitespace
        "C3": "=B3*(1+'Inputs'!B3)",  # quoted sheet name
        "D3": "=C3*(1+Inputs!B3)",  # $ dropped
        "D4": "=+_xlfn.SUM(C3:D3)",  # a unary plus, a future-function prefix
    })  # fmt: skip
    assert audit_formulas(book(saved), book(FRESH)) == []


def test_inserted_rows_and_columns_and_a_renamed_sheet_give_no_finding() -> None:
    # Two rows inserted at the top of Model, a column before B, one row at the top of Inputs,
    # and Inputs renamed: every reference moved as Excel and LibreOffice move them.
    moved = {
        "My inputs": {"A1": "Inputs", "A4": "Growth", "B4": 0.5, "A5": "Years", "B5": 10},
        "Model": {
            "A1": "a note the analyst added",
            "A3": "Model",
            "A5": "Revenue",
            "C5": 100,
            "D5": "=C5*(1+'My inputs'!B4)",
            "E5": "=D5*(1+'My inputs'!$B$4)",
            "A6": "Cost",
            "D6": "=IF(D5>4,D5*1E-9,FALSE)",
            "E6": "=SUM(D5:E5)",
            "A7": "Margin",
            "D7": "=(D5-D6)/D5",
            "E7": "=ROUND(E5,2)",
        },
    }
    fresh = book(FRESH, {"in_growth": "Inputs!$B$3"})
    assert audit_formulas(book(moved, {"in_growth": "'My inputs'!$B$4"}), fresh) == []


def test_a_constant_and_a_changed_formula_are_found_where_they_are_now() -> None:
    moved = {
        "Inputs": FRESH["Inputs"],
        "Model": {
            "A1": "Model",
            "A4": "Revenue",
            "B4": 100,
            "C4": 150,  # typed over =B4*(1+Inputs!B3)
            "D4": "=C4*(1+Inputs!$B$3)",
            "A5": "Cost",
            "C5": "=IF(C4>4.0,C4*1E-9,FALSE)",
            "D5": "=SUM(C4:D4)",
            "A6": "Margin",
            "C6": "=(C4-C5)/C4",
            "D6": "=ROUND(D4,3)",  # 2 -> 3
        },
    }
    assert audit_formulas(book(moved), book(FRESH)) == [
        "Model!C4: the formula =B4*(1+Inputs!B3) was replaced by the constant 150 (row 'Revenue')",
        "Model!D6: formula changed from =round(D4 , 2) to =ROUND(D4,3) (row 'Margin')",
    ]


def test_a_reference_to_another_row_is_a_change_even_if_rows_moved() -> None:
    moved = {"Inputs": {"A1": "Inputs", "A2": "new row", "A4": "Growth", "B4": 0.5, "A5": "Years",
                        "B5": 10},
             "Model": dict(FRESH["Model"])}  # fmt: skip
    # Inputs rows moved down one (row 2 inserted); Model still points at B3 = the blank row now
    moved["Model"]["C3"] = "=B3*(1+Inputs!B3)"
    moved["Model"]["D3"] = "=C3*(1+Inputs!$B$4)"
    findings = audit_formulas(book(moved), book(FRESH))
    assert findings == [
        "Model!C3: formula changed from =B3*(1+Inputs!B4) to =B3*(1+Inputs!B3) (row 'Revenue')"
    ]


def test_a_deleted_model_row_is_one_finding() -> None:
    model = {k: v for k, v in FRESH["Model"].items() if not k.endswith(("4", "5"))}
    model.update({"A4": "Margin", "C4": "=(C3-#REF!)/C3", "D4": "=ROUND(D3,2)"})  # row 5 moved up
    cut = {"Inputs": FRESH["Inputs"], "Model": model}
    findings = audit_formulas(book(cut), book(FRESH))
    assert findings[0] == (
        "Model: the model row of row 'Cost' is missing (deleted, or its label changed); it held "
        "=IF(C3>4.0,C3*1E-9,FALSE)"
    )
    assert findings[1] == (
        "Model!C4: formula changed from =(C3-C4)/C3 to =(C3-#REF!)/C3 (row 'Margin')"
    )
    assert len(findings) == 2


def test_a_missing_sheet() -> None:
    assert audit_formulas(book({"Inputs": FRESH["Inputs"]}), book(FRESH)) == [
        "sheet 'Model' is missing (deleted, or renamed beyond recognition)"
    ]


def test_text_that_looks_like_an_error_is_not_one(tmp_path: Path) -> None:
    wb = book({"Cover": {"A1": "Err: none", "A2": "#N/A is how Excel says n/a", "A3": "#DIV/0!"}})
    wb["Cover"]["A3"].data_type = "e"  # a real error value, as a recalculated file holds it
    path = tmp_path / "v.xlsx"
    wb.save(path)
    values = load_workbook(path, data_only=True)
    result = _check_errors(values, load_workbook(path))
    assert result.details == ["Cover!A3 = #DIV/0!"]


# --- plausibility on a real build (constants only: no LibreOffice needed) ---------------------


@pytest.fixture(scope="module")
def built() -> Workbook:
    return build_workbook(target="biren").wb


def cell_of(wb: Workbook, name: str, index: int = 0) -> Any:
    title, coord = next(iter(wb.defined_names[name].destinations))
    cells = wb[title][coord.replace("$", "")]
    return cells[index][0] if isinstance(cells, tuple) else cells


def test_a_fresh_build_is_plausible(built: Workbook) -> None:
    assert plausibility_findings(built) == []


def test_shares_in_millions(built: Workbook) -> None:
    shares = cell_of(built, "data_peers_shares", 0)  # biren, the first row
    assert built.defined_names["data_peers_id"] and cell_of(built, "data_peers_id").value == "biren"
    old = shares.value
    shares.value = 2395.06  # 2,395,060,000 typed in millions
    try:
        findings = plausibility_findings(built)
    finally:
        shares.value = old
    where = f"Peers!{shares.coordinate}"
    # price 85.54e9 / 2,395,055,970 = 35.715 HKD; x 2395.06 = 85,540 HKD: 1/1,000,000 of 85.54e9
    assert any(f.startswith(f"{where} (biren shares) = 2,395.06: price 35.7152") and
               "1/1,000,000 of the stated market value 85,540,000,000 HKD" in f
               for f in findings), findings  # fmt: skip


def test_a_backlog_of_1e300(built: Workbook) -> None:
    backlog = cell_of(built, "data_peers_backlog", 0)
    old = backlog.value
    backlog.value = 1e300
    try:
        findings = plausibility_findings(built)
    finally:
        backlog.value = old
    assert len(findings) == 1
    assert findings[0].startswith(f"Peers!{backlog.coordinate} (biren order backlog) = ")
    assert "outside 0.01 .. 100,000" in findings[0]


@pytest.mark.parametrize("name", ["in_dcf_convergence_year", "in_tam_start_year"])
def test_years_must_be_whole(built: Workbook, name: str) -> None:
    cell = cell_of(built, name)
    old = cell.value
    cell.value = old + 0.5
    try:
        findings = plausibility_findings(built)
    finally:
        cell.value = old
    assert len(findings) == 1
    assert findings[0].startswith(f"{cell.parent.title}!{cell.coordinate} ({name}, ")
    assert f"= {old + 0.5:g}: must be a whole number (year)" in findings[0]


# --- Excel's way of storing formulas ------------------------------------------------------------


def as_shared_formulas(src: Path, dst: Path) -> int:
    """Rewrite ``src`` as Excel stores copied formulas: a run of cells in a row whose formulas are
    the first one copied across becomes one shared formula (``t="shared"``, the text only in the
    first cell). Returns how many cells lost their own formula text."""
    import re
    import zipfile

    from openpyxl.formula.translate import Translator

    cell = re.compile(r'<c r="([A-Z]+)([0-9]+)"([^>]*)><f>([^<]*)</f>')
    dropped = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                found = list(cell.finditer(text))
                runs: list[list[re.Match[str]]] = []
                for m in found:
                    run = runs[-1] if runs else None
                    if (
                        run
                        and run[-1][2] == m[2]
                        and run[0][4]
                        and Translator(
                            "=" + run[0][4].replace("&amp;", "&").replace("&quot;", '"'),
                            origin=f"{run[0][1]}{run[0][2]}",
                        ).translate_formula(f"{m[1]}{m[2]}")[1:]
                        == m[4].replace("&amp;", "&").replace("&quot;", '"')
                    ):
                        run.append(m)
                    else:
                        runs.append([m])
                pieces, last, si = [], 0, 0
                for run in runs:
                    if len(run) < 2:
                        continue
                    ref = f"{run[0][1]}{run[0][2]}:{run[-1][1]}{run[-1][2]}"
                    for k, m in enumerate(run):
                        pieces.append(text[last : m.start()])
                        f = (f'<f t="shared" ref="{ref}" si="{si}">{m[4]}</f>' if k == 0
                             else f'<f t="shared" si="{si}"/>')  # fmt: skip
                        pieces.append(f'<c r="{m[1]}{m[2]}"{m[3]}>{f}')
                        last = m.end()
                        dropped += k > 0
                    si += 1
                pieces.append(text[last:])
                data = "".join(pieces).encode("utf-8")
            zout.writestr(info, data)
    return dropped


def test_excels_shared_formulas_give_no_finding(tmp_path: Path) -> None:
    from gpuval.workbook.build import build

    built = build(tmp_path / "built.xlsx")
    shared = tmp_path / "shared.xlsx"
    assert as_shared_formulas(built, shared) > 100  # the model is mostly rows copied across
    wb = load_workbook(shared)
    assert audit_formulas(wb) == []
    # and a cell typed over inside a shared run (not its first cell) is still found
    ws = wb["Scenarios"]
    row = next(c.row for c in ws["A"] if c.value == "Revenue in the exit year")
    header = next(c.row for c in ws["A"] if c.value == "Step")
    col = next(c.column_letter for c in ws[header] if c.value == "Base")
    assert ws[f"{col}{row}"].value.startswith("=")  # translated from the run's first cell
    ws[f"{col}{row}"] = 5.0
    assert [d.split(":")[0] for d in audit_formulas(wb)] == [f"Scenarios!{col}{row}"]


def test_na_is_an_error_except_in_a_chart_column() -> None:
    """#N/A in a chart_* column is a point the chart skips, also in a row typed under the table
    (the formulas check names that row); anywhere else, above the column's area too, an error."""
    from gpuval.pipeline.check import _check_errors

    values = Workbook()
    ws = values.active
    assert ws is not None
    ws.title = "Peers"
    ws["C1"], ws["C2"], ws["C4"], ws["D2"] = "#N/A", "#N/A", "#N/A", "#N/A"
    values.defined_names["chart_peers_mv"] = DefinedName(
        "chart_peers_mv", attr_text="Peers!$C$2:$C$3"
    )
    result = _check_errors(values, values)
    assert not result.passed and result.details == ["Peers!C1 = #N/A", "Peers!D2 = #N/A"]


@pytest.mark.parametrize(
    ("name", "typed", "label", "allowed"),
    [
        ("data_peers_listing_ccy", "RMB", "Listing ccy", "CNY, HKD, USD"),
        ("data_peers_listing_ccy", "cny", "Listing ccy", "CNY, HKD, USD"),
        ("data_peers_venue", "Hong Kong", "Venue", "A, HK, US"),
        ("data_peers_venue", "A ", "Venue", "A, HK, US"),
    ],
)
def test_a_value_none_of_the_choices_is_named(
    built: Workbook, name: str, typed: str, label: str, allowed: str
) -> None:
    """Typed or pasted past the drop-down: "RMB" made MetaX's market value #VALUE! and its
    statistics line say "no market value"; "Hong Kong" left it out of the venue gap. Either way
    check said nothing of the cause. Another case or a trailing space is named too: Excel's
    ="CNY" ignores case but not the space, and the core compares exactly, so the two would
    value the target differently."""
    cell = cell_of(built, name, 2)  # metax, the third row
    old = cell.value
    try:
        cell.value = typed
        findings = plausibility_findings(built)
    finally:
        cell.value = old
    assert findings == [
        f"Peers!{cell.coordinate} (metax, {label}) = {typed!r}: none of {allowed}, which the "
        "model knows; the figures that need it read n/a or an error"
    ]


def test_a_used_row_without_its_date_or_what_its_figure_is_reads_plainly() -> None:
    """A used row (Date if used "no date") whose market figure date and "Market figure is" are
    empty: named by its date cell, without a Python "(None)" for the empty label."""
    from gpuval.pipeline.check import _check_age

    values = book(
        {"Peers": {"A6": "newco", "F6": 10, "G6": 1e9, "P6": None, "Q6": None, "AQ6": "no date"}},
        {"peers_used_dates": "Peers!$AQ$6:$AQ$6", "data_peers_as_of": "Peers!$Q$6:$Q$6",
         "data_peers_id": "Peers!$A$6:$A$6", "data_peers_price": "Peers!$F$6:$F$6",
         "data_peers_shares": "Peers!$G$6:$G$6", "data_peers_market_basis": "Peers!$P$6:$P$6"},
    )  # fmt: skip
    result = _check_age(values, 30, dt.date(2026, 1, 6))
    assert result.details == ["Peers!Q6 newco price has no date (Market figure date is empty)"]
