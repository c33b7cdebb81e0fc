"""Hypothesis feeds hostile arguments to every GPUVAL_ UDF.

Whatever arrives (text, TRUE/FALSE, dates, NaN, infinities, huge numbers, Excel error values,
blanks, empty, ragged, nested or over-sized ranges, mappings, too few or too many arguments), a
UDF returns promptly with either a proper result (finite numbers, text, a date, rows of those)
or one line of ``#GPUVAL! ...`` text: never a traceback, never an "unexpected" failure.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuval.excel import udfs
from gpuval.excel.args import EXCEL_ERRORS, MAX_CELLS
from gpuval.excel.params import DCF as DCF_PARAMS
from gpuval.excel.results import MAX_MESSAGE

SETTINGS = settings(
    max_examples=80,
    deadline=timedelta(seconds=5),  # "no hang": each call must come back within seconds
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

WORDS = [
    *sorted(EXCEL_ERRORS), "", " ", "#GPUVAL! share must be between 0 and 1, got 1.5.",
    "TRUE", "false", "pe", "ps", "tam", "dcf", "ps_backlog", "biren", "revenue", "USD", "cny",
    "share", "exit_multiple", "value", "uniform", "triangular", "normal", "point", "=1+1",
    "1.5", "nan", "inf", "壁仞科技", "x" * 300,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e3, 1e3),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.0, 12.0, 2029.0, 1e308, -1e308, 5e-324]),
    st.integers(-(10**20), 10**20),
    st.just(10**400),
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
)

ranges = st.lists(st.lists(scalars, min_size=1, max_size=4), min_size=1, max_size=5)
odd_shapes = st.sampled_from(
    [
        [],
        [[]],
        [[[1.0]]],
        [[1.0], 2.0],
        {"a": 1.0},
        [0.0] * (MAX_CELLS + 1),
        np.zeros((2, 2, 2)),
        np.array([[1.0, np.nan]]),
        np.array([["a", "b"]]),
        object(),
    ]
)
values = st.one_of(scalars, scalars.map(lambda x: [[x]]), ranges, odd_shapes)


def check(out: Any) -> None:
    """A proper result or one clear ``#GPUVAL!`` line."""
    if isinstance(out, str):
        if out.startswith("#GPUVAL!"):
            assert out.startswith("#GPUVAL! ") and len(out) <= MAX_MESSAGE, out
            assert "\n" not in out and "Traceback" not in out, out
            assert "failed unexpectedly" not in out, out
        return
    if isinstance(out, float):
        assert math.isfinite(out), out
    elif isinstance(out, dt.date):
        pass
    elif isinstance(out, list):
        assert out and all(isinstance(r, list) and len(r) == len(out[0]) for r in out), out
        for r in out:
            for v in r:
                assert isinstance(v, str) or (isinstance(v, float) and math.isfinite(v)), out
    else:
        raise AssertionError(f"unexpected result type {type(out).__name__}: {out!r}")


def n_params(name: str) -> int:
    return len(inspect.signature(getattr(udfs, name)).parameters)


# Valid arguments for each UDF, Excel-shaped; one at a time is replaced by a hostile value.
TAM = [[[x]] for x in (0.05, 200e9, 0.2, 30.0, 0.25, 2.0, 2.6e9, 0.5, 2e9, 0.2, 7.8, 50.0)]
TAM_TABLE = [
    ["share", 0.05], ["tam", 200e9], ["margin", 0.2], ["exit_multiple", 30.0],
    ["cost_of_equity", 0.25], ["years", 2.0], ["shares_outstanding", 2.6e9],
    ["prob_success", 0.5], ["distress_value", 2e9], ["dilution", 0.2], ["fx", 7.8],
]  # fmt: skip
DCF = [
    337e6, 0.8, 0.5, 0.03, -1.0, 0.25, 1.5, 0.25, 0.12, 0.08, 2.4e9, 8.0, 2e9, 0.12, 0.2, 1e9,
    5e9, 1e9, 1.11, 0.25, 0.0, 5e8, 1e8, 5e7, 1.0, 0.3, 4.0,
]  # fmt: skip
DCF_TABLE = [[k, v] for k, v in zip((p.name for p in DCF_PARAMS), DCF, strict=True)]
PEERS = [["Cambricon", 100.0], ["MetaX", 150.0], ["Moore Threads", 200.0], ["Biren", 80.0]]


def c(x: Any) -> list[list[Any]]:
    return [[x]]


