"""The formula audit, by meaning: is every model formula of a fresh build still in the workbook?

:func:`audit_formulas` compares the workbook with a fresh build of the same target and peer table.
What Excel and LibreOffice rewrite on save, inserted or deleted rows and columns and renamed sheets
give no finding; a constant typed over a formula, a changed formula or a deleted model row does,
at the cell's current address with its sheet and row label.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from gpuval.pipeline.names import at, named_cells, read_inputs_lenient

__all__ = ["audit_formulas", "cell_formula", "formula_map"]


def formula_map(wb: Workbook) -> dict[tuple[str, str], str]:
    """Every formula a fresh build puts in the model, for the workbook's own peer table."""
    return {
        (ws.title, cell.coordinate): formula
        for ws in _fresh_build(wb).worksheets
        for row in ws.iter_rows()
        for cell in row
        if (formula := cell_formula(cell)) is not None
    }


def _fresh_build(wb: Workbook) -> Workbook:
    from gpuval.workbook.build import build_workbook

    values = read_inputs_lenient(wb)
    # rows the analyst inserted and left empty are no company: aligned as inserted rows (a row
    # with anything typed in it is a company's, whose empty formula cells are findings)
    rows = [row for row in values["rows"] if any(v not in (None, "") for v in row.values())]
    # what a row deleted from or inserted into Peers leaves as the build made it: the lines of
    # Peer statistics' table of what each figure is, and the Assumptions sheet's companies
    ids = [cell.value for cell in named_cells(wb, "data_assumption_ids")]
    return build_workbook(
        target=values["target"],
        peer_rows=rows,
        figure_lines=_figure_lines(wb),
        assumption_ids=ids if ids and all(isinstance(i, str) and i for i in ids) else None,
        finished=False,
    ).wb


def _figure_lines(wb: Workbook) -> int | None:
    """The lines the workbook's build gave Peer statistics' table of what each figure is (its
    defined name; a row deleted or inserted since does not change them), else None."""
    from gpuval.workbook.sheets.peers import LINES

    defined = wb.defined_names.get(LINES)
    text = "" if defined is None else str(defined.attr_text)
    return int(text) if text.isdigit() and 1 <= int(text) <= _MOST_LINES else None


_MOST_LINES = 200
"""A bound on the lines read from a workbook's name (a hostile file could ask for millions)."""


# How each model cell is found.
#
# A fresh build (same target, same peer table) says which formula belongs in which model cell. The
# workbook on disk may have been saved by Excel or LibreOffice (which rewrite formulas in their own
# canonical text) and edited by an analyst (rows and columns inserted or deleted, sheets renamed).
# So each model sheet, row and column is found by what it is, not where it was:
#
# * a sheet by its title, else by where the build's defined names now point, else by position;
# * rows by their label (the first text in the row; a row without text by the kinds of its cells),
#   aligned in order with the fresh build's rows (a sequence alignment, so inserted and deleted
#   rows are simply skipped); columns the same way, by the first text in each column;
# * formulas as tokens in a canonical form: numbers as floats (``4.0`` = ``4``, ``1E-9`` =
#   ``0.000000001``), ``TRUE()`` = ``TRUE``, function names upper case without ``_xlfn.``,
#   whitespace and ``$`` dropped, and every reference mapped back to the fresh build's sheet, row
#   and column, so a reference that moved with its rows compares equal.
#
# A finding is reported at the cell's current address, with its sheet and row label.

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")
_COL_REF = re.compile(r"^\$?([A-Za-z]{1,3})$")
_ROW_REF = re.compile(r"^\$?([0-9]+)$")
_XL_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.")


def cell_formula(cell: Any) -> str | None:
    """The formula text of a cell (array formulas included), else None."""
    if cell.data_type != "f":
        return None
    value = cell.value
    text = getattr(value, "text", value)  # openpyxl's ArrayFormula / DataTableFormula
    return text if isinstance(text, str) else None


def _label(values: Iterable[Any]) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip() and not value.startswith("="):
            return " ".join(value.split())
    return None


def _signature(cells: Sequence[Any]) -> tuple[str, ...]:
    """What identifies a row (or column): its first text; else only whether it is empty (a run
    of unlabelled lines then aligns in order, whatever was typed over their formulas)."""
    label = _label(c.value for c in cells if c.data_type == "s")
    if label is not None:
        return ("label", label)
    return ("unlabelled",) if cells else ("empty",)


