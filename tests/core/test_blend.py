"""The weighted value across methods: the core's Python against its Excel builder (computed by
the ``formulas`` engine), with the figures worked by hand."""

from __future__ import annotations

from typing import Any

import formulas
import numpy as np
import pytest

from gpuval.core import InputError
from gpuval.core.blend import weighted_value, weighted_value_xl


def excel(values: list[Any], weights: list[float]) -> Any:
    def array(xs: list[Any]) -> str:
        return "{" + ",".join(f'"{x}"' if isinstance(x, str) else repr(float(x)) for x in xs) + "}"

    result = formulas.Parser().ast("=" + weighted_value_xl(array(values), array(weights)))[1]
    value = np.asarray(result.compile()()).ravel()[0]
    return value if isinstance(value, str) else float(value)


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        # 0.3 x 27.5 + 0.4 x 30.4 + 0.3 x 3.8 = 8.25 + 12.16 + 1.14 = 21.55 (weights sum to 1)
        ([27.5, 30.4, 3.8, 158.8], [0.3, 0.4, 0.3, 0.0], 21.55),
        # the n/a method drops out: (0.3 x 27.5 + 0.3 x 3.8) / 0.6 = 9.39 / 0.6 = 15.65
        ([27.5, "n/a", 3.8], [0.3, 0.4, 0.3], 15.65),
        # no weighted method has a value
        (["n/a", 5.0], [1.0, 0.0], None),
    ],
)
def test_python_and_excel_agree_with_the_hand_figures(
    values: list[Any], weights: list[float], expected: float | None
) -> None:
    python = weighted_value([None if v == "n/a" else v for v in values], weights)
    sheet = excel(values, weights)
    if expected is None:
        assert python is None and sheet == "n/a"
    else:
        assert python == pytest.approx(expected, rel=1e-12)
        assert sheet == pytest.approx(expected, rel=1e-12)


def test_bad_weights_are_named() -> None:
    with pytest.raises(InputError, match=r"weights\[1\] must be between 0 and 1"):
        weighted_value([1.0, 2.0], [0.5, 1.5])
    with pytest.raises(InputError, match="same length"):
        weighted_value([1.0], [0.5, 0.5])
