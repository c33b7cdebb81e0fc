"""``gpuval check``: recalculate a workbook in LibreOffice and audit it.

Checks, each reported with its details (every finding names the cell at its current address):

* **errors**: no cell holds an error value after a full recalculation (real error cells only;
  text such as "Err: none" is text);
* **formulas**: every model formula of a fresh build (same target, same peer table) is still
  there, compared by meaning (:func:`audit_formulas`): what Excel and LibreOffice rewrite on save,
  inserted or deleted rows and columns and renamed sheets give no finding; a constant over a
  formula, a changed formula or a deleted model row does, with its sheet and row label;
* **outputs**: every ``out_*`` equals the Python core (``gpuval evaluate``) to 1e-9 relative;
* **master**: the workbook's own master check is TRUE;
* **bounds**: every input lies within its validated bounds;
* **plausible**: the figures an analyst would question (:func:`plausibility_findings`): price x
  shares against a stated market value, value per share against price, share counts, revenue and
  backlog against market value, whole years;
* **data age**: the market data (``data_asof``) is at most ``max_age_days`` old.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline.recalc import Recalculation
from gpuval.pipeline.safety import open_package, safe_load_workbook

# The model (gpuval.workbook: build, evaluate, the sheets; numpy and scipy behind them) is
# imported where it is used, so that LibreOffice starts recalculating while Python imports it.

__all__ = [
    "CheckReport",
    "CheckResult",
    "audit_formulas",
    "check_workbook",
    "formula_map",
    "plausibility_findings",
    "require_gpuval",
]

REL_TOL = 1e-9
MAX_DETAILS = 20


@dataclass
class CheckResult:
    name: str
    description: str
    passed: bool
    details: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    workbook: Path
    results: list[CheckResult]
    #: the recalculated workbook the checks read (values, ``data_only``), for publish to reuse
    values: Workbook | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workbook": str(self.workbook),
            "passed": self.passed,
            "checks": [
                {"name": r.name, "description": r.description, "passed": r.passed,
                 "details": r.details}
                for r in self.results
            ],
        }  # fmt: skip


def named_value(wb: Workbook, name: str) -> Any:
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
    from gpuval.workbook.evaluate import REQUIRED

    for name in [*REQUIRED, "chk_master", "data_asof"]:
        defined = wb.defined_names.get(name)
        places = list(defined.destinations) if defined is not None else []
        if len(places) != 1 or places[0][0] not in wb.sheetnames:
            where = f"points at a missing sheet {places[0][0]!r}" if places else "is missing"
            raise GpuvalError(
                f"{path.name}: the defined name {name!r} {where}; restore it (or rebuild the "
                "workbook with gpuval build) before checking, refreshing or publishing."
            )


def formula_map(wb: Workbook) -> dict[tuple[str, str], str]:
    """Every formula a fresh build puts in the model, for the workbook's own peer table."""
    return {
        (ws.title, cell.coordinate): formula
        for ws in _fresh_build(wb).worksheets
        for row in ws.iter_rows()
        for cell in row
        if (formula := _formula(cell)) is not None
    }


def _fresh_build(wb: Workbook) -> Workbook:
    from gpuval.workbook.build import build_workbook

    values = read_inputs_lenient(wb)
    return build_workbook(target=values["target"], peer_rows=values["rows"]).wb


def read_inputs_lenient(wb: Workbook) -> dict[str, Any]:
    """The target and the peer rows, read straight from the workbook."""
    from gpuval.workbook.sheets import peers

    rows: list[dict[str, Any]] = []
    columns = {}
    for key in peers.RAW:
        defined = wb.defined_names.get(f"data_peers_{key}")
        if defined is None:
            raise GpuvalError(f"The workbook has no defined name 'data_peers_{key}'.")
        title, coord = next(iter(defined.destinations))
        cells = wb[title][coord.replace("$", "")]
        columns[key] = [c[0].value for c in cells]
    for i in range(len(columns["id"])):
        rows.append({key: columns[key][i] for key in peers.RAW})
    return {"target": named_value(wb, "in_target"), "rows": rows}


