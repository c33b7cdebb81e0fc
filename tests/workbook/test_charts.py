"""The workbook's charts, read from the package XML (the football field's tests are in
test_valuation_dashboard.py): the peer scatter reads the #N/A chart columns, the DCF's year
labels sit low, the market chart has one value axis; and LibreOffice finds no error value
outside the chart columns for any target; every axis says it is shown; no numeric series reads
text."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_to_tuple
from openpyxl.workbook.workbook import Workbook

from apps.libreoffice import InsertRows, SetValue, edit_in_libreoffice, require_uno
from gpuval.pipeline.formula_audit import audit_formulas
from gpuval.pipeline.recalc import recalculate
from gpuval.pipeline.refresh import refresh
from gpuval.workbook.build import build
from workbook_helpers import chart_cells, error_cells, figures, named_cell

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
SLOTS = "'Peer statistics'!"
"""The sheet of the charts' slot columns: I to O beside the table of what each figure is, whose
first four lines (rows 76 to 79, the four companies with a P/S) the charts read."""
LINES = range(76, 80)
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, etree._Element]:
    """Chart title -> its chartSpace element, for the biren workbook."""
    path = build(tmp_path_factory.mktemp("charts") / "biren.xlsx", target="biren")
    found = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/chart"):
                root = etree.fromstring(z.read(name))
                title = "".join(root.find(f"{C}chart/{C}title").itertext())
                found[title] = root
    return found


def _chart(charts: dict[str, etree._Element], start: str) -> etree._Element:
    return next(root for title, root in charts.items() if title.startswith(start))


def _series(root: etree._Element) -> dict[str, etree._Element]:
    """Series title (literal or reference) -> series element."""
    out = {}
    for ser in root.iter(f"{C}ser"):
        tx = ser.find(f"{C}tx")
        out["".join(tx.itertext()) if tx is not None else ""] = ser
    return out


def test_scatter_reads_the_na_chart_columns(charts) -> None:
    root = _chart(charts, "Market value vs revenue")
    *slots, target = root.iter(f"{C}ser")
    xs = [s.find(f"{C}xVal//{C}f").text for s in slots]
    ys = [s.find(f"{C}yVal//{C}f").text for s in slots]
    names = [s.find(f"{C}tx//{C}f").text for s in slots]
    # one series per slot: 4 of the 7 companies have a P/S on some basis (Biren, Moore Threads,
    # MetaX and NVIDIA; Cambricon, Kunlunxin and Iluvatar CoreX have no revenue or no market
    # value in the dataset), on the slot columns M (revenue) and N (market value) of Peer
    # statistics, each named by its slot's company (I) and labelled with that name, not with
    # its value
    assert xs == [f"{SLOTS}$M${r}" for r in LINES]
    assert ys == [f"{SLOTS}$N${r}" for r in LINES]
    assert names == [f"{SLOTS}$I${r}" for r in LINES]
    for s in (*slots, target):
        shown = {e.tag.removeprefix(C): e.get("val") for e in s.find(f"{C}dLbls")}
        assert shown["showSerName"] == "1" and shown["showVal"] == "0", shown
    # the target's point a series of its own (O: its market value in its slot, #N/A elsewhere,
    # where N has #N/A in its slot), named after the target (tgt_name) and the only legend
    # entry: the slots' entries (blank for an empty slot) are deleted
    assert target.find(f"{C}tx//{C}f").text == "'Peer statistics'!$C$6"
    assert target.find(f"{C}xVal//{C}f").text == f"{SLOTS}$M$76:$M$79"
    assert target.find(f"{C}yVal//{C}f").text == f"{SLOTS}$O$76:$O$79"
    deleted = {int(e.find(f"{C}idx").get("val")) for e in root.iter(f"{C}legendEntry")
               if e.find(f"{C}delete").get("val") == "1"}  # fmt: skip
    assert deleted == {int(s.find(f"{C}idx").get("val")) for s in slots}


def test_ps_bars_highlight_the_target_with_slanted_names(charts) -> None:
    root = _chart(charts, "P/S on the chosen basis")
    assert {"P/S", "Target", "Peer median"} <= set(_series(root))
    assert root.find(f".//{C}catAx/{C}txPr/{A}bodyPr").get("rot") == "-2700000"  # 45 degrees
    categories = {f.text for f in root.iter(f"{C}cat") for f in f.iter(f"{C}f")}
    assert categories == {f"{SLOTS}$I$76:$I$79"}  # the slots' company names: 4 bars, not 7


def test_dcf_year_labels_low(charts) -> None:
    root = _chart(charts, "Revenue and free cash flow")
    assert root.find(f".//{C}catAx/{C}tickLblPos").get("val") == "low"


def test_market_chart_has_one_visible_value_axis(charts) -> None:
    root = _chart(charts, "China AI-chip market")
    axes = root.findall(f".//{C}plotArea/{C}valAx")
    assert len(axes) == 1 and axes[0].find(f"{C}delete").get("val") == "0"


#: Axes hidden on purpose, as (chart title start, axis element, c:axId); every other axis of
#: every chart must say it is shown (an absent c:delete reads as hidden in some applications).
HIDDEN_AXES = {
    # the football field's second category axis: it only carries the price bar (see
    # valuation_chart.py); its value axis is drawn, without labels
    ("Football field", "catAx", "300"),
}
AXES = ("valAx", "catAx", "dateAx", "serAx")


def test_every_axis_is_shown_unless_hidden_on_purpose(charts) -> None:
    seen = 0
    for title, root in charts.items():
        for axis in root.iter(*(f"{C}{a}" for a in AXES)):
            name, ident = etree.QName(axis).localname, axis.find(f"{C}axId").get("val")
            hidden = any(title.startswith(t) and (a, i) == (name, ident)
                         for t, a, i in HIDDEN_AXES)  # fmt: skip
            delete = axis.find(f"{C}delete")
            assert delete is not None, f"{title}: {name} {ident} has no c:delete"
            assert delete.get("val") == ("1" if hidden else "0"), f"{title}: {name} {ident}"
            seen += 1
    assert seen >= 2 * len(charts) >= 10


#: The numeric data of a chart: values, scatter x and y, bubble sizes and error-bar lengths.
NUMERIC = ("val", "xVal", "yVal", "bubbleSize", "plus", "minus")


def numeric_sources(path: Path) -> list[tuple[str, str]]:
    """(chart part, formula) of every numeric data source of every chart in the package."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in (n for n in z.namelist() if n.startswith("xl/charts/chart")):
            root = etree.fromstring(z.read(name))
            for source in root.iter(*(f"{C}{n}" for n in NUMERIC)):
                assert source.find(f"{C}strRef") is None, f"{name}: text as numeric data"
                found += [(name, f.text) for f in source.iterfind(f"{C}numRef/{C}f")]
    return found


