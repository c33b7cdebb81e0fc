"""Cell notes (legacy comments) written beside what is there: gpuval's own citation is replaced,
an analyst's note keeps every word and gets gpuval's citation appended after a marker line, and a
cell with an Excel 365 threaded comment is left alone."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from lxml import etree

from gpuval.pipeline.xlsxpatch.package import NS, Package, parse_xml, serialize_xml
from gpuval.pipeline.xlsxpatch.sheet import escape_text, insert_in_order, split_ref

__all__ = ["MARKER", "SheetComments"]

_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
#: Worksheet children after ``legacyDrawing`` (schema order, ISO/IEC 29500-1 CT_Worksheet).
_AFTER_LEGACY = ["legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst"]  # fmt: skip
_VML = """<xml xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">\
<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>\
<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" \
path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" \
o:connecttype="rect"/></v:shapetype></xml>"""
_NOTE_SHAPE = """<v:shape xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel" \
id="_x0000_s1025" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;\
margin-top:1.5pt;width:315pt;height:120pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" \
o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>\
<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div \
style="text-align:left"/></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>\
<x:SizeWithCells/><x:Anchor>1, 15, 0, 2, 5, 15, 5, 4</x:Anchor><x:AutoFill>False</x:AutoFill>\
<x:Row>0</x:Row><x:Column>0</x:Column></x:ClientData></v:shape>"""


M = NS["m"]
MARKER = "[gpuval source]"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_V = "urn:schemas-microsoft-com:vml"
_X = "urn:schemas-microsoft-com:office:excel"


def _text_of(comment: etree._Element) -> str:
    text = comment.find(f"{{{M}}}text")
    if text is None:
        return ""
    own = text.find(f"{{{M}}}t")
    runs = [r.findtext(f"{{{M}}}t") or "" for r in text.iterchildren(f"{{{M}}}r")]
    return ((own.text or "") if own is not None else "") + "".join(runs)


