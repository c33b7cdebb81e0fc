"""Parameters that several ``GPUVAL_`` functions share, declared once (name, kind, default, help).

The TAM-share scenario's and the young-growth DCF's inputs are listed here in their Excel order;
the functions that take them as arguments, the name | value tables that give them by name and
the models of ``GPUVAL_SENSITIVITY`` / ``GPUVAL_MONTECARLO`` all read these lists.
"""

from __future__ import annotations

from gpuval.core.dcf import YEARS
from gpuval.excel.declare import Param

N = "number"

MARKET_VALUE = Param("market_value", N, "Market value of equity (price x shares outstanding), > 0.")
SHARES = Param("shares_outstanding", N, "Shares outstanding today, > 0.")
FX = Param("fx", N, "Listing-currency units per model-currency unit.", 1.0)
LABELS = Param("labels", "flag", "TRUE adds a first column of labels.", True)
OUTPUT = Param(
    "output", "text", "Which result of the model to report.", None, blank="the model's main value"
)
TARGET = Param(
    "target",
    "text",
    "Name of the company valued, left out of the peers (needs a name column).",
    None,
)
PEERS = Param(
    "peers",
    "range",
    "Peer multiples: a range of numbers (blanks ignored) or a two-column name | multiple table.",
)

# --- the TAM-share scenario (gpuval.core.tam_scenario) -------------------------------------

TAM = (
    Param("share", N, "Share of the exit-year TAM the company wins, 0 to 1 (5% = 0.05)."),
    Param("tam", N, "Total addressable market in the exit year, model currency, >= 0."),
    Param("margin", N, "Mature net margin, 0 to 1."),
    Param("exit_multiple", N, "Exit multiple: P/E (basis pe) or P/S (basis ps), >= 0."),
    Param(
        "cost_of_equity",
        N,
        "Annual cost of equity used to discount the exit value, > -1 (12% = 0.12).",
    ),
    Param("years", N, "Years from the valuation date to exit (fractions allowed), >= 0."),
    SHARES,
    Param("prob_success", N, "Probability of commercial success, 0 to 1.", 1.0),
    Param("distress_value", N, "Equity value if it fails, model currency, >= 0.", 0.0),
    Param("dilution", N, "New shares issued before exit / today's shares.", 0.0),
    FX,
    Param("price", N, "Today's share price, listing currency; only upside uses it.", None),
)
"""The scenario's inputs, in the order of GPUVAL_TAM_VALUE's arguments."""

DISTRESS_FRACTION = Param(
    "distress_fraction",
    N,
    "Equity value if it fails as a fraction of its value if it succeeds (PV of the exit value / "
    "(1 + dilution)), 0 to 1 (instead of distress_value).",
    0.0,
)
"""Last of the TAM functions' arguments (added after basis, so earlier calls read the same)."""

BASIS = Param(
    "basis",
    "choice",
    '"pe" (exit multiple x earnings) or "ps" (x revenue).',
    "pe",
    options=("pe", "ps"),
)

TAM_OUTPUTS = (
    "revenue", "earnings", "exit_value", "discount_factor", "pv_exit_value", "value",
    "value_per_share", "upside",
)  # fmt: skip
"""Fields of the scenario's result, in GPUVAL_TAM_SCENARIO's rows."""

IMPLIED = (
    MARKET_VALUE.with_(
        help="Today's market value of equity (price x shares), listing currency, > 0."
    ),
    *(p for p in TAM if p.name not in ("share", "price")),
)
"""The implied-share inputs: the scenario's, with market_value for share and no price."""

# --- the young-growth DCF (gpuval.core.young_growth_dcf) ------------------------------------