def text_in_numeric_sources(path: Path, values: Workbook) -> list[str]:
    """Cells (with the chart part) holding text that a numeric series reads; ``#N/A``, a
    point the chart skips, is not text."""
    bad = []
    for part, formula in numeric_sources(path):
        title, (c1, r1, c2, r2) = range_to_tuple(formula)
        for row in range(r1, r2 + 1):
            for column in range(c1, c2 + 1):
                value = values[title.strip("'")].cell(row, column).value
                if isinstance(value, str) and value != "#N/A":
                    bad.append(f"{part}: {title}!{get_column_letter(column)}{row}={value!r}")
    return bad


TARGETS = ["biren", "moore_threads", "metax", "nvidia"]


@pytest.fixture(scope="module")
def recalculated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[Path, Workbook]]:
    """``recalculated(target)``: (the built workbook, its values after a LibreOffice
    recalculation), made once per target for this module."""
    made: dict[str, tuple[Path, Workbook]] = {}

    def get(target: str) -> tuple[Path, Workbook]:
        if target not in made:
            folder = tmp_path_factory.mktemp(target)
            built = build(folder / f"{target}.xlsx", target=target)
            values = recalculate(built, folder / f"{target}.recalc.xlsx")
            made[target] = built, load_workbook(values, data_only=True)
        return made[target]

    return get


@pytest.mark.libreoffice
@pytest.mark.parametrize("target", TARGETS)
def test_na_only_in_chart_columns(target: str, recalculated) -> None:
    values = recalculated(target)[1]
    assert error_cells(values) == []
    assert named_cell(values, "chk_master").value is True
    # the chart columns do hold #N/A (the companies without a revenue have no point)
    gaps = [c for c in chart_cells(values)
            if values[c.split("!")[0]][c.split("!")[1]].value == "#N/A"]  # fmt: skip
    assert gaps


@pytest.mark.libreoffice
@pytest.mark.parametrize("target", TARGETS)
def test_no_numeric_series_reads_text(target: str, recalculated) -> None:
    """Values, scatter x and y and error-bar lengths read numbers or #N/A: a chart plots text
    as 0 (or x as 1, 2, 3) where #N/A leaves a gap."""
    built, values = recalculated(target)
    assert len(numeric_sources(built)) >= 10
    assert text_in_numeric_sources(built, values) == []


def _bars(values: Workbook) -> tuple[list[str], list[object], list[object]]:
    """The P/S chart's categories, bar values and target bars as LibreOffice computed them (the
    first four slots: the chart reads those, see test_ps_bars_highlight_the_target...)."""
    return _slots(values, "I", "J", "K")


