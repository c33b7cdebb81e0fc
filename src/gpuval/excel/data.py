"""The sourced dataset as ``GPUVAL_`` functions: figures, citations, FX rates, versions.

The dataset is loaded on the first lookup (not on import), once per process, and every lookup
is cached. Records that agree (same value, unit and period: two articles stating one figure)
are one answer; only records that disagree need a selector, and the message shows their values.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpuval.excel.args import UdfError
from gpuval.excel.declare import Param, udf
from gpuval.excel.results import result
from gpuval.excel.text import close, names, number_text

if TYPE_CHECKING:
    from gpuval.data.dataset import Dataset, Record
    from gpuval.data.fx import FxRates

FIELDS = (
    "value", "unit", "period", "kind", "source", "quote", "id", "qualifier", "written", "how",
    "note",
)  # fmt: skip
"""Record fields GPUVAL_DATA can return (the compared fields of ``Record`` but entity and
metric; a test keeps the two lists equal, so importing the functions need not load the
dataset module)."""


@dataclass(frozen=True)
class _Catalogue:
    dataset: Dataset
    entities: dict[str, str]  # casefolded id, names and ticker -> entity id
    records: dict[tuple[str, str], tuple[Record, ...]]  # (entity, casefolded metric)
    metrics: dict[str, tuple[str, ...]]  # entity -> its metrics
    by_id: dict[str, Record]  # casefolded record id -> record


@functools.cache
def _catalogue() -> _Catalogue:
    """The embedded dataset, loaded once per process, indexed for lookups."""
    from gpuval.data.dataset import load_dataset

    ds = load_dataset()
    entities: dict[str, str] = {}
    for ent in ds.entities.values():
        for key in (ent.id, ent.name_en, ent.name_zh, ent.ticker):
            if key:
                entities.setdefault(key.strip().casefold(), ent.id)
    records: dict[tuple[str, str], list[Record]] = {}
    metrics: dict[str, list[str]] = {}
    for rec in ds.records.values():
        records.setdefault((rec.entity, rec.metric.casefold()), []).append(rec)
        if rec.metric not in metrics.setdefault(rec.entity, []):
            metrics[rec.entity].append(rec.metric)
    return _Catalogue(
        dataset=ds,
        entities=entities,
        records={k: tuple(v) for k, v in records.items()},
        metrics={k: tuple(v) for k, v in metrics.items()},
        by_id={rec.id.casefold(): rec for rec in ds.records.values()},
    )


def _figure(rec: Record) -> str:
    """``337,000,000 CNY`` or ``2026-01-02``: what a record states."""
    if rec.value is None:
        return rec.period
    return f"{number_text(rec.value)} {rec.unit}".strip()


def _choices(records: tuple[Record, ...]) -> str:
    return "; ".join(
        f"{r.id} ({', '.join(x for x in (r.period, r.kind) if x)}: {_figure(r)})" for r in records
    )


@functools.lru_cache(maxsize=4096)
def _find(entity: str, metric: str | None, selector: str | None) -> tuple[Record, ...] | str:
    """The records the arguments name, all agreeing, or the sentence saying why not (cached)."""
    cat = _catalogue()
    if metric is None:
        rec = cat.by_id.get(entity.casefold())
        if rec is not None:
            return (rec,)
        if entity.casefold() not in cat.entities:
            return f"{entity!r} is neither an entity nor a record id{close(entity, cat.by_id)}."
        return f"metric is required for entity {entity!r}; or give a record id instead."
    ent = cat.entities.get(entity.casefold())
    if ent is None:
        return (
            f"unknown entity {entity!r}{close(entity.casefold(), cat.entities)}; "
            f"entities: {names(cat.dataset.entities)}."
        )
    matches = cat.records.get((ent, metric.casefold()))
    if not matches:
        known = cat.metrics.get(ent, ())
        return f"{ent} has no metric {metric!r}{close(metric, known)}; its metrics: {names(known)}."
    metric = matches[0].metric
    if selector is not None:
        key = selector.casefold()
        chosen = [r for r in matches if key in (r.id.casefold(), r.period.casefold(), r.kind)]
        if not chosen:
            return (
                f"no {ent} {metric} record matches selector {selector!r}; choose from "
                f"{_choices(matches)}."
            )
        matches = tuple(chosen)
    if len({(r.value, r.unit, r.period) for r in matches}) > 1:
        return (
            f"{ent} {metric} has {len(matches)} records that differ; give one as the selector: "
            f"{_choices(matches)}."
        )
    return matches


def _records(entity: str, metric: str | None, selector: str | None) -> tuple[Record, ...]:
    found = _find(entity, metric, selector)
    if isinstance(found, str):
        raise UdfError(found)
    return found


def _data(entity: str, metric: str | None, field: str, selector: str | None) -> Any:
    rec = _records(entity, metric, selector)[0]  # agreeing records share value, unit, period
    if field != "value":
        return getattr(rec, field)
    if rec.value is not None:
        return rec.value
    try:
        return dt.date.fromisoformat(rec.period)
    except ValueError:
        return rec.period


_ENTITY = Param(
    "entity",
    "text",
    'Entity id, English or Chinese name or ticker, e.g. "biren"; '
    "or a record id when metric is blank.",
)
_METRIC = Param(
    "metric",
    "text",
    'Metric, e.g. "revenue", "order_backlog", "market_cap"; blank when entity is a record id.',
    None,
)
_SELECTOR = Param(
    "selector",
    "text",
    "When records disagree: a record id, period (2024) or kind (reported, estimate, range_low...).",
    None,
)

GPUVAL_DATA = udf(
    "GPUVAL_DATA",
    "A figure from gpuval's sourced dataset, in plain units (1.24e9, not 12.4亿); dates as "
    'dates. Example: =GPUVAL_DATA("biren", "revenue", , "biren.revenue.2024") returns '
    "337,000,000.",
    [
        _ENTITY,
        _METRIC,
        Param(
            "field",
            "choice",
            "value, unit, period, kind, source, quote, id, qualifier, written, how or note.",
            "value",
            blank="value",
            options=FIELDS,
        ),
        _SELECTOR,
    ],
    body=_data,
    summary="a dataset figure in plain units (or its unit, period, kind, source, quote, id, ...)",
    example='`=GPUVAL_DATA("cambricon", "revenue")` -> 2,880,000,000',
)


def _source(entity: str, metric: str | None, selector: str | None) -> str:
    cites = []
    for rec in _records(entity, metric, selector):
        facts = ", ".join(x for x in (rec.kind, rec.period) if x)
        cites.append(f"{rec.quote} [{rec.source}; record {rec.id}, {facts}]")
    return " | ".join(cites)


GPUVAL_SOURCE = udf(
    "GPUVAL_SOURCE",
    "The citation of a dataset figure: the quoted sentence, its source file and the record (each "
    'of them when articles agree). Example: =GPUVAL_SOURCE("biren", "order_backlog").',
    [_ENTITY, _METRIC, _SELECTOR],
    body=_source,
    summary="the quoted sentence, source file and record (all that agree, joined by \\|)",
    example='`=GPUVAL_SOURCE("biren.order_backlog")`',
)


@functools.cache
def _fx() -> FxRates:
    """The dataset's default exchange rates, built once per process."""
    from gpuval.data.fx import FxRates

    return FxRates.from_dataset(_catalogue().dataset)


def _rate(from_currency: str, to_currency: str) -> Any:
    return result(_fx().rate(from_currency.upper(), to_currency.upper()))


GPUVAL_FX = udf(
    "GPUVAL_FX",
    "Exchange rate from the dataset's article-implied defaults: units of to_currency per one "
    'from_currency. Example: =GPUVAL_FX("USD", "CNY") returns 7.',
    [
        Param("from_currency", "text", 'Currency converted from: "CNY", "HKD" or "USD".'),
        Param("to_currency", "text", 'Currency converted to: "CNY", "HKD" or "USD".'),
    ],
    body=_rate,
    summary="units of `to_currency` per one `from_currency`",
    example='`=GPUVAL_FX("USD", "CNY")` -> 7',
)


def _version() -> str:
    from gpuval import __version__

    return f"gpuval {__version__}, dataset {_catalogue().dataset.version}"


GPUVAL_VERSION = udf(
    "GPUVAL_VERSION",
    "The gpuval version and the dataset version the functions use. Example: =GPUVAL_VERSION().",
    [],
    body=_version,
    cache=False,
    summary="the gpuval and dataset versions",
    example="`=GPUVAL_VERSION()` -> `gpuval 0.1.0, dataset 2026.02.05`",
)
