"""The ``gpuval`` command.

Every failure caused by input prints one sentence (``gpuval: error: ...``) and exits with status 1;
an unexpected internal error prints one sentence too (set ``GPUVAL_DEBUG=1`` for the traceback).

Each command imports what it uses, inside the command: ``--version``, ``--help``, ``data`` and
``entities`` load neither pandas, pydantic nor openpyxl (``data`` and ``entities`` print the
embedded dataset from its validated snapshot, :mod:`gpuval.embedded`, when nothing it was made
from has changed). ``tests/test_cli.py`` checks which modules a fresh interpreter loads.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gpuval.errors import GpuvalError

if TYPE_CHECKING:
    from gpuval.data.dataset import Dataset
    from gpuval.embedded import Snapshot

FORMATS = click.Choice(["table", "json", "csv"])
FILE = click.Path(dir_okay=False, path_type=Path)
FOLDER = click.Path(file_okay=False, path_type=Path)
_workbook_argument = click.argument("workbook", type=FILE)
_format_option = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
_dataset_option = click.option(
    "--dataset",
    type=FILE,
    help="Dataset file (TOML or JSON) instead of the embedded default.",
)
_seeds_option = click.option(
    "--seeds",
    type=FOLDER,
    help="Folder of seed articles to check quotes against "
    "(default: $GPUVAL_SEEDS, or shared/seeds beside a source checkout).",
)


def _load(dataset: Path | None, seeds: Path | None) -> Dataset:
    """The dataset, validated (pydantic, the schema, the seed quotes)."""
    from gpuval.data.dataset import load_dataset

    return load_dataset(dataset, seeds=seeds)


def _snapshot(dataset: Path | None, seeds: Path | None) -> Snapshot | None:
    """The embedded dataset from its validated snapshot, when that applies.

    ``None`` when a dataset or seed folder is given, or when anything the snapshot was made from
    has changed: the caller then validates.
    """
    if dataset is not None or seeds is not None:
        return None
    from gpuval.embedded import quick_dataset

    return quick_dataset()


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the installed distribution's version (read only when asked for)."""
    if not value or ctx.resilient_parsing:
        return
    import gpuval

    click.echo(f"gpuval, version {gpuval.__version__}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Valuation toolkit for China's AI-chip IPO wave: sourced data, valuation core, workbook."""


@cli.command()
@click.option("--entity", "-e", multiple=True, help="Only this entity id (repeatable).")
@click.option("--metric", "-m", multiple=True, help="Only this metric (repeatable).")
@_format_option
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
    from gpuval.data.dataset import COLUMNS
    from gpuval.pipeline.report import quality_text, rows_text

    snap = None if quality else _snapshot(dataset, seeds)
    if snap is None:
        ds = _load(dataset, seeds)
        _note_seeds(ds.seeds_checked)
        if quality:
            from gpuval.data.quality import check_relations

            _echo(quality_text(check_relations(ds), fmt))
            return
        rows = ds.rows(entity, metric)
    else:
        _note_seeds(snap.seeds_checked)
        rows = snap.select(entity, metric)
    columns = (
        COLUMNS
        if fmt != "table"
        else ("id", "value", "unit", "period", "kind", "qualifier", "source")
    )
    _echo(rows_text(rows, fmt, columns))


def _echo(text: str, *, err: bool = False) -> None:
    """Print text made by :mod:`gpuval.pipeline.report` (it brings its own newlines)."""
    click.echo(text, nl=False, err=err)


def _note_seeds(checked: bool) -> None:
    if not checked:
        click.echo("gpuval: note: seed articles not found; quotes were not verified.", err=True)


@cli.command()
@_format_option
@_dataset_option
@_seeds_option
def entities(fmt: str, dataset: Path | None, seeds: Path | None) -> None:
    """List the entities: stable id, English and Chinese names, venue, exchange, ticker."""
    from gpuval.pipeline.report import rows_text

    snap = _snapshot(dataset, seeds)
    if snap is not None:
        rows = snap.entities
    else:
        rows = [e.model_dump() for e in _load(dataset, seeds).entities.values()]
    _echo(rows_text(rows, fmt, list(rows[0])))


@cli.command()
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="'USD per HKD=0.1282'",
    help="Override a rate (repeatable): units of the first currency per one of the second.",
)
@_format_option
@_dataset_option
@_seeds_option
def fx(overrides: tuple[str, ...], fmt: str, dataset: Path | None, seeds: Path | None) -> None:
    """Show the exchange rates (article-implied defaults, or your overrides) and their sources."""
    from gpuval.data.fx import FxRates
    from gpuval.pipeline.report import rows_text

    rates = FxRates.from_dataset(_load(dataset, seeds))
    for spec in overrides:
        rates = rates.with_override(spec)
    _echo(rows_text(rates.table(), fmt, ["unit", "rate", "label"]))


