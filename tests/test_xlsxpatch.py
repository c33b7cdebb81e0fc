# ruff: noqa: E501  (package parts written as Excel writes them: long lines)
"""The part-level patcher: what it changes, and everything it must leave as it was."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline.xlsxpatch import MARKER, Formula, Patch, read_computed
from gpuval.pipeline.xlsxpatch.values import Cached

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NSMAP = {"m": M}

# A hand-written package in the shape Excel 365 saves: x14ac/xr attributes, an mc:Ignorable
# list, a shared formula, a dynamic array (cm), a rich value (vm), an extension list, a
# calculation chain, a comments part with its legacy drawing and a threaded comment.
SHEET = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{M}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" \
xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" \
xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" \
xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" mc:Ignorable="x14ac xr" \
xr:uid="{{00000000-0001-0000-0000-000000000000}}"><dimension ref="A1:D5"/>\
<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>\
<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><sheetData>\
<row r="1" spans="1:4" x14ac:dyDescent="0.25"><c r="A1" s="1"><v>10</v></c>\
<c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>20</v></c><c r="D1" t="s"><v>0</v></c></row>\
<row r="2" spans="1:4" x14ac:dyDescent="0.25"><c r="A2"><v>11</v></c><c r="B2"><f t="shared" si="0"/>\
<v>22</v></c></row><row r="3" spans="1:4" x14ac:dyDescent="0.25"><c r="A3"><v>12</v></c>\
<c r="B3"><f t="shared" si="0"/><v>24</v></c><c r="C3" cm="1"><f t="array" ref="C3">SUM(A1:A3)</f>\
<v>33</v></c></row><row r="5" spans="1:4"><c r="A5" t="e" vm="1"><v>#VALUE!</v></c></row></sheetData>\
<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>\
<legacyDrawing r:id="rId1"/><extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" \
xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations \
xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation \
type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$1:$A$3</xm:f></x14:formula1>\
<xm:sqref>A1</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>"""

