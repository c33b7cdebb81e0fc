"""The embedded dataset: provenance of every figure and the derived figures recomputed by hand."""

import math
import tomllib
from pathlib import Path

import pytest

import conftest
import gpuval
from gpuval.data.dataset import COLUMNS, default_dataset_path, load_dataset, records

RAW = tomllib.loads(default_dataset_path().read_text(encoding="utf-8"))


def _collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    "sentence", RAW["sentence"], ids=[s["figure"][0]["id"] for s in RAW["sentence"]]
)
def test_every_quote_is_in_its_seed(sentence: dict, seeds_dir: Path) -> None:
    """Read straight from the TOML and the seed files, not through the loader."""
    seed = _collapse((seeds_dir / sentence["source"]).read_text(encoding="utf-8"))
    assert _collapse(sentence["text"]) in seed
    for figure in sentence["figure"]:
        assert figure["written"] in sentence["text"], figure["id"]


def test_the_embedded_dataset_passes_the_loaders_quote_check(seeds_dir: Path) -> None:
    """The loader finds every quote in its seed (it raises on the first it cannot find)."""
    dataset = load_dataset(seeds=seeds_dir)
    assert dataset.seeds_checked


def test_every_seed_is_cited(seeds_dir: Path) -> None:
    cited = {s["source"] for s in RAW["sentence"]}
    assert cited == {p.name for p in seeds_dir.glob("*.txt")}


def test_every_record_has_provenance() -> None:
    dataset = load_dataset()
    for rec in dataset.records.values():
        assert rec.source.endswith(".txt"), rec.id
        assert rec.quote, rec.id
        if rec.kind == "derived" and rec.how:
            assert rec.quote.startswith("derived: ")
        elif rec.unit != "date":
            assert rec.written and rec.value is not None, rec.id


def _value(record_id: str) -> float:
    return load_dataset()[record_id].number


@pytest.mark.parametrize(
    ("record_id", "expected"),
    [
        # 1027億港元 at the first-day high of 42.88港元: 102,700,000,000 / 42.88 shares
        ("biren.shares_outstanding", 102_700_000_000 / 42.88),
        # offer 19.6 x (1 + 75.8%) = 19.6 x 1.758 = 34.4568
        ("biren.first_day_close_price", 34.4568),
        # 855.4亿 / (1027亿 / 42.88) = 855.4 x 42.88 / 1027 = 35.71524...
        ("biren.share_price.2026-01-05", 855.4 * 42.88 / 1027),
        # run-rate = H1 x 2: 7亿 x 2 and 28.8亿 x 2
        ("moore_threads.revenue_run_rate.2025", 1_400_000_000),
        ("cambricon.revenue_run_rate.2025", 5_760_000_000),
        # E Fund: 2.03亿元 for 194.09万股 -> 203,000,000 / 1,940,900 = 104.5907 CNY per share
        ("metax.ipo_offer_price_implied", 203_000_000 / 1_940_900),
        # 4.89万亿美元 / 201.03美元 = 24.3247e9 shares
        ("nvidia.shares_outstanding.2025-10-29", 4.89e12 / 201.03),
        # China is 15% of revenue at 180亿美元 -> 1200亿美元
        ("nvidia.revenue_global_implied", 120_000_000_000),
        # 150亿元 / 5万元 per GPU = 300,000 GPUs
        ("sector.gpu_units.2025", 300_000),
        # 110亿美元 / 855.4亿港元; 70亿美元 / 512亿港元; 3500亿 / 500亿
        ("fx.usd_per_hkd", 110 / 855.4),
        ("fx.usd_per_hkd.zhipu", 70 / 512),
        ("fx.cny_per_usd", 7.0),
        ("fx.cny_per_hkd", 7 * 110 / 855.4),
    ],
)
def test_derived_values_recomputed(record_id: str, expected: float) -> None:
    assert math.isclose(_value(record_id), expected, rel_tol=1e-12)


def test_derived_records_say_how() -> None:
    rec = load_dataset()["biren.shares_outstanding"]
    assert rec.kind == "derived"
    assert rec.how == "biren.market_cap_first_day_high / biren.first_day_high_price"
    assert "102,700,000,000 HKD" in rec.quote and "42.88 HKD" in rec.quote