VALID: dict[str, list[Any]] = {
    "GPUVAL_PS": [c(300e9), c(1.5e9), c(1.0)],
    "GPUVAL_PS_RUNRATE": [c(300e9), c(0.7e9), c(1.0)],
    "GPUVAL_PS_BACKLOG": [c(79.2e9), c(1.2e9), c(12.0), c(1.0)],
    "GPUVAL_PEER_STATS": [PEERS, c("Biren"), c(True)],
    "GPUVAL_PEER_VALUE": [c(0.5e9), PEERS, c(0.5), c("Biren"), c(1.1)],
    "GPUVAL_VENUE_GAP": [PEERS[:3], [["Biren", 80.0], ["Iluvatar", 40.0]], None],
    "GPUVAL_TAM_VALUE": [*TAM, c("pe"), c(0.0)],
    "GPUVAL_TAM_PER_SHARE": [*TAM, c("pe"), c(0.0)],
    "GPUVAL_TAM_SCENARIO": [*TAM, c("pe"), c(True), c(0.0)],
    "GPUVAL_TAM_AT": [c(2027.0), c(30.1e9), c(201.2e9), c(2024.0), c(2029.0)],
    "GPUVAL_NVIDIA_SHARE_VALUE": [c(0.01), c(5e12), c(7.0)],
    "GPUVAL_NVIDIA_SHARE_PER_SHARE": [c(0.01), c(5e12), c(2.5e9), c(7.8)],
    "GPUVAL_NVIDIA_FRACTION": [c(350e9), c(5e12), c(7.0)],
    "GPUVAL_DCF": [*(c(x) for x in DCF), c("value_per_share")],
    "GPUVAL_DCF_TABLE": [DCF_TABLE, c("equity_value")],
    "GPUVAL_DCF_SCHEDULE": [DCF_TABLE],
    "GPUVAL_IMPLIED_SHARE": [c(78e9), *TAM[1:11], c("pe"), c(0.0)],
    "GPUVAL_IMPLIED_GROWTH": [c(30e9), DCF_TABLE, c(False), c(-0.5), c(2.0)],
    "GPUVAL_SENSITIVITY": [c("tam"), TAM_TABLE, c("share"), [[0.03], [0.05]],
                           c("exit_multiple"), [[20.0, 30.0]], c("value"), c(True)],
    "GPUVAL_MONTECARLO": [c("tam"), TAM_TABLE, [["share", "uniform", 0.03, 0.07]], c(500.0),
                          c(1.0), c("value_per_share"), c(50.0), c(True)],
    "GPUVAL_DATA": [c("biren"), c("revenue"), c("value"), c("biren.revenue.2024")],
    "GPUVAL_SOURCE": [c("biren"), c("revenue"), c("biren.revenue.2024")],
    "GPUVAL_FX": [c("USD"), c("CNY")],
    "GPUVAL_VERSION": [],
}  # fmt: skip


def test_valid_baselines_cover_every_udf_and_succeed() -> None:
    assert sorted(VALID) == sorted(udfs.__all__)
    for name, args in VALID.items():
        assert len(args) == n_params(name), name
        out = getattr(udfs, name)(*args)
        check(out)
        assert not (isinstance(out, str) and out.startswith("#GPUVAL!")), (name, out)


@pytest.mark.parametrize("name", udfs.__all__)
@SETTINGS
@given(data=st.data())
def test_one_hostile_argument_among_valid_ones(name: str, data: st.DataObject) -> None:
    args = list(VALID[name])
    if not args:
        check(getattr(udfs, name)())
        return
    i = data.draw(st.integers(0, len(args) - 1), label="position")
    args[i] = data.draw(values, label=list(inspect.signature(getattr(udfs, name)).parameters)[i])
    check(getattr(udfs, name)(*args))


@pytest.mark.parametrize("name", udfs.__all__)
@SETTINGS
@given(data=st.data())
def test_all_arguments_hostile(name: str, data: st.DataObject) -> None:
    # any number of arguments Excel can pass: the required ones, then optional ones or not
    params = inspect.signature(getattr(udfs, name)).parameters.values()
    required = sum(p.default is inspect.Parameter.empty for p in params)
    args = data.draw(st.lists(values, min_size=required, max_size=n_params(name)), label="args")
    check(getattr(udfs, name)(*args))


@SETTINGS
@given(dists=st.lists(st.lists(scalars, min_size=1, max_size=8), min_size=1, max_size=4))
def test_hostile_distribution_tables(dists: list[list[Any]]) -> None:
    args = list(VALID["GPUVAL_MONTECARLO"])
    args[2] = dists
    check(udfs.GPUVAL_MONTECARLO(*args))


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([*(p.name for p in DCF_PARAMS), "x", None]), scalars),
        min_size=1,
        max_size=22,
    )
)
def test_hostile_assumption_tables(rows: list[tuple[Any, Any]]) -> None:
    table = [list(r) for r in rows]
    for name in ("GPUVAL_DCF_TABLE", "GPUVAL_DCF_SCHEDULE"):
        check(getattr(udfs, name)(table))
    check(udfs.GPUVAL_IMPLIED_GROWTH(c(30e9), table))


@SETTINGS
@given(
    share=st.floats(0.0, 1.0),
    multiple=st.floats(0.0, 1e6),
    coe=st.floats(-0.999, 1e3),
    years=st.floats(0.0, 1e3),
)
def test_extreme_but_valid_numbers(share: float, multiple: float, coe: float, years: float) -> None:
    args = list(VALID["GPUVAL_TAM_PER_SHARE"])
    args[0], args[3], args[4], args[5] = c(share), c(multiple), c(coe), c(years)
    check(udfs.GPUVAL_TAM_PER_SHARE(*args))
    check(udfs.GPUVAL_IMPLIED_SHARE(c(78e9), *args[1:11]))
