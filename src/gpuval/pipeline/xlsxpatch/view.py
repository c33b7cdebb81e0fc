"""An openpyxl view of a few sheets of a package, for reading: the other worksheets are left out
(an empty sheet of the same name stands in), so the cost of reading grows with the sheets read,
not with an analyst's 100,000-row sheet, its drawings or its pictures."""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from collections.abc import Iterable

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline.xlsxpatch.package import NS, Package, parse_xml, serialize_xml
from gpuval.pipeline.xlsxpatch.workbook import WorkbookPart

__all__ = ["read_sheets"]

_EMPTY = f'<worksheet xmlns="{NS["m"]}"><sheetData/></worksheet>'.encode()
_KEEP_RELS = ("comments",)  # what the sheets read need besides their cells: their notes
_SKIP = ("xl/media/", "xl/richData/", "xl/vbaProject", "customXml/", "xl/persons/",
         "xl/threadedComments/", "xl/drawings/", "xl/charts/", "xl/embeddings/")  # fmt: skip


def read_sheets(package: Package, book: WorkbookPart, sheets: Iterable[str]) -> Workbook:
    """The workbook as openpyxl reads it, with only ``sheets`` filled (their cells and notes)."""
    wanted = {book.sheets[s] for s in sheets if s in book.sheets}
    sheet_parts = set(book.sheets.values())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in package.names:
            if name.startswith(_SKIP) and not name.endswith(".vml"):
                continue
            folder, base = posixpath.split(name)
            owner = posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))
            if name in sheet_parts and name not in wanted:
                archive.writestr(name, _EMPTY)
            elif folder.endswith("_rels") and owner in sheet_parts:
                if owner in wanted:
                    archive.writestr(name, _only_notes(package, name))
            else:
                archive.writestr(name, package.read(name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(out.getvalue()), rich_text=False)
    except GpuvalError:
        raise
    except Exception as exc:  # a damaged part openpyxl cannot read
        raise GpuvalError(
            f"{package.label} {package.path} cannot be read as .xlsx ({type(exc).__name__}: "
            f"{str(exc)[:160]})."
        ) from None


def _only_notes(package: Package, rels_name: str) -> bytes:
    original = package.read(rels_name)
    root = parse_xml(original, rels_name)
    for rel in list(root):
        if isinstance(rel.tag, str) and rel.get("Type", "").rsplit("/", 1)[-1] not in _KEEP_RELS:
            root.remove(rel)
    return serialize_xml(root, original)
