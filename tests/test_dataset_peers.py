"""The peer universe as data ([[peer]] tables) and the reader's label of each figure's basis."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpuval.data.dataset import Peer, Record, load_dataset
from gpuval.data.labels import figure_label
from gpuval.errors import GpuvalError

SEED = "seed_p.txt"
SENTENCE = (
    "甲公司2024年營收3.37億元,2025年上半年營收2億元,2025年預計營收8億元,2026年預計營收15億元,"
    "市值1027億港元,股價42.88港元,在手訂單12.4億元,12-18個月交付;乙公司營收5億元。"
)


def _fig(rid: str, entity: str, metric: str, unit: str, written: str, **more: Any) -> dict:
    return (
        {"id": rid, "entity": entity, "metric": metric, "unit": unit, "written": written}
        | {"kind": "reported"}
        | more
    )


VALID: dict[str, Any] = {
    "meta": {"version": "test"},
    "entity": [
        {
            "id": "acme",
            "name_en": "Acme",
            "name_zh": "甲",
            "kind": "company",
            "listing_currency": "HKD",
            "ticker": "00001.HK",
        },
        {
            "id": "beta",
            "name_en": "Beta",
            "name_zh": "乙",
            "kind": "company",
            "listing_currency": "CNY",
        },
        {"id": "mkt", "name_en": "Market", "name_zh": "市場", "kind": "market"},
        {"id": "sector", "name_en": "Sector", "name_zh": "行業", "kind": "sector"},
    ],
    "sentence": [
        {
            "source": SEED,
            "text": SENTENCE,
            "figure": [
                _fig("acme.revenue.2024", "acme", "revenue", "CNY", "3.37億元", period="2024"),
                _fig("acme.revenue.2025h1", "acme", "revenue", "CNY", "2億元", period="2025H1"),
                _fig(
                    "acme.revenue.2025",
                    "acme",
                    "revenue",
                    "CNY",
                    "8億元",
                    period="2025",
                    kind="guidance_high",
                ),
                _fig(
                    "acme.revenue.2026",
                    "acme",
                    "revenue",
                    "CNY",
                    "15億元",
                    period="2026",
                    kind="estimate",
                ),
                _fig(
                    "acme.market_cap",
                    "acme",
                    "market_cap",
                    "HKD",
                    "1027億港元",
                    period="2026-01-05",
                ),
                _fig(
                    "acme.share_price",
                    "acme",
                    "share_price",
                    "HKD",
                    "42.88港元",
                    period="2026-01-05",
                ),
                _fig("acme.backlog", "acme", "order_backlog", "CNY", "12.4億元"),
                _fig(
                    "acme.months.low",
                    "acme",
                    "backlog_delivery_months",
                    "months",
                    "12-18個月",
                    kind="range_low",
                    value=12,
                ),
                _fig(
                    "acme.months.high",
                    "acme",
                    "backlog_delivery_months",
                    "months",
                    "12-18個月",
                    kind="range_high",
                    value=18,
                ),
                _fig("beta.revenue", "beta", "revenue", "CNY", "5億元", period="2024"),
            ],
        }
    ],
    "derived": [
        # filed under the sector, but derived only from Acme's records: it may feed Acme's row
        {
            "id": "acme.shares",
            "entity": "sector",
            "metric": "shares_outstanding",
            "unit": "shares",
            "op": "div",
            "inputs": ["acme.market_cap", "acme.share_price"],
        },
        {
            "id": "beta.shares",
            "entity": "sector",
            "metric": "shares_outstanding",
            "unit": "shares",
            "period": "2024",
            "op": "div",
            "inputs": ["beta.revenue", "acme.share_price"],
        },
    ],
    "peer": [
        {
            "entity": "acme",
            "price": "acme.share_price",
            "shares": "acme.shares",
            "market_value": "acme.market_cap",
            "revenue_fy": "acme.revenue.2025",
            "revenue_h1": "acme.revenue.2025h1",
            "revenue_forward": "acme.revenue.2026",
            "backlog": "acme.backlog",
            "backlog_months": ["acme.months.low", "acme.months.high"],
            "in_stats": True,
        },
        {"entity": "beta", "price": "", "revenue_fy": "beta.revenue", "in_stats": False},
    ],
}


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / SEED).write_text(f"{SENTENCE}\n", encoding="utf-8")
    return folder


def _load(tmp_path: Path, seeds: Path, change: Callable[[dict], object] | None = None) -> Any:
    data = copy.deepcopy(VALID)
    if change is not None:
        change(data)
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return load_dataset(path, seeds=seeds)


def test_peers_load_in_file_order_with_blanks_as_none(tmp_path: Path, seeds: Path) -> None:
    peers = _load(tmp_path, seeds).peers
    assert peers == (
        Peer(
            entity="acme",
            price="acme.share_price",
            shares="acme.shares",
            market_value="acme.market_cap",
            revenue_fy="acme.revenue.2025",
            revenue_h1="acme.revenue.2025h1",
            revenue_forward="acme.revenue.2026",
            backlog="acme.backlog",
            backlog_months=("acme.months.low", "acme.months.high"),
            in_stats=True,
        ),
        Peer(entity="beta", revenue_fy="beta.revenue", in_stats=False),
    )
    assert peers[1].price is None and peers[1].backlog_months == ()
    assert peers[1].sources() == {"revenue_fy": "beta.revenue"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        peers[0].price = "x"  # type: ignore[misc]


def test_no_peer_tables_is_an_empty_universe(tmp_path: Path, seeds: Path) -> None:
    assert _load(tmp_path, seeds, lambda d: d.pop("peer")).peers == ()


def _peer(data: dict, i: int = 0) -> dict:
    return data["peer"][i]


BAD: list[tuple[str, Callable[[dict], object], str]] = [
    ("unknown entity", lambda d: _peer(d).update(entity="gamma"),
     "peer 'gamma': entity 'gamma' is not defined in an [[entity]] table"),
    ("not a company", lambda d: _peer(d, 1).update(entity="mkt", revenue_fy=""),
     "peer 'mkt': entity 'mkt' is a market, not a company"),
    ("listed twice", lambda d: d["peer"].append({"entity": "beta"}),
     "peer 'beta': this company is listed twice in [[peer]] tables"),
    ("record missing", lambda d: _peer(d).update(price="acme.nope"),
     "peer 'acme': price record 'acme.nope' does not exist"),
    ("record of another entity", lambda d: _peer(d).update(revenue_fy="beta.revenue"),
     "peer 'acme': revenue_fy record 'beta.revenue' is a figure of 'beta', not of 'acme'"),
    ("derived from another entity", lambda d: _peer(d, 1).update(shares="beta.shares"),
     "peer 'beta': shares record 'beta.shares' is a figure of 'sector', not of 'beta'"),
    ("shares not in shares", lambda d: _peer(d).update(shares="acme.market_cap"),
     "peer 'acme': shares record 'acme.market_cap' has unit 'HKD', not 'shares'"),
    ("price not money", lambda d: _peer(d).update(price="acme.shares"),
     "peer 'acme': price record 'acme.shares' has unit 'shares', not a currency"),
    ("market value not in listing currency", lambda d: _peer(d).update(market_value="acme.backlog"),
     "peer 'acme': market_value record 'acme.backlog' is in CNY, not acme's listing currency HKD"),
    ("months not in months", lambda d: _peer(d).update(backlog_months=["acme.backlog"]),
     "peer 'acme': backlog_months[0] record 'acme.backlog' has unit 'CNY', not 'months'"),
    ("revenue not a revenue", lambda d: _peer(d).update(revenue_fy="acme.backlog"),
     "peer 'acme': revenue_fy record 'acme.backlog' is a 'order_backlog' figure, not a revenue"),
    ("forward not later", lambda d: _peer(d).update(revenue_forward="acme.revenue.2024"),
     "peer 'acme': revenue_forward record 'acme.revenue.2024' is for 2024, not a later fiscal "
     "year than revenue_fy (2025)"),
    ("h1 not a half year", lambda d: _peer(d).update(revenue_h1="acme.revenue.2024"),
     "peer 'acme': revenue_h1 record 'acme.revenue.2024' has period '2024', not a half year "
     "(YYYYH1 or YYYYH2)"),
    ("fy not a full year", lambda d: _peer(d).update(revenue_fy="acme.revenue.2025h1",
                                                    revenue_h1=""),
     "peer 'acme': revenue_fy record 'acme.revenue.2025h1' has period '2025H1', not a full "
     "fiscal year (YYYY)"),
    ("currencies mixed", lambda d: d["sentence"][0]["figure"][6].update(unit="USD"),
     "peer 'acme': its revenue and backlog records are in different currencies (CNY, USD)"),
    ("unknown field", lambda d: _peer(d).update(revenue="acme.revenue.2024"),
     "peer 'acme' has an unknown field 'revenue'"),
    ("three backlog months", lambda d: _peer(d).update(backlog_months=["a", "b", "c"]),
     "peer 'acme': field 'backlog_months'"),
    ("in_stats not a flag", lambda d: _peer(d).update(in_stats="yes"),
     "peer 'acme': field 'in_stats': input should be a valid boolean"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "message"), BAD, ids=[c[0] for c in BAD])
def test_bad_peer_is_one_sentence(
    tmp_path: Path, seeds: Path, case: str, change: Callable[[dict], object], message: str
) -> None:
    with pytest.raises(GpuvalError) as info:
        _load(tmp_path, seeds, change)
    text = str(info.value)
    assert text.startswith("peers.json: "), text
    assert message in text, text
    assert text.endswith(".") and "\n" not in text


# --- the embedded dataset's peer universe -----------------------------------------------------

EMBEDDED = load_dataset()

#: Translated from the hard-coded map the Peers sheet used before, with revenue_fy each
#: company's latest full fiscal year and revenue_h1 the H1 2025 figures.
EXPECTED = {
    "biren": Peer(
        "biren",
        price="biren.share_price.2026-01-05",
        shares="biren.shares_outstanding",
        market_value="biren.market_cap.2026-01-05",
        revenue_fy="biren.revenue.2024",
        backlog="biren.order_backlog",
        backlog_months=("biren.backlog_delivery_months.low", "biren.backlog_delivery_months.high"),
    ),
    "moore_threads": Peer(
        "moore_threads",
        market_value="moore_threads.market_cap",
        revenue_fy="moore_threads.revenue.2025.high",
        revenue_h1="moore_threads.revenue.2025h1",
    ),
    "metax": Peer(
        "metax", market_value="metax.market_cap_peak.s002", revenue_fy="metax.revenue.2025.high"
    ),
    "cambricon": Peer("cambricon", revenue_h1="cambricon.revenue.2025h1"),
    "kunlunxin": Peer("kunlunxin", revenue_fy="kunlunxin.revenue.2025"),
    "iluvatar_corex": Peer("iluvatar_corex"),
    "nvidia": Peer(
        "nvidia",
        price="nvidia.share_price.2025-10-29",
        shares="nvidia.shares_outstanding.2025-10-29",
        market_value="nvidia.market_cap.2025-10-29",
        revenue_fy="nvidia.revenue_global_implied",
        in_stats=False,
    ),
}


def test_embedded_peer_universe() -> None:
    assert {p.entity: p for p in EMBEDDED.peers} == EXPECTED
    assert [p.entity for p in EMBEDDED.peers] == list(EXPECTED)  # file order


def test_embedded_revenue_bases() -> None:
    """revenue_fy is the latest full year: FY2024 reported for Biren, FY2025 guidance (upper
    bound) for Moore Threads and MetaX, FY2025 estimate for Kunlunxin, 2025 derived for NVIDIA."""
    fy = {p.entity: EMBEDDED[p.revenue_fy] for p in EMBEDDED.peers if p.revenue_fy}
    assert {e: (r.period, r.kind) for e, r in fy.items()} == {
        "biren": ("2024", "reported"),
        "moore_threads": ("2025", "guidance_high"),
        "metax": ("2025", "guidance_high"),
        "kunlunxin": ("2025", "estimate"),
        "nvidia": ("2025", "derived"),
    }
    h1 = {p.entity: EMBEDDED[p.revenue_h1].period for p in EMBEDDED.peers if p.revenue_h1}
    assert h1 == {"moore_threads": "2025H1", "cambricon": "2025H1"}
    assert not any(p.revenue_forward for p in EMBEDDED.peers)


#: Every record a peer row uses, with its label written out by hand from the record's sentence.
PEER_LABELS = {
    "biren.share_price.2026-01-05": "2026-01-05 share price, derived",
    "biren.shares_outstanding": "2026-01-02 shares outstanding, derived",
    "biren.market_cap.2026-01-05": "2026-01-05 market value",
    "biren.revenue.2024": "FY2024 reported",
    "biren.order_backlog": "order backlog (about)",
    "biren.backlog_delivery_months.low": "backlog delivery months, range, lower bound",
    "biren.backlog_delivery_months.high": "backlog delivery months, range, upper bound",
    "moore_threads.market_cap": "2026-01 market value, lower bound (over)",  # 市值已超3000億
    "moore_threads.revenue.2025.high": "FY2025 guidance, upper bound",  # 预计营收上限
    "moore_threads.revenue.2025h1": "H1 2025 reported (about)",  # 上半年營收約7億元
    "metax.market_cap_peak.s002": "2025-12 peak market value, lower bound (over)",  # 一度超过
    "metax.revenue.2025.high": "FY2025 guidance, upper bound",  # 营收预期的上限
    "cambricon.revenue.2025h1": "H1 2025 reported (about)",
    "kunlunxin.revenue.2025": "FY2025 estimate",  # 2025年营收预计为35亿元
    "nvidia.share_price.2025-10-29": "2025-10-29 share price",
    "nvidia.shares_outstanding.2025-10-29": "2025-10-29 shares outstanding, derived",
    "nvidia.market_cap.2025-10-29": "2025-10-29 market value",
    "nvidia.revenue_global_implied": "2025 derived (about)",  # 约180亿美元 / 15%
}


def test_every_peer_record_has_its_label() -> None:
    used = {rid for p in EMBEDDED.peers for rid in [*p.sources().values(), *p.backlog_months]}
    assert used == set(PEER_LABELS)
    assert {rid: figure_label(EMBEDDED[rid]) for rid in used} == PEER_LABELS


def _record(**fields: Any) -> Record:
    base = {"entity": "acme", "metric": "revenue", "value": 1.0, "unit": "CNY", "period": "",
            "kind": "reported", "source": "s.txt", "quote": "q", "id": "acme.x"}  # fmt: skip
    return Record(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"period": "2025", "kind": "guidance_low"}, "FY2025 guidance, lower bound"),
        ({"period": "2025", "kind": "guidance_mid"}, "FY2025 guidance, midpoint"),
        (
            {"period": "2025H2", "kind": "estimate", "qualifier": "nearly"},
            "H2 2025 estimate (nearly)",
        ),
        ({"period": "2025Q1"}, "Q1 2025 reported"),
        ({"kind": "quip"}, "market quip (not reported)"),
        # a bound the qualifier states, where the kind states none
        ({"period": "2024", "qualifier": "up_to"}, "FY2024 reported, upper bound (up to)"),
        (
            {"metric": "market_cap", "period": "2025-12", "qualifier": "over"},
            "2025-12 market value, lower bound (over)",
        ),
        (
            {"metric": "market_cap_first_day_high", "period": "2026-01-02", "unit": "HKD"},
            "2026-01-02 first-day peak market value",
        ),
        ({"metric": "market_cap_peak", "period": "2025", "unit": "USD"}, "2025 peak market value"),
        (
            {"metric": "first_day_high_price", "period": "2026-01-02"},
            "2026-01-02 first-day peak share price",
        ),
        # a year that is not a company's fiscal flow stays a plain year
        ({"metric": "market_size", "period": "2029", "kind": "estimate"}, "2029 estimate"),
        ({"metric": "china_revenue_share", "period": "2025", "unit": "fraction"}, "2025 reported"),
        (
            {"metric": "share_price_change", "period": "2025-10-29", "unit": "fraction"},
            "2025-10-29 reported",
        ),
    ],
)
def test_label_rules(fields: dict[str, Any], label: str) -> None:
    assert figure_label(_record(**fields)) == label


def test_every_peak_and_bound_in_the_dataset_says_so() -> None:
    for rec in EMBEDDED.records.values():
        label = figure_label(rec)
        if "peak" in rec.metric or "first_day_high" in rec.metric:
            assert "peak" in label, (rec.id, label)
        if rec.qualifier == "over" or rec.kind.endswith("_low"):
            assert "lower bound" in label, (rec.id, label)
        if rec.qualifier == "up_to" or rec.kind.endswith("_high"):
            assert "upper bound" in label, (rec.id, label)
