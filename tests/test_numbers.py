"""Figures as written in the articles -> plain units and resolution."""

import pytest

from gpuval.data.numbers import parse_written


@pytest.mark.parametrize(
    ("written", "value", "resolution"),
    [
        ("12.4億元", 12.4 * 100_000_000, 0.1 * 100_000_000),  # 億 = 1e8, traditional
        ("3.37亿元", 337_000_000, 1_000_000),  # 亿 = 1e8, simplified; last digit 0.01亿
        ("1.2万亿元", 1_200_000_000_000, 100_000_000_000),  # 万亿 = 1e12
        ("5万亿美元", 5_000_000_000_000, 1_000_000_000_000),
        ("194.09万股", 1_940_900, 100),  # 万 = 1e4; 0.01万 = 100 shares
        ("490.8万元", 4_908_000, 1_000),
        ("4400亿元", 440_000_000_000, 10_000_000_000),  # trailing zeros not significant
        ("19.6港元", 19.6, 0.1),
        ("42.88港元", 42.88, 0.01),
        ("112.55%", 1.1255, 0.0001),  # percent -> fraction
        ("46.3%", 0.463, 0.001),
        ("-7.30亿元", -730_000_000, 1_000_000),  # decimal zeros are significant
        ("1037.3 EFLOPS", 1037.3, 0.1),
        ("6000片", 6000, 1000),
        ("1/3000", 1 / 3000, (1 / 3000) * (1000 / 3000)),  # precision of the denominator
    ],
)
def test_parse_written(written: str, value: float, resolution: float) -> None:
    parsed = parse_written(written)
    assert parsed is not None
    assert parsed.value == pytest.approx(value, rel=1e-15)
    assert parsed.resolution == pytest.approx(resolution, rel=1e-12)


@pytest.mark.parametrize(
    "written", ["百倍以上", "2-3亿元", "12-18個月", "近4倍", "一半", "1/0", ""]
)
def test_not_a_plain_figure(written: str) -> None:
    assert parse_written(written) is None
