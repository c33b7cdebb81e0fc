"""Upgrading: a workbook of an earlier layout, edited and saved in LibreOffice as an analyst
would, carried into a new build by ``gpuval build --from``.

``fixtures/layout_2026-12-02.xlsx`` is the workbook gpuval built at commit d045a4b (layout
2026-12-02, Biren): an earlier layout than this version's, so ``check`` cannot compare its
formulas. The analyst's work on it (a rate, an assumption, a typed company, a stored price) must
reach the new build; expected values are the ones typed, and the checks of this version pass on
the result once refreshed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter as letter
from openpyxl.workbook.defined_name import DefinedName

from apps.libreoffice import (
    CopyRange,
    InsertRows,
    InsertSheet,
    SetFormula,
    SetValue,
    edit_in_libreoffice,
    require_uno,
)
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.names import named_cells
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import LAYOUT, build_from

pytestmark = pytest.mark.libreoffice

OLD = Path(__file__).parent / "fixtures" / "layout_2026-12-02.xlsx"
TODAY = dt.date(2026, 1, 6)
NEWCO = {"Id": "newco", "Company": "Newco", "Venue": "HK", "Listing ccy": "HKD",
         "Reporting ccy": "HKD", "Price (listing)": 10, "Shares": 1e9,
         "Full-year revenue": 1e8, "In China statistics": "yes",
         "Market figure is": "share price", "Market figure date": 46027,  # 2026-01-05
         "Fiscal year of the full-year revenue": 2024}  # fmt: skip
"""A Hong Kong company the analyst typed: HKD 10 x 1e9 shares over HKD 100m, P/S 100x."""


def _where(path: Path, name: str) -> tuple[str, str]:
    (figure,) = named_cells(load_workbook(path), name)[:1]
    sheet, cell = figure.where.rsplit("!", 1)
    return sheet.strip("'"), cell


def _ids(path: Path) -> list[str]:
    return [f.value for f in named_cells(load_workbook(path), "data_peers_id")]


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The old workbook with a stored price, edited in LibreOffice: CNY/USD 7.20, Biren's Base
    share 2%, and Newco typed above MetaX with the formula columns copied down."""
    require_uno()
    folder = tmp_path_factory.mktemp("carry")
    old = shutil.copy(OLD, folder / "old.xlsx")
    wb = load_workbook(old)
    wb.defined_names["gpuval_price_biren"] = DefinedName(
        "gpuval_price_biren", attr_text='"biren|2026-01-06|36.5|"', hidden=True
    )
    wb.save(old)
    peers = load_workbook(old)["Peers"]
    header = {c.value: c.column for c in peers[5] if c.value}
    row = 6 + _ids(old).index("metax")
    first, last = header["USD per listing unit"], max(header.values())
    ids = [f.value for f in named_cells(load_workbook(old), "data_assumption_ids")]
    share = named_cells(load_workbook(old), "in_share_base")[ids.index("biren")].where
    edits = [
        InsertSheet("My inputs", at=1),
        SetValue("My inputs", "B2", 365),
        SetFormula(*_where(old, "in_days_per_year"), "=$'My inputs'.B2"),
        SetValue(*_where(old, "in_fx_cny_per_usd"), 7.2),
        SetValue(*share.split("!"), 0.02),
        InsertRows("Peers", at=row),
        *(SetValue("Peers", f"{letter(header[h])}{row}", v) for h, v in NEWCO.items()),
        CopyRange("Peers", f"{letter(first)}{row - 1}:{letter(last)}{row - 1}",
                  f"{letter(first)}{row}"),
    ]  # fmt: skip
    return edit_in_libreoffice(Path(old), folder / "edited.xlsx", edits)


