"""Cells of one worksheet part, changed in place: only the cells written change; every other row,
cell, element and attribute (known to gpuval or not) stays as the application wrote it."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from gpuval.pipeline.xlsxpatch.package import NS

__all__ = [
    "Formula",
    "SheetCells",
    "cell_ref",
    "escape_text",
    "excel_serial",
    "insert_in_order",
    "split_ref",
]

M = NS["m"]
_C, _F, _V, _IS, _T, _ROW = (f"{{{M}}}{tag}" for tag in ("c", "f", "v", "is", "t", "row"))
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPE_LIKE = re.compile("_(x[0-9A-Fa-f]{4}_)")


@dataclass(frozen=True)
class Formula:
    """A formula to write, without its leading ``=``; its cached value is removed."""

    text: str


def split_ref(ref: str) -> tuple[int, int]:
    """``"B12"`` (or ``"$B$12"``) -> (row 12, column 2)."""
    letters, row = coordinate_from_string(ref.replace("$", ""))
    return row, column_index_from_string(letters)


def cell_ref(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def escape_text(text: str) -> str:
    """Text as SpreadsheetML stores it: characters XML cannot carry as ``_xHHHH_``, and text that
    already looks like such an escape protected by ``_x005F_``."""
    text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def excel_serial(value: dt.date | dt.datetime, date1904: bool = False) -> float | int:
    """A date as the serial number Excel stores (1900 or 1904 date system)."""
    epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    if not isinstance(value, dt.datetime):
        days = (value - epoch.date()).days
        return days
    delta = value.replace(tzinfo=None) - epoch
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


def _number(value: float | int) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot store {value!r} in a cell")
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(int(value))


class SheetCells:
    """The ``sheetData`` of one parsed worksheet, indexed by row."""

    def __init__(self, root: etree._Element, *, date1904: bool = False) -> None:
        self.root = root
        self.date1904 = date1904
        data = root.find(f"{{{M}}}sheetData")
        if data is None:
            data = etree.Element(f"{{{M}}}sheetData")
            insert_in_order(root, data, _AFTER_SHEETDATA)
        self.data = data
        self._rows: dict[int, etree._Element] = {}
        self._numbers: list[int] = []
        previous = 0
        for row in data.iterchildren(_ROW):
            number = int(row.get("r") or previous + 1)
            if row.get("r") is None:
                row.set("r", str(number))  # implicit numbering made explicit (same meaning)
            self._rows[number] = row
            previous = number
        self._numbers = sorted(self._rows)
        self.touched = False
        self.formulas_changed = False

    # --- reading --------------------------------------------------------------------------

    def cell(self, ref: str) -> etree._Element | None:
        row_number, column = split_ref(ref)
        row = self._rows.get(row_number)
        return None if row is None else self._find(row, row_number, column)[0]

    # --- writing --------------------------------------------------------------------------

    def row_height(self, number: int, points: float) -> None:
        """Give row ``number`` a custom height (``ht``, ``customHeight``)."""
        row = self._rows.get(number)
        if row is None:  # not ``or``: an element without cells is false
            row = self._new_row(number)
        row.set("ht", _number(points))
        row.set("customHeight", "1")
        self.touched = True

    def set(self, ref: str, value: Any, *, style: int | None = None) -> None:
        """Write ``value`` (number, bool, text, date, :class:`Formula` or None to clear) into the
        cell at ``ref``; ``style`` replaces its style index (``s``), else the cell keeps it."""
        row_number, column = split_ref(ref)
        row = self._rows.get(row_number)
        if row is None:
            if value is None and style is None:
                return
            row = self._new_row(row_number)
        cell, after = self._find(row, row_number, column)
        if cell is None:
            if value is None and style is None:
                return
            cell = etree.Element(_C)
            cell.set("r", cell_ref(row_number, column))
            if after is None:
                row.insert(0, cell)
            else:
                after.addnext(cell)
            self._widen(row, row_number, column)
        self.touched = True
        if isinstance(value, Formula) or cell.find(_F) is not None:
            self.formulas_changed = True
        master = cell.find(_F)
        if master is not None and master.get("t") == "shared" and master.get("ref"):
            self._unshare(master.get("si", ""), ref)
        for child in cell.findall(_F) + cell.findall(_V) + cell.findall(_IS):
            cell.remove(child)
        for attribute in ("t", "cm", "vm"):  # type and metadata of the content replaced
            cell.attrib.pop(attribute, None)
        if style is not None:
            cell.set("s", str(style))
        if value is None:
            return
        if isinstance(value, Formula):
            self._child(cell, _F).text = escape_text(value.text.removeprefix("="))
        elif isinstance(value, bool):
            cell.set("t", "b")
            self._child(cell, _V).text = "1" if value else "0"
        elif isinstance(value, int | float):
            self._child(cell, _V).text = _number(value)
        elif isinstance(value, dt.date):
            self._child(cell, _V).text = _number(excel_serial(value, self.date1904))
        elif isinstance(value, str):
            cell.set("t", "inlineStr")
            text = etree.SubElement(self._child(cell, _IS), _T)
            text.text = escape_text(value)
            if value != value.strip() or "\n" in value:
                text.set(_XML_SPACE, "preserve")
        else:
            raise TypeError(f"cannot write {type(value).__name__} into cell {ref}")

    # --- helpers --------------------------------------------------------------------------

    def _find(
        self, row: etree._Element, row_number: int, column: int
    ) -> tuple[etree._Element | None, etree._Element | None]:
        """(the cell at ``column``, or None; the last cell before it, or None)."""
        before = None
        previous = 0
        for cell in row.iterchildren(_C):
            ref = cell.get("r")
            index = split_ref(ref)[1] if ref else previous + 1
            if ref is None:
                cell.set("r", cell_ref(row_number, index))
            if index == column:
                return cell, before
            if index > column:
                return None, before
            before, previous = cell, index
        return None, before

    def _new_row(self, number: int) -> etree._Element:
        row = etree.Element(_ROW)
        row.set("r", str(number))
        position = bisect.bisect(self._numbers, number)
        if position < len(self._numbers):
            self._rows[self._numbers[position]].addprevious(row)
        else:
            self.data.append(row)
        self._numbers.insert(position, number)
        self._rows[number] = row
        return row

    def _widen(self, row: etree._Element, row_number: int, column: int) -> None:
        spans = row.get("spans")
        if spans and re.fullmatch(r"\d+:\d+", spans):
            lo, hi = (int(x) for x in spans.split(":"))
            if not lo <= column <= hi:
                row.set("spans", f"{min(lo, column)}:{max(hi, column)}")
        dimension = self.root.find(f"{{{M}}}dimension")
        if dimension is None:
            return
        ref = dimension.get("ref", "")
        match = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", ref)
        if match is None:
            return
        top, left = int(match[2]), column_index_from_string(match[1])
        bottom = int(match[4] or match[2])
        right = column_index_from_string(match[3] or match[1])
        box = (min(top, row_number), min(left, column), max(bottom, row_number), max(right, column))
        if box != (top, left, bottom, right):
            dimension.set("ref", f"{cell_ref(box[0], box[1])}:{cell_ref(box[2], box[3])}")

    @staticmethod
    def _child(cell: etree._Element, tag: str) -> etree._Element:
        """A new content child of ``cell``, before its ``extLst`` if it has one."""
        element = etree.Element(tag)
        ext = cell.find(f"{{{M}}}extLst")
        if ext is not None:
            ext.addprevious(element)
        else:
            cell.append(element)
        return element

    def _unshare(self, si: str, master_ref: str) -> None:
        """Before a shared formula's master cell is overwritten, give every cell that shares it
        its own copy of the formula (translated to its position), so they keep computing."""
        master = self.cell(master_ref)
        assert master is not None
        text = "=" + (master.find(_F).text or "")  # type: ignore[union-attr]
        for cell in self.data.iter(_C):
            f = cell.find(_F)
            if f is None or f.get("t") != "shared" or f.get("si") != si or cell is master:
                continue
            f.text = Translator(text, origin=master_ref).translate_formula(cell.get("r"))[1:]
            for attribute in ("t", "si", "ref"):
                f.attrib.pop(attribute, None)


#: Worksheet children that come after ``sheetData`` (for creating it in schema order).
_AFTER_SHEETDATA = [
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
]  # fmt: skip


def insert_in_order(parent: etree._Element, element: etree._Element, later: list[str]) -> None:
    """Insert ``element`` before the first child whose local name is in ``later``."""
    for child in parent:
        if isinstance(child.tag, str) and etree.QName(child).localname in later:
            child.addprevious(element)
            return
    parent.append(element)
