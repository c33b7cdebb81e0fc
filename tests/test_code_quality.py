"""Lint, format and type checks, run as subprocesses so that the one test command covers them.

``ruff check`` and ``ruff format --check`` cover the whole repository; mypy checks ``src`` with
the configuration in pyproject.toml (strict on ``gpuval.core``, mypy's defaults elsewhere) and
the test modules listed in :data:`TYPED_TESTS`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Test modules held to mypy too (paths relative to the repository).
TYPED_TESTS = [
    "tests/conftest.py",
    "tests/hostile/make_corpus.py",
    "tests/test_code_quality.py",
    "tests/test_dataset.py",
    "tests/test_dataset_validation.py",
    "tests/test_files.py",
    "tests/test_fx.py",
    "tests/test_heldout.py",
    "tests/test_hostile_commands.py",
    "tests/test_hostile_pipeline.py",
    "tests/test_numbers.py",
    "tests/test_pipeline.py",
    "tests/test_prices.py",
    "tests/test_quality.py",
    "tests/test_recalc.py",
    "tests/test_safety.py",
    "tests/test_soak.py",
]


def run(tool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m tool args`` in ``cwd``; fails (never skips) if the tool is not installed."""
    if importlib.util.find_spec(tool) is None:
        pytest.fail(f"{tool} is not installed; install the test extra: pip install -e '.[test]'")
    return subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_check() -> None:
    result = run("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_src() -> None:
    result = run("mypy")  # the files and flags of [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_the_typed_tests() -> None:
    assert all((REPO / name).is_file() for name in TYPED_TESTS)
    result = run("mypy", *TYPED_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_strict_on_the_core_only(tmp_path: Path) -> None:
    """The same unannotated function is an error in gpuval.core and accepted elsewhere."""
    for package in ("gpuval", "gpuval/core", "gpuval/workbook"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    probe = "def double(x):\n    return 2 * x\n"
    (tmp_path / "gpuval" / "core" / "probe.py").write_text(probe)
    (tmp_path / "gpuval" / "workbook" / "probe.py").write_text(probe)
    result = run(
        "mypy",
        "--config-file",
        str(REPO / "pyproject.toml"),
        "--no-incremental",
        "gpuval/core/probe.py",
        "gpuval/workbook/probe.py",
        cwd=tmp_path,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("gpuval/core/probe.py:1:"), result.stdout
    assert "missing a type annotation" in errors[0]
