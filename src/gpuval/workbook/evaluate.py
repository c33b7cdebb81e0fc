"""``gpuval evaluate``: read a workbook's ``in_*`` cells and run the Python core on them.

Inputs are read as the analyst left them (constants). A cell whose input was replaced by a
formula (e.g. a link to the analyst's own sheet) is read from its cached value when the file has
one; otherwise that is an error (:class:`UncomputedInput`) saying which cell and what to do, as
are a missing name or a value of the wrong type.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from gpuval.core import InputError
from gpuval.errors import GpuvalError
from gpuval.pipeline.safety import safe_load_workbook
from gpuval.workbook.model import (
    PEER_FIELDS,
    Model,
    company_input_names,
    input_names,
    run_names,
)
from gpuval.workbook.sheets import montecarlo, valuation

LISTS = {*company_input_names(), "data_assumption_ids"} | {f"data_peers_{k}" for k in PEER_FIELDS}
"""Names of ranges (one value per company), read as lists."""
REQUIRED = input_names() + sorted(LISTS - set(input_names()))
DATES = {"in_valuation_date", "in_exit_date"}
TEXT = {
    "in_target",
    "in_peer_basis",
    "in_peer_years",
    "in_nvidia_value_basis",
    "data_assumption_ids",
} | {f"data_peers_{k}" for k in ("id", "name", "venue", "listing_ccy", "reporting_ccy", "in_stats")}


class UncomputedInput(GpuvalError):
    """An input cell holds a formula the file carries no computed value for."""

    def __init__(self, message: str, name: str, where: str, formula: str) -> None:
        super().__init__(message)
        self.name, self.where, self.formula = name, where, formula


def open_workbook(path: Path, *, data_only: bool = False) -> Workbook:
    """Open an .xlsx (or an .xlsm, whose macros are read, never run) for reading, with one
    clear sentence for every way it can fail."""
    return safe_load_workbook(path, data_only=data_only, keep_vba=True)


def _cells(wb: Workbook, name: str) -> list[tuple[str, str]]:
    defined = wb.defined_names.get(name)
    if defined is None:
        return []
    return [(title, coord.replace("$", "")) for title, coord in defined.destinations]


def _range_values(wb: Workbook, title: str, coord: str) -> list[tuple[str, Any]]:
    """(cell, value) of a cell or of a one-row or one-column range, in order."""
    cells = wb[title][coord]
    if not isinstance(cells, tuple):
        return [(cells.coordinate, cells.value)]
    flat = [c for line in cells for c in (line if isinstance(line, tuple) else (line,))]
    return [(c.coordinate, c.value) for c in flat]


def read_inputs(path: Path) -> dict[str, Any]:
    """The value of every ``in_*`` name (lists for ranges), checked for type."""
    return read_inputs_from(open_workbook(path), path)


def read_inputs_from(wb: Workbook, path: Path, *, cached: Workbook | None = None) -> dict[str, Any]:
    """:func:`read_inputs` on a workbook already open (``path`` names it in messages and gives
    the cached values of inputs an analyst replaced with formulas; ``cached``: those values
    already open)."""
    values: dict[str, Any] = {}
    for name in REQUIRED:
        places = _cells(wb, name)
        if len(places) != 1 or places[0][0] not in wb.sheetnames:
            raise GpuvalError(f"Workbook {path.name} has no usable defined name {name!r}"
                              f"{layout_note(wb)}.")  # fmt: skip
        title, coord = places[0]
        raw = _range_values(wb, title, coord)
        formulas = {c: x for c, x in raw if isinstance(x, str) and x.startswith("=")}
        if formulas:
            cached = cached or open_workbook(path, data_only=True)
            raw = _range_values(cached, title, coord)
            for c, x in raw:
                if c in formulas and (x is None or x == ""):
                    raise _uncomputed(name, f"{title}!{c}", formulas[c], path)
        if name in LISTS:
            values[name] = [_check(name, f"{title}!{c}", x, optional=True) for c, x in raw]
        else:
            values[name] = _check(name, f"{title}!{raw[0][0]}", raw[0][1], optional=False)
    return values


def layout_note(wb: Workbook) -> str:
    """For a workbook of another layout: when it was built, and that this gpuval's inputs differ
    (an input renamed when its meaning changed is then missing, not misread)."""
    from gpuval.workbook.build import LAYOUT, other_layout

    if "in_target" not in wb.defined_names or (built := other_layout(wb)) is None:
        return ""  # not a gpuval workbook, or one of this layout
    return (f": it was built {built}, and this gpuval reads the layout of {LAYOUT}, whose "
            "inputs differ; carry it into a new build with gpuval build --from WORKBOOK "
            "--out NEW")  # fmt: skip


def _uncomputed(name: str, where: str, formula: str, path: Path) -> UncomputedInput:
    return UncomputedInput(
        f"Input {name} ({where}) is the formula {formula} but {path.name} carries no computed "
        "value for it (the file was last saved by a program that does not calculate, or refreshed "
        "without LibreOffice); open and save it in Excel or LibreOffice, or run gpuval refresh "
        "where LibreOffice is installed, then try again.",
        name,
        where,
        formula,
    )


def _check(name: str, where: str, value: Any, *, optional: bool) -> Any:
    if value is None or value == "":
        if optional:
            return None
        raise GpuvalError(f"Input {name} ({where}) is empty.")
    if name in DATES:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise GpuvalError(f"Input {name} ({where}) must be a date, got {value!r}.")
    if name in TEXT:
        if not isinstance(value, str):
            raise GpuvalError(f"Input {name} ({where}) must be text, got {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GpuvalError(f"Input {name} ({where}) must be a number, got {value!r}.")
    return float(value)


def _weights(wb: Workbook, path: Path) -> dict[str, float]:
    """The Valuation sheet's method weights (``in_weight_*``), each a number."""
    cached: Workbook | None = None
    weights = {}
    for method in valuation.METHODS:
        places = _cells(wb, method.name)
        if len(places) != 1 or places[0][0] not in wb.sheetnames:
            raise GpuvalError(f"Workbook {path.name} has no usable defined name {method.name!r}.")
        title, coord = places[0]
        value = _range_values(wb, title, coord)[0][1]
        if isinstance(value, str) and value.startswith("="):
            cached = cached or open_workbook(path, data_only=True)
            value = _range_values(cached, title, coord)[0][1]
        weights[method.name] = _check(method.name, f"{title}!{coord}", value, optional=False)
    return weights