PARTS = {
    "[Content_Types].xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" \
ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" \
ContentType="application/xml"/><Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>\
<Override PartName="/xl/comments1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>\
<Override PartName="/xl/threadedComments/threadedComment1.xml" ContentType="application/vnd.ms-excel.threadedcomments+xml"/></Types>""",
    "_rels/.rels": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>""",
    "xl/workbook.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{M}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" \
xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15" \
xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"><workbookPr defaultThemeVersion="166925"/>\
<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="28800" windowHeight="12300"/></bookViews>\
<sheets><sheet name="Model" sheetId="1" r:id="rId1"/><sheet name="Lists" sheetId="2" r:id="rId2"/></sheets>\
<definedNames><definedName name="rate" comment="analyst">Model!$A$1</definedName></definedNames>\
<extLst><ext uri="{{140A7094-0E35-4892-8432-C4D2E57EDEB5}}"><x15:workbookPr chartTrackingRefBase="1"/></ext></extLst></workbook>""",
    "xl/_rels/workbook.xml.rels": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>\
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>\
<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>""",
    "xl/worksheets/sheet1.xml": SHEET,
    "xl/worksheets/_rels/sheet1.xml.rels": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="../comments1.xml"/>\
<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" Target="../threadedComments/threadedComment1.xml"/></Relationships>""",
    "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{M}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>',
    "xl/styles.xml": f"""<styleSheet xmlns="{M}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2">\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>""",
    "xl/sharedStrings.xml": f'<sst xmlns="{M}" count="1" uniqueCount="1"><si><r><rPr><b/></rPr><t>bold</t></r><r><t> plain</t></r></si></sst>',
    "xl/calcChain.xml": f'<calcChain xmlns="{M}"><c r="B1" i="1"/><c r="B2"/><c r="B3"/><c r="C3"/></calcChain>',
    "xl/comments1.xml": f"""<comments xmlns="{M}"><authors><author>gpuval</author><author>Lin Wei</author><author>tc={{T1}}</author></authors>\
<commentList><comment ref="A1" authorId="0" shapeId="0"><text><t>old.record\nsource.txt\nold quote</t></text></comment>\
<comment ref="A2" authorId="1" shapeId="0"><text><r><rPr><b/></rPr><t>Lin Wei:</t></r><r><t xml:space="preserve">\nchecked</t></r></text></comment>\
<comment ref="A3" authorId="2" shapeId="0"><text><t>[Threaded comment] question</t></text></comment></commentList></comments>""",
    "xl/threadedComments/threadedComment1.xml": '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="A3" dT="2026-11-18T09:12:44.37" personId="{P}" id="{T1}"><text>question</text></threadedComment></ThreadedComments>',
    "xl/drawings/vmlDrawing1.vml": """<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">\
<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"/>\
<v:shape id="_x0000_s1025" type="#_x0000_t202" style="visibility:hidden"><x:ClientData ObjectType="Note"><x:Anchor>1, 15, 0, 2, 3, 15, 4, 1</x:Anchor><x:Row>0</x:Row><x:Column>0</x:Column></x:ClientData></v:shape>\
<v:shape id="_x0000_s1026" type="#_x0000_t202" style="visibility:hidden"><x:ClientData ObjectType="Note"><x:Row>1</x:Row><x:Column>0</x:Column></x:ClientData></v:shape>\
<v:shape id="_x0000_s1027" type="#_x0000_t202" style="visibility:hidden"><x:ClientData ObjectType="Note"><x:Row>2</x:Row><x:Column>0</x:Column></x:ClientData></v:shape></xml>""",
    "customXml/item1.xml": "<root>custom</root>",
    "xl/media/image1.png": "\x89PNG not really",
}  # fmt: skip


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text.encode("utf-8") if name.endswith((".xml", ".rels", ".vml")) else text.encode("latin-1"))  # fmt: skip
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def raw_entries(path: Path) -> dict[str, bytes]:
    """Each entry's compressed bytes, as stored in the file."""
    data = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            header = data[info.header_offset : info.header_offset + 30]
            name_len = int.from_bytes(header[26:28], "little")
            extra_len = int.from_bytes(header[28:30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            out[info.filename] = data[start : start + info.compress_size]
    return out


def cells(xml: bytes) -> dict[str, bytes]:
    root = etree.fromstring(xml)
    return {c.get("r"): etree.tostring(c) for c in root.iter(f"{{{M}}}c")}


def test_untouched_parts_are_copied_byte_for_byte(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Lists", "B1", 5)
    patch.save(out)
    before, after = parts(book), parts(out)
    assert list(before) == list(after)  # same parts, same order
    assert [n for n in before if before[n] != after[n]] == ["xl/worksheets/sheet2.xml"]
    raw_before, raw_after = raw_entries(book), raw_entries(out)
    same = [n for n in before if n != "xl/worksheets/sheet2.xml"]
    assert all(raw_before[n] == raw_after[n] for n in same)  # not even re-deflated
    assert zipfile.ZipFile(out).testzip() is None


def test_only_the_written_cells_change(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "A2", 99.5)
    patch.set("Model", "D1", "=not a formula")
    patch.save(out)
    before, after = (
        cells(parts(book)["xl/worksheets/sheet1.xml"]),
        cells(parts(out)["xl/worksheets/sheet1.xml"]),
    )
    assert {r for r in before if before[r] != after[r]} == {"A2", "D1"}
    sheet = parts(out)["xl/worksheets/sheet1.xml"]
    for kept in (b'mc:Ignorable="x14ac xr"', b'xr:uid="{00000000-0001-0000-0000-000000000000}"',
                 b'x14ac:dyDescent="0.25"', b"<xm:f>Lists!$A$1:$A$3</xm:f>", b'cm="1"',
                 b'vm="1"', b'<f t="shared" ref="B1:B3" si="0">A1*2</f>'):  # fmt: skip
        assert kept in sheet, kept
    assert sheet.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet')
    wb = load_workbook(out)
    assert wb["Model"]["A2"].value == 99.5
    assert wb["Model"]["D1"].value == "=not a formula" and wb["Model"]["D1"].data_type == "s"
    assert parts(out)["xl/sharedStrings.xml"] == parts(book)["xl/sharedStrings.xml"]


@pytest.mark.parametrize("text", ["=1+1", "+33", "-x", "@SUM(A1)", " padded ", "two\nlines"])
def test_text_is_written_as_text(book: Path, tmp_path: Path, text: str) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Lists", "A1", text)
    patch.save(out)
    cell = etree.fromstring(parts(out)["xl/worksheets/sheet2.xml"]).find(".//m:c", NSMAP)
    assert cell.get("t") == "inlineStr" and cell.find("m:f", NSMAP) is None
    assert load_workbook(out)["Lists"]["A1"].value == text


def test_a_formula_loses_its_cached_value_type_and_metadata(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "C3", Formula("=A1+A2"))  # was a dynamic array with cm="1"
    patch.set("Model", "A5", Formula("A1*3"))  # was a rich value (vm="1", t="e")
    patch.save(out)
    root = etree.fromstring(parts(out)["xl/worksheets/sheet1.xml"])
    for ref, formula in (("C3", "A1+A2"), ("A5", "A1*3")):
        cell = root.find(f".//m:c[@r='{ref}']", NSMAP)
        assert dict(cell.attrib) == {"r": ref}
        assert [(etree.QName(c).localname, c.text, dict(c.attrib)) for c in cell] == [
            ("f", formula, {})
        ]
    assert "xl/calcChain.xml" not in parts(out)  # a stale chain would make Excel repair the file
    assert b"calcChain" not in parts(out)["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in parts(out)["[Content_Types].xml"]
    assert load_workbook(out)["Model"]["A5"].value == "=A1*3"


def test_values_only_keep_the_calc_chain(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "A1", 1.0)
    patch.save(out)
    assert parts(out)["xl/calcChain.xml"] == parts(book)["xl/calcChain.xml"]


def test_overwriting_a_shared_formula_master_keeps_its_followers(
    book: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "B1", 7)
    patch.save(out)
    wb = load_workbook(out)
    assert [wb["Model"][f"B{r}"].value for r in (1, 2, 3)] == [7, "=A2*2", "=A3*2"]


def test_rows_and_cells_stay_in_order(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    for ref in ("Z4", "B4", "C1", "A9", "AA9"):
        patch.set("Model", ref, ref)
    patch.save(out)
    root = etree.fromstring(parts(out)["xl/worksheets/sheet1.xml"])
    rows = [int(r.get("r")) for r in root.iter(f"{{{M}}}row")]
    assert rows == [1, 2, 3, 4, 5, 9]
    row1 = [c.get("r") for c in root.find(".//m:row[@r='1']", NSMAP)]
    assert row1 == ["A1", "B1", "C1", "D1"]
    row4 = [c.get("r") for c in root.find(".//m:row[@r='4']", NSMAP)]
    assert row4 == ["B4", "Z4"]
    assert root.find("m:dimension", NSMAP).get("ref") == "A1:AA9"
    assert load_workbook(out)["Model"]["AA9"].value == "AA9"


def test_a_row_without_cells_keeps_one_row_element(book: Path, tmp_path: Path) -> None:
    """A height given twice to a row with no cells: one row element, the second height (an
    empty row element is false in lxml; a second element for the row would need Excel's repair)."""
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.row_height("Model", 7, 30)
    patch.row_height("Model", 7, 45)
    patch.save(out)
    root = etree.fromstring(parts(out)["xl/worksheets/sheet1.xml"])
    sevens = [r for r in root.iter(f"{{{M}}}row") if r.get("r") == "7"]
    assert [(r.get("ht"), len(r)) for r in sevens] == [("45", 0)]
    assert load_workbook(out)["Model"].row_dimensions[7].height == 45


def test_dates_numbers_booleans_and_clearing(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "A1", dt.date(2026, 11, 20))  # keeps its date style (s="1")
    patch.set("Model", "A2", True)
    patch.set("Model", "A3", None)
    patch.set("Model", "C1", 1e-9)
    patch.save(out)
    ws = load_workbook(out)["Model"]
    assert ws["A1"].value == dt.datetime(2026, 11, 20)
    assert ws["A2"].value is True and ws["A3"].value is None
    assert ws["C1"].value == 1e-9
    assert b'<c r="A3"/>' in parts(out)["xl/worksheets/sheet1.xml"]


def test_characters_xml_cannot_carry_are_escaped(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Lists", "A1", "bell\x07 and _x0041_")
    patch.save(out)
    assert b"<t>bell_x0007_ and _x005F_x0041_</t>" in parts(out)["xl/worksheets/sheet2.xml"]


def test_defined_names_and_calc_settings(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.define("rate", "Model!$A$2")
    patch.define("gpuval_hidden", '"kept"', hidden=True)
    patch.calc(fullCalcOnLoad="1")
    patch.save(out)
    xml = parts(out)["xl/workbook.xml"]
    assert b'<definedName name="rate" comment="analyst">Model!$A$2</definedName>' in xml
    assert b'<definedName name="gpuval_hidden" hidden="1">"kept"</definedName>' in xml
    root = etree.fromstring(xml)
    order = [etree.QName(c).localname for c in root]
    assert order == ["workbookPr", "bookViews", "sheets", "definedNames", "calcPr", "extLst"]
    assert b"chartTrackingRefBase" in xml
    wb = load_workbook(out)
    assert wb.calculation.fullCalcOnLoad is True
    assert wb.defined_names["rate"].attr_text == "Model!$A$2"


def test_notes_cite_beside_what_is_there(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)

    def ours(text: str) -> bool:
        return text.startswith("old.record")

    assert patch.cite("Model", "A1", "new.record\nseed.txt\nquote", ours) == "replaced"
    assert patch.cite("Model", "A2", "new.record\nseed.txt\nquote", ours) == "beside"
    assert patch.cite("Model", "A3", "new.record", ours) == "threaded"
    assert patch.cite("Model", "B2", "other.record", ours) == "added"
    patch.save(out)
    ws = load_workbook(out)["Model"]
    assert ws["A1"].comment.text == "new.record\nseed.txt\nquote"
    assert ws["A2"].comment.text == f"Lin Wei:\nchecked\n\n{MARKER}\nnew.record\nseed.txt\nquote"
    assert ws["A2"].comment.author == "Lin Wei"
    assert ws["A3"].comment.text == "[Threaded comment] question"
    assert ws["B2"].comment.text == "other.record" and ws["B2"].comment.author == "gpuval"
    xml = parts(out)["xl/comments1.xml"]
    assert b"<r><rPr><b/></rPr><t>Lin Wei:</t></r>" in xml  # the analyst's formatting stays
    vml = parts(out)["xl/drawings/vmlDrawing1.vml"]
    assert b"_x0000_s1028" in vml and b"<x:Row>1</x:Row><x:Column>1</x:Column>" in vml
    # a second refresh replaces its own citation and nothing of the analyst's
    again = Patch(out)
    assert again.cite("Model", "A2", "third.record", ours) == "beside"
    again.save(tmp_path / "again.xlsx")
    ws = load_workbook(tmp_path / "again.xlsx")["Model"]
    assert ws["A2"].comment.text == f"Lin Wei:\nchecked\n\n{MARKER}\nthird.record"


def test_unknown_sheet_and_damaged_part_are_one_sentence(book: Path, tmp_path: Path) -> None:
    with pytest.raises(GpuvalError, match=r"has no worksheet 'Nope'\.$"):
        Patch(book).set("Nope", "A1", 1)
    broken = tmp_path / "broken.xlsx"
    files = parts(book) | {"xl/worksheets/sheet2.xml": b"<worksheet><sheetData>"}
    with zipfile.ZipFile(broken, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(GpuvalError, match=r"\(part xl/worksheets/sheet2\.xml\) is damaged"):
        Patch(broken).set("Lists", "A1", 1)


def test_save_over_is_atomic(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = book.read_bytes()
    patch = Patch(book)
    patch.set("Lists", "A1", 2)

    def broken(self, dest: str) -> None:
        Path(dest).write_bytes(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gpuval.pipeline.xlsxpatch.package.Package.save", broken)
    with pytest.raises(OSError):
        patch.save_over(book)
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_reading_view_holds_the_sheets_read_with_their_strings(book: Path) -> None:
    from gpuval.pipeline.xlsxpatch.view import read_sheets

    patch = Patch(book)
    view = read_sheets(patch.package, patch.book, ["Model"])
    full = load_workbook(book)

    def plain(ws) -> list[object]:
        return [getattr(c.value, "text", c.value) for r in ws.iter_rows() for c in r]

    assert plain(view["Model"]) == plain(full["Model"])
    assert view["Model"]["D1"].value == "bold plain"  # a shared, rich string
    assert view["Model"]["A2"].comment.text == "Lin Wei:\nchecked"
    assert view["Lists"].max_row == 1 and view["Lists"]["A1"].value is None  # not read


def test_strict_open_xml_is_refused_in_one_sentence(book: Path, tmp_path: Path) -> None:
    """As Excel saves Strict Open XML: the main namespace and the package's relationship types
    under purl.oclc.org. The patcher (refresh) and the openpyxl reader (check, publish, evaluate,
    build --from) say so alike; openpyxl alone had read a workbook without sheets, and check
    blamed a name pointing "at a missing sheet"."""
    from gpuval.pipeline.safety import safe_load_workbook

    strict = tmp_path / "strict.xlsx"
    files = parts(book)
    files["xl/workbook.xml"] = files["xl/workbook.xml"].replace(
        f'xmlns="{M}"'.encode(), b'xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"'
    )
    files["_rels/.rels"] = files["_rels/.rels"].replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
    )
    with zipfile.ZipFile(strict, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    said = r"strict\.xlsx is saved as Strict Open XML \(or is not a spreadsheet\); save it .*\.$"
    with pytest.raises(GpuvalError, match=said):
        Patch(strict)
    with pytest.raises(GpuvalError, match=said):
        safe_load_workbook(strict)


# --- cached values of formula cells (Patch.store_values) ---------------------------------------


def without_formula_values(xml: bytes) -> bytes:
    """The part with the ``<v>`` and ``t`` of every formula cell removed (the test's own reading:
    a formula cell is one holding ``<f``; the fixture's array range is C3 alone)."""

    def strip(m: re.Match[bytes]) -> bytes:
        if b"<f" not in m[0]:
            return m[0]
        return re.sub(rb"<v>[^<]*</v>|<v/>", b"", re.sub(rb' t="[a-z]+"', b"", m[0]))

    return re.sub(rb"<c [^>]*?(?:/>|>.*?</c>)", strip, xml)


def test_store_values_changes_only_the_cached_values_of_formula_cells(
    book: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    computed = {"Model": {"B1": Cached(None, "200"), "B2": Cached(None, "22.5"),
                          "B3": Cached("e", "#NAME?"), "C3": Cached("str", "x &amp; y"),
                          "A5": Cached(None, "1")}}  # fmt: skip
    stored = patch.store_values(computed)
    patch.save(out)
    assert (stored.filled, stored.uncomputed) == (3, ["Model!B3 (#NAME?)"])
    before, after = parts(book), parts(out)
    assert [n for n in before if before[n] != after[n]] == ["xl/worksheets/sheet1.xml"]
    sheet = after["xl/worksheets/sheet1.xml"]
    assert without_formula_values(sheet) == without_formula_values(SHEET.encode())
    assert b'<c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>200</v></c>' in sheet
    assert b'<c r="B2"><f t="shared" si="0"/><v>22.5</v></c>' in sheet
    assert b'<c r="B3"><f t="shared" si="0"/></c>' in sheet  # not computed: no stale 24 either
    assert (
        b'<c r="C3" cm="1" t="str"><f t="array" ref="C3">SUM(A1:A3)</f><v>x &amp; y</v></c>'
        in sheet
    )
    assert b'<c r="A5" t="e" vm="1"><v>#VALUE!</v></c>' in sheet  # a rich value is left alone
    values = load_workbook(out, data_only=True)["Model"]
    assert (values["B1"].value, values["B2"].value, values["B3"].value) == (200, 22.5, None)
    assert values["C3"].value == "x & y"
    assert parts(out)["xl/calcChain.xml"] == parts(book)["xl/calcChain.xml"]  # same formulas
    with pytest.raises(RuntimeError, match="values are stored"):
        patch.set("Model", "A1", 1)


def test_store_values_none_removes_every_formula_value(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch = Patch(book)
    patch.set("Model", "A2", 7)
    stored = patch.store_values(None)
    patch.save(out)
    assert (stored.filled, stored.cleared, stored.uncomputed) == (0, 4, [])  # B1, B2, B3, C3
    values = load_workbook(out, data_only=True)["Model"]
    assert [values[r].value for r in ("A2", "B1", "B2", "B3", "C3", "A5")] == [
        7, None, None, None, None, "#VALUE!"]  # fmt: skip


def test_read_computed_reads_each_formula_cell_as_stored(book: Path) -> None:
    computed = read_computed(book)
    model = computed["Model"]
    assert model["B1"] == Cached(None, "20") and model["C3"] == Cached(None, "33")
    assert "D1" not in model  # a plain shared string: only formula cells' values are read
    assert "A5" not in model  # a rich value (data type), no formula
    assert Cached("e", "#VALUE!").computed
    assert not Cached("e", "#NAME?").computed and not Cached("e", "Err:502").computed
    assert computed["Lists"] == {}  # inline text is no cached value