def _lines(ws: Any, *, by_rows: bool) -> dict[int, tuple[str, ...]]:
    """Signature of every row (or column) number of ``ws`` up to its last used one."""
    lines: dict[int, list[Any]] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None:
                lines.setdefault(cell.row if by_rows else cell.column, []).append(cell)
    last = max(lines, default=0)
    return {n: _signature(lines.get(n, [])) for n in range(1, last + 1)}


def _align(
    expected: dict[int, tuple[str, ...]], actual: dict[int, tuple[str, ...]]
) -> dict[int, int]:
    """Expected line number -> actual line number, for the lines found in order in both."""
    exp, act = list(expected), list(actual)
    matcher = difflib.SequenceMatcher(None, [expected[n] for n in exp], [actual[n] for n in act],
                                      autojunk=False)  # fmt: skip
    mapping: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            # a relabelled line, or a line an analyst typed over, keeps its place
            mapping.update(zip(exp[i1:i2], act[j1:j2], strict=True))
    return mapping


def _extend(mapping: dict[int, int], n: int) -> int | None:
    """``mapping[n]``; past the last line either sheet uses, the same shift as that line."""
    found = mapping.get(n)
    if found is None and mapping:
        last = max(mapping)
        if n > last:
            return n + mapping[last] - last
    return found


@dataclass
class _SheetMap:
    title: str  # in the workbook
    rows: dict[int, int]  # fresh-build row -> workbook row
    cols: dict[int, int]
    labels: dict[int, str]  # fresh-build row -> its label

    def __post_init__(self) -> None:
        self.back_rows = {v: k for k, v in self.rows.items()}
        self.back_cols = {v: k for k, v in self.cols.items()}

    def row(self, n: int, *, back: bool = False) -> int | None:
        return _extend(self.back_rows if back else self.rows, n)

    def col(self, n: int, *, back: bool = False) -> int | None:
        return _extend(self.back_cols if back else self.cols, n)


def _match_sheets(expected: Workbook, actual: Workbook) -> dict[str, str]:
    """Fresh-build sheet title -> the workbook's title for the same sheet (renames followed)."""
    result = {t: t for t in expected.sheetnames if t in actual.sheetnames}
    votes: dict[str, dict[str, int]] = {}
    for name, defined in expected.defined_names.items():
        there = actual.defined_names.get(name)
        if there is None:
            continue
        for (title, _), (now, _) in zip(defined.destinations, there.destinations, strict=False):
            votes.setdefault(title, {}).setdefault(now, 0)
            votes[title][now] += 1
    for title in expected.sheetnames:
        if title in result:
            continue
        taken = set(result.values())
        ranked = sorted(votes.get(title, {}).items(), key=lambda kv: -kv[1])
        for now, _ in ranked:
            if now in actual.sheetnames and now not in taken and now not in expected.sheetnames:
                result[title] = now
                break
        else:  # no name on the sheet: the one under the same heading (A1), else the sheet at
            # the same position, if it is nobody else's
            free = [t for t in actual.sheetnames if t not in taken and t not in expected.sheetnames]
            heading = _heading(expected, title)
            same = [t for t in free if heading and _heading(actual, t) == heading]
            index = expected.sheetnames.index(title)
            there = actual.sheetnames[index] if index < len(actual.sheetnames) else None
            if len(same) == 1 or there in free:
                result[title] = same[0] if len(same) == 1 else str(there)
    return result


def _heading(wb: Workbook, title: str) -> Any:
    """A worksheet's heading (cell A1: gpuval writes each sheet's title there); None for a chart
    sheet."""
    ws = wb[title]
    return ws["A1"].value if isinstance(ws, Worksheet) else None


def _map_sheet(expected_ws: Any, actual_ws: Any) -> _SheetMap:
    exp_rows = _lines(expected_ws, by_rows=True)
    labels = {n: sig[1] for n, sig in exp_rows.items() if sig[0] == "label"}
    return _SheetMap(
        actual_ws.title,
        _align(exp_rows, _lines(actual_ws, by_rows=True)),
        _align(_lines(expected_ws, by_rows=False), _lines(actual_ws, by_rows=False)),
        labels,
    )


