"""Figures read independently from the articles (tests/data/heldout_figures.csv) must all be in
``gpuval data --format json`` with the same entity, unit and value.

The CSV was written by reading the seed articles directly, without looking at the dataset; it is
the check that the dataset missed nothing an analyst would look for.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from pathlib import Path

import pytest

from gpuval.cli import main

HELDOUT = list(
    csv.DictReader((Path(__file__).parent / "data" / "heldout_figures.csv").open(encoding="utf-8"))
)


@pytest.fixture(scope="module")
def exported() -> list[dict]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["data", "--format", "json"]) == 0
    return json.loads(buffer.getvalue())


@pytest.mark.parametrize("row", HELDOUT, ids=[f"{r['entity']}:{r['note'][:40]}" for r in HELDOUT])
def test_heldout_figure_present(row: dict[str, str], exported: list[dict]) -> None:
    value = float(row["value"])
    matches = [
        r
        for r in exported
        if r["entity"] == row["entity"]
        and r["unit"] == row["unit"]
        and r["value"] is not None
        and math.isclose(r["value"], value, rel_tol=1e-9)
    ]
    assert matches, f"{row['entity']} {value} {row['unit']} ({row['note']}) not in the dataset"
    # The figure must come from the article the reader found it in.
    assert any(row["seed"] in r["source"] for r in matches), [r["source"] for r in matches]


def test_heldout_list_is_substantial() -> None:
    assert len(HELDOUT) >= 60