DCF = (
    Param("revenue", N, "Base-year revenue (latest full fiscal year), model currency, >= 0."),
    Param("growth_y1", N, "Revenue growth in year 1, > -1 (80% = 0.8)."),
    Param("growth_y2_5", N, "Revenue growth in years 2 to 5, > -1."),
    Param("terminal_growth", N, "Growth after year 10; below the mature cost of capital."),
    Param("operating_margin", N, "Today's operating margin (may be very negative), <= 1."),
    Param("target_margin", N, "Mature operating margin, <= 1."),
    Param("sales_to_capital", N, "Revenue added per unit of capital invested, > 0."),
    Param("tax_rate", N, "Effective tax rate in years 1 to 5, 0 to 1."),
    Param("cost_of_capital", N, "Cost of capital in years 1 to 5, > -1."),
    Param("mature_cost_of_capital", N, "Cost of capital from year 10 on, > -1."),
    SHARES,
    Param(
        "margin_convergence_year",
        "whole",
        "Year (1-10) the target margin is reached.",
        YEARS,
        options=(1, YEARS),
    ),
    Param("nol", N, "Tax losses carried forward today, >= 0.", 0.0),
    Param(
        "terminal_roc",
        N,
        "Return on capital after year 10, > 0.",
        None,
        blank="mature cost of capital",
    ),
    Param("prob_failure", N, "Probability the firm fails, 0 to 1.", 0.0),
    Param("distress_proceeds", N, "Operating assets' value if it fails, >= 0.", 0.0),
    Param("cash", N, "Cash, model currency, >= 0.", 0.0),
    Param("debt", N, "Debt, model currency, >= 0.", 0.0),
    FX,
    Param(
        "marginal_tax_rate",
        N,
        "Tax rate reached linearly by year 10 and paid in the terminal year, 0 to 1.",
        None,
        blank="tax_rate",
    ),
    Param(
        "distress_fraction",
        N,
        "Operating assets' value if it fails as a fraction of the going-concern value, 0 to 1 "
        "(instead of distress_proceeds).",
        0.0,
    ),
    Param("ipo_proceeds", N, "IPO proceeds the firm keeps, model currency, >= 0.", 0.0),
    Param("non_operating_assets", N, "Cross holdings and other non-operating assets, >= 0.", 0.0),
    Param("minority_interests", N, "Minority interests, model currency, >= 0.", 0.0),
    Param(
        "bridge_years",
        "whole",
        "Whole fiscal years between the base year and the first valued year (0-3).",
        0,
        options=(0, 3),
    ),
    Param("bridge_growth", N, "Revenue growth in each bridge year, > -1.", 0.0),
    Param(
        "high_growth_years",
        "whole",
        "Years (1-9) the high growth, the first cost of capital and the effective tax rate "
        "hold, before the linear fade to year 10.",
        5,
        options=(1, 9),
    ),
)
"""The DCF's inputs, in the order of GPUVAL_DCF's arguments."""

DCF_REQUIRED = tuple(p.name for p in DCF if not p.optional)

DCF_OUTPUTS = (
    "value_per_share", "equity_value", "operating_assets_value", "going_concern_value",
    "sum_pv_fcff", "terminal_value", "pv_terminal_value", "terminal_revenue",
    "terminal_after_tax_ebit", "terminal_reinvestment", "terminal_fcff", "distress_value",
    "bridge_revenue",
)  # fmt: skip
"""What GPUVAL_DCF's output may name."""

DCF_SCHEDULE = (
    "growth", "revenue", "operating_margin", "ebit", "taxes", "nol", "after_tax_ebit",
    "reinvestment", "fcff", "cost_of_capital", "discount_factor", "pv_fcff",
)  # fmt: skip
"""Rows of GPUVAL_DCF_SCHEDULE."""

DCF_OUTPUT = OUTPUT.with_(
    kind="choice",
    default="value_per_share",
    options=DCF_OUTPUTS,
    blank="value_per_share",
    help="Which result: value_per_share, equity_value, operating_assets_value, "
    "going_concern_value, sum_pv_fcff, terminal_value, pv_terminal_value...",
)


def kinds(params: tuple[Param, ...]) -> dict[str, str]:
    """Input name -> how a name | value table reads it: number, year or basis."""
    out = {}
    for p in params:
        out[p.name] = {"whole": "year", "choice": "basis"}.get(p.kind, "number")
    return out
