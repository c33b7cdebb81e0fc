"""Excel argument coercion and error mapping for the ``GPUVAL_`` functions (private helpers).

The one place where what Excel hands a UDF becomes what the core accepts, and where every failure
becomes the one-sentence text a cell shows. The UDFs themselves only name their arguments, call
these helpers and call the core.

What arrives (xlwings with ``ndim=2, err_to_str=True`` on every argument, as
:mod:`gpuval.excel.declare` registers them):

* a cell or constant: ``[[x]]``; ``x`` is a ``float`` (an ``int`` through Office.js), a ``str``,
  a ``bool``, a ``datetime`` (classic xlwings, date-formatted cells) or ``None`` (blank);
* an Excel error value: its text, e.g. ``"#N/A"`` (``err_to_str``; without it xlwings would pass
  ``None`` and an error would silently read as a blank);
* a range: a list of rows, each a list of cells as above;
* an omitted optional argument: the Python default (``None``).

Python callers may also pass plain scalars, 1-D sequences (read as one row, numpy's convention),
numpy arrays and, for name | value tables, dicts. Nothing else: pandas objects, masked arrays
and the like are refused with a sentence (``.to_numpy()`` first).

Conventions:

* **Blank = missing.** ``None``, an empty or all-blank string: the argument's documented default,
  or "... is required" when it has none. ``NaN`` is refused (Excel never sends it).
* **Errors** are raised as :class:`UdfError` (a :class:`~gpuval.errors.GpuvalError`), and
  :func:`guard` turns any of them into the cell text ``"#GPUVAL! <one sentence>"`` (classic
  xlwings, Python), or into an Excel error value carrying the sentence (xlwings Lite and Server).
* **Sizes.** A range argument holds at most :data:`MAX_CELLS` cells, and so does an array result.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np

from gpuval.errors import GpuvalError
from gpuval.excel.text import number_text, show

__all__ = [
    "EXCEL_ERRORS",
    "MAX_CELLS",
    "REQUIRED",
    "UdfError",
    "broadcast",
    "canonical",
    "cells",
    "choice",
    "flag",
    "grid",
    "number",
    "numbers",
    "one_cells",
    "pairs",
    "single",
    "text",
    "whole",
]

MAX_CELLS = 100_000
"""Most cells a range argument or an array result may hold."""

EXCEL_ERRORS = frozenset(
    {
        "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
        "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
        "#PYTHON!",
    }
)  # fmt: skip
"""Excel's error values, as xlwings passes them with ``err_to_str=True``."""


class UdfError(GpuvalError, ValueError):
    """A bad UDF argument; ``str(err)`` is the sentence shown after :data:`PREFIX`."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default marker: the argument has no default, so a blank is an error."""

_NOT_ONE_CELL: Any = object()
"""What :func:`number` unpacks from a list that is not ``[[x]]``."""


def _where(r: int, c: int, shape: tuple[int, int]) -> str:
    if shape == (1, 1):
        return ""
    if shape[0] == 1:
        return f" (cell {c + 1} of the row)"
    if shape[1] == 1:
        return f" (cell {r + 1} of the column)"
    return f" (row {r + 1}, column {c + 1} of the range)"


def _is_blank_text(value: str) -> bool:
    return not value or value.isspace()


def _text_problem(name: str, value: str, want: str) -> UdfError:
    v = value.strip()
    if v.upper() in EXCEL_ERRORS:
        return UdfError(f"{name} is the Excel error {v.upper()}; fix the cell it comes from.")
    if v.startswith("#GPUVAL!"):
        return UdfError(f"{name} comes from a cell showing a #GPUVAL! error; fix that cell first.")
    return UdfError(f"{name} must be {want}, got {show(value)}.")


# --- single values ------------------------------------------------------------------------------


def _unwrap(value: Any) -> Any:
    """``[[x]]`` (xlwings' one-cell range) or a one-element sequence -> ``x``."""
    while isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(()).item()
    return value


