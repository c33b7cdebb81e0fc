"""Carry an analyst's work from a workbook into a new build (``gpuval build --from``): what a
workbook of an earlier layout holds that the dataset does not, so that upgrading gpuval does not
cost the analyst their inputs.

Carried, each to the cell the new build gives its name:

* the target, and every ``in_`` input whose value is a constant (a formula, which may read the
  analyst's own sheets, is reported and left at the new build's default);
* each company's assumptions (Assumptions, one column per company), matched by company id;
* the peer table's companies in the old table's order: a dataset company with the dataset's
  figures, a company the analyst typed (an id the dataset lacks) with every figure as typed;
* the prices of the last prices file (hidden names ``gpuval_price_<entity>``), which the next
  ``gpuval refresh`` applies.

Not carried: the analyst's own sheets, notes and formatting, and typed values over sourced peer
cells (refresh would replace them anyway)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook

from gpuval.pipeline.names import cells_of, named_cells, read_inputs_lenient, require_gpuval
from gpuval.pipeline.refresh_cells import PRICE_NAME, same_value
from gpuval.pipeline.safety import safe_load_workbook
from gpuval.workbook.sheets.peers import RAW, repeated_ids

__all__ = ["Carried", "carried_rows", "old_target", "read_old", "write_inputs"]

IDS, TARGET = "data_assumption_ids", "in_target"


@dataclass
class Carried:
    """What a carry moved, and what it could not."""

    inputs: list[str] = field(default_factory=list)
    """Each input carried, with this version's default it replaces."""
    typed: list[str] = field(default_factory=list)
    prices: int = 0
    skipped: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    assessed: list[str] = field(default_factory=list)
    """The companies with a column on the old Assumptions sheet, in the new table: the new
    build's (a typed company stays a peer, as it was)."""
    own_sheets: list[str] = field(default_factory=list)
    """The analyst's own sheets of the old workbook (not carried)."""

    def lines(self, out: Path) -> list[str]:
        said = [f"carried {len(self.inputs)} input value(s), {len(self.typed)} typed compan"
                f"{'y' if len(self.typed) == 1 else 'ies'}"
                + (f" ({', '.join(self.typed)})" if self.typed else "")
                + f" and {self.prices} stored price(s)"]  # fmt: skip
        if self.inputs:  # typed or an earlier default, which the workbook cannot tell apart
            more = f"; and {len(self.inputs) - 8} more" if len(self.inputs) > 8 else ""
            said.append(f"inputs kept from the old workbook over this version's defaults: "
                        f"{'; '.join(self.inputs[:8])}{more}")  # fmt: skip
        said += [f"not carried: {s}" for s in self.skipped]
        said += [f"the id {r!r} is on two rows (in any case): give each company its own id "
                 "(the checks and refresh ask for it)" for r in self.repeated]  # fmt: skip
        if self.own_sheets:
            said.append(f"not carried: your sheet(s) {', '.join(map(repr, self.own_sheets))}; "
                        "copy them from the old workbook in Excel (Move or Copy)")  # fmt: skip
        if self.left_out:
            said.append(f"left out as in the old table: {', '.join(self.left_out)} (a build "
                        "without --from has every dataset company)")  # fmt: skip
        if self.prices or self.inputs:
            said.append(f"run gpuval refresh {out} to apply the prices and redraw the Monte "
                        "Carlo snapshot for these inputs")  # fmt: skip
        return said


def read_old(path: Path) -> tuple[Workbook, Workbook]:
    """The workbook to carry from, as formulas and as the values its application last computed
    (refused in one sentence when it is not a gpuval workbook)."""
    wb = safe_load_workbook(Path(path), label="Workbook to carry from", keep_vba=True)
    require_gpuval(wb, Path(path), earlier=True)
    return wb, safe_load_workbook(Path(path), data_only=True, label="Workbook to carry from",
                                  keep_vba=True)  # fmt: skip


def old_target(old: Workbook) -> str:
    """The old workbook's target (its ``in_target``; "" when it has none)."""
    found = named_cells(old, TARGET)
    return str(found[0].value or "") if found else ""


def carried_rows(
    old: Workbook, dataset_rows: list[dict[str, Any]], carried: Carried
) -> list[dict[str, Any]]:
    """The new peer table: the old table's companies in its order, each dataset company with the
    dataset's row, each typed one as typed (rows without an id dropped)."""
    fresh = {row["id"]: row for row in dataset_rows}
    rows = []
    for row in read_inputs_lenient(old)["rows"]:
        ident = row.get("id")
        if not isinstance(ident, str) or not ident:
            continue
        if ident in fresh:
            rows.append(fresh[ident])
        else:
            rows.append({key: row.get(key) for key in RAW})
            carried.typed.append(ident)
    ids = [row["id"] for row in rows]
    carried.left_out = [i for i in fresh if i not in ids]
    carried.repeated = [ids[i] for _, i in repeated_ids(ids)]
    carried.assessed = [f.value for f in named_cells(old, IDS) if f.value in ids]
    return rows


def write_inputs(old: Workbook, computed: Workbook, new: Workbook, carried: Carried) -> None:
    """Every constant ``in_`` value of ``old`` into ``new`` (per-company ranges by company id)
    but the target, which the build chose, and the stored prices. A formula is named with the
    value it ``computed`` and the default the new build keeps."""
    old_ids = [f.value for f in named_cells(old, IDS)]
    new_ids = [f.value for f in named_cells(new, IDS)]
    for name in sorted(n for n in old.defined_names if n.startswith("in_") and n != TARGET):
        if name not in new.defined_names:
            carried.skipped.append(f"{name} (this version has no such input)")
            continue
        before, after = named_cells(old, name), cells_of(new, name)
        if len(before) == 1 and len(after) == 1:
            pairs = [(before[0], after[0], "")]
        elif len(before) == len(old_ids) and len(after) == len(new_ids):
            index = {ident: cell for ident, cell in zip(new_ids, after, strict=True)}
            pairs = [(b, index[i], f" ({i})") for i, b in zip(old_ids, before, strict=True)
                     if i in index]  # fmt: skip
        else:
            carried.skipped.append(f"{name} (its cells differ in number)")
            continue
        values = {f.where: f.value for f in named_cells(computed, name)}
        for figure, cell, company in pairs:
            if isinstance(figure.value, str) and figure.value.startswith("="):
                carried.skipped.append(
                    f"{name} at {figure.where}, the formula {figure.value} (it read "
                    f"{values.get(figure.where)!r}): the new workbook keeps the default "
                    f"{cell.value!r}; type the value or the formula there"
                )
            elif not same_value(figure.value, cell.value):  # (as an application saved it)
                carried.inputs.append(f"{name}{company} {figure.value!r} (default {cell.value!r})")
                cell.value = figure.value
    for name, defined in old.defined_names.items():
        if name.startswith(PRICE_NAME):
            new.defined_names[name] = DefinedName(name, attr_text=defined.attr_text, hidden=True)
            carried.prices += 1
