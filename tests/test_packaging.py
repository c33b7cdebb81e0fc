"""What a wheel carries: every file the package reads besides its code, so that ``build``,
``check`` and ``publish`` work from a wheel install as from a checkout (the house-style template
outside the package has a built-in default, :func:`gpuval.workbook.template.load_template`)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "gpuval"


def test_every_data_file_of_the_package_is_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["gpuval"]
    data = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert "workbook/assumptions.toml" in data  # the company assumptions a build reads
    missing = [f for f in data if not any(fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
