"""The Valuation sheet's football field: one horizontal bar per method from Low to High, sorted
by Mid, with the price as a line across the whole plot.

* **Sorted by formula** (helper columns right of the method table, grouped and hidden): a sort
  key (the Mid; a method showing n/a sorts first), its rank with ties broken by table order
  ``RANK(key, keys, 1) + COUNTIF(keys above and itself, key) - 1``, and for slot ``k`` the method
  ``MATCH(k, ranks, 0)`` read with INDEX. The lowest Mid is the bottom bar.
* **Bars** (the secondary bar group, on a value axis kept but drawn blank): stacked horizontal
  bars (``barDir="bar"``), a no-fill base (Low), then Low to Mid and Mid to High in two shades
  (the Mid is where they meet), then a no-fill pad up to the common top
  ``(max High or price) x ROOM``. A point value is drawn ``2 x top x STRIP`` wide so it shows;
  a value below 0 is drawn at 0 (every segment >= 0, both axes from 0: a negative segment
  would push its stack past the top and rescale the bars' axis alone), its label saying it.
  Each category label carries the values ("DCF: 3.79", "TAM scenarios: 3.34 - 30.43 - 80.99"),
  and a reference point says "(reference)".
* **Price line** (the primary group, whose value axis is the one shown): stacked with no gap
  between categories, no fill up to the price, a red strip ``top x STRIP`` wide, no fill to the
  top. Both groups' bars end at the same top, so both value axes scale alike and the strip sits
  at the price, from the bottom of the plot to the top. The label right of the line reads
  "Price HKD 35.72" by formula (the title of its last segment). An XY series on secondary axes
  would be Excel's way, but LibreOffice cannot draw an XY series in a bar chart (it stacks it
  onto the bars), nor a deleted secondary axis's series on their own scale.

"x% of NVIDIA" is left out: a chosen fraction of a company 200 times Biren's size (HKD 158.77 a
share against a price of 35.72) would squash every valuation into the left fifth of the plot.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.axis import TextAxis
from openpyxl.chart.label import DataLabel, DataLabelList
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties

from gpuval.workbook.sheets.base import Sheet, col

ROOM = 1.15
"""The plot's top as a multiple of the largest High (or the price): room for the labels."""
STRIP = 0.004
"""The price line's width as a fraction of the plot's top."""
HELPER = 9  # column I: the first helper column
_COLUMNS = ["Chart name", "Name with values", "Sort key", "Rank", "Slot", "Method in slot",
            "Category (sorted)", "Low", "Low to Mid", "Mid to High", "Top", "Pad to top",
            "To the price", "Price line", "Price to top"]  # fmt: skip


def _text_xl(x: str) -> str:
    """A listing-currency value as text: 35.72 per share, or 53.7 (bn) without a share count."""
    return f'IF(tgt_shares>0,TEXT({x},"#,##0.00"),TEXT({x}/1000000000,"#,##0.0"))'


def football_field(sheet: Sheet, first: int, rows: list[int], anchor_row: int) -> None:
    """Helper columns for the methods at table rows ``first + i`` (``i`` in ``rows``, which
    must be consecutive from 0) and the chart at column A of ``anchor_row``."""
    from gpuval.workbook.sheets.valuation import METHODS

    assert rows == list(range(len(rows))), "charted methods come first in the table"
    last = first + len(rows) - 1
    c = {name: col(HELPER + i) for i, name in enumerate(_COLUMNS)}
    header = first - 1
    for name in _COLUMNS:
        sheet.put(header, HELPER + _COLUMNS.index(name), name, "header")
    price_title = ('=IF(tgt_shares>0,"Price ","Market value ")&tgt_ccy&" "&'
                   + _text_xl("tgt_now") + '&IF(tgt_shares>0,""," bn")')  # fmt: skip
    sheet.put(header, HELPER + _COLUMNS.index("Price to top"), price_title, "calc")

    def area(letter: str) -> str:
        return f"${letter}${first}:${letter}${last}"

    def pick(letter: str, r: int) -> str:
        return f"INDEX({area(letter)},{c['Method in slot']}{r})"

    for i in rows:
        r = first + i
        low, mid, high = (pick(x, r) for x in "CDE")
        dot = f"{c['Top']}{r}*{STRIP}"  # half the least width drawn: a point shows as a bar
        values = (
            f'IF(C{r}=E{r},{_text_xl(f"D{r}")},{_text_xl(f"C{r}")}&" – "&'
            f'{_text_xl(f"D{r}")}&" – "&{_text_xl(f"E{r}")})&IF(tgt_shares>0,""," bn")'
        )
        formulas = {
            "Chart name": METHODS[i].chart,
            "Name with values": f'={c["Chart name"]}{r}&IF(ISNUMBER(D{r}),": "&{values},": n/a")',
            "Sort key": f"=IF(ISNUMBER(D{r}),D{r},MIN({area('D')})-1)",
            "Rank": f"=RANK({c['Sort key']}{r},{area(c['Sort key'])},1)"
            f"+COUNTIF(${c['Sort key']}${first}:{c['Sort key']}{r},{c['Sort key']}{r})-1",
            "Slot": f"=ROWS(${c['Slot']}${first}:{c['Slot']}{r})",
            "Method in slot": f"=MATCH({c['Slot']}{r},{area(c['Rank'])},0)",
            "Category (sorted)": f"={pick(c['Name with values'], r)}",
            "Low": f"=IF(ISNUMBER({low}),MAX(0,MIN({low},{mid}-{dot})),0)",
            "Low to Mid": f"=IF(ISNUMBER({mid}),MAX(0,{mid})-{c['Low']}{r},0)",
            "Mid to High": f"=IF(ISNUMBER({high}),MAX({high},MAX(0,{mid})+{dot})-MAX(0,{mid}),0)",
            "Top": f"=MAX({area('E')},tgt_now)*{ROOM}",
            "Pad to top": f"={c['Top']}{r}-{c['Low']}{r}-{c['Low to Mid']}{r}"
            f"-{c['Mid to High']}{r}",
            "To the price": f"=tgt_now-{c['Top']}{r}*{STRIP}/2",
            "Price line": f"={c['Top']}{r}*{STRIP}",
            "Price to top": f"={c['Top']}{r}-{c['To the price']}{r}-{c['Price line']}{r}",
        }
        for name, formula in formulas.items():
            role = "label" if name == "Chart name" else "calc"
            sheet.put(r, HELPER + _COLUMNS.index(name), formula, role, "number")
    end = col(HELPER + len(_COLUMNS) - 1)
    sheet.ws.column_dimensions.group(col(HELPER), end, hidden=True)
    sheet.ws.add_chart(_chart(sheet, c, first, last), f"A{anchor_row}")


