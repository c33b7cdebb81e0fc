"""The Monte Carlo sheet per target: value per share with a share count (Biren), equity value in
the listing currency without one (MetaX), and how the draws relate to the weighted value."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from gpuval.core import PERCENTILES
from gpuval.workbook.build import build, build_workbook
from gpuval.workbook.model import SCENARIOS, Inputs, PeerRow, run
from gpuval.workbook.sheets import montecarlo
from gpuval.workbook.template import FORMATS
from workbook_helpers import named_cell

NAMES = ["mc_target", "mc_draws", "mc_seed", "mc_uncertain", "mc_mean", "mc_std", "mc_prob_above",
         "mc_correlation", "mc_weighted", "mc_median", "mc_rank"]  # fmt: skip


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("mc")
    return {t: load_workbook(build(folder / f"{t}.xlsx", target=t)) for t in ("biren", "metax")}


@pytest.fixture(scope="module")
def defaults() -> Inputs:
    return Inputs.from_names(build_workbook().values)


def texts(ws: Any) -> list[str]:
    return [c.value for row in ws.iter_rows(max_col=5) for c in row if isinstance(c.value, str)]


def value(wb: Any, name: str) -> Any:
    return named_cell(wb, name).value


def test_every_figure_is_named_beside_its_label(books: dict[str, Any]) -> None:
    wb = books["biren"]
    ws = wb[montecarlo.TITLE]
    for i, name in enumerate(NAMES):
        cell = named_cell(wb, name)
        where = "H4" if name == "mc_target" else f"B{4 + i}"
        assert (cell.parent.title, cell.coordinate) == (montecarlo.TITLE, where), name
    # the reader sees the company's name; the id (which refresh and the today marker read) sits
    # in a collapsed helper column, which does not print
    assert value(wb, "mc_target") == "biren"
    assert ws["B4"].value.startswith("=IFERROR(INDEX(data_peers_name,MATCH(mc_target,")
    assert ws.column_dimensions["H"].hidden or ws.column_dimensions["G"].hidden
    assert [ws.cell(4 + i, 1).value for i in range(7)] == montecarlo.FACTS  # as refresh finds them
    assert named_cell(wb, "mc_mean").coordinate == "B8"  # where earlier workbooks had it
    for p in PERCENTILES:
        assert isinstance(value(wb, f"mc_p{p}"), float)


def test_biren_per_share(books: dict[str, Any]) -> None:
    wb = books["biren"]
    ws = wb[montecarlo.TITLE]
    assert value(wb, "mc_uncertain") == (  # as the Scenarios sheet labels them, not code ids
        "Share of the market; Mature net margin; Exit P/E; Cost of equity; Probability of "
        "commercial success; Value if it fails, % of the value if it succeeds; Dilution before "
        "exit"
    )
    assert value(wb, "mc_correlation") == 0.7
    assert "Probability-weighted scenario value per share" in texts(ws)
    # the weighted value per share (HKD). Bear by hand: 0.5% x USD 201.2 bn x 10% x 20 = 2.012 bn
    # at exit; / 1.14^3.986 (= 1.6860) = 1.1933 bn; / 1.25 = 0.9547 bn if it succeeds, 10% of
    # that if it fails: (0.5 + 0.5 x 10%) x 0.9547 = 0.5251 bn; x 7.7764 HKD/USD / 2.3951 bn
    # shares = HKD 1.705. Base and Bull alike give 18.182 and 82.739:
    # 0.25 x 1.705 + 0.5 x 18.182 + 0.25 x 82.739 = 30.20
    assert value(wb, "mc_weighted") == pytest.approx(30.20, abs=0.01)
    # the draws' median sits well below it (the Bull corner is rare) and the rank agrees with the
    # percentile table: the weighted value lies between the two percentiles around its rank
    assert value(wb, "mc_median") == "=mc_p50"
    assert value(wb, "mc_p50") < value(wb, "mc_mean") < value(wb, "mc_weighted")
    rank = value(wb, "mc_rank")
    below = max(p for p in PERCENTILES if p <= 100 * rank)
    above = min(p for p in PERCENTILES if p >= 100 * rank)
    assert value(wb, f"mc_p{below}") <= value(wb, "mc_weighted") <= value(wb, f"mc_p{above}")
    assert named_cell(wb, "mc_mean").number_format == FORMATS["price"]


def test_metax_equity_value_in_cny(books: dict[str, Any]) -> None:
    wb = books["metax"]
    ws = wb[montecarlo.TITLE]
    words = texts(ws)
    for label in (
        "Mean equity value (CNY)",
        "Standard deviation (CNY)",
        "Probability equity value > market value",
        "Median equity value (CNY)",
        "Probability-weighted scenario equity value (CNY)",
        "Percentiles of equity value (CNY)",
        "Working table: histogram of equity value (CNY)",
    ):
        assert label in words, label  # fmt: skip
    assert not [w for w in words if "per share" in w]  # nothing per share holds an equity value
    # equity values in CNY, on MetaX's own shares (1%, 2.5%, 5%): each scenario is
    # (p + (1 - p) x distress) x share x 201.2 bn x margin x P/E x (1 + coe)^-(1456 / 365.25)
    # / (1 + dilution): Bear 1.050, Base 9.333, Bull 42.472 (USD bn); weighted
    # 0.25 x 1.050 + 0.5 x 9.333 + 0.25 x 42.472 = USD 15.547 bn x 7 = CNY 108.83 bn
    assert value(wb, "mc_weighted") == pytest.approx(108.831e9, rel=1e-4)
    assert 10e9 < value(wb, "mc_p5") < value(wb, "mc_p95") < 500e9
    for name in ("mc_mean", "mc_std", "mc_weighted", "mc_median", "mc_p50"):
        assert named_cell(wb, name).number_format == FORMATS["ccy_bn"], name
    # P(equity value > market value): the market value is USD 42.86 bn x 7 = CNY 300 bn, above
    # the Bull scenario's USD 42.47 bn x 7 = CNY 297 bn, every input at its Bull value, so no
    # draw reaches it
    assert value(wb, "mc_prob_above") == 0


def test_histogram_title_has_no_seed_and_names_the_quantity(books: dict[str, Any]) -> None:
    for target, quantity in (("biren", "value per share"), ("metax", "equity value")):
        ws = books[target][montecarlo.TITLE]
        (chart,) = ws._charts
        title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
        assert "seed" not in title.lower() and quantity in title, title
        assert value(books[target], "mc_seed") == 20260105  # in the facts table instead


def test_explanation_sentence(books: dict[str, Any]) -> None:
    ws = books["biren"][montecarlo.TITLE]
    (note,) = [t for t in texts(ws) if t.startswith("Why they differ")]
    assert "averages three points" in note and "convex" in note
    assert "above the draws' mean" in note  # 30.43 against a mean near 22


def _shown(number: float, fmt: str) -> str:
    """The text Excel shows for the sheet's number formats."""
    if fmt == FORMATS["ccy_bn"]:
        return f"{number / 1e9:,.2f} bn"
    if fmt in (FORMATS["price"], FORMATS["number"]):
        return f"{number:,.2f}"
    if fmt == FORMATS["count"]:
        return f"{number:,.0f}"
    if fmt == FORMATS["pct"]:
        return f"{number:.1%}"
    return str(number)


