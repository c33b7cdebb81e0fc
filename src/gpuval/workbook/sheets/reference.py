"""Data and Sources: every dataset record, and every source sentence with the cells using it.

A seed file is cited for readers by :func:`article` (publisher; title; date, as the file states
them), beside the file's name; the Sources sheet links each cell that uses a sentence
(:func:`link_location`). ``gpuval refresh`` rewrites both sheets with the same functions.
"""

from __future__ import annotations

import math
from collections import defaultdict

from openpyxl.styles import Alignment
from openpyxl.worksheet.hyperlink import Hyperlink

from gpuval.data.dataset import COLUMNS, Dataset
from gpuval.workbook.sheets.base import Book, Sheet, col, print_setup

__all__ = ["DATA_COLUMNS", "SOURCE_HEADERS", "USED_IN_COLUMNS", "article", "link_location",
           "write_data", "write_sources"]  # fmt: skip

DATA_COLUMNS = ["id", "entity", "metric", "value", "unit", "period", "kind", "qualifier",
                "source", "quote"]  # fmt: skip
ARTICLE = "article"
"""The Data column citing each record's article (after its seed file)."""
SOURCE_HEADERS = ["Article (publisher; title; date)", "Seed file", "Sentence", "Records",
                  "Used in cells"]  # fmt: skip
WRAP = Alignment(wrap_text=True, vertical="top")
WIDTHS = {"A": 60, "B": 26, "C": 110, "D": 44}
"""Sources' text columns (characters of the default font)."""
LINE_HEIGHT = 12  # points, a line of the 9-point data font
CHARS_PER_WIDTH = 1.1  # 9-point characters per character of column width (conservative)
USED_IN_COLUMNS = 6
"""Cells of a Sources row holding links to the cells that use its sentence (the first under the
"Used in cells" header); a sentence used in more cells lists the rest in the last one, as text."""


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell of ``width`` characters needs for ``text`` in the 9-point data font
    (a CJK character is two characters wide): the sheet sets its row heights, since a viewer
    need not fit them to wrapped text."""
    wide = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
    return max(1, math.ceil(wide / (width * CHARS_PER_WIDTH)))


def article(dataset: Dataset, source: str) -> str:
    """How a reader sees a seed file cited: ``publisher; "title"; date`` as the file states them
    (saying which it does not state); a derived figure's sources joined by " / "."""
    cited = []
    for file in source.split("; "):
        src = dataset.sources.get(file)
        if src is None:
            cited.append(f"{file} (no [[source]] citation in the dataset)")
            continue
        title = f"\u201c{src.title}\u201d" if src.title else f"untitled ({src.about})"
        cited.append(f"{src.publisher or 'publisher not stated'}; {title}; "
                     f"{src.date or 'date not stated'}")  # fmt: skip
    return " / ".join(cited)


def link_location(cell: str) -> str:
    """``Peers!F21`` -> ``'Peers'!F21``, the location an internal hyperlink jumps to."""
    sheet, ref = cell.rsplit("!", 1)
    return f"'{sheet.strip(chr(39))}'!{ref}"


def write_data(book: Book) -> Sheet:
    sheet = Sheet(book, "Data", f"Every record of dataset {book.dataset.version}, values in plain "
                  "units, with its source.")  # fmt: skip
    sheet.headers(4, [*DATA_COLUMNS, ARTICLE])
    sheet.widths({"A": 40, "B": 20, "C": 28, "D": 18, "E": 12, "F": 11, "G": 11, "H": 9,
                  "I": 26, "J": 120, "K": 70})  # fmt: skip
    sheet.freeze("B5")
    assert set(DATA_COLUMNS) <= set(COLUMNS)
    for i, row in enumerate(book.dataset.rows()):
        for j, key in enumerate(DATA_COLUMNS):
            value = row[key]
            fmt = "number" if key == "value" and isinstance(value, float) else None
            sheet.put(5 + i, 1 + j, value, "data", fmt)
        sheet.put(5 + i, 1 + len(DATA_COLUMNS), article(book.dataset, row["source"]), "data")
    sheet.ws.auto_filter.ref = f"A4:K{4 + len(book.dataset.records)}"
    print_setup(sheet.ws, pages_wide=2)
    return sheet


def sentences(dataset: Dataset) -> dict[tuple[str, str], list[str]]:
    """(seed file, sentence) -> the ids of the records taken from it, in Sources order."""
    by_sentence: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rec in dataset.records.values():
        if rec.kind != "derived" or not rec.how:
            by_sentence[(rec.source, rec.quote)].append(rec.id)
    for rec in dataset.records.values():  # derived figures: under their own computation
        if rec.kind == "derived" and rec.how:
            by_sentence[(rec.source, rec.quote)].append(rec.id)
    return by_sentence


def used_in(cells: list[str]) -> list[str]:
    """The texts of a row's used-in cells: one cell each, the overflow joined in the last."""
    if len(cells) <= USED_IN_COLUMNS:
        return cells
    return [*cells[: USED_IN_COLUMNS - 1], ", ".join(cells[USED_IN_COLUMNS - 1 :])]


def write_sources(book: Book) -> Sheet:
    sheet = Sheet(book, "Sources", "Each source sentence, its article, the records taken from "
                  "it, and links to the workbook cells that use them.")  # fmt: skip
    sheet.headers(4, SOURCE_HEADERS + [""] * (USED_IN_COLUMNS - 1))
    sheet.widths(WIDTHS | {col(5 + i): 16 for i in range(USED_IN_COLUMNS)})
    sheet.freeze("B5")  # the article stays in view
    for i, ((source, quote), ids) in enumerate(sentences(book.dataset).items()):
        r = 5 + i
        cells = [cell for rid in ids for cell in book.uses.get(rid, [])]
        texts = (article(book.dataset, source), source, quote, ", ".join(ids))
        for j, text in enumerate(texts):
            sheet.put(r, 1 + j, text, "data").alignment = WRAP  # the whole article and sentence
        lines = max(_lines(text, WIDTHS[col(1 + j)]) for j, text in enumerate(texts))
        sheet.ws.row_dimensions[r].height = LINE_HEIGHT * lines + 3
        for j, text in enumerate(used_in(cells)):
            cell = sheet.put(r, 5 + j, text, "data")
            cell.alignment = WRAP
            if "," not in text:
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link_location(text),
                                           display=text)  # fmt: skip
    return sheet
