"""Every docstring example in the core runs and gives what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import gpuval.core

MODULES = [
    importlib.import_module(f"gpuval.core.{m.name}")
    for m in pkgutil.iter_modules(gpuval.core.__path__)
]


def test_every_core_module_is_collected() -> None:
    names = {m.__name__.rsplit(".", 1)[1] for m in MODULES}
    assert {"validate", "multiples", "peers", "nvidia", "tam", "dcf", "reverse", "sensitivity",
            "montecarlo", "units", "discount"} <= names  # fmt: skip


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{module.__name__} has no doctested example"


def test_public_functions_have_docstrings_with_examples() -> None:
    missing = [
        name
        for name in gpuval.core.__all__
        if callable(obj := getattr(gpuval.core, name))
        and not isinstance(obj, type)
        and ">>>" not in (obj.__doc__ or "")
    ]
    assert missing == []
