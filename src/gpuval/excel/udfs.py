"""Every ``GPUVAL_`` Excel function, for xlwings to register: the module its set-up names.

The functions are declared once each in the topic modules (:mod:`~gpuval.excel.multiples`,
:mod:`~gpuval.excel.scenarios`, :mod:`~gpuval.excel.dcf`, :mod:`~gpuval.excel.simulation`,
:mod:`~gpuval.excel.data`) through :func:`gpuval.excel.declare.udf`; this module gathers them.
``__all__`` lists only the functions, so ``from gpuval.excel.udfs import *`` in an xlwings Lite
``main.py`` registers them and imports nothing else. Conventions (errors, blanks, ranges,
bounds) are in the README, "Excel functions", and in :mod:`gpuval.excel.args`.
"""

from __future__ import annotations

from gpuval.excel.data import GPUVAL_DATA, GPUVAL_FX, GPUVAL_SOURCE, GPUVAL_VERSION
from gpuval.excel.dcf import (
    GPUVAL_DCF,
    GPUVAL_DCF_SCHEDULE,
    GPUVAL_DCF_TABLE,
    GPUVAL_IMPLIED_GROWTH,
)
from gpuval.excel.multiples import (
    GPUVAL_NVIDIA_FRACTION,
    GPUVAL_NVIDIA_SHARE_PER_SHARE,
    GPUVAL_NVIDIA_SHARE_VALUE,
    GPUVAL_PEER_STATS,
    GPUVAL_PEER_VALUE,
    GPUVAL_PS,
    GPUVAL_PS_BACKLOG,
    GPUVAL_PS_RUNRATE,
    GPUVAL_VENUE_GAP,
)
from gpuval.excel.scenarios import (
    GPUVAL_IMPLIED_SHARE,
    GPUVAL_TAM_AT,
    GPUVAL_TAM_PER_SHARE,
    GPUVAL_TAM_SCENARIO,
    GPUVAL_TAM_VALUE,
)
from gpuval.excel.simulation import GPUVAL_MONTECARLO, GPUVAL_SENSITIVITY

__all__ = [
    "GPUVAL_DATA",
    "GPUVAL_DCF",
    "GPUVAL_DCF_SCHEDULE",
    "GPUVAL_DCF_TABLE",
    "GPUVAL_FX",
    "GPUVAL_IMPLIED_GROWTH",
    "GPUVAL_IMPLIED_SHARE",
    "GPUVAL_MONTECARLO",
    "GPUVAL_NVIDIA_FRACTION",
    "GPUVAL_NVIDIA_SHARE_PER_SHARE",
    "GPUVAL_NVIDIA_SHARE_VALUE",
    "GPUVAL_PEER_STATS",
    "GPUVAL_PEER_VALUE",
    "GPUVAL_PS",
    "GPUVAL_PS_BACKLOG",
    "GPUVAL_PS_RUNRATE",
    "GPUVAL_SENSITIVITY",
    "GPUVAL_SOURCE",
    "GPUVAL_TAM_AT",
    "GPUVAL_TAM_PER_SHARE",
    "GPUVAL_TAM_SCENARIO",
    "GPUVAL_TAM_VALUE",
    "GPUVAL_VENUE_GAP",
    "GPUVAL_VERSION",
]
