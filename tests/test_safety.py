"""safe_load_workbook against the hostile .xlsx corpus: exact sentences, bounded memory."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import openpyxl.xml
import pytest
from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook

from gpuval.errors import GpuvalError
from gpuval.pipeline import safety
from gpuval.pipeline.safety import MAX_FILE_BYTES, MAX_PART_BYTES, MAX_RATIO, safe_load_workbook
from gpuval.workbook.build import build
from gpuval.workbook.template import DEFAULT_TEMPLATE
from hostile import make_corpus as mc

REPO = Path(__file__).resolve().parents[1]

#: What safe_load_workbook says about each refused corpus item ({path} is the file).
REFUSED = {
    "entity_bomb": "Workbook {path} is refused: its part xl/worksheets/sheet1.xml contains an XML "
    "document type declaration (<!DOCTYPE or <!ENTITY), which Excel never writes (an XML entity "
    "bomb or external-entity attack).",
    "external_entity": "Workbook {path} is refused: its part xl/workbook.xml contains an XML "
    "document type declaration (<!DOCTYPE or <!ENTITY), which Excel never writes (an XML entity "
    "bomb or external-entity attack).",
    "zip_bomb": "Workbook {path} is refused: its part xl/worksheets/sheet1.xml declares "
    f"1,073,741,824 bytes uncompressed, over the {MAX_PART_BYTES:,}-byte limit for one part.",
    "zip_bomb_lying": "Workbook {path} is refused: its part xl/worksheets/sheet1.xml inflates to "
    "more than the {declared:,} bytes its header declares (a zip bomb or a damaged file).",
    "overlapping_parts": "Workbook {path} is refused: its parts xl/media/image1.png and "
    "xl/media/image2.png overlap inside the zip (a zip bomb).",
    "truncated": "Workbook {path} is not an .xlsx file: it is a truncated or damaged zip archive.",
    "not_a_zip": "Workbook {path} is not an .xlsx file (not a zip archive).",
    "empty": "Workbook {path} is empty (0 bytes), not an .xlsx file.",
    "zip_not_workbook": "Workbook {path} is a zip archive but not an .xlsx workbook (it has no "
    "[Content_Types].xml or no xl/ folder).",
    "encrypted": "Workbook {path} is encrypted (password-protected) or an old .xls file; save it "
    "in Excel as an .xlsx workbook without a password and try again.",
    "macros": "Workbook {path} contains macros (xl/vbaProject.bin), which gpuval does not open; "
    "save a copy in Excel as an .xlsx workbook (without macros) and use that.",
    "damaged_drawing": "Workbook {path} is damaged: its part " + mc.DAMAGED + " cannot be inflated "
    "(the file is corrupt or was cut short while saving).",
}
#: Items that are valid .xlsx files: they open (what gpuval then makes of them is for the
#: commands; see test_hostile_commands.py).
OPENS = ["not_gpuval", *(name for name in mc.GPUVAL_XLSX if name not in REFUSED)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile_xlsx")
    return mc.write_xlsx(root / "xlsx", build(root / "base.xlsx"))


def _declared(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(mc.SHEET).file_size


def test_the_corpus_is_complete() -> None:
    assert set(REFUSED) | set(OPENS) == set(mc.XLSX_NAMES)


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_one_exact_sentence(corpus: dict[str, Path], name: str) -> None:
    path = corpus[name]
    before = path.read_bytes()
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    extra = {"declared": _declared(path)} if name == "zip_bomb_lying" else {}
    assert str(caught.value) == REFUSED[name].format(path=path, **extra)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["zip_bomb", "zip_bomb_lying", "entity_bomb"])
def test_bombs_are_refused_without_being_inflated(corpus: dict[str, Path], name: str) -> None:
    """Both bombs inflate to 1 GiB; refusing them must cost a few MB at most."""
    tracemalloc.start()
    try:
        with pytest.raises(GpuvalError):
            safe_load_workbook(corpus[name])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = corpus[name].stat().st_size
    assert peak < 4 * size + 8 * 2**20, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_the_bomb_really_is_one(corpus: dict[str, Path]) -> None:
    """The honest bomb's part does inflate to 1 GiB (so the refusal above means something)."""
    with zipfile.ZipFile(corpus["zip_bomb"]) as archive:
        info = archive.getinfo(mc.SHEET)
        assert info.file_size == 1 << 30
        assert info.file_size / info.compress_size > 1000
        with archive.open(info) as stream:
            assert stream.read(1 << 20) == b" " * (1 << 20)


@pytest.mark.parametrize("name", OPENS)
def test_valid_workbooks_open(corpus: dict[str, Path], name: str) -> None:
    wb = safe_load_workbook(corpus[name])
    assert wb.sheetnames
    assert safe_load_workbook(corpus[name], data_only=True).sheetnames == wb.sheetnames


