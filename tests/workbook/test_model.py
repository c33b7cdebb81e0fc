"""The typed model stage by stage, against hand calculations on a small made-up peer table."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gpuval.workbook.build import build_workbook
from gpuval.workbook.model import (
    Inputs,
    PeerRow,
    input_names,
    peer_line,
    peers_stage,
    run,
    scenario_years,
)
from gpuval.workbook.sheets.inputs import ALL


@pytest.fixture(scope="module")
def defaults() -> Inputs:
    return Inputs.from_names(build_workbook().values)


def small(defaults: Inputs, target: str = "hk1") -> Inputs:
    """Two Hong Kong and two A-share companies; FX 0.125 USD/HKD and 8 CNY/USD."""
    rows = (
        PeerRow("hk1", "HK One", "HK", "HKD", "CNY", price=10.0, shares=2e9, market_value=99e9,
                revenue_trailing=1e9, backlog=1.2e9),
        PeerRow("hk2", "HK Two", "HK", "HKD", "CNY", market_value=40e9, revenue_forward=2e9),
        PeerRow("a1", "A One", "A", "CNY", "CNY", market_value=80e9, revenue_h1=0.5e9),
        PeerRow("a2", "A Two", "A", "CNY", "CNY", market_value=160e9, revenue_forward=1e9),
    )  # fmt: skip
    return dataclasses.replace(defaults, peers=rows, target=target, fx_usd_per_hkd=0.125,
                               fx_cny_per_usd=8.0, gap_closed=0.5)  # fmt: skip


def test_input_names_match_the_inputs_sheet(defaults: Inputs) -> None:
    assert sorted(input_names()) == sorted(n for spec in ALL for n in spec.names())
    assert Inputs.from_names(defaults.names()) == defaults


def test_peer_line_by_hand(defaults: Inputs) -> None:
    line = peer_line(small(defaults).peers[0], small(defaults))
    # 10 HKD x 2 bn shares x 0.125 = USD 2.5 bn (price x shares wins over the stated value)
    assert line.market_value == pytest.approx(2.5e9)
    # trailing 1 bn CNY / 8 = USD 125 m; backlog 1.2 bn x 12 / 15 months / 8 = USD 120 m
    assert line.revenue["trailing"] == pytest.approx(125e6)
    assert line.revenue["backlog"] == pytest.approx(120e6)
    assert line.ps["trailing"] == pytest.approx(20.0)
    assert line.basis == "backlog"  # no forward figure: backlog comes next
    assert line.headline_ps == pytest.approx(2.5e9 / 120e6)
    assert line.revenue["forward"] is None and line.ps["run_rate"] is None


def test_peers_stage_by_hand(defaults: Inputs) -> None:
    p = peers_stage(small(defaults))
    # hk2: 40 bn HKD x 0.125 = 5 bn / (2 bn / 8) = 20x; a1: 10 bn / (2 x 0.5 bn / 8) = 80x;
    # a2: 20 bn / (1 bn / 8) = 160x; hk1 (target) 20.8333x is left out of the statistics.
    assert p.stats is not None and p.stats.count == 3
    assert p.stats.median == pytest.approx(80.0)
    # venue gap: median A (80, 160) = 120 over median HK (20.8333, 20) = 20.41667
    gap = 120.0 / ((2.5e9 / 120e6 + 20.0) / 2)
    assert p.venue_gap == pytest.approx(gap)
    # a Hong Kong target re-rated halfway: 2.5 bn x (1 + 0.5 x (gap - 1))
    assert p.rerated_market_value == pytest.approx(2.5e9 * (1 + 0.5 * (gap - 1)))
    t = p.target
    assert (t.fx, t.price, t.shares, t.base_revenue) == pytest.approx((8.0, 10.0, 2e9, 125e6))


def test_a_share_target_is_rerated_down(defaults: Inputs) -> None:
    p = peers_stage(small(defaults, "a2"))
    assert p.rerated_market_value == pytest.approx(20e9 / (1 + 0.5 * (p.venue_gap - 1)))
    assert p.target.shares == 0.0  # no share count in the row


def test_outputs_without_a_share_count_are_none(defaults: Inputs) -> None:
    out = run(small(defaults, "a2")).outputs()
    per_share = [
        "out_peer_median_implied_value", "out_gap_value_per_share", "out_value_per_share_weighted",
        "out_dcf_value_per_share", "out_nvidia_share_value",
        *(f"out_value_per_share_{s}" for s in ("bear", "base", "bull")),
    ]  # fmt: skip
    assert all(out[k] is None for k in per_share)
    assert out["out_equity_value_weighted"] is not None and out["out_equity_value_weighted"] > 0


def test_scenario_years_count_days_as_the_sheet(defaults: Inputs) -> None:
    x = dataclasses.replace(defaults, valuation_date=dt.date(2026, 1, 1),
                            exit_date=dt.date(2027, 1, 1), days_per_year=365.0)  # fmt: skip
    assert scenario_years(x) == pytest.approx(365 / 365.0)


def test_weighted_value_is_the_probability_sum(defaults: Inputs) -> None:
    m = run(defaults)
    by_hand = sum(
        m.inputs.scenarios[s].prob * m.scenarios.scenarios[s].value
        for s in ("bear", "base", "bull")
    )
    assert m.scenarios.weighted_value == pytest.approx(by_hand, rel=1e-12)
