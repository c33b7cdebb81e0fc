"""Cached values of formula cells: the computed value a formula cell carries (its ``<v>`` and type
``t``), taken from a recalculated copy of the same workbook.

A worksheet part is edited as text, cell by cell: in a formula cell only the ``t`` attribute and
the ``<v>`` element change, and nothing else in the part changes, byte for byte (the formula,
style, shared-formula and array structure, ``cm``/``vm`` metadata, ``extLst``, attribute order).
The formula cells are those with an ``<f>`` and the other cells of an array formula's range; a
cell with a rich value (``vm``, e.g. a picture in a cell) is left alone.

The values are read from the recalculated file's own parts, as that application stored them
(``t="n"`` is written as a plain number, a shared string in an array range as ``t="str"``). A
value that is no result (a cell the copy lacks, or an error other than Excel's own six, such as
``#NAME?`` for a function the calculating application does not know) is not stored: the cell is
left with no value, for Excel to compute, and listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils.cell import range_boundaries

from gpuval.pipeline.xlsxpatch.package import Package, parse_xml, serialize_xml
from gpuval.pipeline.xlsxpatch.sheet import M, cell_ref
from gpuval.pipeline.xlsxpatch.workbook import WorkbookPart

__all__ = ["STANDARD_ERRORS", "Cached", "Computed", "StoredValues", "excel_only", "read_computed",
           "store"]  # fmt: skip

#: Error values that are results (Excel's own); any other error is a value not computed.
STANDARD_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NUM!", "#N/A"})


@dataclass(frozen=True)
class Cached:
    """A formula cell's computed value as stored: ``type`` is ``t`` (``None`` for a number,
    ``"str"``, ``"b"`` or ``"e"``), ``text`` the ``<v>`` content, XML-escaped."""

    type: str | None
    text: str

    @property
    def computed(self) -> bool:
        return self.type != "e" or _unescape(self.text) in STANDARD_ERRORS


#: Sheet name -> cell reference -> its cached value.
Computed = dict[str, dict[str, Cached]]


@dataclass
class StoredValues:
    """What :func:`store` did: cells given a value, cells left without one (``uncomputed``:
    ``"Sheet!A1 (#NAME?)"``)."""

    filled: int = 0
    cleared: int = 0
    uncomputed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Cells with a function LibreOffice lacks (``_xlfn.LET``: #NAME? there) whose value, as
    the application that saved the file computed it, is kept."""


def excel_only(formula: str, result: str) -> bool:
    """``result`` (LibreOffice's) is #NAME? for a formula using a function newer than
    LibreOffice knows (Excel writes those as ``_xlfn.NAME``): not an error of the formula."""
    return result == "#NAME?" and "_xlfn." in formula


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace(
        "&apos;", "'").replace("&amp;", "&")  # fmt: skip


# --- the cells of a worksheet part, as text ----------------------------------------------


def _prefix(xml: str) -> str:
    """The namespace prefix the part uses for the worksheet (``""`` or ``"x:"``)."""
    match = re.search(r"<([A-Za-z_][\w.-]*:)?worksheet[\s>]", xml)
    return (match[1] or "") if match else ""


@dataclass(frozen=True)
class _Grammar:
    cell: re.Pattern[str]
    formula: re.Pattern[str]
    value: re.Pattern[str]
    data: re.Pattern[str]


def _grammar(prefix: str) -> _Grammar:
    p = re.escape(prefix)

    def element(tag: str) -> str:
        return rf"<{p}{tag}(?=[\s/>])(?P<{tag}attrs>[^>]*?)(?:/>|>(?P<{tag}body>.*?)</{p}{tag}>)"

    return _Grammar(
        cell=re.compile(element("c"), re.DOTALL),
        formula=re.compile(element("f"), re.DOTALL),
        value=re.compile(element("v"), re.DOTALL),
        data=re.compile(rf"<{p}sheetData(?:\s[^>]*)?(?:/>|>.*?</{p}sheetData>)", re.DOTALL),
    )


_ATTRS = {
    name: re.compile(rf"(?<=\s){name}\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")
    for name in ("r", "t", "vm", "ref")
}


def _attr(attrs: str, name: str) -> str | None:
    match = _ATTRS[name].search(attrs)
    return None if match is None else (match["dq"] if match["dq"] is not None else match["sq"])


def _array_cells(data: str, g: _Grammar) -> set[str]:
    """The cells of array formulas' ranges other than their first (they hold results too)."""
    out: set[str] = set()
    if "array" not in data:
        return out
    for f in g.formula.finditer(data):
        ref = _attr(f["fattrs"], "ref")
        if _attr(f["fattrs"], "t") == "array" and ref:
            left, top, right, bottom = (int(n or 0) for n in range_boundaries(ref))
            out |= {cell_ref(r, c) for r in range(top, bottom + 1)
                    for c in range(left, right + 1)}  # fmt: skip
            out.discard(cell_ref(top, left))
    return out


# --- reading a recalculated copy ----------------------------------------------------------


