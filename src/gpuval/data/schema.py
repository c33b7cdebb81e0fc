"""The dataset file's schema: what a record may contain, checked field by field with pydantic.

Checks that need the whole file (duplicates, references, quotes in seeds) live in
:mod:`gpuval.data.dataset`; this module only knows single tables. :func:`describe_error` turns a
pydantic error into the one sentence an analyst reads.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "CURRENCIES",
    "DatasetFile",
    "Derived",
    "Entity",
    "Figure",
    "PeerEntry",
    "Relation",
    "Sentence",
    "describe_error",
    "fx_pair",
]

CURRENCIES = ("CNY", "HKD", "USD")
PLAIN_UNITS = ("fraction", "multiple", "count", "shares", "months", "years", "EFLOPS", "date")
_FX_UNIT = re.compile(r"^(?P<quote>[A-Z]{3}) per (?P<base>[A-Z]{3})$")
_PERIOD = re.compile(
    r"^(\d{4}(H[12]|Q[1-4])?|\d{4}-\d{4}|\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
)
_ID = r"^[a-z0-9_]+(\.[A-Za-z0-9_-]+)*$"
_NAME = r"^[a-z][a-z0-9_]*$"

#: What a figure is, as its sentence says it: ``reported`` (a stated fact), ``estimate`` (a
#: forecast or estimate by the article or a third party), ``guidance_low``/``guidance_high``/
#: ``guidance_mid`` (the company's own forecast: 预计, 业绩预告, 营收预期的上限), ``range_low``/
#: ``range_high`` (the ends of any other stated range), ``derived`` (computed), ``assumption`` (an
#: input the article assumes) and ``quip`` (market talk the article quotes, e.g. a 流行梗: neither
#: reported nor estimated by anyone accountable).
Kind = Literal[
    "reported",
    "estimate",
    "guidance_low",
    "guidance_high",
    "guidance_mid",
    "range_low",
    "range_high",
    "derived",
    "assumption",
    "quip",
]
Qualifier = Literal["", "about", "nearly", "over", "up_to"]


def fx_pair(unit: str) -> tuple[str, str] | None:
    """``"USD per HKD"`` -> ``("USD", "HKD")`` (units of the first per one of the second)."""
    match = _FX_UNIT.match(unit)
    return (match["quote"], match["base"]) if match else None


def _check_unit(unit: str) -> str:
    pair = fx_pair(unit)
    if unit in CURRENCIES or unit in PLAIN_UNITS:
        return unit
    if pair and all(c in CURRENCIES for c in pair) and pair[0] != pair[1]:
        return unit
    allowed = ", ".join(CURRENCIES + PLAIN_UNITS)
    raise ValueError(f"unknown unit {unit!r} (allowed: {allowed}, or 'CNY per USD' style rates)")


def _check_period(period: str) -> str:
    if not _PERIOD.match(period):
        raise ValueError(
            f"period {period!r} is not YYYY, YYYYH1, YYYYQ1, YYYY-YYYY, YYYY-MM or YYYY-MM-DD"
        )
    return period


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""The control characters no worksheet cell can hold (XML 1.0 forbids them; tab and line breaks
are allowed)."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (found := _CONTROL.search(text)):
                raise ValueError(f"contains the control character U+{ord(found[0]):04X}, which "
                                 "a workbook cannot hold")  # fmt: skip
        return value


class Entity(_Strict):
    id: str = Field(pattern=_NAME)
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    kind: Literal["company", "market", "sector", "fx"]
    venue: Literal["", "A", "HK", "US"] = ""
    exchange: str = ""
    ticker: str = ""
    listing_currency: Literal["", "CNY", "HKD", "USD"] = ""


class _Quantity(_Strict):
    id: str = Field(pattern=_ID)
    entity: str = Field(pattern=_NAME)
    metric: str = Field(pattern=_NAME)
    unit: str
    period: str = ""
    note: str = ""

    _unit = field_validator("unit")(_check_unit)
    _period = field_validator("period")(_check_period)


class Figure(_Quantity):
    """A figure stated in a sentence of a seed article."""

    kind: Kind
    written: str = Field(min_length=1)
    value: float | None = None
    qualifier: Qualifier = ""


class Sentence(_Strict):
    source: str = Field(min_length=1)
    text: str = Field(min_length=1)
    figure: list[Figure] = Field(min_length=1)


class Derived(_Quantity):
    """A figure computed from other records (see :data:`gpuval.data.dataset.OPS`)."""

    op: Literal["div", "mul", "double", "grow"]
    inputs: list[str] = Field(min_length=1)


class Relation(_Strict):
    """A statement in the sources that other records let us check (:mod:`gpuval.data.quality`)."""

    kind: Literal["return", "ratio", "product", "cagr", "sum", "equal"]
    stated: str
    inputs: list[str] = Field(min_length=1)


class PeerEntry(_Strict):
    """A company's row in the peer table: which record feeds each column ("" = none)."""

    entity: str = Field(pattern=_NAME)
    price: str = ""
    shares: str = ""
    market_value: str = ""
    revenue_fy: str = ""
    revenue_h1: str = ""
    revenue_forward: str = ""
    backlog: str = ""
    backlog_months: list[str] = Field(default=[], max_length=2)
    in_stats: bool = True


class SourceFile(_Strict):
    """How a seed article is cited: publisher, title and date as the file itself states them
    ("" when it does not), and what it is about (this dataset's own words)."""

    file: str = Field(min_length=1)
    publisher: str = ""
    title: str = ""
    date: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    about: str = Field(min_length=1)


class Meta(_Strict):
    version: str = Field(pattern=r"^[\w.+-]{1,40}$")
    """Letters, digits and ``. _ + -``, at most 40: it goes into page headers and a name."""
    description: str = ""


class DatasetFile(_Strict):
    meta: Meta
    entity: list[Entity] = Field(min_length=1)
    sentence: list[Sentence] = Field(min_length=1)
    derived: list[Derived] = []
    relation: list[Relation] = []
    peer: list[PeerEntry] = []
    fx: dict[str, str] = {}
    source: list[SourceFile] = []


def _locate(loc: tuple[Any, ...], raw: dict[str, Any]) -> tuple[str, str | None]:
    """Name the record an error location points into, and the offending field."""
    node: Any = raw
    where = "the file"
    field: str | None = None
    for i, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict):
            table = loc[i - 1] if i else "record"
            key = "entity" if table == "peer" else "id"
            ident = node.get(key) if isinstance(node.get(key), str) else None
            label = {"figure": "record", "sentence": "sentence", "entity": "entity"}.get(
                str(table), str(table)
            )
            if table == "figure" or ident:
                where = f"{label} {ident!r}" if ident else f"{label} #{part + 1}"
            else:
                where = f"{label} #{part + 1}"
                if table == "sentence":
                    where += f" (source {node.get('source', '?')!r})"
    if loc and isinstance(loc[-1], str):
        field = loc[-1]
    return where, field


def describe_error(err: ValidationError, raw: dict[str, Any]) -> str:
    """One sentence for the first problem pydantic found (the file name is added by the caller)."""
    first = err.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    where, field = _locate(loc, raw)
    kind = first["type"]
    if kind == "missing":
        return f"{where} is missing the required field {field!r}"
    if kind == "extra_forbidden":
        return f"{where} has an unknown field {field!r}"
    message = first["msg"].removeprefix("Value error, ")
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) else f", got {got!r}"
    return f"{where}: field {field!r}: {message[0].lower()}{message[1:]}{shown}"
