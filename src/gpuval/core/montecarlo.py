"""Seeded, fully vectorised Monte Carlo over any vectorised core function.

Each uncertain input gets a small frozen distribution. Sampling is by inverse CDF: one uniform
per input per draw from ``numpy.random.Generator(PCG64(seed))`` (inputs take rows of one
``(k, n)`` uniform block in the order given), mapped through the distribution's quantile
function. Bounds ``lower``/``upper`` *truncate* (the uniform is confined to
``[F(lower), F(upper)]``, so no probability piles up at a bound, unlike clipping). The function
is then called once on the whole draw arrays.

Joint draws (:func:`sample_joint`): a one-factor Gaussian copula moves the inputs together,
``u_k = Phi(sqrt(r) Z + sqrt(1 - r) e_k)`` with one common ``Z`` per draw; ``r = 0`` is
:func:`sample` itself.

Summary statistics: percentiles 5, 10, 25, 50, 75, 90, 95 as Excel ``PERCENTILE.INC`` (numpy's
default linear method); mean; standard deviation of the draws (population, Excel
``STDEV.P``); probability the value exceeds the price (strictly); histogram counts and edges
(``numpy.histogram``: equal-width bins over [min, max], the last bin closed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import ndtr, ndtri

from gpuval.core.validate import InputError, as_float, fmt, pick

__all__ = [
    "PERCENTILES",
    "Distribution",
    "LogNormal",
    "MonteCarloResult",
    "MonteCarloSummary",
    "Normal",
    "Point",
    "Triangular",
    "Uniform",
    "percentile_rank",
    "sample",
    "sample_joint",
    "simulate",
    "summarize",
]

PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
"""Percentiles reported by :func:`summarize`."""

_INF = math.inf
_HALF_ULP = 2.0**-54  # rng.random() is k / 2^53 on [0, 1); adding this keeps u inside (0, 1)
_BELOW_ONE = 1.0 - 2.0**-53  # the largest double below 1


class Distribution(Protocol):
    """What :func:`sample` needs: a CDF for the bounds and a vectorised quantile function."""

    @property
    def lower(self) -> float: ...

    @property
    def upper(self) -> float: ...

    @property
    def point(self) -> float | None:
        """The single value of a degenerate distribution, else ``None``."""
        ...

    def cdf(self, x: float) -> float: ...

    def ppf(self, u: np.ndarray) -> np.ndarray: ...


def _num(owner: str, name: str, value: Any, *, allow_inf: bool = False) -> float:
    v = as_float(f"{owner} {name}", value, allow_inf=allow_inf)
    if not isinstance(v, float):
        raise InputError(f"{owner} {name} must be a single number.")
    return v


def _bounds(owner: str, lower: float, upper: float) -> None:
    lo = _num(owner, "lower", lower, allow_inf=True)
    hi = _num(owner, "upper", upper, allow_inf=True)
    if not lo < hi:
        raise InputError(f"{owner} lower must be less than upper, got {fmt(lo)} and {fmt(hi)}.")


@dataclass(frozen=True)
class Point:
    """A known value: every draw is ``value``."""

    value: float
    lower: float = -_INF
    upper: float = _INF

    def __post_init__(self) -> None:
        _num("Point", "value", self.value)
        _bounds("Point", self.lower, self.upper)

    @property
    def point(self) -> float | None:
        return float(self.value)

    def cdf(self, x: float) -> float:
        return 1.0 if x >= self.value else 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high]``: ``x = low + u (high - low)``."""

    low: float
    high: float
    lower: float = -_INF
    upper: float = _INF

    def __post_init__(self) -> None:
        lo, hi = _num("Uniform", "low", self.low), _num("Uniform", "high", self.high)
        if lo > hi:
            raise InputError(f"Uniform low must not exceed high, got {fmt(lo)} and {fmt(hi)}.")
        _bounds("Uniform", self.lower, self.upper)

    @property
    def point(self) -> float | None:
        return float(self.low) if self.low == self.high else None

    def cdf(self, x: float) -> float:
        return min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


