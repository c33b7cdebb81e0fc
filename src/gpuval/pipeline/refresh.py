"""``gpuval refresh``: update the data in an analyst's working copy and keep their work.

Refresh edits the workbook package in place (:mod:`gpuval.pipeline.xlsxpatch`): every part it
does not change is copied byte for byte, and in the parts it changes only the cells, notes and
names it owns change. Reading stays with openpyxl, on the sheets refresh reads only.

What it owns, each found by a defined name or a label, never by a fixed address:

* the peer table's sourced cells (``data_peers_*``) from the dataset, then the prices: a prices
  file given now, else the one applied last (stored in the workbook as hidden names
  ``gpuval_price_<entity>``, so prices stay applied; ``reset_prices`` drops them); a company
  the analyst added to the table takes its price (and date) too, the rest of its row is theirs.
  A cell whose record left the dataset is cleared and reported. Each cell's citation goes on its
  note; an analyst's own note keeps every word and gets the citation after a marker line; a cell
  with an Excel 365 threaded comment keeps it and is cited on the Sources sheet only;
* the Data sheet, keyed by record id: a record keeps its row, new records are appended, a record
  the dataset no longer has is marked withdrawn in place (kind ``withdrawn``, with the date);
* the Sources sheet, keyed by sentence; the dataset version (``tpl_dataset`` on the cover, the
  Data subtitle, the name ``data_version``) and the market-data date ``data_asof``;
* the Monte Carlo snapshot, by the names ``mc_*`` (defined on first refresh from the labels);
* the workbook's calculation settings (a full recalculation when next opened);
* the computed value (cached value) of every formula cell: a scratch copy of the refreshed package
  is recalculated in LibreOffice and each formula cell's ``<v>`` and ``t`` take its value
  (:meth:`~gpuval.pipeline.xlsxpatch.Patch.store_values`), so inputs linked to the analyst's
  sheets, Excel's Protected View and viewers that do not recalculate see numbers. Without
  LibreOffice (or with ``recalc=False``, or when it fails) every formula cell is saved without a
  value, never with one the new data made stale, and the report says so.

The result replaces the real file (through a symbolic link; in place for a file with other hard
links) only when complete, after a timestamped backup beside the real file; an OS error is one
sentence naming the file and the operation, and leaves no partial backup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import filecmp
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuval.core import InputError
from gpuval.data.dataset import load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.files import lock_files, workbook_lock
from gpuval.pipeline.findings import first_few
from gpuval.pipeline.names import named_value, require_gpuval
from gpuval.pipeline.recalc import find_soffice, recalculate
from gpuval.pipeline.refresh_cells import (
    Change,
    Session,
    added_companies,
    day,
    num,
    update_headers,
    update_labels,
    update_montecarlo,
    update_peers,
)
from gpuval.pipeline.refresh_data import update_data, update_sources
from gpuval.pipeline.xlsxpatch import Computed, Patch, StoredValues, read_computed
from gpuval.workbook.evaluate import FRACTIONS, UncomputedInput, read_inputs_from
from gpuval.workbook.sheets import montecarlo, peers

__all__ = ["Change", "RefreshReport", "lock_files", "refresh", "workbook_lock"]

Progress = Callable[[str], None]


@dataclass
class RefreshReport:
    workbook: Path
    backup: Path | None
    changes: list[Change] = field(default_factory=list)
    movers: list[tuple[str, Any, Any, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The formula cells given their computed value (None: none computed, see the notes).
    values: StoredValues | None = None
    #: An input that is a formula the file carried no value for (the outputs were not computed).
    waiting: UncomputedInput | None = None

    def lines(self) -> list[str]:
        out = [f"Refreshed {self.workbook}" + (f" (backup: {self.backup.name})" if self.backup
                                                 else "")]  # fmt: skip
        removed = sum(1 for c in self.changes if c.new is None or c.new == "withdrawn")
        out.append(f"{len(self.changes)} data value(s) changed ({removed} removed)"
                   + (":" if self.changes else "."))  # fmt: skip
        out += [f"  {c.where}: {_show(c.old)} -> {_show(c.new)}" for c in self.changes]
        if self.movers:
            out.append("Outputs that moved most:")
            out += [f"  {name}: {_show(a)} -> {_show(b)} ({move})"
                    for name, a, b, move in self.movers]  # fmt: skip
        if self.values is not None:
            out.append(f"{self.values.filled} formula cell(s) carry their value computed by "
                       "LibreOffice.")  # fmt: skip
        out += [f"Note: {n}" for n in self.notes]
        return out


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return "blank" if value is None else str(value)


# --- the model (the one place refresh calls the workbook's model) ---


def _model(s: Session) -> tuple[dict[str, Any], Callable[[], Any]] | None:
    """(the ``out_*`` values, a function giving the model and its Monte Carlo snapshot), or None
    with a note
    when the analyst's inputs are not valid for the core."""
    from gpuval.workbook.model import run_names

    try:  # a missing or broken name is an error
        inputs = read_inputs_from(s.wb, s.path, cached=s.for_inputs())
    except UncomputedInput as exc:  # its value is computed below, for the next refresh
        s.report.waiting = exc
        return None
    try:
        model = run_names(inputs)
        outputs = model.outputs()
    except InputError as exc:
        note = f"outputs not computed, the inputs are not valid: {exc}"
        if note not in s.report.notes:
            s.report.notes.append(note)
        return None
    return dict(outputs), lambda: (model, montecarlo.simulate(model))


