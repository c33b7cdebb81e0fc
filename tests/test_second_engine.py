"""A second engine: the pure-Python ``formulas`` package (Excel semantics, no LibreOffice) computes
every ``out_`` of the built workbook for every company in the Target drop-down, picked in the
workbook as an analyst picks it (the drop-down cell set, everything recomputed), and agrees with
``gpuval evaluate`` (the Python core) of the workbook with that target to 1e-9 relative. The
workbook is parsed once (15 s) and recomputed per target (4 s); a build per target is
LibreOffice's to check (``tests/workbook/test_targets.py``).

Where the core has no value (``None``), the sheet must show the text ``"n/a"``; any error value,
blank or other text is a failure naming the output and its cell. The Target list is read from the
drop-down's data validation in the built workbook, not from gpuval's code.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gpuval.workbook.build import build, build_workbook
from gpuval.workbook.evaluate import evaluate
from workbook_helpers import named_cell, target_list

formulas = pytest.importorskip("formulas")

REL = 1e-9


TARGETS = target_list(build_workbook().wb)


def test_the_target_list_is_what_the_drop_down_offers() -> None:
    assert "biren" in TARGETS and "nvidia" in TARGETS and len(TARGETS) == len(set(TARGETS))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A built workbook and the ``formulas`` model of it."""
    path = build(tmp_path_factory.mktemp("engine") / "book.xlsx")
    return path, formulas.ExcelModel().loads(str(path)).finish()


def _key(path: Path, wb: Any, name: str) -> str:
    """The ``formulas`` key of a one-cell defined name."""
    (title, coord), *more = list(wb.defined_names[name].destinations)
    assert not more and ":" not in coord, f"{name} is not a single cell"
    return f"'[{path.name}]{title.upper()}'!{coord.replace('$', '')}"


def engine_values(path: Path, model: Any, target: str) -> dict[str, Any]:
    """Every ``out_`` name's value as the ``formulas`` package computes it, with ``target``
    picked in the drop-down (one cell each)."""
    wb = load_workbook(path)
    solution = model.calculate(inputs={_key(path, wb, "in_target"): target})
    out: dict[str, Any] = {}
    for name in wb.defined_names:
        if not name.startswith("out_"):
            continue
        key = _key(path, wb, name)
        assert key in solution, f"formulas computed no value for {name} ({key})"
        value = solution[key].value
        out[name] = value[0][0] if hasattr(value, "shape") or isinstance(value, list) else value
    return out


def agree(core: Any, sheet: Any) -> bool:
    if core is None:
        return sheet == "n/a"
    if isinstance(sheet, bool) or not isinstance(sheet, int | float) or not math.isfinite(sheet):
        return False  # an error value (XlError), a blank or text where the core has a number
    return abs(sheet - core) <= REL * max(abs(sheet), abs(core))


@pytest.mark.parametrize("target", TARGETS)
def test_formulas_package_agrees_with_the_core(
    target: str, engine: tuple[Path, Any], tmp_path: Path
) -> None:
    path, model = engine
    sheet = engine_values(path, model, target)
    switched = tmp_path / f"{target}.xlsx"  # the same pick, for the core
    wb = load_workbook(path)
    named_cell(wb, "in_target").value = target
    wb.save(switched)
    core = evaluate(switched)
    assert sorted(sheet) == sorted(core)
    wrong = {name: (sheet[name], core[name]) for name in core if not agree(core[name], sheet[name])}
    assert wrong == {}, f"{target}: (formulas package, core) differ for {wrong}"
    assert any(v is not None for v in core.values()), f"{target}: the core valued nothing"
