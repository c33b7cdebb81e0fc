"""The .xlsx package as zip entries: read parts on demand, replace a few, write the rest as they
were, byte for byte (their compressed bytes are copied, never inflated and re-deflated)."""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from gpuval.errors import GpuvalError
from gpuval.pipeline.safety import _data_offset, check_part, open_package, read_part

__all__ = ["NS", "Package", "parse_xml", "serialize_xml"]

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False
)


def parse_xml(data: bytes, where: str) -> etree._Element:
    """An XML part as an lxml tree (entities never resolved, nothing fetched)."""
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise GpuvalError(f"{where} is damaged: {exc.msg or 'not well-formed XML'}.") from None


def serialize_xml(root: etree._Element, original: bytes) -> bytes:
    """``root`` as UTF-8 bytes, after the XML declaration the original part had (if any)."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    head = re.match(rb"\s*(<\?xml[^>]*\?>\s*)", original)
    if head is None:
        return body
    declaration = head.group(1)
    if re.search(rb"encoding=[\"'](?!utf-8)", declaration, re.IGNORECASE):
        return etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return declaration + body


class Package:
    """An .xlsx/.xlsm opened for patching: every part is checked on opening (a damaged one is
    refused, not copied on), and its bytes kept only when read."""

    def __init__(self, path: Path, *, label: str = "Workbook") -> None:
        self.path = Path(path)
        self.label = label
        self._data, infos = open_package(self.path, label=label)
        for info in infos:
            check_part(self._data, info, self.path, label=label)
        self._infos = {info.filename: info for info in infos}
        self._order = [info.filename for info in infos]
        self._read: dict[str, bytes] = {}
        self._changed: dict[str, bytes] = {}
        self._removed: set[str] = set()

    # --- reading --------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [n for n in self._order if n not in self._removed] + [
            n for n in self._changed if n not in self._infos
        ]

    def has(self, name: str) -> bool:
        return name in self._changed or (name in self._infos and name not in self._removed)

    def read(self, name: str) -> bytes:
        """A part's bytes (as changed so far)."""
        if name in self._changed:
            return self._changed[name]
        if name not in self._read:
            info = self._infos.get(name)
            if info is None or name in self._removed:
                raise GpuvalError(f"{self.label} {self.path} has no part {name}.")
            self._read[name] = read_part(self._data, info, self.path, label=self.label)
        return self._read[name]

    def xml(self, name: str) -> etree._Element:
        return parse_xml(self.read(name), f"{self.label} {self.path} (part {name})")

    def rels(self, part: str) -> dict[str, tuple[str, str, str]]:
        """``{rId: (type, target part, target mode)}`` of a part's relationships."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return {}
        out = {}
        for rel in self.xml(rels_name).iter(f"{{{NS['pr']}}}Relationship"):
            mode = rel.get("TargetMode", "Internal")
            target = rel.get("Target", "")
            if mode == "Internal":
                target = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, target))
                )
            out[rel.get("Id", "")] = (rel.get("Type", ""), target, mode)
        return out

    def related(self, part: str, kind: str) -> list[str]:
        """The parts ``part`` relates to by a relationship type ending in ``/kind``."""
        return [t for typ, t, mode in self.rels(part).values()
                if typ.rsplit("/", 1)[-1] == kind and mode == "Internal"]  # fmt: skip

    # --- changing -------------------------------------------------------------------------

    def write(self, name: str, data: bytes) -> None:
        """Replace (or add) a part."""
        self._changed[name] = data
        self._removed.discard(name)

    def relate(self, source: str, kind: str, target: str) -> str:
        """Add a relationship from ``source`` to part ``target`` (``kind``: the last segment of an
        officeDocument relationship type); returns its id."""
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if self.has(rels_name):
            original = self.read(rels_name)
            root = parse_xml(original, rels_name)
        else:
            original = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            root = etree.Element(f"{{{NS['pr']}}}Relationships", nsmap={None: NS["pr"]})
        ids = {rel.get("Id") for rel in root}
        number = 1
        while f"rIdGv{number}" in ids:
            number += 1
        rel = etree.SubElement(root, f"{{{NS['pr']}}}Relationship")
        rel.set("Id", f"rIdGv{number}")
        rel.set("Type", REL + kind)
        rel.set("Target", "/" + target)
        self.write(rels_name, serialize_xml(root, original))
        return f"rIdGv{number}"

    def declare(self, part: str, content_type: str, *, extension: bool = False) -> None:
        """Declare a content type in ``[Content_Types].xml``: an override for ``part``, or a
        default for its extension (if none is declared yet)."""
        name = "[Content_Types].xml"
        original = self.read(name)
        root = parse_xml(original, name)
        ct = NS["ct"]
        if extension:
            ext = part.rsplit(".", 1)[-1].lower()
            if any(d.get("Extension", "").lower() == ext for d in root.iter(f"{{{ct}}}Default")):
                return
            element = etree.Element(f"{{{ct}}}Default", Extension=ext, ContentType=content_type)
            root.insert(0, element)
        else:
            etree.SubElement(root, f"{{{ct}}}Override", PartName="/" + part,
                             ContentType=content_type)  # fmt: skip
        self.write(name, serialize_xml(root, original))

    def free_name(self, pattern: str) -> str:
        """The first of ``pattern.format(1)``, ``pattern.format(2)``, ... not in the package."""
        number = 1
        while self.has(pattern.format(number)):
            number += 1
        return pattern.format(number)

    def remove(self, name: str) -> None:
        """Drop a part."""
        self._changed.pop(name, None)
        if name in self._infos:
            self._removed.add(name)

    @property
    def changed(self) -> list[str]:
        return [n for n in self._changed if self._changed[n] != self._read.get(n)]

    def save(self, dest: str | Path) -> None:
        """Write the package to ``dest``: every part not changed keeps its compressed bytes."""
        with open(dest, "wb") as out:
            self.save_to(out)

    def save_to(self, out: BinaryIO) -> None:
        """Write the package to an open binary file."""
        _ZipWriter(out.write).write_all(self)


class _ZipWriter:
    """A plain zip writer: unchanged entries are copied raw; changed ones deflated anew."""

    def __init__(self, emit: Callable[[bytes], object]) -> None:
        self.emit = emit
        self.offset = 0
        self.central: list[bytes] = []

    def _put(self, chunk: bytes) -> None:
        self.emit(chunk)
        self.offset += len(chunk)

    def _entry(
        self,
        name: str,
        raw: bytes | memoryview,
        *,
        method: int,
        crc: int,
        size: int,
        info: zipfile.ZipInfo | None,
    ) -> None:
        encoded = name.encode("utf-8")
        flags = 0x800 if any(ord(ch) > 127 for ch in name) else 0
        if info is not None:
            flags = (info.flag_bits & ~0x08) | flags
            date_time = info.date_time
            external = info.external_attr
            version = info.create_version
            system = info.create_system
        else:
            date_time, external, version, system = (1980, 1, 1, 0, 0, 0), 0, 20, 0
        if method == zipfile.ZIP_DEFLATED:
            flags &= ~0x06  # compression-option bits describe our own deflate now
        dostime = date_time[3] << 11 | date_time[4] << 5 | date_time[5] // 2
        dosdate = (date_time[0] - 1980) << 9 | date_time[1] << 5 | date_time[2]
        if len(raw) >= 0xFFFFFFFF or size >= 0xFFFFFFFF or self.offset >= 0xFFFFFFFF:
            raise GpuvalError(f"part {name} is too large to write (over 4 GB).")
        header_offset = self.offset
        local = struct.pack(
            "<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flags, method, dostime, dosdate, crc,
            len(raw), size, len(encoded), 0,
        )  # fmt: skip
        self._put(local + encoded)
        self._put(bytes(raw))
        central = struct.pack(
            "<4s4B4HL2L5H2L", b"PK\x01\x02", version, system, 20, 0, flags, method, dostime,
            dosdate, crc, len(raw), size, len(encoded), 0, 0, 0, 0, external, header_offset,
        )  # fmt: skip
        self.central.append(central + encoded)

    def write_all(self, package: Package) -> None:
        for name in package.names:
            info = package._infos.get(name)
            if name in package._changed and (
                info is None or package._changed[name] != package._read.get(name)
            ):
                data = package._changed[name]
                method = info.compress_type if info is not None else zipfile.ZIP_DEFLATED
                if method == zipfile.ZIP_DEFLATED:
                    squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
                    raw: bytes | memoryview = squeeze.compress(data) + squeeze.flush()
                else:
                    raw = data
                self._entry(name, raw, method=method, crc=zlib.crc32(data), size=len(data),
                            info=info)  # fmt: skip
            else:
                assert info is not None
                start = _data_offset(package._data, info)
                assert start is not None  # checked when the package was opened
                raw = memoryview(package._data)[start : start + info.compress_size]
                self._entry(name, raw, method=info.compress_type, crc=info.CRC,
                            size=info.file_size, info=info)  # fmt: skip
        directory = b"".join(self.central)
        start = self.offset
        self._put(directory)
        count = len(self.central)
        self._put(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory),
                              start, 0))  # fmt: skip
