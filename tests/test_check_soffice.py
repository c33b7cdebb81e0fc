"""How gpuval finds LibreOffice for check and publish: ``$GPUVAL_SOFFICE``, PATH, then the place
the macOS and Windows installers use; and the sentence when it is nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuval.errors import GpuvalError
from gpuval.pipeline import recalc
from gpuval.pipeline.recalc import find_soffice, recalculate


def fake(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_gpuval_soffice_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = fake(tmp_path / "lo" / "soffice")
    monkeypatch.setenv("GPUVAL_SOFFICE", str(mine))
    assert find_soffice() == str(mine)


def test_path_then_the_installers_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPUVAL_SOFFICE", raising=False)
    on_path = fake(tmp_path / "bin" / "soffice")
    installed = fake(
        tmp_path / "Applications" / "LibreOffice.app" / "Contents" / "MacOS" / "soffice"
    )
    monkeypatch.setattr(recalc, "STANDARD_PLACES", (str(installed),))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_soffice() == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_soffice() == str(installed)
    monkeypatch.setattr(recalc, "STANDARD_PLACES", ())
    assert find_soffice() is None


def test_nowhere_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPUVAL_SOFFICE", raising=False)
    monkeypatch.setattr(recalc, "STANDARD_PLACES", ())
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    src = tmp_path / "model.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(GpuvalError) as err:
        recalculate(src)
    assert str(err.value) == (
        f"Cannot process {src.resolve()}: LibreOffice (soffice) was not found on PATH nor where "
        "its installer puts it; install LibreOffice or set GPUVAL_SOFFICE to its soffice program "
        "(README: LibreOffice)."
    )


def test_a_wrong_gpuval_soffice_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", str(tmp_path / "nope"))
    src = tmp_path / "model.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(GpuvalError, match=r"GPUVAL_SOFFICE is set to '.*nope', which is not an"):
        recalculate(src)