class _Canon:
    """Formulas to canonical token tuples, with the workbook's references mapped back to the
    fresh build's sheets, rows and columns (``maps`` None for the fresh build itself)."""

    def __init__(self, maps: dict[str, _SheetMap] | None = None) -> None:
        self.back = {m.title.lower(): (title, m) for title, m in (maps or {}).items()}
        self.identity = maps is None

    def ref(self, text: str, own: str) -> tuple[str, ...] | None:
        """A reference as (sheet, cells...), or None when ``text`` is not a cell reference."""
        sheet, _, area = text.rpartition("!")
        if sheet.startswith("'") and sheet.endswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
        sheet = sheet or own
        parts = area.split(":")
        if len(parts) > 2:
            return None
        title, sheet_map = sheet, None
        if not self.identity:
            title, sheet_map = self.back.get(sheet.lower(), (f"?{sheet}", None))

        def row(n: int) -> str:
            return str(n) if self.identity else _shown_line(sheet_map, n, "R")

        def col(n: int) -> str:
            return str(n) if self.identity else _shown_line(sheet_map, n, "C")

        out = [title.lower()]
        for part in parts:
            if m := _CELL_REF.match(part):
                out.append(f"{col(column_index_from_string(m[1].upper()))}|{row(int(m[2]))}")
            elif (m := _COL_REF.match(part)) and len(parts) == 2:
                out.append(f"{col(column_index_from_string(m[1].upper()))}|")
            elif (m := _ROW_REF.match(part)) and len(parts) == 2:
                out.append(f"|{row(int(m[1]))}")
            else:
                return None
        return tuple(out)

    def tokens(self, formula: str, own: str) -> tuple[tuple[str, ...], ...]:
        try:
            items = Tokenizer(formula).items
        except Exception:  # openpyxl raises bare errors on malformed text
            return (("unparsed", formula),)
        out: list[tuple[str, ...]] = []
        for i, tok in enumerate(items):
            kind, sub, value = tok.type, tok.subtype, tok.value
            if kind == Token.WSPACE:
                continue
            if kind == Token.FUNC and sub == Token.OPEN:
                name = value[:-1].upper()
                for prefix in _XL_PREFIXES:
                    name = name.removeprefix(prefix)
                following = items[i + 1] if i + 1 < len(items) else None
                if (
                    name in ("TRUE", "FALSE")
                    and following is not None
                    and following.type == Token.FUNC
                    and following.subtype == Token.CLOSE
                ):
                    out.append(("logical", name))
                    items[i + 1] = Token("", Token.WSPACE)  # its ")" goes with it
                    continue
                out.append(("func", name))
            elif kind == Token.OPERAND and sub == Token.NUMBER:
                out.append(("number", repr(float(value))))
            elif kind == Token.OPERAND and sub == Token.LOGICAL:
                out.append(("logical", value.upper()))
            elif kind == Token.OPERAND and sub == Token.ERROR:
                out.append(("error", value.upper()))
            elif kind == Token.OPERAND and sub == Token.RANGE:
                ref = self.ref(value, own)
                out.append(("ref", *ref) if ref is not None else ("name", value.lower()))
            elif kind == Token.OP_PRE and value == "+":
                continue  # a unary plus means nothing
            else:
                out.append((kind, value))
        return tuple(out)


def _shown_line(sheet_map: _SheetMap | None, n: int, what: str) -> str:
    """A workbook row (column) number as the fresh build's, or a marker no build line equals."""
    found = None
    if sheet_map is not None:
        found = sheet_map.row(n, back=True) if what == "R" else sheet_map.col(n, back=True)
    return str(found) if found is not None else f"?{what}{n}"


def _render(formula: str, own: str, maps: dict[str, _SheetMap]) -> str:
    """A fresh-build formula written with the workbook's sheet names, rows and columns (what
    the formula should read where the model row is now)."""
    try:
        items = Tokenizer(formula).items
    except Exception:
        return formula
    parts = ["="]
    for tok in items:
        text = tok.value
        if tok.type == Token.OPERAND and tok.subtype == Token.RANGE:
            sheet, _, area = text.rpartition("!")
            name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            target = maps.get(name or own)
            if target is not None and all(
                _CELL_REF.match(p) or (len(area.split(":")) == 2 and (_COL_REF.match(p)
                                                                        or _ROW_REF.match(p)))
                for p in area.split(":")
            ):  # fmt: skip
                area = ":".join(_move(p, target) for p in area.split(":"))
                text = at(target.title, area) if sheet else area
        parts.append(text)
    return "".join(parts)


