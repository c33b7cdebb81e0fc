"""Shared fixtures: LibreOffice as the real spreadsheet engine, and the shared seed corpus.

Policy for tests marked ``@pytest.mark.libreoffice`` (or using the ``recalc`` fixture): if
LibreOffice is missing they are skipped with a visible reason, unless ``GPUVAL_REQUIRE_LIBREOFFICE``
is set to a non-empty value (as in CI), in which case they fail.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("gpuval") is None:  # source tree not pip-installed into the venv
    sys.path.insert(0, str(REPO_ROOT / "src"))

from gpuval.pipeline.recalc import find_soffice, recalculate  # noqa: E402

SKIP_REASON = (
    "LibreOffice (soffice) not found; set GPUVAL_REQUIRE_LIBREOFFICE=1 to make this a failure"
)
FAIL_REASON = "LibreOffice (soffice) not found but GPUVAL_REQUIRE_LIBREOFFICE is set"

pytest_plugins = ["pytester"]  # tests/test_recalc.py checks the policy in a child pytest run


def libreoffice_policy() -> tuple[Literal["skip", "fail"], str] | None:
    """``None`` if LibreOffice is available, else what to do with tests that need it and why."""
    if find_soffice() is not None:
        return None
    if os.environ.get("GPUVAL_REQUIRE_LIBREOFFICE"):
        return "fail", FAIL_REASON
    return "skip", SKIP_REASON


@functools.cache
def _session_policy() -> tuple[Literal["skip", "fail"], str] | None:
    return libreoffice_policy()


def _enforce_libreoffice() -> None:
    policy = _session_policy()
    if policy is None:
        return
    action, reason = policy
    if action == "fail":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("libreoffice") is not None:
        _enforce_libreoffice()


@pytest.fixture
def recalc(tmp_path: Path) -> Callable[[Path], Path]:
    """``recalc(path)``: a LibreOffice-recalculated copy of ``path`` written under ``tmp_path``."""
    _enforce_libreoffice()

    def _recalc(path: Path) -> Path:
        return recalculate(path, tmp_path / f"{Path(path).stem}.recalc.xlsx")

    return _recalc


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shared seed corpus ``<repo root>/../shared/seeds``; skips if it is absent."""
    path = (REPO_ROOT / ".." / "shared" / "seeds").resolve()
    if not path.is_dir():
        pytest.skip(f"seed corpus {path} not found")
    return path
