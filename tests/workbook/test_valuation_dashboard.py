"""The Valuation dashboard and the Cover's headline: price and its date, the weighted value
across methods (hand-checked against the core's figures), upside in parentheses when negative,
the football field horizontal, stacked, sorted by Mid, with the price line across the plot."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openpyxl import load_workbook

from gpuval.workbook.build import build
from gpuval.workbook.evaluate import evaluate
from gpuval.workbook.sheets import valuation
from gpuval.workbook.sheets.valuation_chart import _COLUMNS, HELPER
from workbook_helpers import named_cell

SCOPED = ("Scenarios", "Sensitivity", "Monte Carlo", "Implied")
OUT = "a share of China's AI-chip market, which the Valuation sheet leaves out."

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
DEFAULTS = {"peers": 0.30, "tam": 0.40, "dcf": 0.30, "mc": 0.0, "venue": 0.0, "nvidia": 0.0}
"""The default weights the note on the sheet states."""


def _football(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/chart"):
                root = etree.fromstring(z.read(name))
                if "".join(root.find(f"{C}chart/{C}title").itertext()).startswith("Football"):
                    return root
    raise AssertionError("no football field chart")


@pytest.fixture(scope="module")
def biren(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("dash") / "biren.xlsx", target="biren")


def test_the_football_field_is_horizontal_stacked_bars_without_masks(biren: Path) -> None:
    root = _football(biren)
    groups = root.findall(f".//{C}barChart")
    assert len(groups) == 2  # the price line, and the methods' bars
    for group in groups:
        assert group.find(f"{C}barDir").get("val") == "bar"
        assert group.find(f"{C}grouping").get("val") == "stacked"
    price, bars = groups
    assert price.find(f"{C}gapWidth").get("val") == "0"  # the strip runs through every band
    assert root.find(f".//{C}scatterChart") is None and root.find(f".//{C}lineChart") is None
    fills = [e.get("val") for e in root.iter(f"{A}srgbClr")]
    assert "FFFFFF" not in [f.upper() for f in fills]  # nothing painted white over anything
    base = bars.findall(f"{C}ser")[0]
    assert base.find(f"{C}spPr/{A}noFill") is not None  # the Low base is not drawn
    assert root.find(f".//{C}plotVisOnly").get("val") == "0"  # helper columns are hidden
    # the bars' value axis: kept (explicit delete 0), no labels, the same scale by construction
    hidden = [ax for ax in root.iter(f"{C}valAx") if ax.find(f"{C}axId").get("val") == "200"]
    assert hidden[0].find(f"{C}delete").get("val") == "0"
    assert hidden[0].find(f"{C}numFmt").get("formatCode") == ";;;"  # labels print blank
    # both value axes start at 0, so a value sits at one place on both (left to itself,
    # LibreOffice started NVIDIA's price axis at 185, with the bars still measured from 0)
    minimums = [ax.find(f"{C}scaling/{C}min") for ax in root.iter(f"{C}valAx")]
    assert [float(m.get("val")) for m in minimums if m is not None] == [0.0, 0.0]
    wb = load_workbook(biren)
    ws = wb[valuation.TITLE]
    first_helper = ws.cell(valuation.TABLE, HELPER).column_letter
    assert ws.column_dimensions[first_helper].hidden
    assert ws.column_dimensions[first_helper].outline_level == 1


def _helper(ws: Any, name: str) -> list[Any]:
    column = HELPER + _COLUMNS.index(name)
    return [ws.cell(r, column).value for r in range(valuation.FIRST, valuation.FIRST + 5)]


@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["biren", "metax"])
def test_dashboard_headline_and_football_field(target: str, tmp_path: Path, recalc) -> None:
    built = build(tmp_path / f"{target}.xlsx", target=target)
    wb = load_workbook(recalc(built), data_only=True)
    ws = wb[valuation.TITLE]
    core = evaluate(built)
    assert named_cell(wb, "chk_master").value is True
    fx = named_cell(wb, "tgt_fx").value
    price, _, weighted, up, prob = (
        ws[f"C{r}"].value for r in [valuation.TOP + 2 + i for i in range(5)]
    )
    if target == "biren":
        # HKD 855.4 bn over 1027e8 / 42.88 shares (the articles' figures): 35.7152, shown 35.72
        assert price == pytest.approx(855.4e8 / (1027e8 / 42.88), rel=1e-9)
        mids = [core["out_peer_median_implied_value"], core["out_value_per_share_weighted"],
                core["out_dcf_value_per_share"]]  # fmt: skip
        assert ws["B6"].value == "HKD" and ws["A6"].value == "Share price"
    else:  # MetaX: no share count, so the market value, CNY 300 bn (3000亿), and equity values
        assert price == pytest.approx(3000e8, rel=1e-9)
        assert named_cell(wb, "peer_equity_median").value == "n/a"
        mids = [None, core["out_equity_value_weighted"] * fx, core["out_dcf_equity_value"] * fx]
        assert ws["B6"].value == "CNY" and ws["A6"].value.startswith("Market value")
    # 30% peers' median, 40% the TAM scenarios' weighted value, 30% the DCF; the rest weight 0.
    # Biren has no peer of its fiscal year (FY2024), MetaX one (under the 3 the method needs):
    # the peer method drops out and the others' weights scale up to 100%
    assert core["out_peer_median_implied_value"] is None
    valued = [(w, m) for w, m in zip((0.30, 0.40, 0.30), mids, strict=True) if m is not None]
    hand = sum(w * m for w, m in valued) / sum(w for w, _ in valued)
    # the total row's weight is what the value rests on, 70%, and the line beside it says how:
    # 0.4 / 0.7 = 57% and 0.3 / 0.7 = 43%
    assert ws.cell(valuation.TOTAL, 2).value == pytest.approx(0.70, abs=1e-12)
    rests = "Rests on: TAM scenarios 57%, DCF 43%"
    assert ws.cell(valuation.TOTAL, 7).value == rests == named_cell(wb, "val_rests_on").value
    assert weighted == pytest.approx(hand, rel=1e-9)
    assert core["out_valuation_weighted"] == pytest.approx(hand, rel=1e-9)
    assert up == pytest.approx(hand / price - 1, rel=1e-9)
    shown_as = ws[f"C{valuation.TOP + 5}"].number_format.replace("\\", "")  # LO escapes ( )
    assert up < 0 and shown_as == "0.0%;(0.0%)"  # a fall shows as (39.6%)
    assert prob == named_cell(wb, "mc_prob_above").value
    # the snapshot draws the TAM scenarios' inputs: the probability is theirs, and says so
    assert ws[f"A{valuation.TOP + 6}"].value == (
        f"P(scenario value > {'price' if target == 'biren' else 'market value'}), Monte Carlo"
    )
    weights = [named_cell(wb, f"in_weight_{k}").value for k in DEFAULTS]
    assert weights == list(DEFAULTS.values())
    labels = [ws.cell(r, 1).value for r in range(valuation.FIRST, valuation.LAST + 1)]
    assert all("(reference)" in t for t, m in zip(labels, valuation.METHODS, strict=True)
               if m.key in ("venue", "nvidia"))  # fmt: skip
    # the football field: the five charted methods, sorted by Mid from the bottom bar up
    table = {ws.cell(r, HELPER).value: ws.cell(r, 4).value
             for r in range(valuation.FIRST, valuation.FIRST + 5)}  # fmt: skip
    # a method without a value (n/a) sits at the bottom, in table order, with an empty bar
    expected = sorted(table, key=lambda k: (1, table[k]) if isinstance(table[k], float) else (0, 0))
    categories = [t.split(":")[0] for t in _helper(ws, "Category (sorted)")]
    assert categories == expected
    assert "Venue re-rating (reference)" in categories
    # the price strip sits at the price in every band, and both bar groups end at one top
    tops = _helper(ws, "Top")
    for to_price, line, rest, top, low, a, b, pad in zip(
        _helper(ws, "To the price"), _helper(ws, "Price line"), _helper(ws, "Price to top"),
        tops, _helper(ws, "Low"), _helper(ws, "Low to Mid"), _helper(ws, "Mid to High"),
        _helper(ws, "Pad to top"), strict=True,
    ):  # fmt: skip
        assert to_price + line / 2 == pytest.approx(price, rel=1e-12)
        assert to_price + line + rest == pytest.approx(top, rel=1e-12)
        assert low + a + b + pad == pytest.approx(top, rel=1e-12)
    label = ws.cell(valuation.TABLE, HELPER + _COLUMNS.index("Price to top")).value
    assert label == ("Price HKD 35.72" if target == "biren" else "Market value CNY 300.0 bn")
    # the Cover repeats the headline
    cover = wb["Cover"]
    shown = {cover.cell(r, 5).value: cover.cell(r, 6).value for r in range(5, 10)}
    unit = "HKD" if target == "biren" else "CNY"
    price_label = "Share price" if target == "biren" else "Market value (no share count)"
    assert shown[f"{price_label} ({unit})"] == pytest.approx(price)
    assert any(v == pytest.approx(hand) for v in shown.values() if isinstance(v, float))
    assert any(v == pytest.approx(up) for v in shown.values() if isinstance(v, float))
    # what the price is, under the headline and on the Cover: MetaX's is a peak and a bound
    # (a past peak: the figures are measured against it, not bounds on today's value)
    what = {
        "biren": "The price above is the Peers figure: 2026-01-05 share price, derived.",
        "metax": "The market value above is the Peers figure: 2025-12 peak market value, lower "
        "bound (over). A past peak, not today's value: the upside, the probability and the "
        "implied share and growth are measured against it, not bounds on today's.",
    }[target]
    assert ws[f"A{valuation.FIGURE_NOTE}"].value == what == cover["E10"].value
    assert cover["E11"].value == rests
    # labels that say what the market figure is; the peer method says what its P/S rest on:
    # Biren's FY2024 revenue against Moore Threads' and MetaX's FY2025 guidance (2 later years)
    figure = "price" if target == "biren" else "market value"
    assert ws.cell(valuation.TABLE, 6).value == f"Upside (Mid) vs {figure}"
    assert ws.cell(valuation.IMPLIED, 7).value == (
        f"What the {figure} on Peers implies, against the model's assumption"
    )
    # Biren: share 2.95% implied vs 1.50% assumed, growth 113.1% vs 50%; MetaX: 11.5% vs 2.5%,
    # 111.6% vs 50%: both above for both
    implied = [ws.cell(valuation.IMPLIED + i, 5).value for i in (1, 2)]
    assumed = [ws.cell(valuation.IMPLIED + i, 6).value for i in (1, 2)]
    assert all(i > a for i, a in zip(implied, assumed, strict=True))
    assert (
        ws.cell(valuation.IMPLIED + 3, 7).value == "Implied vs assumed: share above, growth above."
    )
    assert ws.cell(valuation.IMPLIED + 4, 7).value == (
        f"Above: the {figure} asks for more than the model assumes."
    )
    per_share = {"biren": "... per share", "metax": "... per share: n/a, no share count"}
    assert ws.cell(valuation.NV + 4, 1).value == per_share[target]
    reading = {
        "biren": "no peer of the target's fiscal year: 2 left out; see Peer statistics",
        "metax": "n/a: 1 peer, under the 3 it needs on Inputs, 1 left out for another fiscal "
        "year; see Peer statistics",
    }
    assert ws.cell(valuation.FIRST, 7).value == (
        f"Pricing: China peers' P/S today x the target's revenue ({reading[target]})"
    )


@pytest.mark.libreoffice
def test_a_china_target_left_out_of_the_statistics_is_still_a_china_peer(
    tmp_path: Path, recalc
) -> None:
    """ "In China statistics" = no leaves a company out of the peers' statistics; for MetaX as
    the target (never in its own statistics) it changes nothing of its valuation: it is listed
    in China, so the peer P/S (here accepting its one peer) and the TAM scenarios still value
    it."""
    built = build(tmp_path / "metax.xlsx", target="metax")
    wb = load_workbook(built)
    named_cell(wb, "in_peer_min_count").value = 1
    wb.save(built)
    ids = [c[0].value for c in wb["Peers"][_range(wb, "data_peers_id")]]
    wb["Peers"][_range(wb, "data_peers_in_stats")][ids.index("metax")][0].value = "no"
    wb.save(tmp_path / "out.xlsx")
    before = load_workbook(recalc(built), data_only=True)
    after = load_workbook(recalc(tmp_path / "out.xlsx"), data_only=True)
    assert named_cell(after, "peer_reading").value == "indications"
    for name in (valuation.OUT_WEIGHTED, "peer_equity_median"):
        assert named_cell(after, name).value == pytest.approx(named_cell(before, name).value)
    tam = after[valuation.TITLE].cell(valuation.FIRST + 1, 4).value
    assert isinstance(tam, float) and tam > 0


def _range(wb: Any, name: str) -> str:
    return next(iter(wb.defined_names[name].destinations))[1].replace("$", "")


@pytest.mark.libreoffice
def test_a_negative_value_is_drawn_at_zero_and_labelled(tmp_path: Path, recalc) -> None:
    """Debt of USD 3 bn takes Biren's DCF below 0: its bar is drawn at 0 (no negative segment,
    which would push its stack past the common top and rescale the bars' axis alone), every
    stack still ends at the top, and the label gives the value."""
    wb = load_workbook(build(tmp_path / "biren.xlsx"))
    named_cell(wb, "in_dcf_debt").value = 3e9
    wb.save(tmp_path / "debt.xlsx")
    ws = load_workbook(recalc(tmp_path / "debt.xlsx"), data_only=True)[valuation.TITLE]
    dcf = ws.cell(valuation.FIRST + 2, 4).value
    assert dcf < 0
    segments = [_helper(ws, name) for name in ("Low", "Low to Mid", "Mid to High", "Pad to top")]
    assert all(v >= 0 for column in segments for v in column)
    for low, a, b, pad, top in zip(*segments, _helper(ws, "Top"), strict=True):
        assert low + a + b + pad == pytest.approx(top, rel=1e-12)
    label = next(t for t in _helper(ws, "Category (sorted)") if t.startswith("DCF"))
    assert label == f"DCF: -{-dcf:,.2f}", label  # TEXT(x,"#,##0.00") of a negative


@pytest.mark.libreoffice
def test_nvidia_is_valued_by_its_dcf_alone(tmp_path: Path, recalc) -> None:
    """NVIDIA is listed in the US, no China peer ("not comparable"): the China peers' P/S, the TAM
    scenarios (a share of China's AI-chip market) and the Monte Carlo (their inputs drawn) give
    it no value, so its DCF carries the whole weight, and 1% of NVIDIA is no reference for
    NVIDIA."""
    built = build(tmp_path / "nvidia.xlsx", target="nvidia")
    wb = load_workbook(recalc(built), data_only=True)
    ws = wb[valuation.TITLE]
    core = evaluate(built)
    assert named_cell(wb, "peer_reading").value == "not comparable"
    rows = {m.key: valuation.FIRST + i for i, m in enumerate(valuation.METHODS)}
    for key in ("peers", "tam", "mc"):
        assert [ws.cell(rows[key], c).value for c in range(3, 7)] == ["n/a"] * 4, key
    assert core["out_peer_median_implied_value"] is None
    assert ws.cell(rows["peers"], 7).value.endswith("(not comparable: see Peer statistics)")
    # the DCF's 30% is all the weight left: the weighted value is the DCF's value
    dcf = ws.cell(rows["dcf"], 4).value
    assert isinstance(dcf, float) and dcf > 0
    weighted = named_cell(wb, valuation.OUT_WEIGHTED).value
    assert weighted == pytest.approx(dcf, rel=1e-12)
    assert ws.cell(valuation.TOTAL, 2).value == pytest.approx(0.30, abs=1e-12)  # the DCF's
    assert core[valuation.OUT_WEIGHTED] == pytest.approx(dcf, rel=1e-9)
    assert core["out_dcf_value_per_share"] == pytest.approx(dcf, rel=1e-9)
    assert ws[f"C{valuation.TOP + 6}"].value == "n/a"  # P(value > price): the TAM inputs' draws
    assert named_cell(wb, "out_nvidia_share_equity_value").value == "n/a"
    assert core["out_nvidia_share_equity_value"] is None
    assert ws.cell(valuation.NV + 3, 1).value == "Value of that fraction: n/a, NVIDIA is the target"
    assert ws.cell(valuation.IMPLIED + 3, 7).value == (
        "Not a China peer: valued by its DCF alone; no share of China's market applies."
    )
    # its market value would be 281.7% of China's exit-year market: no headline figure
    share = valuation.IMPLIED + 1
    assert [ws.cell(share, c).value for c in (5, 6)] == ["n/a", "n/a"]
    assert isinstance(named_cell(wb, "out_implied_share").value, float)  # on Implied, as worked
    # the sheets that value a share of China's market say, beside their model check, that the
    # Valuation sheet leaves them out
    assert {title: wb[title]["B3"].value for title in SCOPED} == {
        "Scenarios": "Not a China peer: these scenarios value " + OUT,
        "Sensitivity": "Not a China peer: these grids vary the Base scenario, " + OUT,
        "Monte Carlo": "Not a China peer: the draws vary the scenarios' inputs, " + OUT,
        "Implied": "Not a China peer: only the DCF-implied growth below reads for this target.",
    }


@pytest.mark.libreoffice
def test_implied_below_assumed_is_said_so(tmp_path: Path, recalc) -> None:
    """Biren's Base share assumed at 5%, above the 2.95% its price implies (USD 11.0 bn over
    USD 373.4 bn at 100% share); the growth still implied above assumed (113.1% vs 50%)."""
    wb = load_workbook(build(tmp_path / "biren.xlsx"))
    named_cell(wb, "in_share_base").value = 0.05
    wb.save(tmp_path / "edited.xlsx")
    ws = load_workbook(recalc(tmp_path / "edited.xlsx"), data_only=True)[valuation.TITLE]
    assert ws.cell(valuation.IMPLIED + 1, 5).value == pytest.approx(11.0e9 / 373.4e9, rel=1e-3)
    assert ws.cell(valuation.IMPLIED + 3, 7).value == (
        "Implied vs assumed: share at or below, growth above."
    )


@pytest.mark.libreoffice
def test_another_targets_monte_carlo_is_not_read(tmp_path: Path) -> None:
    """The snapshot is drawn for the target of the last build or refresh (Biren here). Switch
    the drop-down to MetaX without a refresh: the Monte Carlo row and P(value > price) show n/a
    (MetaX's values would otherwise be Biren's HKD draws), the weighted value drops nothing it
    counts (weight 0), and the Python core agrees."""
    from gpuval.pipeline.recalc import recalculate

    built = build(tmp_path / "biren.xlsx", target="biren")
    wb = load_workbook(built)
    named_cell(wb, "in_target").value = "metax"
    wb.save(tmp_path / "metax.xlsx")
    values = load_workbook(recalculate(tmp_path / "metax.xlsx"), data_only=True)
    ws = values[valuation.TITLE]
    row = next(c.row for c in ws["A"] if c.value == "Monte Carlo snapshot: P10-P90, median")
    assert [ws.cell(row, col).value for col in (3, 4, 5)] == ["n/a"] * 3
    shown = [ws.cell(r, 3).value for r in range(1, 20)
             if str(ws.cell(r, 1).value).startswith("P(scenario value >")]  # fmt: skip
    assert shown == ["n/a"]
    assert named_cell(values, "chk_master").value is True
    notes = {title: values[title]["B3"].value for title in SCOPED}  # China peers: no note
    assert notes.pop("Monte Carlo") == (  # but the snapshot says it is Biren's, in red
        "Snapshot of other inputs or another target: gpuval refresh redraws it. "
    )
    assert list(notes.values()) == [None] * 3
    python = evaluate(tmp_path / "metax.xlsx")
    assert python[valuation.OUT_WEIGHTED] == pytest.approx(
        named_cell(values, valuation.OUT_WEIGHTED).value, rel=1e-9
    )
