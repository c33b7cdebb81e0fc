"""The cells refresh owns, each found by a defined name or a label: the peer table and the
prices applied to it, the Data sheet (keyed by record id), the Sources sheet (keyed by
sentence), the version and date labels, and the Monte Carlo snapshot. Reads go through an
openpyxl view of the sheets read; writes through the part-level patcher."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter as letter
from openpyxl.workbook.workbook import Workbook

from gpuval.data.dataset import Dataset
from gpuval.data.peers import COLUMNS
from gpuval.data.prices import MAX_MARKET_VALUE, Added, implausible_market_value
from gpuval.errors import GpuvalError
from gpuval.pipeline.names import outside_the_table
from gpuval.pipeline.xlsxpatch import Patch
from gpuval.pipeline.xlsxpatch.view import read_sheets
from gpuval.workbook.finish import header_text
from gpuval.workbook.sheets import montecarlo, peers
from gpuval.workbook.sheets.reference import note_record, note_text, withdrawn_note

__all__ = [
    "Change",
    "Session",
    "StoredPrice",
    "added_companies",
    "day",
    "num",
    "update_headers",
    "update_labels",
    "update_montecarlo",
    "update_peers",
]

PRICE_NAME = "gpuval_price_"


@dataclass(frozen=True)
class Change:
    where: str
    old: Any
    new: Any


def num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime):
        a = a.date()
    if num(a) and num(b):  # equal as stored: Excel and LibreOffice keep 15 significant digits
        same_as_stored = f"{float(a):.15g}" == f"{float(b):.15g}"
        return same_as_stored or math.isclose(a, b, rel_tol=1e-15)
    return bool(a == b) or (a in (None, "") and b in (None, ""))


def is_ours(text: str) -> bool:
    """A note gpuval wrote: a record's citation or a prices-file line."""
    return note_record(text) is not None or text.strip().startswith("prices file:")


@dataclass(frozen=True)
class StoredPrice:
    entity: str
    date: dt.date
    price: float
    shares: float | None

    def text(self) -> str:
        """The hidden name's text: an Excel string ``"entity|date|price|shares"`` (a quote in the
        id doubled, as in any Excel string)."""
        shares = "" if self.shares is None else repr(float(self.shares))
        body = f"{self.entity}|{self.date.isoformat()}|{self.price!r}|{shares}"
        return '"' + body.replace('"', '""') + '"'

    @classmethod
    def parse(cls, text: str) -> StoredPrice | None:
        body = text.strip()
        if len(body) >= 2 and body[0] == body[-1] == '"':
            body = body[1:-1].replace('""', '"')
        parts = body.rsplit("|", 3)  # an id may hold "|"; the rest never does
        try:
            shares = float(parts[3]) if len(parts) > 3 and parts[3] else None
            return cls(parts[0], dt.date.fromisoformat(parts[1]), float(parts[2]), shares)
        except (IndexError, ValueError):
            return None