def read_computed(path: Path) -> Computed:
    """The value of every formula cell (and of the other cells of an array formula's range) of
    the workbook at ``path`` (a recalculated copy), by sheet name: only these are stored, so
    an analyst's large sheet of plain values costs no memory here."""
    package = Package(Path(path), label="Recalculated workbook")
    book = WorkbookPart(package)
    strings: list[str] | None = None
    out: Computed = {}
    for sheet, part in book.sheets.items():
        xml = package.read(part).decode("utf-8")
        prefix = _prefix(xml)
        g, formula = _grammar(prefix), f"<{prefix}f"
        values: dict[str, Cached] = {}
        for data in g.data.finditer(xml):
            arrays = _array_cells(data[0], g)
            for c in g.cell.finditer(data[0]):
                ref, body = _attr(c["cattrs"], "r"), c["cbody"]
                if not body or (formula not in body and ref not in arrays):
                    continue
                v = g.value.search(body) if ref else None
                if v is None:
                    continue
                kind = _attr(c["cattrs"], "t") or "n"
                text = v["vbody"] or ""
                if kind == "s":
                    strings = _shared_strings(package, book) if strings is None else strings
                    index = int(text) if text.strip().isdigit() else -1
                    kind, text = "str", escape(strings[index]) if index < len(strings) else ""
                if kind in ("n", "str", "b", "e"):
                    values[ref] = Cached(None if kind == "n" else kind, text)  # type: ignore[index]
        out[sheet] = values
    return out


def _shared_strings(package: Package, book: WorkbookPart) -> list[str]:
    found = package.related(book.name, "sharedStrings")
    if not found:
        return []
    root = parse_xml(package.read(found[0]), "shared strings")
    return ["".join(t.text or "" for t in si.iter(f"{{{M}}}t")) for si in root.iter(f"{{{M}}}si")]


# --- writing ------------------------------------------------------------------------------


def _with_type(attrs: str, kind: str | None) -> str:
    """``attrs`` with ``t`` set to ``kind`` (in place when present), or without ``t`` (``None``;
    an explicit ``t="n"`` stays, it says the same)."""
    match = re.search(r"\s+(?P<name>t)\s*=\s*([\"'])(?P<value>[^\"']*)\2", attrs)
    if match is None:
        if kind is None:
            return attrs
        stripped = attrs.rstrip()
        return f'{stripped} t="{kind}"{attrs[len(stripped) :]}'
    if kind is None:
        return attrs if match["value"] == "n" else attrs[: match.start()] + attrs[match.end() :]
    return attrs[: match.start("value")] + kind + attrs[match.end("value") :]


def _store_part(xml: str, sheet: str, values: dict[str, Cached] | None, done: StoredValues) -> str:
    prefix = _prefix(xml)
    if f"<{prefix}f" not in xml:  # no formula: nothing to do (an analyst's table of constants)
        return xml
    g = _grammar(prefix)

    def cells(data: re.Match[str]) -> str:
        arrays = _array_cells(data[0], g)
        f_tag = f"<{prefix}f"

        def one(c: re.Match[str]) -> str:
            attrs, body = c["cattrs"], c["cbody"] or ""
            if not arrays and f_tag not in body:
                return c[0]  # most cells: a constant
            ref = _attr(attrs, "r")
            formula = g.formula.search(body)
            if ref is None or (formula is None and ref not in arrays) or _attr(attrs, "vm"):
                return c[0]
            value = None if values is None else values.get(ref)
            rest = g.value.sub("", body)
            if value is not None and value.computed:
                done.filled += 1
                cut = g.formula.search(rest)
                at = cut.end() if cut is not None else 0
                body = f"{rest[:at]}<{prefix}v>{value.text}</{prefix}v>{rest[at:]}"
                return f"<{prefix}c{_with_type(attrs, value.type)}>{body}</{prefix}c>"
            if values is not None:
                why = _unescape(value.text) if value is not None else "no value"
                had = any(v["vbody"] for v in g.value.finditer(body))
                if formula is not None and had and excel_only(formula[0], why):
                    done.kept.append(f"{sheet}!{ref}")
                    return c[0]  # Excel's value stands until Excel computes it again
                done.uncomputed.append(f"{sheet}!{ref} ({why})")
            bare = _with_type(attrs, None)
            if bare == attrs and not any(v["vbody"] for v in g.value.finditer(body)):
                return c[0]  # no value (an empty <v> without a type is none: openpyxl writes it)
            done.cleared += 1
            return f"<{prefix}c{bare}>{rest}</{prefix}c>" if rest else f"<{prefix}c{bare}/>"

        return g.cell.sub(one, data[0])

    return g.data.sub(cells, xml)


def store(package: Package, book: WorkbookPart, computed: Computed | None) -> StoredValues:
    """Give every formula cell of every worksheet in ``package`` its value from ``computed``
    (see the module); ``computed=None``: remove every formula cell's value instead, so none is
    out of date. Only the parts whose cells change are rewritten."""
    done = StoredValues()
    for sheet, part in book.sheets.items():
        original = package.read(part)
        try:
            xml = original.decode("utf-8")
        except UnicodeDecodeError:  # another encoding: the same XML, as UTF-8
            original = serialize_xml(package.xml(part), b"")
            xml = original.decode("utf-8")
        values = None if computed is None else computed.get(sheet, {})
        new = _store_part(xml, sheet, values, done).encode("utf-8")
        if new != original:
            package.write(part, new)
    return done