def _is_range(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _scalar_number(name: str, value: Any, default: Any) -> Any:
    """A single cell as a float, ``default`` when blank; ranges are not handled here."""
    t = type(value)
    if t is float:
        if value - value == 0.0:
            return value
        if value != value:
            raise UdfError(f"{name} must be a number, got NaN.")
        raise UdfError(f"{name} must be a finite number, got {number_text(value)}.")
    if value is None or (t is str and _is_blank_text(value)):
        if default is REQUIRED:
            raise UdfError(f"{name} is required, but the cell is blank.")
        return default
    if isinstance(value, bool | np.bool_):
        raise UdfError(f"{name} must be a number, got {show(value)}.")
    if isinstance(value, int | np.integer):
        try:
            return _scalar_number(name, float(value), default)
        except OverflowError:
            raise UdfError(f"{name} must be a finite number, got {show(value)}.") from None
    if isinstance(value, np.floating):
        return _scalar_number(name, float(value), default)
    if isinstance(value, str):
        raise _text_problem(name, value, "a number")
    raise UdfError(f"{name} must be a number, got {show(value)}.")


def number(name: str, value: Any, default: Any = REQUIRED) -> Any:
    """A number argument: a ``float`` for one cell, a 2-D float array for a range.

    Blank -> ``default`` (or an error when ``REQUIRED``); text, TRUE/FALSE, dates, Excel errors
    and non-finite numbers are refused. Ranges may not contain blanks (see :func:`grid`).
    """
    t = type(value)
    if t is list and len(value) == 1:  # the hot path: [[x]], one cell from xlwings
        try:
            [[x]] = value
        except (TypeError, ValueError):  # a row of several cells, or not a row
            x = _NOT_ONE_CELL
        if type(x) is float and x - x == 0.0:
            return x
        if x is not _NOT_ONE_CELL and type(value[0]) is list:
            return _scalar_number(name, x, default)
    elif t is float:  # a plain finite float
        if value - value == 0.0:
            return value
    elif value is None and default is not REQUIRED:
        return default
    if _is_range(value):
        arr = grid(name, value)
        if arr.size == 1:
            return float(arr[0, 0])
        return arr
    return _scalar_number(name, value, default)


def one_cells(
    names: tuple[str, ...],
    values: tuple[Any, ...],
    required: Collection[str],
    fill: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Number arguments as ``{name: x}`` when each one given is a finite float ``x`` or a cell
    ``[[x]]`` holding one (what xlwings passes for one cell), else None: then :func:`number`
    takes them one by one. Omitted optional ones (``None``) are left out, but those in ``fill``,
    which take its value; an omitted ``required`` one gives None.
    """
    out = {}
    try:
        for name, value in zip(names, values, strict=False):  # as many: the generated call
            if type(value) is list:
                [[value]] = value  # TypeError or ValueError unless one cell
            elif value is None:
                if name in required:
                    return None
                continue
            if type(value) is not float or value - value != 0.0:  # not a finite float
                return None
            out[name] = value
    except (TypeError, ValueError):  # a range
        return None
    return {**fill, **out} if fill else out


def single(name: str, value: Any, default: Any = REQUIRED) -> Any:
    """A number that must be one cell (not a range)."""
    v = number(name, value, default)
    if isinstance(v, np.ndarray):
        raise UdfError(f"{name} must be a single cell, got a {_dims(v.shape)} range.")
    return v


def whole(name: str, value: Any, default: Any, lo: int, hi: int) -> Any:
    """A whole number from ``lo`` to ``hi`` in one cell; blank -> ``default``."""
    if type(value) is list and len(value) == 1 and type(value[0]) is list and len(value[0]) == 1:
        x = value[0][0]  # [[x]]: an int through Office.js, a float through classic xlwings
        if (type(x) is int or type(x) is float) and lo <= x <= hi and x == int(x):
            return int(x)
    v = single(name, value, default)
    if v is default and default is not REQUIRED:
        return v
    if v != math.floor(v) or not lo <= v <= hi:
        got = f"{int(v):,}" if v == math.floor(v) and abs(v) < 1e15 else number_text(v)
        raise UdfError(f"{name} must be a whole number from {lo:,} to {hi:,}, got {got}.")
    return int(v)


MAX_TEXT = 255
"""Longest text a name-like argument (entity, model, input name...) may be."""


def text(name: str, value: Any, default: Any = REQUIRED) -> Any:
    """A text argument in one cell, stripped, at most :data:`MAX_TEXT` characters."""
    value = _unwrap(value)
    if isinstance(value, str):
        if _is_blank_text(value):
            value = None
        else:
            v = value.strip()
            if v.upper() in EXCEL_ERRORS or v.startswith("#GPUVAL!"):
                raise _text_problem(name, v, "text")
            if len(v) > MAX_TEXT:
                raise UdfError(f"{name} must be at most {MAX_TEXT} characters, got {len(v):,}.")
            return v
    if value is None:
        if default is REQUIRED:
            raise UdfError(f"{name} is required, but the cell is blank.")
        return default
    if _is_range(value):
        raise UdfError(f"{name} must be a single cell of text, got a range.")
    raise UdfError(f"{name} must be text, got {show(value)}.")


def choice(name: str, value: Any, default: Any, options: tuple[str, ...]) -> Any:
    """One of ``options`` (case-insensitive); blank -> ``default``."""
    if value is None and default is not REQUIRED:
        return default
    v = text(name, value, default)
    if v is default:
        return v
    key = v.casefold()
    for option in options:
        if option.casefold() == key:
            return option
    raise UdfError(f"{name} must be one of {', '.join(options)}; got {show(v)}.")


def flag(name: str, value: Any, default: bool) -> bool:
    """TRUE/FALSE (also 1/0 or the text TRUE/FALSE); blank -> ``default``."""
    v = _unwrap(value)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if v is None or (isinstance(v, str) and _is_blank_text(v)):
        return default
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE"):
        return v.strip().upper() == "TRUE"
    if isinstance(v, int | float | np.number) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        raise _text_problem(name, v, "TRUE or FALSE")
    if _is_range(v):
        raise UdfError(f"{name} must be a single cell, TRUE or FALSE, got a range.")
    raise UdfError(f"{name} must be TRUE or FALSE, got {show(v)}.")


# --- ranges -------------------------------------------------------------------------------------


def _dims(shape: tuple[int, ...]) -> str:
    return " x ".join(str(n) for n in shape) if len(shape) == 2 else f"{shape[0]}-cell"


def _rows(name: str, value: Any) -> list[list[Any]]:
    """Any range-like value as a rectangular list of rows (not yet checked cell by cell)."""
    if isinstance(value, Mapping):
        raise UdfError(f"{name} must be a range, not a mapping.")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiubUO":
            raise UdfError(f"{name} must be a range of cell values, got a {value.dtype} array.")
        if value.ndim == 0:
            return [[value.item()]]
        if value.ndim > 2:
            raise UdfError(f"{name} must be a 1-D or 2-D range, got {value.ndim} dimensions.")
        if value.size > MAX_CELLS:
            raise _too_big(name, value.size)
        value = value.reshape(1, -1) if value.ndim == 1 else value
        return value.tolist()
    if not isinstance(value, list | tuple):
        return [[value]]
    if len(value) == 0:
        raise UdfError(f"{name} is an empty range.")
    nested = [isinstance(r, list | tuple | np.ndarray) for r in value]
    if not any(nested):  # a 1-D sequence: one row
        if len(value) > MAX_CELLS:
            raise _too_big(name, len(value))
        return [list(value)]
    if not all(nested):
        raise UdfError(f"{name} must be a rectangular range (rows of cells).")
    width = len(value[0])
    if width == 0:
        raise UdfError(f"{name} is an empty range.")
    if len(value) * width > MAX_CELLS:
        raise _too_big(name, len(value) * width)
    rows = []
    for row in value:
        if len(row) != width:
            raise UdfError(f"{name} must be a rectangular range: its rows differ in length.")
        for cell in row:
            if isinstance(cell, list | tuple | np.ndarray | Mapping):
                raise UdfError(f"{name} must be a 1-D or 2-D range, got nested ranges.")
        rows.append(list(row))
    return rows


def _too_big(name: str, size: int) -> UdfError:
    return UdfError(
        f"{name} has {size:,} cells, more than the {MAX_CELLS:,} a GPUVAL range may hold."
    )


def _cell(name: str, value: Any, where: str) -> Any:
    """One cell of a range: ``None`` (blank), a ``float``, ``str`` text, or an error."""
    t = type(value)
    if t is float:
        if value - value == 0.0:
            return value
        raise UdfError(f"{name} must hold finite numbers, got {number_text(value)}{where}.")
    if value is None:
        return None
    if t is str or isinstance(value, str):
        if _is_blank_text(value):
            return None
        v = value.strip()
        if v.upper() in EXCEL_ERRORS:
            raise UdfError(f"{name} holds the Excel error {v.upper()}{where}; fix that cell.")
        if v.startswith("#GPUVAL!"):
            raise UdfError(f"{name} holds a #GPUVAL! error{where}; fix that cell first.")
        return v
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer | np.floating):
        try:
            return _cell(name, float(value), where)
        except OverflowError:
            raise UdfError(f"{name} must hold finite numbers, got {show(value)}{where}.") from None
    if isinstance(value, dt.date | dt.time):
        return value
    raise UdfError(f"{name} holds {show(value)}{where}, which is not a cell value.")


def cells(name: str, value: Any) -> list[list[Any]]:
    """A range as rows of cleaned cells: ``None`` for blanks, floats, text, TRUE/FALSE, dates.

    Excel errors, non-finite numbers, ragged or over-sized ranges raise :class:`UdfError`.
    """
    rows = _rows(name, value)
    shape = (len(rows), len(rows[0]))
    return [
        [_cell(name, v, _where(r, c, shape)) for c, v in enumerate(row)]
        for r, row in enumerate(rows)
    ]


def grid(name: str, value: Any) -> np.ndarray:
    """A range of numbers as a 2-D float array; a blank or non-number cell is an error."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and 0 < value.ndim <= 2:
        if value.size > MAX_CELLS:
            raise _too_big(name, value.size)
        arr = np.atleast_2d(value.astype(np.float64, copy=False))
        if np.isfinite(arr).all():
            return arr
    rows = cells(name, value)
    shape = (len(rows), len(rows[0]))
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if type(v) is not float:
                where = _where(r, c, shape)
                if v is None:
                    raise UdfError(f"{name} has a blank cell{where}; every cell needs a number.")
                raise UdfError(f"{name} must hold numbers, got {show(v)}{where}.")
    return np.array(rows, dtype=np.float64)


def numbers(name: str, value: Any, *, limit: int = MAX_CELLS) -> list[float]:
    """The numbers of a range of any shape, row by row, blanks skipped; at least one."""
    rows = cells(name, value)
    shape = (len(rows), len(rows[0]))
    out: list[float] = []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if type(v) is not float:
                raise UdfError(f"{name} must hold numbers, got {show(v)}{_where(r, c, shape)}.")
            out.append(v)
    if not out:
        raise UdfError(f"{name} has no numbers (every cell is blank).")
    if len(out) > limit:
        raise UdfError(f"{name} has {len(out):,} values; at most {limit:,} are allowed.")
    return out


def pairs(name: str, value: Any, known: Collection[str] = ()) -> list[tuple[str, Any, str]]:
    """A two-column (or two-row) table of names and values -> ``[(name, value, where), ...]``.

    Names are text; blank rows are skipped; a blank value is kept as ``None`` (missing). A first
    row whose value cell is text and whose name is not in ``known`` is a header, and skipped. A
    dict (name -> value) is accepted from Python.
    """
    known_keys = {k.casefold() for k in known}
    if isinstance(value, Mapping):
        value = [[k, v] for k, v in value.items()]
    rows = cells(name, value)
    n_rows, n_cols = len(rows), len(rows[0])
    if n_cols != 2 and n_rows == 2:
        rows = [list(col) for col in zip(*rows, strict=True)]
        label = "column"
    elif n_cols == 2:
        label = "row"
    else:
        raise UdfError(
            f"{name} must be a two-column range of names and values, got {n_rows} x {n_cols}."
        )
    out: list[tuple[str, Any, str]] = []
    for i, (key, val) in enumerate(rows):
        where = f" ({label} {i + 1})"
        if key is None:
            if val is None:
                continue
            raise UdfError(f"{name} has a value without a name{where}.")
        if not isinstance(key, str):
            raise UdfError(f"{name} needs a text name in its first column, got {show(key)}{where}.")
        if i == 0 and isinstance(val, str) and key.strip().casefold() not in known_keys:
            continue  # a header row such as "input | value"
        out.append((key, val, where))
    return out


def canonical(
    table: str,
    key: str,
    lookup: Mapping[str, str],
    seen: Collection[str],
    where: str,
    unknown: Callable[[str, str], str],
) -> str:
    """The name ``key`` means in a table (``lookup``: casefolded name -> name; spaces read as
    ``_``), refused when unknown (``unknown(key, where)`` words why) or already given."""
    canon = lookup.get(key.strip().casefold().replace(" ", "_"))
    if canon is None:
        raise UdfError(unknown(key, where))
    if canon in seen:
        raise UdfError(f"{table} gives {canon} twice{where}.")
    return canon


def broadcast(named: Mapping[str, Any]) -> tuple[int, ...]:
    """The common shape of number arguments (floats and 2-D arrays), in Excel's terms."""
    shape: tuple[int, ...] = ()
    owner = ""
    for key, v in named.items():
        if not isinstance(v, np.ndarray):
            continue
        try:
            new = np.broadcast_shapes(shape, v.shape)
        except ValueError:
            raise UdfError(
                f"{owner} is a {_dims(shape)} range and {key} a {_dims(v.shape)} range; ranges "
                "must be the same size, or a single row or column that can be repeated."
            ) from None
        if new != shape or not owner:
            owner = key
        shape = new
    size = math.prod(shape)
    if size > MAX_CELLS:
        raise UdfError(
            f"the ranges combine into {size:,} results, more than the {MAX_CELLS:,} allowed."
        )
    return shape