def _series(sheet: Sheet, letter: str, first: int, last: int, title_row: int) -> Any:
    column = HELPER + [col(HELPER + i) for i in range(len(_COLUMNS))].index(letter)
    values = Reference(sheet.ws, min_col=column, min_row=title_row, max_row=last)
    return Series(values, title_from_data=True)


def _chart(sheet: Sheet, c: dict[str, str], first: int, last: int) -> BarChart:
    categories = Reference(sheet.ws, min_col=HELPER + _COLUMNS.index("Category (sorted)"),
                           min_row=first, max_row=last)  # fmt: skip
    price = BarChart()  # primary: the price strip, no gap between categories
    price.type, price.grouping, price.overlap, price.gapWidth = "bar", "stacked", 100, 0
    price.title = (
        "Football field (sorted by Mid): dark Low to Mid, light Mid to High; red: the price "
        "on Peers (the market value for a company without a share count)"
    )
    for name in ("To the price", "Price line", "Price to top"):
        series = _series(sheet, c[name], first, last, first - 1)
        series.graphicalProperties.line.noFill = True
        if name == "Price line":
            series.graphicalProperties.solidFill = "C00000"
        else:
            series.graphicalProperties.noFill = True
        if name == "Price to top":  # its title is the price label, shown right of the line
            series.dLbls = DataLabelList(dLbl=[DataLabel(
                idx=last - first, showSerName=True, showVal=False, showCatName=False,
                showLegendKey=False, dLblPos="inBase")], showVal=False, showSerName=False,
                showCatName=False, showLegendKey=False)  # fmt: skip
        price.series.append(series)
    price.set_categories(categories)
    price.x_axis.tickLblPos = "low"
    price.x_axis.axPos, price.y_axis.axPos = "l", "b"
    price.y_axis.number_format = sheet.book.style.fmt("value")
    price.y_axis.majorGridlines = None
    # both axes from 0, so one value sits at one place on both: left to itself, an application
    # starts the price's axis near the price when it is above every High (NVIDIA: 185 to 235)
    price.y_axis.scaling.min = 0

    bars = BarChart()  # secondary: the methods' bars, on a hidden axis of the same scale
    bars.type, bars.grouping, bars.overlap, bars.gapWidth = "bar", "stacked", 100, 60
    shades = {"Low": None, "Low to Mid": "2F5597", "Mid to High": "8FAADC", "Pad to top": None}
    for name, fill in shades.items():
        series = _series(sheet, c[name], first, last, first - 1)
        if fill is None:
            series.graphicalProperties.noFill = True
        else:
            series.graphicalProperties.solidFill = fill
        series.graphicalProperties.line.noFill = True
        bars.series.append(series)
    bars.set_categories(categories)
    bars.x_axis = TextAxis(axId=300, crossAx=200, delete=True, axPos="r")
    bars.y_axis.axPos = "t"
    bars.y_axis.axId = 200
    bars.y_axis.crossAx = 300
    bars.y_axis.crosses = "max"
    bars.y_axis.scaling.min = 0
    # kept (LibreOffice moves a deleted axis's series onto the primary one) but drawn without
    # labels (an empty number format: openpyxl cannot write tickLblPos "none"), ticks or line
    bars.y_axis.delete = False
    bars.y_axis.majorTickMark = bars.y_axis.minorTickMark = "none"
    bars.y_axis.number_format = ";;;"
    bars.y_axis.spPr = GraphicalProperties(ln=LineProperties(noFill=True))
    bars.y_axis.majorGridlines = None
    price += bars
    for i, series in enumerate(price.series + bars.series):
        series.idx = series.order = i
    price.legend = None  # the title says what the shades are; the line carries its label
    price.visible_cells_only = False  # the helper columns are hidden
    price.height, price.width = 8.5, 30
    return price
