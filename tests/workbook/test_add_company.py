"""A company added through a dataset file only (its sentences in a seed file of its own, an
[[entity]] and a [[peer]] entry) appears on Peers, in the Target list and in the peer
statistics, and values as the target, with no code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gpuval.data.dataset import default_dataset_path, load_dataset
from gpuval.workbook.build import build, build_workbook
from gpuval.workbook.evaluate import evaluate
from workbook_helpers import close, error_cells, named_cell, target_list

SEED = "900_example_chip.txt"
TEXT = (
    "2026年1月9日,示例芯片在港交所掛牌上市,總市值120億港元。\n示例芯片2024年全年營收4億元人民幣。\n"
)
ADDED = f'''
[[entity]]
id = "example_chip"
name_en = "Example Chip"
name_zh = "示例芯片"
kind = "company"
venue = "HK"
exchange = "HKEX"
ticker = "09999.HK"
listing_currency = "HKD"

[[sentence]]
source = "{SEED}"
text = "2026年1月9日,示例芯片在港交所掛牌上市,總市值120億港元。"
[[sentence.figure]]
id = "example_chip.market_cap.2026-01-09"
entity = "example_chip"
metric = "market_cap"
unit = "HKD"
period = "2026-01-09"
kind = "reported"
written = "120億港元"

[[sentence]]
source = "{SEED}"
text = "示例芯片2024年全年營收4億元人民幣。"
[[sentence.figure]]
id = "example_chip.revenue.2024"
entity = "example_chip"
metric = "revenue"
unit = "CNY"
period = "2024"
kind = "reported"
written = "4億元"

[[peer]]
entity = "example_chip"
market_value = "example_chip.market_cap.2026-01-09"
revenue_fy = "example_chip.revenue.2024"
in_stats = true
'''


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(dataset file, seed folder): the embedded dataset and its seeds plus the new company."""
    from conftest import seeds_location

    folder = tmp_path_factory.mktemp("added")
    seeds = folder / "seeds"
    shutil.copytree(seeds_location(), seeds)
    (seeds / SEED).write_text(TEXT, encoding="utf-8")
    dataset = folder / "dataset.toml"
    dataset.write_text(default_dataset_path().read_text(encoding="utf-8") + ADDED, "utf-8")
    return dataset, seeds


def test_the_company_is_on_peers_and_in_the_target_list(files: tuple[Path, Path]) -> None:
    dataset, seeds = files
    book = build_workbook(dataset=load_dataset(dataset, seeds=seeds))
    assert book.values["data_peers_id"][-1] == "example_chip"
    assert book.values["data_peers_market_value"][-1] == 120e8
    assert book.values["data_peers_fy_basis"][-1] == "FY2024 reported"
    assert "example_chip" in book.values["data_assumption_ids"]
    assert "example_chip" in target_list(book.wb)


def hand_ps() -> dict[str, float]:
    """Full-year P/S by hand, USD at the articles' 110/855.4 USD per HKD and 7 CNY per USD."""
    usd_per_hkd, cny_per_usd = 110 / 855.4, 3500 / 500
    return {
        "example_chip": 120e8 * usd_per_hkd / (4e8 / cny_per_usd),  # 27.0x
        "moore_threads": 3000e8 / 14.98e8,  # both in CNY: 200.3x
        "metax": 3000e8 / 19.8e8,  # 151.5x
        "biren": 855.4e8 * usd_per_hkd / (3.37e8 / cny_per_usd),  # 228.5x
    }


def _any_year(built: Path) -> Path:
    """``built`` counting each company's latest fiscal year (``in_peer_years`` = "any")."""
    wb = load_workbook(built)
    named_cell(wb, "in_peer_years").value = "any"
    path = built.with_name(f"{built.stem}_any.xlsx")
    wb.save(path)
    return path


@pytest.mark.libreoffice
def test_the_company_counts_in_the_statistics(files: tuple[Path, Path], tmp_path: Path,
                                              recalc) -> None:  # fmt: skip
    dataset, seeds = files
    built = build(tmp_path / "biren.xlsx", dataset_path=dataset, seeds=seeds)
    ps = hand_ps()
    # like with like: Example Chip's FY2024 is Biren's fiscal year, the A-share peers' FY2025 is
    # not: it is Biren's one peer, and the gap has no A-share side
    values = load_workbook(recalc(built), data_only=True)
    assert named_cell(values, "peer_count").value == 1
    assert named_cell(values, "peer_median").value == pytest.approx(ps["example_chip"])
    assert named_cell(values, "peer_other_years").value == 2
    assert named_cell(values, "out_venue_gap").value == "n/a"
    # any fiscal year: Moore Threads, MetaX and Example Chip
    values = load_workbook(recalc(_any_year(built)), data_only=True)
    assert named_cell(values, "peer_count").value == 3
    assert named_cell(values, "peer_median").value == pytest.approx(ps["metax"], rel=1e-12)
    assert named_cell(values, "peer_minimum").value == pytest.approx(ps["example_chip"])
    # the venue gap: A-share median (200.3, 151.5) over Hong Kong (228.5, 27.0)
    a_share = (ps["moore_threads"] + ps["metax"]) / 2
    hong_kong = (ps["biren"] + ps["example_chip"]) / 2
    assert named_cell(values, "out_venue_gap").value == pytest.approx(a_share / hong_kong)


@pytest.mark.libreoffice
def test_the_company_values_as_the_target(files: tuple[Path, Path], tmp_path: Path,
                                          recalc) -> None:  # fmt: skip
    dataset, seeds = files
    built = build(tmp_path / "example.xlsx", target="example_chip", dataset_path=dataset,
                  seeds=seeds)  # fmt: skip
    ps = hand_ps()
    for path, median in ((built, ps["biren"]), (_any_year(built), ps["moore_threads"])):
        values = load_workbook(recalc(path), data_only=True)
        assert error_cells(values) == []
        assert named_cell(values, "chk_master").value is True
        expected = evaluate(path)
        for name, value in expected.items():
            assert close(named_cell(values, name).value, value), name
        # no share count: per-share outputs are n/a, equity values in HKD
        assert expected["out_value_per_share_base"] is None
        # like with like, Biren's FY2024 228.5x alone: one peer, under the 3 the method needs;
        # any year: biren 228.5, moore_threads 200.3, metax 151.5 -> median 200.3x; applied to
        # Example Chip's 4亿 CNY = USD 57.1 m
        found = named_cell(values, "peer_equity_median").value
        assert (
            found == "n/a" if path == built else found == pytest.approx(median * 4e8 / 7, rel=1e-12)
        )
