"""A second engine: the pure-Python ``formulas`` package (Excel semantics, no LibreOffice) computes
every ``out_`` of the built workbook, for every company in the Target drop-down, and agrees with
``gpuval evaluate`` (the Python core) to 1e-9 relative.

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
from workbook_helpers import target_list

formulas = pytest.importorskip("formulas")

REL = 1e-9


TARGETS = target_list(build_workbook().wb)


def test_the_target_list_is_what_the_drop_down_offers() -> None:
    assert "biren" in TARGETS and "nvidia" in TARGETS and len(TARGETS) == len(set(TARGETS))


def engine_values(path: Path) -> dict[str, Any]:
    """Every ``out_`` name's value as the ``formulas`` package computes it (one cell each)."""
    model = formulas.ExcelModel().loads(str(path)).finish()
    solution = model.calculate()
    wb = load_workbook(path)
    out: dict[str, Any] = {}
    for name, defined in wb.defined_names.items():
        if not name.startswith("out_"):
            continue
        (title, coord), *more = list(defined.destinations)
        assert not more and ":" not in coord, f"{name} is not a single cell"
        key = f"'[{path.name}]{title.upper()}'!{coord.replace('$', '')}"
        assert key in solution, f"formulas computed no value for {name} ({title}!{coord})"
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
def test_formulas_package_agrees_with_the_core(target: str, tmp_path: Path) -> None:
    path = build(tmp_path / f"{target}.xlsx", target=target)
    core = evaluate(path)
    sheet = engine_values(path)
    assert sorted(sheet) == sorted(core)
    wrong = {name: (sheet[name], core[name]) for name in core if not agree(core[name], sheet[name])}
    assert wrong == {}, f"{target}: (formulas package, core) differ for {wrong}"
    assert any(v is not None for v in core.values()), f"{target}: the core valued nothing"
