"""Reading a gpuval workbook by its defined names (never by fixed addresses).

* :func:`require_gpuval`: refuse a workbook gpuval did not build, or whose key names are broken;
* :func:`named_value` / :func:`named_cells`: the cell (cells) a defined name points at now;
* :func:`read_inputs_lenient`: the target and the peer table, as a fresh build needs them;
* :func:`at`: a cell's address as Excel writes it (``'Peer table'!B7``);
* :func:`outside_the_table`: company ids typed just above or under the peer table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError

__all__ = [
    "Figure",
    "at",
    "named_cells",
    "named_value",
    "outside_the_table",
    "read_inputs_lenient",
    "require_gpuval",
]


def named_value(wb: Workbook, name: str) -> Any:
    """The value of the (first) cell ``name`` points at; None when the name or its sheet is gone."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    title, coord = next(iter(defined.destinations))
    if title not in wb.sheetnames:
        return None
    return wb[title][coord.replace("$", "")].value


def require_gpuval(wb: Workbook, path: Path) -> None:
    """Refuse a workbook that gpuval did not build (or whose key names were deleted)."""
    missing = [n for n in ("in_target", "chk_master", "data_peers_id") if n not in wb.defined_names]
    if missing:
        raise GpuvalError(
            f"{path.name} is not a gpuval workbook (it has no defined name {missing[0]!r})."
        )
    from gpuval.workbook.evaluate import REQUIRED, layout_note

    for name in [*REQUIRED, "chk_master", "data_asof"]:
        defined = wb.defined_names.get(name)
        places = list(defined.destinations) if defined is not None else []
        if len(places) != 1 or places[0][0] not in wb.sheetnames:
            where = f"points at a missing sheet {places[0][0]!r}" if places else "is missing"
            if defined is None and (note := layout_note(wb)):  # renamed in a later layout
                raise GpuvalError(f"{path.name}: the defined name {name!r} is missing{note}.")
            raise GpuvalError(
                f"{path.name}: the defined name {name!r} {where}; restore it (or rebuild the "
                "workbook with gpuval build) before checking, refreshing or publishing."
            )


def read_inputs_lenient(wb: Workbook) -> dict[str, Any]:
    """The target and the peer rows, read straight from the workbook."""
    from gpuval.workbook.sheets import peers

    rows: list[dict[str, Any]] = []
    columns = {}
    keys = peers.raw_keys(wb.defined_names)
    for key in keys:
        defined = wb.defined_names.get(f"data_peers_{key}")
        if defined is None:
            raise GpuvalError(f"The workbook has no defined name 'data_peers_{key}'.")
        title, coord = next(iter(defined.destinations))
        cells = wb[title][coord.replace("$", "")]
        columns[key] = [c[0].value for c in cells]
    for i in range(len(columns["id"])):
        rows.append({key: columns[key][i] for key in keys})
    return {"target": named_value(wb, "in_target"), "rows": rows}


_HOW_TO_ADD = (
    "(a company is added by a row inserted inside the table, its figures typed and the formula "
    "columns copied down from the row above, or through a dataset file and gpuval build --dataset)"
)
"""What the notes and findings say of a company typed where the peer table does not reach."""


def outside_the_table(
    value: Callable[[str, str], Any], first: tuple[str, str], last: tuple[str, str]
) -> list[str]:
    """A sentence for a company id typed just above the peer table's first id or just under its
    last (``first``, ``last``: the sheet and cell of each), where the table's names do not
    reach, so that the workbook leaves it out; ``value(sheet, cell)`` reads a cell."""
    from gpuval.workbook.sheets.peers import RAW

    found = []
    for (sheet, ref), step, where in ((first, -1, "above"), (last, 1, "under")):
        letters, row = coordinate_from_string(ref.replace("$", ""))
        if row + step < 1:
            continue
        typed = value(sheet, f"{letters}{row + step}")
        if typed not in (None, "") and not (step < 0 and typed == RAW["id"][0]):  # the header
            end = "starts" if step < 0 else "ends"
            found.append(
                f"{at(sheet, f'{letters}{row + step}')} ({typed}) is {where} the peer table, "
                f"which {end} at row {row}: the workbook leaves it out {_HOW_TO_ADD}."
            )
    return found


def at(title: str, coord: str = "") -> str:
    """``Sheet!A1``, the sheet name quoted as Excel writes it when it needs quotes."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
        title = "'" + title.replace("'", "''") + "'"
    return f"{title}!{coord}" if coord else title


@dataclass(frozen=True)
class Figure:
    """A cell's value and where it is."""

    where: str  # Sheet!A1
    value: Any


def named_cells(wb: Workbook, name: str) -> list[Figure]:
    """The cells a defined name covers, in order (empty when the name is missing or broken)."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return []
    out = []
    for title, coord in defined.destinations:
        if title not in wb.sheetnames:
            return []
        cells = wb[title][coord.replace("$", "")]
        rows = cells if isinstance(cells, tuple) else ((cells,),)
        for row in rows:
            for cell in row if isinstance(row, tuple) else (row,):
                out.append(Figure(at(title, cell.coordinate), cell.value))
    return out
