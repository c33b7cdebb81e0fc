"""Companies taken out of and added to the peer table in LibreOffice, as an analyst would.

Deleting a company's row drops it from the statistics, the sample lists and the charts; a company
typed into a row inserted inside the table, with the formula columns copied down from the row
above, is counted in them, and a prices file prices it; without its formulas, the in-sheet master
check turns red. Either way ``gpuval check`` finds nothing to report but what the
analyst left undone. Expected values come from the unedited workbook as LibreOffice computes it
(a company removed from, or a hand-computed P/S added to, its lists), not from gpuval's code.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter as cell

from apps.libreoffice import (
    CopyRange,
    DeleteRows,
    InsertRows,
    SetValue,
    edit_in_libreoffice,
    require_uno,
)
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import build
from gpuval.workbook.sheets.peers import (
    CALC,
    FORMULAS_CHECK,
    IDS_CHECK,
    NUMBERS_CHECK,
    RAW,
    SLOTS,
    STATS_TITLE,
    TABLE_HEADER_ROW,
    TITLE,
)
from workbook_helpers import named_cell

TODAY = dt.date(2026, 1, 6)
AGE = 20  # MetaX's market value of 2025-12 (from its listing, 2025-12-17), the oldest used
BARS = "Chart bars: company (with a P/S, in order)"
PEER_PS = "Peer P/S (statistics)"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Biren, counting each peer's latest fiscal year (``in_peer_years`` = "any"), so that the
    FY2025 peers are in its statistics and lists."""
    path = build(tmp_path_factory.mktemp("peer-rows") / "gpu_valuation.xlsx")
    wb = load_workbook(path)
    named_cell(wb, "in_peer_years").value = "any"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def unedited(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The workbook as LibreOffice computes it, opened and saved with no edit."""
    require_uno()
    return shown(edit_in_libreoffice(built, tmp_path_factory.mktemp("plain") / "plain.xlsx"))


def shown(path: Path) -> dict[str, Any]:
    """What a reader sees: the peer table's ids and peer P/S by row, the companies the P/S chart
    draws, the red line over the charts, and the statistics' count, median and sample lines."""
    wb = load_workbook(path, data_only=True)
    table, stats = wb[TITLE], wb[STATS_TITLE]
    headers = {c.value: c.column for c in table[TABLE_HEADER_ROW] if c.value}
    rows = range(TABLE_HEADER_ROW + 1, table.max_row + 1)
    ids = [table.cell(r, 1).value for r in rows]
    n = ids.index(None) if None in ids else len(ids)

    def column(header: str) -> list[Any]:
        return [table.cell(r, headers[header]).value for r in rows][:n]

    labels = {c.value: c.row for c in stats["A"] if isinstance(c.value, str)}
    checks = {r[0].value: r[2].value for r in wb["Checks"].iter_rows(max_col=3)}
    (bars,) = [c for row in stats.iter_rows() for c in row if c.value == BARS]
    slots = int(wb.defined_names[SLOTS].attr_text)  # the lines the charts read
    read = range(bars.row + 1, bars.row + 1 + slots)
    return {
        "ids": ids[:n],
        "bars": [stats.cell(r, bars.column).value for r in read],  # an empty slot: None
        "shown": next((c.value for c in stats["A"] if str(c.value).startswith("The charts")), None),
        "peer_ps": column(PEER_PS),
        "used": column("Date if used"),
        "asof": named_cell(wb, "data_asof").value,
        "count": stats.cell(labels["Count"], 3).value,
        "count_note": stats.cell(labels["Count"], 4).value,
        "median": stats.cell(labels["Median"], 3).value,
        "sample": stats.cell(labels["Sample"], 3).value,
        "hk_sample": stats.cell(labels["Hong Kong sample"], 3).value,
        "formulas_check": checks.get(FORMULAS_CHECK),
        "numbers_check": checks.get(NUMBERS_CHECK),
        "ids_check": checks.get(IDS_CHECK),
        "master": named_cell(wb, "chk_master").value,
    }


def failures(path: Path) -> dict[str, list[str]]:
    report = check_workbook(path, today=TODAY, max_age_days=AGE)
    return {r.name: r.details for r in report.results if not r.passed}


@pytest.mark.libreoffice
def test_a_deleted_company_leaves_the_statistics_lists_and_charts(
    built: Path, unedited: dict[str, Any], tmp_path: Path
) -> None:
    require_uno()
    row = TABLE_HEADER_ROW + 1 + unedited["ids"].index("moore_threads")
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", [DeleteRows(TITLE, at=row)])
    assert failures(path) == {}  # no #REF!, every formula as a build of the smaller table
    after = shown(path)
    assert after["ids"] == [i for i in unedited["ids"] if i != "moore_threads"]
    names = unedited["sample"].split(", ")
    assert "Moore Threads" in names and unedited["count"] == len(names)
    assert after["sample"] == ", ".join(n for n in names if n != "Moore Threads")
    assert after["count"] == unedited["count"] - 1
    # the chart slots close up: every other company keeps its bar, in table order, and the
    # last slot is empty
    assert None not in unedited["bars"]
    assert after["bars"] == [*(b for b in unedited["bars"] if b != "Moore Threads"), None]


@pytest.mark.libreoffice
def test_a_company_typed_with_its_formulas_copied_down_is_counted(
    built: Path, unedited: dict[str, Any], tmp_path: Path
) -> None:
    """Newco: HKD 10 x 1e9 shares over a full-year revenue of HKD 100m is a P/S of 100x, in any
    currency. Typed between Moore Threads and MetaX, it is a Hong Kong peer of Biren's."""
    require_uno()
    row = TABLE_HEADER_ROW + 1 + unedited["ids"].index("metax")  # pushes MetaX down
    typed = {"id": "newco", "name": "Newco", "venue": "HK", "listing_ccy": "HKD",
             "reporting_ccy": "HKD", "price": 10, "shares": 1e9, "revenue_fy": 1e8,
             "in_stats": "yes", "market_basis": "share price", "fy_year": 2025,
             "fy_basis": "FY2025 reported", "ticker": "09999.HK"}  # fmt: skip
    keys = list(RAW)
    first, end = cell(len(RAW) + 1), cell(len(RAW) + len(CALC))  # the formula columns
    edits = [
        InsertRows(TITLE, at=row),
        *(SetValue(TITLE, f"{cell(keys.index(k) + 1)}{row}", v) for k, v in typed.items()),
        CopyRange(TITLE, f"{first}{row - 1}:{end}{row - 1}", f"{first}{row}"),
    ]
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", edits)
    # the one thing left undone, the figure's date, is named; everything else holds
    date = f"{cell(keys.index('as_of') + 1)}{row}"
    assert failures(path) == {
        "data_age": [
            f"Peers!{date} newco price (share price) has no date (Market figure date is empty)"
        ]
    }
    after = shown(path)
    assert after["ids"][row - TABLE_HEADER_ROW - 1] == "newco"
    # counted but undated: its date, and so the workbook's as-of, read "no date" (not 1899-12-30)
    assert after["used"][row - TABLE_HEADER_ROW - 1] == "no date"
    assert isinstance(unedited["asof"], dt.datetime) and after["asof"] == "no date"
    newco = after["peer_ps"][row - TABLE_HEADER_ROW - 1]
    assert newco == pytest.approx(100.0, rel=1e-12)
    before = [ps for ps in unedited["peer_ps"] if isinstance(ps, float | int)]
    assert after["count"] == len(before) + 1
    assert after["median"] == pytest.approx(statistics.median([*before, 100.0]), rel=1e-12)
    names = unedited["sample"].split(", ")  # Newco in table order: after Moore Threads
    assert after["sample"] == ", ".join([names[0], "Newco", *names[1:]])
    assert unedited["hk_sample"] == "Biren Technology (the target alone)"
    assert after["hk_sample"] == "Biren Technology, Newco"
    # the charts keep the build's slots: Newco takes the third, and the red line says so
    slots = len(unedited["bars"])
    assert after["bars"] == [*unedited["bars"][:2], "Newco", *unedited["bars"][2:]][:slots]
    assert unedited["shown"] is None
    assert after["shown"] == (
        f"The charts show {slots} of the {slots + 1} companies with a P/S on this basis: the "
        "target, then the first in table order (a build makes room for the companies with a P/S "
        "in its dataset)."
    )
    assert (after["formulas_check"], after["master"]) == (True, True)
    # a date typed as text is named as such
    text = edit_in_libreoffice(path, tmp_path / "b.xlsx", [SetValue(TITLE, date, "2026-01-05")])
    assert failures(text) == {
        "data_age": [
            f"Peers!{date} newco price (share price) has no date: its market figure date is the "
            "text '2026-01-05', not a date (type it as a date)"
        ]
    }
    # a prices file prices it by its ticker and dates it; the rest of the row stays the analyst's
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency\n09999,2026-01-06,11,HKD\n", encoding="utf-8")
    refresh(path, prices=prices, now=dt.datetime(2026, 1, 6, 12))
    assert failures(path) == {}
    table = load_workbook(path)[TITLE]
    priced = {k: table[f"{cell(keys.index(k) + 1)}{row}"].value for k in [*typed, "as_of"]}
    assert priced == typed | {"price": 11, "as_of": dt.datetime(2026, 1, 6),
                              "market_basis": "2026-01-06 price (prices file)"}  # fmt: skip
    # HKD 11 x 1e9 shares over HKD 100m: 110x
    assert shown(path)["peer_ps"][row - TABLE_HEADER_ROW - 1] == pytest.approx(110.0, rel=1e-12)


@pytest.mark.libreoffice
def test_a_company_typed_without_its_formulas_fails_the_master_check(
    built: Path, unedited: dict[str, Any], tmp_path: Path
) -> None:
    """Newco typed into an inserted row without the formula columns: it is in no statistic, and
    the in-sheet master check, green on the unedited workbook, turns red and says why."""
    require_uno()
    assert (unedited["formulas_check"], unedited["master"]) == (True, True)
    row = TABLE_HEADER_ROW + 1 + unedited["ids"].index("metax")
    edits = [InsertRows(TITLE, at=row), SetValue(TITLE, f"A{row}", "newco"),
             SetValue(TITLE, f"B{row}", "Newco")]  # fmt: skip
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", edits)
    after = shown(path)
    assert (after["formulas_check"], after["master"]) == (False, False)
    found = failures(path)
    assert sorted(found) == ["formulas", "master"]
    (status,) = found["master"]
    assert status.startswith("Checks!C") and status.endswith(f": {FORMULAS_CHECK} (False)")
    first = cell(len(RAW) + 1)  # the first formula column, named with the row's company
    assert found["formulas"][0].startswith(f"Peers!{first}{row}: the formula =")
    assert found["formulas"][0].endswith("was replaced by empty (row 'newco')")
    # refresh says so, and lists no output moves the workbook would not show
    report = refresh(path, now=dt.datetime(2026, 1, 6, 12))
    assert report.movers == []
    assert (
        f"row {row} (newco) on Peers has no formulas in the computed columns (copy them down from "
        "the row above): the workbook leaves such a company out of every figure, so the outputs "
        "that moved are not listed and the master check is red." in report.notes
    )


def _typed_row(row: int, **typed: Any) -> list[Any]:
    """A company typed into a row inserted at ``row``, its formula columns copied down."""
    keys = list(RAW)
    first, end = cell(len(RAW) + 1), cell(len(RAW) + len(CALC))
    return [
        InsertRows(TITLE, at=row),
        *(SetValue(TITLE, f"{cell(keys.index(k) + 1)}{row}", v) for k, v in typed.items()),
        CopyRange(TITLE, f"{first}{row - 1}:{end}{row - 1}", f"{first}{row}"),
    ]


@pytest.mark.libreoffice
def test_a_price_typed_as_text_turns_the_master_check_red(
    built: Path, unedited: dict[str, Any], tmp_path: Path
) -> None:
    """Newco's price typed as the text "10": the sheet reads no market value and leaves it out
    of every statistic; the master check turns red and check names the cell (it had stopped on
    an internal error)."""
    require_uno()
    assert unedited["numbers_check"] is True
    row = TABLE_HEADER_ROW + 1 + unedited["ids"].index("metax")
    typed = {"id": "newco", "name": "Newco", "venue": "HK", "listing_ccy": "HKD",
             "reporting_ccy": "HKD", "price": "10", "shares": 1e9, "revenue_fy": 1e8,
             "in_stats": "yes", "fy_year": 2025, "as_of": "2026-01-05"}  # fmt: skip
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", _typed_row(row, **typed))
    after = shown(path)
    assert (after["numbers_check"], after["master"]) == (False, False)
    assert after["peer_ps"][row - TABLE_HEADER_ROW - 1] == "n/a"
    found = failures(path)
    price = f"Peers!{cell(list(RAW).index('price') + 1)}{row}"
    assert f"{price} (newco, Price (listing)) = '10': text, not a number" in " ".join(
        found["plausible"]
    )
    assert any(d.endswith(f": {NUMBERS_CHECK} (False)") for d in found["master"])


@pytest.mark.libreoffice
def test_a_second_row_with_a_company_id_is_refused(
    built: Path, unedited: dict[str, Any], tmp_path: Path
) -> None:
    """A company typed under Moore Threads' id: the master check turns red, check names both
    cells, and refresh refuses rather than write Moore Threads' figures over the typed ones."""
    require_uno()
    assert unedited["ids_check"] is True
    row = TABLE_HEADER_ROW + 1 + unedited["ids"].index("metax")
    typed = {"id": "moore_threads", "name": "Enflame", "venue": "A", "listing_ccy": "CNY",
             "reporting_ccy": "CNY", "price": 100, "shares": 1.2e9, "revenue_fy": 2e9,
             "in_stats": "yes", "fy_year": 2025}  # fmt: skip
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", _typed_row(row, **typed))
    after = shown(path)
    assert (after["ids_check"], after["master"]) == (False, False)
    mt = f"Peers!A{TABLE_HEADER_ROW + 1 + unedited['ids'].index('moore_threads')}"
    assert f"Peers!A{row} (id) = 'moore_threads': the id of {mt} too" in " ".join(
        failures(path)["plausible"]
    )
    before = path.read_bytes()
    with pytest.raises(GpuvalError) as refused:
        refresh(path, now=dt.datetime(2026, 1, 6, 12))
    assert str(refused.value) == (
        f"{mt} and Peers!A{row} both hold the id 'moore_threads': give each company its own id "
        "(an id is the same in any case; refresh cannot tell which row is the company's); "
        "nothing was refreshed."
    )
    assert path.read_bytes() == before


@pytest.mark.libreoffice
def test_the_first_and_last_companies_deleted_the_target_charted_first(tmp_path: Path) -> None:
    """MetaX's workbook without Biren (the first row) and NVIDIA (the last): nothing to report
    (the Assumptions sheet keeps its columns), and of the two companies left with a full-year
    P/S, MetaX comes first on the charts as the target, then Moore Threads; two slots empty."""
    require_uno()
    built = build(tmp_path / "metax.xlsx", target="metax")
    ids = shown(edit_in_libreoffice(built, tmp_path / "plain.xlsx"))["ids"]
    assert (ids[0], ids[-1]) == ("biren", "nvidia")
    first, last = TABLE_HEADER_ROW + 1, TABLE_HEADER_ROW + len(ids)
    edits = [DeleteRows(TITLE, at=last), DeleteRows(TITLE, at=first)]
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", edits)
    assert failures(path) == {}
    after = shown(path)
    assert after["ids"] == ids[1:-1]
    assert after["bars"] == ["MetaX", "Moore Threads", None, None]
    assert (after["count"], after["sample"]) == (1, "Moore Threads")
    assert after["count_note"] == ("only 1 peer: every statistic is its P/S; under the 3 the "
                                   "method needs (Inputs): no implied value")  # fmt: skip


@pytest.mark.libreoffice
def test_a_company_typed_above_the_table_is_named(built: Path, tmp_path: Path) -> None:
    """A row inserted over the first company is outside the table's names: check says so."""
    require_uno()
    row = TABLE_HEADER_ROW + 1
    edits = [InsertRows(TITLE, at=row), SetValue(TITLE, f"A{row}", "newco"),
             SetValue(TITLE, f"B{row}", "Newco")]  # fmt: skip
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", edits)
    assert failures(path) == {
        "formulas": [
            f"Peers!A{row} (newco) is above the peer table, which starts at row {row + 1}: the "
            "workbook leaves it out (a company is added by a row inserted inside the table, its "
            "figures typed and the formula columns copied down from the row above, or through a "
            "dataset file and gpuval build --dataset)."
        ]
    }
