"""Opening workbooks that came from someone else, safely.

:func:`safe_load_workbook` is the only way gpuval opens an .xlsx. Before openpyxl inflates
anything it reads the file once into memory (so what is checked is what is parsed) and refuses,
with one sentence naming the file and the problem:

* a missing, empty or oversized file (:data:`MAX_FILE_BYTES`);
* an OLE2 compound file (an encrypted, password-protected workbook, or an old binary .xls);
* anything that is not a zip archive, and a zip archive that is truncated or damaged;
* a zip bomb: more than :data:`MAX_PARTS` parts; a part whose *declared* size exceeds
  :data:`MAX_PART_BYTES`, or whose declared sizes add up to more than :data:`MAX_TOTAL_BYTES`;
  a part of :data:`RATIO_MIN_BYTES` or more that claims to inflate more than :data:`MAX_RATIO`
  times its compressed size; parts whose data overlap; and, because a header can lie, a part
  whose *actual* inflation, streamed with a hard byte limit, goes beyond what its header
  declares (the stream is never inflated past that limit, so never past the caps);
* parts that are encrypted inside the zip or use a compression method Excel never writes;
* an XML part with a document type declaration (``<!DOCTYPE``/``<!ENTITY``: the XML entity bomb
  and external-entity attacks; Excel never writes one);
* macro-enabled content (``xl/vbaProject.bin``, Excel 4 macro sheets, a ``macroEnabled`` content
  type), unless the caller passes ``keep_vba=True`` to carry macros through deliberately.

Only then does openpyxl parse the file, with ``defusedxml`` in force (checked on every call), and
every exception it raises becomes a :class:`~gpuval.errors.GpuvalError`. The caps are generous
for real workbooks: gpuval's default workbook is about 100 KB (600 KB inflated) and one with
1,000 peers about 1 MB.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import openpyxl.xml
import openpyxl.xml.functions
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from gpuval.errors import GpuvalError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PARTS",
    "MAX_PART_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "RATIO_MIN_BYTES",
    "check_destination",
    "defusedxml_in_force",
    "open_package",
    "read_part",
    "safe_load_workbook",
]

MiB = 1 << 20
#: The largest .xlsx file gpuval opens (the file on disk).
MAX_FILE_BYTES = 64 * MiB
#: The most parts (zip entries) a workbook may have.
MAX_PARTS = 10_000
#: The largest any one part may inflate to.
MAX_PART_BYTES = 128 * MiB
#: The most all parts together may inflate to.
MAX_TOTAL_BYTES = 512 * MiB
#: The highest compression ratio accepted for a part of RATIO_MIN_BYTES or more (real worksheet
#: XML compresses 3-20x; deflate's ceiling, reached only by a bomb, is about 1,030x).
MAX_RATIO = 200
RATIO_MIN_BYTES = 1 * MiB

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip starts with a local header (or is empty)
_CHUNK = 64 * 1024
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_OVERLAP = max(len(m) for m in _DTD_MARKERS) - 1
_MACRO_PARTS = ("xl/vbaproject.bin", "xl/vbaprojectsignature.bin", "xl/macrosheets/")
_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"macrosheet")


def defusedxml_in_force() -> bool:
    """True when openpyxl parses XML through ``defusedxml`` (entity declarations refused)."""
    functions = openpyxl.xml.functions
    iterparse_safe = functions.iterparse.__module__.startswith("defusedxml")
    # With lxml openpyxl parses whole parts with lxml (resolve_entities=False) instead.
    fromstring_safe = openpyxl.xml.LXML or functions.fromstring.__module__.startswith("defusedxml")
    return bool(openpyxl.xml.DEFUSEDXML and iterparse_safe and fromstring_safe)


def _one_line(exc: BaseException) -> str:
    """An exception (and the cause openpyxl wraps) as one short clause without a full stop."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 2:
        text = " ".join(str(seen).split())
        # openpyxl's wrapper adds advice sentences after the first; keep the first.
        text = text.split(". ")[0].rstrip(".")
        parts.append(text or type(seen).__name__)
        seen = seen.__cause__
    text = ": ".join(dict.fromkeys(parts))
    return text if len(text) <= 200 else text[:197] + "..."


def _is_defused_error(exc: BaseException) -> bool:
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        if not path.exists():
            raise GpuvalError(f"{label} {path} does not exist.")
        if not path.is_file():
            raise GpuvalError(f"{label} {path} is not a file.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GpuvalError(
                f"{label} {path} is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a "
                "workbook; refusing to open it."
            )
        chunks, total = [], 0
        with path.open("rb") as handle:  # in chunks: the file may grow after stat()
            while total <= MAX_FILE_BYTES and (chunk := handle.read(min(size, MAX_FILE_BYTES) + 1)):
                chunks.append(chunk)
                total += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise GpuvalError(f"{label} {path} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise GpuvalError(
            f"{label} {path} is over the {MAX_FILE_BYTES:,}-byte limit for a workbook; "
            "refusing to open it."
        )
    return data