def test_a_figure_derived_from_an_approximate_one_is_approximate() -> None:
    """NVIDIA's revenue is "约180亿美元" (about) / 15%: about 120 bn, never a point value; Biren's
    share count, from two stated figures, is not qualified; the CNY per HKD rate, from a rate
    computed from an approximate one, is approximate too."""
    ds = load_dataset()
    assert ds["nvidia.revenue_global_implied"].qualifier == "about"
    assert ds["biren.shares_outstanding"].qualifier == ""
    assert ds["fx.cny_per_hkd"].qualifier == "about"


@pytest.mark.parametrize(
    ("record_id", "value", "unit", "kind", "qualifier"),
    [
        ("biren.order_backlog", 1_240_000_000, "CNY", "reported", "about"),
        ("biren.first_day_high_return", 1.1255, "fraction", "reported", "over"),
        ("cambricon.ps_ratio", 100, "multiple", "reported", "over"),  # "百倍以上"
        # company guidance (营收预期的上限, 预计营收上限, 归母净利润预计): guidance kinds
        ("metax.revenue.2025.high", 1_980_000_000, "CNY", "guidance_high", "up_to"),
        ("metax.net_income.2025.low", -763_000_000, "CNY", "guidance_low", ""),
        ("metax.net_income.2025.high", -527_000_000, "CNY", "guidance_high", ""),
        ("moore_threads.revenue.2025.high", 1_498_000_000, "CNY", "guidance_high", "up_to"),
        ("moore_threads.net_income.2025.low", -1_168_000_000, "CNY", "guidance_low", ""),
        ("moore_threads.net_income.2025.high", -730_000_000, "CNY", "guidance_high", ""),
        ("kunlunxin.net_income.2024.low", -300_000_000, "CNY", "range_low", ""),
        ("kunlunxin.net_income.2024.high", -200_000_000, "CNY", "range_high", ""),
        ("biren.backlog_delivery_months.low", 12, "months", "range_low", ""),
        ("biren.backlog_delivery_months.high", 18, "months", "range_high", ""),
        # "AI三小龙,合计营收70亿元,市值1.2万亿元" is a 流行梗 (market quip)
        ("sector.top3_market_cap", 1_200_000_000_000, "CNY", "quip", ""),
        ("sector.top3_revenue", 7_000_000_000, "CNY", "quip", ""),
        ("nvidia.market_cap_peak", 5_000_000_000_000, "USD", "reported", ""),
    ],
)
def test_ranges_and_qualifiers_kept(
    record_id: str, value: float, unit: str, kind: str, qualifier: str
) -> None:
    rec = load_dataset()[record_id]
    assert (rec.value, rec.unit, rec.kind, rec.qualifier) == (value, unit, kind, qualifier)


def test_entities_have_names_and_venues() -> None:
    entities = load_dataset().entities
    assert entities["biren"].ticker == "06082.HK"
    assert entities["biren"].name_zh == "壁仞科技"
    assert {entities[e].venue for e in ("moore_threads", "metax", "cambricon")} == {"A"}
    assert {entities[e].venue for e in ("biren", "kunlunxin", "iluvatar_corex")} == {"HK"}
    listed = {e: (entities[e].ticker, entities[e].exchange) for e in entities if entities[e].ticker}
    assert listed == {
        "biren": ("06082.HK", "HKEX"),
        "moore_threads": ("688795.SH", "SSE STAR"),
        "metax": ("688802.SH", "SSE STAR"),
        "cambricon": ("688256.SH", "SSE STAR"),
        "nvidia": ("NVDA", "NASDAQ"),
    }


def test_records_dataframe() -> None:
    frame = gpuval.records()
    assert list(frame.columns) == list(COLUMNS)
    assert frame["value"].dtype == "float64"
    assert frame["id"].is_unique
    assert len(frame) == len(load_dataset().records)
    biren = records("biren")
    assert set(biren["entity"]) == {"biren"}
    assert biren.set_index("id").loc["biren.revenue.2024", "value"] == 337_000_000
    listing_date = biren.set_index("id").loc["biren.listing_date", "value"]
    assert isinstance(listing_date, float) and math.isnan(listing_date)


