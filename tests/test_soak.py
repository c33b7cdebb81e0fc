"""A bounded soak: 25 rounds of random analyst edits and refreshes lose nothing, and the result
has no error value, lost formula or stale data (the long run, 1,000 refreshes, is
benchmarks/bench_soak.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.soak import SoakResult, soak
from gpuval.workbook.build import build


@pytest.fixture(scope="module")
def soaked(tmp_path_factory: pytest.TempPathFactory) -> tuple[SoakResult, Path]:
    """25 refreshes with random edits in between; the result and the soaked workbook."""
    folder = tmp_path_factory.mktemp("soak")
    base = build(folder / "base.xlsx")
    prices = folder / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,33.3,HKD\n")
    result = soak(base, folder, refreshes=25, seed=7, prices=prices)
    return result, folder / "soak.xlsx"


@pytest.mark.soak
def test_refreshes_keep_every_random_edit(soaked: tuple[SoakResult, Path]) -> None:
    result, _ = soaked
    assert result.edits >= 25
    assert result.lost == []


@pytest.mark.libreoffice
def test_the_soaked_workbook_has_no_error_lost_formula_or_stale_data(
    soaked: tuple[SoakResult, Path],
) -> None:
    _, path = soaked
    # Only Biren's price is new, but random inputs may give "x% of NVIDIA" a weight or count
    # any fiscal year: the oldest figure used may then be NVIDIA's price of 2025-10-29, 388 days
    # before 2026-11-21 (320 days from 2026-01-05, + 2 + 30 + 31 + 5).
    report = check_workbook(path, today=dt.date(2026, 11, 21), max_age_days=388)
    failed = {r.name: r for r in report.results if not r.passed}
    # Random inputs may fail the model's own checks (probabilities that no longer sum to 1,
    # terminal growth above the cost of capital), and then the core refuses to value them;
    # nothing else may fail: no error value, no lost formula, no stale data.
    assert set(failed) <= {"master", "outputs"}, [r.details for r in failed.values()]
    if "outputs" in failed:
        assert all("the inputs are not valid" in d for d in failed["outputs"].details)
