"""``gpuval publish``: a checked, self-contained copy for distribution.

1. ``gpuval check`` runs first; a failing check refuses to publish unless ``force`` (the copy is
   then stamped UNCHECKED).
2. The copy drops the ``xlwings.conf`` sheet, freezes any ``GPUVAL_*`` UDF cell to its value from
   the Python core, and gets a published stamp (date, dataset version, check status) on the cover.
3. LibreOffice recalculates it and every formula cell is given its computed value as the cached
   value, so viewers that do not recalculate (previewers, phones, pandas, openpyxl with
   ``data_only=True``) show numbers; formulas, charts, names and styles stay as they were.
4. ``<out-dir>/<name>_<as-of>.xlsx`` (as-of = the market-data date), optionally a PDF of every
   sheet, and a manifest with the SHA-256 of every output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree  # our own openpyxl-written parts, never outside input
from xml.sax.saxutils import escape

from openpyxl.utils.datetime import to_excel

from gpuval.data.dataset import load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.check import CheckReport, check_workbook, named_value, require_gpuval
from gpuval.pipeline.files import replace_atomically
from gpuval.pipeline.recalc import convert, recalculate
from gpuval.pipeline.refresh import workbook_lock
from gpuval.pipeline.udf_freeze import freeze_udf_cells, is_udf
from gpuval.workbook.evaluate import open_workbook

__all__ = ["PublishReport", "fill_cached_values", "publish"]

Progress = Callable[[str], None]
_CELL = re.compile(
    r'<c r="(?P<ref>[A-Z]+[0-9]+)"(?P<attrs>[^>]*?)>(?P<f><f>[^<]*</f>)'
    r"(?:<v\s*/>|<v></v>|<v>[^<]*</v>)?</c>"
)


@dataclass
class PublishReport:
    outputs: list[Path] = field(default_factory=list)
    check: CheckReport | None = None
    checked: bool = True
    manifest: Path | None = None


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its part name, from workbook.xml and its relationships."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}  # fmt: skip
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("p:Relationship", ns)}
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", ns):
        target = targets[sheet.get(f"{{{ns['r']}}}id")].lstrip("/")
        parts[sheet.get("name", "")] = target if target.startswith("xl/") else f"xl/{target}"
    return parts


def _cached(value: Any) -> tuple[str, str] | None:
    """(type attribute, <v> text) for a computed value; None when there is nothing to store."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date):
        return "", repr(float(to_excel(value)))
    if isinstance(value, int | float):
        return "", repr(float(value))
    text = str(value)
    if text.startswith("#") or text.startswith("Err:"):
        return ' t="e"', escape(text)
    return ' t="str"', escape(text)


def fill_cached_values(source: Path, values_file: Path, out: Path) -> int:
    """Copy ``source`` (an openpyxl-written .xlsx) to ``out`` with every formula cell's cached
    value taken from ``values_file`` (the same workbook recalculated). Returns the number of
    formula cells filled."""
    values = open_workbook(values_file, data_only=True)
    filled = 0
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        parts = {part: title for title, part in _sheet_parts(src).items()}
        for info in src.infolist():
            data = src.read(info.filename)
            title = parts.get(info.filename)
            if title is not None and title in values.sheetnames:
                ws = values[title]

                def fill(m: re.Match[str], ws: Any = ws) -> str:
                    nonlocal filled
                    cached = _cached(ws[m["ref"]].value)
                    if cached is None:
                        return m[0]
                    filled += 1
                    attrs = re.sub(r'\s+t="[^"]*"', "", m["attrs"])
                    return f'<c r="{m["ref"]}"{attrs}{cached[0]}>{m["f"]}<v>{cached[1]}</v></c>'

                data = _CELL.sub(fill, data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return filled


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publish(
    path: Path,
    *,
    out_dir: Path = Path("dist"),
    pdf: bool = False,
    force: bool = False,
    max_age_days: int = 30,
    today: dt.date | None = None,
    progress: Progress = lambda _msg: None,
) -> PublishReport:
    path = Path(path)
    today = today or dt.date.today()
    report = PublishReport()
    with workbook_lock(path):
        wb = open_workbook(path)
        require_gpuval(wb, path)
        progress("checking the workbook (LibreOffice recalculation)")
        report.check = check_workbook(path, max_age_days=max_age_days, today=today)
        report.checked = report.check.passed
        if not report.checked and not force:
            failed = [r for r in report.check.results if not r.passed]
            first = failed[0]
            detail = f": {first.details[0]}" if first.details else ""
            raise GpuvalError(
                f"{path.name} fails {len(failed)} check(s), first {first.name!r}{detail}; fix it "
                "or publish with --force (the copy is then stamped UNCHECKED)."
            )
        progress("preparing the copy")
        if "xlwings.conf" in wb.sheetnames:
            del wb["xlwings.conf"]
        frozen = 0
        if _has_udfs(wb):
            progress("freezing GPUVAL_ cells to their values from the core")
            with tempfile.TemporaryDirectory(prefix="gpuval-udf-") as tmp:
                values = open_workbook(recalculate(path, Path(tmp) / path.name), data_only=True)
                frozen = freeze_udf_cells(wb, values)
        version = load_dataset().version
        status = "check passed" if report.checked else "UNCHECKED (published with --force)"
        cover = wb["Cover"] if "Cover" in wb.sheetnames else wb.worksheets[0]
        stamp = f"Published {today.isoformat()} by gpuval; dataset {version}; {status}"
        if frozen:
            stamp += f"; {frozen} UDF cell(s) frozen to values"
        cover["B9"] = "Published"
        cover["B9"].style = "gv_label"
        cover["C9"] = stamp
        cover["C9"].style = "gv_check"
        asof = named_value(wb, "data_asof")
        asof = asof.date() if isinstance(asof, dt.datetime) else asof
        stem = f"{path.stem}_{asof.isoformat() if isinstance(asof, dt.date) else today.isoformat()}"
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="gpuval-publish-") as tmp:
            staged = Path(tmp) / f"{stem}.xlsx"
            wb.save(staged)
            progress("recalculating and storing every computed value")
            recalculated = recalculate(staged, Path(tmp) / "recalc" / f"{stem}.xlsx")
            final = Path(tmp) / "final" / f"{stem}.xlsx"
            final.parent.mkdir()
            fill_cached_values(staged, recalculated, final)
            outputs = [final]
            if pdf:
                progress("rendering the PDF")
                outputs.append(convert(final, "pdf", Path(tmp) / "pdf"))
            for file in outputs:
                target = out_dir / file.name
                _copy_atomic(file, target)
                report.outputs.append(target)
        manifest = out_dir / f"{stem}.manifest.json"
        body = {
            "workbook": path.name, "published": today.isoformat(), "dataset": version,
            "check": "passed" if report.checked else "UNCHECKED",
            "files": {p.name: _sha256(p) for p in report.outputs},
        }  # fmt: skip
        text = json.dumps(body, indent=2) + "\n"
        replace_atomically(manifest, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        report.manifest = manifest
    return report


def _has_udfs(wb: Any) -> bool:
    return any(
        c.data_type == "f" and is_udf(c.value)
        for ws in wb.worksheets for row in ws.iter_rows() for c in row
    )  # fmt: skip


def _copy_atomic(src: Path, target: Path) -> None:
    replace_atomically(target, lambda tmp: shutil.copyfile(src, tmp))
