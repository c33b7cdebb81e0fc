"""Shared fixtures: LibreOffice as the real spreadsheet engine, and the shared seed corpus.

LibreOffice, marked test by test. A test that starts LibreOffice (through ``gpuval check``,
``publish``, ``recalculate`` ...) carries ``@pytest.mark.libreoffice`` or uses the ``recalc``
fixture (which adds the mark). Every other test runs everywhere, and is held to it: while it runs,
``GPUVAL_SOFFICE`` names a stand-in that fails with "not marked libreoffice", so a missing mark
fails on every machine instead of skipping where LibreOffice is absent. If LibreOffice is
missing, marked tests are skipped with a visible reason, unless ``GPUVAL_REQUIRE_LIBREOFFICE`` is
set to a non-empty value (as in CI), in which case they fail.

Seeds. The ``seeds_dir`` fixture is ``$GPUVAL_SEEDS`` if set, else ``<repo>/../shared/seeds``. If
that folder is missing its tests are skipped with a visible reason, unless ``GPUVAL_REQUIRE_SEEDS``
is set to a non-empty value (as in CI), in which case they fail.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
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
#: What the stand-in for soffice says when a test without the mark starts it.
UNMARKED = "this test started LibreOffice but is not marked @pytest.mark.libreoffice"

pytest_plugins = ["pytester"]  # tests/test_recalc.py checks the policy in a child pytest run

Policy = tuple[Literal["skip", "fail"], str] | None


def libreoffice_policy() -> Policy:
    """``None`` if LibreOffice is available, else what to do with tests that need it and why."""
    if find_soffice() is not None:
        return None
    if os.environ.get("GPUVAL_REQUIRE_LIBREOFFICE"):
        return "fail", FAIL_REASON
    return "skip", SKIP_REASON


@functools.cache
def _session_policy() -> Policy:
    return libreoffice_policy()


def _enforce(policy: Policy) -> None:
    if policy is None:
        return
    action, reason = policy
    if action == "fail":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)  # before -m "not libreoffice" deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "recalc" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.libreoffice)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("libreoffice") is not None:
        _enforce(_session_policy())


@pytest.fixture(scope="session")
def _stand_in_soffice(tmp_path_factory: pytest.TempPathFactory) -> str:
    script = tmp_path_factory.mktemp("no-libreoffice") / "soffice"
    script.write_text(f'#!/bin/sh\necho "Error: {UNMARKED}" >&2\nexit 97\n', encoding="utf-8")
    script.chmod(0o755)
    return str(script)


@pytest.fixture(autouse=True)
def _libreoffice_only_when_marked(
    request: pytest.FixtureRequest, _stand_in_soffice: str
) -> Iterator[None]:
    """Unmarked tests (and the processes they start) find the stand-in instead of soffice."""
    if request.node.get_closest_marker("libreoffice") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GPUVAL_SOFFICE", _stand_in_soffice)
        yield


@pytest.fixture
def recalc(tmp_path: Path) -> Callable[[Path], Path]:
    """``recalc(path)``: a LibreOffice-recalculated copy of ``path`` written under ``tmp_path``."""

    def _recalc(path: Path) -> Path:
        return recalculate(path, tmp_path / f"{Path(path).stem}.recalc.xlsx")

    return _recalc


def seeds_location() -> Path:
    """``$GPUVAL_SEEDS`` if set, else the shared corpus beside the repository."""
    env = os.environ.get("GPUVAL_SEEDS")
    return Path(env) if env else (REPO_ROOT / ".." / "shared" / "seeds").resolve()


def seeds_policy(path: Path) -> Policy:
    """``None`` if ``path`` is a folder, else what to do with tests that need the seeds and why."""
    if path.is_dir():
        return None
    where = f"seed corpus {path} not found (set GPUVAL_SEEDS to the folder of seed articles)"
    if os.environ.get("GPUVAL_REQUIRE_SEEDS"):
        return "fail", f"{where} but GPUVAL_REQUIRE_SEEDS is set"
    return "skip", f"{where}; set GPUVAL_REQUIRE_SEEDS=1 to make this a failure"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The seed corpus (see the module docstring for where it is looked for)."""
    path = seeds_location()
    _enforce(seeds_policy(path))
    return path
