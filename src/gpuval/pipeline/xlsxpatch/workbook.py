"""``xl/workbook.xml``: which part holds each sheet, defined names, calculation settings."""

from __future__ import annotations

from lxml import etree

from gpuval.errors import GpuvalError
from gpuval.pipeline.safety import strict_refusal
from gpuval.pipeline.xlsxpatch.package import NS, Package

__all__ = ["WorkbookPart", "workbook_part"]

M = NS["m"]
_DEFINED = f"{{{M}}}definedName"

#: Children of ``workbook`` in schema order (ISO/IEC 29500-1 CT_Workbook).
_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "AlternateContent", "revisionPtr", "absPath",
    "workbookProtection", "bookViews", "sheets", "functionGroups", "externalReferences",
    "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
    "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
]  # fmt: skip


def workbook_part(package: Package) -> str:
    """The workbook part's name, from the package relationships."""
    for typ, target, _mode in package.rels("").values():
        if typ.endswith("/officeDocument"):
            return target
    if package.has("xl/workbook.xml"):
        return "xl/workbook.xml"
    raise GpuvalError(f"{package.label} {package.path} has no workbook part.")


class WorkbookPart:
    def __init__(self, package: Package) -> None:
        self.package = package
        self.name = workbook_part(package)
        self.original = package.read(self.name)
        self.root = package.xml(self.name)
        if etree.QName(self.root).namespace != M:
            raise GpuvalError(strict_refusal(package.label, package.path))
        self.touched = False
        pr = self.root.find(f"{{{M}}}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        rels = package.rels(self.name)
        self.sheets: dict[str, str] = {}  # sheet name -> part
        self.sheet_ids: list[str] = []  # position (localSheetId) -> name
        sheets = self.root.find(f"{{{M}}}sheets")
        for sheet in sheets if sheets is not None else []:
            if not isinstance(sheet.tag, str):
                continue
            name = sheet.get("name", "")
            self.sheet_ids.append(name)
            rel = rels.get(sheet.get(f"{{{NS['r']}}}id", ""))
            if rel is not None and rel[0].endswith("/worksheet"):
                self.sheets[name] = rel[1]

    def part_of(self, sheet: str) -> str:
        part = self.sheets.get(sheet)
        if part is None:
            where = f"{self.package.label} {self.package.path}"
            raise GpuvalError(f"{where} has no worksheet {sheet!r}.")
        return part

    # --- defined names ----------------------------------------------------------------------

    def _names(self) -> etree._Element:
        names = self.root.find(f"{{{M}}}definedNames")
        if names is None:
            names = etree.Element(f"{{{M}}}definedNames")
            self._insert(names)
        return names

    def defined_name(self, name: str, *, sheet: str | None = None) -> str | None:
        """The text of a defined name (workbook scope, or ``sheet``'s), or None."""
        element = self._find(name, sheet)
        return None if element is None else element.text or ""

    def _find(self, name: str, sheet: str | None) -> etree._Element | None:
        names = self.root.find(f"{{{M}}}definedNames")
        local = None if sheet is None else str(self.sheet_ids.index(sheet))
        for element in names.iterchildren(_DEFINED) if names is not None else []:
            if (
                element.get("name", "").lower() == name.lower()
                and element.get("localSheetId") == local
            ):
                return element
        return None

    def define(
        self, name: str, text: str, *, sheet: str | None = None, hidden: bool = False
    ) -> None:
        """Add or replace a defined name; a replaced name keeps its other attributes."""
        element = self._find(name, sheet)
        if element is None:
            element = etree.SubElement(self._names(), _DEFINED)
            element.set("name", name)
            if sheet is not None:
                element.set("localSheetId", str(self.sheet_ids.index(sheet)))
            if hidden:
                element.set("hidden", "1")
        elif element.text == text:
            return
        element.text = text
        self.touched = True

    def undefine(self, name: str, *, sheet: str | None = None) -> None:
        element = self._find(name, sheet)
        parent = None if element is None else element.getparent()
        if element is None or parent is None:
            return
        parent.remove(element)
        grandparent = parent.getparent()
        if not len(parent) and grandparent is not None:
            grandparent.remove(parent)
        self.touched = True

    # --- calculation settings -----------------------------------------------------------------

    def calc(self, **attributes: str) -> None:
        """Set attributes of ``calcPr`` (e.g. ``fullCalcOnLoad="1"``), keeping the others."""
        calc = self.root.find(f"{{{M}}}calcPr")
        if calc is None:
            calc = etree.Element(f"{{{M}}}calcPr")
            self._insert(calc)
        for key, value in attributes.items():
            if calc.get(key) != value:
                calc.set(key, value)
                self.touched = True

    def _insert(self, element: etree._Element) -> None:
        rank = _ORDER.index(etree.QName(element).localname)
        for child in self.root:
            if isinstance(child.tag, str) and etree.QName(child).localname in _ORDER[rank + 1 :]:
                child.addprevious(element)
                return
        self.root.append(element)
