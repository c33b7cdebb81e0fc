"""``gpuval build``: fill the house-style template with the dataset and write the workbook.

The file is written to a temporary name beside the destination and moved into place with
``os.replace``, so an existing workbook is only ever replaced by a complete new one.
"""

from __future__ import annotations

import datetime as dt
import io
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.workbook.defined_name import DefinedName

from gpuval.data.dataset import Dataset, load_dataset
from gpuval.errors import GpuvalError
from gpuval.pipeline.files import replace_atomically
from gpuval.workbook import finish
from gpuval.workbook.model import run_names
from gpuval.workbook.sheets import (
    assumptions,
    checks,
    contents,
    dcf,
    implied,
    inputs,
    montecarlo,
    peers,
    reference,
    scenarios,
    sensitivity,
    valuation,
)
from gpuval.workbook.sheets import udf as udf_sheet
from gpuval.workbook.sheets.base import Book, col, print_setup
from gpuval.workbook.template import COVER_CELLS, STAMP_LABEL, STAMP_NAME, load_template

DEFAULT_OUT = Path("workbook") / "gpu_valuation.xlsx"
ORDER = contents.ORDER
"""Cover, Contents, the valuation sheets, the inputs, Checks, then the appendix."""
MODEL_SHEETS = [
    "Inputs",
    "Assumptions",
    "Valuation",
    "Scenarios",
    "Peers",
    "Peer statistics",
    "DCF",
    "Implied",
    "Sensitivity",
]
FIXED_TIME = dt.datetime(2026, 1, 5)
LAYOUT_NAME = "gpuval_layout"
LAYOUT = "2026-12-02.13"
"""The date of the build's layout (``.2``, ``.3`` for later ones of the same day), in the defined
name :data:`LAYOUT_NAME`: change it whenever a change moves, adds or rewrites model formulas, so
that the formula audit, which compares a workbook with this version's build, names a workbook of
an earlier layout as such instead of reporting its every difference as an analyst's edit."""


def other_layout(wb: Any) -> str | None:
    """How a workbook of another layout than :data:`LAYOUT` was built ("with the layout of
    2026-12-01.5", "before layouts were recorded"); None for a workbook of this layout."""
    defined = wb.defined_names.get(LAYOUT_NAME)
    layout = None if defined is None else str(defined.attr_text).strip('"')
    if layout == LAYOUT:
        return None
    return f"with the layout of {layout}" if layout else "before layouts were recorded"


def build_workbook(
    *,
    target: str = "biren",
    template: Path | None = None,
    dataset: Dataset | None = None,
    peer_rows: list[dict[str, Any]] | None = None,
    figure_lines: int | None = None,
    assumption_ids: list[str] | None = None,
    udf: bool = False,
    finished: bool = True,
) -> Book:
    """Build the workbook in memory and return its build context (``finished=False``: without
    the finishing pass, charts, print set-up and colours, for a reader of its formulas only;
    ``figure_lines``: see :func:`gpuval.workbook.sheets.peers.write`; ``assumption_ids``: the
    Assumptions sheet's companies, by default the peer table's)."""
    ds = dataset or load_dataset()
    wb, style = load_template(template)
    book = Book(wb, style, ds, target)
    rows = peer_rows if peer_rows is not None else peers.peer_rows(ds)
    if len(rows) > peers.SAMPLE_ROWS:
        raise GpuvalError(
            f"The peer table has {len(rows)} companies, over the {peers.SAMPLE_ROWS} a workbook "
            "holds (its sample lists read that many rows); leave some out."
        )
    row_ids = [r["id"] for r in rows]
    with_value = [r["id"] for r in rows if _has_market_value(r)]
    if target not in with_value:
        raise GpuvalError(
            f"Target {target!r} is not a company with a market value in the peer table; "
            f"choose one of: {', '.join(with_value)}."
        )
    assessed = set(assumption_ids or row_ids)  # the companies with a column on Assumptions
    last = peers.FIRST + len(rows) - 1
    ids = f"Peers!$A${peers.FIRST}:$A${last}"
    choices = ",".join(i for i in with_value if i in assessed)  # the Target list
    targets = f'"{choices}"' if len(choices) <= 250 else ids  # Excel caps literal lists
    inputs.write(book, targets)
    assumptions.write(book, assumption_ids or row_ids)
    peers.write(book, rows, figure_lines)
    scenarios.write(book)
    dcf.write(book)
    implied.write(book)
    sensitivity.write(book)
    montecarlo.write(book, run_names(book.values, bounded=False))
    valuation.write(book)
    reference.write_data(book)
    reference.write_sources(book)
    checks.write(book, MODEL_SHEETS)
    if udf:
        udf_sheet.write(book, [r["id"] for r in rows])
    contents.write(book)
    _cover(book)
    if finished:
        finish.polish(book)
    wb._sheets.sort(  # type: ignore[attr-defined]  # openpyxl has no public reorder
        key=lambda ws: ORDER.index(ws.title) if ws.title in ORDER else len(ORDER)
    )
    wb.active = 0
    wb.properties.creator = "gpuval"
    wb.properties.created = FIXED_TIME
    wb.defined_names[LAYOUT_NAME] = DefinedName(LAYOUT_NAME, attr_text=f'"{LAYOUT}"')
    return book


