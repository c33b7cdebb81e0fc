"""``gpuval refresh``: update the data in an analyst's working copy and keep their work.

What refresh updates: the peer table's sourced cells (``data_peers_*``) from the dataset and,
optionally, a prices file (a price, and a share count when given, moves the market value); the
Data and Sources sheets; the market-data date on the cover; the Monte Carlo snapshot. What it
keeps: the value of every ``in_*`` cell (unless ``reset_inputs``), sheets the analyst added,
comments, notes, styles, charts, defined names and data validation (openpyxl round-trips them;
content openpyxl cannot round-trip, such as drawn shapes or Excel 2010 extension lists, makes
refresh refuse rather than lose it).

The new file is written beside the old one and moved into place with ``os.replace`` after a
timestamped backup copy is made; a workbook open in Excel or LibreOffice (their lock files), or
being refreshed by another gpuval process, is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.workbook.workbook import Workbook

from gpuval.core import InputError
from gpuval.data.dataset import Dataset, load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import require_gpuval
from gpuval.pipeline.files import replace_atomically
from gpuval.workbook.evaluate import open_workbook, read_inputs_from
from gpuval.workbook.model import evaluate_values
from gpuval.workbook.sheets import inputs as input_sheet
from gpuval.workbook.sheets import montecarlo, peers
from gpuval.workbook.sheets.reference import DATA_COLUMNS

__all__ = ["Change", "RefreshReport", "lock_files", "refresh", "workbook_lock"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Change:
    where: str
    old: Any
    new: Any


@dataclass
class RefreshReport:
    workbook: Path
    backup: Path | None
    changes: list[Change] = field(default_factory=list)
    movers: list[tuple[str, Any, Any, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Refreshed {self.workbook}" + (f" (backup: {self.backup.name})" if self.backup
                                                 else "")]  # fmt: skip
        out.append(f"{len(self.changes)} data value(s) changed:")
        out += [f"  {c.where}: {_show(c.old)} -> {_show(c.new)}" for c in self.changes]
        if self.movers:
            out.append("Outputs that moved most:")
            out += [f"  {name}: {_show(a)} -> {_show(b)} ({rel:+.2%})"
                    for name, a, b, rel in self.movers]  # fmt: skip
        out += [f"Note: {n}" for n in self.notes]
        return out


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return "blank" if value is None else str(value)


def lock_files(path: Path) -> list[Path]:
    """The lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) leave beside a
    workbook they have open."""
    return [path.with_name(f"~${path.name}"), path.with_name(f".~lock.{path.name}#")]


@contextlib.contextmanager
def workbook_lock(path: Path) -> Iterator[None]:
    """Refuse when the workbook is open elsewhere; hold gpuval's own lock while working."""
    for lock in lock_files(path):
        if lock.exists():
            app = "Excel" if lock.name.startswith("~$") else "LibreOffice"
            raise GpuvalError(
                f"{path.name} is open in {app} (lock file {lock.name}); close it and try again."
            )
    own = path.with_name(f".{path.name}.gpuval-lock")
    try:
        fd = os.open(own, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        holder = own.read_text().strip() if own.exists() else ""
        if holder.isdigit() and not _alive(int(holder)):
            own.unlink(missing_ok=True)  # left by a process that died: take it over
            fd = os.open(own, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        else:
            raise GpuvalError(
                f"{path.name} is being refreshed or published by another gpuval process "
                f"(lock file {own.name}); try again when it has finished."
            ) from None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        own.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_UNSUPPORTED = [
    (re.compile(rb"<xdr:sp[ >]"), "drawn shapes or text boxes"),
    (re.compile(rb"<x14:dataValidation"), "Excel 2010 data validation (extension list)"),
    (re.compile(rb"<x14:conditionalFormatting"), "Excel 2010 conditional formatting"),
    (re.compile(rb"<x14:sparklineGroup"), "sparklines"),
]


def refuse_lossy(path: Path) -> None:
    """Refuse a workbook holding analyst content openpyxl would drop on saving."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            if name.startswith("xl/media/"):
                raise GpuvalError(
                    f"{path.name} contains pictures ({name}), which refresh cannot keep; "
                    "remove them or refresh a copy."
                )
            if re.match(r"xl/(worksheets|drawings)/[^/]+\.xml$", name):
                data = archive.read(name)
                for pattern, what in _UNSUPPORTED:
                    if pattern.search(data):
                        raise GpuvalError(
                            f"{path.name} contains {what} ({name}), which refresh cannot keep; "
                            "remove them or refresh a copy."
                        )


def _range_cells(wb: Workbook, name: str) -> list[Any]:
    title, coord = next(iter(wb.defined_names[name].destinations))
    return [row[0] for row in wb[title][coord.replace("$", "")]]


def _record_ids(wb: Workbook) -> dict[str, list[str]]:
    """Record id -> cells citing it, read from the first line of the cell comments."""
    uses: dict[str, list[str]] = {}
    for title in ("Inputs", "Peers"):
        if title not in wb.sheetnames:
            continue
        for row in wb[title].iter_rows():
            for cell in row:
                if cell.comment is not None:
                    record_id = cell.comment.text.split("\n", 1)[0]
                    uses.setdefault(record_id, []).append(f"{title}!{cell.coordinate}")
    return uses


def _update_peers(
    wb: Workbook, dataset: Dataset, prices: dict[str, Any], report: RefreshReport
) -> list[dt.date]:
    """Write the dataset's (then the prices file's) figures into the peer table."""
    columns = {key: _range_cells(wb, f"data_peers_{key}") for key in peers.RAW}
    ids = [c.value for c in columns["id"]]
    for entity in sorted(set(prices) - set(ids)):
        report.notes.append(f"{entity}: not in the workbook's peer table; its price was not used.")
    dates = []
    for i, entity in enumerate(ids):
        new: dict[str, Any] = {}
        comments: dict[str, str] = {}
        for key, record_id in peers.PEER_SOURCES.get(entity, {}).items():
            if record_id in dataset.records:
                rec = dataset[record_id]
                new[key] = rec.value
                comments[key] = f"{rec.id}\n{rec.source}\n{rec.quote}"
        update = prices.get(entity)
        if update is not None:
            new["price"] = update.price
            comments["price"] = f"prices file: {update.entity} {update.date} {update.price}"
            if update.shares is not None:
                new["shares"] = update.shares
                comments["shares"] = f"prices file: {update.entity} {update.date} shares"
            elif not isinstance(columns["shares"][i].value, int | float):
                report.notes.append(
                    f"{entity}: price {update.price} applied but the workbook has no share count, "
                    "so its market value is unchanged (add shares to the prices file)."
                )
            dates.append(update.date)
        for key, value in new.items():
            cell = columns[key][i]
            if cell.value != value and not (_num(cell.value) and _num(value)
                                             and math.isclose(cell.value, value, rel_tol=1e-15)):
                report.changes.append(Change(f"Peers {entity} {key}", cell.value, value))
                cell.value = value
            note = Comment(comments[key], "gpuval")
            note.width, note.height = 420, 160
            cell.comment = note
    return dates


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _rewrite_data(wb: Workbook, dataset: Dataset) -> None:
    ws = wb["Data"]
    rows = dataset.rows()
    for r in range(5, max(ws.max_row, 5 + len(rows)) + 1):
        for c in range(1, len(DATA_COLUMNS) + 1):
            ws.cell(r, c).value = None
    for i, row in enumerate(rows):
        for j, key in enumerate(DATA_COLUMNS):
            cell = ws.cell(5 + i, 1 + j, row[key])
            if isinstance(row[key], str):
                cell.data_type = "s"
            cell.style = "gv_data"
    ws.auto_filter.ref = f"A4:J{4 + len(rows)}"


def _rewrite_sources(wb: Workbook, dataset: Dataset) -> None:
    ws = wb["Sources"]
    uses = _record_ids(wb)
    by_sentence: dict[tuple[str, str], list[str]] = {}
    for rec in dataset.records.values():
        by_sentence.setdefault((rec.source, rec.quote), []).append(rec.id)
    for r in range(5, max(ws.max_row, 5 + len(by_sentence)) + 1):
        for c in range(1, 5):
            ws.cell(r, c).value = None
    for i, ((source, quote), ids) in enumerate(by_sentence.items()):
        cells = [cell for rid in ids for cell in uses.get(rid, [])]
        for j, value in enumerate((source, quote, ", ".join(ids), ", ".join(cells))):
            cell = ws.cell(5 + i, 1 + j, value)
            cell.data_type = "s"
            cell.style = "gv_data"


def _reset_inputs(wb: Workbook, dataset: Dataset, report: RefreshReport) -> None:
    for spec in input_sheet.ALL:
        if spec.name == "target":
            continue
        defaults = input_sheet.default_values(dataset, spec, "")
        for name, value in zip(spec.names(), defaults, strict=True):
            title, coord = next(iter(wb.defined_names[name].destinations))
            cell = wb[title][coord.replace("$", "")]
            old = cell.value.date() if isinstance(cell.value, dt.datetime) else cell.value
            if old != value:
                report.changes.append(Change(name, old, value))
                cell.value = value


def _movers(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any, float]]:
    moved = []
    for name, old in before.items():
        new = after.get(name)
        if _num(old) and _num(new) and old != 0:
            rel = new / old - 1
            if abs(rel) > 1e-12:
                moved.append((name, old, new, rel))
    return sorted(moved, key=lambda m: -abs(m[3]))[:8]


def _values(wb: Workbook, path: Path, report: RefreshReport) -> dict[str, Any] | None:
    """Every quantity of the model, or None (with a note) when the analyst's inputs are not
    valid for the core, e.g. scenario probabilities that do not sum to 1."""
    inputs = read_inputs_from(wb, path)  # a missing or broken name is an error
    try:
        return evaluate_values(inputs)
    except InputError as exc:
        note = f"outputs not computed, the inputs are not valid: {exc}"
        if note not in report.notes:
            report.notes.append(note)
        return None


def refresh(
    path: Path,
    *,
    prices: Path | None = None,
    dataset_path: Path | None = None,
    reset_inputs: bool = False,
    progress: Progress = lambda _msg: None,
    now: dt.datetime | None = None,
) -> RefreshReport:
    """Refresh ``path`` in place (atomically, with a timestamped backup)."""
    path = Path(path)
    with workbook_lock(path):
        progress("reading the workbook")
        wb = open_workbook(path)
        require_gpuval(wb, path)
        refuse_lossy(path)
        dataset = load_dataset(dataset_path)
        updates: dict[str, Any] = {}
        if prices is not None:
            from gpuval.data.prices import latest_by_entity, read_prices

            progress(f"reading prices from {prices}")
            updates = latest_by_entity(read_prices(Path(prices), dataset))
        report = RefreshReport(path, None)
        before = _values(wb, path, report)
        progress("updating the peer table, Data and Sources")
        price_dates = _update_peers(wb, dataset, updates, report)
        if reset_inputs:
            _reset_inputs(wb, dataset, report)
        _rewrite_data(wb, dataset)
        _rewrite_sources(wb, dataset)
        asof = max([peers.market_data_date(dataset), *price_dates])
        title, coord = next(iter(wb.defined_names["data_asof"].destinations))
        cell = wb[title][coord.replace("$", "")]
        old = cell.value.date() if isinstance(cell.value, dt.datetime) else cell.value
        if old != asof:
            report.changes.append(Change("market data as of", old, asof))
            cell.value = asof
        progress("recomputing the Monte Carlo snapshot")
        values = _values(wb, path, report)
        if values is not None:
            snapshot = montecarlo.simulate(values)
            montecarlo.fill(wb[montecarlo.TITLE], snapshot, values["in_target"])
            if before is not None:
                outs = {k: v for k, v in values.items() if k.startswith("out_")}
                report.movers = _movers({k: v for k, v in before.items()
                                         if k.startswith("out_")}, outs)  # fmt: skip
        else:
            report.notes.append("the Monte Carlo snapshot was kept as it was.")
        progress("saving")
        report.backup = save_with_backup(wb, path, now or dt.datetime.now())
    return report


def save_with_backup(wb: Workbook, path: Path, now: dt.datetime) -> Path:
    """Copy ``path`` to a timestamped backup, write ``wb`` to a temporary file beside it and move
    it into place: the original is either untouched or fully replaced."""
    backup = path.with_name(f"{path.stem}.backup-{now:%Y%m%d-%H%M%S}{path.suffix}")
    n = 1
    while backup.exists():  # never overwrite an earlier backup
        n += 1
        backup = path.with_name(f"{path.stem}.backup-{now:%Y%m%d-%H%M%S}-{n}{path.suffix}")
    shutil.copy2(path, backup)
    replace_atomically(path, wb.save)
    return backup
