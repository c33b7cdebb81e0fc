"""The build context and a small cell writer shared by the sheet modules.

Conventions (FAST / ICAEW): inputs only on Inputs and Peers (style ``gv_input``), formulas black
(``gv_calc``), links to other sheets green (``gv_link``), headline outputs ``gv_output``; one
formula per row copied across; every sheet shows the master check in cell A3. Input cells get a
workbook-scoped name ``in_*``, headline outputs ``out_*``; a few shared quantities (the target's
figures, ``tgt_*``) are named so formulas read as words.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from copy import copy
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from gpuval.data.dataset import Dataset, Record
from gpuval.workbook.template import NEGATIVE_FORMATS, HouseStyle

__all__ = ["DEFAULT_WIDTH", "UNIT_SHOWN", "Book", "Sheet", "col", "column_width", "fitted_height",
           "format_rule", "marked_format", "negative_rule", "print_setup", "row_lines",
           "wrap_rows"]  # fmt: skip

_DXF_FORMAT_ID = 400  # number-format ids of conditional formats: clear of the cells' (164 up)
_MARKED_FORMAT_ID = 420  # those of format_rule, clear of NEGATIVE_FORMATS'

_FORMULA_ROLES = ("calc", "link", "output", "check")
_ROLE_STYLE = {  # each role's house style is "gv_<role>"
    role: f"gv_{role}"
    for role in ("input", "label", "unit", "note", "header", "section", "data", *_FORMULA_ROLES)
}
#: What a reader sees in a unit column for a spec's unit: a fraction is a %, a figure in the
#: listing currency shows the target's currency code (a formula: it follows the Target).
UNIT_SHOWN = {"fraction": "%", "listing": "=tgt_ccy", "id": "company", "basis": "choice"}


def _sheet_prefix(title: str) -> str:
    """A sheet name as formulas write it: quoted only when it must be."""
    return title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) else f"'{title}'"


def col(index: int) -> str:
    """1 -> "A"."""
    return get_column_letter(index)


@dataclass
class Book:
    """Everything a sheet module needs while the workbook is being built."""

    wb: Workbook
    style: HouseStyle
    dataset: Dataset
    target: str
    names: dict[str, str] = field(default_factory=dict)
    """Defined name -> absolute reference, e.g. ``in_target`` -> ``Inputs!$D$6``."""
    uses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Record id -> the cells that show it (for the Sources sheet)."""
    checks: list[tuple[str, str]] = field(default_factory=list)
    """(description, formula giving TRUE when the check passes) for the Checks sheet."""
    values: dict[str, Any] = field(default_factory=dict)
    """Default input values by name (what ``gpuval evaluate`` would read from the new file)."""
    header_rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    """Sheet title -> the table header rows written by ``Sheet.headers`` (for printing)."""
    dxf_formats: dict[str, int] = field(default_factory=dict)
    """Number format code -> its id, of the conditional formats :func:`format_rule` made."""

    def define(self, name: str, sheet: str, ref: str) -> None:
        if name in self.names:
            raise ValueError(f"defined name {name} used twice")  # a programming error
        target = f"{_sheet_prefix(sheet)}!{ref}"
        self.names[name] = target
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def check(self, description: str, formula: str) -> None:
        self.checks.append((description, formula))

    def cite(self, rec: Record, cell: str) -> None:
        self.uses[rec.id].append(cell)


def negative_rule(style: HouseStyle, key: str) -> Rule | None:
    """The conditional format showing a cell of format ``key`` in the format NEGATIVE_FORMATS
    names when ``lowest <= value <= 0`` (None for a format without one)."""
    if key not in NEGATIVE_FORMATS:
        return None
    lowest, shown = NEGATIVE_FORMATS[key]
    code = style.fmt(shown)
    shown_keys = sorted({k for _, k in NEGATIVE_FORMATS.values()})
    number = NumberFormat(numFmtId=_DXF_FORMAT_ID + shown_keys.index(shown), formatCode=code)
    return Rule(type="cellIs", operator="between", formula=[f"{lowest:.0f}", "0"],
                dxf=DifferentialStyle(numFmt=number))  # fmt: skip