def _has_market_value(row: dict[str, Any]) -> bool:
    number = (int, float)
    return isinstance(row.get("market_value"), number) or (
        isinstance(row.get("price"), number) and isinstance(row.get("shares"), number)
    )


def _cover(book: Book) -> None:
    """The Cover's named cells: the as-of date = the OLDEST date of the market figures the
    valuation uses (MIN of the Peers "Date if used" column; MIN skips the rows left blank), and
    the stamp area ``pub_stamp`` that ``gpuval publish`` alone writes, below everything else."""
    cover = book.wb["Cover"]
    print_setup(cover)
    asof = cover[COVER_CELLS["tpl_asof"]]
    asof.value = peers.AS_OF_XL
    asof.number_format = book.style.fmt("date")
    book.define(
        "data_asof", "Cover", "$" + COVER_CELLS["tpl_asof"][0] + "$" + COVER_CELLS["tpl_asof"][1:]
    )
    formulas = {
        "tpl_target": valuation.TARGET_XL,
        "tpl_check": '=IF(chk_master,"OK: every model check passes","CHECK: see the Checks sheet")',
        "tpl_dataset": f"gpuval dataset {book.dataset.version}",
    }
    for name, formula in formulas.items():
        cover[COVER_CELLS[name]].value = formula
    _cover_headline(book)
    label_col = cover[COVER_CELLS["tpl_asof"]].column - 1
    row = cover.max_row + 2
    label = cover.cell(row, label_col, STAMP_LABEL)
    stamp = cover.cell(row, label_col + 1, "not published (gpuval publish writes its stamp here)")
    label.style = cover[COVER_CELLS["tpl_dataset"]].offset(0, -1).style
    stamp.style = cover[COVER_CELLS["tpl_dataset"]].style
    book.define(STAMP_NAME, "Cover", f"${col(stamp.column)}${row}")


def _cover_headline(book: Book) -> None:
    """The Valuation headline beside the Cover's facts, as links to the Valuation cells: the
    label with its unit (``Share price (HKD)``), the value in the Valuation cell's format."""
    cover, sheet = book.wb["Cover"], book.wb[valuation.TITLE]
    top = cover[COVER_CELLS["tpl_asof"]].row - 1
    cover.column_dimensions["D"].width = 3
    cover.column_dimensions["E"].width = 52
    cover.column_dimensions["F"].width = 14
    cover.cell(top, 5, "Headline (from the Valuation sheet)").style = "gv_section"
    for i, row in enumerate(valuation.HEADLINE):
        ref = f"{valuation.TITLE}!$%s${row}"
        unit = f'IF({ref % "B"}="date",""," ("&{ref % "B"}&")")'
        label = cover.cell(top + 1 + i, 5, f"={ref % 'A'}&{unit}")
        label.style = "gv_calc"  # a label built from Valuation's cells, not a figure
        value = cover.cell(top + 1 + i, 6, f"={ref % 'C'}")
        value.style = "gv_output"
        value.number_format = sheet[f"C{row}"].number_format
        value.alignment = copy(sheet[f"C{row}"].alignment)
    row = top + 1 + len(valuation.HEADLINE)
    note = cover.cell(row, 5, valuation.FIGURE_NOTE_XL)
    note.style = "gv_calc"
    note.font = copy(valuation.FIGURE_NOTE_FONT)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    cover.merge_cells(start_row=row, start_column=5, end_row=row, end_column=6)
    cover.row_dimensions[row].height = 40  # three lines: a bound and a peak, or why no value
    rests = cover.cell(row + 1, 5, f"={valuation.RESTS_ON}")
    rests.style = "gv_calc"
    rests.font = copy(valuation.FIGURE_NOTE_FONT)


