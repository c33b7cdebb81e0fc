"""A target the workbook cannot value, set in LibreOffice as an analyst would: a company whose row
was deleted (the build's Target list still offers it), one without a market value, and one typed
into the peer table (no column on Assumptions). Each time the Valuation sheet, the Cover and the
Inputs sheet say why in one sentence, the weighted value and its upside read n/a instead of a
figure resting on the methods left, and the master check is FALSE, not an error value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter as cell
from openpyxl.utils.cell import coordinate_from_string

from apps.libreoffice import (
    CopyRange,
    DeleteRows,
    InsertRows,
    SetValue,
    edit_in_libreoffice,
    require_uno,
)
from gpuval.core.validate import InputError
from gpuval.pipeline.check import check_workbook
from gpuval.workbook.build import build
from gpuval.workbook.sheets.peers import CALC, RAW, TABLE_HEADER_ROW, TARGET_CHECK, TITLE
from gpuval.workbook.sheets.valuation import FIGURE_NOTE, HEADLINE
from gpuval.workbook.template import COVER_CELLS

#: the Cover's copy of the figure note: under its headline, which starts beside the as-of date
COVER_NOTE_ROW = coordinate_from_string(COVER_CELLS["tpl_asof"])[1] + len(HEADLINE)

IDS = ["biren", "moore_threads", "metax", "cambricon", "kunlunxin", "iluvatar_corex", "nvidia"]
NOT_IN_TABLE = "Target metax is not in the peer table: pick a company that is."
NO_FX = ("Target biren's market value on Peers cannot be computed: check its price, shares, "
         "listing currency and the exchange rates on Inputs.")  # fmt: skip
NO_VALUE = ("Target kunlunxin has no market value on Peers (a price and a share count, or a stated "
            "market value): pick a listed company.")  # fmt: skip
NO_COLUMN = ("Target newco has no column on the Assumptions sheet, so its scenarios and DCF cannot "
             "be valued: pick a company from the Target list on Inputs.")  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build(tmp_path_factory.mktemp("target") / "gpu_valuation.xlsx")  # Biren
    ws = load_workbook(path)[TITLE]
    assert [ws.cell(TABLE_HEADER_ROW + 1 + i, 1).value for i in range(len(IDS))] == IDS
    return path


def seen(path: Path) -> dict[str, Any]:
    """What the analyst reads: the Valuation and Cover lines, the Inputs note, the master check
    and the failing checks."""
    wb = load_workbook(path, data_only=True)

    def named(name: str) -> Any:
        ((title, ref),) = wb.defined_names[name].destinations
        return wb[title][ref.replace("$", "")].value

    checks = wb["Checks"]
    return {
        "target": wb["Valuation"]["C5"].value,
        "note": wb["Valuation"].cell(FIGURE_NOTE, 1).value,
        "cover_target": wb["Cover"][COVER_CELLS["tpl_target"]].value,
        "cover_note": wb["Cover"].cell(COVER_NOTE_ROW, 5).value,
        "inputs_note": wb["Inputs"]["F6"].value,
        "weighted": named("out_valuation_weighted"),
        "upside": named("out_valuation_upside"),
        "master": named("chk_master"),
        "failing": {checks.cell(r, 1).value for r in range(5, checks.max_row)
                    if checks.cell(r, 3).value is False},
    }  # fmt: skip


def _assert_refused(after: dict[str, Any], target: str, sentence: str) -> None:
    assert (after["target"], after["cover_target"]) == (target, target)
    assert after["note"] == after["cover_note"] == after["inputs_note"] == sentence
    assert (after["weighted"], after["upside"], after["master"]) == ("n/a", "n/a", False)


@pytest.mark.libreoffice
def test_a_deleted_companys_id_picked_as_target_is_named(built: Path, tmp_path: Path) -> None:
    require_uno()
    row = TABLE_HEADER_ROW + 1 + IDS.index("metax")
    edits = [DeleteRows(TITLE, at=row), SetValue("Inputs", "D6", "metax")]
    after = seen(edit_in_libreoffice(built, tmp_path / "a.xlsx", edits))
    _assert_refused(after, "metax", NOT_IN_TABLE)
    assert TARGET_CHECK in after["failing"]


@pytest.mark.libreoffice
def test_a_target_without_a_market_value_is_named(built: Path, tmp_path: Path) -> None:
    require_uno()
    edits = [SetValue("Inputs", "D6", "kunlunxin")]
    after = seen(edit_in_libreoffice(built, tmp_path / "a.xlsx", edits))
    _assert_refused(after, "Kunlunxin", NO_VALUE)
    assert TARGET_CHECK in after["failing"]


@pytest.mark.libreoffice
def test_a_market_value_that_cannot_be_computed_is_named(built: Path, tmp_path: Path) -> None:
    """Biren keeps its price and shares, but a listing currency the workbook has no rate for
    leaves its market value an error value: not "no market value", but what to check."""
    require_uno()
    column = cell(list(RAW).index("listing_ccy") + 1)
    edits = [SetValue(TITLE, f"{column}{TABLE_HEADER_ROW + 1}", "EUR")]
    after = seen(edit_in_libreoffice(built, tmp_path / "a.xlsx", edits))
    _assert_refused(after, "Biren Technology", NO_FX)
    assert TARGET_CHECK in after["failing"]


@pytest.mark.libreoffice
def test_a_typed_company_as_target_is_named_not_valued_by_its_peers_alone(
    built: Path, tmp_path: Path
) -> None:
    """Newco, HKD 10 x 1e9 shares, typed with the formula columns copied down: its peer P/S
    alone would give a figure (TAM and DCF need its assumptions), and the headline must not."""
    require_uno()
    row = TABLE_HEADER_ROW + 1 + IDS.index("metax")
    typed = {"id": "newco", "name": "Newco", "venue": "HK", "listing_ccy": "HKD",
             "reporting_ccy": "HKD", "price": 10, "shares": 1e9, "revenue_fy": 1e8,
             "in_stats": "yes", "market_basis": "share price", "fy_year": 2025,
             "fy_basis": "FY2025 reported"}  # fmt: skip
    keys = list(RAW)
    first, end = cell(len(RAW) + 1), cell(len(RAW) + len(CALC))
    edits = [
        InsertRows(TITLE, at=row),
        *(SetValue(TITLE, f"{cell(keys.index(k) + 1)}{row}", v) for k, v in typed.items()),
        CopyRange(TITLE, f"{first}{row - 1}:{end}{row - 1}", f"{first}{row}"),
        SetValue("Inputs", "D6", "newco"),
    ]
    path = edit_in_libreoffice(built, tmp_path / "a.xlsx", edits)
    after = seen(path)
    _assert_refused(after, "Newco", NO_COLUMN)
    assert TARGET_CHECK in after["failing"]
    # gpuval check stops on it with the same sentence, naming the input
    with pytest.raises(InputError) as refused:
        check_workbook(path, today=dt.date(2026, 1, 6), max_age_days=69)
    assert str(refused.value) == (
        "in_target 'newco' has no column on the Assumptions sheet, so its scenarios and DCF "
        "cannot be valued: pick a company from the Target list on Inputs."
    )
