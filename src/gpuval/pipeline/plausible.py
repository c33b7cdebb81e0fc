"""Plausibility: the figures an experienced analyst would question in a recalculated workbook.

:func:`plausibility_findings` names the cell, the figure and what is implausible about it:

* price x shares against a stated market value (a unit slip, millions or 亿, or a currency mix-up);
* the stated market value per share when no price is stated (shares in the wrong unit);
* market value / revenue and / order backlog, across currencies (a revenue in the wrong unit);
* every value per share against the target's share price;
* whole-number inputs (years, counts) that are not whole;
* a currency, venue or "In China statistics" flag none of the peer table's choices;
* text in a column of the peer table's figures ("100", "n/a"), and an id a second row repeats.
"""

from __future__ import annotations

from typing import Any

from openpyxl.workbook.workbook import Workbook

from gpuval.pipeline.names import Figure, named_cells, named_value

__all__ = ["plausibility_findings"]

#: Price x shares may differ from a stated market value (dates differ, prices move) but not by more
#: than this factor; a unit slip (shares in millions, 亿) or a currency mix-up is far larger.
MV_FACTOR = 3.0
#: A value per share outside price / 1000 .. price x 1000 is a unit slip, not a valuation.
VALUE_FACTOR = 1000.0
#: Market value per share (listing currency) when no price is stated.
PRICE_RANGE = (0.01, 100_000.0)
#: Market value / revenue (or order backlog): beyond these a figure is in the wrong unit.
PS_RANGE = (0.01, 100_000.0)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1e6 else f"{x:,.6g}"


def _factor(ratio: float) -> str:
    """``2,400 times`` or ``1/1,000,000 of``: how far a figure is from what it is compared with."""

    def rounded(x: float) -> str:  # three significant digits, with thousands separators
        return f"{float(f'{x:.3g}'):,.0f}"

    if ratio >= 1:
        return f"{rounded(ratio)} times" if ratio >= 10 else f"{ratio:.2g} times"
    return f"1/{rounded(1 / ratio)} of" if ratio <= 0.1 else f"{ratio:.2g} times"


def _usd_per_unit(values: Workbook) -> dict[str, float]:
    rates = {"USD": 1.0}
    hkd = _number(named_value(values, "in_fx_usd_per_hkd"))
    cny = _number(named_value(values, "in_fx_cny_per_usd"))
    if hkd:
        rates["HKD"] = hkd
    if cny:
        rates["CNY"] = 1.0 / cny
    return rates


