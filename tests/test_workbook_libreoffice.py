"""The workbook recalculated by a real spreadsheet engine (LibreOffice) agrees with the Python
core: no error value anywhere, every out_ equal to `gpuval evaluate` to 1e-9, also after inputs
and the target are changed; charts point at real numbers; every sheet renders to PDF."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from gpuval import core
from gpuval.pipeline.recalc import convert, render_pngs
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import evaluate, read_inputs
from gpuval.workbook.model import run_names, scenario_arguments
from gpuval.workbook.sheets import dcf, implied, scenarios, sensitivity
from gpuval.workbook.sheets.valuation import FIGURE_NOTE
from workbook_helpers import close, error_cells, named_cell, names

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("lo") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def recalculated(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gpuval.pipeline.recalc import recalculate

    return recalculate(built, tmp_path_factory.mktemp("lo_out") / "recalc.xlsx")


def assert_matches_core(original: Path, recalculated: Path) -> dict[str, Any]:
    values = load_workbook(recalculated, data_only=True)
    assert error_cells(values) == []
    statuses = [r[2] for r in values["Checks"].iter_rows(min_row=5, values_only=True)
                if r[0] and r[0] != "Master check"]  # fmt: skip
    assert all(isinstance(s, bool) for s in statuses)
    assert named_cell(values, "chk_master").value is all(statuses)
    expected = evaluate(original)
    assert set(expected) == set(names(values, "out_"))
    for name, value in expected.items():
        sheet = named_cell(values, name).value
        assert close(sheet, value), f"{name}: LibreOffice {sheet!r}, core {value!r}"
    return expected


def test_default_workbook(built: Path, recalculated: Path) -> None:
    assert_matches_core(built, recalculated)
    assert named_cell(load_workbook(recalculated, data_only=True), "chk_master").value is True


def _set(path: Path, changes: dict[str, Any], out: Path) -> Path:
    wb = load_workbook(path)
    for name, value in changes.items():
        named_cell(wb, name).value = value
    wb.save(out)
    return out


CHANGES: list[dict[str, Any]] = [
    {"in_target": "nvidia", "in_share_base": 0.5, "in_coe_bull": 0.095, "in_exit_pe_bear": 15},
    {"in_target": "moore_threads", "in_fx_cny_per_usd": 7.25, "in_peer_basis": "run-rate",
     "in_dcf_growth_y2_5": 0.5, "in_gap_closed": 1.0},
    {"in_target": "metax", "in_valuation_date": dt.datetime(2026, 3, 31),
     "in_exit_date": dt.datetime(2030, 6, 30), "in_prob_bear": 0.2, "in_prob_base": 0.6,
     "in_prob_bull": 0.2, "in_dcf_convergence_year": 6},
    {"in_fx_usd_per_hkd": 0.1282, "in_tam_2029": 150e9, "in_dcf_nol": 5e8,
     "in_dcf_operating_margin": -3.0, "in_dilution_base": 0.4, "in_fail_fraction_bull": 0.0,
     "in_nvidia_fraction": 0.1},
]  # fmt: skip


@pytest.mark.parametrize("changes", CHANGES, ids=["nvidia", "moore_threads", "metax", "biren"])
def test_changed_inputs_and_target(
    built: Path, tmp_path: Path, recalc: Callable[[Path], Path], changes: dict[str, Any]
) -> None:
    edited = _set(built, changes, tmp_path / "edited.xlsx")
    outputs = assert_matches_core(edited, recalc(edited))
    if changes.get("in_target") == "nvidia":
        # NVIDIA's market value would take more than the whole China market: the Implied sheet
        # says so in words, and the master check stays TRUE (a reading, not a broken model).
        assert outputs["out_implied_share"] > 1
        values = load_workbook(recalc(edited), data_only=True)
        assert named_cell(values, "chk_master").value is True
        readings = [r for r in values["Implied"].iter_rows(values_only=True)
                    if r[0] == implied.READING]  # fmt: skip
        assert readings[0][3] == "over 100%"


def test_in_china_statistics_reads_yes_in_any_case(
    built: Path, tmp_path: Path, recalc: Callable[[Path], Path]
) -> None:
    """An analyst types "Yes" or "YES": the sheet's ="yes" ignores case, and so must the core,
    or the two value the target on different peers."""
    wb = load_workbook(built)

    def column(name: str) -> list[Any]:
        title, coord = next(iter(wb.defined_names[name].destinations))
        return [c[0] for c in wb[title][coord.replace("$", "")]]

    ids = [c.value for c in column("data_peers_id")]
    flags = column("data_peers_in_stats")
    flags[ids.index("biren")].value, flags[ids.index("metax")].value = "Yes", "YES"
    title, coord = next(iter(wb.defined_names["in_peer_years"].destinations))
    wb[title][coord.replace("$", "")] = "any"  # MetaX's FY2025 counts beside Biren's FY2024
    title, coord = next(iter(wb.defined_names["in_peer_min_count"].destinations))
    wb[title][coord.replace("$", "")] = 2  # and the two peers give an implied value
    wb.save(tmp_path / "cased.xlsx")
    outputs = assert_matches_core(tmp_path / "cased.xlsx", recalc(tmp_path / "cased.xlsx"))
    assert outputs["out_peer_median_implied_value"] is not None


def test_per_share_outputs_follow_the_target(built: Path, tmp_path: Path, recalc) -> None:
    """Moore Threads has no share count in the sources: per-share values say n/a, while the
    equity-level outputs still compute. Its market value is "over CNY 300 bn" in 2026-01, no
    peak: against that lower bound its upside and probability are ceilings, its implied share
    and growth floors (a peak's, MetaX's, bounds nothing of today's)."""
    edited = _set(built, {"in_target": "moore_threads"}, tmp_path / "mt.xlsx")
    values = load_workbook(recalc(edited), data_only=True)
    assert values["Valuation"][f"A{FIGURE_NOTE}"].value == (
        "The market value above is the Peers figure: 2026-01 market value, lower bound (over). "
        "Against a lower bound the upside and the probability are ceilings, the implied share "
        "and growth floors."
    )
    assert named_cell(values, "out_value_per_share_base").value == "n/a"
    assert isinstance(named_cell(values, "out_upside_weighted").value, float)
    # 3000亿 CNY at 7.0 CNY/USD over its 2025 guidance of 14.98亿 CNY: 3000 / 14.98 = 200.27x
    assert named_cell(values, "out_backlog_forward_ps").value == "n/a"
    assert named_cell(values, "tgt_mv_usd").value == pytest.approx(3000e8 / 7.0, rel=1e-12)


def test_hand_worked_outputs(recalculated: Path) -> None:
    values = load_workbook(recalculated, data_only=True)
    # Biren backlog P/S: market value 855.4亿 HKD x (110/855.4) USD/HKD = 110亿 USD; backlog
    # 12.4亿 CNY x 12/15 = 9.92亿 CNY / 7 = 1.41714亿 USD; 110 / 1.41714 = 77.62x
    assert named_cell(values, "out_backlog_forward_ps").value == pytest.approx(
        110 / (12.4 * 12 / 15 / 7), rel=1e-12
    )
    # 1% of NVIDIA's 4.89万亿 USD on Peers (not the 5万亿 peak) = 489亿 USD, x 855.4/110 HKD
    # per USD / (1027亿 / 42.88) shares
    shares = 1027e8 / 42.88
    assert named_cell(values, "out_nvidia_share_value").value == pytest.approx(
        489e8 * (855.4 / 110) / shares, rel=1e-12
    )


def test_sensitivity_grid_matches_core(built: Path, recalculated: Path) -> None:
    m = run_names(read_inputs(built))
    values = load_workbook(recalculated, data_only=True)["Sensitivity"]
    for g, (_, row_key, col_key, *_fmt) in enumerate(sensitivity.GRIDS):
        top = sensitivity.GRID_TOP[g]
        rows = [values.cell(top + 2 + i, 2).value for i in range(sensitivity.SIZE)]
        cols = [values.cell(top + 1, 3 + j).value for j in range(sensitivity.SIZE)]
        arg = {"exit_pe": "exit_multiple", "coe": "cost_of_equity"}
        base = scenario_arguments(m.inputs, m.target, "base", m.scenarios.tam, m.scenarios.years)
        base["share"] = m.inputs.scenarios["base"].share
        grid = core.sensitivity_grid(
            core.tam_scenario, (arg.get(row_key, row_key), rows),
            (arg.get(col_key, col_key), cols), output="value_per_share", **base,
        )  # fmt: skip
        sheet = np.array([[values.cell(top + 2 + i, 3 + j).value for j in range(5)]
                          for i in range(5)])  # fmt: skip
        np.testing.assert_allclose(sheet, grid.values, rtol=1e-9)


def test_dcf_schedule_matches_core(built: Path, recalculated: Path) -> None:
    result = run_names(read_inputs(built)).dcf
    ws = load_workbook(recalculated, data_only=True)["DCF"]
    for key, attr in [("revenue", "revenue"), ("margin", "operating_margin"), ("tax", "taxes"),
                      ("nol", "nol"), ("fcff", "fcff"), ("df", "discount_factor"),
                      ("pv", "pv_fcff")]:  # fmt: skip
        row = [ws.cell(dcf.R[key], c).value for c in range(dcf.YEAR0 + 1, dcf.LAST_YEAR + 1)]
        np.testing.assert_allclose(row, getattr(result, attr), rtol=1e-9, atol=1e-3, err_msg=key)


def test_scenario_steps_match_core(built: Path, recalculated: Path) -> None:
    m = run_names(read_inputs(built))
    ws = load_workbook(recalculated, data_only=True)["Scenarios"]
    for s, c in scenarios.COLS.items():
        assert ws[f"{c}{scenarios.R['value']}"].value == pytest.approx(
            m.scenarios.scenarios[s].value, rel=1e-9
        )


_REF = re.compile(
    r"^'?(?P<sheet>[^'!]+)'?!\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+)(:\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+))?$"
)


def _chart_refs(chart: Any) -> list[str]:
    refs = []
    charts = [chart, *getattr(chart, "_charts", [])]
    for part in charts:
        for series in part.series:
            for attr in ("val", "cat", "xVal", "yVal"):
                ref = getattr(series, attr, None)
                source = ref and (ref.numRef or getattr(ref, "strRef", None))
                if source is not None:
                    refs.append(source.f)
    return refs


def test_every_chart_points_at_numbers(built: Path, recalculated: Path) -> None:
    charts = load_workbook(built)
    values = load_workbook(recalculated, data_only=True)
    seen = 0
    for ws in charts.worksheets:
        for chart in ws._charts:
            refs = _chart_refs(chart)
            assert refs, f"chart {chart.title} on {ws.title} has no data"
            for ref in refs:
                m = _REF.match(ref)
                assert m, ref
                cells = values[m["sheet"]][
                    f"{m['c1']}{m['r1']}:{m['c2'] or m['c1']}{m['r2'] or m['r1']}"
                ]
                flat = [
                    c.value for row in cells for c in (row if isinstance(row, tuple) else (row,))
                ]
                assert any(x not in (None, "") for x in flat), f"{ref} is empty"
            seen += 1
    assert seen >= 7


def test_every_sheet_renders_to_pdf(recalculated: Path, tmp_path: Path) -> None:
    pdf = convert(recalculated, "pdf", tmp_path)
    pages = render_pngs(pdf, tmp_path, dpi=30)
    assert len(pages) >= 12  # at least one page per sheet
    assert all(p.stat().st_size > 1000 for p in pages)


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"in_prob_base": 0.6}, {"Every company's scenario probabilities sum to 100%"}),
        ({"in_coe_base": 0.9}, {"Every company's assumptions are within their bounds"}),
        ({"in_dcf_terminal_growth": 0.095},
         {"Every company's assumptions are within their bounds",
          "DCF: terminal growth is below the mature cost of capital"}),
    ],
)  # fmt: skip
def test_checks_catch_bad_inputs(
    built: Path, tmp_path: Path, recalc: Callable[[Path], Path], changes, failing: set[str]
) -> None:
    edited = _set(built, changes, tmp_path / "bad.xlsx")
    values = load_workbook(recalc(edited), data_only=True)
    rows = [r for r in values["Checks"].iter_rows(min_row=5, values_only=True) if r[0]]
    failed = {r[0] for r in rows if r[2] is False and r[0] != "Master check"}
    assert failing <= failed
    assert named_cell(values, "chk_master").value is False
    assert values["Scenarios"]["A3"].value.startswith("Model check: CHECK")
