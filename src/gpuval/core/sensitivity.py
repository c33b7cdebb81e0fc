"""Two-way sensitivity grids of any core output over any two of its inputs.

``values[i, j] = output(func(**inputs, row_name=row_values[i], col_name=col_values[j]))`` -- the
shape of an Excel two-variable data table (rows down, columns across), evaluated in one
vectorised call (``row_values[:, None]`` against ``col_values[None, :]``), or cell by cell with
``vectorised=False`` for functions that only take scalars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuval.core.validate import ArrayLike, InputError, as_float, pick

__all__ = ["SensitivityGrid", "sensitivity_grid"]


@dataclass(frozen=True)
class SensitivityGrid:
    """A two-way table: ``values[i, j]`` at ``row_values[i]`` and ``col_values[j]``."""

    row_name: str
    row_values: np.ndarray
    col_name: str
    col_values: np.ndarray
    values: np.ndarray


def _axis(name: str, values: ArrayLike) -> np.ndarray:
    v = np.atleast_1d(as_float(name, values))
    if v.ndim != 1 or v.size == 0:
        raise InputError(f"{name} grid values must be a non-empty list of numbers.")
    return v


def sensitivity_grid(
    func: Callable[..., Any],
    row: tuple[str, ArrayLike],
    col: tuple[str, ArrayLike],
    *,
    output: str | None = None,
    vectorised: bool = True,
    **inputs: Any,
) -> SensitivityGrid:
    """Evaluate ``func`` over a grid of two inputs, every other input held at ``inputs``.

    ``row``/``col`` are ``(input name, values)``; a value given for the same name in ``inputs``
    (the base case) is overridden by the grid. ``output`` picks an attribute or key when
    ``func`` returns a record (e.g. ``"value_per_share"``).

    >>> from gpuval.core.multiples import price_to_sales
    >>> g = sensitivity_grid(price_to_sales, ("market_value", [60e9, 90e9]),
    ...                      ("revenue", [0.3e9, 0.6e9]))
    >>> g.values.tolist()
    [[200.0, 100.0], [300.0, 150.0]]
    """
    row_name, row_vals = row
    col_name, col_vals = col
    if row_name == col_name:
        raise InputError(f"the grid's two inputs must differ, got {row_name} twice.")
    r = _axis(row_name, row_vals)
    c = _axis(col_name, col_vals)
    base = {k: v for k, v in inputs.items() if k not in (row_name, col_name)}
    shape = (r.size, c.size)
    if vectorised:
        res = pick(func(**base, **{row_name: r[:, None], col_name: c[None, :]}), output)
        values = np.asarray(res, dtype=float)
        if values.shape != shape:
            if np.ndim(values) > 2 or np.broadcast_shapes(np.shape(values), shape) != shape:
                raise InputError(
                    f"the grid must come out {shape[0]} x {shape[1]}, got shape {values.shape}: "
                    "every input other than the two grid inputs must be a single number."
                )
            values = np.broadcast_to(values, shape).copy()
    else:
        values = np.empty(shape)
        for i, rv in enumerate(r):
            for j, cv in enumerate(c):
                kw = {row_name: float(rv), col_name: float(cv)}
                values[i, j] = float(pick(func(**base, **kw), output))
    return SensitivityGrid(row_name, r, col_name, c, values)
