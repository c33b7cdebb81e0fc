"""Peer statistics, implied value at peer percentiles and the A-share vs Hong Kong gap.

Peers are given as a mapping ``{name: multiple}`` (or a plain sequence of multiples). Missing
values (``None`` or NaN) are dropped, and so is the valuation target when ``target`` names it,
so a full peer table can be passed as-is. Dropping is silent for missing values because a gap in
the dataset is not an error here; every other bad value (text, infinity) raises.

Percentiles follow Excel's ``PERCENTILE.INC`` (= LibreOffice ``PERCENTILE``, numpy's default
``'linear'`` method): on the sorted values ``x_0..x_{n-1}``, ``h = (n - 1) k`` and
``P(k) = x_floor(h) + (h - floor(h)) (x_floor(h)+1 - x_floor(h))``. ``k`` is a fraction (0..1) as
in Excel, not a percentage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from gpuval.core import validate as v
from gpuval.core.validate import ArrayLike, FloatOrArray, InputError

__all__ = [
    "PEER_STATS_XL",
    "PeerStats",
    "apply_venue_gap",
    "implied_values",
    "peer_stat_xl",
    "peer_stats",
    "peer_values",
    "percentile_inc",
    "rerated_market_value",
    "rerated_market_value_xl",
    "venue_gap",
    "venue_gap_xl",
]

Peers = Mapping[str, float | None] | Sequence[float | None]
"""Peer multiples: ``{name: value}`` or a sequence of values; ``None``/NaN means missing."""


def peer_values(peers: Peers, *, target: str | None = None, name: str = "peers") -> np.ndarray:
    """The usable peer values: missing values and the ``target`` (by name) removed.

    >>> peer_values({"A": 10.0, "B": None, "C": float("nan"), "Biren": 50.0}, target="Biren")
    array([10.])
    """
    if isinstance(peers, Mapping):
        items = list(peers.items())
    elif isinstance(peers, str | bytes) or not isinstance(peers, Sequence | np.ndarray):
        raise InputError(f"{name} must be a mapping of names to numbers or a list of numbers.")
    else:
        if target is not None:
            raise InputError(f"{name} must be a mapping of names to numbers to exclude a target.")
        items = [(f"{name}[{i}]", x) for i, x in enumerate(peers)]
    kept: list[float] = []
    for key, value in items:
        if key == target or value is None:
            continue
        x = _peer(key, value, name)
        if not math.isnan(x):
            kept.append(x)
    return np.asarray(kept, dtype=np.float64)


def _peer(key: object, value: object, name: str) -> float:
    if isinstance(value, float | int | np.number) and not isinstance(value, bool):
        x = float(value)
        if math.isinf(x):
            raise InputError(f"{name} value for {key} must be a finite number, got {v.fmt(x)}.")
        return x
    raise InputError(f"{name} value for {key} must be a number, got {value!r}.")


def _require(values: np.ndarray, name: str) -> np.ndarray:
    if values.size == 0:
        raise InputError(f"{name} has no values left after removing the target and missing values.")
    return values


def percentile_inc(values: ArrayLike, k: ArrayLike) -> FloatOrArray:
    """Excel ``PERCENTILE.INC(values, k)``, vectorised over ``k`` (fraction, 0..1).

    >>> percentile_inc([1.0, 2.0, 3.0, 4.0], 0.25)  # h = 3 x 0.25 = 0.75 -> 1 + 0.75 x (2 - 1)
    1.75
    """
    x = v.as_float("values", values)
    x = _require(np.atleast_1d(x).ravel(), "values")
    q = v.fraction("k", k)
    return v.out(np.quantile(x, q))


@dataclass(frozen=True)
class PeerStats:
    """Summary of peer multiples (target and missing values excluded)."""

    count: int
    minimum: float
    p25: float
    median: float
    mean: float
    p75: float
    maximum: float

    def as_dict(self) -> dict[str, float]:
        """The statistics as a plain dict, in display order."""
        return asdict(self)


def peer_stats(peers: Peers, *, target: str | None = None) -> PeerStats:
    """Count, min, 25th percentile, median, mean, 75th percentile and max of the peers.

    Percentiles as :func:`percentile_inc` (Excel ``PERCENTILE.INC``; median = ``MEDIAN``).

    >>> s = peer_stats({"Cambricon": 100.0, "Moore Threads": 200.0, "MetaX": 150.0,
    ...                 "Kunlunxin": None, "Biren": 80.0}, target="Biren")
    >>> (s.count, s.minimum, s.p25, s.median, s.mean, s.p75, s.maximum)
    (3, 100.0, 125.0, 150.0, 150.0, 175.0, 200.0)
    """
    x = _require(peer_values(peers, target=target), "peers")
    p25, median, p75 = (float(q) for q in np.quantile(x, [0.25, 0.5, 0.75]))
    return PeerStats(
        count=int(x.size),
        minimum=float(x.min()),
        p25=p25,
        median=median,
        mean=float(x.mean()),
        p75=p75,
        maximum=float(x.max()),
    )


def implied_values(
    metric: ArrayLike,
    peers: Peers,
    ks: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    target: str | None = None,
    fx: ArrayLike = 1.0,
) -> dict[float, FloatOrArray]:
    """The target's implied value at peer-multiple percentiles.

    ``value(k) = PERCENTILE.INC(peer multiples, k) x metric x fx``, where ``metric`` is the
    target's base for the multiple (e.g. revenue for P/S) and ``fx`` converts it into the
    valuation currency.

    >>> implied_values(0.5e9, {"A": 100.0, "B": 200.0, "C": 150.0}, ks=(0.5,))
    {0.5: 75000000000.0}
    """
    m = v.nonnegative("metric", metric)
    f = v.positive("fx", fx)
    v.broadcast_shape(metric=m, fx=f)
    x = _require(peer_values(peers, target=target), "peers")
    qs = [float(v.fraction("k", k)) for k in ks]
    multiples = np.quantile(x, qs).tolist() if qs else []
    result: dict[float, FloatOrArray] = {}
    for q, multiple in zip(qs, multiples, strict=True):
        result[q] = v.out(multiple * m * f)
    return result


def venue_gap(a_share_peers: Peers, hong_kong_peers: Peers, *, target: str | None = None) -> float:
    """The A-share vs Hong Kong valuation gap: ratio of the venues' median multiples.

    ``gap = MEDIAN(A-share multiples) / MEDIAN(Hong Kong multiples)``; > 1 means A-shares trade
    richer. The Hong Kong median must be positive.

    >>> venue_gap({"Cambricon": 120.0, "Moore Threads": 200.0, "MetaX": 160.0},
    ...           {"Biren": 80.0, "Iluvatar": 40.0})  # 160 / 60
    2.6666666666666665
    """
    a = _require(peer_values(a_share_peers, target=target, name="a_share_peers"), "a_share_peers")
    h = _require(
        peer_values(hong_kong_peers, target=target, name="hong_kong_peers"), "hong_kong_peers"
    )
    median_h = float(np.median(h))
    if median_h <= 0:
        raise InputError(f"hong_kong_peers must have a positive median, got {v.fmt(median_h)}.")
    return float(np.median(a)) / median_h


def apply_venue_gap(value: ArrayLike, gap: ArrayLike, closed: ArrayLike = 1.0) -> FloatOrArray:
    """Re-rate a Hong Kong value (or multiple) towards A-share pricing.

    ``re-rated = value x (1 + closed x (gap - 1))``: ``closed`` = 0 keeps the Hong Kong value,
    1 applies the full gap (``value x gap``), 0.5 closes half of it.

    >>> apply_venue_gap(80.0, 2.0, closed=0.5)  # 80 x (1 + 0.5 x (2 - 1))
    120.0
    """
    x = v.as_float("value", value)
    g = v.positive("gap", gap)
    c = v.fraction("closed", closed)
    v.broadcast_shape(value=x, gap=g, closed=c)
    return v.out(x * (1.0 + c * (g - 1.0)))


def venue_gap_xl(a_share_median: str, hong_kong_median: str) -> str:
    """Excel of :func:`venue_gap` from the two medians: ``a/hk``, "n/a" when either is missing."""
    a, h = a_share_median, hong_kong_median
    return f'IF(AND(ISNUMBER({a}),ISNUMBER({h})),{a}/{h},"n/a")'


def rerated_market_value(
    venue: str, market_value: float, gap: float, closed: float
) -> float | None:
    """The target's market value at the other venue's pricing: a Hong Kong listing is re-rated
    up by :func:`apply_venue_gap`, an A-share listing down by the same factor; a listing on
    neither venue (NVIDIA's) has no other venue: None (the sheet's "n/a").

    >>> rerated_market_value("HK", 80.0, 2.0, 0.5), rerated_market_value("A", 120.0, 2.0, 0.5)
    (120.0, 80.0)
    >>> rerated_market_value("US", 120.0, 2.0, 0.5) is None
    True
    """
    if venue == "HK":
        return float(apply_venue_gap(market_value, gap, closed))
    if venue == "A":
        return market_value / float(apply_venue_gap(1.0, gap, closed))
    return None


def rerated_market_value_xl(venue: str, market_value: str, gap: str, closed: str) -> str:
    """Excel of :func:`rerated_market_value`."""
    factor = f"(1+{closed}*({gap}-1))"
    return (f'IF(ISNUMBER({gap}),IF({venue}="HK",{market_value}*{factor},'
            f'IF({venue}="A",{market_value}/{factor},"n/a")),"n/a")')  # fmt: skip


#: Each statistic of :class:`PeerStats` as Excel computes it over a range (``{r}``), skipping
#: text ("n/a") as :func:`peer_values` skips missing values.
PEER_STATS_XL = {
    "count": "COUNT({r})",
    "minimum": "MIN({r})",
    "p25": "PERCENTILE({r},0.25)",
    "median": "MEDIAN({r})",
    "mean": "AVERAGE({r})",
    "p75": "PERCENTILE({r},0.75)",
    "maximum": "MAX({r})",
}


def peer_stat_xl(key: str, cells: str) -> str:
    """Excel of one :func:`peer_stats` statistic over ``cells``, "n/a" when no peer has one."""
    return f'IF(COUNT({cells})>0,{PEER_STATS_XL[key].format(r=cells)},"n/a")'