def save_atomic(book: Book, out: Path) -> Path:
    """Write to a temporary file beside ``out`` and move it into place."""
    buffer = io.BytesIO()  # the zip is finished in memory: a full disk fails one plain write
    book.wb.save(buffer)
    return replace_atomically(Path(out), lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


def build(
    out: Path = DEFAULT_OUT,
    *,
    target: str = "biren",
    template: Path | None = None,
    dataset_path: Path | None = None,
    seeds: Path | None = None,
    udf: bool = False,
    force: bool = False,
) -> Path:
    """Build the workbook and write it to ``out`` atomically (``udf``: the UDF working copy);
    ``out`` may only be a new or regular file, not the template, nor (unless ``force``) a
    workbook holding an analyst's work."""
    return build_from(None, out, target=target, template=template, dataset_path=dataset_path,
                      seeds=seeds, udf=udf, force=force)[0]  # fmt: skip


def build_from(
    old: Path | None,
    out: Path = DEFAULT_OUT,
    *,
    target: str | None = None,
    template: Path | None = None,
    dataset_path: Path | None = None,
    seeds: Path | None = None,
    udf: bool = False,
    force: bool = False,
) -> tuple[Path, list[str]]:
    """:func:`build`, carrying an analyst's work from the workbook ``old`` when given: its
    target (unless ``target``), inputs, peer table and stored prices
    (:mod:`gpuval.pipeline.carry`). Returns the path and what was carried, to tell the analyst."""
    from gpuval.pipeline.safety import check_destination
    from gpuval.workbook.template import DEFAULT_TEMPLATE

    house = template or DEFAULT_TEMPLATE
    reads = [house, *(p for p in (old, dataset_path) if p)]
    check_destination(Path(out), reads=reads, force=force, house=_sheets_of(house))
    if Path(out).suffix.lower() != ".xlsx":
        raise GpuvalError(f"Output file {out}: gpuval writes .xlsx workbooks; give a name ending "
                          "in .xlsx.")  # fmt: skip
    ds = load_dataset(dataset_path, seeds=seeds)
    if old is None:
        target = _company(target or "biren", ds, peers.peer_rows(ds))
        book = build_workbook(target=target, template=template, dataset=ds, udf=udf)
        return save_atomic(book, out), []
    from gpuval.pipeline.carry import Carried, carried_rows, old_target, read_old, write_inputs

    (wb, computed), carried = read_old(old), Carried()
    rows = carried_rows(wb, peers.peer_rows(ds), carried)
    given, target = target, _company(target or old_target(wb), ds, rows)
    if given is None and target not in [r["id"] for r in rows]:
        raise GpuvalError(f"{Path(old).name}'s target {target!r} has no row in its peer table; "
                          "give --target the company to value.")  # fmt: skip
    if target in carried.typed:
        valued = [r["id"] for r in rows if r["id"] in carried.assessed and _has_market_value(r)]
        raise GpuvalError(f"Target {target!r} is a company typed into the peer table, without "
                          "assumptions to value it by: give --target one of "
                          f"{', '.join(valued)}.")  # fmt: skip
    book = build_workbook(target=target, template=template, dataset=ds, peer_rows=rows,
                          assumption_ids=carried.assessed, udf=udf)  # fmt: skip
    write_inputs(wb, computed, book.wb, carried)
    carried.own_sheets = [s for s in wb.sheetnames if s not in book.wb.sheetnames
                          and s != "xlwings.conf"]  # fmt: skip
    return save_atomic(book, out), carried.lines(Path(out))


def _sheets_of(template: Path) -> list[str]:
    """The template's sheet names (none when it is missing: loading it says so)."""
    from gpuval.pipeline.xlsxpatch import Patch

    return Patch(template, label="Template").book.sheet_ids if template.is_file() else []


def _company(given: str, dataset: Dataset, rows: list[dict[str, Any]]) -> str:
    """The id a ``--target`` names: an id, a ticker's company, an id in another case (the first
    row's), else as given."""
    from gpuval.data.prices import ticker_map

    given = given.strip()
    folded: dict[str, str] = {}
    for row in rows:
        folded.setdefault(str(row["id"]).lower(), row["id"])
    if given in folded.values():
        return given
    return ticker_map(dataset).get(given.upper()) or folded.get(given.lower(), given)