def marked_format(code: str, before: str, after: str = "") -> str:
    """Number format ``code`` with ``before`` and ``after`` quoted around the number of each
    section (after its ``[condition]`` or ``[colour]``; an empty section stays empty, a quoted or
    escaped ``;`` is no section break): ``0.0"x"`` marked "≥", "†" is ``"≥"0.0"x""†"``."""
    sections = [""]
    for token in re.findall(r'"[^"]*"|\\.|;|[^;"\\]+', code):
        if token == ";":
            sections.append("")
        else:
            sections[-1] += token
    first, last = (f'"{text}"' if text else "" for text in (before, after))
    head = re.compile(r"^((?:\[[^\]]*\])*)(.*)$", re.S)  # [conditions], [colours] first
    return ";".join(
        head.sub(lambda m: m[1] + first + m[2] + last, part) if part else part for part in sections
    )


def format_rule(book: Book, formula: str, code: str, *, italic: bool = False) -> Rule:
    """The conditional format showing a cell in number format ``code`` (and in italics) where
    ``formula`` (of the range's first cell) is TRUE."""
    ids = book.dxf_formats
    number = NumberFormat(numFmtId=ids.setdefault(code, _MARKED_FORMAT_ID + len(ids)),
                          formatCode=code)  # fmt: skip
    font = Font(i=True) if italic else None
    return Rule(type="expression", formula=[formula], stopIfTrue=True,
                dxf=DifferentialStyle(numFmt=number, font=font))  # fmt: skip


DEFAULT_WIDTH = 8.43
"""Characters: Excel's default column width."""
LINE_HEIGHT = 12.75
"""Points a line of 10-point text takes in a wrapped cell (Excel's row height for it)."""
LATIN, CJK = 0.8, 1.9
"""Column-width characters a 10-point Calibri letter and a CJK character take (measured on
LibreOffice's PDF with Carlito: about 1.25 letters, or 0.53 CJK characters, per width unit)."""
WRAP = Alignment(wrap_text=True, vertical="top")


def text_lines(text: str, width: float) -> int:
    """Lines a wrapped cell ``width`` characters wide needs for ``text``: per paragraph,
    ceil(sum of its characters' widths (:data:`LATIN`, :data:`CJK`) / width)."""
    lines = 0
    for part in text.split("\n"):
        cjk = sum(ord(ch) >= 0x2E80 for ch in part)
        lines += max(1, math.ceil((CJK * cjk + LATIN * (len(part) - cjk)) / width))
    return lines


def fitted_height(lines: int) -> float:
    """A row's height (points) for ``lines`` lines of wrapped 10-point text."""
    return LINE_HEIGHT * lines + 2


def column_width(ws: Worksheet, index: int) -> float:
    """Width in characters; looked up without creating a dimension (openpyxl would write a
    new one 13 wide)."""
    dims = ws.column_dimensions.get(get_column_letter(index))
    if dims is not None and dims.hidden:
        return 0.0  # a hidden column does not print
    if dims is None or not dims.width:  # a grouped range keeps one dimension for its columns
        groups = (d for d in ws.column_dimensions.values() if d.min and d.max and d.max > d.min)
        dims = next((d for d in groups if (d.min or 0) <= index <= (d.max or 0)), dims)
        if dims is not None and dims.hidden:
            return 0.0
    return float(dims.width) if dims is not None and dims.width else DEFAULT_WIDTH


def row_lines(ws: Worksheet, row: int, columns: Iterable[int]) -> int:
    """Lines the tallest of ``columns``' wrapped cells in ``row`` needs (:func:`text_lines`)."""
    lines = 1
    for c in columns:
        cell = ws.cell(row, c)
        if cell.value is not None and cell.style != "gv_section":  # titles run on
            width = column_width(ws, c) or DEFAULT_WIDTH  # (a hidden column: as if default)
            lines = max(lines, text_lines(str(cell.value), width))
    return lines


def wrap_rows(
    ws: Worksheet,
    first: int,
    last: int,
    columns: Iterable[int],
    formula: tuple[int, str] | None = None,
) -> None:
    """Wrap the text of ``columns`` in rows first..last and give each row the height its
    longest cell needs (a viewer need not fit row heights to wrapped text itself), every cell
    of a taller row aligned to its top. ``formula``: a column of formulas also wrapped, and
    the longest text they give, whose lines every row makes room for."""
    texts, wrapped, least = list(columns), list(columns), 1
    if formula is not None:
        wrapped.append(formula[0])
        least = text_lines(formula[1], column_width(ws, formula[0]) or DEFAULT_WIDTH)
    for r in range(first, last + 1):
        for c in wrapped:
            cell = ws.cell(r, c)
            if cell.value is not None and cell.style != "gv_section":  # titles run on
                cell.alignment = WRAP
        if (lines := max(least, row_lines(ws, r, texts))) > 1:
            ws.row_dimensions[r].height = fitted_height(lines)
            for cell in ws[r]:
                if cell.value is not None and not cell.alignment.wrap_text:
                    cell.alignment = copy(cell.alignment) + Alignment(vertical="top")


