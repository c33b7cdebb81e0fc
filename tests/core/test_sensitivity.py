"""Two-way sensitivity grids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    dcf_value_per_share,
    price_to_sales,
    sensitivity_grid,
    tam_scenario,
)

SCENARIO: dict[str, Any] = dict(
    share=0.05, tam=200e9, margin=0.2, exit_multiple=30.0, cost_of_equity=0.25, years=2.0,
    shares_outstanding=2.6e9, prob_success=0.5, distress_value=2e9, dilution=0.2, fx=7.8,
)  # fmt: skip


class TestSensitivityGrid:
    def test_hand_worked(self) -> None:
        g = sensitivity_grid(price_to_sales, ("market_value", [60e9, 90e9]),
                             ("revenue", [0.3e9, 0.6e9]))  # fmt: skip
        # rows = market value, columns = revenue: 60/0.3, 60/0.6; 90/0.3, 90/0.6
        np.testing.assert_allclose(g.values, [[200.0, 100.0], [300.0, 150.0]], rtol=1e-15)
        assert g.row_name == "market_value" and g.col_name == "revenue"
        assert g.row_values.tolist() == [60e9, 90e9]

    def test_record_output_and_base_override(self) -> None:
        # base share 0.05 is overridden by the grid; value per share = (320 bn s + 1 bn) x 3
        # at margin 0.2, and the slope scales with margin: (1,600 bn x margin x s + 1 bn) x 3
        g = sensitivity_grid(tam_scenario, ("share", [0.0, 0.05]), ("margin", [0.1, 0.2]),
                             output="value_per_share", **SCENARIO)  # fmt: skip
        expected = [[3.0, 3.0], [(1600 * 0.1 * 0.05 + 1) * 3, (1600 * 0.2 * 0.05 + 1) * 3]]
        np.testing.assert_allclose(g.values, expected, rtol=1e-14)

    def test_vectorised_equals_cell_by_cell(self) -> None:
        rows = ("cost_of_equity", [0.1, 0.15, 0.2, 0.3])
        cols = ("exit_multiple", [10.0, 20.0, 40.0])
        fast = sensitivity_grid(tam_scenario, rows, cols, output="value", **SCENARIO)
        slow = sensitivity_grid(tam_scenario, rows, cols, output="value", vectorised=False,
                                **SCENARIO)  # fmt: skip
        np.testing.assert_allclose(fast.values, slow.values, rtol=1e-15)

    def test_dcf_grid_shape(self) -> None:
        dcf = dict(revenue=100.0, growth_y1=0.3, growth_y2_5=0.2, terminal_growth=0.02,
                   operating_margin=-0.2, target_margin=0.25, sales_to_capital=2.0, tax_rate=0.2,
                   cost_of_capital=0.11, mature_cost_of_capital=0.08,
                   shares_outstanding=10.0)  # fmt: skip
        g = sensitivity_grid(dcf_value_per_share, ("target_margin", [0.15, 0.25, 0.35]),
                             ("cost_of_capital", [0.09, 0.12]), **dcf)  # fmt: skip
        assert g.values.shape == (3, 2)
        # more margin is worth more in every column
        assert np.all(np.diff(g.values, axis=0) > 0)

    def test_output_not_depending_on_one_axis_is_broadcast(self) -> None:
        # the TAM scenario's revenue does not depend on margin
        g = sensitivity_grid(tam_scenario, ("share", [0.1, 0.2]), ("margin", [0.1, 0.2, 0.3]),
                             output="revenue", **SCENARIO)  # fmt: skip
        np.testing.assert_allclose(g.values, [[20e9] * 3, [40e9] * 3])

    def test_same_input_twice(self) -> None:
        with pytest.raises(InputError, match="must differ, got share twice"):
            sensitivity_grid(tam_scenario, ("share", [0.1]), ("share", [0.2]), **SCENARIO)

    def test_empty_axis(self) -> None:
        with pytest.raises(InputError, match="share grid values must be a non-empty list"):
            sensitivity_grid(tam_scenario, ("share", []), ("margin", [0.2]), **SCENARIO)

    def test_bad_axis_value(self) -> None:
        with pytest.raises(
            InputError, match=r"^share must be between 0 and 1, got 2 \(at position \(1, 0\)\)"
        ):
            sensitivity_grid(tam_scenario, ("share", [0.1, 2.0]), ("margin", [0.2]),
                             output="value", **SCENARIO)  # fmt: skip

    def test_array_base_input_rejected(self) -> None:
        with pytest.raises(
            InputError, match=r"cannot be broadcast together|must be a single number"
        ):
            sensitivity_grid(tam_scenario, ("share", [0.1, 0.2]), ("margin", [0.2, 0.3]),
                             output="value", **{**SCENARIO, "years": [1.0, 2.0, 3.0]})  # fmt: skip
