"""Refresh's Data and Sources sheets: Data keyed by record id (a record keeps its row for good,
a new one is appended, a withdrawn one is marked in place), Sources keyed by sentence, each with
the cells that use its records."""

from __future__ import annotations

import re

from lxml import etree
from openpyxl.utils import get_column_letter as letter

from gpuval.errors import GpuvalError
from gpuval.pipeline.refresh_cells import Change, Session, same_value
from gpuval.pipeline.xlsxpatch.sheet import M, insert_in_order
from gpuval.workbook.sheets import peers
from gpuval.workbook.sheets.base import fitted_height, row_lines
from gpuval.workbook.sheets.reference import (
    ARTICLE,
    DATA_COLUMNS,
    SOURCE_HEADERS,
    USED_IN_COLUMNS,
    article,
    link_location,
    note_record,
    sentences,
    used_in,
)

__all__ = ["update_data", "update_sources"]

_AFTER_HYPERLINKS = [  # the worksheet parts that follow <hyperlinks> (ECMA-376 order)
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
    "tableParts", "extLst",
]  # fmt: skip


def _table(s: Session, sheet: str, headers: list[str]) -> tuple[int, dict[str, int], int]:
    """(header row, header -> column, last used row) of a table found by its header labels."""
    ws = s.wb[sheet]
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 40)):
        labels = {str(c.value).strip(): int(c.column or 0) for c in row
                  if isinstance(c.value, str)}  # fmt: skip
        if headers[0] in labels and all(h in labels for h in headers[:3]):
            header = int(row[0].row or 0)
            last = header
            for r in range(header + 1, ws.max_row + 1):
                if ws.cell(r, labels[headers[0]]).value not in (None, ""):
                    last = r
            return header, labels, last
    raise GpuvalError(f"{s.path.name}: the {sheet} sheet has no header row {', '.join(headers)}.")


def _sheet(s: Session, name: str, default: str, headers: list[str]) -> str | None:
    """The sheet holding a table: where defined name ``name`` points (a refresh defines it),
    else ``default``, else the first sheet with the table's header row (the sheet renamed
    before any refresh); None when no sheet has it."""
    if name in s.names:
        return s.cell(name)[0]
    for title in dict.fromkeys(t for t in [default, *s.wb.sheetnames] if t in s.wb.sheetnames):
        try:
            _table(s, title, headers)
        except GpuvalError:
            continue
        return title
    return None


def update_data(s: Session) -> None:
    sheet = _sheet(s, "data_records", "Data", DATA_COLUMNS)
    if sheet is None or sheet not in s.wb.sheetnames:
        s.report.notes.append("the workbook has no Data sheet; its records were not updated.")
        return
    header, cols, last = _table(s, sheet, DATA_COLUMNS)
    ws = s.wb[sheet]
    rows = {ws.cell(r, cols["id"]).value: r for r in range(header + 1, last + 1)}
    rows.pop(None, None)
    template = {key: s.style(sheet, f"{letter(cols[key])}{header + 1}") for key in cols}
    records = {row["id"]: row for row in s.dataset.rows()}
    keys = [*DATA_COLUMNS, ARTICLE] if ARTICLE in cols else DATA_COLUMNS
    for row in records.values():
        row[ARTICLE] = article(s.dataset, row["source"])
    for record_id, row in records.items():
        r = rows.get(record_id)
        if r is None:
            last += 1
            r = last
            s.report.changes.append(Change(f"Data {record_id}", None, "added"))
            for key in keys:
                ref = f"{letter(cols[key])}{r}"
                s.put(sheet, ref, row[key], style=template.get(key))
            _fit_row(s, sheet, r, [cols[key] for key in keys])
            continue
        for key in keys:
            if key not in cols:
                continue
            ref = f"{letter(cols[key])}{r}"
            old = ws[ref].value
            if not same_value(old, row[key]):
                if key not in ("kind", "qualifier") or old != "withdrawn":
                    s.report.changes.append(Change(f"Data {record_id} {key}", old, row[key]))
                s.put(sheet, ref, row[key])
    for record_id, r in rows.items():
        kind_ref = f"{letter(cols['kind'])}{r}"
        if record_id in records or ws[kind_ref].value == "withdrawn":
            continue
        s.report.changes.append(Change(f"Data {record_id}", ws[kind_ref].value, "withdrawn"))
        s.put(sheet, f"{letter(cols['qualifier'])}{r}",
              f"withdrawn {s.today.isoformat()}: not in dataset {s.dataset.version} "
              f"(was {ws[kind_ref].value})")  # fmt: skip
        s.put(sheet, kind_ref, "withdrawn")
    end = f"{letter(max(cols.values()))}{last}"
    first = f"{letter(min(cols.values()))}{header}"
    s.patch.define("data_records", f"'{sheet}'!${letter(cols['id'])}${header + 1}:"
                   f"${letter(cols['id'])}${max(last, header + 1)}")  # fmt: skip
    auto = s.patch.cells(sheet).root.find("{*}autoFilter")
    if auto is not None and auto.get("ref") != f"{first}:{end}":
        auto.set("ref", f"{first}:{end}")
        s.patch.cells(sheet).touched = True
    for r in range(1, header):
        text = ws.cell(r, 1).value
        if isinstance(text, str) and text.startswith("Every record of dataset "):
            new = re.sub(r"dataset \S+,", f"dataset {s.dataset.version},", text, count=1)
            if new != text:
                s.put(sheet, f"A{r}", new)


