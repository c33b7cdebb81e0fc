"""Peer statistics says what each company's figures are on the chosen basis, so that a reader
can judge like with like: one line per company with a P/S, its market value and revenue in USD,
what each figure is (fiscal year, reported or guidance, bound, peak) and what that makes the
P/S (a lower bound; at a peak, not today's); above them, counts over the peers in the
statistics and what they make the percentiles and the implied values. Values as LibreOffice
computes them; expected P/S by hand from the dataset's figures, descriptions from the records'
kinds, and what each P/S is by the reasoning in tests/core/test_formula_builders.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from gpuval.pipeline.formula_audit import audit_formulas
from gpuval.pipeline.recalc import recalculate
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import LAYOUT, LAYOUT_NAME, build
from workbook_helpers import figures, named_cell

COUNTS = ("tgt_basis_revenue_is", "peer_lower_bounds", "peer_upper_bounds", "peer_peaks",
          "peer_not_points", "peer_later_years", "peer_earlier_years", "gap_a_bounds",
          "gap_hk_bounds", "gap_a_years", "gap_hk_years", "peer_other_years", "peer_reading",
          "peer_bounds_note")  # fmt: skip
FY_LATER = (
    " For 2 of the 2 peers the full-year revenue is of a later fiscal year than the target's: "
    "for growing companies that lowers their P/S and the implied values with it."
)
GAP = (
    " The venue gap rests on 2 A-share and 0 Hong Kong P/S that are bounds or at a peak: read it "
    "as an indication too."
)
GAP_YEARS = (
    " In the venue gap {a} A-share and {hk} Hong Kong P/S are of another fiscal year than the "
    "target's, whose P/S it re-rates."
)
LEFT_OUT = (
    " {n} China {peers} left out: {its} full-year revenue is of another fiscal year than the "
    "target's (in_peer_years on Inputs)."
)
MIXED = (
    "Some of the figures are bounds or at a peak: read the percentiles and the implied values "
    "as indications."
)


def counts(values: Workbook) -> dict[str, object]:
    """The target's revenue description, the counts over the peers in the statistics, how the
    implied values read and the sentence saying so, by defined name."""
    return {name: named_cell(values, name).value for name in COUNTS}


def drives(values: Workbook) -> object:
    """What drives the peer P/S method, on Valuation."""
    ws = values["Valuation"]
    return next(row[6] for row in ws.iter_rows(values_only=True)
                if str(row[0]).startswith("Peer P/S"))  # fmt: skip


def _computed(built: Path, folder: Path, **inputs: object) -> Workbook:
    wb = load_workbook(built)
    for name, value in inputs.items():
        named_cell(wb, name).value = value
    wb.save(folder / "edited.xlsx")
    return load_workbook(recalculate(folder / "edited.xlsx"), data_only=True)


@pytest.fixture(scope="module")
def biren(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("figures") / "biren.xlsx", target="biren")


@pytest.fixture(scope="module")
def biren_values(biren: Path) -> Workbook:
    """The Biren workbook as built (full-year basis), computed by LibreOffice."""
    return load_workbook(recalculate(biren, biren.with_suffix(".recalc.xlsx")), data_only=True)


@pytest.fixture(scope="module")
def biren_any(biren: Path, tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    """The Biren workbook counting any fiscal year (``in_peer_years`` = "any"), by an analyst
    who accepts two peers for the peer method (``in_peer_min_count`` = 2; 3 by default)."""
    return _computed(biren, tmp_path_factory.mktemp("any"), in_peer_years="any",
                     in_peer_min_count=2)  # fmt: skip


@pytest.mark.libreoffice
def test_full_year_names_each_figure_and_what_it_makes_the_ps(biren_values: Workbook) -> None:
    """Biren's FY2024 reported revenue meets the peers' FY2025 guidance upper ends, over market
    values the sources give as "over CNY 300 bn": Moore Threads' P/S is a floor; MetaX's market
    value is its December peak, so its P/S is not today's (a floor of the peak's). NVIDIA is
    shown but not in the statistics. By default the two FY2025 peers are shown, and left out of
    the statistics: their fiscal year is not Biren's."""
    lines = figures(biren_values)
    later = " (left out: another fiscal year)"
    assert [line["Company"] for line in lines] == [
        "Biren Technology (the target)", f"Moore Threads{later}", f"MetaX{later}",
        "NVIDIA (not in the statistics)"]  # fmt: skip
    assert [line["Venue"] for line in lines] == ["HK", "A", "A", "US"]
    hkd = named_cell(biren_values, "in_fx_usd_per_hkd").value
    cny = named_cell(biren_values, "in_fx_cny_per_usd").value
    ps = [85.54e9 * hkd / (337e6 / cny), 300e9 / 1498e6, 300e9 / 1980e6, 4890e9 / 120e9]
    assert [line["P/S"] for line in lines] == pytest.approx(ps, rel=1e-9)
    assert [line["Market value (USD)"] for line in lines] == pytest.approx(
        [85.54e9 * hkd, 300e9 / cny, 300e9 / cny, 4890e9], rel=1e-9)  # fmt: skip
    assert [line["Revenue (USD)"] for line in lines] == pytest.approx(
        [337e6 / cny, 1498e6 / cny, 1980e6 / cny, 120e9], rel=1e-9)  # fmt: skip
    assert [(line["Market figure is"], line["Revenue figure is"], line["The P/S is"])
            for line in lines] == [
        ("2026-01-05 share price, derived", "FY2024 reported", "point value"),
        ("2026-01 market value, lower bound (over)", "FY2025 guidance, upper bound",
         "lower bound"),
        ("2025-12 peak market value, lower bound (over)", "FY2025 guidance, upper bound",
         "at a peak, not today: lower bound"),
        ("2025-10-29 share price", "2025 derived (about)", "point value"),
    ]  # fmt: skip


