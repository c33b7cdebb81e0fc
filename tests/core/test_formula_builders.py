"""Each core equation's Excel builder against its Python: the builder's formula, filled with
numbers, is computed by the ``formulas`` package (a pure-Python engine with Excel's semantics),
an engine independent of both gpuval and LibreOffice."""

from __future__ import annotations

from typing import Any

import formulas
import numpy as np
import pytest

from gpuval import core
from gpuval.core import dcf, dcf_rules, multiples, peers, tam, units


def excel(formula: str, **cells: Any) -> Any:
    """Compute ``=formula`` with the given names bound to values (numbers, text or lists)."""
    text = formula
    for name, value in cells.items():
        text = text.replace("{" + name + "}", _literal(value))
    result = formulas.Parser().ast("=" + text)[1].compile()()
    value = np.asarray(result).ravel()[0]
    return value if isinstance(value, str) else float(value)


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(float(value))


@pytest.mark.parametrize("shares", [2.5e9, 0.0])
def test_per_share_rule(shares: float) -> None:
    got = excel(units.per_share_xl("{v}", "{n}", "{fx}"), v=100e9, n=shares, fx=1.09)
    expected = units.per_share_or_none(100e9, shares, 1.09)
    assert got == ("n/a" if expected is None else pytest.approx(expected, rel=1e-12))
    if shares:
        assert got == pytest.approx(43.6, rel=1e-12)  # 100 bn x 1.09 / 2.5 bn, by hand


def test_upside_and_market_path() -> None:
    assert excel(units.upside_xl("{v}", "{p}"), v=30.0, p=24.0) == pytest.approx(0.25)
    got = excel(tam.tam_at_xl("{y}", "{a}", "{b}", "{y0}", "{y1}"), y=2026, a=100.0, b=400.0,
                y0=2024, y1=2028)  # fmt: skip
    assert got == pytest.approx(200.0) == core.tam_at(2026, 100.0, 400.0, 2024, 2028)


def test_scenario_value_chain() -> None:
    """5% of 200 bn, 20% margin, 30x, 2 years at 25%, p 0.5, 20% dilution, 2 bn distress:
    17 bn (the worked example of :func:`gpuval.core.tam_scenario`)."""
    pv = (tam.exit_value_xl("{s}", "{tam}", "{m}", "{pe}") + "*"
          + tam.discount_factor_xl("{ke}", "{t}"))  # fmt: skip
    formula = tam.scenario_value_xl(tam.success_value_xl(pv, "{dil}"), "{p}", "{d}")
    got = excel(formula, s=0.05, tam=200e9, m=0.2, pe=30.0, ke=0.25, t=2.0, p=0.5, dil=0.2, d=2e9)
    assert got == pytest.approx(17e9, rel=1e-12)
    r = core.tam_scenario(0.05, 200e9, 0.2, 30.0, 0.25, 2.0, 1.0, prob_success=0.5,
                          distress_value=2e9, dilution=0.2)  # fmt: skip
    assert got == pytest.approx(r.value, rel=1e-12)


def test_failure_value_as_a_fraction_of_success_in_one_formula() -> None:
    """The same scenario with the failure value 10% of the value if it succeeds, written inline
    as the Implied and Sensitivity sheets write it: success 38.4 / 1.2 = 32 bn; 0.5 x 32 + 0.5 x
    10% x 32 = 17.6 bn."""
    pv = (tam.exit_value_xl("{s}", "{tam}", "{m}", "{pe}") + "*"
          + tam.discount_factor_xl("{ke}", "{t}"))  # fmt: skip
    success = tam.success_value_xl(pv, "{dil}")
    formula = tam.scenario_value_xl(success, "{p}", tam.failure_value_xl(success, "{f}"))
    got = excel(formula, s=0.05, tam=200e9, m=0.2, pe=30.0, ke=0.25, t=2.0, p=0.5, dil=0.2, f=0.1)
    assert got == pytest.approx(17.6e9, rel=1e-12)
    r = core.tam_scenario(0.05, 200e9, 0.2, 30.0, 0.25, 2.0, 1.0, prob_success=0.5,
                          distress_fraction=0.1, dilution=0.2)  # fmt: skip
    assert got == pytest.approx(r.value, rel=1e-12)


