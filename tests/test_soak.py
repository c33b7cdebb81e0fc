"""A bounded soak: 25 rounds of random analyst edits and refreshes lose nothing, and the result
still passes every check (the long run, 1,000 refreshes, is benchmarks/bench_soak.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.soak import soak
from gpuval.workbook.build import build


@pytest.mark.libreoffice
def test_soak(tmp_path: Path) -> None:
    base = build(tmp_path / "base.xlsx")
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,33.3,HKD\n")
    result = soak(base, tmp_path, refreshes=25, seed=7, prices=prices)
    assert result.edits >= 25
    assert result.lost == []
    report = check_workbook(tmp_path / "soak.xlsx", today=dt.date(2026, 11, 21))
    failed = {r.name: r for r in report.results if not r.passed}
    # Random inputs may fail the model's own checks (probabilities that no longer sum to 1,
    # terminal growth above the cost of capital), and then the core refuses to value them;
    # nothing else may fail: no error value, no lost formula, no stale data.
    assert set(failed) <= {"master", "outputs"}, [r.details for r in failed.values()]
    if "outputs" in failed:
        assert all("the inputs are not valid" in d for d in failed["outputs"].details)