# --- the formula audit, by meaning --------------------------------------------------------------
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


def _at(title: str, coord: str = "") -> str:
    """``Sheet!A1``, the sheet name quoted as Excel writes it when it needs quotes."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
        title = "'" + title.replace("'", "''") + "'"
    return f"{title}!{coord}" if coord else title


def _formula(cell: Any) -> str | None:
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
        else:  # no name on the sheet: the sheet at the same position, if it is nobody else's
            index = expected.sheetnames.index(title)
            if index < len(actual.sheetnames):
                now = actual.sheetnames[index]
                if now not in taken and now not in expected.sheetnames:
                    result[title] = now
    return result


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
                text = _at(target.title, area) if sheet else area
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


def audit_formulas(wb: Workbook, expected: Workbook | None = None) -> list[str]:
    """Every model formula of a fresh build that the workbook lacks or has changed in meaning,
    one line each, at its current address with its sheet and row label."""
    expected = expected if expected is not None else _fresh_build(wb)
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
        cells = [(c, f) for row in ews.iter_rows() for c in row if (f := _formula(c)) is not None]
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
                        f"{_at(sheet_map.title)}: the model {what} of {row_text} is missing "
                        f"(deleted, or its label changed); it held {formula}"
                    )
                continue
            now = wb[sheet_map.title].cell(r, c)
            where = _at(sheet_map.title, now.coordinate)
            current = _formula(now)
            if current is None:
                details.append(f"{where}: the formula {_render(formula, ews.title, maps)} was "
                               f"replaced by {_shown(now.value)} ({row_text})")  # fmt: skip
            elif (not unmoved or current != formula) and fresh.tokens(
                formula, ews.title
            ) != mine.tokens(current, sheet_map.title):
                details.append(f"{where}: formula changed from {_render(formula, ews.title, maps)} "
                               f"to {current} ({row_text})")  # fmt: skip
    return list(dict.fromkeys(details))


def _check_formulas(wb: Workbook) -> CheckResult:
    details = audit_formulas(wb)
    if len(details) > MAX_DETAILS:
        details = [*details[:MAX_DETAILS], f"... and {len(details) - MAX_DETAILS} more"]
    return CheckResult("formulas", "Every model formula is in place, none overwritten",
                       not details, details)  # fmt: skip


#: Sheets of the UDF working copy: LibreOffice has no GPUVAL_ functions (#NAME? there is expected).
UDF_SHEETS = {"UDF check", "xlwings.conf"}


def _check_errors(values: Workbook, formulas: Workbook) -> CheckResult:
    """Error values, those whose own formula holds the error (the origin) listed first."""
    origins, knock_on = [], []
    for ws in values.worksheets:
        if ws.title in UDF_SHEETS:
            continue
        for row in ws.iter_rows():
            for cell in row:
                # an error cell, never text that merely looks like one ("Err: none")
                if cell.data_type == "e" and isinstance(cell.value, str):
                    text = f"{ws.title}!{cell.coordinate} = {cell.value}"
                    source = _formula(formulas[ws.title][cell.coordinate])
                    if source is not None and cell.value.split()[0] in source:
                        origins.append(f"{text} (in its own formula {source})")
                    else:
                        knock_on.append(text)
    details = origins + knock_on
    if len(details) > MAX_DETAILS:
        details = [*details[:MAX_DETAILS], f"... and {len(details) - MAX_DETAILS} more"]
    return CheckResult("errors", "No error value in any cell after recalculation", not details,
                       details)  # fmt: skip


def _close(a: Any, b: Any) -> bool:
    if a in (None, "n/a") or b in (None, "n/a"):
        return a in (None, "n/a") and b in (None, "n/a")
    if not isinstance(a, int | float) or isinstance(a, bool):
        return False
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def _core_outputs(path: Path) -> dict[str, Any] | str:
    """``gpuval evaluate`` of the workbook, or the sentence saying why it cannot be valued."""
    from gpuval.workbook.evaluate import evaluate

    try:
        return evaluate(path)
    except GpuvalError as exc:
        return str(exc)


def _check_outputs(expected: dict[str, Any] | str, values: Workbook) -> CheckResult:
    if isinstance(expected, str):
        return CheckResult("outputs", "Every out_ equals the Python core", False, [expected])
    details = []
    for name, value in expected.items():
        sheet = named_value(values, name)
        if not _close(sheet, value):
            details.append(f"{name}: workbook {sheet!r}, core {value!r}")
    return CheckResult("outputs", "Every out_ equals the Python core (1e-9 relative)",
                       not details, details)  # fmt: skip


def _check_bounds(wb: Workbook, path: Path) -> CheckResult:
    from gpuval.workbook.evaluate import read_inputs_from
    from gpuval.workbook.sheets import inputs as input_sheet

    try:
        values = read_inputs_from(wb, path)
    except GpuvalError as exc:
        return CheckResult("bounds", "Every input within its bounds", False, [str(exc)])
    details = []
    for spec in input_sheet.ALL:
        if spec.kind == "list":
            continue
        for name in spec.names():
            value = values[name]
            if not spec.lo <= value <= spec.hi:
                details.append(f"{name} = {value} is outside {spec.lo} .. {spec.hi}")
    return CheckResult("bounds", "Every input within its validated bounds", not details, details)


def _check_age(values: Workbook, max_age_days: int, today: dt.date) -> CheckResult:
    asof = named_value(values, "data_asof")
    if isinstance(asof, dt.datetime):
        asof = asof.date()
    if not isinstance(asof, dt.date):
        return CheckResult("data_age", "Market data is recent", False,
                           ["the workbook has no market-data date (data_asof)"])  # fmt: skip
    age = (today - asof).days
    passed = 0 <= age <= max_age_days
    detail = (
        f"market data as of {asof} is {age} days old (limit {max_age_days})"
        if age >= 0
        else f"market data is dated {asof}, after {today}: a wrong date in the data or prices"
    )
    return CheckResult("data_age", f"Market data at most {max_age_days} days old", passed,
                       [] if passed else [detail])  # fmt: skip


# --- plausibility: what an experienced analyst would look at ------------------------------------

#: Price x shares may differ from a stated market value (dates differ, prices move) but not by more
#: than this factor; a unit slip (shares in millions, 亿) or a currency mix-up is far larger.
MV_FACTOR = 3.0
#: A value per share outside price / 1000 .. price x 1000 is a unit slip, not a valuation.
VALUE_FACTOR = 1000.0
#: Market value per share (listing currency) when no price is stated.
PRICE_RANGE = (0.01, 100_000.0)
#: Market value / revenue (or order backlog): beyond these a figure is in the wrong unit.
PS_RANGE = (0.01, 100_000.0)


@dataclass(frozen=True)
class _Figure:
    where: str  # Sheet!A1
    value: Any


def _named_cells(wb: Workbook, name: str) -> list[_Figure]:
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
                out.append(_Figure(_at(title, cell.coordinate), cell.value))
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1e6 else f"{x:,.6g}"


def _factor(ratio: float) -> str:
    """``2,400 times`` or ``1/1,000,000 of``: how far a figure is from what it is compared with."""

    def rounded(x: float) -> str:  # three significant digits, with thousands separators
        return f"{float(f'{x:.3g}'):,.0f}"

    if ratio >= 1:
        return f"{rounded(ratio)} times" if ratio >= 10 else f"{ratio:.2g} times"
    return f"1/{rounded(1 / ratio)} of" if ratio <= 0.1 else f"{ratio:.2g} times"


def _usd_per_unit(values: Workbook) -> dict[str, float]:
    rates = {"USD": 1.0}
    hkd = _number(named_value(values, "in_fx_usd_per_hkd"))
    cny = _number(named_value(values, "in_fx_cny_per_usd"))
    if hkd:
        rates["HKD"] = hkd
    if cny:
        rates["CNY"] = 1.0 / cny
    return rates


def plausibility_findings(values: Workbook) -> list[str]:
    """Implausible figures in a workbook (computed values loaded): each finding names the cell,
    the figure and what is implausible about it."""
    from gpuval.workbook.sheets import peers

    details: list[str] = []
    columns = {key: _named_cells(values, f"data_peers_{key}") for key in peers.RAW}
    rates = _usd_per_unit(values)
    revenue_keys = {"revenue_trailing": ("trailing revenue", 1.0),
                    "revenue_h1": ("half-year revenue (x2)", 2.0),
                    "revenue_forward": ("forward revenue", 1.0),
                    "backlog": ("order backlog", 1.0)}  # fmt: skip
    for i, ident in enumerate(columns["id"]):
        figure = {k: columns[k][i] if i < len(columns[k]) else _Figure("?", None) for k in columns}
        who = ident.value if isinstance(ident.value, str) else f"peer row {i + 1}"
        price, shares = _number(figure["price"].value), _number(figure["shares"].value)
        stated = _number(figure["market_value"].value)
        ccy = figure["listing_ccy"].value
        if price and shares and stated and stated > 0:
            ratio = price * shares / stated
            if not 1 / MV_FACTOR <= ratio <= MV_FACTOR:
                details.append(
                    f"{figure['shares'].where} ({who} shares) = {_fmt(shares)}: price "
                    f"{_fmt(price)} ({figure['price'].where}) x shares = {_fmt(price * shares)} "
                    f"{ccy}, {_factor(ratio)} the stated market value {_fmt(stated)} {ccy} "
                    f"({figure['market_value'].where}); a figure in the wrong unit "
                    "(millions, 亿) or currency?"
                )
        market = price * shares if price and shares else stated
        if not price and shares and shares > 0 and stated and stated > 0:
            per_share = stated / shares
            if not PRICE_RANGE[0] <= per_share <= PRICE_RANGE[1]:
                details.append(
                    f"{figure['shares'].where} ({who} shares) = {_fmt(shares)}: the stated "
                    f"market value {_fmt(stated)} {ccy} ({figure['market_value'].where}) is "
                    f"{_fmt(per_share)} {ccy} a share, outside {PRICE_RANGE[0]:g} .. "
                    f"{PRICE_RANGE[1]:,.0f}; shares in the wrong unit?"
                )
        listing_rate = rates.get(ccy) if isinstance(ccy, str) else None
        reporting = figure["reporting_ccy"].value
        reporting_rate = rates.get(reporting) if isinstance(reporting, str) else None
        if not market or market <= 0 or listing_rate is None or reporting_rate is None:
            continue
        for key, (what, scale) in revenue_keys.items():
            amount = _number(figure[key].value)
            if not amount or amount <= 0:
                continue
            multiple = market * listing_rate / (amount * scale * reporting_rate)
            if not PS_RANGE[0] <= multiple <= PS_RANGE[1]:
                details.append(
                    f"{figure[key].where} ({who} {what}) = {_fmt(amount)} {reporting}: market "
                    f"value / {what.split(' (')[0]} = {_fmt(multiple)}, outside "
                    f"{PS_RANGE[0]:g} .. {PS_RANGE[1]:,.0f}; a figure in the wrong unit?"
                )
    details += _value_vs_price(values, columns)
    details += _whole_inputs(values)
    return details


def _value_vs_price(values: Workbook, columns: dict[str, list[_Figure]]) -> list[str]:
    target = named_value(values, "in_target")
    ids = [f.value for f in columns["id"]]
    if target not in ids or len(columns["price"]) <= ids.index(target):
        return []
    price_cell = columns["price"][ids.index(target)]
    price = _number(price_cell.value)
    if not price or price <= 0:
        return []
    details = []
    for name in sorted(n for n in values.defined_names if n.startswith("out_")):
        if "per_share" not in name and name != "out_peer_median_implied_value":
            continue
        for cell in _named_cells(values, name):
            value = _number(cell.value)
            if value is None:
                continue
            ratio = value / price
            if not 1 / VALUE_FACTOR <= ratio <= VALUE_FACTOR:
                against = _factor(ratio) if ratio > 0 else "not positive against"
                details.append(
                    f"{cell.where} ({name}) = {_fmt(value)}: {against} the share price "
                    f"{_fmt(price)} ({price_cell.where}), outside 1/{VALUE_FACTOR:,.0f} .. "
                    f"{VALUE_FACTOR:,.0f}x; check the share count and the units of the inputs"
                )
    return details


def _whole_inputs(values: Workbook) -> list[str]:
    from gpuval.workbook.sheets import inputs as input_sheet

    details = []
    for spec in input_sheet.ALL:
        if spec.kind != "whole":
            continue
        for name in spec.names():
            for cell in _named_cells(values, name):
                value = _number(cell.value)
                if value is not None and value != int(value):
                    details.append(
                        f"{cell.where} ({name}, {spec.label!r}) = {value:g}: must be a whole "
                        f"number ({spec.unit})"
                    )
    return details


def _check_plausible(values: Workbook) -> CheckResult:
    details = plausibility_findings(values)
    return CheckResult("plausible", "Figures are plausible (units, magnitudes, whole years)",
                       not details, details[:MAX_DETAILS])  # fmt: skip


class _Job(Protocol):
    def result(self) -> Path: ...


def check_workbook(
    path: Path,
    *,
    max_age_days: int = 30,
    today: dt.date | None = None,
    keep_recalculated: Path | None = None,
    recalculated: Path | _Job | None = None,
) -> CheckReport:
    """Recalculate ``path`` in LibreOffice and run every check (see the module docstring).

    ``keep_recalculated``: where to keep LibreOffice's recalculated copy. ``recalculated``: that
    copy already made, or being made (an object whose ``result()`` returns it, as
    :class:`~gpuval.pipeline.recalc.Recalculation`), of this workbook or of a copy that differs
    only in cells no formula reads (publish's stamped copy); no LibreOffice run of its own then.
    LibreOffice starts first (once the file passes the cheap safety checks) and Python does
    everything that needs no computed value while it runs.
    """
    path = Path(path)
    open_package(path)  # refuse a hostile or broken file before LibreOffice sees it
    with tempfile.TemporaryDirectory(prefix="gpuval-check-") as tmp:
        own = None
        job: Path | _Job
        if recalculated is None:
            own = job = Recalculation(path, keep_recalculated or Path(tmp) / path.name)
        else:
            job = recalculated
        try:
            wb = open_workbook(path)
            require_gpuval(wb, path)
            formulas = _check_formulas(wb)
            expected = _core_outputs(path)
            bounds = _check_bounds(wb, path)
            computed = job if isinstance(job, Path) else job.result()
            values = open_workbook(computed, data_only=True)
        finally:
            if own is not None:
                own.close()
    master = named_value(values, "chk_master")
    results = [
        _check_errors(values, wb),
        formulas,
        _check_outputs(expected, values),
        CheckResult("master", "The workbook's master check is TRUE", master is True,
                    [] if master is True else [f"chk_master is {master!r}"]),
        bounds,
        _check_plausible(values),
        _check_age(values, max_age_days, today or dt.date.today()),
    ]  # fmt: skip
    return CheckReport(path, results, values)


def open_workbook(path: Path, *, data_only: bool = False) -> Workbook:
    """Open an .xlsx for reading (as ``gpuval.workbook.evaluate.open_workbook``)."""
    return safe_load_workbook(path, data_only=data_only)