class Session:
    """One refresh: reads through openpyxl (``wb``), writes through the patcher (``patch``)."""

    def __init__(self, path: Path, dataset: Dataset, report: Any, today: dt.date) -> None:
        self.path, self.dataset, self.report, self.today = path, dataset, report, today
        self.patch = Patch(path)
        self.priced: set[str] = set()  # entities whose price comes from a prices file
        self._written: list[tuple[str, str, Any]] = []
        names = {n.get("name", ""): (n.text or "") for n in self._defined()}
        self.names = names
        read = ("in_", "data_", "mc_", "tpl_")  # the names refresh reads or writes under
        wanted = {title for name, text in names.items() if name.startswith(read)
                  for title in _sheets_in(text)}  # fmt: skip
        wanted |= {"Data", "Sources", montecarlo.TITLE, "Cover"}
        for name, title in (("data_records", "Data"), ("data_sources", "Sources")):
            if name not in names and title not in self.patch.book.sheets:
                wanted |= set(self.patch.book.sheets)  # renamed: found by its header row
        self.wanted = wanted
        self.wb: Workbook = read_sheets(self.patch.package, self.patch.book, wanted)
        self._cached: Workbook | None = None

    def for_inputs(self) -> Workbook:
        """The view to read the inputs from: this one, or, when an input cell holds a formula,
        one with the formulas' cached values (and refresh's writes) instead."""
        from gpuval.workbook.evaluate import REQUIRED

        formulas = any(
            isinstance(v := self.value(*where), str) and v.startswith("=")
            for name in REQUIRED if name.startswith("in_") for where in self.column(name)
        )  # fmt: skip
        if not formulas:
            return self.wb
        if self._cached is None:
            self._cached = read_sheets(
                self.patch.package, self.patch.book, self.wanted, data_only=True
            )
            for sheet, ref, value in self._written:
                self._cached[sheet][ref].value = value
        return self._cached

    def _defined(self) -> list[Any]:
        root = self.patch.book.root
        return [e for e in root.iter("{*}definedName") if e.get("localSheetId") is None]

    def _place(self, name: str) -> tuple[str, str]:
        defined = self.wb.defined_names.get(name)
        places = list(defined.destinations) if defined is not None else []
        if len(places) != 1 or places[0][0] not in self.wb.sheetnames:
            raise GpuvalError(
                f"{self.path.name}: the defined name {name!r} does not point at one range of a "
                "sheet; restore it (or rebuild the workbook with gpuval build) and refresh again."
            )
        return places[0]

    def cell(self, name: str) -> tuple[str, str]:
        """(sheet, coordinate) of a single-cell defined name."""
        title, coord = self._place(name)
        return title, coord.replace("$", "")

    def column(self, name: str) -> list[tuple[str, str]]:
        """(sheet, coordinate) of every cell of a named cell, column or row, in order."""
        title, coord = self._place(name)
        cells = self.wb[title][coord.replace("$", "")]
        rows = cells if isinstance(cells, tuple) else ((cells,),)
        return [(title, c.coordinate) for row in rows
                for c in (row if isinstance(row, tuple) else (row,))]  # fmt: skip

    def value(self, sheet: str, ref: str) -> Any:
        return self.wb[sheet][ref].value

    def put(self, sheet: str, ref: str, value: Any, *, style: int | None = None) -> None:
        """Write a cell in the package and in the in-memory view (read again for the model)."""
        self.patch.set(sheet, ref, value, style=style)
        self.wb[sheet][ref].value = value
        self._written.append((sheet, ref, value))
        if self._cached is not None:
            self._cached[sheet][ref].value = value

    def style(self, sheet: str, ref: str) -> int | None:
        cell = self.patch.cells(sheet).cell(ref)
        return None if cell is None or cell.get("s") is None else int(cell.get("s", "0"))


def _sheets_in(text: str) -> list[str]:
    """The sheet names a defined name's formula refers to (quoted or not, any script)."""
    return [a.replace("''", "'") if a else b
            for a, b in re.findall(r"'((?:[^']|'')+)'!|([\w.]+)!", text)]  # fmt: skip


# --- peers and prices ---


def _stored_prices(s: Session) -> dict[str, StoredPrice]:
    stored = {}
    for name, text in s.names.items():
        if name.startswith(PRICE_NAME):
            price = StoredPrice.parse(text)
            if price is not None:
                stored[price.entity] = price
    return stored


