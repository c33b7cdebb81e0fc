"""The prices file an analyst hands to ``gpuval refresh``: read it, and refuse anything odd.

A prices file is a CSV in UTF-8 (a byte-order mark is fine) with the header
``entity,date,price,currency`` and optionally ``shares``, one row per entity and date::

    entity,date,price,currency,shares
    biren,2026-01-05,35.20,HKD,
    06082.HK,2026-01-06,36.00,HKD,2390000000

``entity`` is an entity id or a ticker from the dataset (``gpuval entities``), in any case, a ticker
with or without its exchange suffix (``688256.SH``, ``688256.sh`` and ``688256`` are Cambricon,
``nvda`` and ``NVIDIA`` are NVIDIA), or those of a company the analyst added to the workbook's peer
table (``added``: its id, ticker and listing currency as the table gives them; any text is an id
there, ``en-flame`` too); ``date`` is ``YYYY-MM-DD``, not after today nor before 1990; ``price`` is
a positive number in ``currency``, which must be the entity's listing currency; ``shares``, if
given, a positive number of shares outstanding; each within :data:`LIMITS`, and price x shares
within :data:`MAX_MARKET_VALUE`. Every problem raises :class:`~gpuval.errors.GpuvalError` with one
sentence naming the file, the line and the problem: text that is not UTF-8, a file over
:data:`MAX_BYTES`, a missing or unknown column, a value of the wrong type, an unknown entity or
ticker, a second row for the same entity and date, and any field that starts with ``=``, ``+``,
``-`` or ``@`` and is not a plain number (spreadsheet formula injection; such text is never a valid
id, date, number or currency anyway).

When a file gives several dates for one entity, :func:`latest_by_entity` keeps the latest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from gpuval.data.dataset import Dataset
from gpuval.data.schema import CURRENCIES
from gpuval.errors import GpuvalError

__all__ = [
    "COLUMNS",
    "LIMITS",
    "MAX_BYTES",
    "MAX_MARKET_VALUE",
    "MAX_ROWS",
    "OPTIONAL",
    "Added",
    "PriceUpdate",
    "implausible_market_value",
    "latest_by_entity",
    "read_prices",
    "ticker_map",
]

#: Required columns, in the documented order.
COLUMNS = ("entity", "date", "price", "currency")
EARLIEST = dt.date(1990, 1, 1)
"""The earliest date a price may have (the Shanghai exchange opened in December 1990)."""
#: Columns that may be present.
OPTIONAL = ("shares",)
#: A prices file larger than this is refused before it is parsed.
MAX_BYTES = 5_000_000
#: The most data rows a prices file may hold.
MAX_ROWS = 100_000

#: The plausible range of each number (a price per share in any listing currency; a share count):
#: beyond it a value is a typo or a unit slip (HKD 1e308, 2.4 shares) that would carry into every
#: figure, so it is refused rather than applied.
LIMITS = {"price": (1e-4, 1e7), "shares": (1e6, 1e13)}
#: The largest market value (price x shares, in the listing currency) a row may make: each within
#: its limit, a price and a share count can still multiply to 1e20.
MAX_MARKET_VALUE = 1e14

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class PriceUpdate:
    """One price: ``entity`` is the dataset's entity id (a ticker in the file is resolved)."""

    entity: str
    date: dt.date
    price: float
    currency: str
    shares: float | None = None


@dataclass(frozen=True)
class Added:
    """A company an analyst added to the workbook's peer table, which the dataset lacks."""

    ticker: str
    listing_currency: str


