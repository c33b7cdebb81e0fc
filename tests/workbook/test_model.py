"""The typed model stage by stage, against hand calculations on a small made-up peer table."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gpuval.core import InputError
from gpuval.workbook.build import build_workbook
from gpuval.workbook.model import (
    Inputs,
    PeerRow,
    input_names,
    peer_line,
    peers_stage,
    run,
    run_names,
    scenario_years,
)
from gpuval.workbook.sheets import assumptions
from gpuval.workbook.sheets.inputs import ALL


@pytest.fixture(scope="module")
def defaults() -> Inputs:
    return Inputs.from_names(build_workbook().values)


def small(defaults: Inputs, target: str = "hk1", basis: str = "full year") -> Inputs:
    """Two Hong Kong and two A-share companies and a US yardstick kept out of the statistics;
    FX 0.125 USD/HKD and 8 CNY/USD."""
    rows = (
        PeerRow("hk1", "HK One", "HK", "HKD", "CNY", "yes", price=10.0, shares=2e9,
                market_value=99e9, revenue_fy=1e9, fy_year=2024, backlog=1.2e9,
                backlog_months=15.0),
        PeerRow("hk2", "HK Two", "HK", "HKD", "CNY", "yes", market_value=40e9, revenue_fy=2e9,
                fy_year=2024),
        PeerRow("a1", "A One", "A", "CNY", "CNY", "yes", market_value=80e9, revenue_h1=0.5e9),
        PeerRow("a2", "A Two", "A", "CNY", "CNY", "yes", market_value=160e9, revenue_fy=1e9,
                fy_year=2024),
        PeerRow("us", "US One", "US", "USD", "USD", "no", market_value=1000e9, revenue_fy=50e9,
                fy_year=2024),
    )  # fmt: skip
    return dataclasses.replace(defaults, peers=rows, target=target, fx_usd_per_hkd=0.125,
                               fx_cny_per_usd=8.0, gap_closed=0.5, peer_basis=basis)  # fmt: skip


def test_input_names_match_the_sheets() -> None:
    on_sheets = [n for spec in ALL for n in spec.names()] + assumptions.names()
    assert sorted(input_names()) == sorted(on_sheets)


def test_each_company_has_its_own_assumptions() -> None:
    values = build_workbook().values
    biren = Inputs.from_names(values)
    metax = Inputs.from_names(values | {"in_target": "metax"})
    # assumptions.toml: MetaX's share is 1% / 2.5% / 5%; Biren keeps the generic 0.5% / 1.5% / 3%
    assert [metax.scenarios[s].share for s in ("bear", "base", "bull")] == [0.01, 0.025, 0.05]
    assert [biren.scenarios[s].share for s in ("bear", "base", "bull")] == [0.005, 0.015, 0.03]
    # Biren's DCF bridges FY2025 at (9.92/3.37)^(1/2) - 1 = 71.57% and grows FY2026 as much, to
    # the backlog's annual rate 12.4亿 x 12/15 = 9.92亿; MetaX's base year is FY2025, no bridge
    assert (biren.dcf.bridge_years, biren.dcf.bridge_growth) == (1, 0.7157)
    assert 3.37e8 * (1 + biren.dcf.bridge_growth) * (1 + biren.dcf.growth_y1) == pytest.approx(
        12.4e8 * 12 / 15, rel=1e-4)  # fmt: skip
    assert metax.dcf.bridge_years == 0


def test_peer_line_by_hand(defaults: Inputs) -> None:
    x = small(defaults)
    line = peer_line(x.peers[0], x)
    # 10 HKD x 2 bn shares x 0.125 = USD 2.5 bn (price x shares wins over the stated value)
    assert line.market_value == pytest.approx(2.5e9)
    # full year 1 bn CNY / 8 = USD 125 m; backlog 1.2 bn x 12 / 15 months / 8 = USD 120 m
    assert line.revenue["full_year"] == pytest.approx(125e6)
    assert line.revenue["backlog"] == pytest.approx(120e6)
    assert line.ps["full_year"] == pytest.approx(20.0)
    assert line.basis_ps == pytest.approx(20.0)  # the chosen basis, not the first available
    assert line.revenue["forward"] is None and line.ps["run_rate"] is None


def test_peers_stage_on_one_basis_by_hand(defaults: Inputs) -> None:
    p = peers_stage(small(defaults))
    # full year: hk2 5 bn USD / 250 m = 20x; a2 20 bn / 125 m = 160x; a1 has no full year and
    # the US yardstick (20x) is not a China peer; hk1 is the target: median of (20, 160) = 90
    assert p.stats is not None and p.stats.count == 2
    assert p.stats.median == pytest.approx(90.0)
    # venue gap on the same basis, target included: A (160) over HK (20, 20) = 8
    assert p.venue_gap == pytest.approx(8.0)
    # a Hong Kong target re-rated halfway: 2.5 bn x (1 + 0.5 x (8 - 1)) = 11.25 bn
    assert p.rerated_market_value == pytest.approx(11.25e9)
    t = p.target
    assert (t.fx, t.price, t.shares, t.base_revenue) == pytest.approx((8.0, 10.0, 2e9, 125e6))
    assert t.basis_revenue == pytest.approx(125e6)


def test_the_implied_values_need_the_fewest_peers_asked(defaults: Inputs) -> None:
    """Two peers (20x, 160x: median 90x) against ``in_peer_min_count``: 3 by default, so no
    implied value; 2 gives 90 x the target's 125 m USD = 11.25 bn; 0 or 2.5 is refused."""
    assert defaults.peer_min_count == 3
    assert peers_stage(small(defaults)).median_equity is None
    two = peers_stage(dataclasses.replace(small(defaults), peer_min_count=2))
    assert two.median_equity == pytest.approx(90.0 * 125e6)
    assert two.implied_equity(20.0) == pytest.approx(20.0 * 125e6)
    for bad in (0, 2.5, "3"):
        with pytest.raises(InputError, match="in_peer_min_count must be a whole number"):
            peers_stage(dataclasses.replace(small(defaults), peer_min_count=bad))