def _move(part: str, target: _SheetMap) -> str:
    def col(letters: str) -> str:
        n = column_index_from_string(letters.upper())
        return get_column_letter(target.col(n) or n)

    def row(digits: str) -> str:
        return str(target.row(int(digits)) or digits)

    if m := _CELL_REF.match(part):
        dollar_c, dollar_r = part.startswith("$"), "$" in part[1:]
        return f"{'$' if dollar_c else ''}{col(m[1])}{'$' if dollar_r else ''}{row(m[2])}"
    if m := _COL_REF.match(part):
        return f"{'$' if part.startswith('$') else ''}{col(m[1])}"
    m = _ROW_REF.match(part)
    assert m is not None
    return f"{'$' if part.startswith('$') else ''}{row(m[1])}"


def _shown(value: Any) -> str:
    return "empty" if value is None else f"the constant {value!r}"


def _earlier_layout(wb: Workbook) -> str | None:
    """The finding for a workbook whose layout (:data:`~gpuval.workbook.build.LAYOUT`) is not
    this gpuval's: compared with this version's build, every moved formula would read as an
    analyst's edit. None for a workbook of this layout."""
    from gpuval.workbook.build import LAYOUT, other_layout

    if (built := other_layout(wb)) is None:
        return None
    return (f"the workbook was built {built}, and this gpuval builds the layout of {LAYOUT}: the "
            "formulas cannot be compared. Check it with the gpuval that built it, or carry it "
            "into a new build with gpuval build --from WORKBOOK --out NEW (its inputs, "
            "assumptions, peer table and stored prices; not your own sheets).")  # fmt: skip


def audit_formulas(wb: Workbook, expected: Workbook | None = None) -> list[str]:
    """Every model formula of a fresh build that the workbook lacks or has changed in meaning,
    one line each, at its current address with its sheet and row label."""
    if expected is None:
        if (earlier := _earlier_layout(wb)) is not None:
            return [earlier]
        expected = _fresh_build(wb)
    titles = _match_sheets(expected, wb)
    maps = {t: _map_sheet(expected[t], wb[now]) for t, now in titles.items()}
    fresh, mine = _Canon(), _Canon(maps)
    # Nothing moved, nothing renamed (the usual case): the same text then means the same formula,
    # and only the formulas whose text differs need parsing.
    unmoved = all(
        m.title == t
        and all(k == v for k, v in m.rows.items())
        and all(k == v for k, v in m.cols.items())
        for t, m in maps.items()
    ) and all(t in maps for t in wb.sheetnames if t in expected.sheetnames)
    details: list[str] = []
    missing_rows: set[tuple[str, int]] = set()
    for ews in expected.worksheets:
        sheet_map = maps.get(ews.title)
        cells = [
            (c, f) for row in ews.iter_rows() for c in row if (f := cell_formula(c)) is not None
        ]
        if sheet_map is None:
            if cells:
                details.append(f"sheet {ews.title!r} is missing (deleted, or renamed beyond "
                               "recognition)")  # fmt: skip
            continue
        for cell, formula in cells:
            row, col = cast(int, cell.row), cast(int, cell.column)
            label = sheet_map.labels.get(row)
            row_text = f"row {label!r}" if label else f"row {row} of a fresh build"
            r, c = sheet_map.rows.get(row), sheet_map.cols.get(col)
            if r is None or c is None:
                if (ews.title, row) not in missing_rows:
                    missing_rows.add((ews.title, row))
                    what = "row" if r is None else f"column {get_column_letter(col)}"
                    details.append(
                        f"{at(sheet_map.title)}: the model {what} of {row_text} is missing "
                        f"(deleted, or its label changed); it held {formula}"
                    )
                continue
            now = wb[sheet_map.title].cell(r, c)
            where = at(sheet_map.title, now.coordinate)
            current = cell_formula(now)
            if current is None:
                details.append(f"{where}: the formula {_render(formula, ews.title, maps)} was "
                               f"replaced by {_shown(now.value)} ({row_text})")  # fmt: skip
            elif (not unmoved or current != formula) and fresh.tokens(
                formula, ews.title
            ) != mine.tokens(current, sheet_map.title):
                details.append(f"{where}: formula changed from {_render(formula, ews.title, maps)} "
                               f"to {current} ({row_text})")  # fmt: skip
    return list(dict.fromkeys(details))
