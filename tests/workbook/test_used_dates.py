"""The as-of date is the OLDEST date of the market figures the valuation uses: each used row of
Peers shows its figure's date in "Date if used" (a month-only period from its first day, or from
the listing day in the month a company listed), the Cover's ``data_asof`` is their MIN, and
:func:`peers.oldest_used_date` gives the same in Python.

The shipped dataset's market figures (hand-read from its [[peer]] records): Biren's price
2026-01-05, Moore Threads' market value of 2026-01 (-> 2026-01-01), MetaX's peak market value of
2025-12 (-> 2025-12-17, its listing day), NVIDIA's price 2025-10-29; Cambricon, Kunlunxin and
Iluvatar CoreX have no market figure, so they count nowhere. Used: the target; the peers counted
in the statistics, which by default are those whose full-year revenue is of the target's fiscal
year (Biren: FY2024, no peer; MetaX: FY2025, Moore Threads); NVIDIA only when "x% of NVIDIA"
reads the peer table and has a weight (0 by default); the peers only while a method resting on
their P/S (the peer statistics, 30 % by default, or the venue re-rating, 0) has a weight and
applies to the target (listed in China, not NVIDIA)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gpuval.workbook.build import build, build_workbook
from gpuval.workbook.sheets import peers
from workbook_helpers import named_cell

USED = {
    "biren": dt.datetime(2026, 1, 5),
    "moore_threads": dt.datetime(2026, 1, 1),
    "metax": dt.datetime(2025, 12, 17),
    "nvidia": dt.datetime(2025, 10, 29),
}


def test_a_month_only_period_is_dated_from_its_first_day() -> None:
    rows = {r["id"]: r for r in peers.peer_rows(build_workbook().dataset)}
    # MetaX listed on 2025-12-17 (metax.listing_date): its December market value is of then on
    assert rows["metax"]["as_of"] == dt.date(2025, 12, 17)
    assert rows["metax"]["market_basis"].startswith("2025-12 ")  # the label keeps the month
    assert rows["moore_threads"]["as_of"] == dt.date(2026, 1, 1)
    assert peers.period_date("2026-01-05") == dt.date(2026, 1, 5)
    assert peers.period_date("2025 Q4") == "2025 Q4"  # neither a day nor a month: kept as text
    listed = dt.date(2025, 12, 17)
    assert peers.period_date("2025-12", listed) == listed  # no market value before the listing
    assert peers.period_date("2026-01", listed) == dt.date(2026, 1, 1)  # listed the month before
    assert peers.period_date("2025-12-05", listed) == dt.date(2025, 12, 5)  # a day is a day


def _used(*ids: str) -> dict[str, dt.date]:
    return {k: USED[k].date() for k in ids}


def test_the_python_rule_picks_the_rows_used() -> None:
    values = dict(build_workbook().values)
    assert peers.used_dates(values) == _used("biren")  # no FY2024 peer; NVIDIA's weight is 0
    assert peers.oldest_used_date(values) == dt.date(2026, 1, 5)
    values["in_weight_nvidia"] = 0.1  # x% of NVIDIA now counts, and reads the peer table
    assert peers.used_dates(values) == _used("biren", "nvidia")
    assert peers.oldest_used_date(values) == dt.date(2025, 10, 29)  # NVIDIA's price
    values["in_nvidia_value_basis"] = "peak"  # ... no longer reads the peer table
    assert "nvidia" not in peers.used_dates(values)
    values["in_peer_years"] = "any"  # the FY2025 peers count, and date the valuation
    assert peers.used_dates(values) == _used("biren", "moore_threads", "metax")
    assert peers.oldest_used_date(values) == dt.date(2025, 12, 17)  # MetaX's month
    values["in_weight_peers"] = 0  # no method rests on the peers' P/S: their figures date nothing
    assert peers.used_dates(values) == _used("biren")
    values["in_weight_venue"] = 0.05  # ... until the venue re-rating, which reads them, counts
    assert peers.used_dates(values) == _used("biren", "moore_threads", "metax")
    values["in_weight_venue"] = "0.3"  # text, which the sheet's N() reads as 0
    assert peers.used_dates(values) == _used("biren")


def test_build_needs_no_libreoffice_and_writes_the_formula(tmp_path: Path) -> None:
    wb = load_workbook(build(tmp_path / "b.xlsx"))
    # the oldest date used, or "no date" when a used row has none (an empty date is not day 0)
    assert named_cell(wb, "data_asof").value == (
        '=IF(COUNTIF(peers_used_dates,"no date")>0,"no date",MIN(peers_used_dates))'
    )
    header = [c.value for c in wb["Peers"][peers.TABLE_HEADER_ROW]]
    # after the samples, before the chart columns (which stay rightmost): earlier columns kept
    assert header.index("Date if used") == header.index("HK sample") + 1
    assert header.index("Date if used") + 1 == peers._K["Date if used"]


def test_the_workbook_dates_the_rows_used_as_python_does(
    tmp_path: Path, recalc: Callable[[Path], Path]
) -> None:
    built = build(tmp_path / "b.xlsx")
    wb = load_workbook(built)
    named_cell(wb, "in_weight_nvidia").value = 0.1
    named_cell(wb, "in_weight_tam").value = 0.3  # the weights still sum to 100 %
    weighted = tmp_path / "weighted.xlsx"
    wb.save(weighted)
    named_cell(wb, "in_peer_years").value = "any"
    named_cell(wb, "in_nvidia_value_basis").value = "peak"
    peak = tmp_path / "peak.xlsx"
    wb.save(peak)
    named_cell(wb, "in_weight_peers").value = 0  # no method on the peers' P/S
    named_cell(wb, "in_weight_tam").value = 0.6
    unweighted = tmp_path / "unweighted.xlsx"
    wb.save(unweighted)
    cases = ((built, _used("biren")), (weighted, _used("biren", "nvidia")),
             (peak, _used("biren", "moore_threads", "metax")),
             (unweighted, _used("biren")))  # fmt: skip
    for path, expected in cases:
        values = load_workbook(recalc(path), data_only=True)
        assert _dated(values) == expected, path.name
        assert named_cell(values, "data_asof").value.date() == min(expected.values())


def _dated(values: Any) -> dict[str, dt.date]:
    """Company id -> the "Date if used" LibreOffice computed, for the rows it dates."""
    column = peers.FIRST, peers._K["Date if used"]
    ids = [values["Peers"].cell(peers.FIRST + i, 1).value for i in range(7)]
    shown = {rid: values["Peers"].cell(column[0] + i, column[1]).value for i, rid in enumerate(ids)}
    return {k: v.date() for k, v in shown.items() if v not in (None, "", peers.NOT_USED)}


@pytest.mark.parametrize(
    ("target", "used"),
    [
        # MetaX valued: Moore Threads is its one FY2025 peer; Biren's FY2024 is left out
        ("metax", ("moore_threads", "metax")),
        # NVIDIA, listed in the US: the China peers' P/S do not value it (n/a on Valuation), so
        # their figures date nothing though the peer method keeps its default weight
        ("nvidia", ("nvidia",)),
    ],
)
def test_another_target_dates_its_own_figure(
    target: str, used: tuple[str, ...], tmp_path: Path, recalc: Callable[[Path], Path]
) -> None:
    built = build(tmp_path / "m.xlsx", target=target)
    values = load_workbook(recalc(built), data_only=True)
    expected = _used(*used)
    assert _dated(values) == expected
    assert named_cell(values, "data_asof").value.date() == min(expected.values())
    data = dict(build_workbook(target=target).values)
    assert peers.used_dates(data) == expected
