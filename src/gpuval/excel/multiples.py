"""Multiples, peers and the NVIDIA yardstick as ``GPUVAL_`` functions."""

from __future__ import annotations

from typing import Any

from gpuval import core
from gpuval.excel.args import UdfError, cells, numbers, pairs
from gpuval.excel.declare import Param, evaluate, udf
from gpuval.excel.params import FX, LABELS, MARKET_VALUE, PEERS, SHARES, TARGET
from gpuval.excel.results import labelled, result
from gpuval.excel.text import close, show

N = "number"
MAX_PEERS = 10_000
"""Most peer values in one peer range."""

_FX_MARKET = FX.with_(help="Market-value currency units per revenue currency unit.")

#: (name, what it computes, its revenue parameter, core function, README summary, example)
_PS = [
    ("GPUVAL_PS", "Price-to-sales multiple: market_value / (revenue x fx). Ranges spill.",
     Param("revenue", N, "Revenue (trailing, forward or any basis), > 0."), core.price_to_sales,
     "P/S = market_value / (revenue x fx)", ("=GPUVAL_PS(300e9, 1.5e9)", "200")),
    ("GPUVAL_PS_RUNRATE",
     "P/S on run-rate revenue: market_value / (2 x half_year_revenue x fx).",
     Param("half_year_revenue", N, "Latest half-year revenue, > 0 (annualised x 2)."),
     core.run_rate_ps, "P/S on half-year revenue x 2", ("=GPUVAL_PS_RUNRATE(300e9, 0.7e9)",
                                                        "214.29")),
]  # fmt: skip
GPUVAL_PS, GPUVAL_PS_RUNRATE = (
    udf(name, f"{doc} Example: {call} returns {result}.", [MARKET_VALUE, revenue, _FX_MARKET],
        core=func, summary=summary, example=f"`{call}` -> {result}")
    for name, doc, revenue, func, summary, (call, result) in _PS
)  # fmt: skip

GPUVAL_PS_BACKLOG = udf(
    "GPUVAL_PS_BACKLOG",
    "Forward P/S with the backlog as revenue guide: market_value x months / (backlog x 12 x fx)."
    " Example: =GPUVAL_PS_BACKLOG(79.2e9, 1.2e9, 12) returns 66.",
    [
        MARKET_VALUE,
        Param("backlog", N, "Order backlog, > 0, in the revenue currency."),
        Param(
            "months",
            N,
            "Months over which the backlog is delivered, > 0.",
            float(core.BACKLOG_MONTHS),
        ),
        FX.with_(help="Market-value currency units per backlog currency unit."),
    ],
    core=core.backlog_ps,
    summary="forward P/S, backlog delivered over *months*",
    example="`=GPUVAL_PS_BACKLOG(79.2e9, 1.2e9, 12)` -> 66",
)

# --- peers --------------------------------------------------------------------------------------


def read_peers(name: str, value: Any) -> dict[str, Any] | list[float]:
    """Peer multiples: ``{name: multiple or None}`` from a name table, else a list of numbers."""
    rows = cells(name, value)
    n_rows, n_cols = len(rows), len(rows[0])
    named = (n_cols == 2 and any(isinstance(r[0], str) for r in rows)) or (
        n_rows == 2 and n_cols != 2 and any(isinstance(v, str) for v in rows[0])
    )
    if not named:
        return numbers(name, rows, limit=MAX_PEERS)
    table: dict[str, Any] = {}
    for key, val, where in pairs(name, rows):
        if key in table:
            raise UdfError(f"{name} names {key!r} twice{where}.")
        if val is not None and type(val) is not float:
            raise UdfError(f"{name} must hold numbers, got {show(val)} for {key}{where}.")
        table[key] = val
    if not any(v is not None for v in table.values()):
        raise UdfError(f"{name} has no numbers (every value is blank).")
    if len(table) > MAX_PEERS:
        raise UdfError(f"{name} has {len(table):,} peers; at most {MAX_PEERS:,} are allowed.")
    return table


def _target(peers: dict[str, Any] | list[float], target: str | None) -> str | None:
    """The peer name ``target`` refers to (case-insensitive), or None when blank."""
    if target is None:
        return None
    if not isinstance(peers, dict):
        raise UdfError("target needs peers as a two-column name | multiple table.")
    for key in peers:
        if key.casefold() == target.casefold():
            return key
    raise UdfError(f"target {target!r} is not among the peer names{close(target, peers)}.")


PEER_LABELS = (
    ("count", "count"), ("minimum", "minimum"), ("25th percentile", "p25"),
    ("median", "median"), ("mean", "mean"), ("75th percentile", "p75"), ("maximum", "maximum"),
)  # fmt: skip


def _peer_stats(peers: Any, target: str | None, labels: bool) -> list[list[Any]]:
    p = read_peers("peers", peers)
    stats = core.peer_stats(p, target=_target(p, target))
    rows = [[label, float(getattr(stats, attr))] for label, attr in PEER_LABELS]
    return labelled(rows, labels)


GPUVAL_PEER_STATS = udf(
    "GPUVAL_PEER_STATS",
    "Peer statistics as a 7-row array: count, min, 25th percentile, median, mean, 75th "
    'percentile, max (PERCENTILE.INC). Example: =GPUVAL_PEER_STATS(B2:C7, "Biren").',
    [PEERS, TARGET, LABELS],
    body=_peer_stats,
    summary="7 x 2 array: count, min, P25, median, mean, P75, max",
    example='`=GPUVAL_PEER_STATS(A2:B7, "Biren")`',
)