def test_the_old_layout_cannot_be_checked_but_can_be_carried(edited: Path, tmp_path: Path) -> None:
    # the layout of 2026-12-02 has no in_peer_min_count (2026-12-02.7): check says why it cannot
    # read it, and where to go; build --from carries it all the same
    with pytest.raises(GpuvalError) as refused:
        check_workbook(edited, today=TODAY, max_age_days=30)
    assert str(refused.value) == (
        "edited.xlsx: the defined name 'in_peer_min_count' is missing: it was built with the "
        f"layout of 2026-12-02, and this gpuval reads the layout of {LAYOUT}, whose inputs "
        "differ; carry it into a new build with gpuval build --from WORKBOOK --out NEW."
    )
    new = tmp_path / "new.xlsx"
    path, said = build_from(edited, new)
    assert path == new
    assert said == [
        # CNY/USD and Biren's Base share, and Biren's FY2025 bridge and FY2026 growth (194% and
        # 80% as built then; this version's defaults are 71.57% both): the workbook's values
        "carried 4 input value(s), 1 typed company (newco) and 1 stored price(s)",
        # each named, with the default it replaces: an analyst can tell an edit from a default
        "inputs kept from the old workbook over this version's defaults: in_dcf_bridge_growth "
        "(biren) 1.94 (default 0.7157); in_dcf_growth_y1 (biren) 0.8 (default 0.7157); "
        "in_fx_cny_per_usd 7.2 (default 7.0); in_share_base (biren) 0.02 (default 0.015)",
        # an input the analyst linked to a sheet of their own: said, with what it read
        "not carried: in_days_per_year at Inputs!D11, the formula ='My inputs'!B2 (it read 365):"
        " the new workbook keeps the default 365.25; type the value or the formula there",
        # the analyst's own sheet is named, not silently left behind
        "not carried: your sheet(s) 'My inputs'; copy them from the old workbook in Excel (Move "
        "or Copy)",
        f"run gpuval refresh {new} to apply the prices and redraw the Monte Carlo snapshot for "
        "these inputs",
    ]
    wb = load_workbook(new)
    assert named_cells(wb, "in_target")[0].value == "biren"
    assert named_cells(wb, "in_fx_cny_per_usd")[0].value == 7.2
    ids = [f.value for f in named_cells(wb, "data_assumption_ids")]
    assert named_cells(wb, "in_share_base")[ids.index("biren")].value == 0.02
    assert _ids(new) == _ids(edited)  # Newco where the analyst put it
    refresh(new, now=dt.datetime(2026, 1, 6, 12))  # the stored price, the snapshot
    found = {r.name: r.details for r in check_workbook(new, today=TODAY, max_age_days=30).results
             if not r.passed}  # fmt: skip
    assert found == {}
    values = load_workbook(new, data_only=True)
    table = values["Peers"]
    row = 6 + _ids(new).index("newco")
    header = {c.value: c.column for c in table[5] if c.value}
    assert table.cell(row, header["P/S full year"]).value == pytest.approx(100.0, rel=1e-12)
    biren = 6 + _ids(new).index("biren")
    assert table.cell(biren, header["Price (listing)"]).value == 36.5


def test_a_typed_company_stays_a_peer(edited: Path, tmp_path: Path) -> None:
    """Newco, typed, had no assumptions in the old workbook: the new one neither values it nor
    offers it as a target (check had stopped on it)."""
    with pytest.raises(GpuvalError) as refused:
        build_from(edited, tmp_path / "n.xlsx", target="NEWCO")  # an id, in any case
    assert str(refused.value) == (
        "Target 'newco' is a company typed into the peer table, without assumptions to value it "
        "by: give --target one of biren, moore_threads, metax, nvidia."
    )
    path, _ = build_from(edited, tmp_path / "m.xlsx", target="MetaX")
    wb = load_workbook(path)
    assert named_cells(wb, "in_target")[0].value == "metax"
    assert "newco" not in [f.value for f in named_cells(wb, "data_assumption_ids")]
    sheet, cell = named_cells(wb, "in_target")[0].where.split("!")
    (choices,) = [v.formula1 for v in wb[sheet].data_validations.dataValidation if cell in v.sqref]
    assert choices == '"biren,moore_threads,metax,nvidia"'  # the Target list: newco not offered


def test_the_old_workbook_is_not_overwritten(edited: Path) -> None:
    before = edited.read_bytes()
    with pytest.raises(GpuvalError, match="is the file being read"):
        build_from(edited, edited, force=True)
    assert edited.read_bytes() == before