_NAME_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""An id that can follow :data:`PRICE_NAME` in a defined name as it is (the dataset's ids all
can); any other is hashed (:func:`price_name`)."""


def price_name(entity: str) -> str:
    """The hidden name holding an entity's price: ``gpuval_price_biren``, or for an id a name
    cannot hold (``en-flame``) ``gpuval_price__`` and a hash of it (its text says the id)."""
    if _NAME_SAFE.fullmatch(entity):
        return PRICE_NAME + entity
    return PRICE_NAME + "_" + hashlib.sha1(entity.encode()).hexdigest()[:16]


def added_companies(s: Session) -> dict[str, Added]:
    """The companies an analyst typed into the peer table that the dataset's peer universe
    lacks, by id (a prices file can price them), with the ticker and listing currency their
    row gives."""
    universe = {peer.entity for peer in s.dataset.peers}
    columns = {key: s.column(f"data_peers_{key}") for key in ("id", "ticker", "listing_ccy")}
    added = {}
    for i, where in enumerate(columns["id"]):
        entity = s.value(*where)
        if isinstance(entity, str) and entity.strip() and entity not in universe:
            ticker, ccy = (s.value(*columns[key][i]) for key in ("ticker", "listing_ccy"))
            added[entity] = Added(str(ticker or ""), str(ccy or ""))
    return added


def update_peers(s: Session, new_prices: dict[str, Any] | None, reset: bool) -> list[dt.date]:
    """The dataset's figures, then the prices, into the peer table; returns the price dates."""
    report = s.report
    columns = {key: s.column(f"data_peers_{key}") for key in peers.raw_keys(s.names)}
    ids = [s.value(*where) for where in columns["id"]]
    for j, i in peers.repeated_ids(ids)[:1]:
        (first, at), (second, ref) = columns["id"][j], columns["id"][i]
        same = f"the id {ids[j]!r}" if ids[j] == ids[i] else f"{ids[j]!r} and {ids[i]!r}"
        raise GpuvalError(
            f"{first}!{at} and {second}!{ref} both hold {same}: give each company its own id "
            "(an id is the same in any case; refresh cannot tell which row is the company's); "
            "nothing was refreshed."
        )
    stored = {} if reset else _stored_prices(s)
    if reset:
        for name in s.names:
            if name.startswith(PRICE_NAME):
                s.patch.undefine(name)
    prices = dict(stored)
    if new_prices is not None:
        for entity, update in new_prices.items():
            if entity in ids:
                prices[entity] = StoredPrice(entity, update.date, update.price, update.shares)
                s.patch.define(price_name(entity), prices[entity].text(), hidden=True)
        for entity in sorted(set(new_prices) - set(ids)):
            report.notes.append(
                f"{entity}: not in the workbook's peer table; its price was not used."
            )
    kept = sorted(set(stored) - set(new_prices or {}))
    if kept:
        listed = ", ".join(f"{e} {stored[e].price:g} of {stored[e].date}" for e in kept)
        report.notes.append(
            f"prices kept from the last prices file ({listed}); refresh --reset-prices returns "
            "to the dataset's."
        )
    dates = []
    uncited: list[str] = []
    universe = {peer.entity: peers.peer_cells(s.dataset, peer) for peer in s.dataset.peers}
    added = [e for e in universe if e not in ids]
    if added:
        report.notes.append(
            f"{', '.join(added)}, in the dataset's peer universe, "
            f"{'has' if len(added) == 1 else 'have'} no row in this workbook's "
            "peer table (added to the dataset since the build, or its row was deleted). gpuval "
            "build makes a workbook with every company."
        )
    report.notes.extend(outside_the_table(s.value, columns["id"][0], columns["id"][-1]))
    for i, entity in enumerate(ids):
        new: dict[str, Any] = {}
        notes: dict[str, str] = {}
        cells = universe.get(entity)
        if entity in (None, ""):  # a row the analyst inserted and left empty
            continue
        if cells is None:
            report.notes.append(f"{entity}: not in dataset {s.dataset.version}'s peer universe; "
                                "its row is the analyst's and is left as it was"
                                + (" but for its price." if entity in prices else "."))  # fmt: skip
            if entity not in prices:
                continue
        sourced, cells = cells is not None, cells or {}
        for key in columns if sourced else ():
            if key == "id":
                continue
            cell = cells.get(key)
            new[key] = None if cell is None else cell.value
            if cell is not None and cell.record is not None:
                rec = cell.record
                notes[key] = note_text(s.dataset, rec)
            elif key in COLUMNS:
                found = s.patch.notes(columns[key][i][0]).read(columns[key][i][1])
                old_id = None if found is None else note_record(found[1])
                if old_id is not None:
                    notes[key] = withdrawn_note(old_id, s.dataset.version)
        update = prices.get(entity)
        if update is not None:
            for key in ("shares", "as_of"):  # an added company's own
                new.setdefault(key, s.value(*columns[key][i]))
            dated = day(new["as_of"])
            if isinstance(dated, dt.date) and update.date < dated:
                report.notes.append(
                    f"{entity}: the price of {update.date} is older than the "
                    f"{'dataset' if sourced else 'workbook'}'s market figure of {dated}, "
                    "which it replaces (as the prices file asks)."
                )
            s.priced.add(entity)
            new["price"] = update.price
            notes["price"] = f"prices file: {entity} {update.date} {update.price}"
            if update.shares is not None:
                new["shares"] = update.shares
                notes["shares"] = f"prices file: {entity} {update.date} shares"
            if num(new.get("shares")) and (
                value := implausible_market_value(update.price, new["shares"])
            ):
                raise GpuvalError(
                    f"The prices file's {entity} price {update.price:g} x its {new['shares']:,.0f} "
                    f"shares is {value:.3g}, over the {MAX_MARKET_VALUE:g} of any listed company; "
                    "nothing was refreshed."
                )
            if num(new.get("shares")):  # market value = price x shares: dated by the price
                new["as_of"], new["market_basis"] = (
                    update.date,
                    f"{update.date} price (prices file)",
                )
            else:  # the stated market value stays, with its own date
                report.notes.append(
                    f"{entity}: price {update.price} applied but the workbook has no share count, "
                    "so its market value is unchanged (add shares to the prices file)."
                )
            dates.append(update.date)
        for key, value in new.items():
            sheet, ref = columns[key][i]
            old = s.value(sheet, ref)
            if not same_value(old, value):
                report.changes.append(Change(f"Peers {entity} {key}", old, value))
                _typed_over(s, sheet, ref, f"{entity} {key}", old, cells.get(key), value)
                s.put(sheet, ref, value)
            if key not in notes:
                continue
            done = s.patch.cite(sheet, ref, notes[key], is_ours)
            if done == "threaded":
                report.notes.append(
                    f"{sheet}!{ref} has a threaded comment, kept as it is; its source "
                    f"({notes[key].split(chr(10), 1)[0]}) is listed on the Sources sheet."
                )
            elif done == "impossible":
                uncited.append(f"{sheet}!{ref}")
    if uncited:
        report.notes.append(
            f"no note could be added to {', '.join(uncited)} (the sheet keeps no notes refresh "
            "can copy); the Sources sheet lists their records."
        )
    return dates


