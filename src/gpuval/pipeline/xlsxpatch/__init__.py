"""A part-level .xlsx patcher: change a few cells, notes, defined names and calculation settings
of a workbook and keep everything else exactly as the application that saved it wrote it.

* Parts not changed are copied byte for byte (their compressed bytes, not even re-deflated):
  threaded comments, rich data, metadata, drawings, pictures, charts, custom XML, document
  properties, a VBA project, and the worksheets nobody writes to.
* In a changed part only the written cells, names and attributes change; every other element
  and attribute, known or not (``extLst``, ``x14`` validations, ``mc:AlternateContent``, the
  ``cm``/``vm`` attributes of other cells) stays. A written cell loses only what described its
  old content: its type, its cached value, its formula, its ``cm``/``vm`` metadata.
* Text is written as an inline string (``t="inlineStr"``), so the shared-string table is never
  rewritten; text beginning with ``=``, ``+``, ``-`` or ``@`` stays text. A formula is written
  without a cached value, and ``fullCalcOnLoad`` asks the application to compute it.
* :meth:`Patch.store_values` gives every formula cell its computed value from a recalculated
  copy (:mod:`.values`), changing only the ``<v>`` and ``t`` of formula cells; it comes last.
* Overwriting the first cell of a shared formula first gives every cell sharing it its own copy.
  When a formula is added or removed, ``xl/calcChain.xml`` (a cache Excel rebuilds) is dropped.

    patch = Patch(path)
    patch.set("Peers", "F6", 41.5)
    patch.define("data_version", '"2026.02.05"')
    patch.calc(fullCalcOnLoad="1")
    patch.save_over(path)  # atomically, through pipeline/files.py

Reading values stays with openpyxl; this package only writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpuval.pipeline.files import replace_atomically
from gpuval.pipeline.xlsxpatch.comments import MARKER, SheetComments
from gpuval.pipeline.xlsxpatch.package import NS, Package, serialize_xml
from gpuval.pipeline.xlsxpatch.sheet import Formula, SheetCells, escape_text, excel_serial
from gpuval.pipeline.xlsxpatch.values import Computed, StoredValues, read_computed, store
from gpuval.pipeline.xlsxpatch.workbook import WorkbookPart

__all__ = [
    "MARKER",
    "Computed",
    "Formula",
    "Package",
    "Patch",
    "StoredValues",
    "escape_text",
    "excel_serial",
    "read_computed",
]


class Patch:
    """Writes to one workbook, applied when saved."""

    def __init__(self, path: Path, *, label: str = "Workbook", author: str = "gpuval") -> None:
        self.package = Package(Path(path), label=label)
        self.book = WorkbookPart(self.package)
        self.author = author
        self._sheets: dict[str, tuple[str, bytes, SheetCells]] = {}
        self._comments: dict[str, SheetComments] = {}
        self._sealed = False

    @property
    def sheet_names(self) -> list[str]:
        """The worksheets, in order (a chartsheet has no cells)."""
        return [name for name in self.book.sheet_ids if name in self.book.sheets]

    def cells(self, sheet: str) -> SheetCells:
        self._open()
        if sheet not in self._sheets:
            part = self.book.part_of(sheet)
            original = self.package.read(part)
            root = self.package.xml(part)
            self._sheets[sheet] = (part, original, SheetCells(root, date1904=self.book.date1904))
        return self._sheets[sheet][2]

    def set(self, sheet: str, ref: str, value: Any, *, style: int | None = None) -> None:
        """Write one cell (see :meth:`SheetCells.set`)."""
        self.cells(sheet).set(ref, value, style=style)

    def notes(self, sheet: str) -> SheetComments:
        self._open()
        if sheet not in self._comments:
            part = self.book.part_of(sheet)
            self._comments[sheet] = SheetComments(
                self.package, part, self.author, sheet_root=lambda: self._changing(sheet)
            )
        return self._comments[sheet]

    def _changing(self, sheet: str) -> Any:
        """A sheet's tree, to be written back when saved."""
        cells = self.cells(sheet)
        cells.touched = True
        return cells.root

    def row_height(self, sheet: str, number: int, points: float) -> None:
        """Set a row's height (see :meth:`SheetCells.row_height`)."""
        self.cells(sheet).row_height(number, points)

    def edit_headers(self, sheet: str, edit: Callable[[str], str]) -> bool:
        """Pass the text of each of a sheet's page headers and footers (``headerFooter``)
        through ``edit``; the sheet is written back only when a text changed (returned)."""
        cells = self.cells(sheet)
        changed = False
        for part in cells.root.iterfind("m:headerFooter/*", NS):
            if part.text and (text := edit(part.text)) != part.text:
                part.text, changed = text, True
        cells.touched |= changed
        return changed

    def cite(self, sheet: str, ref: str, citation: str, is_ours: Callable[[str], bool]) -> str:
        """Put a citation on a cell's note (see :meth:`SheetComments.cite`)."""
        return self.notes(sheet).cite(ref, citation, is_ours)

    def define(
        self, name: str, text: str, *, sheet: str | None = None, hidden: bool = False
    ) -> None:
        self._open()
        self.book.define(name, text, sheet=sheet, hidden=hidden)

    def undefine(self, name: str, *, sheet: str | None = None) -> None:
        self._open()
        self.book.undefine(name, sheet=sheet)

    def defined_name(self, name: str, *, sheet: str | None = None) -> str | None:
        return self.book.defined_name(name, sheet=sheet)

    def calc(self, **attributes: str) -> None:
        """Workbook calculation settings, e.g. ``calc(fullCalcOnLoad="1")``."""
        self._open()
        self.book.calc(**attributes)

    def store_values(self, computed: Computed | None) -> StoredValues:
        """The last step: apply the writes, then give every formula cell its computed value from
        ``computed`` (:func:`read_computed` of a recalculated copy of this patched package), or
        with ``None`` remove every formula cell's value (see :mod:`.values`). Nothing can be
        written after it."""
        self._apply()
        self._sealed = True
        return store(self.package, self.book, computed)

    def _open(self) -> None:
        if self._sealed:
            raise RuntimeError("the values are stored: write cells, notes and names before")

    # --- saving ---------------------------------------------------------------------------

    def _apply(self) -> None:
        if self._sealed:  # applied, and the parts have their values since
            return
        formulas_changed = False
        for part, original, cells in self._sheets.values():
            if cells.touched:
                self.package.write(part, serialize_xml(cells.root, original))
                formulas_changed |= cells.formulas_changed
        for notes in self._comments.values():
            notes.save()
        if formulas_changed:
            self._drop_calc_chain()
        if self.book.touched:
            self.package.write(self.book.name, serialize_xml(self.book.root, self.book.original))

    def _drop_calc_chain(self) -> None:
        """Remove ``calcChain.xml`` (Excel rebuilds it; a stale one makes Excel repair the file)."""
        chains = self.package.related(self.book.name, "calcChain")
        if not chains:
            return
        self.package.remove(chains[0])
        folder, base = self.book.name.rsplit("/", 1)
        rels_name = f"{folder}/_rels/{base}.rels"
        rels = self.package.xml(rels_name)
        for rel in list(rels):
            if isinstance(rel.tag, str) and rel.get("Type", "").endswith("/calcChain"):
                rels.remove(rel)
        self.package.write(rels_name, serialize_xml(rels, self.package.read(rels_name)))
        types = self.package.xml("[Content_Types].xml")
        for override in list(types):
            if override.get("PartName", "").lstrip("/") == chains[0]:
                types.remove(override)
        original = self.package.read("[Content_Types].xml")
        self.package.write("[Content_Types].xml", serialize_xml(types, original))

    def save(self, dest: Path | str) -> None:
        """Write the patched package to ``dest`` (a new file; see :meth:`save_over`)."""
        self._apply()
        self.package.save(dest)

    def save_over(self, path: Path) -> Path:
        """Replace ``path`` atomically with the patched package (pipeline/files.py)."""
        self._apply()
        return replace_atomically(Path(path), self.package.save)

    @property
    def changed_parts(self) -> list[str]:
        self._apply()
        return self.package.changed


__all__ += ["NS"]