def test_another_basis_leaves_out_who_lacks_it(defaults: Inputs) -> None:
    p = peers_stage(small(defaults, basis="run-rate"))
    # run-rate: only a1 has a half year: 10 bn USD / (2 x 0.5 bn / 8) = 80x; no Hong Kong side
    assert p.stats is not None and p.stats.count == 1
    assert p.stats.median == pytest.approx(80.0)
    assert p.venue_gap is None and p.rerated_market_value is None


def test_another_fiscal_year_counts_only_when_asked(defaults: Inputs) -> None:
    x = small(defaults)
    later = tuple(dataclasses.replace(r, fy_year=2025) if r.id == "a2" else r for r in x.peers)
    strict = peers_stage(dataclasses.replace(x, peers=later))
    # a2's FY2025 P/S (160x) is not like the target's FY2024: hk2 alone (20x), no A-share side
    assert strict.stats is not None and strict.stats.count == 1
    assert strict.stats.median == pytest.approx(20.0)
    assert strict.venue_gap is None and strict.rerated_market_value is None
    # "any" counts it again: the same figures as on one fiscal year
    loose = peers_stage(dataclasses.replace(x, peers=later, peer_years="any"))
    assert loose.stats is not None and loose.stats.median == pytest.approx(90.0)
    assert loose.venue_gap == pytest.approx(8.0)
    # fiscal years belong to the full-year basis: run-rate counts a1 (80x) whatever the years
    run_rate = peers_stage(dataclasses.replace(x, peers=later, peer_basis="run-rate"))
    assert run_rate.stats is not None and run_rate.stats.median == pytest.approx(80.0)
    # a full-year revenue without its fiscal year matches no target year
    no_year = tuple(dataclasses.replace(r, fy_year=None) if r.id == "hk2" else r for r in x.peers)
    assert peers_stage(dataclasses.replace(x, peers=no_year)).stats.count == 1  # a2 only


def test_a_share_target_is_rerated_down(defaults: Inputs) -> None:
    p = peers_stage(small(defaults, "a2"))
    assert p.venue_gap == pytest.approx(8.0)  # the target stays in its venue's median
    assert p.rerated_market_value == pytest.approx(20e9 / (1 + 0.5 * (8.0 - 1)))
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


def test_nvidia_market_value_comes_from_the_peer_table(defaults: Inputs) -> None:
    m = run(defaults)
    # NVIDIA on Peers: 201.03 USD x (4.89 tn / 201.03) shares = 4.89 tn, not the 5 tn peak
    assert m.nvidia_market_value == pytest.approx(4.89e12, rel=1e-12)
    peak = run(dataclasses.replace(defaults, nvidia_value_basis="peak"))
    assert peak.nvidia_market_value == pytest.approx(5e12)


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


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("in_days_per_year", 0, "in_days_per_year = 0 is outside its bounds 360 .. 366 (Day "
         "count: days per year, Inputs)."),
        ("in_tam_2029", 1e200, "in_tam_2029 = 1e+200 is outside its bounds 1e+09 .. 1e+13 "
         "(China AI-chip market, last year, Inputs)."),
        ("in_exit_date", dt.date(2050, 1, 1), "in_exit_date = 2050-01-01 is outside its bounds "
         "2025-01-01 .. 2045-12-31 (Exit date (TAM year), Inputs)."),
    ],
)  # fmt: skip
def test_an_input_outside_its_bounds_is_named(name: str, value: object, said: str) -> None:
    """The bounds the Inputs sheet validates, refused by the model in one sentence (a day count
    of 0 had stopped evaluate and refresh on a ZeroDivisionError, 1e200 on an overflow)."""
    values = build_workbook().values
    run_names(values)  # the defaults are within their bounds
    with pytest.raises(InputError) as refused:
        run_names(values | {name: value})
    assert str(refused.value) == said
    if isinstance(value, dt.date):  # as openpyxl reads a date cell
        with pytest.raises(InputError, match="is outside its bounds"):
            run_names(values | {name: dt.datetime.combine(value, dt.time())})
        # a build is not bounded: the sheet flags a dataset figure outside the bounds
        assert run_names(values | {name: value}, bounded=False).inputs.exit_date == value