def _classify(data: bytes, path: Path, label: str) -> None:
    if not data:
        raise GpuvalError(f"{label} {path} is empty (0 bytes), not an .xlsx file.")
    if data.startswith(OLE2_MAGIC):
        raise GpuvalError(
            f"{label} {path} is encrypted (password-protected) or an old .xls file; save it in "
            "Excel as an .xlsx workbook without a password and try again."
        )
    if not data.startswith(ZIP_MAGIC):
        raise GpuvalError(f"{label} {path} is not an .xlsx file (not a zip archive).")


def _open_zip(data: bytes, path: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise GpuvalError(
            f"{label} {path} is not an .xlsx file: it is a truncated or damaged zip archive."
        ) from None


def _data_offset(data: bytes, info: zipfile.ZipInfo) -> int | None:
    """Where a part's compressed bytes start (after its local header), or None if damaged."""
    start = info.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return start + 30 + name_len + extra_len


def _check_declared(infos: list[zipfile.ZipInfo], data: bytes, path: Path, label: str) -> None:
    """Refuse on what the zip directory says, before anything is inflated."""
    where = f"{label} {path} is refused"
    if len(infos) > MAX_PARTS:
        raise GpuvalError(f"{where}: it has {len(infos):,} parts, over the {MAX_PARTS:,} limit.")
    total = 0
    spans = []
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise GpuvalError(f"{where}: its part {name} is encrypted inside the zip.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise GpuvalError(
                f"{where}: its part {name} uses zip compression method {info.compress_type}, "
                "which .xlsx files never use."
            )
        if info.file_size > MAX_PART_BYTES:
            raise GpuvalError(
                f"{where}: its part {name} declares {info.file_size:,} bytes uncompressed, over "
                f"the {MAX_PART_BYTES:,}-byte limit for one part."
            )
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise GpuvalError(
                f"{where}: its part {name} would inflate {ratio:,.0f} times its compressed "
                f"size, beyond the {MAX_RATIO}x any real workbook reaches (a zip bomb)."
            )
        total += info.file_size
        offset = _data_offset(data, info)
        if offset is None or offset + info.compress_size > len(data):
            raise GpuvalError(
                f"{label} {path} is not an .xlsx file: it is a truncated or damaged zip archive "
                f"(part {name} is cut off)."
            )
        spans.append((info.header_offset, offset + info.compress_size, name))
    if total > MAX_TOTAL_BYTES:
        raise GpuvalError(
            f"{where}: its parts declare {total:,} bytes uncompressed in all, over the "
            f"{MAX_TOTAL_BYTES:,}-byte limit."
        )
    spans.sort()
    for (_, end, name), (start, _, other) in pairwise(spans):
        if start < end:
            raise GpuvalError(
                f"{where}: its parts {name} and {other} overlap inside the zip (a zip bomb)."
            )


def _stream(
    data: bytes, info: zipfile.ZipInfo, path: Path, label: str, *, keep_bytes: bool = False
) -> bytes | None:
    """Inflate one part with a hard byte limit, checking its size, CRC and XML prologue.

    Returns the inflated bytes of ``[Content_Types].xml`` (for the macro check), or of any part
    when ``keep_bytes``; else None.
    """
    name = info.filename
    offset = _data_offset(data, info)
    assert offset is not None  # checked in _check_declared
    raw = memoryview(data)[offset : offset + info.compress_size]
    limit = min(info.file_size, MAX_PART_BYTES)  # never inflate past this, whatever the stream
    keep = keep_bytes or name == "[Content_Types].xml"
    scan = name.lower().endswith(_XML_SUFFIXES) or keep
    kept: list[bytes] = []
    produced, crc, tail = 0, 0, b""
    damaged = (
        f"{label} {path} is damaged: its part {name} cannot be inflated"
        " (the file is corrupt or was cut short while saving)."
    )

    def take(chunk: bytes) -> None:
        nonlocal produced, crc, tail
        produced += len(chunk)
        if produced > limit:
            raise GpuvalError(
                f"{label} {path} is refused: its part {name} inflates to more than the "
                f"{limit:,} bytes its header declares (a zip bomb or a damaged file)."
            )
        crc = zlib.crc32(chunk, crc)
        if scan:
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                raise GpuvalError(
                    f"{label} {path} is refused: its part {name} contains an XML document type "
                    "declaration (<!DOCTYPE or <!ENTITY), which Excel never writes (an XML "
                    "entity bomb or external-entity attack)."
                )
            tail = window[-_OVERLAP:]
        if keep:
            kept.append(chunk)

    if info.compress_type == zipfile.ZIP_STORED:
        for start in range(0, len(raw), _CHUNK):
            take(bytes(raw[start : start + _CHUNK]))
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            for start in range(0, len(raw), _CHUNK):
                pending = bytes(raw[start : start + _CHUNK])
                while pending:
                    take(inflater.decompress(pending, _CHUNK))
                    pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
            take(inflater.flush(_CHUNK))
        except zlib.error:
            raise GpuvalError(damaged) from None
        if not inflater.eof:
            raise GpuvalError(damaged)
    if produced != info.file_size or crc != info.CRC:
        raise GpuvalError(damaged)
    return b"".join(kept) if keep else None


def _check_macros(names: list[str], content_types: bytes | None, path: Path, label: str) -> None:
    lowered = [n.lower() for n in names]
    found = next((n for n, low in zip(names, lowered, strict=True)
                  if low.startswith(_MACRO_PARTS)), None)  # fmt: skip
    types = (content_types or b"").lower()
    if found is None and any(t in types for t in _MACRO_TYPES):
        found = "a macro-enabled content type"
    if found is not None:
        raise GpuvalError(
            f"{label} {path} contains macros ({found}), which gpuval does not open; save a copy "
            "in Excel as an .xlsx workbook (without macros) and use that."
        )


def open_package(path: Path, *, label: str = "Workbook") -> tuple[bytes, list[zipfile.ZipInfo]]:
    """The bytes of an .xlsx and its zip directory, refused as :func:`safe_load_workbook`
    refuses (on the file and on what the directory declares) before anything is inflated.

    Parts are then inflated one at a time, each checked, by :func:`read_part` (or
    :func:`check_part`, for a part a patcher copies as it is)."""
    path = Path(path)
    data = _read_bytes(path, label)
    _classify(data, path, label)
    with _open_zip(data, path, label) as archive:
        infos = archive.infolist()
    _check_declared(infos, data, path, label)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise GpuvalError(
            f"{label} {path} is a zip archive but not an .xlsx workbook "
            "(it has no [Content_Types].xml or no xl/ folder)."
        )
    return data, infos


def read_part(data: bytes, info: zipfile.ZipInfo, path: Path, *, label: str = "Workbook") -> bytes:
    """One part of a package opened by :func:`open_package`, inflated with the same limits and
    checks (size, CRC, no XML document type declaration) as :func:`safe_load_workbook`."""
    part = _stream(data, info, Path(path), label, keep_bytes=True)
    assert part is not None
    return part


def check_part(data: bytes, info: zipfile.ZipInfo, path: Path, *, label: str = "Workbook") -> None:
    """:func:`read_part`'s checks without keeping the bytes: a damaged part is refused even
    where it would be copied unread."""
    _stream(data, info, Path(path), label)


def _analyst_content(patch: Any, house: Sequence[str] = ()) -> str | None:
    """What in an existing workbook (a :class:`~gpuval.pipeline.xlsxpatch.Patch`) shows an
    analyst's work, or None (a fresh gpuval build, with the ``house`` template's sheets)."""
    names = [n.get("name", "") for n in patch.book.root.iter("{*}definedName")]
    if "in_target" not in names:
        return "it is not a gpuval workbook"
    if any(n.startswith(("gpuval_price_", "data_version", "data_records")) for n in names):
        return "it has been refreshed"
    from gpuval.workbook.build import ORDER

    extra = [s for s in patch.book.sheet_ids if s not in ORDER and s not in house]  # charts too
    if extra:
        return f"the analyst's sheet {extra[0]!r}"
    core = (
        patch.package.read("docProps/core.xml") if patch.package.has("docProps/core.xml") else b""
    )
    if b"lastModifiedBy" in core or b"revision>" in core:
        return "it was saved by a spreadsheet application"
    for part in patch.package.names:
        if part.startswith("xl/comments") and part.endswith(".xml"):
            authors = re.findall(rb"<(?:\w+:)?author>([^<]*)<", patch.package.read(part))
            others = [a.decode() for a in authors if a != b"gpuval"]
            if others:
                return f"notes by {others[0]}"
    return None


def check_destination(
    out: Path, *, reads: Sequence[Path] = (), force: bool = False, house: Sequence[str] = ()
) -> None:
    """Refuse (one sentence) to write ``out`` over anything but a regular file, over a file the
    command reads (``reads``, e.g. the template), or, unless ``force``, over a workbook holding
    an analyst's work (sheets added, notes by others, saved by Excel or LibreOffice, refreshed);
    ``house``: the template's sheets, which a build writes too."""
    out = Path(out)
    try:
        info = os.lstat(out)
    except OSError:  # nothing there (or no way there): writing will say so, if it fails
        return
    if stat.S_ISLNK(info.st_mode):
        raise GpuvalError(
            f"Output file {out} is a symbolic link (to {os.readlink(out)}); give the real path "
            "or another name."
        )
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise GpuvalError(
            f"Output file {out} is {kind}, not a regular file; refusing to replace it."
        )
    for source in reads:
        if source is not None and Path(source).exists() and os.path.samefile(out, source):
            raise GpuvalError(
                f"Output file {out} is the file being read ({source}); choose another."
            )
    if not force and info.st_size > 0:
        from gpuval.pipeline.xlsxpatch import Patch  # imported here: xlsxpatch reads through us

        try:
            patch = Patch(out, label="Output file")
        except GpuvalError:  # a dataset, a prices file, a damaged or protected workbook
            raise GpuvalError(
                f"Output file {out} exists and is not a workbook gpuval can read; choose another "
                "name, or pass --force to replace it."
            ) from None
        why = _analyst_content(patch, house)
        if why is not None:
            raise GpuvalError(
                f"Output file {out} holds an analyst's work ({why}); refresh it instead, or "
                "pass --force to replace it."
            )


STRICT = "http://purl.oclc.org/ooxml/"
"""Where the Strict Open XML namespaces and relationship types start (ISO/IEC 29500-1 Strict);
the transitional ones, which Excel saves by default, start with schemas.openxmlformats.org."""


def strict_refusal(label: str, path: Path) -> str:
    return (f"{label} {path} is saved as Strict Open XML (or is not a spreadsheet); save it in "
            "Excel as an Excel Workbook (.xlsx) and try again.")  # fmt: skip


def safe_load_workbook(
    path: Path,
    *,
    data_only: bool = False,
    keep_vba: bool = False,
    label: str = "Workbook",
) -> Workbook:
    """Open an .xlsx from anyone, refusing hostile or broken files before they are inflated.

    ``label`` starts every message ("Workbook", "Template", ...). ``keep_vba=True`` accepts a
    macro-enabled workbook and keeps its macros (never run) for a caller that must carry them
    through; by default macros are refused. openpyxl's warnings about features it does not
    read are silenced (they are not the analyst's error). Raises
    :class:`~gpuval.errors.GpuvalError` with one sentence naming the file and the problem.
    """
    path = Path(path)
    if not defusedxml_in_force():
        raise GpuvalError(
            f"Cannot open {label.lower()} {path} safely: openpyxl is not using defusedxml (is it "
            "installed, and OPENPYXL_DEFUSEDXML unset?); reinstall gpuval."
        )
    data = _read_bytes(path, label)
    _classify(data, path, label)
    archive = _open_zip(data, path, label)
    with archive:
        infos = archive.infolist()
        _check_declared(infos, data, path, label)
        content_types, package_rels = None, b""
        for info in infos:
            root_rels = info.filename == "_rels/.rels"
            kept = _stream(data, info, path, label, keep_bytes=root_rels)
            if root_rels:
                package_rels = kept or b""
            elif kept is not None:
                content_types = kept
        names = [info.filename for info in infos]
    if STRICT.encode() in package_rels:  # openpyxl would read it as a workbook without sheets
        raise GpuvalError(strict_refusal(label, path))
    if content_types is None or not any(n.startswith("xl/") for n in names):
        raise GpuvalError(
            f"{label} {path} is a zip archive but not an .xlsx workbook "
            "(it has no [Content_Types].xml or no xl/ folder)."
        )
    if not keep_vba:
        _check_macros(names, content_types, path, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), data_only=data_only, keep_vba=keep_vba)
    except GpuvalError:
        raise
    except RecursionError:
        raise GpuvalError(f"{label} {path} is nested too deeply to be a real workbook.") from None
    except MemoryError:
        raise GpuvalError(f"{label} {path} needs more memory than is available to open.") from None
    except Exception as exc:  # openpyxl raises many types for a damaged or hostile file
        if _is_defused_error(exc):
            raise GpuvalError(
                f"{label} {path} is refused: it contains XML entity or DTD declarations, which "
                "Excel never writes (an XML entity bomb or external-entity attack)."
            ) from None
        raise GpuvalError(f"{label} {path} cannot be read as .xlsx ({_one_line(exc)}).") from None
