"""The "x% of NVIDIA" yardstick: a stated fraction of NVIDIA's market value.

The source article's investor argument: if NVIDIA is worth USD 5 trn, 1% of it is USD 50 bn,
about CNY 350 bn, close to Moore Threads' and MetaX's market values. ``fx`` converts NVIDIA's
currency (USD) into the currency wanted (destination units per USD).
"""

from __future__ import annotations

from gpuval.core import validate as v
from gpuval.core.validate import ArrayLike, FloatOrArray, broadcast_shape, out, positive

__all__ = [
    "fraction_of_nvidia_per_share",
    "fraction_of_nvidia_value",
    "implied_fraction_of_nvidia",
]


def fraction_of_nvidia_value(
    fraction: ArrayLike, nvidia_market_value: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """Value of a fraction of NVIDIA: ``fraction x nvidia_market_value x fx``.

    >>> fraction_of_nvidia_value(0.01, 5e12, fx=7.0)  # 1% x USD 5 trn x 7.0 CNY/USD
    350000000000.0
    """
    f = v.fraction("fraction", fraction)
    nv = positive("nvidia_market_value", nvidia_market_value)
    x = positive("fx", fx)
    broadcast_shape(fraction=f, nvidia_market_value=nv, fx=x)
    return out(f * nv * x)


def fraction_of_nvidia_per_share(
    fraction: ArrayLike,
    nvidia_market_value: ArrayLike,
    shares_outstanding: ArrayLike,
    fx: ArrayLike = 1.0,
) -> FloatOrArray:
    """Per-share value of a fraction of NVIDIA, in the listing currency.

    ``per_share = fraction x nvidia_market_value x fx / shares_outstanding``, with ``fx`` in
    listing-currency units per USD.

    >>> fraction_of_nvidia_per_share(0.01, 5e12, 2.5e9, fx=7.8)  # 1% x 5 trn x 7.8 / 2.5 bn
    156.0
    """
    f = v.fraction("fraction", fraction)
    nv = positive("nvidia_market_value", nvidia_market_value)
    n = positive("shares_outstanding", shares_outstanding)
    x = positive("fx", fx)
    broadcast_shape(fraction=f, nvidia_market_value=nv, shares_outstanding=n, fx=x)
    return out(f * nv * x / n)


def implied_fraction_of_nvidia(
    market_value: ArrayLike, nvidia_market_value: ArrayLike, fx: ArrayLike = 1.0
) -> FloatOrArray:
    """The fraction of NVIDIA a market value represents (inverse of the value above).

    ``fraction = market_value / (nvidia_market_value x fx)``, ``market_value`` in the currency
    ``fx`` converts into.

    >>> implied_fraction_of_nvidia(350e9, 5e12, fx=7.0)
    0.01
    """
    mv = positive("market_value", market_value)
    nv = positive("nvidia_market_value", nvidia_market_value)
    x = positive("fx", fx)
    broadcast_shape(market_value=mv, nvidia_market_value=nv, fx=x)
    return out(mv / (nv * x))