@pytest.mark.libreoffice
def test_no_peer_of_the_targets_fiscal_year(biren_values: Workbook) -> None:
    """Biren, full year, like with like (the default): no China peer reports FY2024, so the
    statistics, the implied values and the venue gap (its A-share side) are n/a; the sentence
    and the Valuation sheet's peer method say why, and the weighted value rests on the TAM
    scenarios and the DCF (their weights 40 % and 30 % scaled to 4/7 and 3/7)."""
    found = counts(biren_values)
    assert found == {
        "tgt_basis_revenue_is": "FY2024 reported", "peer_lower_bounds": 0,
        "peer_upper_bounds": 0, "peer_peaks": 0, "peer_not_points": 0, "peer_later_years": 0,
        "peer_earlier_years": 0, "gap_a_bounds": 0, "gap_hk_bounds": 0, "gap_a_years": 0,
        "gap_hk_years": 0, "peer_other_years": 2, "peer_reading": "n/a",
        "peer_bounds_note": LEFT_OUT.format(n=2, peers="peers are", its="their").strip(),
    }  # fmt: skip
    assert named_cell(biren_values, "peer_count").value in (0, "n/a")
    assert named_cell(biren_values, "out_venue_gap").value == "n/a"
    assert drives(biren_values) == ("Pricing: China peers' P/S today x the target's revenue "
                                    "(no peer of the target's fiscal year: 2 left out; see Peer "
                                    "statistics)")  # fmt: skip
    # by hand: TAM weighted 30.20 HKD and DCF 2.11 (Valuation, as LibreOffice computes it and
    # the core agrees) at 0.4 and 0.3 of 0.7: 18.16
    tam, dcf = named_cell(biren_values, "out_value_per_share_weighted").value, named_cell(
        biren_values, "out_dcf_value_per_share").value  # fmt: skip
    assert tam == pytest.approx(30.20, abs=0.005) and dcf == pytest.approx(2.11, abs=0.005)
    assert named_cell(biren_values, "out_valuation_weighted").value == pytest.approx(
        (0.4 * tam + 0.3 * dcf) / 0.7, rel=1e-9)  # fmt: skip
    assert named_cell(biren_values, "out_valuation_weighted").value == pytest.approx(
        18.16, abs=0.005)  # fmt: skip