class _Reader:
    def __init__(
        self, path: Path, dataset: Dataset, today: dt.date | None, added: Mapping[str, Added]
    ) -> None:
        self.path = path
        self.dataset = dataset
        self.today = today
        self.added = {k: v for k, v in added.items() if k not in dataset.entities}
        tickers = {e.id: e.ticker for e in dataset.entities.values()}
        tickers |= {k: v.ticker for k, v in self.added.items()}
        held = _holders(tickers)
        self.tickers = _unique(held)
        self.shared = {t: ids for t, ids in held.items() if len(ids) > 1}  # a copied row's
        folded: dict[str, set[str]] = {}
        for entity_id in tickers:
            folded.setdefault(entity_id.lower(), set()).add(entity_id)
        self.ids = {k: v.pop() for k, v in folded.items() if len(v) == 1}  # "BIREN" is biren

    def fail(self, line: int | None, problem: str) -> NoReturn:
        where = f"Prices file {self.path}" + (f", line {line}" if line else "")
        raise GpuvalError(f"{where}: {problem}.")

    def text(self) -> str:
        path = self.path
        try:
            if not path.is_file():
                raise GpuvalError(
                    f"Prices file {path} {'is not a file' if path.exists() else 'does not exist'}."
                )
            size = path.stat().st_size
            if size > MAX_BYTES:
                self.fail(None, f"it is {size:,} bytes, over the {MAX_BYTES:,}-byte limit")
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise GpuvalError(
                f"Prices file {path} cannot be read: {exc.strerror or exc}."
            ) from None
        if len(data) > MAX_BYTES:
            self.fail(None, f"it is over the {MAX_BYTES:,}-byte limit")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise GpuvalError(
                f"Prices file {path} is not UTF-8 text (it is UTF-16); save it as "
                '"CSV UTF-8" and try again.'
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise GpuvalError(
                f"Prices file {path} is not UTF-8 text (byte {exc.start:,}, line {line}); save "
                'it as "CSV UTF-8" and try again.'
            ) from None
        if "\x00" in text:
            self.fail(None, "it contains NUL characters, so it is not a text CSV file")
        return text

    def header(self, row: list[str]) -> dict[str, int]:
        names = [self.cell(1, "header", value).lower() for value in row]
        columns: dict[str, int] = {}
        for i, name in enumerate(names):
            if name not in COLUMNS + OPTIONAL:
                self.fail(
                    1,
                    f"unknown column {name!r} in the header (expected "
                    f"{','.join(COLUMNS)}[,{','.join(OPTIONAL)}])",
                )
            if name in columns:
                self.fail(1, f"column {name!r} appears twice in the header")
            columns[name] = i
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            self.fail(
                1,
                f"the header lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (expected {','.join(COLUMNS)}[,{','.join(OPTIONAL)}])",
            )
        return columns

    def cell(self, line: int, column: str, value: str) -> str:
        """A field stripped of spaces, refused if it could run as a spreadsheet formula."""
        stripped = value.strip()
        if stripped.startswith(_FORMULA_START) and not _NUMBER.fullmatch(stripped):
            self.fail(
                line,
                f"{column} {_shown(stripped)} starts with {stripped[0]!r} and could run as a "
                "spreadsheet formula; a prices file holds only ids, dates, numbers and currency "
                "codes",
            )
        return stripped

    def number(self, line: int, column: str, value: str) -> float:
        if not _NUMBER.fullmatch(value):
            self.fail(line, f"{column} must be a number, got {_shown(value)}")
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            self.fail(line, f"{column} must be a positive number, got {value}")
        low, high = LIMITS[column]
        if not low <= number <= high:
            self.fail(line, f"{column} {value} is outside the plausible range {low:g} to {high:g}")
        return number

    def row(self, line: int, fields: dict[str, str]) -> PriceUpdate:
        given = fields["entity"]
        if not given:
            self.fail(line, "entity is empty")
        known = given in self.dataset.entities or given in self.added
        if not known and given.upper() in self.shared:
            self.fail(line, f"ticker {_shown(given)} is that of "
                      f"{' and '.join(self.shared[given.upper()])}; give the id")  # fmt: skip
        entity_id = given if known else self.ids.get(given.lower(), self.tickers.get(given.upper()))
        if entity_id is None:
            self.fail(
                line,
                f"entity {_shown(given)} is neither an entity id nor a ticker in the dataset "
                "(see gpuval entities) or the workbook's peer table",
            )
        if entity_id in self.added:
            listing = self.added[entity_id].listing_currency
            if listing not in CURRENCIES:
                self.fail(line, f"{entity_id}'s listing currency in the workbook's peer table is "
                          f"{_shown(listing)}, not one of {', '.join(CURRENCIES)}")  # fmt: skip
        else:
            entity = self.dataset.entities[entity_id]
            if entity.kind != "company" or not entity.listing_currency:
                self.fail(line, f"entity {entity.id!r} is not a listed company, so it has no price")
            listing = entity.listing_currency
        raw_date = fields["date"]
        try:
            if not _DATE.fullmatch(raw_date):
                raise ValueError
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            self.fail(line, f"date must be a YYYY-MM-DD date, got {_shown(raw_date)}")
        if self.today is not None and date > self.today:
            self.fail(line, f"date {raw_date} is after today, {self.today.isoformat()}")
        if date < EARLIEST:  # before any of these companies listed; Excel shows it as #####
            self.fail(line, f"date {raw_date} is before {EARLIEST.isoformat()}, too early for a "
                      "market price of these companies")  # fmt: skip
        price = self.number(line, "price", fields["price"])
        currency = fields["currency"].upper()
        if currency not in CURRENCIES:
            self.fail(
                line,
                f"currency must be one of {', '.join(CURRENCIES)}, "
                f"got {_shown(fields['currency'])}",
            )
        if currency != listing:
            self.fail(line, f"currency {currency} is not {entity_id}'s listing currency {listing}")
        shares_text = fields.get("shares", "")
        shares = self.number(line, "shares", shares_text) if shares_text else None
        if shares is not None and (value := implausible_market_value(price, shares)):
            self.fail(line, f"price x shares is {value:.3g} {currency}, over the "
                      f"{MAX_MARKET_VALUE:g} of any listed company")  # fmt: skip
        return PriceUpdate(entity_id, date, price, currency, shares)


def ticker_map(dataset: Dataset) -> dict[str, str]:
    """Upper-case ticker -> entity id, each ticker with and without its exchange suffix
    (``688256.SH`` and ``688256``; ``NVDA``). A bare code two entities share is left out."""
    return _unique(_holders({entity.id: entity.ticker for entity in dataset.entities.values()}))


def _holders(tickers: Mapping[str, str]) -> dict[str, list[str]]:
    """Upper-case ticker, with and without its exchange suffix -> the ids holding it, of
    ``{entity id: ticker}``."""
    held: dict[str, list[str]] = {}
    for entity_id, ticker in tickers.items():
        full = ticker.strip().upper()
        for code in {full, full.rsplit(".", 1)[0]} if full else ():
            held.setdefault(code, []).append(entity_id)
    return held


def _unique(held: dict[str, list[str]]) -> dict[str, str]:
    """The codes one id holds -> that id."""
    return {code: ids[0] for code, ids in held.items() if len(ids) == 1}


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def implausible_market_value(price: float, shares: float) -> float | None:
    """``price x shares`` when it is over :data:`MAX_MARKET_VALUE` (no listed company's), else
    None."""
    value = price * shares
    return value if value > MAX_MARKET_VALUE else None


def read_prices(
    path: Path,
    dataset: Dataset,
    today: dt.date | None = None,
    added: Mapping[str, Added] | None = None,
) -> list[PriceUpdate]:
    """Every row of a prices CSV, validated against ``dataset`` and the companies ``added`` to
    the workbook (id -> :class:`Added`), in file order; a date after ``today`` (when given) is
    refused."""
    reader = _Reader(Path(path), dataset, today, added or {})
    text = reader.text()
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    updates: list[PriceUpdate] = []
    seen: dict[tuple[str, dt.date], int] = {}
    columns: dict[str, int] | None = None
    try:
        for fields in rows:
            line = rows.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line
            if columns is None:
                columns = reader.header(fields)
                continue
            if len(fields) != len(columns):
                reader.fail(
                    line, f"it has {len(fields)} fields where the header has {len(columns)}"
                )
            if len(updates) >= MAX_ROWS:
                reader.fail(line, f"the file has more than {MAX_ROWS:,} price rows")
            named = {name: reader.cell(line, name, fields[i]) for name, i in columns.items()}
            update = reader.row(line, named)
            key = (update.entity, update.date)
            if key in seen:
                reader.fail(
                    line,
                    f"{update.entity} on {update.date.isoformat()} is priced again (first on "
                    f"line {seen[key]})",
                )
            seen[key] = line
            updates.append(update)
    except csv.Error as exc:
        reader.fail(rows.line_num, f"it is not valid CSV ({exc})")
    if columns is None:
        reader.fail(None, f"it is empty; expected the header {','.join(COLUMNS)}[,shares]")
    if not updates:
        reader.fail(None, "it has a header but no price rows")
    return updates


def latest_by_entity(updates: Iterable[PriceUpdate]) -> dict[str, PriceUpdate]:
    """The latest-dated update for each entity (on equal dates the later one in ``updates``),
    keyed by entity id in order of first appearance."""
    latest: dict[str, PriceUpdate] = {}
    for update in updates:
        current = latest.get(update.entity)
        if current is None or update.date >= current.date:
            latest[update.entity] = update
    return latest
