"""The peer universe as data: which record feeds which peer-table column, per company.

Each ``[[peer]]`` table of the dataset names a company entity and, per column, the id of the record
that feeds it ("" when the sources give none)::

    [[peer]]
    entity = "biren"
    price = "biren.share_price.2026-01-05"    # listing currency, per share
    shares = "biren.shares_outstanding"       # unit "shares"
    market_value = "biren.market_cap.2026-01-05"  # listing currency
    revenue_fy = "biren.revenue.2024"         # latest full fiscal year (period YYYY)
    revenue_h1 = ""                           # a half year (period YYYYH1 or YYYYH2)
    revenue_forward = ""                      # a later fiscal year than revenue_fy
    backlog = "biren.order_backlog"
    backlog_months = ["biren.backlog_delivery_months.low", "biren.backlog_delivery_months.high"]
    in_stats = true                           # counted in the China peer statistics

:func:`build_peers` checks each table against the records (the record exists, belongs to the
company or is derived only from its records, has the column's unit) and returns :class:`Peer`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from gpuval.data.dataset import Record
    from gpuval.data.schema import Entity, PeerEntry

__all__ = ["COLUMNS", "Peer", "build_peers"]

#: The single-record columns of a peer, in table order.
COLUMNS = (
    "price",
    "shares",
    "market_value",
    "revenue_fy",
    "revenue_h1",
    "revenue_forward",
    "backlog",
)
_MONEY = ("price", "market_value", "revenue_fy", "revenue_h1", "revenue_forward", "backlog")
_LISTING = ("price", "market_value")  # in the company's listing currency
_REPORTING = ("revenue_fy", "revenue_h1", "revenue_forward", "backlog")  # one currency per peer
_YEAR = re.compile(r"\d{4}")
_HALF = re.compile(r"\d{4}H[12]")


@dataclass(frozen=True)
class Peer:
    """A company's peer-table row: record ids per column (None when the sources give none)."""

    entity: str
    price: str | None = None
    shares: str | None = None
    market_value: str | None = None
    revenue_fy: str | None = None
    """Latest full fiscal year revenue (reported, guidance or estimate)."""
    revenue_h1: str | None = None
    """A half-year revenue (run-rate = x 2)."""
    revenue_forward: str | None = None
    """A later fiscal year than ``revenue_fy`` (guidance or estimate)."""
    backlog: str | None = None
    backlog_months: tuple[str, ...] = ()
    """Months over which the backlog is delivered: one record, or a low and a high."""
    in_stats: bool = True
    """Counted in the China peer statistics (NVIDIA is not)."""

    def sources(self) -> dict[str, str]:
        """``{column: record id}`` for the single-record columns that have a record."""
        return {name: rid for name in COLUMNS if (rid := getattr(self, name)) is not None}


def _belongs(record_id: str, entity: str, records: Mapping[str, Record]) -> bool:
    """The record is the entity's, or derived only from records that are (recursively)."""
    rec = records[record_id]
    if rec.entity == entity:
        return True
    return bool(rec.inputs) and all(_belongs(name, entity, records) for name in rec.inputs)


def build_peers(
    entries: Sequence[PeerEntry],
    entities: Mapping[str, Entity],
    records: Mapping[str, Record],
    fail: Callable[[str, str], NoReturn],
) -> tuple[Peer, ...]:
    """Check every ``[[peer]]`` table; ``fail(where, problem)`` raises the one-sentence error."""
    peers: list[Peer] = []
    for entry in entries:
        where = f"peer {entry.entity!r}"
        ent = entities.get(entry.entity)
        if ent is None:
            fail(where, f"entity {entry.entity!r} is not defined in an [[entity]] table")
        if ent.kind != "company":
            fail(where, f"entity {entry.entity!r} is a {ent.kind}, not a company")
        if any(p.entity == entry.entity for p in peers):
            fail(where, "this company is listed twice in [[peer]] tables")
        named: dict[str, str | None] = {name: getattr(entry, name) or None for name in COLUMNS}
        for i, months in enumerate(entry.backlog_months):
            named[f"backlog_months[{i}]"] = months or None
        for column, rid in named.items():
            if rid is None:
                continue
            if rid not in records:
                fail(where, f"{column} record {rid!r} does not exist")
            if not _belongs(rid, entry.entity, records):
                fail(
                    where,
                    f"{column} record {rid!r} is a figure of {records[rid].entity!r}, "
                    f"not of {entry.entity!r}",
                )
            _check_unit(column, records[rid], ent, where, fail)
        _check_periods(named, records, where, fail)
        reporting = {records[rid].unit for c, rid in named.items() if c in _REPORTING and rid}
        if len(reporting) > 1:
            fail(
                where,
                f"its revenue and backlog records are in different currencies "
                f"({', '.join(sorted(reporting))}); give them in one reporting currency",
            )
        peers.append(
            Peer(
                entity=entry.entity,
                **{name: named[name] for name in COLUMNS},
                backlog_months=tuple(m for m in entry.backlog_months if m),
                in_stats=entry.in_stats,
            )
        )
    return tuple(peers)


def _check_unit(
    column: str, rec: Record, ent: Entity, where: str, fail: Callable[[str, str], NoReturn]
) -> None:
    from gpuval.data.schema import CURRENCIES

    if column in _MONEY and rec.unit not in CURRENCIES:
        fail(where, f"{column} record {rec.id!r} has unit {rec.unit!r}, not a currency")
    if column in _LISTING and ent.listing_currency and rec.unit != ent.listing_currency:
        fail(
            where,
            f"{column} record {rec.id!r} is in {rec.unit}, not {ent.id}'s listing currency "
            f"{ent.listing_currency}",
        )
    if column.startswith("revenue") and "revenue" not in rec.metric:
        fail(where, f"{column} record {rec.id!r} is a {rec.metric!r} figure, not a revenue")
    wanted = {"shares": "shares"}.get(column, "months" if column.startswith("backlog_m") else "")
    if wanted and rec.unit != wanted:
        fail(where, f"{column} record {rec.id!r} has unit {rec.unit!r}, not {wanted!r}")


def _check_periods(
    named: dict[str, str | None],
    records: Mapping[str, Record],
    where: str,
    fail: Callable[[str, str], NoReturn],
) -> None:
    for column in ("revenue_fy", "revenue_forward"):
        rid = named[column]
        if rid and not _YEAR.fullmatch(records[rid].period):
            fail(
                where,
                f"{column} record {rid!r} has period {records[rid].period!r}, "
                "not a full fiscal year (YYYY)",
            )
    half = named["revenue_h1"]
    if half and not _HALF.fullmatch(records[half].period):
        fail(
            where,
            f"revenue_h1 record {half!r} has period {records[half].period!r}, "
            "not a half year (YYYYH1 or YYYYH2)",
        )
    fy, forward = named["revenue_fy"], named["revenue_forward"]
    if forward and fy and records[forward].period <= records[fy].period:
        fail(
            where,
            f"revenue_forward record {forward!r} is for {records[forward].period}, "
            f"not a later fiscal year than revenue_fy ({records[fy].period})",
        )
