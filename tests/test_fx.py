"""Exchange rates: article-implied defaults, cross rates and analyst overrides."""

import pytest

from gpuval.data.dataset import load_dataset
from gpuval.data.fx import FxRates
from gpuval.errors import GpuvalError


@pytest.fixture(scope="module")
def rates() -> FxRates:
    return FxRates.from_dataset(load_dataset())


def test_defaults_are_the_articles_own_conversions(rates: FxRates) -> None:
    # 003: "855.4亿港元,约合110亿美元" -> 110 / 855.4 USD per HKD
    assert rates.rate("HKD", "USD") == pytest.approx(110 / 855.4, rel=1e-12)
    # 002: "1%即对应500亿美元,约3500亿人民币" -> 3500 / 500 = 7 CNY per USD
    assert rates.rate("USD", "CNY") == pytest.approx(7.0, rel=1e-12)
    # cross: CNY per HKD = 7 * 110 / 855.4 = 0.900164...
    assert rates.rate("HKD", "CNY") == pytest.approx(7 * 110 / 855.4, rel=1e-12)
    assert rates.rate("CNY", "CNY") == 1.0


def test_convert_round_trip(rates: FxRates) -> None:
    # Biren's 855.4亿港元 in USD is the article's 110亿美元.
    assert rates.convert(85_540_000_000, "HKD", "USD") == pytest.approx(11_000_000_000)
    assert rates.convert(rates.convert(1.0, "CNY", "HKD"), "HKD", "CNY") == pytest.approx(1.0)


def test_labels_name_the_source_records(rates: FxRates) -> None:
    labels = {row["unit"]: str(row["label"]) for row in rates.table()}
    assert "fx.usd_per_hkd" in labels["USD per HKD"]
    assert "003_060f8119ece32c9e.txt" in labels["USD per HKD"]
    assert labels["CNY per HKD"] == "cross rate"


def test_override_either_direction(rates: FxRates) -> None:
    hkd_peg = rates.with_override("HKD per USD=7.8")
    assert hkd_peg.rate("HKD", "USD") == pytest.approx(1 / 7.8)
    assert hkd_peg.rate("USD", "CNY") == pytest.approx(7.0)  # untouched
    assert hkd_peg.rate("HKD", "CNY") == pytest.approx(7.0 / 7.8)
    labels = {row["unit"]: row["label"] for row in hkd_peg.table()}
    assert labels["HKD per USD"] == "analyst override"
    # The original is unchanged.
    assert rates.rate("HKD", "USD") == pytest.approx(110 / 855.4)


def test_override_of_a_cross_rate_keeps_the_other_link(rates: FxRates) -> None:
    moved = rates.with_override("CNY per HKD=0.92")
    assert moved.rate("HKD", "CNY") == pytest.approx(0.92)
    assert moved.rate("HKD", "USD") == pytest.approx(110 / 855.4)
    assert moved.rate("USD", "CNY") == pytest.approx(0.92 / (110 / 855.4))


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("USD/HKD=0.128", "not of the form"),
        ("USD per HKD", "not of the form"),
        ("EUR per USD=1.1", "must name two of"),
        ("USD per USD=1", "must name two of"),
        ("USD per HKD=-0.1", "positive number"),
        ("USD per HKD=abc", "positive number"),
        ("USD per HKD=nan", "positive number"),
    ],
)
def test_bad_override(rates: FxRates, spec: str, fragment: str) -> None:
    with pytest.raises(GpuvalError, match=fragment):
        rates.with_override(spec)


def test_unknown_currency(rates: FxRates) -> None:
    with pytest.raises(GpuvalError, match="Unknown currency 'EUR'"):
        rates.rate("EUR", "USD")
