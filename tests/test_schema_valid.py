"""Every XML part of every workbook gpuval writes is valid against the ISO/IEC 29500
Transitional schemas: ECMA-376 5th edition Part 4 (= ISO/IEC 29500-4:2016) for the markup, the
OPC schemas of ECMA-376 Part 2 for the package parts, vendored under
``tests/schemas/ecma376-transitional`` (its README names the source and licence) and applied
with ``lxml.etree.XMLSchema``; nothing is fetched from the network.

A part is validated against the schema of its root element's namespace after the Markup
Compatibility processing Office applies on reading (ISO/IEC 29500-3): attributes and elements
of a namespace the part declares ignorable (``mc:Ignorable``) that no schema here understands
are removed, and each ``mc:AlternateContent`` becomes its first ``mc:Choice`` whose
``Requires`` namespaces are understood, else its ``mc:Fallback``. Extension lists (``extLst``)
are lax in the schemas themselves. A legacy VML drawing (root ``<xml>``, no namespace) has each
of its drawing elements validated against the VML schemas. A part whose root namespace has no
schema here fails: a new kind of part needs its schema added, not a skip.

One deviation, applied everywhere: ``xml:space="preserve"`` on a SpreadsheetML ``<t>`` is
removed before validation. The schema's ``t`` (``s:ST_Xstring``) declares no attributes, yet
Excel writes this one itself and trims leading and trailing white space from text without it
(openpyxl and refresh write it for such text too); XML 1.0 (2.10) gives it its meaning.

Checked: the built workbook for two targets, a refreshed copy, a published copy (LibreOffice)
and the Excel 365-style fixture (tests/fixtures/excel365.py) after a refresh.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from fixtures.excel365 import add_excel365
from gpuval.pipeline.publish import publish
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import build

SCHEMAS = Path(__file__).resolve().parent / "schemas" / "ecma376-transitional"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_OOXML = "http://schemas.openxmlformats.org/"
SML = f"{_OOXML}spreadsheetml/2006/main"

#: Root namespace -> the schema file (relative to SCHEMAS) that declares it.
SCHEMA_FILES = {
    SML: "sml.xsd",
    f"{_OOXML}drawingml/2006/main": "dml-main.xsd",
    f"{_OOXML}drawingml/2006/chart": "dml-chart.xsd",
    f"{_OOXML}drawingml/2006/chartDrawing": "dml-chartDrawing.xsd",
    f"{_OOXML}drawingml/2006/spreadsheetDrawing": "dml-spreadsheetDrawing.xsd",
    f"{_OOXML}officeDocument/2006/extended-properties": "shared-documentPropertiesExtended.xsd",
    f"{_OOXML}officeDocument/2006/custom-properties": "shared-documentPropertiesCustom.xsd",
    f"{_OOXML}officeDocument/2006/customXml": "shared-customXmlDataProperties.xsd",
    f"{_OOXML}officeDocument/2006/bibliography": "shared-bibliography.xsd",
    f"{_OOXML}package/2006/content-types": "opc/opc-contentTypes.xsd",
    f"{_OOXML}package/2006/relationships": "opc/opc-relationships.xsd",
    f"{_OOXML}package/2006/metadata/core-properties": "opc/opc-coreProperties.xsd",
    "urn:schemas-microsoft-com:vml": "vml-main.xsd",
    "urn:schemas-microsoft-com:office:office": "vml-officeDrawing.xsd",
    "urn:schemas-microsoft-com:office:excel": "vml-spreadsheetDrawing.xsd",
}

#: The Dublin Core schemas opc-coreProperties.xsd imports by absolute URL, found here instead.
LOCAL = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": SCHEMAS / "dc" / "dc.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": SCHEMAS / "dc" / "dcterms.xsd",
}


class _Local(etree.Resolver):
    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        local = LOCAL.get(system_url)
        return self.resolve_filename(str(local), context) if local else None


def _understood() -> frozenset[str]:
    """Every namespace a vendored schema declares: what a consumer of these schemas
    understands, in Markup Compatibility's sense."""
    targets = (etree.parse(str(p)).getroot().get("targetNamespace") for p in SCHEMAS.rglob("*.xsd"))
    return frozenset(t for t in targets if t)