@pytest.mark.parametrize("target", ["biren", "metax"])
def test_numbers_fit_their_columns(books: dict[str, Any], target: str) -> None:
    ws = books[target][montecarlo.TITLE]
    for row in ws.iter_rows(min_row=4, max_col=4):
        for c in row:
            if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                width = ws.column_dimensions[c.column_letter].width
                # a digit is about one character of width; keep a character to spare
                assert len(_shown(c.value, c.number_format)) < width - 1, (c.coordinate, c.value)


def _degenerate(defaults: Inputs, target: str) -> Any:
    """Bear = Base = Bull on a small peer table: hk1 has a share count, hk2 has none."""
    rows = (
        PeerRow(
            "hk1",
            "HK One",
            "HK",
            "HKD",
            "CNY",
            "yes",
            price=10.0,
            shares=2e9,
            market_value=20e9,
            revenue_fy=1e9,
        ),
        PeerRow("hk2", "HK Two", "HK", "HKD", "CNY", "yes", market_value=40e9, revenue_fy=2e9),
    )
    base = defaults.scenarios["base"]
    scenarios = {s: dataclasses.replace(base, prob=p)
                 for s, p in zip(SCENARIOS, (0.25, 0.5, 0.25), strict=True)}  # fmt: skip
    return run(dataclasses.replace(defaults, peers=rows, target=target, fx_usd_per_hkd=0.125,
                                   scenarios=scenarios))  # fmt: skip


def test_degenerate_scenarios_give_the_scenario_value(defaults: Inputs) -> None:
    m = _degenerate(defaults, "hk1")
    r = montecarlo.simulate(m, n=300)
    # every draw is the Base scenario's value per share from the Scenarios stage (HKD)
    np.testing.assert_allclose(r.values, float(m.scenarios.scenarios["base"].value_per_share),
                               rtol=1e-12)  # fmt: skip
    assert montecarlo.weighted(m) == pytest.approx(r.values[0], rel=1e-12)
    figures = montecarlo.values(m, r, "hk1")
    assert figures["mc_rank"] == 0.5  # every draw ties with the weighted value


def test_no_share_count_gives_equity_value_against_market_value(defaults: Inputs) -> None:
    m = _degenerate(defaults, "hk2")
    assert m.target.shares == 0
    r = montecarlo.simulate(m, n=300)
    # equity value in HKD = USD value x 8 HKD per USD (fx input 0.125 USD per HKD)
    equity = float(m.scenarios.scenarios["base"].value) * 8.0
    np.testing.assert_allclose(r.values, equity, rtol=1e-12)
    # the market value: HKD 40 bn (USD 5 bn)
    assert r.summary.prob_above == (1.0 if equity > 40e9 else 0.0)
    assert montecarlo.labels(m, "HKD").facts[4] == "Mean equity value (HKD)"


def test_the_snapshot_is_reproducible(defaults: Inputs) -> None:
    m = run(defaults)
    a, b = montecarlo.simulate(m, n=2000), montecarlo.simulate(m, n=2000)
    np.testing.assert_array_equal(a.values, b.values)
    assert set(a.draws) == {"share", "margin", "exit_multiple", "cost_of_equity", "prob_success",
                            "distress_fraction", "dilution"}  # fmt: skip
    assert all(np.ptp(x) > 0 for x in a.draws.values())  # none fixed at Base


def test_moore_threads_has_no_share_count_either(tmp_path: Path) -> None:
    out = build(tmp_path / "mt.xlsx", target="moore_threads")
    wb = load_workbook(out)
    assert wb[montecarlo.TITLE]["A8"].value == "Mean equity value (CNY)"
