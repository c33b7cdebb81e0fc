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
    title, coord = next(iter(defined.destinations), ("", ""))  # none: it reads #REF!
    if title not in wb.sheetnames:
        return None
    return wb[title][coord.replace("$", "")].value


def require_gpuval(wb: Workbook, path: Path, *, earlier: bool = False) -> None:
    """Refuse a workbook that gpuval did not build (or whose key names were deleted);
    ``earlier``: a workbook of an earlier layout may lack the names that came later (build
    --from carries what it has)."""
    missing = [n for n in ("in_target", "chk_master", "data_peers_id") if n not in wb.defined_names]
    if missing:
        raise GpuvalError(
            f"{path.name} is not a gpuval workbook (it has no defined name {missing[0]!r})."
        )
    from gpuval.workbook.evaluate import REQUIRED, layout_note

    if deleted := _deleted(wb):
        raise GpuvalError(f"{path.name}: {deleted}")
    for name in [*REQUIRED, "chk_master", "data_asof"]:
        defined = wb.defined_names.get(name)
        places = list(defined.destinations) if defined is not None else []
        if len(places) != 1 or places[0][0] not in wb.sheetnames:
            where = f"points at a missing sheet {places[0][0]!r}" if places else "is missing"
            if defined is None and (note := layout_note(wb)):  # renamed in a later layout
                if earlier:
                    continue
                raise GpuvalError(f"{path.name}: the defined name {name!r} is missing{note}.")
            raise GpuvalError(
                f"{path.name}: the defined name {name!r} {where}; restore it (or rebuild the "
                "workbook with gpuval build) before checking, refreshing or publishing."
            )


def _deleted(wb: Workbook) -> str | None:
    """What was deleted, when model names read ``#REF!`` (a spreadsheet application's mark for a
    name whose sheet, rows or columns were deleted): the names and, from a fresh build, the
    sheets they were on. None when every name of the model still points at cells."""
    broken = sorted(n for n, d in wb.defined_names.items() if "#REF!" in (d.attr_text or ""))
    if not broken:
        return None
    from gpuval.workbook.build import build_workbook
    from gpuval.workbook.sheets.contents import NAV

    fresh = build_workbook(finished=False).wb.defined_names
    ours = [n for n in broken if n in fresh and not n.startswith(NAV)]  # (a link: no model)
    if not ours:  # the analyst's own names: not ours to judge
        return None
    sheets = sorted({t for n in ours for t, _ in fresh[n].destinations})
    more = f" and {len(ours) - 2} more" if len(ours) > 2 else ""
    one = len(ours) == 1
    return (
        f"the defined name{'' if one else 's'} {', '.join(ours[:2])}{more} point"
        f"{'s' if one else ''} at #REF!: {'its' if one else 'their'} cells on "
        f"{', '.join(repr(t) for t in sheets)} were deleted (with the sheet, or their rows "
        "or columns). Restore them from a backup (refresh keeps one beside the file) or "
        "rebuild the workbook with gpuval build."
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
    return [
        Figure(at(cell.parent.title, cell.coordinate), cell.value) for cell in cells_of(wb, name)
    ]


def cells_of(wb: Workbook, name: str) -> list[Any]:
    """The openpyxl cells (to read or write) a defined name covers, in order (empty when the
    name is missing or broken)."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return []
    out: list[Any] = []
    for title, coord in defined.destinations:
        if title not in wb.sheetnames:
            return []
        cells = wb[title][coord.replace("$", "")]
        rows = cells if isinstance(cells, tuple) else ((cells,),)
        for row in rows:
            out.extend(row if isinstance(row, tuple) else (row,))
    return out