def test_shipped_files_open_within_the_caps() -> None:
    for path in (REPO / "workbook" / "gpu_valuation.xlsx", DEFAULT_TEMPLATE):
        assert safe_load_workbook(path).sheetnames


def test_a_large_realistic_sheet_is_within_the_caps(tmp_path: Path) -> None:
    """A 60,000-row sheet of numbers and copied formulas (far more than 1,000 peers) opens."""
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{i * 1.2345:.4f}</v></c><c r="B{i}"><f>A{i}*2</f></c>'
        f'<c r="C{i}"><f>B{i}/SUM($A$1:$A$60000)</f></c></row>'
        for i in range(1, 60_001)
    )
    parts = mc.parts_of(mc.plain_workbook_bytes())
    sheet = zlib.decompress(next(p for p in parts if p.name == mc.SHEET).payload, -15)
    big = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{rows}</sheetData>".encode(), sheet)
    path = tmp_path / "large.xlsx"
    path.write_bytes(mc.zip_bytes(mc.replace(parts, mc.SHEET, mc.part(mc.SHEET, big))))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(mc.SHEET)
    assert info.file_size > 4 * 2**20 and info.file_size / info.compress_size < MAX_RATIO
    wb = safe_load_workbook(path)
    assert wb.worksheets[0]["B60000"].value == "=A60000*2"


# --- defusedxml ------------------------------------------------------------------------------


def test_defusedxml_is_in_force_for_openpyxl() -> None:
    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")
    assert openpyxl.xml.LXML or openpyxl.xml.functions.fromstring.__module__.startswith(
        "defusedxml"
    )
    assert safety.defusedxml_in_force()


@pytest.mark.parametrize("name", ["entity_bomb", "external_entity"])
def test_openpyxl_alone_refuses_the_entity_bombs(corpus: dict[str, Path], name: str) -> None:
    """Even without gpuval's own DTD scan, openpyxl (through defusedxml) refuses to expand."""
    with pytest.raises(Exception) as caught:
        load_workbook(corpus[name])
    chain: list[BaseException] = []
    seen: BaseException | None = caught.value
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    # defusedxml refuses outright; with lxml installed openpyxl parses with lxml, which refuses to
    # resolve the entity and says so.
    assert any(isinstance(e, DefusedXmlException) or "entit" in str(e).lower() for e in chain), (
        chain
    )


def test_defusedxml_errors_become_one_sentence(
    corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "_DTD_MARKERS", ())  # let the bomb through to openpyxl
    path = corpus["entity_bomb"]
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    assert str(caught.value) == (
        f"Workbook {path} is refused: it contains XML entity or DTD declarations, which Excel "
        "never writes (an XML entity bomb or external-entity attack)."
    )


