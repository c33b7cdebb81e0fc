"""The workbook's charts, read from the package XML (the football field's tests are in
test_valuation_dashboard.py): the peer scatter reads the #N/A chart columns, the DCF's year
labels sit low, the market chart has one value axis; and LibreOffice finds no error value
outside the chart columns for any target."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from gpuval.workbook.build import build
from workbook_helpers import chart_cells, error_cells, named_cell

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
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
    xs = {s.find(f"{C}xVal//{C}f").text for s in root.iter(f"{C}ser")}
    ys = {s.find(f"{C}yVal//{C}f").text for s in root.iter(f"{C}ser")}
    # 7 companies, one series each, on the last chart columns (AP: revenue, AQ: market value)
    assert len(xs) == 7 and all("$AP$" in f for f in xs) and all("$AQ$" in f for f in ys)


def test_ps_bars_highlight_the_target_with_upright_ids(charts) -> None:
    root = _chart(charts, "P/S on the chosen basis")
    assert {"P/S", "Target", "Peer median"} <= set(_series(root))
    assert root.find(f".//{C}catAx/{C}txPr/{A}bodyPr").get("rot") == "0"


def test_dcf_year_labels_low(charts) -> None:
    root = _chart(charts, "Revenue and free cash flow")
    assert root.find(f".//{C}catAx/{C}tickLblPos").get("val") == "low"


def test_market_chart_has_one_visible_value_axis(charts) -> None:
    root = _chart(charts, "China AI-chip market")
    axes = root.findall(f".//{C}plotArea/{C}valAx")
    assert len(axes) == 1 and axes[0].find(f"{C}delete").get("val") == "0"


@pytest.mark.parametrize("target", ["biren", "moore_threads", "metax", "nvidia"])
def test_na_only_in_chart_columns(target: str, tmp_path: Path, recalc) -> None:
    values = load_workbook(recalc(build(tmp_path / f"{target}.xlsx", target=target)),
                           data_only=True)  # fmt: skip
    assert error_cells(values) == []
    assert named_cell(values, "chk_master").value is True
    # the chart columns do hold #N/A (the companies without a revenue have no point)
    gaps = [c for c in chart_cells(values)
            if values[c.split("!")[0]][c.split("!")[1]].value == "#N/A"]  # fmt: skip
    assert gaps