def _typed_over(s: Session, sheet: str, ref: str, what: str, old: Any, cell: Any, new: Any) -> None:
    """A note when a sourced peer cell held a value its own record does not give (an analyst
    typed over it) and the record's value replaces it: the table is data, refreshed from the
    dataset, while a prices file keeps a price."""
    record = None if cell is None else cell.record
    if record is None or old in (None, "") or not same_value(new, cell.value):
        return
    found = s.patch.notes(sheet).read(ref)
    if found is not None and note_record(found[1]) == record.id:
        s.report.notes.append(
            f"{sheet}!{ref} ({what}) held {old!r}, not its record {record.id} ({new!r}); the "
            "record's value replaces it (a prices file keeps a price; the old value is in the "
            "backup)."
        )


# --- labels: version, as-of date, Monte Carlo ---


def update_labels(s: Session, before: dt.date | None, asof: dt.date | None) -> None:
    """The version labels; the as-of date (``before`` -> ``asof``: the oldest used market date)
    is reported when ``before`` is known, and written only into a workbook whose ``data_asof`` is
    a value, not a formula."""
    version = s.dataset.version
    s.patch.define("data_version", f'"{version}"')
    if "tpl_dataset" in s.names:
        sheet, ref = s.cell("tpl_dataset")
        old = s.value(sheet, ref)
        if (
            isinstance(old, str)
            and old.startswith("gpuval dataset ")
            and old != (new := f"gpuval dataset {version}")
        ):
            s.report.changes.append(Change("dataset version", old.split()[-1], version))
            s.put(sheet, ref, new)
    sheet, ref = s.cell("data_asof")
    old = s.value(sheet, ref)
    formula = isinstance(old, str) and old.startswith("=")
    old = before if formula else day(old)
    if asof is not None and not same_value(old, asof) and not (formula and before is None):
        s.report.changes.append(Change("oldest market figure used", old, asof))
        if not formula:
            s.put(sheet, ref, asof)


#: the as-of part of a header, as :func:`header_text` writes it (or wrote it: "As of <date>")
_HEADER_ASOF = re.compile(r"(?:As of|Oldest market figure) (?:\d{4}-\d{2}-\d{2}|n/a) · printed &D")
_HEADER_VERSION = re.compile(r"gpuval · dataset (?:[^&]|&&)*")


