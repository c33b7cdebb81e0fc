"""The GPUVAL_* UDFs called as Python with Excel-shaped arguments equal the core.

Excel shapes, as xlwings delivers them with ``ndim=2``: a cell is ``[[x]]``, a blank cell
``[[None]]``, an omitted optional argument ``None``, a column ``[[a], [b]]``, a row ``[[a, b]]``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
from typing import Any

import numpy as np
import pytest

from gpuval import core
from gpuval.data.dataset import load_dataset
from gpuval.data.fx import FxRates
from gpuval.data.schema import CURRENCIES
from gpuval.excel import data as data_udfs
from gpuval.excel import params as P
from gpuval.excel import simulation, udfs
from gpuval.excel.declare import Param, udf
from gpuval.excel.udfs import (
    GPUVAL_DATA,
    GPUVAL_DCF,
    GPUVAL_DCF_SCHEDULE,
    GPUVAL_DCF_TABLE,
    GPUVAL_FX,
    GPUVAL_IMPLIED_GROWTH,
    GPUVAL_IMPLIED_SHARE,
    GPUVAL_MONTECARLO,
    GPUVAL_NVIDIA_FRACTION,
    GPUVAL_NVIDIA_SHARE_PER_SHARE,
    GPUVAL_NVIDIA_SHARE_VALUE,
    GPUVAL_PEER_STATS,
    GPUVAL_PEER_VALUE,
    GPUVAL_PS,
    GPUVAL_PS_BACKLOG,
    GPUVAL_PS_RUNRATE,
    GPUVAL_SENSITIVITY,
    GPUVAL_SOURCE,
    GPUVAL_TAM_AT,
    GPUVAL_TAM_PER_SHARE,
    GPUVAL_TAM_SCENARIO,
    GPUVAL_TAM_VALUE,
    GPUVAL_VENUE_GAP,
    GPUVAL_VERSION,
)

BLANK = [[None]]

# VBA's reserved identifiers (MS-VBAL 3.3.5.2), which cannot name a VBA function's arguments.
_VBA_WORDS = """
    Call Case Close Const Declare DefBool DefByte DefCur DefDate DefDbl DefInt DefLng DefLngLng
    DefLngPtr DefObj DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase Event Exit For
    Friend Function Get Global GoSub GoTo If Implements Input Let Lock Loop LSet Next On Open
    Option Print Private Public Put RaiseEvent ReDim Resume Return RSet Seek Select Set Static
    Stop Sub Type Unlock Wend While With Write Any As ByRef ByVal Each In New Shared Until
    WithEvents Optional ParamArray Preserve Spc Tab Then To AddressOf And Eqv Imp Is Like Mod Not
    Or TypeOf Xor Abs CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr CSng CStr CVar
    CVErr Date Debug DoEvents Fix Int Len LenB Me PSet Scale Sgn String Array Circle InputB
    LBound UBound Boolean Byte Currency Double Integer Long LongLong LongPtr Single Variant True
    False Nothing Empty Null Rem Attribute CDecl Decimal DefDec