def plausibility_findings(values: Workbook) -> list[str]:
    """Implausible figures in a workbook (computed values loaded): each finding names the cell,
    the figure and what is implausible about it."""
    from gpuval.workbook.sheets import peers

    details: list[str] = []
    columns = {key: named_cells(values, f"data_peers_{key}")
               for key in peers.raw_keys(values.defined_names)}  # fmt: skip
    rates = _usd_per_unit(values)
    revenue_keys = {"revenue_fy": ("full-year revenue", 1.0),
                    "revenue_h1": ("half-year revenue (x2)", 2.0),
                    "revenue_forward": ("forward revenue", 1.0),
                    "backlog": ("order backlog", 1.0)}  # fmt: skip
    for i, ident in enumerate(columns["id"]):
        figure = {k: columns[k][i] if i < len(columns[k]) else Figure("?", None) for k in columns}
        who = ident.value if isinstance(ident.value, str) else f"peer row {i + 1}"
        price, shares = _number(figure["price"].value), _number(figure["shares"].value)
        stated = _number(figure["market_value"].value)
        ccy = figure["listing_ccy"].value
        if price and shares and stated and stated > 0:
            ratio = price * shares / stated
            if not 1 / MV_FACTOR <= ratio <= MV_FACTOR:
                details.append(
                    f"{figure['shares'].where} ({who} shares) = {_fmt(shares)}: price "
                    f"{_fmt(price)} ({figure['price'].where}) x shares = {_fmt(price * shares)} "
                    f"{ccy}, {_factor(ratio)} the stated market value {_fmt(stated)} {ccy} "
                    f"({figure['market_value'].where}); a figure in the wrong unit "
                    "(millions, 亿) or currency?"
                )
        market = price * shares if price and shares else stated
        if not price and shares and shares > 0 and stated and stated > 0:
            per_share = stated / shares
            if not PRICE_RANGE[0] <= per_share <= PRICE_RANGE[1]:
                details.append(
                    f"{figure['shares'].where} ({who} shares) = {_fmt(shares)}: the stated "
                    f"market value {_fmt(stated)} {ccy} ({figure['market_value'].where}) is "
                    f"{_fmt(per_share)} {ccy} a share, outside {PRICE_RANGE[0]:g} .. "
                    f"{PRICE_RANGE[1]:,.0f}; shares in the wrong unit?"
                )
        for key in peers.NUMBERS:
            typed = figure[key].value if key in figure else None
            if isinstance(typed, str):
                details.append(
                    f"{figure[key].where} ({who}, {peers.RAW[key][0]}) = {typed!r}: text, not a "
                    "number, so the model reads no figure; type the number (or leave the cell "
                    "blank when the sources give none)"
                )
        for key, allowed in peers.CHOICES.items():  # as written: the core compares exactly
            typed = figure[key].value if key in figure else None
            if typed not in (None, "", *allowed):
                details.append(
                    f"{figure[key].where} ({who}, {peers.RAW[key][0]}) = {typed!r}: none "
                    f"of {', '.join(allowed)}, which the model knows; the figures that need it "
                    "read n/a or an error"
                )
        listing_rate = rates.get(ccy) if isinstance(ccy, str) else None
        reporting = figure["reporting_ccy"].value
        reporting_rate = rates.get(reporting) if isinstance(reporting, str) else None
        if not market or market <= 0 or listing_rate is None or reporting_rate is None:
            continue
        for key, (what, scale) in revenue_keys.items():
            amount = _number(figure[key].value)
            if not amount or amount <= 0:
                continue
            multiple = market * listing_rate / (amount * scale * reporting_rate)
            if not PS_RANGE[0] <= multiple <= PS_RANGE[1]:
                details.append(
                    f"{figure[key].where} ({who} {what}) = {_fmt(amount)} {reporting}: market "
                    f"value / {what.split(' (')[0]} = {_fmt(multiple)}, outside "
                    f"{PS_RANGE[0]:g} .. {PS_RANGE[1]:,.0f}; a figure in the wrong unit?"
                )
    ids = columns["id"]
    for j, i in peers.repeated_ids([f.value for f in ids]):
        details.append(
            f"{ids[i].where} (id) = {ids[i].value!r}: the id of {ids[j].where} too; each company "
            "needs its own id (a second row counts it twice, and refresh cannot tell which row "
            "is the company's)"
        )
    details += _value_vs_price(values, columns)
    details += _whole_inputs(values)
    return details


def _value_vs_price(values: Workbook, columns: dict[str, list[Figure]]) -> list[str]:
    target = named_value(values, "in_target")
    ids = [f.value for f in columns["id"]]
    if target not in ids or len(columns["price"]) <= ids.index(target):
        return []
    price_cell = columns["price"][ids.index(target)]
    price = _number(price_cell.value)
    if not price or price <= 0:
        return []
    details = []
    for name in sorted(n for n in values.defined_names if n.startswith("out_")):
        if "per_share" not in name and name != "out_peer_median_implied_value":
            continue
        for cell in named_cells(values, name):
            value = _number(cell.value)
            if value is None:
                continue
            ratio = value / price
            if not 1 / VALUE_FACTOR <= ratio <= VALUE_FACTOR:
                against = _factor(ratio) if ratio > 0 else "not positive against"
                details.append(
                    f"{cell.where} ({name}) = {_fmt(value)}: {against} the share price "
                    f"{_fmt(price)} ({price_cell.where}), outside 1/{VALUE_FACTOR:,.0f} .. "
                    f"{VALUE_FACTOR:,.0f}x; check the share count and the units of the inputs"
                )
    return details


def _whole_inputs(values: Workbook) -> list[str]:
    from gpuval.workbook.sheets import assumptions
    from gpuval.workbook.sheets import inputs as input_sheet

    details = []
    for spec in [*input_sheet.ALL, *assumptions.SPECS]:
        if spec.kind != "whole":
            continue
        for name in spec.names():
            for cell in named_cells(values, name):
                value = _number(cell.value)
                if value is not None and value != int(value):
                    details.append(
                        f"{cell.where} ({name}, {spec.label!r}) = {value:g}: must be a whole "
                        f"number ({spec.unit})"
                    )
    return details
