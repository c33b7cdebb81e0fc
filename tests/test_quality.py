"""The quality report finds the sources' own inconsistencies, real and planted."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gpuval.cli import main
from gpuval.data.dataset import default_dataset_path, load_dataset
from gpuval.data.quality import Check, check_relations, interval

RAW = tomllib.loads(default_dataset_path().read_text(encoding="utf-8"))


def by_stated(checks: list[Check]) -> dict[str, Check]:
    return {c.stated.id: c for c in checks}


def test_real_inconsistency_biren_first_day_gain() -> None:
    """000 says the high of 42.88 is "超112.55%" over the 19.6 offer; 42.88/19.6 - 1 = 118.78%."""
    checks = check_relations(load_dataset())
    bad = [c for c in checks if not c.consistent]
    assert [c.stated.id for c in bad] == ["biren.first_day_high_return"]
    finding = bad[0]
    assert finding.inputs[0].id == "biren.ipo_offer_price"
    assert finding.inputs[1].id == "biren.first_day_high_price"
    # 42.88 / 19.6 = 2.18775510...; gain 1.18775510 - 1.1255 = 0.06225510 (6.23 pp)
    assert finding.computed == pytest.approx(42.88 / 19.6 - 1, rel=1e-12)
    assert finding.gap == pytest.approx(0.0622551, abs=1e-7)
    text = finding.describe()
    assert "biren.first_day_high_return" in text and "biren.first_day_high_price" in text
    assert "+6.23 percentage points" in text and "INCONSISTENT" in text


def test_consistent_relations_are_reported_with_their_gap() -> None:
    checks = by_stated(check_relations(load_dataset()))
    # Stated 46.3%; (2012/301)^(1/5) - 1 = 46.22%: within the rounding of 301, 2012 and 46.3%.
    cagr = checks["market.size_cagr.2024_2029"]
    assert cagr.computed == pytest.approx((2012 / 301) ** 0.2 - 1, rel=1e-12)
    assert cagr.consistent
    # Two HKD->USD conversions: 110/855.4 = 0.12859 vs 70/512 = 0.13672, a 5.9% gap that the
    # rounding of "约70亿美元" (65..75) covers.
    fx = checks["fx.usd_per_hkd.zhipu"]
    assert fx.relative_gap == pytest.approx((110 / 855.4) / (70 / 512) - 1, rel=1e-12)
    assert fx.consistent
    # "超过170倍" vs 1.2万亿 / 70亿 = 171.4
    assert checks["sector.top3_ps_ratio"].computed == pytest.approx(1.2e12 / 7e9)
    assert checks["sector.top3_ps_ratio"].consistent


def test_intervals_follow_written_precision_and_qualifier() -> None:
    dataset = load_dataset()
    assert interval(dataset, "biren.ipo_offer_price") == pytest.approx((19.55, 19.65))
    assert interval(dataset, "biren.first_day_high_return") == pytest.approx((1.1255, 1.1256))
    assert interval(dataset, "sector.top3_ps_ratio") == pytest.approx((170, 180))  # over
    assert interval(dataset, "metax.first_day_return.s002") == pytest.approx((6, 7))  # nearly
    # derived: [105e8, 115e8] / [855.35e8, 855.45e8]
    low, high = interval(dataset, "fx.usd_per_hkd")
    assert (low, high) == pytest.approx((105 / 855.45, 115 / 855.35), rel=1e-12)


def _plant(data: dict[str, Any], record_id: str, old: str, new: str) -> None:
    """Change a figure as written, in its sentence too (the seed check is off for fixtures)."""
    for sentence in data["sentence"]:
        for fig in sentence["figure"]:
            if fig["id"] == record_id:
                assert old in sentence["text"]
                sentence["text"] = sentence["text"].replace(old, new)
                fig["written"] = fig["written"].replace(old, new)
                return
    raise AssertionError(record_id)


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded dataset with four planted inconsistencies and one consistent sum."""
    monkeypatch.setattr("gpuval.data.dataset.default_seeds_dir", lambda: None)
    data = json.loads(json.dumps(RAW))
    _plant(data, "market.size_cagr.2024_2029", "46.3%", "48.3%")
    _plant(data, "zhipu_ai.ipo_valuation.usd", "70亿美元", "90亿美元")
    _plant(data, "sector.top3_ps_ratio", "170倍", "250倍")
    data["sentence"].append(
        {
            "source": "planted.txt",
            "text": "甲乙合計營收11億元,其中甲4億元,乙5億元;丙丁合計9億元。",
            "figure": [
                {
                    "id": f"sector.planted_{name}",
                    "entity": "china_ai_chip_sector",
                    "metric": f"planted_{name}",
                    "unit": "CNY",
                    "kind": "reported",
                    "written": written,
                }
                for name, written in [
                    ("total", "11億元"),
                    ("a", "4億元"),
                    ("b", "5億元"),
                    ("total_ok", "9億元"),
                ]
            ],
        }
    )
    data["relation"] += [
        {
            "kind": "sum",
            "stated": "sector.planted_total",
            "inputs": ["sector.planted_a", "sector.planted_b"],
        },
        {
            "kind": "sum",
            "stated": "sector.planted_total_ok",
            "inputs": ["sector.planted_a", "sector.planted_b"],
        },
    ]
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_planted_inconsistencies_found(planted: Path) -> None:
    checks = by_stated(check_relations(load_dataset(planted)))
    found = {name for name, check in checks.items() if not check.consistent}
    assert found == {
        "biren.first_day_high_return",  # the real one is still there
        "market.size_cagr.2024_2029",  # 48.3% vs 46.22%
        "fx.usd_per_hkd.zhipu",  # 90/512 = 0.1758 vs 110/855.4 = 0.1286
        "sector.top3_ps_ratio",  # over 250 vs 171.4
        "sector.planted_total",  # 11 vs 4 + 5 = 9
    }
    assert checks["sector.planted_total"].gap == pytest.approx(-200_000_000)
    assert checks["sector.planted_total_ok"].consistent
    assert checks["market.size_cagr.2024_2029"].gap == pytest.approx(
        (2012 / 301) ** 0.2 - 1 - 0.483, rel=1e-12
    )


def test_cli_quality_report(planted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "--quality", "--dataset", str(planted)]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[-1] == f"5 inconsistent of {len(RAW['relation']) + 2} checks."
    planted_line = next(line for line in lines if line.startswith("sector.planted_total "))
    assert "sector.planted_a, sector.planted_b" in planted_line
    assert "gap -200,000,000 CNY (-18.18%)" in planted_line


def test_cli_quality_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "--quality", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["status"] == "INCONSISTENT"
    assert rows[0]["stated"] == "biren.first_day_high_return"
    assert rows[0]["inputs"] == "biren.ipo_offer_price, biren.first_day_high_price"
    assert all(row["status"] == "ok" for row in rows[1:])