@dataclass(frozen=True)
class Triangular:
    """Triangular with minimum ``low``, most likely ``mode``, maximum ``high``.

    ``F(x) = (x - low)^2 / ((high - low)(mode - low))`` up to the mode, and
    ``1 - (high - x)^2 / ((high - low)(high - mode))`` after it.
    """

    low: float
    mode: float
    high: float
    lower: float = -_INF
    upper: float = _INF

    def __post_init__(self) -> None:
        a = _num("Triangular", "low", self.low)
        c = _num("Triangular", "mode", self.mode)
        b = _num("Triangular", "high", self.high)
        if not a <= c <= b:
            raise InputError(
                f"Triangular needs low <= mode <= high, got {fmt(a)}, {fmt(c)} and {fmt(b)}."
            )
        _bounds("Triangular", self.lower, self.upper)

    @property
    def point(self) -> float | None:
        return float(self.low) if self.low == self.high else None

    def cdf(self, x: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if x <= a:
            return 0.0
        if x >= b:
            return 1.0
        if x <= c:
            return (x - a) ** 2 / ((b - a) * (c - a))
        return 1.0 - (b - x) ** 2 / ((b - a) * (b - c))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, c, b = float(self.low), float(self.mode), float(self.high)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * ((b - a) * (c - a)))
        right = b - np.sqrt((1.0 - u) * ((b - a) * (b - c)))
        return np.where(u < fc, left, right)


@dataclass(frozen=True)
class Normal:
    """Normal with ``mean`` and standard deviation ``sd`` (``sd = 0``: a point)."""

    mean: float
    sd: float
    lower: float = -_INF
    upper: float = _INF

    def __post_init__(self) -> None:
        _num("Normal", "mean", self.mean)
        if _num("Normal", "sd", self.sd) < 0:
            raise InputError(f"Normal sd must be 0 or more, got {fmt(self.sd)}.")
        _bounds("Normal", self.lower, self.upper)

    @property
    def point(self) -> float | None:
        return float(self.mean) if self.sd == 0 else None

    def cdf(self, x: float) -> float:
        return float(ndtr((x - self.mean) / self.sd))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        # Annotated: mypy targets Python 3.11 and scipy-stubs >= 1.18 need 3.12, so there ndtri
        # is Any (no-any-return under the core's strict flags).
        x: np.ndarray = self.mean + self.sd * ndtri(u)
        return x


@dataclass(frozen=True)
class LogNormal:
    """Lognormal given the *variable's* ``mean`` (> 0) and standard deviation ``sd``.

    ``sigma^2 = ln(1 + (sd / mean)^2)``, ``mu = ln(mean) - sigma^2 / 2``,
    ``x = exp(mu + sigma z)``. ``sd = 0`` is a point at ``mean``.
    """

    mean: float
    sd: float
    lower: float = -_INF
    upper: float = _INF

    def __post_init__(self) -> None:
        m = _num("LogNormal", "mean", self.mean)
        s = _num("LogNormal", "sd", self.sd)
        if m <= 0:
            raise InputError(f"LogNormal mean must be greater than 0, got {fmt(m)}.")
        if s < 0:
            raise InputError(f"LogNormal sd must be 0 or more, got {fmt(s)}.")
        _bounds("LogNormal", self.lower, self.upper)

    @property
    def sigma(self) -> float:
        """Standard deviation of ``ln x``: ``sqrt(ln(1 + (sd / mean)^2))``."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self) -> float:
        """Mean of ``ln x``: ``ln(mean) - sigma^2 / 2``."""
        return math.log(self.mean) - self.sigma**2 / 2.0

    @property
    def point(self) -> float | None:
        return float(self.mean) if self.sd == 0 else None

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        return float(ndtr((math.log(x) - self.mu) / self.sigma))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        x: np.ndarray = np.exp(self.mu + self.sigma * ndtri(u))  # typed, as in Normal.ppf
        return x


def _quantiles(name: str, dist: Distribution, u: np.ndarray) -> np.ndarray:
    lower, upper = float(dist.lower), float(dist.upper)
    x0 = dist.point
    if x0 is not None:
        if not lower <= x0 <= upper:
            raise InputError(
                f"{name}: the bounds {fmt(lower)} to {fmt(upper)} exclude its only value {fmt(x0)}."
            )
        return np.full(u.shape, x0)
    f_lo = dist.cdf(lower) if lower > -_INF else 0.0
    f_hi = dist.cdf(upper) if upper < _INF else 1.0
    if f_hi <= f_lo:
        raise InputError(
            f"{name}: the bounds {fmt(lower)} to {fmt(upper)} exclude the whole distribution."
        )
    if f_lo == 0.0 and f_hi == 1.0:
        return dist.ppf(u)
    clipped: np.ndarray = np.clip(dist.ppf(f_lo + u * (f_hi - f_lo)), lower, upper)  # rounding
    return clipped


def _check_n_seed(n: Any, seed: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"n must be a whole number of draws, 1 or more, got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a whole number, 0 or more, got {seed!r}.")


def sample(distributions: Mapping[str, Distribution], n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` seeded draws of each input, independently, keyed like ``distributions``.

    >>> d = sample({"share": Uniform(0.0, 0.1), "margin": Point(0.2)}, 3, seed=1)
    >>> [round(float(x), 4) for x in d["share"]], d["margin"].tolist()
    ([0.0512, 0.095, 0.0144], [0.2, 0.2, 0.2])
    """
    return sample_joint(distributions, n, seed)


