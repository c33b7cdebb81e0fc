"""An openpyxl view of a few sheets of a package, for reading: the other worksheets are left out
(an empty sheet of the same name stands in), so the cost of reading grows with the sheets read,
not with an analyst's 100,000-row sheet, its drawings or its pictures."""

from __future__ import annotations

import io
import posixpath
import re
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
_KEEP_RELS = ("comments", "hyperlink", "table")
"""What the sheets read need besides their cells: their notes, and the relationships openpyxl
looks up by id (an analyst's hyperlinks, a range formatted as a table)."""
_SKIP = ("xl/media/", "xl/richData/", "xl/vbaProject", "customXml/", "xl/persons/",
         "xl/threadedComments/", "xl/drawings/", "xl/charts/", "xl/embeddings/")  # fmt: skip


def read_sheets(
    package: Package, book: WorkbookPart, sheets: Iterable[str], *, data_only: bool = False
) -> Workbook:
    """The workbook as openpyxl reads it, with only ``sheets`` filled (their cells and notes;
    ``data_only``: formulas' cached values instead of the formulas)."""
    wanted = {book.sheets[s] for s in sheets if s in book.sheets}
    sheet_parts = set(book.sheets.values())
    replaced = _compact_strings(package, book, sorted(wanted))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in package.names:
            if name.startswith(_SKIP) and not name.endswith(".vml"):
                continue
            folder, base = posixpath.split(name)
            owner = posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))
            if name in replaced:
                archive.writestr(name, replaced[name])
            elif name in sheet_parts and name not in wanted:
                archive.writestr(name, _EMPTY)
            elif folder.endswith("_rels") and owner in sheet_parts:
                if owner in wanted:
                    archive.writestr(name, _only_notes(package, name))
            elif folder.endswith("_rels") and owner.startswith("xl/chartsheets/"):
                archive.writestr(name, _only_notes(package, name))  # its chart is not read
            else:
                archive.writestr(name, package.read(name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(out.getvalue()), rich_text=False, data_only=data_only)
    except GpuvalError:
        raise
    except Exception as exc:  # a damaged part openpyxl cannot read
        raise GpuvalError(
            f"{package.label} {package.path} cannot be read as .xlsx ({type(exc).__name__}: "
            f"{str(exc)[:160]})."
        ) from None


_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*/>|<(?:\w+:)?si\b.*?</(?:\w+:)?si>", re.DOTALL)
_SI_START = re.compile(rb"<(?:\w+:)?si[\s>/]")
_SHARED = re.compile(rb"(<(?:\w+:)?c\b[^>]*\bt=\"s\"[^>]*>\s*<(?:\w+:)?v>)(\d+)(<)")


def _compact_strings(package: Package, book: WorkbookPart, parts: list[str]) -> dict[str, bytes]:
    """The shared-string table cut to the strings the sheets read use (renumbered in them), so
    an analyst's sheet of 100,000 distinct strings costs a scan, not 100,000 openpyxl objects.
    Returns the replaced parts, or nothing when the table is not in the expected shape."""
    tables = package.related(book.name, "sharedStrings")
    if not tables:
        return {}
    mapping: dict[int, int] = {}
    out: dict[str, bytes] = {}

    def renumber(match: re.Match[bytes]) -> bytes:
        old = int(match[2])
        new = mapping.setdefault(old, len(mapping))
        return match[1] + str(new).encode() + match[3]

    for part in parts:
        out[part] = _SHARED.sub(renumber, package.read(part))
    if not mapping:  # the sheets read share no strings: the table is not even inflated
        out[tables[0]] = f'<sst xmlns="{NS["m"]}" count="0" uniqueCount="0"/>'.encode()
        return out
    table = package.read(tables[0])
    first = _SI_START.search(table)
    if first is None:
        return {}
    tag = first[0][:-1]  # "<si" or "<x:si"
    pieces = table[first.start() :].split(tag)[1:]  # one per entry, split in C
    last = _SI.match(tag + pieces[-1])
    if last is None:
        return {}
    tail = (tag + pieces[-1])[last.end() :]
    pieces[-1] = pieces[-1][: last.end() - len(tag)]
    if any(old >= len(pieces) for old in mapping):
        return {}  # an index past the table: let openpyxl read the parts as they are
    kept = [tag + pieces[old] for old in mapping]
    out[tables[0]] = table[: first.start()] + b"".join(kept) + tail
    return out


def _only_notes(package: Package, rels_name: str) -> bytes:
    original = package.read(rels_name)
    root = parse_xml(original, rels_name)
    for rel in list(root):
        if isinstance(rel.tag, str) and rel.get("Type", "").rsplit("/", 1)[-1] not in _KEEP_RELS:
            root.remove(rel)
    return serialize_xml(root, original)
