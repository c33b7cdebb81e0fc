"""Evaluate ``=GPUVAL_*(...)`` cells with the Python UDFs, for ``gpuval publish`` (which freezes
them to values) and for tests comparing them with native formulas.

A UDF cell is a single top-level call whose arguments are numbers, "text", empty, TRUE/FALSE,
cell or range references (optionally sheet-qualified) or defined names; their values come from a
recalculated copy of the workbook.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError

__all__ = ["evaluate_udf", "freeze_udf_cells", "is_udf"]

_CALL = re.compile(r"^=\s*(GPUVAL_[A-Z0-9_]+)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_REF = re.compile(
    r"^(?:(?P<sheet>'[^']+'|[A-Za-z_][A-Za-z0-9_ ]*)!)?"
    r"\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$"
)


def is_udf(formula: Any) -> bool:
    return isinstance(formula, str) and bool(_CALL.match(formula))


def _split(args: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, ""
    for ch in args:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if args.strip():
        parts.append(current.strip())
    return parts


def _value(token: str, values: Workbook, here: str) -> Any:
    if token == "":
        return None
    if token.startswith('"') and token.endswith('"'):
        return token[1:-1].replace('""', '"')
    if token.upper() in ("TRUE", "FALSE"):
        return token.upper() == "TRUE"
    try:
        return float(token)
    except ValueError:
        pass
    if token in values.defined_names:
        title, coord = next(iter(values.defined_names[token].destinations))
        token = f"'{title}'!{coord}"
    m = _REF.match(token)
    if not m:
        raise GpuvalError(f"Cannot evaluate the UDF argument {token!r} in {here}.")
    sheet = (m["sheet"] or here.split("!")[0]).strip("'")
    ws = values[sheet]
    if m["c2"] is None:
        return ws[f"{m['c1']}{m['r1']}"].value
    cells = ws[f"{m['c1']}{m['r1']}:{m['c2']}{m['r2']}"]
    return [[c.value for c in row] for row in cells]


def evaluate_udf(formula: str, values: Workbook, here: str) -> Any:
    """The value of a ``=GPUVAL_*(...)`` formula at ``here`` ("Sheet!A1")."""
    from gpuval.excel import udfs

    m = _CALL.match(formula)
    if not m:
        raise GpuvalError(f"{here} is not a single GPUVAL_ call: {formula}")
    function = getattr(udfs, m[1].upper(), None)
    if function is None:
        raise GpuvalError(f"{here} calls {m[1]}, which gpuval.excel.udfs does not define.")
    return function(*[_value(t, values, here) for t in _split(m[2])])


def freeze_udf_cells(wb: Workbook, values: Workbook) -> int:
    """Replace every UDF formula in ``wb`` with its value; returns how many were frozen."""
    frozen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str) and is_udf(cell.value):
                    here = f"{ws.title}!{cell.coordinate}"
                    result = evaluate_udf(cell.value, values, here)
                    if isinstance(result, list | tuple) or hasattr(result, "shape"):
                        raise GpuvalError(f"{here} returns an array; publish freezes only "
                                          "single-value UDF cells.")  # fmt: skip
                    cell.value = result
                    frozen += 1
    return frozen