def test_refuses_to_open_when_defusedxml_is_off(
    corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(GpuvalError, match="openpyxl is not using defusedxml"):
        safe_load_workbook(corpus["not_gpuval"])


# --- every other way in ----------------------------------------------------------------------


def _plain(tmp_path: Path, name: str, parts: list[mc.Part]) -> Path:
    path = tmp_path / name
    path.write_bytes(mc.zip_bytes(parts))
    return path


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(tmp_path / "nope.xlsx")
    assert str(caught.value) == f"Workbook {tmp_path / 'nope.xlsx'} does not exist."
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(tmp_path)
    assert str(caught.value) == f"Workbook {tmp_path} is not a file."


def test_label_names_the_role(corpus: dict[str, Path]) -> None:
    with pytest.raises(GpuvalError, match=r"^Template .*empty\.xlsx is empty"):
        safe_load_workbook(corpus["empty"], label="Template")


def test_file_over_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(mc.plain_workbook_bytes())
    monkeypatch.setattr(safety, "MAX_FILE_BYTES", 1000)
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    size = path.stat().st_size
    assert str(caught.value) == (
        f"Workbook {path} is {size:,} bytes, over the 1,000-byte limit for a workbook; "
        "refusing to open it."
    )
    assert MAX_FILE_BYTES >= 32 * 2**20


def test_too_many_parts_and_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = mc.parts_of(mc.plain_workbook_bytes())
    path = _plain(tmp_path, "w.xlsx", parts)
    monkeypatch.setattr(safety, "MAX_PARTS", 3)
    with pytest.raises(GpuvalError, match=rf"it has {len(parts)} parts, over the 3 limit\.$"):
        safe_load_workbook(path)
    monkeypatch.setattr(safety, "MAX_PARTS", 10_000)
    monkeypatch.setattr(safety, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(GpuvalError, match=r"bytes uncompressed in all, over the 100-byte limit\.$"):
        safe_load_workbook(path)


def test_compression_ratio_cap(tmp_path: Path) -> None:
    """A part under the size cap that claims an impossible ratio is refused before inflating."""
    data = b" " * (8 * 2**20)
    parts = mc.replace(mc.parts_of(mc.plain_workbook_bytes()), mc.SHEET, mc.part(mc.SHEET, data))
    path = _plain(tmp_path, "ratio.xlsx", parts)
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    assert f"would inflate {len(data) // len(mc.deflate(data)):,}" in str(caught.value)
    assert f"beyond the {MAX_RATIO}x any real workbook reaches (a zip bomb)." in str(caught.value)


def test_damaged_part_and_bad_crc(tmp_path: Path) -> None:
    parts = mc.parts_of(mc.plain_workbook_bytes())
    sheet = next(p for p in parts if p.name == mc.SHEET)
    garbled = mc.Part(sheet.name, b"\xff" * len(sheet.payload), sheet.crc, sheet.size)
    wrong_crc = mc.Part(sheet.name, sheet.payload, sheet.crc ^ 1, sheet.size)
    for name, bad in (("garbled.xlsx", garbled), ("crc.xlsx", wrong_crc)):
        path = _plain(tmp_path, name, mc.replace(parts, mc.SHEET, bad))
        with pytest.raises(GpuvalError) as caught:
            safe_load_workbook(path)
        assert str(caught.value) == (
            f"Workbook {path} is damaged: its part {mc.SHEET} cannot be inflated (the file is "
            "corrupt or was cut short while saving)."
        )


def test_encrypted_entry_and_foreign_compression(tmp_path: Path) -> None:
    parts = mc.parts_of(mc.plain_workbook_bytes())
    sheet = next(p for p in parts if p.name == mc.SHEET)
    locked = mc.Part(sheet.name, sheet.payload, sheet.crc, sheet.size, flags=1)
    path = _plain(tmp_path, "locked.xlsx", mc.replace(parts, mc.SHEET, locked))
    with pytest.raises(GpuvalError, match=r"sheet1\.xml is encrypted inside the zip\.$"):
        safe_load_workbook(path)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(mc.plain_workbook_bytes())) as src,
        zipfile.ZipFile(buffer, "w") as dst,
    ):
        for info in src.infolist():
            method = zipfile.ZIP_BZIP2 if info.filename == mc.SHEET else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, src.read(info), compress_type=method)
    path = tmp_path / "bzip2.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(GpuvalError, match=r"uses zip compression method 12, which \.xlsx files"):
        safe_load_workbook(path)


def test_utf16_doctype_is_seen(tmp_path: Path) -> None:
    parts = mc.parts_of(mc.plain_workbook_bytes())
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    changed = mc.replace(parts, mc.SHEET, mc.part(mc.SHEET, xml.encode("utf-16-le")))
    path = _plain(tmp_path, "u16.xlsx", changed)
    with pytest.raises(GpuvalError, match="contains an XML document type declaration"):
        safe_load_workbook(path)


def test_macro_content_type_alone_is_refused(tmp_path: Path) -> None:
    parts = mc.parts_of(mc.plain_workbook_bytes())
    name = "[Content_Types].xml"
    types = zlib.decompress(next(p for p in parts if p.name == name).payload, -15).replace(
        b"spreadsheetml.sheet.main+xml", b"spreadsheetml.sheet.main+xml\"/><Default Extension="
        b"\"xlm\" ContentType=\"application/vnd.ms-excel.macrosheet+xml"
    )  # fmt: skip
    path = _plain(tmp_path, "xlm.xlsx", mc.replace(parts, name, mc.part(name, types)))
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    assert "contains macros (a macro-enabled content type)" in str(caught.value)


def test_keep_vba_opts_in_to_macros(corpus: dict[str, Path]) -> None:
    wb = safe_load_workbook(corpus["macros"], keep_vba=True)
    assert wb.sheetnames == ["Budget"]


def test_openpyxl_failures_are_one_sentence(tmp_path: Path) -> None:
    """A well-formed zip whose workbook part is not XML: openpyxl's multi-line error becomes
    one line."""
    parts = mc.parts_of(mc.plain_workbook_bytes())
    name = "xl/workbook.xml"
    path = _plain(tmp_path, "badxml.xlsx", mc.replace(parts, name, mc.part(name, b"<workbook")))
    with pytest.raises(GpuvalError) as caught:
        safe_load_workbook(path)
    message = str(caught.value)
    assert message.startswith(f"Workbook {path} cannot be read as .xlsx (")
    assert message.endswith(").") and "\n" not in message and len(message) < 400


def test_what_is_checked_is_what_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is read once: openpyxl parses the bytes that were checked, not the path."""
    path = tmp_path / "w.xlsx"
    Workbook().save(path)
    seen = []
    real = safety.load_workbook

    def spy(source, **kwargs):
        seen.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(safety, "load_workbook", spy)
    safe_load_workbook(path)
    assert isinstance(seen[0], io.BytesIO)