@cli.command()
@click.option(
    "--out",
    type=FILE,
    default=None,
    help="Where to write the workbook (replaced only by a complete new file); default "
    "workbook/gpu_valuation.xlsx, or workbook/gpu_valuation_udf.xlsx with --udf.",
)
@click.option("--target", default=None,
              help="Company to value (an id or a ticker); default biren, or with --from that "
              "workbook's target.")  # fmt: skip
@click.option(
    "--from",
    "carry_from",
    type=FILE,
    help="A workbook (of an earlier gpuval, say) whose target, inputs, assumptions, peer table "
    "and stored prices the new build carries over; it is left as it is.",
)
@click.option(
    "--template",
    type=FILE,
    help="House-style template (.xlsx) instead of templates/gpuval_template.xlsx.",
)
@click.option(
    "--udf",
    is_flag=True,
    help="Build the working copy for Excel with the xlwings add-in: an xlwings.conf sheet and "
    "a sheet comparing each GPUVAL_ function with the native formula.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace --out even if it holds an analyst's work (sheets, notes, a refresh).",
)
@_dataset_option
@_seeds_option
def build(
    out: Path | None,
    target: str | None,
    carry_from: Path | None,
    template: Path | None,
    udf: bool,
    force: bool,
    dataset: Path | None,
    seeds: Path | None,
) -> None:
    """Build the valuation workbook from the dataset and the house-style template."""
    from gpuval.workbook.build import build_from

    name = "gpu_valuation_udf.xlsx" if udf else "gpu_valuation.xlsx"
    out = out or Path("workbook") / name
    path, said = build_from(
        carry_from, out, target=target, template=template, dataset_path=dataset, seeds=seeds,
        udf=udf, force=force,
    )  # fmt: skip
    click.echo(f"gpuval: wrote {path}", err=True)
    for line in said:
        click.echo(f"gpuval: {line}", err=True)


@cli.command()
@_workbook_argument
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True)  # fmt: skip
def evaluate(workbook: Path, fmt: str) -> None:
    """Read the workbook's in_ cells, run the Python core and print every out_ value."""
    from gpuval.pipeline.report import evaluate_text
    from gpuval.workbook.evaluate import evaluate as evaluate_file
    from gpuval.workbook.evaluate import open_workbook, output_units

    wb = open_workbook(workbook)
    _echo(evaluate_text(evaluate_file(workbook, wb), fmt, output_units(workbook, wb)))


def _progress(quiet: bool, total: int) -> Any:
    """A step counter on stderr ("[2/5] checking ..."), silent with --quiet."""
    step = 0

    def report(message: str) -> None:
        nonlocal step
        step += 1
        if not quiet:
            click.echo(f"[{min(step, total)}/{total}] {message}", err=True)

    return report


_quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
_age_option = click.option(
    "--max-age-days", type=click.IntRange(min=0), default=30, show_default=True,
    help="Oldest acceptable market data, in days.",
)  # fmt: skip
_today_option = click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="Date to measure data age from (default: today).",
)  # fmt: skip