UNDERSTOOD = _understood()


@functools.cache
def schema_for(namespace: str) -> etree.XMLSchema:
    """The compiled schema for parts whose root element is in ``namespace``: a driver schema
    imports the XML namespace's schema first (wml.xsd and opc-coreProperties.xsd import that
    namespace without a location), then the part's schema."""
    driver = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{XML_NS}" schemaLocation="dc/xml.xsd"/>'
        f'<xs:import namespace="{namespace}" schemaLocation="{SCHEMA_FILES[namespace]}"/>'
        "</xs:schema>"
    )
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    doc = etree.fromstring(driver.encode(), parser, base_url=str(SCHEMAS / "driver.xsd"))
    return etree.XMLSchema(etree.ElementTree(doc))


# -- Markup Compatibility -----------------------------------------------------------------------


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _prefixes(element: etree._Element, value: str | None) -> set[str]:
    nsmap = element.nsmap
    return {nsmap[p] for p in (value or "").split() if p in nsmap}


def compatibility(root: etree._Element) -> etree._Element:
    """``root`` after Markup Compatibility processing (ISO/IEC 29500-3, clauses 10 and 11) by a
    consumer that understands ``UNDERSTOOD``; changed in place."""
    _process(root, frozenset())
    return root


def _process(element: etree._Element, ignorable: frozenset[str]) -> None:
    """Ignorable content of namespaces not understood goes; ``mc:ProcessContent`` keeps the
    children of such an element; an ``mc:MustUnderstand`` naming a namespace not understood is
    left in place for the schema to reject."""
    ignorable = ignorable | _prefixes(element, element.get(f"{{{MC}}}Ignorable"))
    names = (element.get(f"{{{MC}}}ProcessContent") or "").split()
    unwrap = {(element.nsmap.get(p), n) for p, _, n in (q.partition(":") for q in names)}
    must = f"{{{MC}}}MustUnderstand"
    kept = not _prefixes(element, element.get(must)) <= UNDERSTOOD
    for name in list(element.attrib):
        ns = _namespace(name)
        if (ns == MC and not (name == must and kept)) or (ns in ignorable - UNDERSTOOD):
            del element.attrib[name]
    if element.tag == f"{{{SML}}}t" and element.get(f"{{{XML_NS}}}space") == "preserve":
        del element.attrib[f"{{{XML_NS}}}space"]  # the one deviation (module docstring)
    for child in list(element):
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        replace = None
        if child.tag == f"{{{MC}}}AlternateContent":
            replace = _choose(child)
        elif _namespace(child.tag) in ignorable - UNDERSTOOD:
            qname = etree.QName(child)
            wanted = {(qname.namespace, qname.localname), (qname.namespace, "*")} & unwrap
            replace = list(child) if wanted else []
        if replace is None:
            _process(child, ignorable)
            continue
        at = element.index(child)
        element.remove(child)
        for offset, replacement in enumerate(replace):
            element.insert(at + offset, replacement)
            _process(replacement, ignorable)


def _choose(alternate: etree._Element) -> list[etree._Element]:
    for branch in alternate:
        if branch.tag == f"{{{MC}}}Choice":
            if _prefixes(branch, branch.get("Requires")) <= UNDERSTOOD:
                return list(branch)
        elif branch.tag == f"{{{MC}}}Fallback":
            return list(branch)
    return []


# -- validation ---------------------------------------------------------------------------------


def _where(root: etree._Element, path: str | None) -> str:
    """libxml2's positional path as local names: chartSpace/chart/.../errBars/plus."""
    elements = (e for e in root.iter() if isinstance(e.tag, str))
    prefixes = {k: v for e in elements for k, v in e.nsmap.items() if k}
    try:
        found = root.getroottree().xpath(path, namespaces=prefixes) if path else []
    except etree.XPathError:  # a prefix bound to two namespaces in the part
        found = []
    if not found or not isinstance(found[0], etree._Element):
        return path or "?"
    steps = [etree.QName(e).localname for e in (found[0], *found[0].iterancestors())]
    return "/".join(reversed(steps))