def print_setup(ws: Worksheet) -> None:
    """Landscape A4, fitted to one page across and as many down as needed (the finishing pass
    sets the pages across a sheet needs)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4


class Sheet:
    """A worksheet with a title, the master check in A3, and typed cell writers."""

    def __init__(self, book: Book, title: str, subtitle: str, *, index: int | None = None):
        self.book = book
        self.title = title
        self.ws: Worksheet = book.wb.create_sheet(title, index)
        ws = self.ws
        ws.sheet_view.showGridLines = False
        ws["A1"] = title
        ws["A1"].style = "gv_title"
        ws["A2"] = subtitle
        ws["A2"].style = "gv_subtitle"
        self.put(3, 1, '=IF(chk_master,"Model check: OK","Model check: CHECK (see Checks)")',
                 "check")  # fmt: skip
        print_setup(ws)

    def ref(self, row: int, column: int, *, absolute: bool = False, sheet: bool = False) -> str:
        letter = col(column)
        a1 = f"${letter}${row}" if absolute else f"{letter}{row}"
        return f"{_sheet_prefix(self.title)}!{a1}" if sheet else a1

    def put(
        self,
        row: int,
        column: int,
        value: Any,
        role: str = "calc",
        fmt: str | None = None,
        name: str | None = None,
    ) -> Cell:
        """Write a value or formula with a style role and a number-format key.

        Only the formula roles (calc, link, output, check) take formulas; whether a calc or link
        formula is green is settled when the workbook is finished
        (:func:`gpuval.workbook.finish.link_colours`). Every other string, in particular text
        from data, is stored as text whatever its first character.
        """
        cell = self.ws.cell(row, column)
        assert isinstance(cell, Cell), f"{self.title}!{cell.coordinate} is merged"
        formula = isinstance(value, str) and value.startswith("=") and role in _FORMULA_ROLES
        cell.value = value
        if isinstance(value, str) and not formula:
            cell.data_type = "s"  # never a formula, whatever the first character
        cell.style = _ROLE_STYLE[role]
        if fmt:
            cell.number_format = self.book.style.fmt(fmt)
            if formula and fmt != "plain":  # a formula's "n/a" lines up with the numbers
                a = cell.alignment
                cell.alignment = Alignment(horizontal="right", vertical=a.vertical,
                                           wrap_text=a.wrap_text)  # fmt: skip
            rule = negative_rule(self.book.style, fmt)
            if rule is not None:
                self.ws.conditional_formatting.add(cell.coordinate, rule)
        if name:
            self.book.define(name, self.title, self.ref(row, column, absolute=True))
        return cell

    def label(self, row: int, text: str, unit: str = "", column: int = 1) -> None:
        """A row label and its unit as a reader sees it (:data:`UNIT_SHOWN`); a label starting
        with ``=`` is a formula (one that says what a target's cell holds)."""
        self.put(row, column, text, "calc" if text.startswith("=") else "label")
        if unit:
            self.unit(row, column + 1, unit)

    def unit(self, row: int, column: int, unit: str) -> Cell:
        """A unit cell: ``%``, a currency code (``=tgt_ccy`` for the listing currency), ``x``..."""
        shown = UNIT_SHOWN.get(unit, unit)
        cell = self.put(row, column, shown, "link" if shown.startswith("=") else "unit")
        cell.style = _ROLE_STYLE["unit"]
        return cell

    def section(self, row: int, text: str, column: int = 1) -> None:
        self.put(row, column, text, "section")

    def headers(self, row: int, texts: list[str], column: int = 1) -> None:
        for i, text in enumerate(texts):
            self.put(row, column + i, text, "header")
        self.ws.row_dimensions[row].height = 30  # room for two wrapped lines
        if row not in self.book.header_rows[self.title]:
            self.book.header_rows[self.title].append(row)

    def comment(self, cell: Cell, text: str) -> None:
        note = Comment(text, "gpuval")
        note.width, note.height = 420, 160
        cell.comment = note

    def validate(self, cell: Cell, validation: DataValidation) -> None:
        self.ws.add_data_validation(validation)
        validation.add(cell)

    def widths(self, widths: Mapping[str, float]) -> None:
        for letter, width in widths.items():
            self.ws.column_dimensions[letter].width = width

    def freeze(self, cell: str) -> None:
        self.ws.freeze_panes = cell
