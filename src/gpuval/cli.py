"""The ``gpuval`` command.

Every failure caused by input prints one sentence (``gpuval: error: ...``) and exits with status 1;
an unexpected internal error prints one sentence too (set ``GPUVAL_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from gpuval import __version__
from gpuval.dataset import COLUMNS, Dataset, format_value, load_dataset
from gpuval.errors import GpuvalError
from gpuval.fx import FxRates
from gpuval.quality import check_relations

FORMATS = click.Choice(["table", "json", "csv"])
_dataset_option = click.option(
    "--dataset",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dataset file (TOML or JSON) instead of the embedded default.",
)
_seeds_option = click.option(
    "--seeds",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of seed articles to check quotes against "
    "(default: $GPUVAL_SEEDS, or shared/seeds beside a source checkout).",
)


def _load(dataset: Path | None, seeds: Path | None) -> Dataset:
    return load_dataset(dataset, seeds=seeds)


def _json_number(value: Any) -> Any:
    """Whole floats as integers (1240000000, not 1240000000.0); NaN as null."""
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def _emit(rows: list[dict[str, Any]], fmt: str, columns: Sequence[str]) -> None:
    if fmt == "json":
        clean = [{k: _json_number(row[k]) for k in columns} for row in rows]
        click.echo(json.dumps(clean, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        frame = pd.DataFrame(rows, columns=list(columns))
        click.echo(frame.to_csv(index=False, float_format="%.17g"), nl=False)
    else:
        frame = pd.DataFrame(rows, columns=list(columns))
        if "value" in frame:
            frame["value"] = [format_value(v) if v == v else "" for v in frame["value"]]
        with pd.option_context("display.max_colwidth", 60, "display.width", 250):
            click.echo(frame.to_string(index=False) if rows else "(no records)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gpuval")
def cli() -> None:
    """Valuation toolkit for China's AI-chip IPO wave: sourced data, valuation core, workbook."""


@cli.command()
@click.option("--entity", "-e", multiple=True, help="Only this entity id (repeatable).")
@click.option("--metric", "-m", multiple=True, help="Only this metric (repeatable).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option(
    "--quality",
    is_flag=True,
    help="Instead of the records, check the sources against themselves "
    "(stated returns, CAGRs, P/S, currency conversions, sums).",
)
@_dataset_option
@_seeds_option
def data(
    entity: tuple[str, ...],
    metric: tuple[str, ...],
    fmt: str,
    quality: bool,
    dataset: Path | None,
    seeds: Path | None,
) -> None:
    """Print every dataset record with its source sentence.

    Values are in plain units (1240000000 for 12.4亿); table output leaves out the quote, json and
    csv carry every field: entity, metric, value, unit, period, kind, source, quote, id,
    qualifier, written, how, note, and the entity's names, exchange and ticker.
    """
    ds = _load(dataset, seeds)
    if not ds.seeds_checked:
        click.echo("gpuval: note: seed articles not found; quotes were not verified.", err=True)
    if quality:
        _quality(ds, fmt)
        return
    rows = ds.rows(entity, metric)
    columns = (
        COLUMNS
        if fmt != "table"
        else ("id", "value", "unit", "period", "kind", "qualifier", "source")
    )
    _emit(rows, fmt, columns)


def _quality(ds: Dataset, fmt: str) -> None:
    checks = check_relations(ds)
    rows = [
        {
            "status": "ok" if c.consistent else "INCONSISTENT",
            "relation": c.kind,
            "stated": c.stated.id,
            "stated_value": c.stated.value,
            "inputs": ", ".join(r.id for r in c.inputs),
            "computed_value": c.computed,
            "gap": c.gap,
            "relative_gap": c.relative_gap,
            "finding": c.describe(),
        }
        for c in checks
    ]
    if fmt == "table":
        for row in rows:
            click.echo(row["finding"])
        bad = sum(not c.consistent for c in checks)
        click.echo(f"{bad} inconsistent of {len(checks)} checks.")
    else:
        _emit(rows, fmt, list(rows[0]) if rows else ["status"])


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@_dataset_option
@_seeds_option
def entities(fmt: str, dataset: Path | None, seeds: Path | None) -> None:
    """List the entities: stable id, English and Chinese names, venue, exchange, ticker."""
    ds = _load(dataset, seeds)
    rows = [e.model_dump() for e in ds.entities.values()]
    _emit(rows, fmt, list(rows[0]))


@cli.command()
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="'USD per HKD=0.1282'",
    help="Override a rate (repeatable): units of the first currency per one of the second.",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@_dataset_option
@_seeds_option
def fx(overrides: tuple[str, ...], fmt: str, dataset: Path | None, seeds: Path | None) -> None:
    """Show the exchange rates (article-implied defaults, or your overrides) and their sources."""
    rates = FxRates.from_dataset(_load(dataset, seeds))
    for spec in overrides:
        rates = rates.with_override(spec)
    _emit(rates.table(), fmt, ["unit", "rate", "label"])


@cli.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("workbook") / "gpu_valuation.xlsx",
    show_default=True,
    help="Where to write the workbook (replaced only by a complete new file).",
)
@click.option("--target", default="biren", show_default=True, help="Company to value (an id).")
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="House-style template (.xlsx) instead of templates/gpuval_template.xlsx.",
)
@_dataset_option
@_seeds_option
def build(
    out: Path, target: str, template: Path | None, dataset: Path | None, seeds: Path | None
) -> None:
    """Build the valuation workbook from the dataset and the house-style template."""
    from gpuval.build import build as build_file

    click.echo(f"gpuval: building the workbook for {target}...", err=True)
    path = build_file(out, target=target, template=template, dataset_path=dataset, seeds=seeds)
    click.echo(f"gpuval: wrote {path}", err=True)


@cli.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True)  # fmt: skip
def evaluate(workbook: Path, fmt: str) -> None:
    """Read the workbook's in_ cells, run the Python core and print every out_ value."""
    from gpuval.evaluate import evaluate as evaluate_file

    result = evaluate_file(workbook)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        for name, value in result.items():
            click.echo(f"{name:36} {'n/a' if value is None else f'{value:,.6g}'}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turning every error into one sentence and a non-zero status."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except GpuvalError as exc:
        click.echo(f"gpuval: error: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("gpuval: aborted.", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"gpuval: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never show an analyst a traceback
        if os.environ.get("GPUVAL_DEBUG"):
            raise
        click.echo(
            f"gpuval: internal error: {type(exc).__name__}: {exc} "
            "(set GPUVAL_DEBUG=1 for details and please report it).",
            err=True,
        )
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
