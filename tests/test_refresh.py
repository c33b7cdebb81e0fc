"""Refresh as an analyst meets it: dataset changes carried through, the Data sheet keyed by record
id, prices that stay applied, notes kept, links written through, one sentence on OS errors."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment

from gpuval.cli import main
from gpuval.data.dataset import load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import CheckResult, check_workbook
from gpuval.pipeline.refresh import _movers, refresh
from gpuval.pipeline.refresh_cells import StoredPrice, is_ours
from gpuval.pipeline.xlsxpatch import MARKER
from gpuval.workbook.build import build
from workbook_helpers import named_cell

DATASET = Path(__file__).resolve().parents[1] / "src" / "gpuval" / "data" / "dataset.toml"

#: the Cover's as-of formula as a build writes it: the oldest date used, or "no date"
AS_OF = '=IF(COUNTIF(peers_used_dates,"no date")>0,"no date",MIN(peers_used_dates))'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("refresh") / "gpu_valuation.xlsx")


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "analyst.xlsx"
    shutil.copy(built, target)
    return target


def next_dataset(folder: Path) -> Path:
    """The dataset as a later release might be: version 2026.03.01, ``biren.order_backlog``
    gone (and the relations citing it), a new record ``biren.order_backlog.r2`` added."""
    text = DATASET.read_text(encoding="utf-8").replace(
        'version = "2026.02.05"', 'version = "2026.03.01"', 1
    )
    block = re.search(r'\[\[sentence\]\]\n[^\[]*\[\[sentence\.figure\]\]\nid = "biren\.order_'
                      r'backlog"\n(?:[^\[\n][^\n]*\n)*\n', text)  # fmt: skip
    assert block is not None
    text = text.replace(block.group(0), "", 1)
    text, peers = text.split("\n[[peer]]\n", 1)
    head, *relations = text.split("\n[[relation]]\n")
    text = "\n[[relation]]\n".join([head, *[r for r in relations
                                            if '"biren.order_backlog"' not in r]])  # fmt: skip
    # the release also stops naming the record in Biren's peer entry
    peers = peers.replace('backlog = "biren.order_backlog"\n', "", 1)
    text += "\n[[peer]]\n" + peers
    anchor = 'text = "12.4億的訂單,相當于公司2024年全年營收(3.37億元)的近4倍。"\n'
    assert anchor in text
    text = text.replace(anchor, anchor + '[[sentence.figure]]\nid = "biren.order_backlog.r2"\n'
                        'entity = "biren"\nmetric = "order_backlog"\nunit = "CNY"\n'
                        'kind = "reported"\nwritten = "12.4億"\n', 1)  # fmt: skip
    path = folder / "dataset-2026.03.01.toml"
    path.write_text(text, encoding="utf-8")
    return path


def data_rows(wb) -> dict[str, int]:
    ws = wb["Data"]
    return {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}


def test_dataset_changes_are_carried_through(copy: Path, tmp_path: Path) -> None:
    wb = load_workbook(copy)
    rows_before = data_rows(wb)
    kept_row = rows_before["biren.revenue.2024"]
    wb["Data"][f"L{kept_row}"] = "my note on the 2024 revenue"  # beside the table (K: article)
    wb["Data"][f"D{kept_row}"].comment = Comment("checked in the annual report", "Lin Wei")
    mine = wb.create_sheet("Mine")
    mine["A1"] = f"=Data!D{kept_row}"
    wb.save(copy)

    dataset = next_dataset(tmp_path)
    report = refresh(copy, dataset_path=dataset, now=dt.datetime(2026, 3, 2, 9))

    after = load_workbook(copy)
    rows = data_rows(after)
    # every record keeps its row; the new one is appended; the dropped one is marked in place
    assert {k: rows[k] for k in rows_before} == rows_before
    assert rows["biren.order_backlog.r2"] == max(rows_before.values()) + 1
    # the appended row is as tall as a fresh build of that dataset makes it (wrapped text)
    fresh = load_workbook(build(tmp_path / "fresh.xlsx", dataset_path=dataset))
    height = fresh["Data"].row_dimensions[data_rows(fresh)["biren.order_backlog.r2"]].height
    assert height and height > 15
    assert after["Data"].row_dimensions[rows["biren.order_backlog.r2"]].height == height
    ws = after["Data"]
    gone = rows_before["biren.order_backlog"]
    assert ws[f"G{gone}"].value == "withdrawn"
    assert ws[f"H{gone}"].value == "withdrawn 2026-03-02: not in dataset 2026.03.01 (was reported)"
    assert ws[f"D{gone}"].value == 1.24e9  # the figure stays readable
    assert ws[f"L{kept_row}"].value == "my note on the 2024 revenue"
    assert ws[f"D{kept_row}"].comment.text == "checked in the annual report"
    assert after["Mine"]["A1"].value == f"=Data!D{kept_row}"
    assert ws[f"A{kept_row}"].value == "biren.revenue.2024"
    assert ws.auto_filter.ref == f"A4:K{rows['biren.order_backlog.r2']}"
    assert "dataset 2026.03.01," in ws["A2"].value
    # the peer cell whose record is gone is cleared, cited as withdrawn, and reported
    title, coord = next(iter(after.defined_names["data_peers_backlog"].destinations))
    backlog = after[title][coord.replace("$", "")][0][0]
    biren_row = [c.value for c in after["Peers"]["A"]].index("biren") + 1
    cell = after["Peers"].cell(biren_row, backlog.column)
    assert cell.value is None
    assert (
        cell.comment.text
        == "Not in dataset 2026.03.01.\nRecord biren.order_backlog \u00b7 withdrawn"
    )
    lines = report.lines()
    assert "  Peers biren backlog: 1240000000 -> blank" in lines
    assert "  Data biren.order_backlog: reported -> withdrawn" in lines
    assert "  Data biren.order_backlog.r2: blank -> added" in lines
    assert "  Peers biren backlog_basis: order backlog (about) -> blank" in lines  # what it was
    assert "  dataset version: 2026.02.05 -> 2026.03.01" in lines
    assert re.match(r"\d+ data value\(s\) changed \(3 removed\):", lines[1])
    # every version label follows
    assert named_cell(after, "tpl_dataset").value == "gpuval dataset 2026.03.01"
    assert after.defined_names["data_version"].attr_text == '"2026.03.01"'
    # (Checks, printed portrait, has the version at its foot)
    centres = {s.title: s.oddHeader.center.text or s.oddFooter.center.text for s in after}
    assert centres.pop("Mine") is None  # the analyst's sheet gets no header
    assert set(centres.values()) == {"gpuval · dataset 2026.03.01"}


def test_a_price_without_shares_does_not_redate_a_stated_market_value(
    copy: Path, tmp_path: Path
) -> None:
    # MetaX's market value is a stated figure of 2025-12 (no share count): a new price cannot
    # change it, so its date stays its listing day that month and the as-of line does not move.
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nmetax,2026-11-20,600,CNY,\n")
    report = refresh(copy, prices=prices)
    wb = load_workbook(copy)
    assert wb["Peers"]["A8"].value == "metax"
    assert wb["Peers"]["Q8"].value == dt.datetime(2025, 12, 17)
    assert wb["Peers"]["P8"].value == "2025-12 peak market value, lower bound (over)"
    assert any("metax: price 600.0 applied but the workbook has no share count" in n
               for n in report.notes)  # fmt: skip
    assert not any("oldest market figure used" in line for line in report.lines())


def test_a_value_typed_over_a_sourced_peer_cell_is_named_when_replaced(copy: Path) -> None:
    wb = load_workbook(copy)
    assert wb["Peers"]["A6"].value == "biren" and wb["Peers"]["F6"].comment is not None
    wb["Peers"]["F6"].value = 40  # Biren's price, sourced: biren.share_price.2026-01-05
    wb.save(copy)
    report = refresh(copy)
    assert load_workbook(copy)["Peers"]["F6"].value == pytest.approx(35.71524051)
    assert any(
        n.startswith("Peers!F6 (biren price) held 40, not its record biren.share_price.2026-01-05")
        for n in report.notes
    ), report.notes


def test_a_company_without_a_row_is_named_with_what_to_do(copy: Path) -> None:
    wb = load_workbook(copy)
    row = next(c.row for c in wb["Peers"]["A"] if c.value == "cambricon")
    for cell in wb["Peers"][row][:22]:  # the raw inputs cleared: the row no longer holds it
        cell.value = None
    wb.save(copy)
    report = refresh(copy)
    note = next(n for n in report.notes if n.startswith("cambricon, in the dataset's peer"))
    assert "its row was deleted" in note and "gpuval build makes a workbook" in note


def test_a_price_older_than_the_datasets_figure_is_named(copy: Path, tmp_path: Path) -> None:
    prices = tmp_path / "old.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-01-02,34.46,HKD\n")
    report = refresh(copy, prices=prices)
    assert (
        "biren: the price of 2026-01-02 is older than the dataset's market figure of 2026-01-05, "
        "which it replaces (as the prices file asks)." in report.notes
    )
    assert not [n for n in report.notes if "valuation date" in n]  # a price before it: no note


def test_a_price_over_any_market_value_at_the_workbooks_shares_is_refused(
    copy: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "huge.csv"  # no shares column: the workbook's 2,395,055,970 shares
    prices.write_text("entity,date,price,currency\nbiren,2026-01-06,9000000,HKD\n")
    before = copy.read_bytes()
    with pytest.raises(GpuvalError) as caught:
        refresh(copy, prices=prices)
    assert str(caught.value) == (
        "The prices file's biren price 9e+06 x its 2,395,055,970 shares is 2.16e+16, over the "
        "1e+14 of any listed company; nothing was refreshed."
    )
    assert copy.read_bytes() == before


def test_a_company_typed_under_the_peer_table_is_named(copy: Path) -> None:
    wb = load_workbook(copy)
    ws = wb["Peers"]
    last = max(c.row for c in ws["A"] if c.value == "nvidia")  # the table's last row
    ws.cell(last + 1, 1, "newco")
    wb.save(copy)
    report = refresh(copy)
    assert (
        f"Peers!A{last + 1} (newco) is under the peer table, which ends at row {last}: the "
        "workbook leaves it out (a company is added by a row inserted inside the table, its "
        "figures typed and the formula columns copied down from the row above, or through a "
        "dataset file and gpuval build --dataset)." in report.notes
    )


def test_refresh_reports_the_oldest_used_date(copy: Path, tmp_path: Path) -> None:
    # A fresh price for the one figure a Biren workbook uses, its own: the oldest used date moves
    # from 2026-01-05 to 2026-11-20 (NVIDIA's price feeds a weight-0 reference: not used).
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\n"
                      "biren,2026-11-20,41.5,HKD,\nnvidia,2026-11-19,180,USD,\n")  # fmt: skip
    analyst = load_workbook(copy)  # an analyst's own header on Checks stays as written
    analyst["Checks"].oddHeader.right.text = "As of 2025-10-29, my notes"
    analyst["Inputs"].oddHeader.right.text = "As of 2025-10-29 · printed &D"  # as written before
    analyst.save(copy)
    report = refresh(copy, prices=prices)
    assert "  oldest market figure used: 2026-01-05 -> 2026-11-20" in report.lines()
    wb = load_workbook(copy)
    assert named_cell(wb, "data_asof").value == AS_OF  # still the formula
    # the printed header follows the new as-of date on every sheet gpuval headed
    rights = {ws.title: ws.oddHeader.right.text for ws in wb.worksheets}
    assert rights.pop("Checks") == "As of 2025-10-29, my notes"
    assert set(rights.values()) == {"Oldest market figure 2026-11-20 · printed &D"}, rights


def test_an_as_of_date_not_known_before_is_not_reported_as_blank(
    copy: Path, tmp_path: Path
) -> None:
    """Inputs the core refused before the refresh (CNY/USD typed as 0) give no as-of date to
    compare: refresh --reset-inputs reports no "blank -> 2026-11-20" (the date is on the Cover)."""
    wb = load_workbook(copy)
    named_cell(wb, "in_fx_cny_per_usd").value = 0
    wb.save(copy)
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    report = refresh(copy, prices=prices, reset_inputs=True)
    assert named_cell(load_workbook(copy), "in_fx_cny_per_usd").value == 7.0  # reset
    assert not [line for line in report.lines() if "oldest market figure used" in line]


def test_a_weighted_nvidia_reference_keeps_dating_the_valuation(copy: Path, tmp_path: Path) -> None:
    """With "x% of NVIDIA" given a weight, NVIDIA's 2025-10-29 price is used: a new Biren price
    leaves it the oldest, and the headers keep it (refresh read no weight, took the reference
    as unused and wrote Biren's new date)."""
    wb = load_workbook(copy)
    named_cell(wb, "in_weight_nvidia").value = 0.1
    named_cell(wb, "in_weight_tam").value = 0.3  # the weights still sum to 100 %
    wb.save(copy)
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    report = refresh(copy, prices=prices)
    assert not [line for line in report.lines() if "oldest market figure used" in line]
    rights = {ws.oddHeader.right.text for ws in load_workbook(copy).worksheets}
    assert rights == {"Oldest market figure 2025-10-29 · printed &D"}


def test_prices_stay_applied_until_reset(copy: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    first = refresh(copy, prices=prices)
    second = refresh(copy)  # no prices file: the last one's figures stay
    # Jan 5 to Nov 20: 26 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 20 days
    behind = ("the newest price, of 2026-11-20, is 319 days after the valuation date on Inputs "
              "(in_valuation_date, 2026-01-05): the DCF and the scenarios discount to that date; "
              "move it to value the company as of the prices.")  # fmt: skip
    assert behind in first.notes and behind in second.notes
    wb = load_workbook(copy)
    price = wb["Peers"]["F6"]
    assert wb["Peers"]["A6"].value == "biren" and price.value == 41.5
    # the as-of stays the formula over the dates of the figures used; Biren's price carries its own
    assert named_cell(wb, "data_asof").value == AS_OF
    assert wb["Peers"]["Q6"].value == dt.datetime(2026, 11, 20)
    assert any("prices kept from the last prices file (biren 41.5 of 2026-11-20)" in n
               for n in second.notes)  # fmt: skip
    assert [c for c in second.changes if "price" in c.where] == []
    third = refresh(copy, reset_prices=True)
    wb = load_workbook(copy)
    assert wb["Peers"]["F6"].value == pytest.approx(35.7152, rel=1e-5)
    assert named_cell(wb, "data_asof").value == AS_OF
    assert wb["Peers"]["Q6"].value == dt.datetime(2026, 1, 5)
    assert any(c.where == "Peers biren price" and c.new != 41.5 for c in third.changes)
    assert not [n for n in wb.defined_names if n.startswith("gpuval_price_")]


def test_a_typed_company_of_any_id_is_priced_and_stays_priced(copy: Path, tmp_path: Path) -> None:
    """A company the analyst typed under the id "en-flame" (which no defined name can hold as
    it is), priced by its id in another case; the next refresh keeps the price."""
    wb = load_workbook(copy)
    peers = wb["Peers"]
    row = next(c.row for c in peers["A"] if c.value == "kunlunxin")
    peers[f"A{row}"], peers[f"D{row}"], peers[f"G{row}"] = "en-flame", "HKD", 1e9
    wb.save(copy)
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency\nEN-FLAME,2026-11-20,12,HKD\n")
    refresh(copy, prices=prices)
    second = refresh(copy)
    wb = load_workbook(copy)
    assert (wb["Peers"][f"F{row}"].value, wb["Peers"][f"Q{row}"].value) == (
        12, dt.datetime(2026, 11, 20))  # fmt: skip
    assert "prices kept from the last prices file (en-flame 12 of 2026-11-20); refresh " \
        "--reset-prices returns to the dataset's." in second.notes  # fmt: skip
    (name,) = [n for n in wb.defined_names if n.startswith("gpuval_price_")]
    assert re.fullmatch(r"gpuval_price__[0-9a-f]{16}", name)


def test_outputs_moved_say_their_direction_and_fractions_move_by_points() -> None:
    """An upside crossing zero, -0.9% to 23.9%, rose 24.8 points (it read -2759.56%); a value of
    -100 that became -50 rose by half its size (it read -50%)."""
    before = {
        "out_upside_bull": -0.00897808,
        "out_dcf_equity_value": -100.0,
        "out_value_per_share_base": 10.0,
        "out_implied_share": 0.02,
        "out_implied_growth": 0.30,
        "in_x": 0.0,
    }
    after = {
        "out_upside_bull": 0.238777,
        "out_dcf_equity_value": -50.0,
        "out_value_per_share_base": 12.0,
        "out_implied_share": 0.02,
        "out_implied_growth": 0.3004,
        "in_x": 5.0,
    }
    assert _movers(before, after) == [
        ("out_dcf_equity_value", -100.0, -50.0, "+50.00%"),
        ("out_upside_bull", -0.00897808, 0.238777, "+24.8 pts"),
        ("out_value_per_share_base", 10.0, 12.0, "+20.00%"),
    ]  # fmt: skip (unmoved: the implied share; growth by 0.04 points; from 0: no relative move)


def test_an_id_repeated_in_another_case_is_refused(copy: Path) -> None:
    """Two rows whose ids differ only in case are one company to Excel (its names and COUNTIF
    ignore case), and their stored prices would share a name: refresh refuses, changing nothing."""
    wb = load_workbook(copy)
    row = next(c.row for c in wb["Peers"]["A"] if c.value == "kunlunxin")
    wb["Peers"][f"A{row}"] = "Biren"
    wb.save(copy)
    before = copy.read_bytes()
    with pytest.raises(GpuvalError) as refused:
        refresh(copy)
    assert str(refused.value) == (
        f"Peers!A6 and Peers!A{row} both hold 'biren' and 'Biren': give each company its own id "
        "(an id is the same in any case; refresh cannot tell which row is the company's); "
        "nothing was refreshed."
    )
    assert copy.read_bytes() == before


def test_a_stored_price_keeps_any_id() -> None:
    """An id with a quote and a bar survives the hidden name's text."""
    price = StoredPrice('en "flame"|2', dt.date(2026, 11, 20), 12.5, 1e9)
    assert price.text() == '"en ""flame""|2|2026-11-20|12.5|1000000000.0"'
    assert StoredPrice.parse(price.text()) == price
    assert StoredPrice.parse('"biren|2026-01-05|35.2|"') == StoredPrice(
        "biren", dt.date(2026, 1, 5), 35.2, None)  # fmt: skip


def test_an_analyst_note_on_a_sourced_cell_is_kept(copy: Path) -> None:
    wb = load_workbook(copy)
    wb["Peers"]["G6"].comment = Comment("Share count: see prospectus p. 412", "Lin Wei")
    wb.save(copy)
    refresh(copy)
    refresh(copy)  # twice: the citation is replaced, never stacked
    note = load_workbook(copy)["Peers"]["G6"].comment
    assert note.author == "Lin Wei"
    assert note.text.startswith(f"Share count: see prospectus p. 412\n\n{MARKER}\n")
    assert note.text.count(MARKER) == 1
    assert "biren.shares_outstanding" in note.text


OLD_SHARES_NOTE = (  # as the previous version wrote it: the record id first
    "biren.shares_outstanding\n000_20127ad21e8e5e0e.txt\nderived: biren.market_cap_first_day_high "
    "(102,700,000,000 HKD) / biren.first_day_high_price (42.88 HKD)"
)


@pytest.mark.parametrize(
    "text",
    [
        "hkex.com\nMarket value as filed, LW",
        "biren.revenue",
        "See nvidia.com for the figure.",
        "e.g. the prospectus\nchecked.",
        "Lin Wei:\nRecord high; see ir.biren.com",
        "Checked.\nRecord biren.revenue.2024 is fine",
        "[Threaded comment] is biren.revenue.2024 right?",
        # gpuval's note with the analyst's words added (Excel keeps the note's author): above,
        # before the record line, after it; the note is the analyst's now, kept as it is
        "LW: too high, see the prospectus.\n36Kr (36氪); \u201c国产芯片\u201d; 2026-02-05\n"
        "\u201c中国贡献英伟达全球15%收入\u201d\nRecord nvidia.china_revenue_share \u00b7 004_1.txt",
        "36Kr (36氪); \u201c国产芯片\u201d; 2026-02-05\n\u201c中国贡献英伟达全球15%收入\u201d\n"
        "LW: too high\nRecord nvidia.china_revenue_share \u00b7 004_1.txt",
        "36Kr (36氪); \u201c国产芯片\u201d; 2026-02-05\n\u201c中国贡献英伟达全球15%收入\u201d\n"
        "Record nvidia.china_revenue_share \u00b7 004_1.txt\nLW: too high",
    ],
)
def test_an_analysts_note_is_not_taken_for_gpuvals(text: str) -> None:
    assert not is_ours(text)


def test_gpuvals_notes_old_and_new_are_recognised() -> None:
    for text in [
        "36Kr (36氪); \u201c国产芯片的下半场\u201d; 2026-02-05\n"
        "\u201c中国贡献英伟达全球15%收入\u201d\n"
        "Record nvidia.china_revenue_share \u00b7 004_16b3737fc4832ab8.txt",
        "Not in dataset 2026.03.01.\nRecord biren.order_backlog \u00b7 withdrawn",
        OLD_SHARES_NOTE,
        "biren.order_backlog\nwithdrawn: not in dataset 2026.03.01",
        "fx.usd_per_hkd\n002_2b7f2b789b19cbe6.txt; 003_060f8119ece32c9e.txt\nderived: ...",
        "prices file: biren 2026-11-20 40.0",
    ]:
        assert is_ours(text), text


def test_notes_of_an_earlier_version_are_rewritten_and_an_analysts_kept(
    copy: Path, tmp_path: Path
) -> None:
    wb = load_workbook(copy)
    peers = wb["Peers"]
    assert peers["L6"].comment.text.endswith("\nRecord biren.order_backlog \u00b7 "
                                            "000_20127ad21e8e5e0e.txt")  # fmt: skip
    peers["G6"].comment = Comment(OLD_SHARES_NOTE, "gpuval")
    backlog = load_dataset()["biren.order_backlog"]
    peers["L6"].comment = Comment(
        f"biren.order_backlog\n{backlog.source}\n{backlog.quote}", "gpuval"
    )
    # the analyst rewrote gpuval's note (its author stays): a dotted word first, no seed file
    peers["H6"].comment = Comment("hkex.com\nMarket value as filed, LW", "gpuval")
    wb.save(copy)
    refresh(copy, dataset_path=next_dataset(tmp_path))
    peers = load_workbook(copy)["Peers"]
    assert peers["G6"].comment.text == (
        "NetEase Hao (網易號), a user's post; untitled (Biren's HKEX listing and the A-share vs "
        "Hong Kong pricing gap); date not stated\n"
        "derived: biren.market_cap_first_day_high (102,700,000,000 HKD) / "
        "biren.first_day_high_price (42.88 HKD)\n"
        "Record biren.shares_outstanding \u00b7 000_20127ad21e8e5e0e.txt"
    )
    assert peers["L6"].comment.text == (
        "Not in dataset 2026.03.01.\nRecord biren.order_backlog \u00b7 withdrawn"
    )
    kept = peers["H6"].comment.text
    assert kept.startswith(f"hkex.com\nMarket value as filed, LW\n\n{MARKER}\n")
    assert kept.endswith("\nRecord biren.market_cap.2026-01-05 \u00b7 003_060f8119ece32c9e.txt")


def test_an_analysts_line_under_gpuvals_note_gets_no_second_citation(copy: Path) -> None:
    """The analyst added a line to gpuval's note (the note is the analyst's now, kept): the
    citation is still in it word for word, so refresh adds it no second time."""
    wb = load_workbook(copy)
    cell = wb["Peers"]["I7"]  # Moore Threads' full-year revenue
    annotated = cell.comment.text + "\nLW: matches the prospectus"
    cell.comment = Comment(annotated, "gpuval")
    wb.save(copy)
    refresh(copy)
    assert load_workbook(copy)["Peers"]["I7"].comment.text == annotated


def test_the_sources_sheet_finds_the_cells_of_an_earlier_versions_notes(copy: Path) -> None:
    """Inputs and Assumptions notes written with the record id first still count as uses."""
    wb = load_workbook(copy)
    dataset, rewritten = load_dataset(), 0
    for ws in (wb["Inputs"], wb["Assumptions"]):
        for row in ws.iter_rows():
            for c in row:
                last = c.comment.text.rsplit("\n", 1)[-1] if c.comment else ""
                if last.startswith("Record "):
                    rec = dataset[last.removeprefix("Record ").split(" \u00b7 ")[0]]
                    c.comment = Comment(f"{rec.id}\n{rec.source}\n{rec.quote}", "gpuval")
                    rewritten += 1
    ws = wb["Sources"]
    expected = {c.coordinate: c.value for row in ws.iter_rows(min_row=5, min_col=5)
                for c in row if c.value is not None}  # fmt: skip
    assert rewritten >= 10 and any(v.startswith("Inputs!") for v in expected.values())
    ws._hyperlinks = []
    for ref in expected:
        ws[ref].hyperlink = None
        ws[ref].value = None
    wb.save(copy)
    refresh(copy)
    ws = load_workbook(copy)["Sources"]
    assert {ref: ws[ref].value for ref in expected} == expected
    assert all(ws[ref].hyperlink is not None for ref, text in expected.items() if "," not in text)


def test_monte_carlo_is_written_by_name_and_label(copy: Path) -> None:
    refresh(copy)
    wb = load_workbook(copy)
    for name, label in (("mc_mean", "Mean value per share"), ("mc_std", "Standard deviation")):
        cell = named_cell(wb, name)
        assert cell.parent.title == "Monte Carlo"
        assert cell.parent.cell(cell.row, cell.column - 1).value == label
    built = load_workbook(copy.parent / "analyst.xlsx")
    assert named_cell(built, "mc_draws").value == 100_000


@pytest.mark.libreoffice
def test_an_edited_input_makes_the_snapshot_stale_until_a_refresh(copy: Path, recalc) -> None:
    """The analyst raises Biren's Base failure value to 50% of the value if it succeeds. The
    snapshot's figures, drawn for the old inputs, leave the Valuation sheet (n/a) and check
    fails until a refresh redraws them all, the weighted value and its rank included. Base by
    hand: USD 7.5168 bn if it succeeds x (0.7 + 0.3 x 0.5) = 6.3893 bn x 7.7764 / 2.3951 bn =
    HKD 20.745; weighted 0.25 x 1.705 + 0.5 x 20.745 + 0.25 x 82.739 = HKD 31.48 (30.20 before)."""
    wb = load_workbook(copy)
    named_cell(wb, "in_fail_fraction_base").value = 0.5
    wb.save(copy)
    recalculated = recalc(copy)
    values = load_workbook(recalculated, data_only=True)
    assert named_cell(values, "mc_current").value is False
    assert named_cell(values, "mc_weighted").value == pytest.approx(30.20, abs=0.01)  # as built
    probability = next(r for r in values["Valuation"].iter_rows(values_only=True)
                       if str(r[0]).startswith("P(scenario value > price)"))  # fmt: skip
    assert "n/a" in probability
    assert values["Monte Carlo"]["B3"].value.startswith("Snapshot of other inputs")
    snapshot = _snapshot_check(copy, recalculated)
    assert snapshot.details == [
        "Monte Carlo!H5 (mc_current) is False: the snapshot was drawn "
        "for other inputs or another target; gpuval refresh redraws it"
    ]

    refresh(copy)  # which stores every value LibreOffice computes for the refreshed file
    values = load_workbook(copy, data_only=True)
    assert named_cell(values, "mc_weighted").value == pytest.approx(31.48, abs=0.01)
    assert 0 < named_cell(values, "mc_rank").value < 1
    assert named_cell(values, "mc_current").value is True
    assert values["Monte Carlo"]["B3"].value in ("", None)
    assert _snapshot_check(copy, copy).passed


def _snapshot_check(path: Path, recalculated: Path) -> CheckResult:
    report = check_workbook(path, max_age_days=1000, recalculated=recalculated)
    return next(r for r in report.results if r.name == "snapshot")


def test_progress_counts_the_steps_it_takes(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No prices: read, update, Monte Carlo, (LibreOffice,) save: the last step is n of n, and
    a refresh that changes no data says so in a sentence, not a colon over nothing."""
    assert main(["refresh", str(copy)]) == 0
    out, err = capsys.readouterr()
    steps = [line for line in err.splitlines() if line.startswith("[")]
    assert steps[-1] == f"[{len(steps)}/{len(steps)}] saving", steps
    assert "0 data value(s) changed (0 removed).\n" in out


def test_refresh_writes_through_a_symlink(copy: Path, tmp_path: Path) -> None:
    link = tmp_path / "link" / "mine.xlsx"
    link.parent.mkdir()
    link.symlink_to(copy)
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,40,HKD\n")
    report = refresh(link, prices=prices)
    assert link.is_symlink() and link.resolve() == copy
    assert load_workbook(copy)["Peers"]["F6"].value == 40
    assert report.backup is not None and report.backup.parent == copy.parent


def test_refresh_writes_through_a_hard_link(copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-name.xlsx"
    os.link(copy, other)
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,39,HKD\n")
    refresh(other, prices=prices)
    assert os.stat(copy).st_ino == os.stat(other).st_ino and os.stat(copy).st_nlink == 2
    assert load_workbook(copy)["Peers"]["F6"].value == 39


def test_disk_full_while_backing_up_is_one_sentence_and_leaves_nothing(
    copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = copy.read_bytes()

    def full(src: str, dst: str, **_kw: object) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gpuval.pipeline.refresh.shutil.copy2", full)
    assert main(["refresh", str(copy), "-q"]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(r"gpuval: error: Cannot write the backup \S+analyst\.backup-\d{8}-\d{6}"
                        r"\.xlsx: No space left on device\.\n", err), err  # fmt: skip
    assert copy.read_bytes() == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["analyst.xlsx"]


def test_a_damaged_workbook_is_refused_in_one_sentence(copy: Path) -> None:
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(GpuvalError, match=r"truncated or damaged zip archive"):
        refresh(copy)


def test_only_owned_parts_change(copy: Path) -> None:
    before = {i.filename: zipfile.ZipFile(copy).read(i) for i in zipfile.ZipFile(copy).infolist()}
    prices = copy.parent / "p.csv"
    # a price corrected on its own date: the as-of date, printed in every sheet's header, stays
    prices.write_text("entity,date,price,currency\nbiren,2026-01-05,40,HKD\n")
    refresh(copy, prices=prices)
    with zipfile.ZipFile(copy) as archive:
        after = {name: archive.read(name) for name in archive.namelist()}
    assert list(after) == list(before)
    changed = {n for n in before if before[n] != after[n]}
    order = load_workbook(copy).sheetnames
    part = {title: f"xl/worksheets/sheet{order.index(title) + 1}.xml"
            for title in ("Peers", "Monte Carlo", "Data", "Cover", "Sources")}  # fmt: skip
    rels = after[part["Peers"].replace("worksheets/", "worksheets/_rels/") + ".rels"].decode()
    notes = re.search(r'Target="/?(?:xl/|\.\./)?(comments/comment\d+\.xml)"', rels)
    assert notes is not None, "Peers keeps its notes"
    owned = set(part.values()) | {"xl/workbook.xml", f"xl/{notes.group(1)}"}  # Peers' notes
    assert changed <= owned, changed - owned
    assert part["Peers"] in changed and "xl/workbook.xml" in changed


def test_a_refresh_with_nothing_new_changes_only_the_names(copy: Path, built: Path) -> None:
    report = refresh(copy)
    assert report.changes == []
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(copy) as b:
        changed = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert changed == ["xl/workbook.xml"]  # data_version, mc_* names and fullCalcOnLoad
    wb = load_workbook(copy)
    assert wb.calculation.fullCalcOnLoad is True
    assert named_cell(wb, "mc_draws").coordinate == "B5"  # beside its label, not a header


# --- build never replaces what it must not ------------------------------------------------------


def test_build_refuses_a_symlink_a_device_and_the_template(tmp_path: Path, built: Path) -> None:
    from gpuval.workbook.template import DEFAULT_TEMPLATE

    link = tmp_path / "link.xlsx"
    link.symlink_to(built)
    before = built.read_bytes()
    with pytest.raises(GpuvalError, match=r"link\.xlsx is a symbolic link \(to .*\); give"):
        build(link)
    assert built.read_bytes() == before and link.is_symlink()
    with pytest.raises(GpuvalError, match=r"/dev/null is a device, pipe or socket, not a "):
        build(Path("/dev/null"))
    assert Path("/dev/null").is_char_device()
    template = tmp_path / "house.xlsx"
    shutil.copy(DEFAULT_TEMPLATE, template)
    with pytest.raises(GpuvalError, match=r"house\.xlsx is the file being read"):
        build(template, template=template)


def test_build_refuses_an_analysts_working_copy_unless_forced(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(copy)  # a fresh build may be rebuilt
    wb = load_workbook(copy)
    wb.create_sheet("My model")
    wb.save(copy)
    before = copy.read_bytes()
    assert main(["build", "--out", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "holds an analyst's work (the analyst's sheet 'My model'); refresh it instead" in err
    assert copy.read_bytes() == before
    assert main(["build", "--out", str(copy), "--force"]) == 0
    assert "My model" not in load_workbook(copy).sheetnames
    refresh(copy)
    with pytest.raises(GpuvalError, match=r"\(it has been refreshed\)"):
        build(copy)


def test_a_sheet_whose_notes_were_all_deleted_gets_its_citations_back(
    copy: Path, tmp_path: Path
) -> None:
    stripped = tmp_path / "stripped.xlsx"  # Peers (sheet 6) as Excel saves it without notes
    with zipfile.ZipFile(copy) as src, zipfile.ZipFile(stripped, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/_rels/sheet6.xml.rels":
                data = re.sub(rb"<Relationship [^>]*/(comments|vmlDrawing)\"[^>]*/>", b"", data)
            if info.filename == "xl/worksheets/sheet6.xml":
                data = re.sub(rb"<legacyDrawing [^>]*/>", b"", data)
            # Peers is the first sheet with notes: its notes are comment1 and commentsDrawing1
            if info.filename in ("xl/comments/comment1.xml", "xl/drawings/commentsDrawing1.vml"):
                continue
            out.writestr(info, data)
    assert load_workbook(stripped)["Peers"]["F6"].comment is None
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,40,HKD\n")
    report = refresh(stripped, prices=prices)
    assert not [n for n in report.notes if n.startswith("no note could be added")]
    peers = load_workbook(stripped)["Peers"]
    assert peers["F6"].value == 40
    assert peers["F6"].comment.text == "prices file: biren 2026-11-20 40.0"
    assert peers["G6"].comment.text.endswith(
        "\nRecord biren.shares_outstanding \u00b7 000_20127ad21e8e5e0e.txt"
    )
    with zipfile.ZipFile(stripped) as archive:
        types = archive.read("[Content_Types].xml")
        names = archive.namelist()
    assert "xl/comments/commentGv1.xml" in names and b"/xl/comments/commentGv1.xml" in types


def test_a_broken_name_refresh_writes_under_is_one_sentence(copy: Path) -> None:
    refresh(copy)  # names the Monte Carlo figures
    with zipfile.ZipFile(copy) as archive:
        files = {i.filename: archive.read(i) for i in archive.infolist()}
    files["xl/workbook.xml"] = re.sub(rb'(<definedName name="mc_mean"[^>]*>)[^<]*',
                                      rb"\1#REF!", files["xl/workbook.xml"])  # fmt: skip
    files["xl/workbook.xml"] = files["xl/workbook.xml"].replace(
        b"</definedNames>", b'<definedName name="in_my_own">42</definedName></definedNames>'
    )  # an analyst's constant under an in_ name is no business of refresh
    with zipfile.ZipFile(copy, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    before = copy.read_bytes()
    with pytest.raises(GpuvalError, match=r"^analyst\.xlsx: the defined name mc_mean points at "
                       r"#REF!: its cells on 'Monte Carlo' were deleted"):  # fmt: skip
        refresh(copy)
    assert copy.read_bytes() == before


def test_hyperlinks_a_table_and_a_chartsheet_are_read_and_kept(copy: Path) -> None:
    """What an analyst adds in Excel: a hyperlink on a Peers cell and on an Inputs comment (each
    a relationship of its sheet), Peers formatted as a table, a chart on a chartsheet. Refresh
    had stopped on each ("Unknown relationship: rId3"; the chartsheet's drawing, left out of the
    reading view, "no item named xl/drawings/drawing7.xml"); now it refreshes and keeps them."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.worksheet.table import Table

    wb = load_workbook(copy)
    wb["Peers"]["B6"].hyperlink = "https://www.hkexnews.hk/"
    wb["Inputs"]["G9"].hyperlink = "https://example.com/fx-note"
    last = max(r for r in range(6, 40) if wb["Peers"].cell(r, 1).value)
    wb["Peers"].add_table(Table(displayName="PeerTable", ref=f"A5:V{last}"))
    chart = BarChart()
    chart.add_data(
        Reference(wb["Peers"], min_col=9, min_row=5, max_row=last), titles_from_data=True
    )
    wb.create_chartsheet("Revenue chart").add_chart(chart)
    wb.save(copy)
    refresh(copy)
    with zipfile.ZipFile(copy) as z:
        names = z.namelist()
        assert any(n.startswith("xl/tables/") for n in names)
        assert any(n.startswith("xl/chartsheets/sheet") for n in names)
    kept = load_workbook(copy)
    assert kept["Peers"]["B6"].hyperlink.target == "https://www.hkexnews.hk/"
    assert kept["Inputs"]["G9"].hyperlink.target == "https://example.com/fx-note"
    assert "PeerTable" in kept["Peers"].tables
    assert "Revenue chart" in kept.sheetnames


def test_build_never_writes_over_what_it_reads_or_a_file_that_is_not_a_workbook(
    tmp_path: Path,
) -> None:
    """``--out`` named like the dataset, over a prices file saved as .xlsx or a damaged
    workbook: refused in one sentence, the file as it was (build had
    replaced each, the dataset it was reading included); --force replaces a file that is not a
    workbook, never the dataset being read; an empty file is no one's work."""
    dataset = tmp_path / "my_dataset.toml"
    shutil.copy(DATASET, dataset)
    with pytest.raises(GpuvalError) as refused:
        build(dataset, dataset_path=dataset, force=True)
    assert str(refused.value) == (
        f"Output file {dataset} is the file being read ({dataset}); choose another."
    )
    with pytest.raises(GpuvalError) as refused:
        build(tmp_path / "copy.toml")
    assert str(refused.value) == (
        f"Output file {tmp_path / 'copy.toml'}: gpuval writes .xlsx workbooks; give a name "
        "ending in .xlsx."
    )
    for name, body in [("prices.xlsx", b"entity,date,price\nbiren,2026-01-05,36\n"),
                       ("damaged.xlsx", b"PK\x03\x04 cut short")]:  # fmt: skip
        other = tmp_path / name
        other.write_bytes(body)
        with pytest.raises(GpuvalError) as refused:
            build(other)
        assert str(refused.value) == (
            f"Output file {other} exists and is not a workbook gpuval can read; choose another "
            "name, or pass --force to replace it."
        )
        assert other.read_bytes() == body
        build(other, force=True)
        assert load_workbook(other).sheetnames[0] == "Cover"
    (tmp_path / "empty.xlsx").write_bytes(b"")
    build(tmp_path / "empty.xlsx")