def part_errors(name: str, data: bytes) -> list[str]:
    """Schema errors of one package part, each ``part:line: element path: message``."""
    root = etree.fromstring(data, etree.XMLParser(no_network=True))
    # a legacy VML drawing (root <xml>): each drawing element on its own
    elements = [e for e in root if isinstance(e.tag, str)] if root.tag == "xml" else [root]
    errors = []
    for element in elements:
        ns = _namespace(element.tag)
        if ns not in SCHEMA_FILES:
            errors.append(f"{name}:{element.sourceline}: no schema for the root {element.tag}")
            continue
        processed = compatibility(copy.deepcopy(element))  # a deep copy keeps the line numbers
        schema = schema_for(ns)
        if not schema.validate(processed):
            for e in schema.error_log:  # type: ignore[attr-defined]
                errors.append(f"{name}:{e.line}: {_where(processed, e.path)}: {e.message}")
    return errors


XML_PART = re.compile(r".*\.(xml|rels|vml)$")


def xml_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in sorted(z.namelist()) if XML_PART.fullmatch(n)}


def package_errors(path: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """Schema errors of every XML part of the package at ``path`` but those in ``skip``."""
    return [e for n, data in xml_parts(path).items() if n not in skip for e in part_errors(n, data)]


def assert_valid(path: Path) -> None:
    errors = package_errors(path)
    assert not errors, f"{len(errors)} schema error(s) in {path.name}:\n" + "\n".join(errors[:20])


# -- the workbooks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("schema") / "gpu_valuation.xlsx", target="biren")


def test_every_kind_of_part_is_checked(built: Path) -> None:
    """The workbook has the parts this module is about, and each has a schema here."""
    roots = {n: etree.fromstring(d) for n, d in xml_parts(built).items()}
    kinds = {_namespace(r.tag) for r in roots.values() if r.tag != "xml"} | {
        _namespace(e.tag) for r in roots.values() if r.tag == "xml" for e in r
    }
    assert kinds <= set(SCHEMA_FILES)
    assert {SML, f"{_OOXML}drawingml/2006/chart", "urn:schemas-microsoft-com:vml"} <= kinds
    assert sum(n.startswith("xl/charts/chart") for n in roots) >= 5


@pytest.mark.parametrize("target", ["biren", "metax"])
def test_built_workbook_is_schema_valid(target: str, built: Path, tmp_path: Path) -> None:
    assert_valid(built if target == "biren" else build(tmp_path / "m.xlsx", target=target))


def test_refreshed_workbook_is_schema_valid(built: Path, tmp_path: Path) -> None:
    copy_ = shutil.copy(built, tmp_path / "refreshed.xlsx")
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    report = refresh(Path(copy_), prices=prices, reset_inputs=True)
    assert report.changes  # the price and what depends on it were written
    assert_valid(Path(copy_))


@pytest.mark.libreoffice
def test_published_workbook_is_schema_valid(built: Path, tmp_path: Path) -> None:
    source = Path(shutil.copy(built, tmp_path / "gpu_valuation.xlsx"))
    report = publish(source, out_dir=tmp_path / "dist", force=True)
    published = next(p for p in report.outputs if p.suffix == ".xlsx")
    assert_valid(published)


#: Parts of the Excel 365 fixture with no ISO/IEC 29500 schema: Microsoft's extensions
#: ([MS-XLSX]), which refresh copies byte for byte.
MICROSOFT_ONLY = re.compile(
    r"xl/(persons/person|threadedComments/threadedComment\d+|richData/\w+)\.xml"
)


def test_excel365_workbook_after_refresh_is_schema_valid(built: Path, tmp_path: Path) -> None:
    """Every part in an ISO/IEC 29500 namespace is valid, Excel's markup-compatibility and
    extension content included; only the [MS-XLSX] parts have no schema here."""
    injected = add_excel365(built, tmp_path / "analyst.xlsx")
    prices = tmp_path / "prices.csv"
    prices.write_text("entity,date,price,currency,shares\nbiren,2026-11-20,41.5,HKD,\n")
    refresh(injected.path, prices=prices)
    parts = xml_parts(injected.path)
    foreign = frozenset(n for n in parts if MICROSOFT_ONLY.fullmatch(n))
    assert len(foreign) >= 5
    assert all("no schema for the root" in part_errors(n, parts[n])[0] for n in foreign)
    errors = package_errors(injected.path, skip=foreign)
    assert not errors, "\n".join(errors[:20])


# -- the validator itself -------------------------------------------------------------------------


def _chart_part(built: Path) -> tuple[str, bytes]:
    return next((n, d) for n, d in xml_parts(built).items() if n.startswith("xl/charts/chart"))


def test_an_element_out_of_order_is_named(built: Path) -> None:
    name, data = _chart_part(built)
    root = etree.fromstring(data)
    axis = root.find(".//{*}valAx")
    delete = axis.find("{*}delete")
    axis.remove(delete)
    axis.append(delete)  # c:delete after c:crossAx: the schema wants it after c:scaling
    errors = part_errors(name, etree.tostring(root))
    assert errors and errors[0].startswith(f"{name}:")
    assert "valAx/delete" in errors[0] and "This element is not expected" in errors[0]


def test_an_unknown_attribute_in_a_vml_drawing_fails(built: Path) -> None:
    name, data = next((n, d) for n, d in xml_parts(built).items() if n.endswith(".vml"))
    assert part_errors(name, data) == []
    root = etree.fromstring(data)
    root.find("{urn:schemas-microsoft-com:vml}shape").set("bogus", "1")
    assert any("bogus" in e for e in part_errors(name, etree.tostring(root)))


SHEET = (
    f'<worksheet xmlns="{SML}" xmlns:mc="{MC}" xmlns:x14ac="urn:example:later" {{ign}}>'
    '<sheetData><row r="1" x14ac:dyDescent="0.25"/></sheetData>{body}</worksheet>'
)


def test_ignorable_attributes_are_removed_and_others_fail() -> None:
    ok = SHEET.format(ign='mc:Ignorable="x14ac"', body="").encode()
    assert part_errors("sheet.xml", ok) == []
    not_ignorable = SHEET.format(ign="", body="").encode()
    assert any("dyDescent" in e for e in part_errors("sheet.xml", not_ignorable))


def test_alternate_content_takes_the_fallback_when_the_choice_is_not_understood() -> None:
    choice = (
        '<mc:AlternateContent><mc:Choice Requires="x14ac"><x14ac:pane/></mc:Choice>'
        "<mc:Fallback>{}</mc:Fallback></mc:AlternateContent>"
    )
    good = SHEET.format(ign='mc:Ignorable="x14ac"', body=choice.format("<pageMargins "
        'left="1" right="1" top="1" bottom="1" header="0" footer="0"/>'))  # fmt: skip
    assert part_errors("sheet.xml", good.encode()) == []
    bad = SHEET.format(ign='mc:Ignorable="x14ac"', body=choice.format("<notSml/>"))
    assert any("notSml" in e for e in part_errors("sheet.xml", bad.encode()))


def test_process_content_keeps_the_children_and_must_understand_fails() -> None:
    wrap = "<x14ac:wrap><notSml/></x14ac:wrap>"
    dropped = SHEET.format(ign='mc:Ignorable="x14ac"', body=wrap)
    assert part_errors("sheet.xml", dropped.encode()) == []  # the wrapper goes, content and all
    kept = SHEET.format(ign='mc:Ignorable="x14ac" mc:ProcessContent="x14ac:wrap"', body=wrap)
    assert any("notSml" in e for e in part_errors("sheet.xml", kept.encode()))
    must = SHEET.format(ign='mc:Ignorable="x14ac" mc:MustUnderstand="x14ac"', body="")
    assert any("MustUnderstand" in e for e in part_errors("sheet.xml", must.encode()))