@pytest.mark.parametrize("h", [3, 5, 8])
def test_dcf_year_rules(h: int) -> None:
    growth = core.growth_path(0.9, 0.5, 0.02, high_growth_years=h)
    coc = core.cost_of_capital_path(0.12, 0.08, high_growth_years=h)
    margin = core.margin_path(-0.5, 0.3, 4)
    for t in range(1, 11):
        g = excel(dcf_rules.growth_xl("{t}", "{g1}", "{g}", "{gt}", "{h}"), t=t, g1=0.9, g=0.5,
                  gt=0.02, h=h)  # fmt: skip
        r = excel(dcf_rules.coc_xl("{t}", "{r0}", "{rm}", "{h}"), t=t, r0=0.12, rm=0.08, h=h)
        m = excel(dcf_rules.margin_xl("{t}", "{m0}", "{mt}", "{n}"), t=t, m0=-0.5, mt=0.3, n=4)
        assert (g, r, m) == pytest.approx((growth[t - 1], coc[t - 1], margin[t - 1]), rel=1e-12)


def test_dcf_high_growth_years_by_hand() -> None:
    """Three years at 50%, then a fade over seven years to 2%: year 4 = 0.5 - 0.48 / 7."""
    g = core.growth_path(0.9, 0.5, 0.02, high_growth_years=3)
    assert g[:3].tolist() == [0.9, 0.5, 0.5]
    assert g[3] == pytest.approx(0.5 - 0.48 / 7, rel=1e-12)
    assert g[9] == pytest.approx(0.02, rel=1e-12)
    with pytest.raises(core.InputError, match="high_growth_years must be a whole number"):
        core.growth_path(0.9, 0.5, 0.02, high_growth_years=2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("h", [3, 5, 9])
def test_dcf_tax_rate_rule(h: int) -> None:
    path = dcf.tax_rate_path(0.12, 0.25, high_growth_years=h)
    for t in range(1, 11):
        got = excel(dcf_rules.tax_rate_xl("{t}", "{e}", "{m}", "{h}"), t=t, e=0.12, m=0.25, h=h)
        assert got == pytest.approx(path[t - 1], rel=1e-12)
    # by hand, h = 5: year 7 = 12% + 13% x 2 / 5 = 17.2%; year 10 = the marginal 25%
    assert path[9] == pytest.approx(0.25, rel=1e-12)
    if h == 5:
        assert path[6] == pytest.approx(0.172, rel=1e-12)


def test_dcf_bridge_revenue_rule() -> None:
    got = excel(dcf_rules.bridge_revenue_xl("{r}", "{g}", "{n}"), r=100.0, g=0.1, n=2)
    assert got == pytest.approx(121.0, rel=1e-12) == dcf.bridge_revenue(100.0, 0.1, 2)
    assert excel(dcf_rules.bridge_revenue_xl("{r}", "{g}", "{n}"), r=100.0, g=0.1, n=0) == 100.0


@pytest.mark.parametrize(("ebit", "nol"), [(-30.0, 50.0), (20.0, 50.0), (80.0, 50.0)])
def test_tax_with_losses_carried_forward(ebit: float, nol: float) -> None:
    tax = excel(dcf_rules.tax_xl("{e}", "{n}", "{tau}"), e=ebit, n=nol, tau=0.25)
    left = excel(dcf_rules.nol_xl("{e}", "{n}"), e=ebit, n=nol)
    # by hand: a loss adds to the NOL; a profit uses it first
    expected = {-30.0: (0.0, 80.0), 20.0: (0.0, 30.0), 80.0: (7.5, 0.0)}[ebit]
    assert (tax, left) == pytest.approx(expected)


def test_terminal_and_equity_against_the_core() -> None:
    args = {"revenue": 100.0, "growth_y1": 0.0, "growth_y2_5": 0.0, "terminal_growth": 0.02,
            "operating_margin": 0.2, "target_margin": 0.2, "sales_to_capital": 1.0,
            "tax_rate": 0.25, "cost_of_capital": 0.10, "mature_cost_of_capital": 0.10,
            "terminal_roc": 0.1, "prob_failure": 0.2, "distress_proceeds": 30.0, "cash": 50.0,
            "debt": 10.0, "shares_outstanding": 1.0}  # fmt: skip
    r = core.young_growth_dcf(**args)
    fcff11 = excel(dcf_rules.terminal_fcff_xl("{rev}", "{g}", "{m}", "{tau}", "{roc}"),
                   rev=r.revenue[-1], g=0.02, m=0.2, tau=0.25, roc=0.1)  # fmt: skip
    assert fcff11 == pytest.approx(float(r.terminal_fcff), rel=1e-12)
    tv = excel(dcf_rules.terminal_value_xl("{f}", "{rm}", "{g}"), f=fcff11, rm=0.10, g=0.02)
    assert tv == pytest.approx(float(r.terminal_value), rel=1e-12)
    going = float(r.going_concern_value)
    operating = excel(dcf_rules.operating_assets_xl("{g}", "{p}", "{d}"), g=going, p=0.2, d=30.0)
    equity = excel(dcf_rules.equity_xl("{o}", "{c}", "{d}"), o=operating, c=50.0, d=10.0)
    assert equity == pytest.approx(0.8 * going + 0.2 * 30.0 + 40.0, rel=1e-12)
    assert equity == pytest.approx(float(r.equity_value), rel=1e-12)


def test_failure_fraction_and_full_bridge_against_the_core() -> None:
    args = {"revenue": 100.0, "growth_y1": 0.3, "growth_y2_5": 0.2, "terminal_growth": 0.02,
            "operating_margin": -0.1, "target_margin": 0.2, "sales_to_capital": 1.5,
            "tax_rate": 0.15, "marginal_tax_rate": 0.25, "cost_of_capital": 0.11,
            "mature_cost_of_capital": 0.08, "prob_failure": 0.3, "distress_fraction": 0.5,
            "cash": 50.0, "ipo_proceeds": 40.0, "non_operating_assets": 7.0, "debt": 10.0,
            "minority_interests": 3.0, "bridge_years": 1, "bridge_growth": 0.25,
            "shares_outstanding": 1.0}  # fmt: skip
    r = core.young_growth_dcf(**args)
    going = float(r.going_concern_value)
    distress = excel(dcf_rules.distress_value_xl("{g}", "{dp}", "{f}"), g=going, dp=0.0, f=0.5)
    assert distress == pytest.approx(0.5 * going, rel=1e-12)  # 50% of the going concern
    operating = excel(
        dcf_rules.operating_assets_xl("{g}", "{p}", "{d}"), g=going, p=0.3, d=distress
    )
    assert operating == pytest.approx(0.85 * going, rel=1e-12)  # 0.7 + 0.3 x 0.5
    equity = excel(dcf_rules.equity_xl("{o}", "{c}", "{d}", "{i}", "{n}", "{m}"), o=operating,
                   c=50.0, d=10.0, i=40.0, n=7.0, m=3.0)  # fmt: skip
    assert equity == pytest.approx(operating + 84.0, rel=1e-12)  # 50 + 40 + 7 - 10 - 3
    assert equity == pytest.approx(float(r.equity_value), rel=1e-12)
    # terminal year at the marginal 25%, from year 10's revenue (itself from 125 bridged)
    fcff11 = excel(dcf_rules.terminal_fcff_xl("{rev}", "{g}", "{m}", "{tau}", "{roc}"),
                   rev=r.revenue[-1], g=0.02, m=0.2, tau=0.25, roc=0.08)  # fmt: skip
    assert fcff11 == pytest.approx(float(r.terminal_fcff), rel=1e-12)
    assert r.bridge_revenue == pytest.approx(125.0) and r.revenue[0] == pytest.approx(162.5)


def test_peer_table_rules() -> None:
    mv = multiples.peer_market_value_xl("{p}", "{n}", "{s}", "{fx}")
    assert excel(mv, p=35.7, n=2.0, s=90.0, fx=0.5) == pytest.approx(35.7)
    assert excel(mv, p="n/a", n=2.0, s=90.0, fx=0.5) == pytest.approx(45.0)
    assert excel(mv, p="n/a", n="n/a", s="n/a", fx=0.5) == "n/a"
    assert excel(multiples.ps_xl("{m}", "{r}"), m=300.0, r=1.5) == pytest.approx(200.0)
    assert excel(multiples.ps_xl("{m}", "{r}"), m=300.0, r=0.0) == "n/a"
    first = multiples.first_number_xl(["{a}", "{b}", "{c}"], ['"x"', '"y"', '"z"'])
    assert excel(first, a="n/a", b=2.0, c=3.0) == "y"
    assert multiples.first_available({"a": None, "b": 2.0, "c": 3.0}, ("a", "b", "c")) == "b"
    assert excel(multiples.backlog_revenue_xl("{b}", "{m}"), b=1.24e9, m=15) == pytest.approx(
        float(core.backlog_revenue(1.24e9, 15))
    )


@pytest.mark.parametrize(
    ("basis", "years", "year", "target_year", "expected"),
    [
        ("full year", "same as the target", 2024, 2024, True),
        ("full year", "same as the target", 2025, 2024, False),  # a later year: not like with like
        ("full year", "same as the target", "n/a", 2024, False),  # no fiscal year given
        ("full year", "same as the target", 2024, "n/a", False),  # the target has no full year
        ("full year", "any", 2025, 2024, True),
        ("run-rate", "same as the target", 2025, 2024, True),  # fiscal years: the full-year basis
    ],
)
def test_fiscal_year_rule(
    basis: str, years: str, year: float | str, target_year: float | str, expected: bool
) -> None:
    formula = multiples.fiscal_year_counts_xl("{b}", "{y}", "{fy}", "{t}")
    got = excel(formula, b=basis, y=years, fy=year, t=target_year)
    assert bool(got) is expected
    python = multiples.fiscal_year_counts(
        basis, years, None if year == "n/a" else float(year),
        None if target_year == "n/a" else float(target_year))  # fmt: skip
    assert python is expected


def test_fiscal_year_rule_refuses_an_unknown_choice() -> None:
    with pytest.raises(
        core.InputError, match="in_peer_years must be one of same as the target, any"
    ):
        multiples.fiscal_year_counts("full year", "all", 2024, 2024)


@pytest.mark.parametrize(
    ("venue", "expected"), [("HK", 120.0), ("A", 80.0 * 80 / 120), ("US", None)]
)
def test_venue_rerating(venue: str, expected: float | None) -> None:
    """80 re-rated at half of a 2x gap: x 1.5 in Hong Kong, / 1.5 on the A-share market; a US
    listing has no other venue (n/a)."""
    formula = peers.rerated_market_value_xl("{v}", "{mv}", "{gap}", "{c}")
    got = excel(formula, v=venue, mv=80.0, gap=2.0, c=0.5)
    python = peers.rerated_market_value(venue, 80.0, 2.0, 0.5)
    if expected is None:
        assert got == "n/a" and python is None
    else:
        assert got == pytest.approx(expected) == python
    gap = excel(peers.venue_gap_xl("{a}", "{h}"), a=160.0, h=60.0)
    assert gap == pytest.approx(core.venue_gap([120.0, 200.0, 160.0], [80.0, 40.0]))


#: What each figure is (figure_label's words) -> (m, r) direction and peak, for the cases below.
_MARKET = {"2026-01-05 market value": (0, False),
           "2026-01 market value, lower bound (over)": (1, False),
           "2025-12 market value, upper bound (up to)": (-1, False),
           "2025-12 peak market value": (0, True),
           "2025-12 peak market value, lower bound (over)": (1, True),
           "2025-12 peak market value, upper bound (up to)": (-1, True)}  # fmt: skip
_REVENUE = {"FY2024 reported": 0, "FY2025 guidance, upper bound": -1,
            "FY2025 range, lower bound": 1}  # fmt: skip


@pytest.mark.parametrize("market", _MARKET)
@pytest.mark.parametrize("revenue", _REVENUE)
def test_ps_bound_rule(market: str, revenue: str) -> None:
    """P/S = MV / revenue: the true P/S is at least the stated one when the true MV can only be
    higher (a lower bound) and the true revenue only lower (an upper bound), and the reverse;
    both bounds the same way bound nothing; a peak market value is not today's. Expected by that
    reasoning, case by case."""
    (m, peak), r = _MARKET[market], _REVENUE[revenue]
    expected = {(0, 0): "point value", (1, 0): "lower bound", (0, -1): "lower bound",
                (1, -1): "lower bound", (-1, 0): "upper bound", (0, 1): "upper bound",
                (-1, 1): "upper bound", (1, 1): "no bound: both figures are lower bounds",
                (-1, -1): "no bound: both figures are upper bounds"}[(m, r)]  # fmt: skip
    if peak:  # a past peak says nothing of today's market value: said first
        expected = "at a peak, not today: " + expected
    assert multiples.ps_bound(market, revenue) == expected
    assert excel(multiples.ps_bound_xl("{m}", "{r}"), m=market, r=revenue) == expected