@cli.command()
@_workbook_argument
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)  # fmt: skip
@_age_option
@_today_option
def check(workbook: Path, fmt: str, max_age_days: int, today: Any) -> None:
    """Recalculate in LibreOffice and audit: error values, overwritten formulas, out_ vs the
    core, the master check, input bounds, data age. Exit status 0 only if every check passes."""
    from gpuval.pipeline.check import check_workbook
    from gpuval.pipeline.report import check_text

    report = check_workbook(
        workbook, max_age_days=max_age_days, today=today.date() if today else None
    )
    _echo(check_text(report, fmt))
    if not report.passed:
        raise SystemExit(1)


@cli.command()
@_workbook_argument
@click.option(
    "--prices",
    type=FILE,
    help="CSV of prices: entity (id or ticker), date, price, currency[, shares].",
)
@_dataset_option
@click.option(
    "--reset-inputs",
    is_flag=True,
    help="Also put every in_ input back to its default (the target is kept).",
)
@click.option(
    "--reset-prices",
    is_flag=True,
    help="Drop the prices applied by earlier refreshes and return to the dataset's.",
)
@click.option(
    "--no-recalc",
    is_flag=True,
    help="Skip the LibreOffice recalculation (faster): formula cells are then saved without "
    "computed values until the file is opened and saved in Excel or LibreOffice.",
)
@_quiet_option
def refresh(
    workbook: Path,
    prices: Path | None,
    dataset: Path | None,
    reset_inputs: bool,
    reset_prices: bool,
    no_recalc: bool,
    quiet: bool,
) -> None:
    """Update the workbook's data (dataset, prices) and keep the analyst's work; every formula
    cell gets its computed value from LibreOffice when it is installed. A timestamped backup is
    kept and the file is replaced only by a complete new one."""  # fmt: skip
    from gpuval.pipeline.recalc import find_soffice
    from gpuval.pipeline.refresh import refresh as refresh_file

    # read, update, Monte Carlo, save; the prices and LibreOffice's recalculation when there
    steps = 4 + (prices is not None) + (not no_recalc and find_soffice() is not None)
    report = refresh_file(
        workbook, prices=prices, dataset_path=dataset, reset_inputs=reset_inputs,
        reset_prices=reset_prices, progress=_progress(quiet, steps), recalc=not no_recalc,
    )  # fmt: skip
    click.echo("\n".join(report.lines()))


@cli.command()
@_workbook_argument
@click.option("--out-dir", type=FOLDER,
              default=Path("dist"), show_default=True)  # fmt: skip
@click.option("--pdf", is_flag=True, help="Also write a PDF of every sheet.")
@click.option("--force", is_flag=True, help="Publish even if a check fails (stamped UNCHECKED).")
@_age_option
@_today_option
@_quiet_option
def publish(
    workbook: Path,
    out_dir: Path,
    pdf: bool,
    force: bool,
    max_age_days: int,
    today: Any,
    quiet: bool,
) -> None:
    """Check, then write <out-dir>/<name>_<as-of>.xlsx with every formula's value stored, an
    optional PDF and a manifest of SHA-256 hashes."""  # fmt: skip
    from gpuval.pipeline.publish import publish as publish_file
    from gpuval.pipeline.report import publish_text

    report = publish_file(
        workbook, out_dir=out_dir, pdf=pdf, force=force, max_age_days=max_age_days,
        today=today.date() if today else None, progress=_progress(quiet, 5 if pdf else 4),
    )  # fmt: skip
    out, err = publish_text(report)
    _echo(out)
    _echo(err, err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turning every error into one sentence and a non-zero status."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except GpuvalError as exc:
        click.echo(f"gpuval: error: {exc}", err=True)
        return 1
    except OSError as exc:  # a folder that does not exist or may not be written, a full disk
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"gpuval: error: cannot write or read{where}: {exc.strerror or exc}.", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("gpuval: aborted.", err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0)
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