def _stored_value(wb: Workbook, name: str) -> Any:
    """What the workbook stores under the one-cell ``name`` (the Monte Carlo snapshot's), else
    None."""
    places = _cells(wb, name)
    if len(places) != 1 or places[0][0] not in wb.sheetnames:
        return None
    return _range_values(wb, *places[0])[0][1]


def _stored(wb: Workbook, name: str) -> float | None:
    """A number the workbook stores under ``name``, else None."""
    value = _stored_value(wb, name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def snapshot_is_current(wb: Workbook, model: Model, values: dict[str, Any]) -> bool:
    """The Monte Carlo snapshot is of the workbook's target and inputs, as the sheet's
    ``mc_current`` says (:func:`~gpuval.workbook.sheets.montecarlo.current_xl`): its target is
    ``in_target`` and its stored weighted value is the model's, to 1e-6 relative."""
    stored = _stored(wb, "mc_weighted")
    if _stored_value(wb, "mc_target") != values["in_target"] or stored is None:
        return False
    return abs(montecarlo.weighted(model) - stored) <= 1e-6 * abs(stored)


FRACTIONS = re.compile(r"upside|implied_(share|growth|nvidia_fraction)")
"""Outputs that are fractions (upsides, implied shares and growth): they move by points."""
_USD = ("out_dcf_equity_value", "out_equity_value_weighted", "out_nvidia_share_equity_value")


def output_units(path: Path, wb: Workbook | None = None) -> dict[str, str]:
    """The unit of each ``out_*`` value, for a reader: "fraction", "x" (a multiple), "USD"
    (equity values the model keeps in USD) or the target's listing currency, per share when it
    has a share count (``out_valuation_weighted`` and the per-share values)."""
    path = Path(path)
    wb = wb if wb is not None else open_workbook(path)
    values = read_inputs_from(wb, path)
    ids = list(values["data_peers_id"])
    row = ids.index(values["in_target"]) if values["in_target"] in ids else None
    ccy = "listing currency" if row is None else str(values["data_peers_listing_ccy"][row])
    shares = None if row is None else values["data_peers_shares"][row]
    listing = f"{ccy} per share" if isinstance(shares, int | float) and shares > 0 else ccy

    def unit(name: str) -> str:
        if FRACTIONS.search(name):
            return "fraction"
        if name in ("out_backlog_forward_ps", "out_venue_gap"):
            return "x"
        return "USD" if name in _USD else listing

    return {n: unit(n) for n in sorted(n for n in wb.defined_names if n.startswith("out_"))}


def evaluate(path: Path, wb: Workbook | None = None) -> dict[str, Any]:
    """``{out_name: value}`` for every ``out_*`` name in the workbook (None where the sheet
    shows n/a); ``wb``: the workbook at ``path`` already open (formulas, not values)."""
    path = Path(path)
    wb = wb if wb is not None else open_workbook(path)
    values = read_inputs_from(wb, path)
    if values["in_target"] not in values["data_peers_id"]:
        title, coord = _cells(wb, "in_target")[0]  # read above: one cell
        raise GpuvalError(
            f"Input in_target ({title}!{coord}) is {values['in_target']!r}, which is not an id in "
            "the peer table: pick a company from the table that has a market value."
        )
    weights = _weights(wb, path)
    try:
        model = run_names(values)
        mc_median = _stored(wb, "mc_p50") if snapshot_is_current(wb, model, values) else None
        computed = model.outputs() | valuation.headline(model, weights, mc_median)
    except InputError as exc:
        raise GpuvalError(f"Workbook {path.name}: the inputs are not valid: {exc}") from None
    names = sorted(n for n in wb.defined_names if n.startswith("out_"))
    missing = [n for n in names if n not in computed]
    if missing:
        raise GpuvalError(f"Workbook {path.name} has outputs gpuval does not know: {missing[0]}.")
    return {name: computed[name] for name in names}