@pytest.mark.libreoffice
def test_a_target_without_a_fiscal_year_matches_none(biren: Path, tmp_path: Path) -> None:
    """Biren's fiscal year cleared: it has a full-year revenue but no year, so no peer is "of
    another fiscal year" (nothing to compare with): each says the target has none to match,
    none is counted as left out for another year, and the year reads n/a (it read 0, and the
    DCF's headers FY1...)."""
    wb = load_workbook(biren)
    title, coord = next(iter(wb.defined_names["data_peers_fy_year"].destinations))
    wb[title][coord.replace("$", "").split(":")[0]] = None  # Biren's, the first row
    wb.save(tmp_path / "no_year.xlsx")
    values = load_workbook(recalculate(tmp_path / "no_year.xlsx"), data_only=True)
    assert named_cell(values, "tgt_base_year").value == "n/a"
    assert named_cell(values, "peer_other_years").value == 0
    assert named_cell(values, "peer_count").value in (0, "n/a")
    reasons = {values["Peers"].cell(r, 1).value: values["Peers"].cell(r, column).value
               for r in range(6, 13)
               for column in [next(c.column for c in values["Peers"][5]
                                   if c.value == "Statistics: counted, or why not")]}  # fmt: skip
    assert reasons["moore_threads"] == reasons["metax"] == (
        "the target has no full-year fiscal year to match")  # fmt: skip
    assert "left out" not in str(named_cell(values, "peer_bounds_note").value)


@pytest.mark.libreoffice
def test_the_statistics_say_how_to_read_them(biren_any: Workbook) -> None:
    """Biren, full year, any fiscal year counted: of the two peers in the statistics one P/S is
    a floor and one is at a peak, both on FY2025 against Biren's FY2024 (a later year: for
    growing companies a lower P/S): the implied values read as indications, and the Valuation
    sheet's peer method says so. The venue gap's A-share side is those two, its Hong Kong side
    Biren's stated P/S: an indication too. NVIDIA's figures count nowhere: it is not in the
    statistics."""
    assert counts(biren_any) == {
        "tgt_basis_revenue_is": "FY2024 reported", "peer_lower_bounds": 1,
        "peer_upper_bounds": 0, "peer_peaks": 1, "peer_not_points": 2, "peer_later_years": 2,
        # the gap: Moore Threads' floor and MetaX's peak on the A-share side; Biren's point value
        "peer_earlier_years": 0, "gap_a_bounds": 2, "gap_hk_bounds": 0,
        # Moore Threads' and MetaX's FY2025 against Biren's FY2024; Biren's own is the HK side
        "gap_a_years": 2, "gap_hk_years": 0, "peer_other_years": 0,
        "peer_reading": "indications",
        "peer_bounds_note": MIXED + FY_LATER + GAP + GAP_YEARS.format(a=2, hk=0),
    }  # fmt: skip
    assert drives(biren_any) == ("Pricing: China peers' P/S today x the target's revenue "
                                    "(indications, 2 peers on a later fiscal year: see Peer "
                                    "statistics)")  # fmt: skip


@pytest.mark.libreoffice
def test_floors_when_every_peer_is_a_lower_bound(biren: Path, tmp_path: Path) -> None:
    """Run-rate: one peer, Moore Threads (H1 doubled, market value over CNY 300 bn: a floor), so
    the percentiles are floors; Biren has no half-year revenue, so no implied value and no
    word on it; the fiscal years compare on the full-year basis only."""
    run_rate = _computed(biren, tmp_path, in_peer_basis="run-rate")
    assert [(line["Company"], line["Revenue figure is"], line["The P/S is"])
            for line in figures(run_rate)] == [
        ("Moore Threads", "H1 2025 reported (about), x 2", "lower bound")]  # fmt: skip
    assert figures(run_rate)[0]["P/S"] == pytest.approx(300e9 / 1.4e9, rel=1e-9)
    assert counts(run_rate) == {
        "tgt_basis_revenue_is": "not given", "peer_lower_bounds": 1, "peer_upper_bounds": 0,
        "peer_peaks": 0, "peer_not_points": 1, "peer_later_years": "n/a",
        "peer_earlier_years": "n/a",
        "gap_a_bounds": 1, "gap_hk_bounds": 0, "gap_a_years": "n/a", "gap_hk_years": "n/a",
        "peer_other_years": 0,
        "peer_reading": "n/a",  # no HK P/S: no gap
        "peer_bounds_note": "The one peer's P/S is a lower bound: the percentiles are floors.",
    }  # fmt: skip
    assert drives(run_rate) == "Pricing: China peers' P/S today x the target's revenue"