def _oldest_used(s: Session) -> dt.date | None:
    """The oldest date of the market figures the valuation uses (the Cover's ``data_asof``,
    :func:`~gpuval.workbook.sheets.peers.oldest_used_date`); None when the inputs are not valid."""
    try:
        values = dict(read_inputs_from(s.wb, s.path, cached=s.for_inputs()))
    except UncomputedInput:
        return None
    values["data_peers_as_of"] = [s.value(*where) for where in s.column("data_peers_as_of")]
    values |= {name: named_value(s.for_inputs(), name) for name in peers.WEIGHTS}
    try:
        return peers.oldest_used_date(values)
    except InputError:
        return None


def _without_formulas(s: Session) -> list[str]:
    """The peer rows with an id and an empty computed cell, as "row 9 (zeta)"."""
    ids = s.column("data_peers_id")
    ws = s.wb[ids[0][0]]
    header = ws[ids[0][1]].row - 1  # (a workbook of an earlier layout may have fewer columns)
    computed = [c for c in range(len(peers.RAW) + 1, len(peers.RAW) + len(peers.CALC) + 1)
                if ws.cell(header, c).value]  # fmt: skip
    bare = []
    for _, ref in ids:
        cell = ws[ref]
        if cell.value not in (None, "") and any(
            ws.cell(cell.row, c).value in (None, "") for c in computed
        ):
            bare.append(f"row {cell.row} ({cell.value})")
    return bare


BEHIND_DAYS = 30
"""Prices this many days past the valuation date get a note: the valuation discounts to it."""


def _valuation_date_behind(s: Session, priced: list[dt.date]) -> None:
    """A note when the newest price applied is more than :data:`BEHIND_DAYS` after the valuation
    date on Inputs: the DCF and the scenarios value the company as of that date while the
    upside compares with today's price."""
    valued = day(s.value(*s.cell("in_valuation_date")))
    if not priced or not isinstance(valued, dt.date) or (max(priced) - valued).days <= BEHIND_DAYS:
        return
    newest = max(priced)
    s.report.notes.append(
        f"the newest price, of {newest}, is {(newest - valued).days} days after the valuation "
        f"date on Inputs (in_valuation_date, {valued}): the DCF and the scenarios discount to "
        "that date; move it to value the company as of the prices."
    )


def _reset_inputs(s: Session) -> None:
    """Every input back to its default: the general ones, and each company's assumptions."""
    from gpuval.workbook.sheets import assumptions
    from gpuval.workbook.sheets import inputs as input_sheet

    def reset(name: str, where: tuple[str, str], value: Any) -> None:
        old = day(s.value(*where))
        if old != value:
            s.report.changes.append(Change(name, old, value))
            s.put(*where, value)

    for spec in input_sheet.ALL:
        if spec.name != "target":
            reset(f"in_{spec.name}", s.cell(f"in_{spec.name}"),
                  input_sheet.default_values(s.dataset, spec, "")[0])  # fmt: skip
    companies = [s.value(*where) for where in s.column("data_assumption_ids")]
    for _, section in assumptions.rows():
        for row in section:
            name = f"in_{row.name}"
            for company, where in zip(companies, s.column(name), strict=True):
                reset(f"{name} ({company})", where,
                      assumptions.default(row, company, s.dataset).value)  # fmt: skip