def _slots(values: Workbook, *columns: str) -> tuple[list[object], ...]:
    """The first four slots of each of ``columns`` of Peer statistics as LibreOffice computed
    them."""
    ws = values["Peer statistics"]
    return tuple([ws[f"{c}{r}"].value for r in LINES] for c in columns)


def _check(values: Workbook, start: str) -> object:
    ws = values["Checks"]
    return next(ws.cell(r, 3).value for r in range(5, ws.max_row + 1)
                if str(ws.cell(r, 1).value).startswith(start))  # fmt: skip


@pytest.fixture(scope="module")
def biren_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("bars") / "biren.xlsx", target="biren")


def _edited(built: Path, folder: Path, **inputs: object) -> Workbook:
    """``built`` with named inputs changed (``peers_<id>_<field>`` for a peer table cell) as an
    analyst would type them, recalculated by LibreOffice."""
    wb = load_workbook(built)
    for name, value in inputs.items():
        if name.startswith("peers_"):
            entity, field = name[6:].split("__")
            ids = [c.value for c in wb["Peers"]["A"][5:12]]
            title, coord = next(iter(wb.defined_names[f"data_peers_{field}"].destinations))
            wb[title][coord.replace("$", "").split(":")[0]].offset(ids.index(entity)).value = value
        else:
            named_cell(wb, name).value = value
    wb.save(folder / "edited.xlsx")
    return load_workbook(recalculate(folder / "edited.xlsx"), data_only=True)


@pytest.mark.libreoffice
def test_the_ps_bars_are_the_companies_with_a_ps(biren_built: Path, tmp_path: Path) -> None:
    """Full-year basis (Biren's default): the four companies with a full-year revenue and a
    market value, in table order, no empty slot; P/S by hand from the dataset's figures."""
    values = _edited(biren_built, tmp_path)
    names, bars, target = _bars(values)
    assert names == ["Biren Technology", "Moore Threads", "MetaX", "NVIDIA"]
    hkd = named_cell(values, "in_fx_usd_per_hkd").value  # USD per HKD
    cny = named_cell(values, "in_fx_cny_per_usd").value  # CNY per USD
    biren = 85.54e9 * hkd / (337e6 / cny)  # HKD 85.54 bn / CNY 337 m
    expected = [biren, 300e9 / 1498e6, 300e9 / 1980e6, 4890e9 / 120e9]  # CNY/CNY, USD/USD
    assert bars == pytest.approx(expected, rel=1e-9)
    assert target == [pytest.approx(biren, rel=1e-9), "#N/A", "#N/A", "#N/A"]
    # the scatter's points: revenue and market value in USD, the target's in a column of its own
    xs, ys, marked = _slots(values, "M", "N", "O")
    assert xs == pytest.approx([337e6 / cny, 1498e6 / cny, 1980e6 / cny, 120e9], rel=1e-9)
    assert ys[0] == "#N/A"
    assert ys[1:] == pytest.approx([300e9 / cny, 300e9 / cny, 4890e9], rel=1e-9)
    assert marked == [pytest.approx(85.54e9 * hkd, rel=1e-9), "#N/A", "#N/A", "#N/A"]
    assert named_cell(values, "tgt_name").value == "Biren Technology"  # the target's series


@pytest.mark.libreoffice
def test_another_basis_fills_the_first_slots(biren_built: Path, tmp_path: Path) -> None:
    """Run-rate basis: only Moore Threads has a half-year revenue and a market value: one bar
    (CNY 300 bn / (2 x CNY 0.7 bn) = 214.29x), the slots after it blank and #N/A. The chart keeps
    the four slots the busiest basis needs, so they show as space at the right, not as names."""
    values = _edited(biren_built, tmp_path, in_peer_basis="run-rate")
    names, bars, target = _bars(values)
    assert names == ["Moore Threads", None, None, None]  # "" reads back as an empty cell
    assert bars == [pytest.approx(300e9 / 1.4e9, rel=1e-9), "#N/A", "#N/A", "#N/A"]
    assert target == ["#N/A"] * 4  # Biren has no run-rate P/S
    # one point; the empty slots repeat its x (a chart may plot an all-empty x range as 1, 2,
    # 3) and have no y, so no point and no label
    cny = named_cell(values, "in_fx_cny_per_usd").value
    xs, ys, marked = _slots(values, "M", "N", "O")
    assert xs == pytest.approx([1.4e9 / cny] * 4, rel=1e-9)
    assert ys == [pytest.approx(300e9 / cny, rel=1e-9), "#N/A", "#N/A", "#N/A"]
    assert marked == ["#N/A"] * 4


