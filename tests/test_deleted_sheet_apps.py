"""A model sheet deleted in LibreOffice (the application): LibreOffice saves its defined names as
``#REF!``. check, refresh and publish each refuse the file in one sentence naming the sheet, and
change nothing (check and publish crashed on the name; refresh reported success)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from apps.libreoffice import DeleteSheet, edit_in_libreoffice, require_uno
from gpuval.cli import main
from gpuval.workbook.build import build

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def deleted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_uno()
    built = build(tmp_path_factory.mktemp("built") / "biren.xlsx")
    folder = tmp_path_factory.mktemp("deleted")
    return edit_in_libreoffice(built, folder / "no_scenarios.xlsx", [DeleteSheet("Scenarios")])


def _tree(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.mark.parametrize(
    "argv",
    [["check"], ["refresh"], ["publish", "--out-dir", "{dist}"]],
    ids=["check", "refresh", "publish"],
)
def test_a_deleted_model_sheet_is_named_in_one_sentence(
    deleted: Path, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(deleted.parent)
    args = [a.replace("{dist}", str(tmp_path / "dist")) for a in argv]
    code = main([args[0], str(deleted), *args[1:]])
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[")]
    assert code == 1
    assert len(err) == 1 and err[0].startswith("gpuval: error: no_scenarios.xlsx: "), err
    assert "point at #REF!: their cells on 'Scenarios' were deleted" in err[0]
    assert "out_" in err[0] and err[0].endswith("rebuild the workbook with gpuval build.")
    assert _tree(deleted.parent) == before  # nothing written beside it, nothing changed
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())
