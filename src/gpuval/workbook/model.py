"""The Python side of the workbook: from the values of its ``in_*`` cells to every ``out_*``
quantity, through the valuation core. Each sheet module computes the quantities it writes
formulas for; this module only runs them in order.
"""

from __future__ import annotations

from typing import Any

from gpuval.workbook.sheets import dcf, implied, peers, scenarios, valuation

STEPS = (peers.compute, scenarios.compute, dcf.compute, implied.compute, valuation.compute)


def evaluate_values(values: dict[str, Any]) -> dict[str, Any]:
    """Run every sheet's ``compute`` on a copy of ``values``; return the enriched dict."""
    v = dict(values)
    for step in STEPS:
        step(v)
    return v


def outputs(values: dict[str, Any]) -> dict[str, Any]:
    """Just the ``out_*`` quantities."""
    return {k: v for k, v in evaluate_values(values).items() if k.startswith("out_")}
