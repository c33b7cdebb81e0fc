"""The young-growth DCF against two of Damodaran's own published valuations.

Sources (his spreadsheets, as posted on his NYU site; the figures below are the sheets' own
inputs and the values they show):

* Twitter at its IPO, October 2013 -- https://www.stern.nyu.edu/~adamodar/pc/blog/TwitterIPOvaluation.xls
  (the valuation of his October 2013 "Musings on Markets" post on the Twitter IPO): a young,
  money-losing firm with losses carried forward, IPO proceeds and an effective tax rate rising to
  the marginal rate. Published value: $17.157 a share (9,855.63 m equity / 574.437 m shares).
* Apple, 2013 -- https://www.stern.nyu.edu/~adamodar/pdfiles/cfovhds/webcasts/valuation/applevaln2013.xls
  (his valuation-class webcast): a mature firm with a 12% return on capital after year 10.
  Published value: $579.24 a share.

The preferred reference, his Alphabet valuation of February 2024, could not be found with its
inputs complete; these two sheets give every input and every intermediate line.

Conventions, his sheet against this core (effects measured on the Twitter case, $ a share):

=========================  ==========================================  =====================
Item                       Damodaran (2013 ginzu)                      This core / effect
=========================  ==========================================  =====================
Year-1 margin              converges from the base-year margin          same (0)
Reinvestment timing        (revenue_t - revenue_t-1) / sales-to-cap.    same (0)
Discounting                end of year, cumulative WACC path            same (0)
Terminal year              target margin, marginal tax, g / ROC        same (0)
Tax rate                   effective 30% to y5, linear to 35.5% by y10  same with
                                                                        marginal_tax_rate;
                                                                        flat 30%: +$1.77
Terminal ROC               12% (his override)                           default = mature 8%:
                                                                        -$2.58
Employee options           Black-Scholes value 804.83 m subtracted      not priced: +$1.40
                                                                        (pass it in ``debt``)
IPO proceeds               1,000 m added; shares exclude the 50 m sold  ``ipo_proceeds``, same
Failure                    probability 0 (not exercised)                ``prob_failure`` etc.
=========================  ==========================================  =====================

Damodaran's later ginzu sheets (2016 on) take "operating margin for next year" as the year-1
margin and converge from it: ``margin_t = target - (target - m_1) x (N - t) / N`` for t >= 2.
With ``operating_margin = m_1`` this core gives the same margins from year 2 on; only year 1
differs (ours is ``(target - m_1) / N`` nearer the target). Neither reference here uses that.
The Apple sheet also subtracts 18,000 m of tax due on trapped foreign cash and 1,498.22 m of
options; both are claims on equity, passed here through ``debt``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuval.core import young_growth_dcf

# --- Twitter, October 2013 (TwitterIPOvaluation.xls, Input sheet and Valuation output) ---------
TWITTER: dict[str, Any] = dict(
    revenue=448.209,  # trailing 12 months, $ m
    # EBIT after capitalising R&D and leases: -5.2689882700240815 -> margin -1.1756%
    operating_margin=-5.2689882700240815 / 448.209,
    growth_y1=0.55,  # "compounded annual revenue growth rate over next 5 years"
    growth_y2_5=0.55,
    terminal_growth=0.027,  # = the risk-free rate (10-year Treasury, 4 October 2013)
    target_margin=0.25,
    margin_convergence_year=10,
    sales_to_capital=1.5,
    tax_rate=0.30,  # effective
    marginal_tax_rate=0.355,  # federal + state
    nol=468.02000000000004,
    cost_of_capital=0.1121984400485641,
    mature_cost_of_capital=0.08,
    terminal_roc=0.12,
    cash=375.11,
    debt=204.4619296201446,  # debt (market value) plus operating leases
    ipo_proceeds=1000.0,
    shares_outstanding=574.4369999999999,
)
TWITTER_OPTIONS = 804.8339550163705  # value of the 44.157 m employee options, $ m
TWITTER_PER_SHARE = 17.15702185813725  # published value per share
# his Valuation output, years 1-10
TWITTER_REVENUE = [694.7239500000001, 1076.8221225000002, 1669.0742898750004, 2587.0651493062505,
                   4009.9509814246885, 5795.983148551245, 7771.254205577509, 9606.824448934918,
                   10871.082546414755, 11164.601775167954]  # fmt: skip
TWITTER_TAX_RATE = [0.3] * 5 + [0.311, 0.322, 0.333, 0.344, 0.355]
TWITTER_EBIT = [10.017860113316422, 43.71411067001373, 111.44583415479988, 240.4589349951717,
                477.6740819281254, 842.1432518426922, 1332.5626419016057, 1898.7779960237533,
                2433.213908452084, 2791.1504437919884]  # fmt: skip
TWITTER_AFTER_TAX_EBIT = [10.017860113316422, 43.71411067001373, 111.44583415479988,
                          240.4589349951717, 353.0868353696973, 580.2367005196149,
                          903.4774712092888, 1266.4849233478435, 1596.188323944567,
                          1800.2920362458326]  # fmt: skip
TWITTER_NOL = [458.0021398866836, 414.2880292166699, 302.84219506187003, 62.38326006669834,
               0, 0, 0, 0, 0, 0]  # fmt: skip
TWITTER_FCFF = [-154.3254398866836, -211.01800432998638, -283.38894409520026, -371.53497129232835,
                -595.5037193759281, -610.4514108980893, -413.3699001415541, 42.771427776237715,
                753.3495922913426, 1604.6125504103666]  # fmt: skip
TWITTER_DF = [0.8991201246032453, 0.8084169984665553, 0.7268639923926308, 0.6535380434096746,
              0.5876092070234678, 0.5314081448055514, 0.48339755235197673, 0.44231555920896476,
              0.4071238966051196, 0.37696657093066627]  # fmt: skip
TWITTER_TOTALS = dict(
    terminal_after_tax_ebit=1848.8999212244703,
    terminal_reinvestment=416.00248227550617,
    terminal_fcff=1432.897438948964,
    terminal_value=27035.80073488611,
    pv_terminal_value=10191.593095394805,
    sum_pv_fcff=-701.7790456355024,
    going_concern_value=9489.814049759301,
    operating_assets_value=9489.814049759301,
    equity_value=10660.462120139156,  # before options
)

# --- Apple, 2013 (applevaln2013.xls) ------------------------------------------------------------
APPLE: dict[str, Any] = dict(
    revenue=169104.0,
    operating_margin=52288.29726319526 / 169104.0,  # lease-adjusted EBIT
    growth_y1=0.05,
    growth_y2_5=0.05,
    terminal_growth=0.0175,  # = the risk-free rate
    target_margin=0.25,
    sales_to_capital=2.66,
    tax_rate=0.2601,
    marginal_tax_rate=0.38,
    cost_of_capital=0.11707270010102377,
    mature_cost_of_capital=0.08,
    terminal_roc=0.12,
    cash=144687.0,
    debt=3877.621894437937,  # operating leases
    shares_outstanding=939.629,
)
APPLE_TRAPPED_CASH_TAX = 18000.0  # 100,000 trapped x (38% - 20%)
APPLE_OPTIONS = 1498.2217709075587
APPLE_PER_SHARE = 579.2376613858943
APPLE_GOING_CONCERN = 422957.34819571197
APPLE_PV_TERMINAL = 197580.218972381


class TestTwitter2013:
    def test_every_year_matches_his_sheet(self) -> None:
        r = young_growth_dcf(**TWITTER)
        for got, his in [(r.revenue, TWITTER_REVENUE), (r.tax_rate, TWITTER_TAX_RATE),
                         (r.ebit, TWITTER_EBIT), (r.after_tax_ebit, TWITTER_AFTER_TAX_EBIT),
                         (r.nol, TWITTER_NOL), (r.fcff, TWITTER_FCFF),
                         (r.discount_factor, TWITTER_DF)]:  # fmt: skip
            np.testing.assert_allclose(got, his, rtol=1e-9, atol=1e-9)
        for name, his_total in TWITTER_TOTALS.items():
            assert getattr(r, name) == pytest.approx(his_total, rel=1e-9), name

    def test_published_value_per_share(self) -> None:
        # ours, before options: 10,660.46 / 574.437 = 18.558; his subtracts 804.83 of options
        # (1.401 a share) for 17.157. Passing the options as a claim (debt) gives his figure.
        ours = young_growth_dcf(**TWITTER).value_per_share
        assert ours == pytest.approx(10660.462120139156 / 574.437, rel=1e-9)
        assert ours - TWITTER_PER_SHARE == pytest.approx(TWITTER_OPTIONS / 574.437, rel=1e-9)
        with_options = {**TWITTER, "debt": TWITTER["debt"] + TWITTER_OPTIONS}
        assert young_growth_dcf(**with_options).value_per_share == pytest.approx(
            TWITTER_PER_SHARE, rel=1e-9
        )

    def test_effect_of_a_flat_effective_tax_rate(self) -> None:
        # From his schedule: years 6-10 pay tax_t - 30% more on EBIT (no NOL left by then), the
        # terminal year 5.5 points more on EBIT_11 = 2,866.51, less its reinvestment share
        # 0.027 / 0.12, capitalised at 8% - 2.7%.
        extra = np.array(TWITTER_TAX_RATE[5:]) - 0.3
        pv_years = float(np.sum(np.array(TWITTER_EBIT[5:]) * extra * TWITTER_DF[5:]))
        pv_terminal = 2866.5115057743724 * 0.055 * (1 - 0.027 / 0.12) / 0.053 * TWITTER_DF[-1]
        flat = young_growth_dcf(**{**TWITTER, "marginal_tax_rate": None})
        path = young_growth_dcf(**TWITTER)
        gain = (pv_years + pv_terminal) / 574.437
        assert flat.value_per_share - path.value_per_share == pytest.approx(gain, rel=1e-9)
        assert gain == pytest.approx(1.77, abs=0.01)

    def test_effect_of_the_default_terminal_roc(self) -> None:
        # At ROC = 8% (the default: no excess returns) terminal reinvestment is 0.027 / 0.08 of
        # NOPAT_11 instead of 0.027 / 0.12: TV = 1,848.90 x (1 - 0.3375) / 0.053 = 23,111.2,
        # 3,924.6 less than his 27,035.8; x DF_10 0.37697 = -1,479.4 m, -2.575 a share.
        tv = 1848.8999212244703 * (1 - 0.027 / 0.08) / 0.053
        drop = (27035.80073488611 - tv) * TWITTER_DF[-1] / 574.437
        default = young_growth_dcf(**{**TWITTER, "terminal_roc": None})
        assert default.terminal_value == pytest.approx(tv, rel=1e-9)
        assert young_growth_dcf(**TWITTER).value_per_share - default.value_per_share == (
            pytest.approx(drop, rel=1e-9)
        )
        assert drop == pytest.approx(2.575, abs=0.001)


class TestApple2013:
    def test_going_concern_and_published_value(self) -> None:
        r = young_growth_dcf(**APPLE)
        assert r.going_concern_value == pytest.approx(APPLE_GOING_CONCERN, rel=1e-9)
        assert r.pv_terminal_value == pytest.approx(APPLE_PV_TERMINAL, rel=1e-9)
        # his equity: 422,957.35 - 3,877.62 + 144,687 - 18,000 trapped-cash tax - 1,498.22
        # options = 544,268.50; / 939.629 = 579.24
        claims = APPLE["debt"] + APPLE_TRAPPED_CASH_TAX + APPLE_OPTIONS
        v = young_growth_dcf(**{**APPLE, "debt": claims}).value_per_share
        assert v == pytest.approx(APPLE_PER_SHARE, rel=1e-9)