@pytest.mark.libreoffice
def test_backlog_and_a_basis_no_company_has(biren: Path, tmp_path: Path) -> None:
    """Backlog: only Biren (its CNY 1.24 bn backlog over the article's 12-18 months, 15 at the
    midpoint). Forward: no company has a forward revenue, and the table says so."""
    backlog = figures(_computed(biren, tmp_path, in_peer_basis="backlog"))
    assert [
        (line["Company"], line["Revenue figure is"], line["The P/S is"]) for line in backlog
    ] == [("Biren Technology (the target)", "order backlog (about), over 15 months", "point value")]
    forward = figures(_computed(biren, tmp_path, in_peer_basis="forward"))
    assert [line["Company"] for line in forward] == ["none: no company has a P/S on this basis"]
    assert forward[0]["P/S"] is None


@pytest.mark.libreoffice
def test_a_target_without_a_share_count(tmp_path: Path) -> None:
    """MetaX as the target: its own line, the first (the target leads, then table order), says
    so. Like with like (the default) its one peer is Moore Threads (a floor, FY2025) and Biren's
    FY2024 is left out; the gap has no Hong Kong side. One peer is under the three the peer
    method needs by default: no implied value, and the weighted value rests on the TAM scenarios
    and the DCF. An analyst who accepts one peer gets 300 bn / 1.498 bn = 200.27x, so CNY
    200.27 x 1.98 bn = 396.5 bn at the median: Moore Threads' and MetaX's revenue ratio, as
    their market values are the same "over 300 bn". Counting any fiscal year (and accepting two
    peers), its peers are Biren (FY2024 reported over a stated price: a point value; an earlier
    year, for growing companies a higher P/S) and Moore Threads; MetaX's own revenue is a
    guidance upper end, so even floors would not make its implied values floors."""
    built = build(tmp_path / "metax.xlsx", target="metax")
    like = load_workbook(recalculate(built, tmp_path / "like.xlsx"), data_only=True)
    assert [line["Company"] for line in figures(like)] == [
        "MetaX (the target)", "Biren Technology (left out: another fiscal year)",
        "Moore Threads", "NVIDIA (not in the statistics)"]  # fmt: skip
    assert counts(like) == {
        "tgt_basis_revenue_is": "FY2025 guidance, upper bound", "peer_lower_bounds": 1,
        "peer_upper_bounds": 0, "peer_peaks": 0, "peer_not_points": 1, "peer_later_years": 0,
        "peer_earlier_years": 0, "gap_a_bounds": 2, "gap_hk_bounds": 0, "gap_a_years": 0,
        "gap_hk_years": 0, "peer_other_years": 1, "peer_reading": "n/a",
        "peer_bounds_note": "The one peer's P/S is a lower bound: the percentiles are floors."
        + LEFT_OUT.format(n=1, peers="peer is", its="its"),
    }  # fmt: skip
    assert named_cell(like, "peer_equity_median").value == "n/a"
    assert drives(like) == ("Pricing: China peers' P/S today x the target's revenue (n/a: 1 "
                            "peer, under the 3 it needs on Inputs, 1 left out for another fiscal "
                            "year; see Peer statistics)")  # fmt: skip
    cny = named_cell(like, "tgt_fx").value
    tam, dcf = (named_cell(like, n).value * cny
                for n in ("out_equity_value_weighted", "out_dcf_equity_value"))  # fmt: skip
    assert named_cell(like, "out_valuation_weighted").value == pytest.approx(
        (0.4 * tam + 0.3 * dcf) / 0.7, rel=1e-9)  # fmt: skip
    assert named_cell(like, "out_venue_gap").value == "n/a"
    one = _computed(built, tmp_path, in_peer_min_count=1)
    assert named_cell(one, "peer_reading").value == "indications"
    assert named_cell(one, "peer_equity_median").value * cny == pytest.approx(
        300e9 / 1498e6 * 1980e6, rel=1e-9)  # fmt: skip
    values = _computed(built, tmp_path, in_peer_years="any", in_peer_min_count=2)
    assert [line["Company"] for line in figures(values)] == [
        "MetaX (the target)", "Biren Technology", "Moore Threads",
        "NVIDIA (not in the statistics)"]  # fmt: skip
    assert counts(values) == {
        "tgt_basis_revenue_is": "FY2025 guidance, upper bound", "peer_lower_bounds": 1,
        "peer_upper_bounds": 0, "peer_peaks": 0, "peer_not_points": 1, "peer_later_years": 0,
        # MetaX's own peak is in the gap (the target included), not in the statistics
        "peer_earlier_years": 1, "gap_a_bounds": 2, "gap_hk_bounds": 0,
        # MetaX's and Moore Threads' FY2025 on the A-share side; Biren's FY2024 the HK side
        "gap_a_years": 0, "gap_hk_years": 1, "peer_other_years": 0,
        "peer_reading": "indications",
        "peer_bounds_note": MIXED + " For 1 of the 2 peers the full-year revenue is of an earlier "
        "fiscal year than the target's: for growing companies that raises their P/S and the "
        "implied values with it." + GAP + GAP_YEARS.format(a=0, hk=1),
    }  # fmt: skip


