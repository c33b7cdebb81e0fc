"""``gpuval publish``: a checked, self-contained copy for distribution.

1. The copy is prepared: the published stamp (date, the workbook's own dataset version, check
   status) written in the stamp cell ``pub_stamp`` that build creates on the Cover, the only
   cell publish writes (see :func:`stamp_cell`), into the file's own parts, so that what only
   Excel writes (threaded comments, sparklines, pictures, dynamic-array metadata) travels with
   it; an .xlsm's VBA project is left out (the copy is an .xlsx). A UDF working copy is
   rewritten by openpyxl instead: its ``xlwings.conf`` sheet is dropped, any ``GPUVAL_*`` UDF
   cell frozen to its value from the Python core, and macros left out.
2. One LibreOffice run recalculates the copy, stores its values and (``pdf``) renders every sheet
   to PDF. (A UDF working copy needs one more run before: the UDFs' arguments must be computed
   to freeze them.)
3. ``gpuval check`` runs on the workbook with those computed values; a failing check refuses to
   publish unless ``force`` (the copy is then stamped UNCHECKED, and rendered again).
4. Every formula cell of the copy is given its computed value as the cached value (the one
   writer of cached values, :meth:`gpuval.pipeline.xlsxpatch.Patch.store_values`), so viewers
   that do not recalculate (previewers, phones, pandas, openpyxl with ``data_only=True``) show
   numbers; formulas, charts, names and styles stay as they were.
5. ``<out-dir>/<name>_<as-of>.xlsx`` (as-of = ``data_asof`` recalculated:
   the oldest date of the market figures the valuation uses), the PDF and a manifest with
   the SHA-256 of every output. An earlier publication of the same as-of date is never replaced:
   the new one is ``<name>_<as-of>_2.xlsx`` (``_3`` ...), and the report says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import absolute_coordinate, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName

from gpuval.errors import GpuvalError
from gpuval.pipeline.check import check_workbook
from gpuval.pipeline.files import named, replace_atomically, workbook_lock
from gpuval.pipeline.findings import CheckReport, CheckResult, first_few
from gpuval.pipeline.names import named_value, require_gpuval
from gpuval.pipeline.recalc import Rendering
from gpuval.pipeline.udf_freeze import freeze_udf_cells, is_udf
from gpuval.pipeline.xlsxpatch import Patch, StoredValues, read_computed
from gpuval.workbook.evaluate import open_workbook
from gpuval.workbook.finish import order_all_error_bars, outline_levels
from gpuval.workbook.template import STAMP_LABEL, STAMP_NAME

__all__ = ["PublishReport", "fill_cached_values", "publish"]

Progress = Callable[[str], None]


@dataclass
class PublishReport:
    outputs: list[Path] = field(default_factory=list)
    check: CheckReport | None = None
    checked: bool = True
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)


def fill_cached_values(source: Path, values_file: Path, out: Path) -> StoredValues:
    """Copy ``source`` to ``out`` with every formula cell's cached value taken from
    ``values_file`` (the same workbook recalculated), through
    :meth:`~gpuval.pipeline.xlsxpatch.Patch.store_values`: only cached values change."""
    patch = Patch(source, label="Workbook")
    stored = patch.store_values(read_computed(values_file))
    patch.save(out)
    return stored


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The stamp cell's defined name (STAMP_NAME); build creates it on the Cover (a workbook without
# it gets one below everything on the Cover, see :func:`stamp_cell`).


def stamp_cell(wb: Any) -> Any:
    """The cell publish writes its stamp into, and only that cell.

    The cell named ``pub_stamp`` when the workbook has it (build creates it). Otherwise (a
    workbook built before it) the cell right of the label "Published" on the Cover (a stamp an
    earlier gpuval wrote), else a new stamp row two rows below everything on the sheet of the
    dataset line (``tpl_dataset``), labelled there; the name ``pub_stamp`` is then defined on it
    in the published copy. An analyst's content, or a free row among it, is never written."""
    defined = wb.defined_names.get(STAMP_NAME)
    if defined is not None:
        places = list(defined.destinations)
        if len(places) == 1 and places[0][0] in wb.sheetnames and ":" not in places[0][1]:
            title, coord = places[0]
            return wb[title][coord.replace("$", "")]
    anchor = wb.defined_names.get("tpl_dataset") or wb.defined_names.get("data_asof")
    title, coord = next(iter(anchor.destinations)) if anchor is not None else ("Cover", "C8")
    ws = wb[title] if title in wb.sheetnames else wb.worksheets[0]
    value_col = ws[coord.replace("$", "")].column if anchor is not None else 3
    label_col = max(1, value_col - 1)
    for row in range(1, ws.max_row + 1):
        if ws.cell(row, label_col).value == STAMP_LABEL:
            return ws.cell(row, value_col)
    row = ws.max_row + 2
    label = ws.cell(row, label_col, STAMP_LABEL)
    if "gv_label" in wb.style_names:
        label.style = "gv_label"
    cell = ws.cell(row, value_col)
    title = (
        ws.title
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", ws.title)
        else (quote_sheetname(ws.title))
    )
    name = f"{title}!{absolute_coordinate(cell.coordinate)}"
    wb.defined_names[STAMP_NAME] = DefinedName(STAMP_NAME, attr_text=name)
    return cell


