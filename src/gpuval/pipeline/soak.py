"""Random analyst edits followed by refreshes, and a check that nothing was lost: the engine of
the bounded soak test (tests/test_soak.py) and of its long run (benchmarks/bench_soak.py)."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment

from gpuval.pipeline.refresh import refresh
from gpuval.workbook.sheets.assumptions import SPECS
from gpuval.workbook.sheets.inputs import ALL

__all__ = ["SoakResult", "soak"]

_STRUCTURAL = {"tam_start_year", "tam_end_year", "days_per_year"}  # not what analysts vary
_NUMERIC = [
    s for s in ALL
    if s.kind in ("decimal", "whole") and not s.scenario and s.name not in _STRUCTURAL
]  # fmt: skip
_COMPANY = [s for s in SPECS if s.kind in ("decimal", "whole")]  # a company's assumptions


@dataclass
class SoakResult:
    refreshes: int
    edits: int
    lost: list[str]


def _named(wb: Any, name: str) -> Any:
    title, coord = next(iter(wb.defined_names[name].destinations))
    return wb[title][coord.replace("$", "")]


def _random_edit(wb: Any, rng: random.Random, n: int) -> dict[tuple[str, str, str], Any]:
    """One analyst edit: an input, a comment, a note in the comments column or a new sheet."""
    kind = rng.choice(["input", "scenario", "comment", "note", "sheet"])
    if kind in ("input", "scenario"):
        spec = rng.choice(_NUMERIC if kind == "input" else _COMPANY)
        name = rng.choice(spec.names())
        lo, hi = float(spec.lo), float(spec.hi)  # type: ignore[arg-type]
        value = rng.randint(int(lo), int(hi)) if spec.kind == "whole" else rng.uniform(lo, hi)
        cell = _named(wb, name)
        if isinstance(cell, tuple):  # a company's assumption: one of the row's cells
            cell = rng.choice(cell[0])
        cell.value = value
        return {("value", cell.parent.title, cell.coordinate): cell.value}
    if kind == "comment":
        cell = wb["Inputs"].cell(rng.randint(5, 60), rng.randint(1, 5))
        text = f"analyst comment {n}"
        cell.comment = Comment(text, "analyst")
        return {("comment", "Inputs", cell.coordinate): text}
    if kind == "note":
        cell = wb["Inputs"].cell(rng.randint(5, 60), 7)
        cell.value = f"view {n}: {rng.random():.6f}"
        return {("value", "Inputs", cell.coordinate): cell.value}
    title = f"Analyst {n}"
    ws = wb.create_sheet(title)
    ws["A1"], ws["B2"] = f"my model {n}", rng.random()
    return {("value", title, "A1"): ws["A1"].value, ("value", title, "B2"): ws["B2"].value}


def _note_on_owned_cells(wb: Any, rng: random.Random, n: int) -> dict[tuple[str, str, str], Any]:
    """A note on a sourced peer cell (kept, with gpuval's citation after it) or beside a record
    on Data (stays beside the same record)."""
    if rng.random() < 0.5:
        ids = _named(wb, "data_peers_id")
        first = ids[0][0]
        row = first.row + rng.randrange(len(ids))
        cell = wb["Peers"].cell(row, rng.randint(first.column + 5, first.column + 11))
        text = f"analyst note {n}"
        cell.comment = Comment(text, "analyst")
        return {("comment-start", "Peers", cell.coordinate): text}
    ws = wb["Data"]
    row = rng.randint(5, ws.max_row)
    cell = ws.cell(row, 11)
    cell.value = f"about {ws.cell(row, 1).value}: {n}"
    return {("value", "Data", cell.coordinate): cell.value}


def soak(
    base: Path,
    work: Path,
    *,
    refreshes: int,
    seed: int = 0,
    prices: Path | None = None,
    progress: Callable[[int], None] = lambda _i: None,
) -> SoakResult:
    """``refreshes`` rounds of 1-3 random edits (and, every other round on average, a note on a
    cell refresh owns) then a refresh; returns every edit not kept."""
    rng = random.Random(seed)
    owned = random.Random(seed + 1)
    path = work / "soak.xlsx"
    shutil.copy(base, path)
    expected: dict[tuple[str, str, str], Any] = {}
    edits = 0
    for i in range(refreshes):
        wb = load_workbook(path)
        for _ in range(rng.randint(1, 3)):
            expected |= _random_edit(wb, rng, edits)
            edits += 1
        if owned.random() < 0.5:  # its own stream: the edits above stay as they always were
            expected |= _note_on_owned_cells(wb, owned, edits)
            edits += 1
        wb.save(path)
        stored = load_workbook(path)  # what the file holds before refresh (openpyxl rounding)
        expected = {key: _read(stored, key) for key in expected}
        # what is kept does not depend on the computed values: LibreOffice is not run
        report = refresh(path, prices=prices, recalc=False)
        if report.backup is not None:
            report.backup.unlink()
        progress(i + 1)
    final = load_workbook(path)
    lost = [
        f"{key[0]} {key[1]}!{key[2]}: expected {value!r}, found {_read(final, key)!r}"
        for key, value in expected.items()
        if not _kept(_read(final, key), key, value)
    ]
    return SoakResult(refreshes, edits, lost)


def _kept(found: Any, key: tuple[str, str, str], value: Any) -> bool:
    if key[0] == "comment-start":
        return isinstance(found, str) and found.startswith(value)
    return bool(found == value)


def _read(wb: Any, key: tuple[str, str, str]) -> Any:
    kind, title, coord = key
    if title not in wb.sheetnames:
        return None
    cell = wb[title][coord]
    if kind in ("comment", "comment-start"):
        return cell.comment.text if cell.comment is not None else None
    return cell.value