class SheetComments:
    """The notes of one worksheet (its comments part, legacy drawing and threaded comments)."""

    def __init__(
        self,
        package: Package,
        sheet_part: str,
        gpuval_author: str = "gpuval",
        sheet_root: Callable[[], etree._Element] | None = None,
    ) -> None:
        self.package = package
        self.author = gpuval_author
        self.sheet_part = sheet_part
        self.sheet_root = sheet_root  # the worksheet's tree (to link a new legacy drawing)
        comments = package.related(sheet_part, "comments")
        self.part = comments[0] if comments else None
        vml = package.related(sheet_part, "vmlDrawing")
        self.vml_part = vml[0] if vml else None
        self.threaded: set[str] = set()
        for part in package.related(sheet_part, "threadedComment"):
            for element in package.xml(part).iter():
                if isinstance(element.tag, str) and element.get("ref"):
                    self.threaded.add(element.get("ref", "").upper())
        self.root = package.xml(self.part) if self.part else None
        self._original = package.read(self.part) if self.part else b""
        self._vml: etree._Element | None = None
        self._fresh_shape: etree._Element | None = None
        self.touched = False

    def _authors(self) -> list[str]:
        assert self.root is not None
        authors = self.root.find(f"{{{M}}}authors")
        return [a.text or "" for a in authors] if authors is not None else []

    def _comment(self, ref: str) -> etree._Element | None:
        if self.root is None:
            return None
        for comment in self.root.iter(f"{{{M}}}comment"):
            if comment.get("ref", "").upper() == ref.upper():
                return comment
        return None

    def read(self, ref: str) -> tuple[str, str] | None:
        """(author, text) of the note on ``ref``, or None."""
        comment = self._comment(ref)
        if comment is None:
            return None
        authors = self._authors()
        index = int(comment.get("authorId", "0"))
        return (authors[index] if index < len(authors) else "", _text_of(comment))

    def cite(self, ref: str, citation: str, is_ours: Callable[[str], bool]) -> str:
        """Put ``citation`` on the note of ``ref``; returns what was done: ``"same"``,
        ``"replaced"`` (gpuval's own note), ``"beside"`` (appended to an analyst's note),
        ``"added"`` (a new note), ``"threaded"`` or ``"impossible"`` (left as it was)."""
        if ref.upper() in self.threaded:
            return "threaded"
        found = self.read(ref)
        if found is None:
            return "added" if self._add(ref, citation) else "impossible"
        author, text = found
        comment = self._comment(ref)
        assert comment is not None
        # LibreOffice saves every note's author as " ": a note without one is judged by its text
        if author.strip() in ("", self.author) and MARKER not in text and is_ours(text):
            if text == citation:
                return "same"
            self._set_text(comment, citation)
            return "replaced"
        head, marker, _old = text.partition("\n\n" + MARKER + "\n")
        if (_old == citation) if marker else (citation in text):  # kept word for word
            return "same"
        self._append(comment, len(head) if marker else None, f"\n\n{MARKER}\n{citation}")
        return "beside"

    # --- editing ---------------------------------------------------------------------------

    def _set_text(self, comment: etree._Element, value: str) -> None:
        text = comment.find(f"{{{M}}}text")
        if text is None:
            text = etree.SubElement(comment, f"{{{M}}}text")
        for child in list(text):
            if etree.QName(child).localname in ("t", "r"):
                text.remove(child)
        t = etree.Element(f"{{{M}}}t")
        t.text = escape_text(value)
        t.set(_XML_SPACE, "preserve")
        text.insert(0, t)
        self.touched = True

    def _append(self, comment: etree._Element, keep: int | None, addition: str) -> None:
        """Cut the text after ``keep`` characters (an earlier citation), then add ``addition``
        as a run of its own: the analyst's runs and their formatting stay."""
        text = comment.find(f"{{{M}}}text")
        assert text is not None
        if keep is not None:
            seen = 0
            for child in list(text):
                name = etree.QName(child).localname
                if name not in ("t", "r"):
                    continue
                t = child if name == "t" else child.find(f"{{{M}}}t")
                value = (t.text or "") if t is not None else ""
                if seen >= keep:
                    text.remove(child)
                elif seen + len(value) > keep and t is not None:
                    t.text = value[: keep - seen]
                seen += len(value)
        run = etree.Element(f"{{{M}}}r")
        t = etree.SubElement(run, f"{{{M}}}t")
        t.text = escape_text(addition)
        t.set(_XML_SPACE, "preserve")
        later = [c for c in text if etree.QName(c).localname in ("rPh", "phoneticPr")]
        if later:
            later[0].addprevious(run)
        else:
            text.append(run)
        self.touched = True

    def _add(self, ref: str, citation: str) -> bool:
        """A new note on a cell that has none; a sheet with no notes gets its comments part and
        legacy drawing (the note's shape) first."""
        if (self.root is None or self.vml_part is None) and not self._create():
            return False
        assert self.root is not None and self.vml_part is not None
        try:
            vml = (
                self._vml
                if self._vml is not None
                else parse_xml(self.package.read(self.vml_part), self.vml_part)
            )
        except Exception:  # a legacy drawing lxml cannot read: leave both parts alone
            return False
        notes = [s for s in vml.iter(f"{{{_V}}}shape")
                 if (d := s.find(f"{{{_X}}}ClientData")) is not None
                 and d.get("ObjectType") == "Note"]  # fmt: skip
        if not notes:
            marker = vml.find(f"{{{_V}}}shapetype")
            template = parse_xml(_NOTE_SHAPE.encode(), "note shape")
            if marker is not None:
                marker.addnext(template)
            else:
                vml.append(template)
            notes = [template]
            self._fresh_shape = template
        self._vml = vml
        shape = copy.deepcopy(notes[-1])
        numbers = [int(m[1]) for s in vml.iter(f"{{{_V}}}shape")
                   if (m := re.search(r"_s(\d+)$", s.get("id", "")))]  # fmt: skip
        shape.set("id", f"_x0000_s{max(numbers, default=1024) + 1}")
        row, column = split_ref(ref)
        data = shape.find(f"{{{_X}}}ClientData")
        assert data is not None
        data.find(f"{{{_X}}}Row").text = str(row - 1)  # type: ignore[union-attr]
        data.find(f"{{{_X}}}Column").text = str(column - 1)  # type: ignore[union-attr]
        anchor = data.find(f"{{{_X}}}Anchor")
        if anchor is not None:
            anchor.text = f"{column}, 15, {max(row - 2, 0)}, 10, {column + 4}, 15, {row + 3}, 4"
        notes[-1].addnext(shape)
        if self._fresh_shape is not None:  # only a template to copy from: not a note itself
            self._fresh_shape.getparent().remove(self._fresh_shape)  # type: ignore[union-attr]
            self._fresh_shape = None
        authors = self.root.find(f"{{{M}}}authors")
        if authors is None:
            authors = etree.Element(f"{{{M}}}authors")
            self.root.insert(0, authors)
        names = [a.text for a in authors]
        if self.author not in names:
            etree.SubElement(authors, f"{{{M}}}author").text = self.author
            names.append(self.author)
        listing = self.root.find(f"{{{M}}}commentList")
        if listing is None:
            listing = etree.SubElement(self.root, f"{{{M}}}commentList")
            authors.addnext(listing)
        comment = etree.SubElement(listing, f"{{{M}}}comment")
        comment.set("ref", ref)
        comment.set("authorId", str(names.index(self.author)))
        self._set_text(comment, citation)
        return True

    def _create(self) -> bool:
        """Give the sheet a comments part and, if it has none, a legacy drawing."""
        if self.sheet_root is None:
            return False
        if self.vml_part is None:
            taken = set()
            for name in self.package.names:
                if name.endswith(".vml"):
                    taken |= {int(x) for x in re.findall(rb'data="(\d+)', self.package.read(name))}
            block = max(taken, default=0) + 1
            self.vml_part = self.package.free_name("xl/drawings/vmlDrawingGv{}.vml")
            self.package.write(self.vml_part, _VML.format(block=block).encode())
            self.package.declare(self.vml_part, _CT_VML, extension=True)
            rid = self.package.relate(self.sheet_part, "vmlDrawing", self.vml_part)
            sheet = self.sheet_root()
            legacy = sheet.find(f"{{{M}}}legacyDrawing")
            if legacy is None:
                legacy = etree.Element(f"{{{M}}}legacyDrawing")
                insert_in_order(sheet, legacy, _AFTER_LEGACY)
            legacy.set(f"{{{NS['r']}}}id", rid)
        if self.root is None:
            self.part = self.package.free_name("xl/comments/commentGv{}.xml")
            self.root = etree.Element(f"{{{M}}}comments", nsmap={None: M})
            etree.SubElement(self.root, f"{{{M}}}authors")
            etree.SubElement(self.root, f"{{{M}}}commentList")
            self._original = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            self.package.declare(self.part, _CT_COMMENTS)
            self.package.relate(self.sheet_part, "comments", self.part)
            self.touched = True
        return True

    def save(self) -> None:
        if not self.touched or self.part is None or self.root is None:
            return
        self.package.write(self.part, serialize_xml(self.root, self._original))
        if self._vml is not None and self.vml_part is not None:
            original = self.package.read(self.vml_part)
            self.package.write(self.vml_part, serialize_xml(self._vml, original))