@pytest.mark.libreoffice
def test_a_workbook_without_the_newer_description_columns_refreshes(
    biren: Path, tmp_path: Path
) -> None:
    """A workbook built before the half-year and backlog descriptions existed (their defined
    names absent) still refreshes: refresh reads the columns the workbook has."""
    wb = load_workbook(biren)
    for name in ("data_peers_h1_basis", "data_peers_backlog_basis"):
        del wb.defined_names[name]
    wb.save(tmp_path / "older.xlsx")
    report = refresh(tmp_path / "older.xlsx")
    values = load_workbook(tmp_path / "older.xlsx", data_only=True)
    assert named_cell(values, "chk_master").value is True, report.lines()


@pytest.mark.parametrize("layout", [None, "2026-01-01"])
def test_an_earlier_layout_is_named_not_blamed_on_the_analyst(
    biren: Path, layout: str | None
) -> None:
    """The formula audit compares a workbook with this version's build: a workbook of an
    earlier layout (an older stamp, or none: built before layouts were recorded) gets one
    finding saying so, not one per moved formula reading as an analyst's edit."""
    wb = load_workbook(biren)
    assert audit_formulas(wb) == []  # this layout: nothing to say
    assert wb.defined_names[LAYOUT_NAME].attr_text == f'"{LAYOUT}"'
    if layout is None:
        del wb.defined_names[LAYOUT_NAME]
    else:
        wb.defined_names[LAYOUT_NAME].attr_text = f'"{layout}"'
    built = "before layouts were recorded" if layout is None else f"with the layout of {layout}"
    assert audit_formulas(wb) == [
        f"the workbook was built {built}, and this gpuval builds the layout of {LAYOUT}: the "
        "formulas cannot be compared. Check it with the gpuval that built it, or carry it into a "
        "new build with gpuval build --from WORKBOOK --out NEW (its inputs, assumptions, peer "
        "table and stored prices; not your own sheets)."
    ]


@pytest.mark.libreoffice
def test_a_target_that_is_not_a_china_peer(tmp_path: Path) -> None:
    """NVIDIA as the target: the China peers' P/S are no yardstick for it, whatever their
    bounds, and the Valuation sheet's peer method says so."""
    built = build(tmp_path / "nvidia.xlsx", target="nvidia")
    values = load_workbook(recalculate(built, tmp_path / "r.xlsx"), data_only=True)
    found = counts(values)
    assert found["peer_reading"] == "not comparable"
    assert str(found["peer_bounds_note"]).startswith(
        "The target is not a China peer: the China peers' P/S are no yardstick for it. Some of "
        "the figures are bounds or at a peak"
    )
    assert drives(values) == ("Pricing: China peers' P/S today x the target's revenue "
                              "(not comparable: see Peer statistics)")  # fmt: skip


@pytest.mark.libreoffice
def test_the_dcf_shows_the_bridge_years_growth(biren_values: Workbook) -> None:
    """Biren's FY2025, bridged from FY2024 (3.37亿) towards FY2026 at the backlog's annual rate
    (9.92亿): its growth, 71.57%, shows in the bridge column (the cell was blank, and the jump
    hidden), and FY2026's revenue is the backlog's annual rate in USD, 9.92亿 / 7."""
    ws = biren_values["DCF"]
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == "Year of the valuation") - 1
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, 1).value: r for r in range(header, header + 20)}
    assert ws.cell(rows["Revenue growth"], columns["FY2025 start"]).value == 0.7157
    fy2026 = ws.cell(rows["Revenue"], columns["FY2026"]).value
    assert fy2026 == pytest.approx(3.37e8 * 1.7157**2 / 7, rel=1e-12)
    assert fy2026 == pytest.approx(12.4e8 * 12 / 15 / 7, rel=1e-5)
