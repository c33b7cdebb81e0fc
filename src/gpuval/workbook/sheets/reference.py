"""Data and Sources: every dataset record, and every source sentence with the cells using it."""

from __future__ import annotations

from collections import defaultdict

from gpuval.data.dataset import COLUMNS
from gpuval.workbook.sheets.base import Book, Sheet, print_setup

DATA_COLUMNS = ["id", "entity", "metric", "value", "unit", "period", "kind", "qualifier",
                "source", "quote"]  # fmt: skip


def write_data(book: Book) -> Sheet:
    sheet = Sheet(book, "Data", f"Every record of dataset {book.dataset.version}, values in plain "
                  "units, with its source.")  # fmt: skip
    sheet.headers(4, DATA_COLUMNS)
    sheet.widths({"A": 40, "B": 20, "C": 28, "D": 18, "E": 12, "F": 11, "G": 11, "H": 9,
                  "I": 26, "J": 120})  # fmt: skip
    sheet.freeze("B5")
    assert set(DATA_COLUMNS) <= set(COLUMNS)
    for i, row in enumerate(book.dataset.rows()):
        for j, key in enumerate(DATA_COLUMNS):
            value = row[key]
            fmt = "number" if key == "value" and isinstance(value, float) else None
            sheet.put(5 + i, 1 + j, value, "data", fmt)
    sheet.ws.auto_filter.ref = f"A4:J{4 + len(book.dataset.records)}"
    print_setup(sheet.ws, pages_wide=2)
    return sheet


def write_sources(book: Book) -> Sheet:
    sheet = Sheet(book, "Sources", "Each source sentence, the records taken from it, and the "
                  "workbook cells that use them.")  # fmt: skip
    sheet.headers(4, ["Seed file", "Sentence", "Records", "Used in cells"])
    sheet.widths({"A": 26, "B": 110, "C": 44, "D": 44})
    sheet.freeze("B5")
    by_sentence: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rec in book.dataset.records.values():
        if rec.kind != "derived" or not rec.how:
            by_sentence[(rec.source, rec.quote)].append(rec.id)
    for rec in book.dataset.records.values():  # derived figures: under their own computation
        if rec.kind == "derived" and rec.how:
            by_sentence[(rec.source, rec.quote)].append(rec.id)
    for i, ((source, quote), ids) in enumerate(by_sentence.items()):
        r = 5 + i
        cells = [cell for rid in ids for cell in book.uses.get(rid, [])]
        sheet.put(r, 1, source, "data")
        sheet.put(r, 2, quote, "data")
        sheet.put(r, 3, ", ".join(ids), "data")
        sheet.put(r, 4, ", ".join(cells), "data")
    return sheet