"""
VBA_RESERVED = {w.casefold() for w in _VBA_WORDS.split()}


def cell(x: Any) -> list[list[Any]]:
    return [[x]]


def col(*xs: Any) -> list[list[Any]]:
    return [[x] for x in xs]


def row(*xs: Any) -> list[list[Any]]:
    return [list(xs)]


def is_error(value: Any, fragment: str = "") -> bool:
    return isinstance(value, str) and value.startswith("#GPUVAL! ") and fragment in value


# The worked TAM scenario of gpuval.core.tam (USD model currency, HKD listing).
TAM: dict[str, Any] = dict(
    share=0.05,
    tam=200e9,
    margin=0.20,
    exit_multiple=30.0,
    cost_of_equity=0.25,
    years=2.0,
    shares_outstanding=2.6e9,
    prob_success=0.5,
    distress_value=2e9,
    dilution=0.2,
    fx=7.8,
    price=50.0,
)
TAM_ORDER = list(TAM)

# A Biren-like young-growth DCF (illustrative assumptions, CNY model currency).
DCF: dict[str, Any] = dict(
    revenue=337e6,
    growth_y1=0.8,
    growth_y2_5=0.5,
    terminal_growth=0.03,
    operating_margin=-1.0,
    target_margin=0.25,
    sales_to_capital=1.5,
    tax_rate=0.25,
    cost_of_capital=0.12,
    mature_cost_of_capital=0.08,
    shares_outstanding=2.4e9,
    margin_convergence_year=8,
    nol=2e9,
    terminal_roc=0.12,
    prob_failure=0.2,
    distress_proceeds=1e9,
    cash=5e9,
    debt=1e9,
    fx=1.11,
    marginal_tax_rate=0.3,
    distress_fraction=0.0,
    ipo_proceeds=5e8,
    non_operating_assets=1e8,
    minority_interests=5e7,
    bridge_years=1,
    bridge_growth=0.6,
    high_growth_years=4,
)
DCF_ORDER = list(DCF)


def table(inputs: dict[str, Any], header: bool = True) -> list[list[Any]]:
    rows = [[k, v] for k, v in inputs.items()]
    return [["input", "value"], *rows] if header else rows


def tam_args(**over: Any) -> list[Any]:
    values = {**TAM, **over}
    return [cell(values[k]) for k in TAM_ORDER]


class TestRegistry:
    def test_every_public_function_is_a_gpuval_udf(self) -> None:
        assert udfs.__all__ == sorted(udfs.__all__)
        assert len(udfs.__all__) == 24
        for name in udfs.__all__:
            assert name.startswith("GPUVAL_") and callable(getattr(udfs, name))

    def test_descriptions_fit_excel(self) -> None:
        for name in udfs.__all__:
            doc = inspect.getdoc(getattr(udfs, name))
            assert doc and len(doc) <= 255 and "\n" not in doc, name

    def test_undocumented_parameter_is_refused_at_import(self) -> None:
        with pytest.raises(ValueError, match="parameter mystery needs help"):
            udf("GPUVAL_X", "Doc.", [Param("mystery", "number", "")], core=core.price_to_sales,
                summary="", example="")  # fmt: skip

    def test_parameter_names_are_legal_vba_argument_names(self) -> None:
        # classic xlwings writes a VBA wrapper whose arguments carry the Python names
        for name in udfs.__all__:
            for p in inspect.signature(getattr(udfs, name)).parameters:
                assert p.casefold() not in VBA_RESERVED, (name, p)
                assert p[0].isalpha() and len(p) <= 255, (name, p)

    def test_optional_parameters_default_to_none(self) -> None:
        # blanks and omitted arguments are the same thing: None, resolved inside the function
        for name in udfs.__all__:
            for p in inspect.signature(getattr(udfs, name)).parameters.values():
                assert p.default in (inspect.Parameter.empty, None), (name, p.name)
                assert p.annotation is inspect.Parameter.empty, (name, p.name)


class TestMultiples:
    def test_ps_hand_worked(self) -> None:
        assert GPUVAL_PS(cell(300e9), cell(1.5e9)) == 200.0  # 300 bn / 1.5 bn
        assert GPUVAL_PS(cell(300e9), cell(1.5e9), BLANK) == 200.0  # blank fx = 1
        assert GPUVAL_PS(cell(85.54e9), cell(337e6), cell(1 / 0.900163666121113)) == (
            core.price_to_sales(85.54e9, 337e6, 1 / 0.900163666121113)
        )

    def test_plain_python_scalars_work_too(self) -> None:
        assert GPUVAL_PS(300e9, 1.5e9) == core.price_to_sales(300e9, 1.5e9)
        assert GPUVAL_PS(300e9, 3) == 100e9  # an int, as Office.js sends whole numbers

    def test_ranges_broadcast_like_the_core_and_keep_orientation(self) -> None:
        mv, rev = col(60e9, 90e9, 120e9), row(0.3e9, 0.6e9)
        out = GPUVAL_PS(mv, rev)
        expected = core.price_to_sales(np.array(mv), np.array(rev))
        assert out == np.asarray(expected).tolist() and np.shape(out) == (3, 2)
        assert GPUVAL_PS(col(60e9, 90e9), cell(0.3e9)) == [[200.0], [300.0]]  # a column stays
        assert GPUVAL_PS(row(60e9, 90e9), cell(0.3e9)) == [[200.0, 300.0]]  # a row stays

    def test_runrate(self) -> None:
        assert GPUVAL_PS_RUNRATE(cell(300e9), cell(0.7e9)) == core.run_rate_ps(300e9, 0.7e9)
        assert GPUVAL_PS_RUNRATE(cell(300e9), cell(0.7e9), cell(2.0)) == pytest.approx(
            300 / (2 * 0.7 * 2.0)
        )

    def test_backlog(self) -> None:
        assert GPUVAL_PS_BACKLOG(cell(79.2e9), cell(1.2e9), cell(12)) == pytest.approx(66.0)
        # blank months = 15 (midpoint of the article's 12-18): 79.2 x 15 / (1.2 x 12) = 82.5
        assert GPUVAL_PS_BACKLOG(cell(79.2e9), cell(1.2e9), BLANK) == pytest.approx(82.5)
        months = col(12.0, 15.0, 18.0)
        assert GPUVAL_PS_BACKLOG(cell(79.2e9), cell(1.24e9), months, cell(1.11)) == (
            np.asarray(core.backlog_ps(79.2e9, 1.24e9, np.array(months), 1.11)).tolist()
        )

    def test_bad_arguments(self) -> None:
        assert GPUVAL_PS(cell(0.0), cell(1.0)) == (
            "#GPUVAL! market_value must be greater than 0, got 0."
        )
        assert is_error(GPUVAL_PS(cell("300bn"), cell(1.0)), "must be a number, got text")
        assert is_error(GPUVAL_PS(cell("#REF!"), cell(1.0)), "the Excel error #REF!")
        assert is_error(GPUVAL_PS(BLANK, cell(1.0)), "market_value is required")
        assert is_error(GPUVAL_PS(col(1.0, 2.0, 3.0), col(1.0, 2.0)), "3 x 1 range")
        assert is_error(GPUVAL_PS(cell(1e300), cell(1e-300)), "not a finite number")


PEERS: list[list[Any]] = [
    ["company", "P/S"],
    ["Cambricon", 100.0],
    ["Moore Threads", 200.0],
    ["MetaX", 150.0],
    ["Kunlunxin", None],
    ["Biren", 80.0],
]


class TestPeers:
    def test_stats_from_a_name_table_with_target(self) -> None:
        out = GPUVAL_PEER_STATS(PEERS, cell("biren"))  # the target matches case-insensitively
        s = core.peer_stats({r[0]: r[1] for r in PEERS[1:]}, target="Biren")
        assert [v for _, v in out] == [
            s.count,
            s.minimum,
            s.p25,
            s.median,
            s.mean,
            s.p75,
            s.maximum,
        ]
        assert [label for label, _ in out][:3] == ["count", "minimum", "25th percentile"]
        assert out[2][1] == 125.0  # PERCENTILE.INC of 100, 150, 200 at 0.25

    def test_stats_from_numbers_skip_blanks_and_can_drop_labels(self) -> None:
        out = GPUVAL_PEER_STATS(col(100.0, None, 200.0, 150.0), None, cell(False))
        assert out == [[3.0], [100.0], [125.0], [150.0], [150.0], [175.0], [200.0]]
        assert np.shape(out) == (7, 1)

    def test_stats_from_a_table_across(self) -> None:
        across = [["A", "B", "C"], [1.0, 2.0, 3.0]]
        assert GPUVAL_PEER_STATS(across)[3] == ["median", 2.0]

    def test_stats_errors(self) -> None:
        assert is_error(GPUVAL_PEER_STATS(PEERS, cell("Birne")), "(did you mean Biren?)")
        assert is_error(GPUVAL_PEER_STATS(col(1.0, 2.0), cell("Biren")), "name | multiple table")
        assert is_error(GPUVAL_PEER_STATS([["A", 1.0], ["A", 2.0]]), "names 'A' twice")
        assert is_error(GPUVAL_PEER_STATS(col(None, None)), "has no numbers")
        assert is_error(GPUVAL_PEER_STATS([["A", "x"], ["B", "y"], ["C", 1.0]]), "text 'y'")
        assert is_error(GPUVAL_PEER_STATS(col(1.0, "#N/A")), "Excel error #N/A")
        only_target = [["Biren", 80.0]]
        assert is_error(GPUVAL_PEER_STATS(only_target, cell("Biren")), "no values left")

    def test_peer_value(self) -> None:
        peers = {r[0]: r[1] for r in PEERS[1:]}
        expected = core.implied_values(0.5e9, peers, (0.75,), target="Biren", fx=1.1)[0.75]
        out = GPUVAL_PEER_VALUE(cell(0.5e9), PEERS, cell(0.75), cell("Biren"), cell(1.1))
        assert out == expected
        assert GPUVAL_PEER_VALUE(cell(0.5e9), col(100.0, 200.0, 150.0)) == 75e9  # median 150
        assert GPUVAL_PEER_VALUE(col(1.0, 2.0), col(10.0, 30.0)) == [[20.0], [40.0]]
        assert is_error(GPUVAL_PEER_VALUE(cell(1.0), col(1.0), cell(1.5)), "k must be between")

    def test_venue_gap(self) -> None:
        a, h = row(120.0, 200.0, 160.0), row(80.0, 40.0)
        assert GPUVAL_VENUE_GAP(a, h) == core.venue_gap([120.0, 200.0, 160.0], [80.0, 40.0])
        a_named = [["Cambricon", 120.0], ["Moore Threads", 200.0], ["MetaX", 160.0]]
        h_named = [["Biren", 80.0], ["Iluvatar", 40.0], ["Zhipu", 60.0]]
        assert GPUVAL_VENUE_GAP(a_named, h_named, cell("biren")) == pytest.approx(160 / 50)
        assert is_error(GPUVAL_VENUE_GAP(a, h, cell("Biren")), "name | multiple tables")


class TestTam:
    def test_value_and_per_share_equal_the_core(self) -> None:
        r = core.tam_scenario(**TAM)
        assert GPUVAL_TAM_VALUE(*tam_args()) == r.value == pytest.approx(17e9)
        assert GPUVAL_TAM_PER_SHARE(*tam_args()) == r.value_per_share == pytest.approx(51.0)

    def test_blanks_take_the_core_defaults(self) -> None:
        required = [cell(TAM[k]) for k in TAM_ORDER[:7]]
        expected = core.tam_scenario(*[TAM[k] for k in TAM_ORDER[:7]])
        assert GPUVAL_TAM_VALUE(*required) == expected.value
        assert GPUVAL_TAM_VALUE(*required, *[BLANK] * 6) == expected.value
        # 5% x 200 bn x 20% x 30 / 1.25^2 = 38.4 bn
        assert expected.value == pytest.approx(38.4e9)

    def test_failure_value_as_a_fraction_is_the_last_argument(self) -> None:
        # distress_value 0, failing fetches 10% of the 32 bn if it succeeds: 16 + 0.5 x 3.2
        args = [*tam_args(distress_value=0.0), cell("pe"), cell(0.1)]
        assert GPUVAL_TAM_VALUE(*args) == pytest.approx(17.6e9, rel=1e-12)
        implied = [cell(78e9), *tam_args(distress_value=0.0)[1:11], cell("pe"), cell(0.1)]
        # USD 10 bn = 352 bn x share (0.5 x 640 bn + 0.5 x 10% x 640 bn)
        assert GPUVAL_IMPLIED_SHARE(*implied) == pytest.approx(10 / 352, rel=1e-12)
        assert is_error(GPUVAL_TAM_VALUE(*tam_args(), cell("pe"), cell(0.1)), "not both")

    def test_basis_ps(self) -> None:
        r = core.tam_scenario(**TAM, basis="ps")
        assert GPUVAL_TAM_VALUE(*tam_args(), cell("PS")) == r.value
        assert is_error(GPUVAL_TAM_VALUE(*tam_args(), cell("pb")), "basis must be one of pe, ps")

    def test_ranges_make_a_grid(self) -> None:
        shares, multiples = col(0.02, 0.05, 0.1), row(20.0, 30.0)
        args = tam_args()
        args[0], args[3] = shares, multiples
        out = GPUVAL_TAM_PER_SHARE(*args)
        inputs = {**TAM, "share": np.array(shares), "exit_multiple": np.array(multiples)}
        assert out == np.asarray(core.tam_scenario(**inputs).value_per_share).tolist()
        assert np.shape(out) == (3, 2)

    def test_scenario_steps(self) -> None:
        r = core.tam_scenario(**TAM)
        out = GPUVAL_TAM_SCENARIO(*tam_args())
        assert [k for k, _ in out] == list(P.TAM_OUTPUTS)
        assert [v for _, v in out] == [getattr(r, k) for k in P.TAM_OUTPUTS]
        no_price = GPUVAL_TAM_SCENARIO(*tam_args()[:-1], BLANK, BLANK, cell(False))
        assert len(no_price) == 7 and all(len(x) == 1 for x in no_price)  # no upside row
        args = tam_args()
        args[0] = col(0.1, 0.2)
        assert is_error(GPUVAL_TAM_SCENARIO(*args), "share must be a single cell here")

    def test_errors_name_the_argument(self) -> None:
        assert GPUVAL_TAM_VALUE(*tam_args(share=1.5)) == (
            "#GPUVAL! share must be between 0 and 1, got 1.5."
        )
        assert is_error(GPUVAL_TAM_VALUE(*tam_args(years="2y")), "years must be a number")

    def test_tam_at(self) -> None:
        assert GPUVAL_TAM_AT(cell(2029), cell(30.1e9), cell(201.2e9)) == pytest.approx(201.2e9)
        assert GPUVAL_TAM_AT(cell(2026), cell(100.0), cell(400.0), cell(2024), cell(2028)) == (
            pytest.approx(200.0)
        )
        years = row(2025, 2027, 2029)
        assert GPUVAL_TAM_AT(years, cell(30.1e9), cell(201.2e9)) == (
            np.asarray(core.tam_at(np.array(years, dtype=float), 30.1e9, 201.2e9)).tolist()
        )
        assert is_error(GPUVAL_TAM_AT(cell(2026), cell(1.0), cell(2.0), cell(2029)), "end_year")


class TestNvidia:
    def test_share_value(self) -> None:
        assert GPUVAL_NVIDIA_SHARE_VALUE(cell(0.01), cell(5e12), cell(7.0)) == 350e9
        fractions = col(0.01, 0.1, 0.2)
        assert GPUVAL_NVIDIA_SHARE_VALUE(fractions, cell(5e12)) == (
            np.asarray(core.fraction_of_nvidia_value(np.array(fractions), 5e12)).tolist()
        )

    def test_per_share_and_fraction(self) -> None:
        assert GPUVAL_NVIDIA_SHARE_PER_SHARE(cell(0.01), cell(5e12), cell(2.5e9), cell(7.8)) == (
            pytest.approx(156.0)
        )
        assert GPUVAL_NVIDIA_FRACTION(cell(350e9), cell(5e12), cell(7.0)) == pytest.approx(0.01)
        assert is_error(GPUVAL_NVIDIA_SHARE_VALUE(cell(2.0), cell(5e12)), "fraction must be")


class TestDcf:
    def test_arguments_table_and_core_agree(self) -> None:
        expected = core.dcf_value_per_share(**DCF)
        assert GPUVAL_DCF(*[cell(DCF[k]) for k in DCF_ORDER]) == expected
        assert GPUVAL_DCF_TABLE(table(DCF)) == expected
        assert GPUVAL_DCF_TABLE(table(DCF, header=False)) == expected
        across = [list(x) for x in zip(*table(DCF), strict=True)]  # names in a row
        assert GPUVAL_DCF_TABLE(across) == expected
        assert GPUVAL_DCF_TABLE(DCF) == expected  # a dict from Python

    def test_blanks_take_the_documented_defaults(self) -> None:
        required = {k: DCF[k] for k in P.DCF_REQUIRED}
        expected = core.dcf_value_per_share(**required)
        assert GPUVAL_DCF(*[cell(required[k]) for k in P.DCF_REQUIRED]) == expected
        assert GPUVAL_DCF(*[cell(required[k]) for k in P.DCF_REQUIRED], *[BLANK] * 9) == (expected)
        with_blanks = {**required, **dict.fromkeys(p.name for p in P.DCF if p.optional)}
        assert GPUVAL_DCF_TABLE(table(with_blanks)) == expected

    @pytest.mark.parametrize("output", P.DCF_OUTPUTS)
    def test_every_output(self, output: str) -> None:
        expected = getattr(core.young_growth_dcf(**DCF), output)
        assert GPUVAL_DCF_TABLE(table(DCF), cell(output)) == pytest.approx(expected, rel=1e-12)
        args = [cell(DCF[k]) for k in DCF_ORDER]
        assert GPUVAL_DCF(*args, cell(output.upper())) == pytest.approx(expected, rel=1e-12)

    def test_hand_worked_perpetuity(self) -> None:
        # no growth, 20% margin, 25% tax, 10%: FCFF 15 forever = 150; + 50 cash over 10 shares
        flat = dict(
            revenue=100.0,
            growth_y1=0.0,
            growth_y2_5=0.0,
            terminal_growth=0.0,
            operating_margin=0.2,
            target_margin=0.2,
            sales_to_capital=1.0,
            tax_rate=0.25,
            cost_of_capital=0.10,
            mature_cost_of_capital=0.10,
            shares_outstanding=10.0,
            cash=50.0,
        )
        assert GPUVAL_DCF_TABLE(table(flat)) == pytest.approx(20.0)

    def test_ranges_in_the_argument_form(self) -> None:
        args = [cell(DCF[k]) for k in DCF_ORDER]
        args[DCF_ORDER.index("growth_y2_5")] = col(0.3, 0.5)
        args[DCF_ORDER.index("target_margin")] = row(0.2, 0.25, 0.3)
        expected = core.dcf_value_per_share(
            **{
                **DCF,
                "growth_y2_5": np.array([[0.3], [0.5]]),
                "target_margin": np.array([[0.2, 0.25, 0.3]]),
            }
        )
        assert GPUVAL_DCF(*args) == np.asarray(expected).tolist()

    def test_heavy_outputs_over_large_ranges_are_refused(self) -> None:
        args = [cell(DCF[k]) for k in DCF_ORDER]
        args[DCF_ORDER.index("growth_y2_5")] = col(*np.linspace(0.1, 0.5, 200))
        args[DCF_ORDER.index("target_margin")] = row(*np.linspace(0.1, 0.3, 101))
        out = GPUVAL_DCF(*args, cell("terminal_value"))
        assert is_error(out, "limited to 20,000 results at once"), out
        assert np.shape(GPUVAL_DCF(*args)) == (200, 101)  # value per share: no schedules kept

    def test_schedule(self) -> None:
        out = GPUVAL_DCF_SCHEDULE(table(DCF))
        r = core.young_growth_dcf(**DCF)
        assert np.shape(out) == (13, 11)
        assert out[0] == ["item", *(f"year {t}" for t in range(1, 11))]
        assert [line[0] for line in out[1:]] == list(P.DCF_SCHEDULE)
        for line in out[1:]:
            np.testing.assert_array_equal(line[1:], getattr(r, line[0]))

    def test_bridge_equity_bridge_and_failure_fraction(self) -> None:
        # bridge revenue 100 x 1.1^2 = 121, then no growth: FCFF 121 x 0.2 x 0.75 = 18.15 a
        # year, a perpetuity of 181.5 at 10%; 20% failure at 40% of it: 0.8 x 181.5 + 0.2 x
        # 72.6 = 159.72; + IPO 20 + non-operating 10 - minority 5 = 184.72 over 10 shares
        flat = [["revenue", 100.0], ["growth_y1", 0.0], ["growth_y2_5", 0.0],
                ["terminal_growth", 0.0], ["operating_margin", 0.2], ["target_margin", 0.2],
                ["sales_to_capital", 1.0], ["tax_rate", 0.25], ["cost_of_capital", 0.1],
                ["mature_cost_of_capital", 0.1], ["shares_outstanding", 10.0],
                ["prob_failure", 0.2], ["distress_fraction", 0.4], ["ipo_proceeds", 20.0],
                ["non_operating_assets", 10.0], ["minority_interests", 5.0],
                ["bridge_years", 2], ["bridge_growth", 0.1]]  # fmt: skip
        assert GPUVAL_DCF_TABLE(flat) == pytest.approx(18.472, rel=1e-12)
        assert GPUVAL_DCF_TABLE(flat, cell("bridge_revenue")) == pytest.approx(121.0, rel=1e-12)
        too_long = [*flat[:-2], ["bridge_years", 4]]
        assert is_error(GPUVAL_DCF_TABLE(too_long), "bridge_years (row 17) must be a whole number")
        both = [*flat, ["distress_proceeds", 5.0]]
        assert is_error(GPUVAL_DCF_TABLE(both), "not both; got 5 and 0.4.")

    def test_table_errors(self) -> None:
        bad = table({**DCF, "growht_y1": 0.5})
        assert is_error(GPUVAL_DCF_TABLE(bad), "unknown input 'growht_y1' (row 29)")
        assert is_error(GPUVAL_DCF_TABLE(bad), "(did you mean growth_y1?)")
        missing = {k: v for k, v in DCF.items() if k not in ("tax_rate", "revenue")}
        assert GPUVAL_DCF_TABLE(table(missing)) == (
            "#GPUVAL! assumptions is missing revenue, tax_rate; add a row for each."
        )
        twice = [*table(DCF), ["cash", 1.0]]
        assert is_error(GPUVAL_DCF_TABLE(twice), "gives cash twice")
        year = table({**DCF, "margin_convergence_year": 2.5})
        assert is_error(GPUVAL_DCF_TABLE(year), "margin_convergence_year (row 13) must be a whole")
        text_value = table({**DCF, "tax_rate": "25%"})
        assert is_error(GPUVAL_DCF_TABLE(text_value), "tax_rate (row 9) must be a number")
        assert is_error(GPUVAL_DCF_TABLE(col(1.0, 2.0, 3.0)), "two-column range")
        assert is_error(GPUVAL_DCF_TABLE(table(DCF), cell("npv")), "output must be one of")
        core_error = table({**DCF, "terminal_growth": 0.09})
        assert is_error(GPUVAL_DCF_TABLE(core_error), "terminal_growth must be less than")


class TestReverse:
    def test_implied_share(self) -> None:
        scenario = {k: v for k, v in TAM.items() if k not in ("share", "price")}
        args = [cell(scenario[k]) for k in TAM_ORDER[1:-1]]
        assert GPUVAL_IMPLIED_SHARE(cell(78e9), *args) == core.implied_share(78e9, **scenario)
        assert GPUVAL_IMPLIED_SHARE(cell(78e9), *args) == pytest.approx(0.028125)  # 9 / 320
        # congruence: the TAM value at the implied share, x fx, is the market value
        share = GPUVAL_IMPLIED_SHARE(cell(78e9), *args)
        value = GPUVAL_TAM_VALUE(*tam_args(share=share))
        assert value * TAM["fx"] == pytest.approx(78e9, rel=1e-12)
        assert is_error(GPUVAL_IMPLIED_SHARE(cell(1e15), *args), "no market share between 0 and 1")
        values = col(50e9, 78e9)
        assert GPUVAL_IMPLIED_SHARE(values, *args) == (
            np.asarray(core.implied_share(np.array(values), **scenario)).tolist()
        )

    def test_implied_growth(self) -> None:
        inputs = {k: v for k, v in DCF.items() if k != "growth_y2_5"}
        mv = 30e9
        expected = core.implied_growth(mv, **inputs)
        assert GPUVAL_IMPLIED_GROWTH(cell(mv), table(DCF)) == expected  # growth_y2_5 ignored
        at = core.dcf_equity_value(**inputs, growth_y2_5=expected) * DCF["fx"]
        assert at == pytest.approx(mv, rel=1e-9)
        y1 = {k: v for k, v in inputs.items() if k != "growth_y1"}
        assert GPUVAL_IMPLIED_GROWTH(cell(mv), table(DCF), cell(True)) == (
            core.implied_growth(mv, include_year1=True, **y1)
        )
        assert GPUVAL_IMPLIED_GROWTH(cell(mv), table(DCF), None, cell(0.0), cell(1.0)) == (
            core.implied_growth(mv, lo=0.0, hi=1.0, **inputs)
        )

    def test_implied_growth_errors(self) -> None:
        assert is_error(GPUVAL_IMPLIED_GROWTH(cell(1e16), table(DCF)), "no revenue growth between")
        assert is_error(
            GPUVAL_IMPLIED_GROWTH(cell(1e9), table(DCF), None, cell(1.0), cell(0.5)),
            "low and high must satisfy",
        )
        missing = {k: v for k, v in DCF.items() if k != "revenue"}
        assert is_error(GPUVAL_IMPLIED_GROWTH(cell(1e9), table(missing)), "missing revenue")
        assert is_error(GPUVAL_IMPLIED_GROWTH(col(1e9, 2e9), table(DCF)), "single cell")


class TestSensitivity:
    def test_tam_grid_with_headers_equals_the_core(self) -> None:
        shares, multiples = [0.02, 0.05, 0.1], [20.0, 30.0, 40.0, 50.0]
        out = GPUVAL_SENSITIVITY(
            cell("tam"),
            table(TAM),
            cell("share"),
            col(*shares),
            cell("exit_multiple"),
            row(*multiples),
        )
        g = core.sensitivity_grid(
            core.tam_scenario,
            ("share", shares),
            ("exit_multiple", multiples),
            output="value_per_share",
            **TAM,
        )
        assert out[0] == ["share \\ exit_multiple", *multiples]
        assert [r[0] for r in out[1:]] == shares
        assert [r[1:] for r in out[1:]] == g.values.tolist()
        assert out[2][2] == pytest.approx(51.0)  # the base case sits at share 5%, 30x

    def test_dcf_grid_without_headers_and_other_output(self) -> None:
        out = GPUVAL_SENSITIVITY(
            cell("DCF"),
            table(DCF),
            cell("growth_y2_5"),
            col(0.3, None, 0.5),
            cell("target_margin"),
            row(0.2, 0.3),
            cell("equity_value"),
            cell(False),
        )
        g = core.sensitivity_grid(
            core.young_growth_dcf,
            ("growth_y2_5", [0.3, 0.5]),
            ("target_margin", [0.2, 0.3]),
            output="equity_value",
            **DCF,
        )
        assert out == g.values.tolist()

    def test_single_result_models(self) -> None:
        out = GPUVAL_SENSITIVITY(
            cell("ps"),
            [["fx", 1.0]],
            cell("market_value"),
            col(60e9, 90e9),
            cell("revenue"),
            row(0.3e9, 0.6e9),
            None,
            cell(False),
        )
        assert out == [[200.0, 100.0], [300.0, 150.0]]
        scenario = {k: v for k, v in TAM.items() if k not in ("share", "price")}
        out = GPUVAL_SENSITIVITY(
            cell("implied_share"),
            table({"market_value": 78e9, **scenario}),
            cell("tam"),
            col(150e9, 200e9),
            cell("margin"),
            row(0.2, 0.25),
            None,
            cell(False),
        )
        assert out[1][0] == pytest.approx(0.028125)

    def test_errors(self) -> None:
        args = [cell("tam"), table(TAM), cell("share"), col(0.1), cell("exit_multiple"), row(30.0)]
        bad_model = [cell("capm"), *args[1:]]
        assert is_error(GPUVAL_SENSITIVITY(*bad_model), "model must be one of tam, dcf")
        same = [*args[:4], cell("share"), row(1.0)]
        assert is_error(GPUVAL_SENSITIVITY(*same), "must differ")
        unknown = [*args[:2], cell("shares"), *args[3:]]
        assert is_error(GPUVAL_SENSITIVITY(*unknown), "(did you mean share?)")
        basis = [*args[:2], cell("basis"), *args[3:]]
        assert is_error(GPUVAL_SENSITIVITY(*basis), "row_input must be a number input")
        huge = [*args[:3], col(*np.linspace(0, 1, 200)), args[4], row(*range(1, 101))]
        assert is_error(GPUVAL_SENSITIVITY(*huge), "20,000 cells; at most 10,000")
        no_price = {k: v for k, v in TAM.items() if k != "price"}
        assert GPUVAL_SENSITIVITY(args[0], table(no_price), *args[2:], cell("upside")) == (
            "#GPUVAL! the tam model needs price (for upside); add them to the inputs table."
        )
        short = {k: v for k, v in TAM.items() if k != "margin"}
        assert is_error(GPUVAL_SENSITIVITY(args[0], table(short), *args[2:]), "needs margin")
        assert is_error(
            GPUVAL_SENSITIVITY(
                cell("ps"),
                [["fx", 1.0]],
                cell("market_value"),
                col(1.0),
                cell("revenue"),
                row(1.0),
                cell("value"),
            ),
            "leave output blank",
        )


DISTS = [
    ["input", "distribution", "p1", "p2", "p3", "lower", "upper"],
    ["share", "triangular", 0.02, 0.05, 0.10, None, None],
    ["exit_multiple", "LogNormal", 30.0, 10.0, None, 10.0, None],
    ["prob_success", "uniform", 0.3, 0.7, None, None, None],
]


class TestMonteCarlo:
    def test_summary_equals_the_core(self) -> None:
        out = GPUVAL_MONTECARLO(
            cell("tam"), table(TAM), DISTS, cell(20_000), cell(7), None, cell(50.0)
        )
        dists: dict[str, core.Distribution] = {
            "share": core.Triangular(0.02, 0.05, 0.10),
            "exit_multiple": core.LogNormal(30.0, 10.0, lower=10.0),
            "prob_success": core.Uniform(0.3, 0.7),
        }
        fixed = {k: v for k, v in TAM.items() if k not in dists and k != "price"}
        r = core.simulate(
            core.tam_scenario,
            dists,
            n=20_000,
            seed=7,
            output="value_per_share",
            price=50.0,
            **fixed,
        )
        # the tam model's own price (upside) is held apart; the summary's price is the argument
        s = r.summary
        expected = [
            20_000.0,
            s.mean,
            s.std,
            *(s.percentiles[p] for p in core.PERCENTILES),
            s.prob_above,
        ]
        assert [v for _, v in out] == expected
        assert [k for k, _ in out] == [
            "draws",
            "mean",
            "std",
            "P5",
            "P10",
            "P25",
            "P50",
            "P75",
            "P90",
            "P95",
            "P(value > price)",
        ]

    def test_defaults_are_seeded_and_repeatable(self) -> None:
        a = GPUVAL_MONTECARLO(
            cell("tam"), table(TAM), DISTS, None, None, cell("value"), None, cell(False)
        )
        b = GPUVAL_MONTECARLO(
            cell("tam"), table(TAM), DISTS, None, None, cell("value"), None, cell(False)
        )
        assert a == b and len(a) == 10 and a[0] == [float(simulation.DEFAULT_DRAWS)]

    def test_upside_needs_a_price_in_the_inputs(self) -> None:
        no_price = {k: v for k, v in TAM.items() if k != "price"}
        out = GPUVAL_MONTECARLO(cell("tam"), table(no_price), DISTS, None, None, cell("upside"))
        assert is_error(out, "needs price (for upside)")
        out = GPUVAL_MONTECARLO(cell("tam"), table(TAM), DISTS, cell(1000), None, cell("upside"))
        assert out[1][0] == "mean" and -1.0 < out[1][1] < 1.0

    def test_heavy_dcf_outputs_have_a_lower_draw_limit(self) -> None:
        dist = [["growth_y2_5", "uniform", 0.3, 0.6]]
        out = GPUVAL_MONTECARLO(
            cell("dcf"), table(DCF), dist, cell(20_001), None, cell("terminal_value")
        )
        assert is_error(out, "terminal_value are limited to 20,000")
        out = GPUVAL_MONTECARLO(
            cell("dcf"), table(DCF), dist, cell(2_000), None, cell("terminal_value")
        )
        assert out[0] == ["draws", 2000.0]

    def test_dcf_model(self) -> None:
        out = GPUVAL_MONTECARLO(
            cell("dcf"), table(DCF), [["growth_y2_5", "normal", 0.5, 0.1]], cell(5000), cell(1)
        )
        fixed = {k: v for k, v in DCF.items() if k != "growth_y2_5"}
        r = core.simulate(
            core.dcf_value_per_share,
            {"growth_y2_5": core.Normal(0.5, 0.1)},
            n=5000,
            seed=1,
            **fixed,
        )
        assert out[1] == ["mean", r.summary.mean]

    @pytest.mark.parametrize(
        ("dists", "draws", "message"),
        [
            (DISTS, 200_001, "draws must be a whole number from 1 to 200,000"),
            (DISTS, 0, "draws must be a whole number"),
            ([["share", "beta", 1.0, 2.0]], 10, "unknown distribution 'beta'"),
            ([["share", "normal", 0.1]], 10, "normal takes 2 parameters (mean, sd)"),
            ([["share", "uniform", 0.1, 0.2, 0.3]], 10, "uniform takes 2 parameters"),
            ([["shares", "point", 0.1]], 10, "(did you mean share?)"),
            ([["share", "point", "x"]], 10, "must hold numbers, got text 'x'"),
            ([["share", "uniform", 0.2, 0.1]], 10, "Uniform low must not exceed high"),
            ([["share", "point", 0.1], ["share", "point", 0.2]], 10, "gives share twice"),
            ([[None, None, None]], 10, "distributions has no rows"),
            ([["share", "point"]], 10, "3 to 7 columns"),
            ([["share", "uniform", 0.5, 2.0]], 10, "share must be between 0 and 1"),
        ],
    )
    def test_errors(self, dists: Any, draws: int, message: str) -> None:
        out = GPUVAL_MONTECARLO(cell("tam"), table(TAM), dists, cell(draws))
        assert is_error(out, message), out


class TestData:
    ds = load_dataset()

    def test_every_record_by_id_and_by_entity_metric_selector(self) -> None:
        for rec in self.ds.records.values():
            expected: Any = rec.value
            if expected is None:  # a date: the period, as a date when it is a whole one
                expected = (
                    dt.date.fromisoformat(rec.period) if len(rec.period) == 10 else rec.period
                )
            assert GPUVAL_DATA(cell(rec.id)) == expected, rec.id
            assert GPUVAL_DATA(cell(rec.entity), cell(rec.metric), None, cell(rec.id)) == expected
            assert GPUVAL_DATA(cell(rec.id), None, cell("unit")) == rec.unit
            assert GPUVAL_SOURCE(cell(rec.id)).startswith(rec.quote)

    def test_unique_metric_needs_no_selector(self) -> None:
        assert GPUVAL_DATA(cell("cambricon"), cell("revenue")) == 2.88e9
        # only one record is of 2024 by its own sentence: the "3亿元" of article 002 names no year
        assert GPUVAL_DATA(cell("Biren Technology"), cell("REVENUE"), None, cell("2024")) == 337e6
        assert GPUVAL_DATA(cell("Biren Technology"), cell("REVENUE")) == (
            "#GPUVAL! biren revenue has 2 records that differ; give one as the selector: "
            "biren.revenue.2024 (2024, reported: 337,000,000 CNY); biren.revenue.s002 (reported: "
            "300,000,000 CNY)."
        )
        assert (
            GPUVAL_DATA(cell("壁仞科技"), cell("order_backlog"), None, cell("biren.order_backlog"))
            == 1.24e9
        )
        assert GPUVAL_DATA(cell("06082.HK"), cell("revenue"), None, cell("biren.revenue.s002")) == (
            300e6
        )

    def test_records_that_agree_are_one_answer(self) -> None:
        # two articles state Biren's offer price: both 19.6 HKD on 2026-01-02
        recs = [self.ds["biren.ipo_offer_price"], self.ds["biren.ipo_offer_price.s003"]]
        assert {(r.value, r.unit, r.period) for r in recs} == {(19.6, "HKD", "2026-01-02")}
        assert GPUVAL_DATA(cell("biren"), cell("ipo_offer_price")) == 19.6
        assert GPUVAL_DATA(cell("biren"), cell("ipo_offer_price"), cell("unit")) == "HKD"
        assert GPUVAL_DATA(cell("biren"), cell("ipo_offer_price"), cell("period")) == "2026-01-02"
        source = GPUVAL_SOURCE(cell("biren"), cell("ipo_offer_price"))
        assert source.count(" | ") == 1
        for rec in recs:
            assert f"{rec.quote} [{rec.source}; record {rec.id}, reported, 2026-01-02]" in source
        # a selector still picks one of them
        one = GPUVAL_SOURCE(cell("biren"), cell("ipo_offer_price"), cell(recs[1].id))
        assert one.startswith(recs[1].quote) and " | " not in one

    def test_selector_by_kind_or_period(self) -> None:
        assert GPUVAL_DATA(cell("metax"), cell("net_income"), None, cell("guidance_low")) == -763e6
        assert GPUVAL_DATA(cell("kunlunxin"), cell("revenue"), None, cell("2025")) == 3.5e9
        assert is_error(
            GPUVAL_DATA(cell("kunlunxin"), cell("revenue"), None, cell("2023")),
            "no kunlunxin revenue record matches selector '2023'",
        )

    def test_fields(self) -> None:
        rec = self.ds["biren.revenue.2024"]
        for field in data_udfs.FIELDS[1:]:
            assert GPUVAL_DATA(cell(rec.id), None, cell(field)) == getattr(rec, field)
        assert GPUVAL_DATA(cell(rec.id), None, cell("Period")) == "2024"
        assert is_error(GPUVAL_DATA(cell(rec.id), None, cell("colour")), "field must be one of")

    def test_date_records(self) -> None:
        assert GPUVAL_DATA(
            cell("biren"), cell("listing_date"), None, cell("biren.listing_date")
        ) == dt.date(2026, 1, 2)

    def test_unknown_names_are_explained(self) -> None:
        assert GPUVAL_DATA(cell("birne"), cell("revenue")).startswith(
            "#GPUVAL! unknown entity 'birne' (did you mean biren?); entities: biren, "
        )
        assert is_error(
            GPUVAL_DATA(cell("biren"), cell("revnue")),
            "biren has no metric 'revnue' (did you mean revenue?)",
        )
        assert is_error(GPUVAL_DATA(cell("biren.revenue.2025")), "neither an entity nor a record")
        assert is_error(GPUVAL_DATA(cell("biren")), "metric is required for entity 'biren'")
        assert is_error(GPUVAL_DATA(BLANK, cell("revenue")), "entity is required")
        assert is_error(GPUVAL_DATA(cell(5.0), cell("revenue")), "entity must be text, got 5")

    def test_source(self) -> None:
        rec = self.ds["biren.order_backlog"]
        assert GPUVAL_SOURCE(cell("biren"), cell("order_backlog"), cell(rec.id)) == (
            f"{rec.quote} [{rec.source}; record {rec.id}, reported]"
        )

    def test_fx_equals_the_dataset_rates(self) -> None:
        rates = FxRates.from_dataset(self.ds)
        for a in CURRENCIES:
            for b in CURRENCIES:
                assert GPUVAL_FX(cell(a), cell(b.lower())) == rates.rate(a, b)
        assert GPUVAL_FX(cell("USD"), cell("CNY")) == 7.0
        assert GPUVAL_FX(cell("USD"), cell("EUR")) == (
            "#GPUVAL! Unknown currency 'EUR'; use one of CNY, HKD, USD."
        )

    def test_version(self) -> None:
        from gpuval import __version__

        assert GPUVAL_VERSION() == f"gpuval {__version__}, dataset {self.ds.version}"

    def test_lookups_are_cached(self) -> None:
        data_udfs._find.cache_clear()
        for _ in range(3):
            GPUVAL_DATA(cell("cambricon"), cell("revenue"))
        info = data_udfs._find.cache_info()
        assert info.hits == 2 and info.misses == 1
        assert data_udfs._catalogue.cache_info().currsize == 1


class TestGuard:
    def test_unexpected_failures_are_a_sentence_not_a_traceback(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def boom(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("internal detail")

        monkeypatch.setattr("gpuval.excel.results.result", boom)
        out = GPUVAL_PS(cell(1.0), cell(1.0))
        assert out == "#GPUVAL! GPUVAL_PS failed unexpectedly (RuntimeError); please report it."

    def test_wrong_number_of_arguments_is_python_s_own_error(self) -> None:
        # Excel always passes every declared argument; a Python caller gets Python's TypeError
        with pytest.raises(TypeError, match="revenue"):
            GPUVAL_PS(cell(1.0))

    def test_results_are_finite_and_sized_exactly(self) -> None:
        out = GPUVAL_PS(col(*[1.0] * 7), row(*[1.0] * 5))
        assert np.shape(out) == (7, 5)
        assert all(math.isfinite(x) for r in out for x in r)
