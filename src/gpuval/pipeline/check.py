"""``gpuval check``: recalculate a workbook in LibreOffice and audit it.

Checks, each reported with its details:

* **errors**: no cell holds an error value after a full recalculation;
* **formulas**: every model formula is still there, unchanged (compared with the formula map of a
  fresh build with the workbook's own peer table), none overwritten by a constant;
* **outputs**: every ``out_*`` equals the Python core (``gpuval evaluate``) to 1e-9 relative;
* **master**: the workbook's own master check is TRUE;
* **bounds**: every input lies within its validated bounds;
* **data age**: the market data (``data_asof``) is at most ``max_age_days`` old.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline.recalc import recalculate
from gpuval.workbook.build import build_workbook
from gpuval.workbook.evaluate import REQUIRED, evaluate, open_workbook, read_inputs
from gpuval.workbook.sheets import inputs as input_sheet
from gpuval.workbook.sheets import peers

__all__ = ["CheckReport", "CheckResult", "check_workbook", "formula_map", "require_gpuval"]

ERROR_PREFIXES = ("#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:")
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
    values = read_inputs_lenient(wb)
    book = build_workbook(target=values["target"], peer_rows=values["rows"])
    result = {}
    for ws in book.wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    result[(ws.title, cell.coordinate)] = cell.value
    return result


def read_inputs_lenient(wb: Workbook) -> dict[str, Any]:
    """The target and the peer rows, read straight from the workbook."""
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


def _check_formulas(wb: Workbook) -> CheckResult:
    expected = formula_map(wb)
    details = []
    for (title, coord), formula in expected.items():
        if title not in wb.sheetnames:
            details.append(f"sheet {title!r} is missing (renamed or deleted)")
            continue
        cell = wb[title][coord]
        if cell.data_type != "f":
            shown = "empty" if cell.value is None else f"the constant {cell.value!r}"
            details.append(f"{title}!{coord}: the formula {formula} was replaced by {shown}")
        elif cell.value != formula:
            details.append(f"{title}!{coord}: formula changed from {formula} to {cell.value}")
    details = sorted(set(details), key=details.index)
    return CheckResult("formulas", "Every model formula is in place, none overwritten",
                       not details, details[:MAX_DETAILS])  # fmt: skip


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
                if isinstance(cell.value, str) and cell.value.startswith(ERROR_PREFIXES):
                    text = f"{ws.title}!{cell.coordinate} = {cell.value}"
                    source = formulas[ws.title][cell.coordinate].value
                    if isinstance(source, str) and cell.value.split()[0] in source:
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


def _check_outputs(path: Path, values: Workbook) -> CheckResult:
    try:
        expected = evaluate(path)
    except GpuvalError as exc:
        return CheckResult("outputs", "Every out_ equals the Python core", False, [str(exc)])
    details = []
    for name, value in expected.items():
        sheet = named_value(values, name)
        if not _close(sheet, value):
            details.append(f"{name}: workbook {sheet!r}, core {value!r}")
    return CheckResult("outputs", "Every out_ equals the Python core (1e-9 relative)",
                       not details, details)  # fmt: skip


def _check_bounds(path: Path) -> CheckResult:
    try:
        values = read_inputs(path)
    except GpuvalError as exc:
        return CheckResult("bounds", "Every input within its bounds", False, [str(exc)])
    details = []
    for spec in input_sheet.ALL:
        if spec.kind == "list":
            continue
        for name in spec.names():
            value = values[name]
            if not spec.lo <= value <= spec.hi:  # type: ignore[operator]
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


def check_workbook(
    path: Path,
    *,
    max_age_days: int = 30,
    today: dt.date | None = None,
    keep_recalculated: Path | None = None,
) -> CheckReport:
    """Recalculate ``path`` in LibreOffice and run every check (see the module docstring)."""
    path = Path(path)
    wb = open_workbook(path)
    require_gpuval(wb, path)
    with tempfile.TemporaryDirectory(prefix="gpuval-check-") as tmp:
        recalculated = recalculate(path, keep_recalculated or Path(tmp) / path.name)
        values = open_workbook(recalculated, data_only=True)
    master = named_value(values, "chk_master")
    results = [
        _check_errors(values, wb),
        _check_formulas(wb),
        _check_outputs(path, values),
        CheckResult("master", "The workbook's master check is TRUE", master is True,
                    [] if master is True else [f"chk_master is {master!r}"]),
        _check_bounds(path),
        _check_age(values, max_age_days, today or dt.date.today()),
    ]  # fmt: skip
    return CheckReport(path, results)