@pytest.mark.libreoffice
def test_a_fifth_company_with_a_ps_is_flagged_above_the_charts(
    biren_built: Path, tmp_path: Path
) -> None:
    """Kunlunxin (full-year revenue CNY 3.5 bn) gets a market value after the build (typed, or a
    prices file): five companies have a P/S, the charts have four slots. A red line above the
    charts says so; the model check stays green (the valuation is right, a chart is short), and
    so does the formula audit of `gpuval check` (its fresh build, from the workbook's own peer
    table, has five slots: the line's formula reads the slots from a name, not a number)."""
    values = _edited(biren_built, tmp_path, peers_kunlunxin__market_value=100e9)
    names, _, _ = _bars(values)
    assert names == ["Biren Technology", "Moore Threads", "MetaX", "Kunlunxin"]  # NVIDIA cut off
    shown = [c.value for row in values["Peer statistics"].iter_rows(max_col=1) for c in row
             if isinstance(c.value, str) and c.value.startswith("The charts show")]  # fmt: skip
    assert shown == ["The charts show 4 of the 5 companies with a P/S on this basis: the "
                     "target, then the first in table order (a build makes room for the "
                     "companies with a P/S in its dataset)."]  # fmt: skip
    assert named_cell(values, "chk_master").value is True
    assert audit_formulas(load_workbook(tmp_path / "edited.xlsx")) == []
    # the table of what each figure is has a line per company of the table: none is left out
    # each peer's FY2025 is not Biren's FY2024 (in_peer_years: same as the target)
    later = " (left out: another fiscal year)"
    assert [line["Company"] for line in figures(values)] == [
        "Biren Technology (the target)", f"Moore Threads{later}", f"MetaX{later}",
        f"Kunlunxin{later}", "NVIDIA (not in the statistics)"]  # fmt: skip


@pytest.mark.libreoffice
def test_a_row_inserted_in_the_peer_table_keeps_the_samples(
    biren_built: Path, tmp_path: Path
) -> None:
    """An analyst inserts an empty row above NVIDIA in LibreOffice and refreshes: the samples on
    Peer statistics still name Moore Threads and MetaX (they read the last table row by
    position, which became the empty row, and showed 0), and refresh says nothing of the row
    (it noted "None: not in dataset ..."). The analyst counts any fiscal year, so that the
    FY2025 A-share peers join the samples beside Biren's FY2024."""
    require_uno()
    title, cell = next(iter(load_workbook(biren_built).defined_names["in_peer_years"].destinations))
    edited = edit_in_libreoffice(biren_built, tmp_path / "inserted.xlsx", [
        InsertRows("Peers", at=12), SetValue(title, cell.replace("$", ""), "any")])  # fmt: skip
    report = refresh(edited)  # computes every formula in LibreOffice
    assert not [line for line in report.lines() if "None" in line], report.lines()
    values = load_workbook(edited, data_only=True)
    assert named_cell(values, "chk_master").value is True
    shown = {r[0]: r[2] for r in values["Peer statistics"].iter_rows(values_only=True)}
    assert shown["Sample"] == "Moore Threads, MetaX"
    assert shown["A-share sample"] == "Moore Threads, MetaX"
    assert shown["Hong Kong sample"] == "Biren Technology (the target alone)"


@pytest.mark.libreoffice
@pytest.mark.parametrize(
    ("sheet", "cell"),
    [("Peers", "AU7"), ("Peer statistics", "J77")],  # Moore Threads' P/S; the second bar's
    ids=["peer-table-chart-column", "slot-column"],
)
def test_an_error_in_a_chart_column_fails_its_check(
    biren_built: Path, tmp_path: Path, sheet: str, cell: str
) -> None:
    """#N/A is a skipped point in the charts' helper columns; any other error (here #DIV/0! typed
    over a P/S) fails the one check that covers them, which the error scan does not."""
    wb = load_workbook(biren_built)
    assert str(wb[sheet][cell].value).startswith("=")  # a chart formula, typed over
    wb[sheet][cell] = "=1/0"
    wb.save(tmp_path / "edited.xlsx")
    values = load_workbook(recalculate(tmp_path / "edited.xlsx"), data_only=True)
    assert _check(values, f"The charts' helper columns on {sheet}") is False
    assert _check(values, f"No error value on {sheet}") is True  # it stops left of them
    assert named_cell(values, "chk_master").value is False


def test_the_dcf_axis_shows_negatives_in_parentheses_without_conditions(charts) -> None:
    """Free cash flow goes negative. LibreOffice's charts put a minus sign before the parentheses
    of a conditional section ("-(500.0 m)", seen rendered), and a chart takes no conditional
    format: so the axis format is two plain sections, the negative one in parentheses."""
    root = _chart(charts, "Revenue and free cash flow")
    code = root.find(f"{C}chart//{C}valAx/{C}numFmt").get("formatCode")
    positive, negative = code.split(";")
    assert "[" not in code
    assert negative == f"({positive})"
