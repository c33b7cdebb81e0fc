"""What a figure is, in a reader's words: its period, what it measures and its basis.

:func:`figure_label` gives e.g. ``"FY2024 reported"``, ``"FY2025 guidance, upper bound"``,
``"H1 2025 reported (about)"``, ``"2026-01-05 market value"``, ``"2025-12 peak market value, lower
bound (over)"`` or ``"2025 derived"``. A peak (a metric containing ``peak`` or ``first_day_high``)
is always called a peak, and a bound (qualifier ``over`` or ``up_to``, or a range or guidance end)
always a lower or upper bound, so that no label passes either off as a point value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gpuval.data.dataset import Record

__all__ = ["figure_label"]

#: Point-in-time quantities named in the label (a flow such as revenue is named by its column).
_NOUNS = (
    (re.compile(r"(^|_)market_cap(_peak|_first_day_high)?$"), "market value"),
    (re.compile(r"(^|_)share_price$|^first_day_high_price$"), "share price"),
    (re.compile(r"^shares_outstanding$"), "shares outstanding"),
    (re.compile(r"^order_backlog$"), "order backlog"),
    (re.compile(r"^backlog_delivery_months$"), "backlog delivery months"),
)
#: Money flows a company reports for its fiscal year: a year period reads "FY2024".
_FISCAL = re.compile(r"revenue|net_income|net_loss|r_and_d")
#: kind -> (basis, bound it implies).
_KINDS = {
    "reported": ("reported", ""),
    "estimate": ("estimate", ""),
    "guidance_low": ("guidance", "lower bound"),
    "guidance_high": ("guidance", "upper bound"),
    "guidance_mid": ("guidance, midpoint", ""),
    "range_low": ("range", "lower bound"),
    "range_high": ("range", "upper bound"),
    "derived": ("derived", ""),
    "assumption": ("assumption", ""),
    "quip": ("market quip (not reported)", ""),
}
_QUALIFIERS = {
    "about": ("", "(about)"),
    "nearly": ("", "(nearly)"),
    "over": ("lower bound", "(over)"),
    "up_to": ("upper bound", "(up to)"),
}


def _when(record: Record) -> str:
    """``2024`` -> ``FY2024`` for a fiscal flow, ``2025H1`` -> ``H1 2025``, dates unchanged."""
    from gpuval.data.schema import CURRENCIES  # pydantic loads only when a label is made

    period = record.period
    if match := re.fullmatch(r"(\d{4})([HQ][1-4])", period):
        return f"{match[2]} {match[1]}"
    fiscal = _FISCAL.search(record.metric) and record.unit in CURRENCIES
    if re.fullmatch(r"\d{4}", period) and record.kind != "derived" and fiscal:
        return f"FY{period}"
    return period


def _noun(metric: str) -> str:
    noun = next((name for pattern, name in _NOUNS if pattern.search(metric)), "")
    if "first_day_high" in metric:
        return f"first-day peak {noun}".strip()
    if "peak" in metric:
        return f"peak {noun}".strip()
    return noun


def figure_label(record: Record) -> str:
    """The reader's description of a figure's basis, e.g. ``"FY2025 guidance, upper bound"``."""
    basis, bound = _KINDS.get(record.kind, (record.kind, ""))
    noun = _noun(record.metric)
    if noun and record.kind == "reported":
        basis = ""  # "2026-01-05 market value": a stated market figure is simply that
    head = " ".join(part for part in (_when(record), noun) if part)
    parts = [p for p in (basis, bound) if p]
    label = head + (", " if noun and parts else " " if head and parts else "") + ", ".join(parts)
    q_bound, q_word = _QUALIFIERS.get(record.qualifier, ("", ""))
    if q_bound and q_bound != bound:
        label += f", {q_bound} {q_word}" if label else f"{q_bound} {q_word}"
    elif q_word and not q_bound:
        label += f" {q_word}" if label else q_word
    return label.strip()