@pytest.mark.parametrize(
    ("where", "require", "outcome", "line"),
    [
        ("present", "1", "passed", ""),
        ("missing", "", "skipped", "*seed corpus *missing not found*set GPUVAL_REQUIRE_SEEDS=1*"),
        ("missing", "1", "errors", "*seed corpus *missing not found*GPUVAL_REQUIRE_SEEDS is set*"),
    ],
)
def test_seeds_policy_end_to_end(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    require: str,
    outcome: str,
    line: str,
) -> None:
    """``seeds_dir`` is ``$GPUVAL_SEEDS``; missing, it skips visibly or, if required, fails."""
    seeds = pytester.path / where
    if where == "present":
        seeds.mkdir()
    monkeypatch.setenv("GPUVAL_SEEDS", str(seeds))
    monkeypatch.setenv("GPUVAL_REQUIRE_SEEDS", require)
    monkeypatch.setenv("PYTHONPATH", str(conftest.REPO_ROOT / "src"))
    pytester.makeconftest(Path(conftest.__file__).read_text())
    pytester.makeini("[pytest]\nmarkers =\n    libreoffice: needs LibreOffice\n")
    pytester.makepyfile(
        f"""
        from pathlib import Path

        def test_seeds(seeds_dir):
            assert seeds_dir == Path({str(seeds)!r})
        """
    )
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(**{outcome: 1})
    if line:
        result.stdout.fnmatch_lines([line])


# --- each figure says what its sentence says ----------------------------------------------------


def test_figures_are_filed_under_what_their_sentence_describes() -> None:
    by_entity: dict[str, set[str]] = {}
    for rec in load_dataset().records.values():
        by_entity.setdefault(rec.entity, set()).add(rec.id)
    # 灼識咨詢 (CIC): China's intelligent-computing *chip* market, and nothing else
    assert by_entity["china_ai_chip_market"] == {
        "market.size.2024",
        "market.size.2029",
        "market.size_cagr.2024_2029",
    }
    # IDC's 中国AI算力市场 and the 中国智能算力规模 (EFLOPS) describe AI compute, not chips
    assert by_entity["china_ai_compute"] == {
        "market.ai_compute_size.2026",
        "market.ai_compute_cagr",
        "market.compute_capacity.2025",
        "market.compute_capacity_cagr.2023_2028",
    }
    # 全球AI算力市场规模 ... 中国占比38%
    assert by_entity["global_ai_compute_market"] == {
        "market.global_ai_compute_size.2025",
        "market.china_share_of_global_ai_compute.2025",
    }
    assert by_entity["china_llm_api_market"] == {"market.api_token_price_decline.2024"}
    # 美光CEO ... 公司仅能满足关键客户大约“二分之一到三分之二”的需求
    assert by_entity["micron"] == {
        "market.hbm_demand_met_share.2026.low",
        "market.hbm_demand_met_share.2026.high",
    }
    kinds = {e.id: e.kind for e in load_dataset().entities.values()}
    assert {kinds[e] for e in ("china_ai_compute", "global_ai_compute_market")} == {"market"}


def test_a_market_quip_is_never_a_reported_figure() -> None:
    dataset = load_dataset()
    quipped = [r for r in dataset.records.values() if "流行梗" in r.quote]
    assert {r.id for r in quipped} == {
        "sector.top3_revenue",
        "sector.top3_market_cap",
        "sector.top3_ps_ratio",
    }
    for rec in quipped:
        assert rec.kind in ("quip", "derived"), rec.id
        assert "quip" in rec.note, rec.id


def test_records_claim_no_period_their_sentence_lacks() -> None:
    dataset = load_dataset()
    # 寒武紀...市值對應P/S倍數高達百倍以上: no date and no revenue basis for the multiple
    assert dataset["cambricon.ps_ratio"].period == ""
    # 目前确认兑现的营收只有3亿元: no year
    assert dataset["biren.revenue.s002"].period == ""
    assert "inference" in dataset["biren.revenue.s002"].note


def test_a_period_read_from_context_is_explained() -> None:
    """A figure whose period's year is not in its own sentence says where the period is from."""
    for rec in load_dataset().records.values():
        if rec.kind == "derived" and rec.how:
            continue
        if rec.period and rec.period[:4] not in rec.quote:
            assert rec.note, rec.id


def test_peaks_are_not_point_values() -> None:
    """一度 / 巅峰 figures are peaks: their metric says so, and no peer market value but MetaX's
    (the only one its sources give) uses one."""
    dataset = load_dataset()
    for rid in (
        "moore_threads.market_cap_peak.s000",
        "moore_threads.market_cap_peak.s002",
        "metax.market_cap_peak.s000",
        "metax.market_cap_peak.s002",
        "nvidia.market_cap_peak",
        "biren.market_cap_first_day_high",
    ):
        metric = dataset[rid].metric
        assert "peak" in metric or "first_day_high" in metric, rid
    peak_fed = {
        p.entity
        for p in dataset.peers
        if p.market_value and "peak" in dataset[p.market_value].metric
    }
    assert peak_fed == {"metax"}