def workbook_version(wb: Any) -> str:
    """The dataset version the workbook holds: its ``data_version`` name (refresh sets it), else
    the version on the Cover's dataset line (``tpl_dataset``, "gpuval dataset <version>"), else
    "unknown"; never the installed dataset's, which may differ from the workbook's figures."""
    defined = wb.defined_names.get("data_version")
    text = (defined.attr_text or "").strip() if defined is not None else ""
    if len(text) > 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    line = named_value(wb, "tpl_dataset")
    if isinstance(line, str) and line.startswith("gpuval dataset ") and len(line.split()) == 3:
        return line.split()[-1]
    return "unknown"


def _write_stamp(cell: Any, text: str) -> None:
    cell.value = text
    cell.data_type = "s"  # text stays text, whatever it starts with
    if "gv_check" in cell.parent.parent.style_names:
        cell.style = "gv_check"


def _free_stem(out_dir: Path, stem: str, suffixes: list[str]) -> str:
    """``stem``, or ``stem_2``, ``stem_3`` ... : the first whose files all do not exist yet."""
    n = 1
    while True:
        candidate = stem if n == 1 else f"{stem}_{n}"
        if not any((out_dir / f"{candidate}{suffix}").exists() for suffix in suffixes):
            return candidate
        n += 1


def publish(
    path: Path,
    *,
    out_dir: Path = Path("dist"),
    pdf: bool = False,
    force: bool = False,
    max_age_days: int = 30,
    today: dt.date | None = None,
    published: dt.date | None = None,
    progress: Progress = lambda _msg: None,
) -> PublishReport:
    """Publish ``path`` (see the module's steps); ``today`` is the date data age is measured
    on, ``published`` the date stamped (both default to today's date)."""
    path = Path(path)
    today = today or dt.date.today()
    report = PublishReport()
    with (
        workbook_lock(path, reading=True),
        tempfile.TemporaryDirectory(prefix="gpuval-publish-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        wb = open_workbook(path)
        require_gpuval(wb, path)
        progress("preparing the copy")
        frozen = 0
        archive = wb.vba_archive  # (openpyxl keeps the package of any file read with keep_vba)
        macros = archive is not None and any(  # an .xlsm: the copy is an .xlsx without them
            n.lower().startswith("xl/vbaproject") for n in archive.namelist()
        )
        wb.vba_archive = None  # else openpyxl would save even an .xlsx as macro-enabled
        udfs = _has_udfs(wb)
        udf_copy = "xlwings.conf" in wb.sheetnames or udfs
        if macros:
            report.notes.append(f"the published copy is an .xlsx workbook: the macros stay in "
                                f"{path.name}.")  # fmt: skip
        if udf_copy:
            order_all_error_bars(wb)  # openpyxl writes the error bars it read in its own order
            for ws in wb.worksheets:  # and loses the outline's column levels
                outline_levels(ws)
            if "xlwings.conf" in wb.sheetnames:
                del wb["xlwings.conf"]
        if udfs:  # their arguments' values are needed first: a check of the original
            report.check = check_workbook(path, max_age_days=max_age_days, today=today,
                                          keep_recalculated=tmp / "udf" / path.name)  # fmt: skip
            frozen = freeze_udf_cells(wb, open_workbook(tmp / "udf" / path.name, data_only=True))
        version = workbook_version(wb)
        had_stamp = STAMP_NAME in wb.defined_names
        cell = stamp_cell(wb)
        on_date = published or dt.date.today()
        measured = "" if today == on_date else f"; data age measured on {today.isoformat()}"
        text = ""

        def stamp(checked: bool) -> None:
            nonlocal text
            status = "check passed" if checked else "UNCHECKED (published with --force)"
            text = f"Published {on_date.isoformat()} by gpuval; dataset {version}; {status}"
            text += measured + (f"; {frozen} UDF cell(s) frozen to values" if frozen else "")
            _write_stamp(cell, text)

        stem = path.stem  # the as-of date (a formula's value) is added once it is computed
        staged = tmp / "staged" / f"{stem}.xlsx"
        staged.parent.mkdir()
        recalculated, rendered = tmp / "recalc" / f"{stem}.xlsx", tmp / "pdf" / f"{stem}.pdf"

        def render() -> Rendering:
            if udf_copy:
                wb.save(staged)
            else:
                created = not had_stamp and STAMP_NAME in wb.defined_names
                patch = _patched(path, cell, text, wb if created else None)
                if macros:
                    _without_macros(patch.package)
                patch.save(staged)
            return Rendering(staged, recalculated, rendered if pdf else None)

        checked_first = report.check is not None
        stamp(report.check.passed if report.check is not None else True)
        progress("recalculating in LibreOffice" + (" and rendering the PDF" if pdf else ""))
        with render() as job:
            progress("checking the workbook")  # the Python part while LibreOffice runs
            if report.check is None:
                report.check = check_workbook(path, max_age_days=max_age_days, today=today,
                                              recalculated=job)  # fmt: skip
            job.result()
        report.checked = report.check.passed
        values = report.check.values
        asof = None if values is None else named_value(values, "data_asof")  # oldest used date
        asof = asof.date() if isinstance(asof, dt.datetime) else asof
        dated = f"{stem}_{asof.isoformat() if isinstance(asof, dt.date) else today.isoformat()}"
        if not report.checked and not force:
            raise GpuvalError(refusal(path.name, [r for r in report.check.results if not r.passed]))
        if not report.checked and not checked_first:
            stamp(False)  # rendered with "check passed": once more with the true status
            with render() as job:
                job.result()
        progress("storing every computed value")
        final = tmp / "final" / f"{stem}.xlsx"
        final.parent.mkdir()
        stored = fill_cached_values(staged, recalculated, final)
        if stored.uncomputed:
            report.notes.append(
                f"{len(stored.uncomputed)} formula cell(s) LibreOffice could not compute carry "
                f"no value (Excel computes them when it opens the file): "
                f"{first_few(stored.uncomputed, 3)}."
            )  # fmt: skip
        outputs = [final, rendered] if pdf else [final]
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        suffixes = [".xlsx", ".pdf", ".manifest.json"]
        free = _free_stem(out_dir, dated, suffixes)
        if free != dated:
            report.notes.append(
                f"{out_dir / (dated + '.xlsx')} is an earlier publication of the same as-of date "
                f"and is kept; this one is {free}.xlsx."
            )
        if pdf:
            progress("writing the files")
        manifest = out_dir / f"{free}.manifest.json"
        written: list[Path] = []
        try:  # a publication is whole or absent: a half one would read as published next time
            for file in outputs:
                target = out_dir / f"{free}{file.suffix}"
                _copy_new(file, target)
                written.append(target)
            body = {
                "workbook": path.name, "published": on_date.isoformat(),
                "data_age_measured_on": today.isoformat(), "dataset": version,
                "check": "passed" if report.checked else "UNCHECKED",
                "max_age_days": max_age_days,
                "files": {p.name: _sha256(p) for p in written},
            }  # fmt: skip
            text = json.dumps(body, indent=2) + "\n"
            replace_atomically(manifest, lambda t: Path(t).write_text(text, encoding="utf-8"))
        except BaseException:
            for done in written:
                done.unlink(missing_ok=True)
            raise
        report.outputs.extend(written)
        report.manifest = manifest
    return report


def _patched(path: Path, cell: Any, text: str, created: Any) -> Patch:
    """``path`` with ``text`` in the stamp ``cell`` and nothing else changed; ``created``: the
    workbook in which :func:`stamp_cell` made a new stamp row (its label and name written too)."""
    patch = Patch(path, label="Workbook")
    sheet = cell.parent.title
    patch.set(sheet, cell.coordinate, text)
    if created is not None:
        label = cell.parent.cell(cell.row, max(1, cell.column - 1))
        patch.set(sheet, label.coordinate, label.value)
        patch.define(STAMP_NAME, created.defined_names[STAMP_NAME].attr_text)
    return patch


_VBA = re.compile(rb"<(?:Relationship|Override|Default)\b[^>]*vbaProject[^>]*/>", re.IGNORECASE)
"""A relationship or content type of the VBA project (and its signatures)."""


def _without_macros(package: Any) -> None:
    """An .xlsm's package as an .xlsx: its VBA project parts, their relationships and content
    types gone, the workbook's content type the macro-free one; every other part as it is."""
    for name in [n for n in package.names if n.lower().startswith("xl/vbaproject")]:
        package.remove(name)
    rels = "xl/_rels/workbook.xml.rels"
    package.write(rels, _VBA.sub(b"", package.read(rels)))
    types = _VBA.sub(b"", package.read("[Content_Types].xml")).replace(
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    )
    package.write("[Content_Types].xml", types)


def _has_udfs(wb: Any) -> bool:
    return any(
        c.data_type == "f" and is_udf(c.value)
        for ws in wb.worksheets for row in ws.iter_rows() for c in row
    )  # fmt: skip


def _copy_new(src: Path, target: Path) -> None:
    """Copy ``src`` to ``target``, which must not exist: written whole beside it, then linked
    into place, which fails rather than replace a file another publish has just written. An
    OS error (a full disk) names ``target`` and leaves no part of it."""
    work = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, work)
        try:
            os.link(work, target)
        except FileExistsError:
            raise GpuvalError(
                f"Cannot publish {target}: it was created meanwhile (another gpuval publish?); "
                "run publish again."
            ) from None
        except OSError:  # a file system without hard links: exclusive create instead
            with target.open("xb") as handle:
                try:
                    with work.open("rb") as source:
                        shutil.copyfileobj(source, handle)
                except BaseException:
                    target.unlink(missing_ok=True)
                    raise
    except OSError as exc:
        raise named(exc, target) from None
    finally:
        work.unlink(missing_ok=True)


def refusal(name: str, failed: list[CheckResult]) -> str:
    """Why publish refuses a workbook: how many checks fail, the first with its first finding
    (its own full stop dropped), and the way out."""
    first = failed[0]
    detail = f": {first.details[0].rstrip('.')}" if first.details else ""
    older = (
        " (or allow older market figures with --max-age-days)" if first.name == "data_age" else ""
    )
    return (
        f"{name} fails {len(failed)} check(s), first {first.name!r}{detail}; fix it{older} or "
        "publish with --force (the copy is then stamped UNCHECKED)."
    )
