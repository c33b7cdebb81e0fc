"""refresh, check and publish on every hostile corpus item: one clear sentence (or, for check,
a report of failing checks), a non-zero exit, no traceback, and nothing lost or half-written."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpuval.cli import main
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import open_workbook
from hostile import make_corpus as mc

pytestmark = pytest.mark.libreoffice

#: Items a command accepts: refresh updates data and leaves model errors to `check`.
REFRESH_OK = {"ref_error", "renamed_sheet"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("hp_base") / "gpu_valuation.xlsx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, base: Path) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("hp_corpus")
    return {"xlsx": mc.write_xlsx(root / "xlsx", base), "prices": mc.write_prices(root / "prices")}


def tree(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def one_sentence(err: str, name: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("[")]
    assert len(lines) == 1 and lines[0].startswith("gpuval: error: "), err
    assert name in lines[0] and lines[0].endswith("."), lines[0]


@pytest.mark.parametrize("item", mc.XLSX_NAMES)
def test_refresh(item: str, corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "analyst.xlsx"
    shutil.copy(corpus["xlsx"][item], path)
    before = tree(work)
    status = main(["refresh", str(path), "--quiet"])
    _, err = capsys.readouterr()
    if item in REFRESH_OK:
        assert status == 0, err
        open_workbook(path)  # a complete workbook
        return
    assert status != 0
    one_sentence(err, "analyst.xlsx")
    assert tree(work) == before


@pytest.mark.parametrize("item", mc.XLSX_NAMES)
def test_check_and_publish(
    item: str, corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus["xlsx"][item]
    before = tree(path.parent)
    status = main(["check", str(path), "--today", "2026-01-20"])
    out, err = capsys.readouterr()
    assert status != 0 and "Traceback" not in err + out
    if err.strip():
        one_sentence(err, path.name)
    else:  # a gpuval workbook that checks could open: the report says what fails
        assert "FAIL" in out and "Some checks fail." in out
    dist = tmp_path / "dist"
    status = main(["publish", str(path), "--out-dir", str(dist), "--today", "2026-01-20", "-q"])
    _, err = capsys.readouterr()
    assert status != 0
    one_sentence(err, path.name)
    assert not dist.exists() or not any(dist.iterdir())
    assert tree(path.parent) == before


def test_check_reports_the_planted_ref(corpus, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(corpus["xlsx"]["ref_error"]), "--today", "2026-01-20"]) == 1
    assert "#REF! (in its own formula" in capsys.readouterr().out


@pytest.mark.parametrize("item", mc.PRICE_NAMES)
def test_refresh_with_a_bad_prices_file(
    item: str, corpus, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "analyst.xlsx"
    shutil.copy(base, path)
    before = tree(work)
    prices = corpus["prices"][item]
    if item == "valid":  # the corpus's control item
        assert main(["refresh", str(path), "--prices", str(prices), "-q"]) == 0
        return
    assert main(["refresh", str(path), "--prices", str(prices), "-q"]) == 1
    one_sentence(capsys.readouterr().err, prices.name)
    assert tree(work) == before  # no backup, no temporary file, workbook untouched


# --- faults ------------------------------------------------------------------------------------


def test_sigkill_during_refresh_leaves_the_workbook_whole(base: Path, tmp_path: Path) -> None:
    """Kill refresh at several moments; each time the workbook is the old or the new file,
    complete, never a half-written one."""
    path = tmp_path / "analyst.xlsx"
    shutil.copy(base, path)
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,40,HKD\n")
    original = path.read_bytes()
    for delay in (0.3, 0.6, 0.9, 1.2, 1.5, 2.0):
        process = subprocess.Popen(
            [sys.executable, "-m", "gpuval.cli", "refresh", str(path), "--prices", str(prices),
             "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        data = path.read_bytes()
        wb = open_workbook(path)  # complete, readable
        assert data == original or wb["Peers"]["F25"].value == 40
        (tmp_path / f".{path.name}.gpuval-lock").unlink(missing_ok=True)  # a killed run's lock


def test_two_refreshes_at_once(base: Path, tmp_path: Path) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(base, path)
    runs = [
        subprocess.Popen([sys.executable, "-m", "gpuval.cli", "refresh", str(path), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [(r.wait(), r.stderr.read()) for r in runs]  # type: ignore[union-attr]
    statuses = sorted(status for status, _ in results)
    assert statuses[0] == 0
    if statuses[1] != 0:  # the second found the first's lock
        assert any("being refreshed or published by another gpuval" in err for _, err in results)
    open_workbook(path)
