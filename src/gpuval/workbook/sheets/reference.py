"""Data and Sources: every dataset record, and every source sentence with the cells using it.

A seed file is cited for readers by :func:`article` (publisher; title; date, as the file states
them), beside the file's name; the Sources sheet links each cell that uses a sentence
(:func:`link_location`). ``gpuval refresh`` rewrites both sheets with the same functions.
A sourced cell's note is :func:`note_text`, read back by :func:`note_record`.
"""

from __future__ import annotations

import re
from collections import defaultdict

from openpyxl.worksheet.hyperlink import Hyperlink

from gpuval.data.dataset import COLUMNS, Dataset, Record
from gpuval.workbook.sheets.base import Book, Sheet, col, wrap_rows

__all__ = ["DATA_COLUMNS", "SOURCE_HEADERS", "USED_IN_COLUMNS", "article", "link_location",
           "note_record", "note_text", "withdrawn_note", "write_data", "write_sources"]  # fmt: skip

DATA_COLUMNS = ["id", "entity", "metric", "value", "unit", "period", "kind", "qualifier",
                "source", "quote"]  # fmt: skip
ARTICLE = "article"
"""The Data column citing each record's article (after its seed file)."""
SOURCE_HEADERS = ["Article (publisher; title; date)", "Seed file", "Sentence", "Records",
                  "Used in cells"]  # fmt: skip
USED_IN_COLUMNS = 6
"""Cells of a Sources row holding links to the cells that use its sentence (the first under the
"Used in cells" header); a sentence used in more cells lists the rest in the last one, as text."""
# Column widths (characters) that print each sheet one page wide at 80 % (finish.pages_wide),
# the text wrapped in them
DATA_WIDTHS = [30, 12, 18, 14, 7, 9, 9, 8, 16, 30, 17]
SOURCE_WIDTHS = [27, 11, 35, 18] + [13.3] * USED_IN_COLUMNS  # "Assumptions!L40" fits
_ID = r"[a-z0-9_]+\.[A-Za-z0-9_.\-]+"
_LAST_LINE = re.compile(rf"Record ({_ID}) \u00b7 \S.*")
"""A note's last line: ``Record <id> · <seed file>`` (``· withdrawn`` once withdrawn)."""
_OLD_HEAD = re.compile(rf"({_ID})\n(?:withdrawn: not in dataset |[^\s;]+\.\w+(?:; |\n|$))")
"""An earlier version's note: the record id alone on the first line, then its seed file(s) or
the withdrawn line."""


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


def note_text(dataset: Dataset, rec: Record, extra: str = "") -> str:
    """The note on a cell taken from ``rec``: its article, the quote (a derived figure's
    computation as it is), ``extra`` in brackets if given, and last the record id and seed file
    (what :func:`note_record` reads back)."""
    computed = rec.kind == "derived" and rec.how
    quote = rec.quote if computed else f"\u201c{rec.quote}\u201d"
    lines = [article(dataset, rec.source), quote]
    if extra:
        lines.append(f"({extra})")
    return "\n".join([*lines, f"Record {rec.id} \u00b7 {rec.source}"])


def withdrawn_note(record_id: str, version: str) -> str:
    """The note on a cell whose record dataset ``version`` no longer has."""
    return f"Not in dataset {version}.\nRecord {record_id} \u00b7 withdrawn"


def note_record(text: str) -> str | None:
    """The record id a gpuval note cites (:func:`note_text`, :func:`withdrawn_note`, or an
    earlier version's note with the id first), or None for any other note."""
    text = text.strip()
    lines = [line.strip() for line in text.split("\n")]
    last = _LAST_LINE.fullmatch(lines[-1])
    if last is not None and _as_written(lines):
        return last[1]
    old = _OLD_HEAD.match(text)
    return old[1] if old is not None else None


def _as_written(lines: list[str]) -> bool:
    """True when a note's lines have :func:`note_text`'s shape (citation; quote; an optional
    bracketed remark; record) or :func:`withdrawn_note`'s: a line an analyst adds anywhere breaks
    it, and the note is then the analyst's, kept as it is."""
    if len(lines) == 2:
        return lines[0].startswith("Not in dataset ") and lines[1].endswith("\u00b7 withdrawn")
    remark = lines[2:-1]
    return (
        len(lines) >= 3
        and lines[0].count("; ") >= 2
        and (not remark or (remark[0].startswith("(") and remark[-1].endswith(")")))
    )


def link_location(cell: str) -> str:
    """``Peers!F21`` -> ``'Peers'!F21``, the location an internal hyperlink jumps to."""
    sheet, ref = cell.rsplit("!", 1)
    return f"'{sheet.strip(chr(39))}'!{ref}"


def write_data(book: Book) -> Sheet:
    sheet = Sheet(book, "Data", f"Every record of dataset {book.dataset.version}, values in plain "
                  "units, with its source.")  # fmt: skip
    sheet.headers(4, [*DATA_COLUMNS, ARTICLE])
    sheet.widths({col(1 + i): w for i, w in enumerate(DATA_WIDTHS)})
    sheet.freeze("B5")
    assert set(DATA_COLUMNS) <= set(COLUMNS)
    for i, row in enumerate(book.dataset.rows()):
        for j, key in enumerate(DATA_COLUMNS):
            value = row[key]
            fmt = "data_value" if key == "value" and isinstance(value, float) else None
            sheet.put(5 + i, 1 + j, value, "data", fmt)
        sheet.put(5 + i, 1 + len(DATA_COLUMNS), article(book.dataset, row["source"]), "data")
    last = 4 + len(book.dataset.records)
    sheet.ws.auto_filter.ref = f"A4:K{last}"
    wrap_rows(sheet.ws, 5, last, range(1, len(DATA_WIDTHS) + 1))
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
    sheet.widths({col(1 + i): w for i, w in enumerate(SOURCE_WIDTHS)})
    sheet.freeze("B5")  # the article stays in view
    for i, ((source, quote), ids) in enumerate(sentences(book.dataset).items()):
        r = 5 + i
        cells = [cell for rid in ids for cell in book.uses.get(rid, [])]
        texts = (article(book.dataset, source), source, quote, ", ".join(ids))
        for j, text in enumerate(texts):
            sheet.put(r, 1 + j, text, "data")
        for j, text in enumerate(used_in(cells)):
            cell = sheet.put(r, 5 + j, text, "data")
            if "," not in text:
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link_location(text),
                                           display=text)  # fmt: skip
    wrap_rows(sheet.ws, 5, sheet.ws.max_row, range(1, len(SOURCE_WIDTHS) + 1))
    return sheet
