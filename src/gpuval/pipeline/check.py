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
* **snapshot**: the Monte Carlo snapshot (computed by Python at build or refresh) is of the
  workbook's target and inputs (``mc_current``), so no stale draw is published;
* **bounds**: every input lies within its validated bounds;
* **plausible**: the figures an analyst would question (:func:`plausibility_findings`): price x
  shares against a stated market value, value per share against price, share counts, revenue and
  backlog against market value, whole years;
* **data age**: every market figure the valuation uses (the Peers column "Date if used"; its MIN
  is the Cover's ``data_asof``) is at most ``max_age_days`` old, each stale one named.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any, Protocol

from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline.findings import MAX_DETAILS, CheckReport, CheckResult, capped, first_few
from gpuval.pipeline.formula_audit import audit_formulas, cell_formula, formula_map
from gpuval.pipeline.names import named_value, outside_the_table, require_gpuval
from gpuval.pipeline.plausible import plausibility_findings
from gpuval.pipeline.recalc import Recalculation
from gpuval.pipeline.safety import open_package, safe_load_workbook
from gpuval.pipeline.xlsxpatch.values import excel_only

# The model (gpuval.workbook: build, evaluate, the sheets; numpy and scipy behind them) is
# imported where it is used, so that LibreOffice starts recalculating while Python imports it.

__all__ = [
    "CheckReport",
    "CheckResult",
    "audit_formulas",
    "check_workbook",
    "formula_map",
    "named_value",
    "plausibility_findings",
    "require_gpuval",
]

REL_TOL = 1e-9


def _check_formulas(wb: Workbook) -> CheckResult:
    ids = [(c.parent.title, c.coordinate) for c in _column(wb, "data_peers_id")]
    outside = (
        outside_the_table(lambda sheet, ref: wb[sheet][ref].value, ids[0], ids[-1]) if ids else []
    )
    details = capped(outside + audit_formulas(wb))
    return CheckResult("formulas", "Every model formula is in place, none overwritten",
                       not details, details)  # fmt: skip


#: Sheets of the UDF working copy: LibreOffice has no GPUVAL_ functions (#NAME? there is expected).
UDF_SHEETS = {"UDF check", "xlwings.conf"}


def _chart_columns(values: Workbook) -> dict[tuple[str, str], int]:
    """(sheet, column) of the chart columns (names ``chart_*``), where #N/A means "no point",
    with the first row of their area: a row typed under the table is named by the formulas check,
    and its chart cell is no second finding."""
    columns: dict[tuple[str, str], int] = {}
    for name, defined in values.defined_names.items():
        if name.startswith("chart_"):
            for title, coord in defined.destinations:
                if title in values.sheetnames:
                    first, *_ = coord.replace("$", "").split(":")
                    column, row = coordinate_from_string(first)
                    columns[title, column] = min(row, columns.get((title, column), row))
    return columns


def _check_errors(values: Workbook, formulas: Workbook, cause: str | None = None) -> CheckResult:
    """Error values, those whose own formula holds the error (the origin) listed first, and
    before them ``cause``, an input the bounds check refused (text typed where a number belongs
    turns thousands of cells into #VALUE!); #N/A in a chart column is a point the chart skips,
    not an error."""
    origins, knock_on, excel = [], [], []
    charts = _chart_columns(values)
    for ws in values.worksheets:
        if ws.title in UDF_SHEETS:
            continue
        for row in ws.iter_rows():
            for cell in row:
                # an error cell, never text that merely looks like one ("Err: none")
                if cell.data_type == "e" and isinstance(cell.value, str):
                    top = charts.get((ws.title, cell.column_letter))
                    if cell.value == "#N/A" and top is not None and cell.row >= top:
                        continue
                    text = f"{ws.title}!{cell.coordinate} = {cell.value}"
                    source = cell_formula(formulas[ws.title][cell.coordinate])
                    if source is not None and excel_only(source, cell.value):
                        excel.append(f"{ws.title}!{cell.coordinate}")
                    elif source is not None and cell.value.split()[0] in source:
                        origins.append(f"{text} (in its own formula {source})")
                    else:
                        knock_on.append(text)
    first = [f"likely cause: {cause}"] if cause and (origins or knock_on) else []
    lacking = [f"not computed here: {first_few(excel)} (an Excel 365 function LibreOffice "
               "lacks; Excel computes it)"] if excel else []  # fmt: skip
    errors = first + origins + knock_on
    return CheckResult("errors", "No error value in any cell after recalculation", not errors,
                       capped(lacking + errors))  # fmt: skip


def _close(a: Any, b: Any) -> bool:
    if a in (None, "n/a") or b in (None, "n/a"):
        return a in (None, "n/a") and b in (None, "n/a")
    if not isinstance(a, int | float) or isinstance(a, bool):
        return False
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def _core_outputs(path: Path, wb: Workbook) -> dict[str, Any] | str:
    """``gpuval evaluate`` of the workbook (``wb``: it, open), or the sentence saying why it
    cannot be valued."""
    from gpuval.workbook.evaluate import evaluate

    try:
        return evaluate(path, wb)
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


def _column(values: Workbook, name: str) -> list[Any]:
    """The cells of the named column (empty when the name or its sheet is gone)."""
    defined = values.defined_names.get(name)
    places = list(defined.destinations) if defined is not None else []
    if len(places) != 1 or places[0][0] not in values.sheetnames:
        return []
    cells = values[places[0][0]][places[0][1].replace("$", "")]
    rows = cells if isinstance(cells, tuple) else ((cells,),)
    return [c for row in rows for c in (row if isinstance(row, tuple) else (row,))]


def _day(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def _age_finding(what: str, day: dt.date, max_age_days: int, today: dt.date) -> str | None:
    age = (today - day).days
    if age < 0:
        return f"{what} is dated {day}, after {today}: a wrong date in the data or prices"
    if age > max_age_days:
        return f"{what} dated {day} is {age} days old (limit {max_age_days})"
    return None


def _check_age(values: Workbook, max_age_days: int, today: dt.date) -> CheckResult:
    """Every market figure the valuation uses (Peers "Date if used", ``peers_used_dates``) at most
    ``max_age_days`` old, each stale one named by its date cell; a workbook without that column:
    its ``data_asof``."""
    from gpuval.workbook.sheets import peers

    title = f"Every market figure used at most {max_age_days} days old"
    used = _column(values, peers.USED_DATES)
    as_of = _column(values, "data_peers_as_of")
    if not used or len(used) != len(as_of):
        asof = _day(named_value(values, "data_asof"))
        if not isinstance(asof, dt.date):
            return CheckResult("data_age", "Market data is recent", False,
                               ["the workbook has no market-data date (data_asof)"])  # fmt: skip
        age = (today - asof).days
        detail = (
            f"oldest market figure used, of {asof}, is {age} days old (limit {max_age_days})"
            if age >= 0
            else f"market data is dated {asof}, after {today}: a wrong date in the data or prices"
        )
        passed = 0 <= age <= max_age_days
        return CheckResult("data_age", title, passed, [] if passed else [detail])
    columns = {key: _column(values, f"data_peers_{key}")
               for key in ("id", "market_basis", "price", "shares")}  # fmt: skip
    details = []
    for i, (flag, cell) in enumerate(zip(used, as_of, strict=True)):
        if flag.value in (None, "", peers.NOT_USED):
            continue

        def raw(key: str, i: int = i) -> Any:
            return columns[key][i].value if i < len(columns[key]) else None

        priced = all(isinstance(raw(k), int | float) for k in ("price", "shares"))
        basis = f" ({raw('market_basis')})" if raw("market_basis") not in (None, "") else ""
        what = (f"{cell.parent.title}!{cell.coordinate} {raw('id')} "
                f"{'price' if priced else 'market value'}{basis}")  # fmt: skip
        day = _day(flag.value)
        # an empty date cell: Date if used is "no date" (Excel's day 0 in an earlier layout)
        if cell.value in (None, "") or (isinstance(day, dt.date) and day.year < 1900):
            details.append(f"{what} has no date (Market figure date is empty)")
            continue
        if isinstance(cell.value, str):
            details.append(f"{what} has no date: its market figure date is the text "
                           f"{cell.value!r}, not a date (type it as a date)")  # fmt: skip
            continue
        if not isinstance(day, dt.date):
            details.append(f"{what} has no date (Date if used is {flag.value!r})")
            continue
        found = _age_finding(what, day, max_age_days, today)
        if found is not None:
            details.append(found)
    return CheckResult("data_age", title, not details, capped(details))


def _check_snapshot(values: Workbook) -> CheckResult:
    current = named_value(values, "mc_current")
    details = []
    if current is not True:
        defined = values.defined_names.get("mc_current")
        title, coord = next(iter(defined.destinations)) if defined else ("Monte Carlo", "?")
        details.append(f"{title}!{coord.replace('$', '')} (mc_current) is {current!r}: the "
                       "snapshot was drawn for other inputs or another target; gpuval refresh "
                       "redraws it")  # fmt: skip
    return CheckResult("snapshot", "The Monte Carlo snapshot is of the workbook's target and "
                       "inputs", not details, details)  # fmt: skip


def _check_plausible(values: Workbook) -> CheckResult:
    details = plausibility_findings(values)
    return CheckResult("plausible", "Figures are plausible (units, magnitudes, whole years)",
                       not details, details[:MAX_DETAILS])  # fmt: skip


class _Job(Protocol):
    def result(self) -> Path: ...


def _failing_checks(values: Workbook, master: Any) -> list[str]:
    """What the master check's sheet (Checks) says fails: each check whose status (column C,
    beside its text in A) is not TRUE, above the master check; else the master's value."""
    title, coord = next(iter(values.defined_names["chk_master"].destinations), ("", "A1"))
    failing = []
    if title in values.sheetnames:
        ws = values[title]
        rows = ws.iter_rows(max_row=ws[coord.replace("$", "")].row - 1, max_col=3)
        failing = [f"{title}!C{a.row}: {a.value} ({c.value!r})" for a, _, c in rows
                   if isinstance(a.value, str) and c.data_type in "be"
                   and c.value is not True]  # fmt: skip
    return failing or [f"chk_master is {master!r}"]


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
            wb = safe_load_workbook(path, keep_vba=True)  # read, never run
            require_gpuval(wb, path)
            formulas = _check_formulas(wb)
            expected = _core_outputs(path, wb)
            bounds = _check_bounds(wb, path)
            computed = job if isinstance(job, Path) else job.result()
            values = safe_load_workbook(computed, data_only=True, keep_vba=True)
        finally:
            if own is not None:
                own.close()
    master = named_value(values, "chk_master")
    results = [
        _check_errors(values, wb, None if bounds.passed else bounds.details[0]),
        formulas,
        _check_outputs(expected, values),
        CheckResult("master", "The workbook's master check is TRUE", master is True,
                    [] if master is True else _failing_checks(values, master)),
        _check_snapshot(values),
        bounds,
        _check_plausible(values),
        _check_age(values, max_age_days, today or dt.date.today()),
    ]  # fmt: skip
    return CheckReport(path, results, values)