def _movers(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """The 8 outputs that moved most, with the move: a fraction's in percentage points (an
    upside of -0.9% to 23.9% is +24.8 pts), any other's relative to its old size (its sign the
    direction, whatever the old value's), ranked by the move's size (25 pts as 25%)."""
    moved = []
    for name, old in before.items():
        new = after.get(name)
        if not num(old) or not num(new):
            continue
        if FRACTIONS.search(name):
            size, text = new - old, f"{(new - old) * 100:+.1f} pts"
            if abs(size) < 5e-4:  # under 0.05 points: "+0.0 pts" says nothing
                continue
        elif old != 0:
            size = (new - old) / abs(old)
            text = f"{size:+.2%}"
        else:
            continue
        if abs(size) > 1e-12:
            moved.append((abs(size), (name, old, new, text)))
    return [m for _, m in sorted(moved, key=lambda m: -m[0])[:8]]


# --- computed values ---

NO_VALUES = (
    "no formula cell carries a computed value until the file is opened and saved in Excel or "
    "LibreOffice (or refreshed again where LibreOffice is installed); until then viewers that do "
    "not recalculate show them blank, and gpuval evaluate and check stop at any input that is a "
    "formula."
)


def _computed(patch: Patch, progress: Progress) -> tuple[Computed | None, str]:
    """The values LibreOffice computes for a scratch copy of the patched package (never the
    analyst's file), or None and why not."""
    if find_soffice() is None:
        return None, "LibreOffice was not found, so "
    progress("computing every formula in LibreOffice")
    try:
        with tempfile.TemporaryDirectory(prefix="gpuval-refresh-") as tmp:
            scratch = Path(tmp) / f"workbook{patch.package.path.suffix}"
            patch.save(scratch)
            return read_computed(recalculate(scratch, Path(tmp) / "computed.xlsx")), ""
    except OSError as exc:
        detail = exc.strerror or str(exc)
        return None, f"the scratch copy for LibreOffice could not be written ({detail}), so "
    except GpuvalError as exc:
        detail = str(exc).rstrip(".")
        return None, f"LibreOffice could not recalculate the workbook ({detail}), so "


def store_values(patch: Patch, report: RefreshReport, recalc: bool, progress: Progress) -> None:
    """Give every formula cell its computed value (or none, see the module); the report says
    which cells LibreOffice could not compute, or that nothing was computed and what that
    means."""
    skipped = (None, "recalculation was skipped, so ")
    computed, why = _computed(patch, progress) if recalc else skipped
    stored = patch.store_values(computed)
    if computed is None:
        report.notes.append(why + NO_VALUES)
        return
    report.values = stored
    if stored.kept:
        report.notes.append(
            f"{len(stored.kept)} formula cell(s) use a function LibreOffice lacks (an Excel 365 "
            f"function): each keeps the value Excel last computed, until Excel opens the file "
            f"again: {first_few(stored.kept)}."
        )
    if stored.uncomputed:
        report.notes.append(
            f"{len(stored.uncomputed)} formula cell(s) LibreOffice could not compute carry no "
            f"value (Excel computes them when it opens the file): {first_few(stored.uncomputed)}."
        )


# --- the command ---


def refresh(
    path: Path,
    *,
    prices: Path | None = None,
    dataset_path: Path | None = None,
    reset_inputs: bool = False,
    reset_prices: bool = False,
    progress: Progress = lambda _msg: None,
    now: dt.datetime | None = None,
    recalc: bool = True,
) -> RefreshReport:
    """Refresh the workbook at ``path`` (atomically, with a timestamped backup); ``recalc``:
    compute every formula's value in LibreOffice when it is installed."""
    given = Path(path)
    if not given.exists():
        raise GpuvalError(f"Workbook {given} does not exist.")
    real = given.resolve()
    now = now or dt.datetime.now()
    with contextlib.ExitStack() as stack:
        for place in dict.fromkeys([given.absolute(), real]):
            for lock in lock_files(place):
                if lock.exists():
                    app = "Excel" if lock.name.startswith("~$") else "LibreOffice"
                    raise GpuvalError(f"{given.name} is open in {app} (lock file {lock.name}); "
                                      "close it and try again.")  # fmt: skip
        stack.enter_context(workbook_lock(real))
        progress("reading the workbook")
        dataset = load_dataset(dataset_path)
        report = RefreshReport(given, None)
        s = Session(real, dataset, report, now.date())
        require_gpuval(s.wb, given)
        updates = None
        if prices is not None:
            from gpuval.data.prices import latest_by_entity, read_prices

            progress(f"reading prices from {prices}")
            added = added_companies(s)
            updates = latest_by_entity(read_prices(Path(prices), dataset, now.date(), added))
        before = _model(s)
        oldest = _oldest_used(s)
        progress("updating the peer table, Data and Sources")
        priced = update_peers(s, updates, reset_prices)
        if reset_inputs:
            _reset_inputs(s)
        _valuation_date_behind(s, priced)  # (the valuation date as reset)
        update_data(s)
        update_sources(s)
        asof = _oldest_used(s)
        update_labels(s, oldest, asof)
        update_headers(s, asof)
        progress("recomputing the Monte Carlo snapshot")
        after = _model(s)
        if after is not None:
            target = s.value(*s.cell("in_target"))
            model, snapshot = after[1]()
            update_montecarlo(s, model, snapshot, target)
            bare = _without_formulas(s)
            if bare:  # the sheet leaves such a row out; the Python core counts it
                report.notes.append(
                    f"{', '.join(bare)} on Peers {'has' if len(bare) == 1 else 'have'} no "
                    "formulas in the computed columns (copy them down from the row above): the "
                    "workbook leaves such a company out of every figure, so the outputs that "
                    "moved are not listed and the master check is red."
                )
            elif before is not None:
                report.movers = _movers(before[0], after[0])
        else:
            report.notes.append("the Monte Carlo snapshot was kept as it was.")
        s.patch.calc(fullCalcOnLoad="1")
        store_values(s.patch, report, recalc, progress)
        if report.waiting is not None:
            w = report.waiting
            report.notes.insert(0, (
                f"outputs not computed: input {w.name} ({w.where}) is the formula {w.formula} "
                "and the file carried no value for it; "
                + ("it has one now: refresh again to update the outputs and the Monte Carlo "
                   "snapshot." if report.values is not None else "see the note below.")
            ))  # fmt: skip
        progress("saving")
        report.backup = save_with_backup(s.patch, real, now)
    return report


def _oserror(exc: OSError, what: str, where: Path) -> GpuvalError:
    return GpuvalError(f"Cannot {what} {where}: {exc.strerror or exc}.")


def save_with_backup(patch: Patch, path: Path, now: dt.datetime) -> Path:
    """Copy ``path`` to a timestamped backup beside it, then replace it by the patched package:
    atomically (a new file moved into place), or, for a file with other hard links, by writing
    the complete new bytes into it (the backup restores it if that fails)."""
    backup = path.with_name(f"{path.stem}.backup-{now:%Y%m%d-%H%M%S}{path.suffix}")
    n = 1
    while backup.exists():  # never overwrite an earlier backup
        n += 1
        backup = path.with_name(f"{path.stem}.backup-{now:%Y%m%d-%H%M%S}-{n}{path.suffix}")
    try:
        shutil.copy2(path, backup)
    except OSError as exc:
        backup.unlink(missing_ok=True)
        raise _oserror(exc, "write the backup", backup) from None
    try:
        if os.stat(path).st_nlink > 1:
            buffer = io.BytesIO()
            patch._apply()
            patch.package.save_to(buffer)
            _write_in_place(path, buffer.getvalue(), backup)
        else:
            patch.save_over(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the workbook as it was: its backup is no news
            if filecmp.cmp(path, backup, shallow=False):
                backup.unlink()
        raise _oserror(exc, "write the refreshed workbook", path) from None
    return backup


def _write_in_place(path: Path, data: bytes, backup: Path) -> None:
    try:
        with open(path, "r+b") as handle:
            handle.write(data)
            handle.truncate(len(data))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            shutil.copyfile(backup, path)
        raise
