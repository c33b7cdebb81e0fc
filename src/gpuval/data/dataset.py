"""Load, validate and derive the sourced dataset.

``load_dataset()`` reads the embedded default (``gpuval/data/dataset.toml``) or a file of the same
shape (TOML or JSON), checks every record, computes the derived figures and returns a
:class:`Dataset`. Any problem raises :class:`~gpuval.errors.GpuvalError` with one sentence naming
the file, the record and what is wrong. ``records()`` gives the same records as a DataFrame.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cache, reduce
from operator import mul
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gpuval.data.numbers import Decimal, parse_written, resolution_of
from gpuval.data.peers import Peer, build_peers
from gpuval.errors import GpuvalError

# pandas loads only where a DataFrame is built, pydantic (the schema) only where a file is
# validated: reading this module's records and helpers stays quick (see gpuval.cli).
if TYPE_CHECKING:
    import pandas as pd

    from gpuval.data.schema import DatasetFile, Derived, Entity, Figure, Relation, SourceFile

__all__ = [
    "COLUMNS",
    "OPS",
    "Dataset",
    "Peer",
    "Record",
    "default_dataset_path",
    "default_seeds_dir",
    "format_value",
    "load_dataset",
    "records",
]

#: The keys of every exported record, in order (json/csv/DataFrame columns).
COLUMNS = (
    "entity",
    "metric",
    "value",
    "unit",
    "period",
    "kind",
    "source",
    "quote",
    "id",
    "qualifier",
    "written",
    "how",
    "note",
    "entity_name_en",
    "entity_name_zh",
    "exchange",
    "ticker",
)

APPROXIMATE = "about"
"""The qualifier of a derived figure computed from an approximate one ("about", "nearly")."""
MAX_BYTES = 5_000_000  # a dataset file larger than this is refused before it is parsed

#: Operations a [[derived]] record may use: name -> (function of input values, how to write it).
OPS: dict[str, tuple[Callable[[list[float]], float], Callable[[list[str]], str]]] = {
    "div": (lambda v: reduce(lambda a, b: a / b, v), " / ".join),
    "mul": (lambda v: reduce(mul, v), " * ".join),
    "double": (lambda v: 2 * v[0], lambda n: f"2 * {n[0]}"),
    "grow": (lambda v: v[0] * (1 + v[1]), lambda n: f"{n[0]} * (1 + {n[1]})"),
}

# Metrics that may be negative; every other value must be >= 0.
_SIGNED = re.compile(r"net_income|_return$|_change$|growth|cagr")


@dataclass(frozen=True)
class Record:
    """One figure with its provenance. ``value`` is in plain units (None for dates)."""

    entity: str
    metric: str
    value: float | None
    unit: str
    period: str
    kind: str
    source: str
    quote: str
    id: str
    qualifier: str = ""
    written: str = ""
    how: str = ""
    note: str = ""
    resolution: float = field(default=0.0, compare=False)
    inputs: tuple[str, ...] = field(default=(), compare=False)
    op: str = field(default="", compare=False)
    """For a derived record, the name of its operation in :data:`OPS`."""

    @property
    def number(self) -> float:
        """``value``, for a record that is a number (every one but a date)."""
        if self.value is None:
            raise GpuvalError(f"Record {self.id!r} is a date, which has no value to compute with.")
        return self.value


@dataclass(frozen=True)
class Dataset:
    """The validated dataset: entities, records by id (file order), relations, FX defaults and
    the peer universe (``[[peer]]`` tables, file order)."""

    path: Path
    version: str
    entities: dict[str, Entity]
    records: dict[str, Record]
    relations: tuple[Relation, ...]
    fx_defaults: dict[str, str]
    seeds_checked: bool
    peers: tuple[Peer, ...] = ()
    sources: dict[str, SourceFile] = field(default_factory=dict)
    """Seed file -> how it is cited (``[[source]]`` tables)."""

    def __getitem__(self, record_id: str) -> Record:
        return self.records[record_id]

    def select(self, entity: Iterable[str] = (), metric: Iterable[str] = ()) -> list[Record]:
        """Records of the given entities and metrics (all when a filter is empty)."""
        entities, metrics = set(entity), set(metric)
        for name in entities - self.entities.keys():
            raise GpuvalError(
                f"Unknown entity {name!r}; known entities: {', '.join(self.entities)}."
            )
        return [
            r
            for r in self.records.values()
            if (not entities or r.entity in entities) and (not metrics or r.metric in metrics)
        ]

    def rows(self, entity: Iterable[str] = (), metric: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The selected records as dicts with :data:`COLUMNS`, entity names and listing included."""
        rows = []
        for rec in self.select(entity, metric):
            ent = self.entities[rec.entity]
            row = asdict(rec) | {
                "entity_name_en": ent.name_en,
                "entity_name_zh": ent.name_zh,
                "exchange": ent.exchange,
                "ticker": ent.ticker,
            }
            rows.append({key: row[key] for key in COLUMNS})
        return rows

    def frame(self, entity: Iterable[str] = (), metric: Iterable[str] = ()) -> pd.DataFrame:
        """The selected records as a DataFrame with :data:`COLUMNS`."""
        import pandas as pd

        rows = self.rows(entity, metric)
        return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"value": "float64"})