def sample_joint(
    distributions: Mapping[str, Distribution],
    n: int,
    seed: int,
    *,
    correlation: float = 0.0,
    directions: Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """``n`` seeded draws of each input moving together through one common factor.

    One-factor Gaussian copula: with ``Z`` (one per draw) and ``e_k`` (one per input and draw)
    independent standard normals and ``r = correlation`` (0..1),

        ``u_k = Phi(sqrt(r) Z + sqrt(1 - r) e_k)``, then ``1 - u_k`` where ``directions[k] = -1``,

    and input ``k`` is its distribution's quantile of ``u_k`` (truncated as in :func:`sample`).
    Any two latent normals have correlation ``r``, so any two inputs have Spearman rank
    correlation ``(6 / pi) asin(r / 2)`` (within 0.02 of ``r``), negated when their directions
    differ, whatever their marginals. A low ``Z`` moves every ``+1`` input low and every ``-1``
    input high. ``r = 0`` gives :func:`sample`'s draws exactly (directions then play no part);
    ``r = 1`` drives every input by ``Z`` alone (comonotone).

    Uniforms: rows ``0..k-1`` of one ``(k + 1, n)`` block give the ``e_k``, row ``k`` gives ``Z``
    (``x = Phi^-1(u)``), so the ``e_k`` rows are :func:`sample`'s uniforms.

    >>> d = sample_joint({"a": Uniform(0.0, 1.0), "b": Uniform(0.0, 1.0)}, 3, seed=1,
    ...                  correlation=1.0, directions={"b": -1})
    >>> bool(((d["a"] + d["b"]).round(12) == 1.0).all())  # comonotone, b mirrored: b = 1 - a
    True
    """
    _check_n_seed(n, seed)
    r = _num("sample_joint", "correlation", correlation)
    if not 0.0 <= r <= 1.0:
        raise InputError(f"correlation must be between 0 and 1, got {fmt(r)}.")
    signs = dict(directions or {})
    for name, sign in signs.items():
        if name not in distributions:
            raise InputError(f"directions names {name!r}, which is not one of the inputs.")
        if isinstance(sign, bool) or sign not in (1, -1):
            raise InputError(f"directions[{name!r}] must be 1 or -1, got {sign!r}.")
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    k = len(distributions)
    u = rng.random((k + 1 if r > 0 else k, int(n)))
    u += _HALF_ULP
    if r > 0:
        x = math.sqrt(r) * ndtri(u[k]) + math.sqrt(1.0 - r) * ndtri(u[:k])
        flip = np.array([signs.get(name, 1) == -1 for name in distributions], dtype=bool)[:, None]
        u = np.clip(ndtr(np.where(flip, -x, x)), _HALF_ULP, _BELOW_ONE)  # 1 - Phi(x) = Phi(-x)
    return {
        name: _quantiles(name, dist, u[i]) for i, (name, dist) in enumerate(distributions.items())
    }


def percentile_rank(values: Any, x: float) -> float:
    """Where ``x`` falls among ``values``: ``(#{v < x} + #{v = x} / 2) / n`` (0..1).

    >>> percentile_rank([1.0, 2.0, 3.0, 4.0], 2.5), percentile_rank([5.0, 5.0], 5.0)
    (0.5, 0.5)
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise InputError("values must hold at least one draw.")
    px = _num("percentile_rank", "x", x)
    below, equal = np.count_nonzero(v < px), np.count_nonzero(v == px)
    return float((below + equal / 2.0) / v.size)


@dataclass(frozen=True)
class MonteCarloSummary:
    """Summary of simulated values."""

    n: int
    percentiles: dict[int, float]
    """``{5: P5, 10: P10, ..., 95: P95}`` (Excel ``PERCENTILE.INC``)."""
    mean: float
    std: float
    prob_above: float | None
    """Share of draws strictly above the price; ``None`` without a price."""
    hist_counts: np.ndarray
    hist_edges: np.ndarray


def summarize(values: Any, *, price: float | None = None, bins: int = 50) -> MonteCarloSummary:
    """Percentiles, mean, std, P(value > price) and a histogram of ``values``.

    >>> s = summarize([1.0, 2.0, 3.0, 4.0, 5.0], price=3.5, bins=2)
    >>> s.percentiles[50], s.percentiles[25], s.mean, s.prob_above, s.hist_counts.tolist()
    (3.0, 2.0, 3.0, 0.4, [2, 3])
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise InputError("values must hold at least one draw.")
    bad = ~np.isfinite(v)
    if bad.any():
        raise InputError(
            f"the simulation produced {int(bad.sum())} non-finite values out of {v.size}; "
            "check the bounds of the input distributions."
        )
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InputError(f"bins must be a whole number, 1 or more, got {bins!r}.")
    pct = np.percentile(v, PERCENTILES)
    counts, edges = np.histogram(v, bins=bins)
    p_above = None
    if price is not None:
        px = _num("summary", "price", price)
        p_above = float(np.count_nonzero(v > px)) / v.size
    return MonteCarloSummary(
        n=int(v.size),
        percentiles={p: float(x) for p, x in zip(PERCENTILES, pct, strict=True)},
        mean=float(v.mean()),
        std=float(v.std()),
        prob_above=p_above,
        hist_counts=counts,
        hist_edges=edges,
    )


@dataclass(frozen=True)
class MonteCarloResult:
    """Draws, the simulated values and their summary."""

    draws: dict[str, np.ndarray]
    values: np.ndarray
    summary: MonteCarloSummary


def simulate(
    func: Callable[..., Any],
    distributions: Mapping[str, Distribution],
    *,
    n: int = 100_000,
    seed: int = 20260105,
    output: str | None = None,
    price: float | None = None,
    bins: int = 50,
    correlation: float = 0.0,
    directions: Mapping[str, int] | None = None,
    **fixed: Any,
) -> MonteCarloResult:
    """Run ``func(**fixed, **draws)`` once on ``n`` seeded draws and summarise the result.

    ``correlation`` and ``directions`` make the draws joint (:func:`sample_joint`); the default
    ``correlation=0`` draws the inputs independently.

    ``output`` picks an attribute or key when ``func`` returns a record (e.g.
    ``"value_per_share"`` of :func:`gpuval.core.tam.tam_scenario`).

    >>> from gpuval.core.nvidia import fraction_of_nvidia_value
    >>> r = simulate(fraction_of_nvidia_value, {"fraction": Triangular(0.005, 0.01, 0.02)},
    ...              n=10_000, seed=7, nvidia_market_value=5e12, fx=7.0, price=350e9)
    >>> round(r.summary.prob_above, 1)  # P(fraction > 1%) = 1 - (0.01-0.005)/(0.02-0.005) = 2/3
    0.7
    """
    overlap = sorted(set(distributions) & set(fixed))
    if overlap:
        raise InputError(f"{overlap[0]} is given both as a distribution and as a fixed input.")
    draws = sample_joint(distributions, n, seed, correlation=correlation, directions=directions)
    values = np.broadcast_to(np.asarray(pick(func(**fixed, **draws), output), dtype=float), (n,))
    return MonteCarloResult(draws, values, summarize(values, price=price, bins=bins))
