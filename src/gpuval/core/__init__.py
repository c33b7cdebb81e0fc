"""The valuation core: pure, vectorised functions over numbers and numpy arrays.

The single source of truth that the workbook's formulas and the xlwings UDFs must match. No file
I/O, no Excel. Scalars in, Python floats out; arrays in (broadcast together), arrays out.
Impossible inputs raise :class:`InputError` (a :class:`gpuval.errors.GpuvalError` and a
``ValueError``) naming the argument and the value.

Modules: :mod:`~gpuval.core.validate` (argument checks), :mod:`~gpuval.core.units` (FX, per
share), :mod:`~gpuval.core.discount` (year fractions, discount factors),
:mod:`~gpuval.core.multiples` (P/S bases), :mod:`~gpuval.core.peers` (peer statistics, venue
gap), :mod:`~gpuval.core.nvidia` ("x% of NVIDIA"), :mod:`~gpuval.core.tam` (TAM-share
scenarios), :mod:`~gpuval.core.dcf` (young-growth DCF), :mod:`~gpuval.core.reverse` (implied
share and growth), :mod:`~gpuval.core.sensitivity` (two-way grids),
:mod:`~gpuval.core.montecarlo` (seeded vectorised simulation), :mod:`~gpuval.core.scenario_mc`
(Bear/Base/Bull inputs drawn jointly).
"""

from gpuval.core.dcf import (
    DcfResult,
    cost_of_capital_path,
    dcf_equity_value,
    dcf_totals,
    dcf_value_per_share,
    growth_path,
    margin_path,
    young_growth_dcf,
)
from gpuval.core.discount import (
    cumulative_discount_factors,
    discount_factor,
    year_fraction,
)
from gpuval.core.montecarlo import (
    PERCENTILES,
    Distribution,
    LogNormal,
    MonteCarloResult,
    MonteCarloSummary,
    Normal,
    Point,
    Triangular,
    Uniform,
    percentile_rank,
    sample,
    sample_joint,
    simulate,
    summarize,
)
from gpuval.core.multiples import (
    BACKLOG_MONTHS,
    BACKLOG_MONTHS_RANGE,
    PS_LABELS,
    backlog_ps,
    backlog_revenue,
    price_to_sales,
    ps_multiples,
    run_rate_ps,
    run_rate_revenue,
)
from gpuval.core.nvidia import (
    fraction_of_nvidia_per_share,
    fraction_of_nvidia_value,
    implied_fraction_of_nvidia,
)
from gpuval.core.peers import (
    PeerStats,
    apply_venue_gap,
    implied_values,
    peer_stats,
    peer_values,
    percentile_inc,
    venue_gap,
)
from gpuval.core.reverse import find_root, implied_growth, implied_share, solve_for
from gpuval.core.scenario_mc import SCENARIO_CORRELATION, scenario_marginals, simulate_scenarios
from gpuval.core.sensitivity import SensitivityGrid, sensitivity_grid
from gpuval.core.tam import (
    TAM_END_YEAR,
    TAM_START_YEAR,
    TamScenario,
    probability_weighted,
    tam_at,
    tam_cagr,
    tam_scenario,
)
from gpuval.core.units import convert, market_value, per_share, upside
from gpuval.core.validate import InputError

__all__ = [
    "BACKLOG_MONTHS",
    "BACKLOG_MONTHS_RANGE",
    "PERCENTILES",
    "PS_LABELS",
    "SCENARIO_CORRELATION",
    "TAM_END_YEAR",
    "TAM_START_YEAR",
    "DcfResult",
    "Distribution",
    "InputError",
    "LogNormal",
    "MonteCarloResult",
    "MonteCarloSummary",
    "Normal",
    "PeerStats",
    "Point",
    "SensitivityGrid",
    "TamScenario",
    "Triangular",
    "Uniform",
    "apply_venue_gap",
    "backlog_ps",
    "backlog_revenue",
    "convert",
    "cost_of_capital_path",
    "cumulative_discount_factors",
    "dcf_equity_value",
    "dcf_totals",
    "dcf_value_per_share",
    "discount_factor",
    "find_root",
    "fraction_of_nvidia_per_share",
    "fraction_of_nvidia_value",
    "growth_path",
    "implied_fraction_of_nvidia",
    "implied_growth",
    "implied_share",
    "implied_values",
    "margin_path",
    "market_value",
    "peer_stats",
    "peer_values",
    "per_share",
    "percentile_inc",
    "percentile_rank",
    "price_to_sales",
    "probability_weighted",
    "ps_multiples",
    "run_rate_ps",
    "run_rate_revenue",
    "sample",
    "sample_joint",
    "scenario_marginals",
    "sensitivity_grid",
    "simulate",
    "simulate_scenarios",
    "solve_for",
    "summarize",
    "tam_at",
    "tam_cagr",
    "tam_scenario",
    "upside",
    "venue_gap",
    "year_fraction",
    "young_growth_dcf",
]
