"""Monte Carlo over a Bear/Base/Bull scenario structure: the inputs drawn jointly.

The three scenario columns describe states of the world in which the inputs move together
(Bear: low share, low margin, low exit multiple, high cost of equity, ...). Each input ``k`` gets

* a marginal ``Triangular(min_k, Base_k, max_k)`` over its three scenario values (minimum, Base as
  the most likely value, maximum; a :class:`~gpuval.core.montecarlo.Point` when they agree), and
* a direction ``+1`` when ``Bull_k >= Bear_k``, else ``-1``,

and the inputs are drawn together by the one-factor Gaussian copula of
:func:`~gpuval.core.montecarlo.sample_joint`: ``u_k = Phi(sqrt(r) Z + sqrt(1 - r) e_k)``
(``1 - u_k`` for a ``-1`` input), so a low common factor ``Z`` is a Bear-like draw for every input
at once. ``r`` is the correlation of any two inputs' latent normals (their rank correlation is
``(6 / pi) asin(r / 2)``): ``r = 0`` draws the inputs independently, ``r = 1`` moves them in
lockstep along the Bear-Base-Bull path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gpuval.core.montecarlo import Distribution, MonteCarloResult, Point, Triangular, simulate
from gpuval.core.validate import InputError, as_float

__all__ = ["SCENARIO_CORRELATION", "scenario_marginals", "simulate_scenarios"]

SCENARIO_CORRELATION = 0.7
"""Default latent correlation ``r``: 70% of each input's latent variance is the common state of
the world, the rest its own uncertainty (rank correlation of any two inputs about 0.68)."""


def scenario_marginals(
    bear: Mapping[str, float], base: Mapping[str, float], bull: Mapping[str, float]
) -> tuple[dict[str, Distribution], dict[str, int]]:
    """Each input's marginal and direction from its Bear, Base and Bull values.

    Marginal ``Triangular(min, Base, max)`` of the three values (``Point`` when all agree);
    direction ``+1`` when ``Bull >= Bear``, else ``-1``.

    >>> d, s = scenario_marginals({"pe": 20.0, "coe": 0.14}, {"pe": 30.0, "coe": 0.12},
    ...                           {"pe": 40.0, "coe": 0.11})
    >>> d["pe"], s
    (Triangular(low=20.0, mode=30.0, high=40.0, lower=-inf, upper=inf), {'pe': 1, 'coe': -1})
    """
    if not set(bear) == set(base) == set(bull):
        raise InputError(
            f"bear, base and bull must name the same inputs, got {sorted(bear)}, {sorted(base)} "
            f"and {sorted(bull)}."
        )
    marginals: dict[str, Distribution] = {}
    directions: dict[str, int] = {}
    for key in base:
        lo_, mid, hi_ = (as_float(f"{s} {key}", x[key]) for s, x in
                         (("bear", bear), ("base", base), ("bull", bull)))  # fmt: skip
        points = [float(lo_), float(mid), float(hi_)]  # as_float of a number is a float
        low, high = min(points), max(points)
        marginals[key] = Point(low) if low == high else Triangular(low, points[1], high)
        directions[key] = 1 if points[2] >= points[0] else -1
    return marginals, directions


def simulate_scenarios(
    func: Callable[..., Any],
    bear: Mapping[str, float],
    base: Mapping[str, float],
    bull: Mapping[str, float],
    *,
    correlation: float = SCENARIO_CORRELATION,
    n: int = 100_000,
    seed: int = 20260105,
    output: str | None = None,
    price: float | None = None,
    bins: int = 50,
    **fixed: Any,
) -> MonteCarloResult:
    """:func:`~gpuval.core.montecarlo.simulate` of ``func`` with the scenario inputs drawn jointly
    (:func:`scenario_marginals`, latent correlation ``correlation``); ``fixed`` holds the rest.

    >>> from gpuval.core.tam import tam_scenario
    >>> fixed = dict(tam=200e9, cost_of_equity=0.25, years=2.0, shares_outstanding=2.6e9, fx=7.8)
    >>> r = simulate_scenarios(tam_scenario, {"share": 0.05, "margin": 0.2},
    ...     {"share": 0.05, "margin": 0.2}, {"share": 0.05, "margin": 0.2}, n=10,
    ...     output="value_per_share", exit_multiple=30.0, **fixed)
    >>> round(r.summary.mean, 9)  # every draw is the point: 60 bn / 1.5625 x 7.8 / 2.6 bn
    115.2
    """
    marginals, directions = scenario_marginals(bear, base, bull)
    return simulate(
        func, marginals, n=n, seed=seed, output=output, price=price, bins=bins,
        correlation=correlation, directions=directions, **fixed,
    )  # fmt: skip