def update_headers(s: Session, asof: dt.date | None) -> None:
    """The dataset version and as-of date in each sheet's page header
    (:func:`~gpuval.workbook.finish.header_text`), where the header still carries them; the rest
    of a header, and a header the analyst rewrote, stay as they are."""
    _, version, as_of = header_text(asof, s.dataset.version)

    def edit(text: str) -> str:
        text = _HEADER_VERSION.sub(lambda _m: version, text)
        return text if asof is None else _HEADER_ASOF.sub(lambda _m: as_of, text)

    for sheet in s.patch.sheet_names:
        s.patch.edit_headers(sheet, edit)


def day(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


MC_FACTS = ["mc_target", "mc_draws", "mc_seed", "mc_uncertain", "mc_mean", "mc_std",
            "mc_prob_above"]  # fmt: skip


def _mc_places(s: Session) -> dict[str, tuple[str, str]] | None:
    """Where each Monte Carlo figure goes: by its name, else found by its label (and named)."""
    places: dict[str, tuple[str, str]] = {}
    sheet = s.cell("mc_p50")[0] if "mc_p50" in s.names else montecarlo.TITLE
    if sheet not in s.wb.sheetnames:
        return None
    ws = s.wb[sheet]
    labels: dict[str, Any] = {}
    for row in ws.iter_rows(max_col=4):
        for c in row:
            if isinstance(c.value, str):
                labels.setdefault(c.value.strip(), c)  # the first: "Draws" is also a header
    for name, label in zip(MC_FACTS, montecarlo.FACTS, strict=True):
        if name in s.names:
            places[name] = s.cell(name)
        elif label in labels:
            c = labels[label]
            places[name] = (sheet, f"{letter(c.column + 1)}{c.row}")
            s.patch.define(name, f"'{sheet}'!${letter(c.column + 1)}${c.row}")
        else:
            return None
    if "mc_hist" in s.names:
        _title, coord = s._place("mc_hist")
        first = ws[coord.replace("$", "").split(":")[0]]
        top, left = int(first.row or 0), int(first.column or 0)
    elif "Bin from" in labels:
        header = labels["Bin from"]
        top, left = int(header.row) + 1, int(header.column)
        end = f"${letter(left + 3)}${top + montecarlo.BINS - 1}"
        s.patch.define("mc_hist", f"'{sheet}'!${letter(left)}${top}:{end}")
    else:
        return None
    for i in range(montecarlo.BINS):
        for j, key in ((0, "from"), (1, "to"), (3, "count")):
            places[f"hist_{key}_{i}"] = (sheet, f"{letter(left + j)}{top + i}")
    return places


def update_montecarlo(s: Session, model: Any, snapshot: Any, target: str) -> None:
    """Every figure of the snapshot (:func:`~gpuval.workbook.sheets.montecarlo.values`: facts,
    the weighted value and its rank, percentiles), the histogram and the sentence on why the
    draws and the weighted value differ; the first facts found by label in a workbook that does
    not name them, the later ones only where named."""
    places = _mc_places(s)
    if places is None:
        s.report.notes.append("the Monte Carlo sheet's labels were not found; it was kept.")
        return
    summary = snapshot.summary
    figures = montecarlo.values(model, snapshot, target)
    values = {name: figures[name] for name in MC_FACTS}
    for name, value in figures.items():
        if name not in values and name in s.names:
            values[name] = value
            places[name] = s.cell(name)
    sheet = places["mc_mean"][0]
    column = (c for row in s.wb[sheet].iter_rows(max_col=1) for c in row)
    why = next((c for c in column if str(c.value).startswith(montecarlo.WHY)), None)
    if why is not None:
        values["why"] = montecarlo.explanation(model, snapshot)
        places["why"] = (sheet, str(why.coordinate))
    for i, count in enumerate(summary.hist_counts):
        values[f"hist_from_{i}"] = float(summary.hist_edges[i])
        values[f"hist_to_{i}"] = float(summary.hist_edges[i + 1])
        values[f"hist_count_{i}"] = int(count)
    for key, value in values.items():
        sheet, ref = places[key]
        if not same_value(s.value(sheet, ref), value):
            s.put(sheet, ref, float(value) if num(value) else value)