def _uses(s: Session) -> dict[str, list[str]]:
    """Record id -> the cells citing it (peer cells by the table, inputs by their notes)."""
    uses: dict[str, list[str]] = {}
    sheets = [s.cell("in_target")[0]]
    if "data_assumption_ids" in s.names:
        sheets.append(s.column("data_assumption_ids")[0][0])
    for title in dict.fromkeys(sheets):
        for row in s.wb[title].iter_rows():
            for cell in row:
                record_id = None if cell.comment is None else note_record(cell.comment.text)
                if record_id is not None:
                    uses.setdefault(record_id, []).append(f"{title}!{cell.coordinate}")
    ids = [s.value(*where) for where in s.column("data_peers_id")]
    columns = {key: s.column(f"data_peers_{key}") for key in peers.raw_keys(s.names)}
    sources = peers.peer_sources(s.dataset)
    for i, entity in enumerate(ids):
        for key, record_id in sources.get(entity, {}).items():
            if key in columns and not (key == "price" and entity in s.priced):
                sheet, ref = columns[key][i]
                uses.setdefault(record_id, []).append(f"{sheet}!{ref}")
    return uses


def _set_links(s: Session, sheet: str, links: dict[str, str | None]) -> None:
    """Point each cell of ``links`` at its location (an internal hyperlink), or drop its link."""
    cells = s.patch.cells(sheet)
    root = cells.root
    box = root.find(f"{{{M}}}hyperlinks")
    current = {} if box is None else {e.get("ref"): e for e in box.findall(f"{{{M}}}hyperlink")}
    for ref, location in links.items():
        old = current.get(ref)
        if old is not None and location is not None and old.get("location") == location:
            continue
        if old is None and location is None:
            continue
        if box is None:
            box = etree.Element(f"{{{M}}}hyperlinks")
            insert_in_order(root, box, _AFTER_HYPERLINKS)
        if old is not None:
            box.remove(old)
        if location is not None:
            etree.SubElement(box, f"{{{M}}}hyperlink", ref=ref, location=location)
        cells.touched = True
    if box is not None and len(box) == 0:
        root.remove(box)


def _fit_row(s: Session, sheet: str, r: int, columns: list[int]) -> None:
    """An appended row gets the height its wrapped text needs, as build gives its rows."""
    if (lines := row_lines(s.wb[sheet], r, columns)) > 1:
        s.patch.row_height(sheet, r, fitted_height(lines))


def update_sources(s: Session) -> None:
    """Each sentence's row: its article, records and the cells using it (links in a workbook
    with the article column, a text list in one built before)."""
    headers = SOURCE_HEADERS[1:]
    sheet = _sheet(s, "data_sources", "Sources", headers)
    if sheet is None or sheet not in s.wb.sheetnames:
        return
    header, cols, last = _table(s, sheet, headers)
    ws = s.wb[sheet]
    linked = SOURCE_HEADERS[0] in cols
    if linked:
        headers = SOURCE_HEADERS

    def ref(key: str, r: int, offset: int = 0) -> str:
        return f"{letter(cols[key] + offset)}{r}"

    rows = {(ws[ref("Seed file", r)].value, ws[ref("Sentence", r)].value): r
            for r in range(header + 1, last + 1)}  # fmt: skip
    template = {key: s.style(sheet, ref(key, header + 1)) for key in headers}
    by_sentence = sentences(s.dataset)
    uses = _uses(s)
    links: dict[str, str | None] = {}
    added: list[int] = []
    for key, ids in by_sentence.items():
        cells = [c for rid in ids for c in uses.get(rid, [])]
        values = {"Seed file": key[0], "Sentence": key[1], "Records": ", ".join(ids),
                  "Used in cells": ", ".join(cells)}  # fmt: skip
        if linked:
            values[SOURCE_HEADERS[0]] = article(s.dataset, key[0])
        r = rows.get(key)
        if r is None:
            last += 1
            r = last
            added.append(r)
            for h in headers:
                if h != "Used in cells" or not linked:
                    s.put(sheet, ref(h, r), values[h], style=template[h])
        else:
            for h in ("Records", "Used in cells", SOURCE_HEADERS[0]):
                owned = h in values and (h != "Used in cells" or not linked)
                if owned and not same_value(ws[ref(h, r)].value, values[h]):
                    s.put(sheet, ref(h, r), values[h])
        if linked:
            texts = used_in(cells)
            for j in range(USED_IN_COLUMNS):
                text = texts[j] if j < len(texts) else None
                where = ref("Used in cells", r, j)
                if not same_value(ws[where].value, text):
                    s.put(sheet, where, text, style=template["Used in cells"])
                links[where] = link_location(text) if text and "," not in text else None
    for key, r in rows.items():
        records = ws[ref("Records", r)].value
        if key not in by_sentence and not str(records or "").startswith("withdrawn"):
            s.put(sheet, ref("Records", r), f"withdrawn {s.today.isoformat()}: {records}")
            for j in range(USED_IN_COLUMNS if linked else 1):
                s.put(sheet, ref("Used in cells", r, j), None)
                links[ref("Used in cells", r, j)] = None
    span = [cols[h] for h in headers] + [cols["Used in cells"] + j for j in range(USED_IN_COLUMNS)]
    for r in added:
        _fit_row(s, sheet, r, span)
    if linked:
        _set_links(s, sheet, links)
    s.patch.define("data_sources", f"'{sheet}'!${letter(cols['Seed file'])}${header}")