def _peer_value(metric: Any, peers: Any, k: float, target: str | None, fx: Any) -> Any:
    p = read_peers("peers", peers)
    tgt = _target(p, target)

    def value_at(metric: Any, fx: Any) -> Any:
        return core.implied_values(metric, p, (k,), target=tgt, fx=fx)[k]

    return evaluate(value_at, {"metric": metric, "fx": fx}, None)


GPUVAL_PEER_VALUE = udf(
    "GPUVAL_PEER_VALUE",
    "Value implied by peers: PERCENTILE.INC(peer multiples, k) x metric x fx. Example: "
    "=GPUVAL_PEER_VALUE(0.5e9, B2:B7) gives the value at the peer median.",
    [
        Param("metric", N, "The company's base for the multiple (e.g. revenue for P/S), >= 0."),
        PEERS,
        Param("k", "single", "Percentile as a fraction, 0 to 1.", 0.5, blank="0.5 (the median)"),
        TARGET,
        FX.with_(help="Valuation-currency units per unit of the metric's currency."),
    ],
    body=_peer_value,
    summary="PERCENTILE.INC(peers, k) x metric x fx",
    example="`=GPUVAL_PEER_VALUE(0.5e9, B2:B4)` -> 75e9 for peers 100, 150, 200",
)


def _venue_gap(a_share_peers: Any, hong_kong_peers: Any, target: str | None) -> Any:
    a = read_peers("a_share_peers", a_share_peers)
    h = read_peers("hong_kong_peers", hong_kong_peers)
    if target is not None and not (isinstance(a, dict) and isinstance(h, dict)):
        raise UdfError("target needs both peer sets as two-column name | multiple tables.")
    if target is not None:
        keys = {k.casefold(): k for k in (*a, *h)}
        target = keys.get(target.casefold(), target)
    return result(core.venue_gap(a, h, target=target))


GPUVAL_VENUE_GAP = udf(
    "GPUVAL_VENUE_GAP",
    "A-share vs Hong Kong valuation gap: MEDIAN(A-share multiples) / MEDIAN(Hong Kong "
    "multiples); above 1 means A-shares trade richer. Example: =GPUVAL_VENUE_GAP(B2:B4, C2:C3).",
    [
        PEERS.with_(
            name="a_share_peers",
            help="A-share (STAR market) peer multiples: numbers, or a name | multiple table.",
        ),
        PEERS.with_(
            name="hong_kong_peers",
            help="Hong Kong peer multiples: numbers, or a name | multiple table.",
        ),
        TARGET.with_(help="Name of the company valued, left out of both peer sets."),
    ],
    body=_venue_gap,
    summary="median(A-share) / median(Hong Kong)",
    example="`=GPUVAL_VENUE_GAP({120,200,160}, {80,40})` -> 2.67",
)

# --- the NVIDIA yardstick -----------------------------------------------------------------------

_FRACTION = Param("fraction", N, "Fraction of NVIDIA's market value, 0 to 1 (1% = 0.01).")
_NVIDIA = Param("nvidia_market_value", N, "NVIDIA's market value, USD, > 0.")

GPUVAL_NVIDIA_SHARE_VALUE = udf(
    "GPUVAL_NVIDIA_SHARE_VALUE",
    "Value of a fraction of NVIDIA: fraction x nvidia_market_value x fx. Example: "
    "=GPUVAL_NVIDIA_SHARE_VALUE(1%, 5e12, 7) returns 350,000,000,000 (CNY 350 bn).",
    [_FRACTION, _NVIDIA, FX.with_(help="Result-currency units per USD, e.g. 7 CNY per USD.")],
    core=core.fraction_of_nvidia_value,
    summary="fraction x NVIDIA's value x fx",
    example="`=GPUVAL_NVIDIA_SHARE_VALUE(1%, 5e12, 7)` -> 350e9",
)

GPUVAL_NVIDIA_SHARE_PER_SHARE = udf(
    "GPUVAL_NVIDIA_SHARE_PER_SHARE",
    "Per-share value of a fraction of NVIDIA: fraction x nvidia_market_value x fx / "
    "shares_outstanding. Example: =GPUVAL_NVIDIA_SHARE_PER_SHARE(1%, 5e12, 2.5e9, 7.8) returns "
    "156.",
    [
        _FRACTION,
        _NVIDIA,
        SHARES,
        FX.with_(help="Listing-currency units per USD, e.g. 7.8 HKD per USD."),
    ],
    core=core.fraction_of_nvidia_per_share,
    summary="the same per share",
    example="`=GPUVAL_NVIDIA_SHARE_PER_SHARE(1%, 5e12, 2.5e9, 7.8)` -> 156",
)

GPUVAL_NVIDIA_FRACTION = udf(
    "GPUVAL_NVIDIA_FRACTION",
    "The fraction of NVIDIA a market value represents: market_value / (nvidia_market_value x "
    "fx). Example: =GPUVAL_NVIDIA_FRACTION(350e9, 5e12, 7) returns 0.01.",
    [
        MARKET_VALUE.with_(
            help="Company's market value, in the currency fx converts USD into, > 0."
        ),
        _NVIDIA,
        FX.with_(help="Units of market_value's currency per USD."),
    ],
    core=core.implied_fraction_of_nvidia,
    summary="the fraction of NVIDIA a value represents",
    example="`=GPUVAL_NVIDIA_FRACTION(350e9, 5e12, 7)` -> 1%",
)