def default_dataset_path() -> Path:
    """The embedded dataset shipped with the package."""
    from importlib import resources

    return Path(str(resources.files("gpuval") / "data" / "dataset.toml"))


def default_seeds_dir() -> Path | None:
    """``$GPUVAL_SEEDS``, else ``shared/seeds`` beside a source checkout, else None."""
    env = os.environ.get("GPUVAL_SEEDS")
    if env:
        return Path(env)
    beside_checkout = Path(__file__).resolve().parents[4] / "shared" / "seeds"
    return beside_checkout if beside_checkout.is_dir() else None


def format_value(value: float | None) -> str:
    """Plain digits with thousands separators: 1.027e11 -> "102,700,000,000", 0.1286 -> "0.1286"."""
    if value is None:
        return ""
    if value.is_integer() and abs(value) < 1e16:
        return f"{value:,.0f}"
    return f"{value:,.10g}"


def _normalise(text: str) -> str:
    """Collapse runs of white space so a sentence wrapped across lines still matches."""
    return " ".join(text.split())


def _read(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise GpuvalError(f"Cannot read dataset {path}: {exc.strerror or exc}.") from None
    if size > MAX_BYTES:
        raise GpuvalError(
            f"Dataset {path} is {size:,} bytes, over the {MAX_BYTES:,}-byte limit; "
            "refusing to read it."
        )
    try:
        raw = path.read_bytes().decode("utf-8-sig")  # Windows editors may start with a BOM
    except UnicodeDecodeError as exc:
        raise GpuvalError(f"Dataset {path} is not UTF-8 text (byte {exc.start}).") from None
    fmt = "JSON" if path.suffix.lower() == ".json" else "TOML"
    if path.suffix.lower() in (".yaml", ".yml"):
        raise GpuvalError(
            f"Dataset {path} is a YAML file; gpuval reads datasets in TOML (.toml) or JSON (.json)."
        )
    try:
        data = json.loads(raw) if fmt == "JSON" else tomllib.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise GpuvalError(f"Dataset {path} is not valid {fmt}: {exc}.") from None
    except RecursionError:
        raise GpuvalError(
            f"Dataset {path} is nested too deeply to be a gpuval dataset; refusing to read it."
        ) from None
    except Exception as exc:  # e.g. an integer with more digits than Python converts
        detail = " ".join(str(exc).split()).split(";")[0][:200] or type(exc).__name__
        raise GpuvalError(f"Dataset {path} cannot be read as {fmt}: {detail}.") from None
    if not isinstance(data, dict):
        raise GpuvalError(f"Dataset {path} must hold a table of tables at the top level.")
    return data


class _Checker:
    """Whole-file checks; ``fail`` raises the one-sentence error for the first problem found."""

    def __init__(self, path: Path, seeds: Path | None) -> None:
        self.path = path
        self.seeds = seeds
        self._seed_text: dict[str, str] = {}

    def fail(self, where: str, problem: str) -> NoReturn:
        raise GpuvalError(f"{self.path.name}: {where}: {problem}.")

    def seed_text(self, source: str, where: str) -> str | None:
        if self.seeds is None:
            return None
        if source not in self._seed_text:
            file = self.seeds / source
            if Path(source).name != source or not file.is_file():
                self.fail(where, f"cites seed file {source!r}, which is not in {self.seeds}")
            self._seed_text[source] = _normalise(file.read_text(encoding="utf-8"))
        return self._seed_text[source]

    def value(self, fig: Figure, where: str) -> tuple[float | None, float]:
        """The figure's value in plain units and its resolution."""
        parsed = parse_written(fig.written)
        if fig.unit == "date":
            if fig.value is not None:
                self.fail(where, "a date carries no value; put the date in 'period'")
            if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", fig.period):
                self.fail(where, f"a date needs a YYYY-MM-DD period, got {fig.period!r}")
            return None, 0.0
        if fig.value is None:
            if parsed is None:
                self.fail(
                    where,
                    f"written figure {fig.written!r} is not a plain number, "
                    "so 'value' must be given",
                )
            return parsed.value, parsed.resolution
        if not math.isfinite(fig.value):
            self.fail(where, f"value must be a finite number, got {fig.value!r}")
        if parsed is not None and not math.isclose(parsed.value, fig.value, rel_tol=1e-12):
            self.fail(
                where,
                f"value {fig.value!r} does not match the written figure {fig.written!r} "
                f"({parsed.value!r})",
            )
        if parsed is not None:
            return fig.value, parsed.resolution
        # An explicit value is read like a whole number: 4.0 is known to the unit, 1e10 to 1e10.
        return fig.value, resolution_of(Decimal(repr(fig.value)).normalize())

    def bounds(self, rec: Record, where: str) -> None:
        """Reject values no source could state: negative sizes, shares outside 0..1."""
        from gpuval.data.schema import fx_pair

        if rec.value is None:
            return
        if not math.isfinite(rec.value):
            self.fail(where, f"value is not a finite number ({rec.value!r})")
        if rec.value < 0 and not _SIGNED.search(rec.metric):
            self.fail(where, f"{rec.metric} cannot be negative, got {rec.value:g}")
        if rec.unit == "fraction" and "share" in rec.metric and not 0 <= rec.value <= 1:
            self.fail(where, f"{rec.metric} is a share and must lie in 0..1, got {rec.value:g}")
        if fx_pair(rec.unit) and rec.value <= 0:
            self.fail(where, f"an exchange rate must be positive, got {rec.value:g}")


def _figures(model: DatasetFile, check: _Checker) -> Iterable[Record]:
    for sentence in model.sentence:
        text = check.seed_text(sentence.source, f"sentence citing {sentence.source!r}")
        if text is not None and _normalise(sentence.text) not in text:
            check.fail(
                f"sentence {_normalise(sentence.text)[:40]!r}...",
                f"this quote is not found verbatim in seed file {sentence.source!r}",
            )
        for fig in sentence.figure:
            where = f"record {fig.id!r}"
            if fig.written not in sentence.text:
                check.fail(where, f"written figure {fig.written!r} does not occur in its sentence")
            value, resolution = check.value(fig, where)
            yield Record(
                **_identity(fig),
                value=value,
                kind=fig.kind,
                source=sentence.source,
                quote=_normalise(sentence.text),
                qualifier=fig.qualifier,
                written=fig.written,
                resolution=resolution,
            )


def _identity(item: Figure | Derived) -> dict[str, Any]:
    """What a record takes unchanged from its dataset entry: id, entity, metric, unit, period
    and note."""
    return {k: getattr(item, k) for k in ("id", "entity", "metric", "unit", "period", "note")}


def _derive(item: Derived, records: dict[str, Record], check: _Checker) -> Record:
    where = f"derived record {item.id!r}"
    inputs = []
    for name in item.inputs:
        if name not in records:
            check.fail(where, f"input {name!r} is not a record defined above it")
        inputs.append(records[name])
    if any(r.value is None for r in inputs):
        check.fail(where, "an input is a date, which has no value to compute with")
    function, spell = OPS[item.op]
    if (item.op in ("double",) and len(inputs) != 1) or (item.op == "grow" and len(inputs) != 2):
        check.fail(where, f"operation {item.op!r} takes {1 if item.op == 'double' else 2} inputs")
    try:
        value = function([r.number for r in inputs])
    except ZeroDivisionError:
        check.fail(where, "an input it divides by is zero")
    sources = sorted({s for r in inputs for s in r.source.split("; ")})
    shown = spell([f"{r.id} ({format_value(r.value)} {r.unit})" for r in inputs])
    return Record(
        **_identity(item),
        value=value,
        kind="derived",
        qualifier=APPROXIMATE
        if any(r.qualifier in (APPROXIMATE, "nearly") for r in inputs)
        else "",
        source="; ".join(sources),
        quote=f"derived: {shown}",
        how=spell(list(item.inputs)),
        inputs=tuple(item.inputs),
        op=item.op,
    )


def load_dataset(path: str | Path | None = None, *, seeds: str | Path | None = None) -> Dataset:
    """Load and validate a dataset (default: the embedded one).

    Quotes are checked against the seed articles in ``seeds`` (default
    :func:`default_seeds_dir`); when no seed directory is available that check is skipped and
    ``Dataset.seeds_checked`` is False.
    """
    from pydantic import ValidationError

    from gpuval.data.schema import DatasetFile, describe_error, fx_pair

    file = Path(path) if path is not None else default_dataset_path()
    seeds_dir = Path(seeds) if seeds is not None else default_seeds_dir()
    if seeds is not None and seeds_dir is not None and not seeds_dir.is_dir():
        raise GpuvalError(f"Seed directory {seeds_dir} does not exist.")
    raw = _read(file)
    try:
        model = DatasetFile.model_validate(raw)
    except ValidationError as exc:
        raise GpuvalError(f"{file.name}: {describe_error(exc, raw)}.") from None
    check = _Checker(file, seeds_dir)

    entities: dict[str, Entity] = {}
    for ent in model.entity:
        if ent.id in entities:
            check.fail(f"entity {ent.id!r}", "this entity id is defined twice")
        entities[ent.id] = ent

    records: dict[str, Record] = {}
    for rec in _figures(model, check):
        if rec.id in records:
            check.fail(f"record {rec.id!r}", "this record id is used twice")
        records[rec.id] = rec
    for item in model.derived:  # in file order: each may use any record above it
        if item.id in records:
            check.fail(f"derived record {item.id!r}", "this record id is used twice")
        records[item.id] = _derive(item, records, check)

    seen: dict[tuple[str, ...], str] = {}
    for rec in records.values():
        where = f"record {rec.id!r}"
        if rec.entity not in entities:
            check.fail(where, f"entity {rec.entity!r} is not defined in an [[entity]] table")
        key = (rec.entity, rec.metric, rec.period, rec.kind, rec.unit, rec.source)
        if key in seen:
            check.fail(
                where,
                f"duplicate of record {seen[key]!r} (same entity, metric, period, kind, unit "
                "and source)",
            )
        seen[key] = rec.id
        check.bounds(rec, where)

    for rel in model.relation:
        for name in (rel.stated, *rel.inputs):
            if name not in records:
                check.fail(f"relation on {rel.stated!r}", f"record {name!r} does not exist")
            if records[name].value is None:
                check.fail(f"relation on {rel.stated!r}", f"record {name!r} is a date")
    for unit, name in model.fx.items():
        if name not in records:
            check.fail(f"[fx] {unit!r}", f"record {name!r} does not exist")
        if fx_pair(unit) is None or records[name].unit != unit:
            check.fail(f"[fx] {unit!r}", f"record {name!r} has unit {records[name].unit!r}")
    peers = build_peers(model.peer, entities, records, check.fail)
    sources = _sources(model.source, check)

    return Dataset(
        path=file,
        version=model.meta.version,
        entities=entities,
        records=records,
        relations=tuple(model.relation),
        fx_defaults=dict(model.fx),
        seeds_checked=seeds_dir is not None,
        peers=peers,
        sources=sources,
    )


def _sources(tables: list[SourceFile], check: _Checker) -> dict[str, SourceFile]:
    """The ``[[source]]`` tables by file, each title and date found verbatim in its file (when
    the seeds are at hand); a seed file without one is cited by its name alone."""
    sources: dict[str, SourceFile] = {}
    for src in tables:
        where = f"[[source]] {src.file!r}"
        if src.file in sources:
            check.fail(where, "this seed file has two [[source]] tables")
        text = check.seed_text(src.file, where)
        for key in ("title", "date"):
            stated = _normalise(getattr(src, key))
            if text is not None and stated and stated not in text:
                check.fail(where, f"its {key} is not found verbatim in the seed file")
        sources[src.file] = src
    return sources


@cache
def _default() -> Dataset:
    return load_dataset()


def records(entity: str | Iterable[str] = (), path: str | Path | None = None) -> pd.DataFrame:
    """Every dataset record as a pandas DataFrame, one row per figure.

    Columns: entity, metric, value (plain units, e.g. 1.24e9 for 12.4亿), unit (CNY, HKD, USD,
    fraction, ...), period, kind (reported, estimate, guidance_low, guidance_high,
    guidance_mid, range_low, range_high, derived, assumption, quip), source (seed file), quote
    (the verbatim sentence, or how a derived figure is computed), id, qualifier (about, nearly,
    over, up_to), written, how, note.

    >>> df = records("biren")
    >>> float(df.set_index("id").loc["biren.revenue.2024", "value"])
    337000000.0
    """
    dataset = load_dataset(path) if path is not None else _default()
    return dataset.frame([entity] if isinstance(entity, str) else entity)
