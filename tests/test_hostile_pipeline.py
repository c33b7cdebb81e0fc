"""refresh, check and publish on every hostile corpus item: one clear sentence (or, for check,
a report of failing checks), a non-zero exit, no traceback, and nothing lost or half-written."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpuval.cli import main
from gpuval.pipeline.files import FAULT_STEPS
from gpuval.workbook.build import build
from gpuval.workbook.evaluate import open_workbook
from hostile import make_corpus as mc

#: Whole gpuval workbooks: refresh updates their data, and check and publish recalculate them in
#: LibreOffice. A sheet renamed the way Excel renames one is a valid workbook (check passes,
#: publish writes it); a #REF! in a model cell is reported by check and refused by publish. Every
#: other item is refused with one sentence before LibreOffice starts.
VALID = {"renamed_sheet"}
MODEL_ERROR = {"ref_error"}
WHOLE = VALID | MODEL_ERROR


def xlsx_items() -> list[object]:
    """The .xlsx corpus as parameters, the WHOLE items marked ``libreoffice``."""
    lo = pytest.mark.libreoffice
    return [pytest.param(i, marks=[lo] if i in WHOLE else [], id=i) for i in mc.XLSX_NAMES]


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
def test_refresh_on_each_corpus_item(
    item: str,
    corpus: dict[str, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "analyst.xlsx"
    shutil.copy(corpus["xlsx"][item], path)
    before = tree(work)
    status = main(["refresh", str(path), "--quiet"])
    _, err = capsys.readouterr()
    if item in WHOLE:
        assert status == 0, err
        open_workbook(path)  # a complete workbook
        return
    assert status != 0
    one_sentence(err, "analyst.xlsx")
    assert tree(work) == before


@pytest.mark.parametrize("item", xlsx_items())
def test_check_and_publish_on_each_corpus_item(
    item: str,
    corpus: dict[str, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = corpus["xlsx"][item]
    before = tree(path.parent)
    # on 2026-01-20 the one figure used (Biren's price, 2026-01-05) is 15 days old
    status = main(["check", str(path), "--today", "2026-01-20", "--max-age-days", "15"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    if item in VALID:
        assert (status, err) == (0, ""), out
        assert "FAIL" not in out and out.rstrip().endswith("All checks pass."), out
    elif item in MODEL_ERROR:  # checks ran: the report says what fails
        assert (status, err) == (1, ""), err
        assert "FAIL" in out and out.rstrip().endswith("Some checks fail."), out
    else:
        assert (status, out) == (1, "")
        one_sentence(err, path.name)
    dist = tmp_path / "dist"
    status = main(["publish", str(path), "--out-dir", str(dist), "--today", "2026-01-20", "-q",
                   "--max-age-days", "83"])  # fmt: skip
    out, err = capsys.readouterr()
    assert tree(path.parent) == before  # the input is never changed
    if item in VALID:
        assert status == 0, err
        assert sorted(p.suffix for p in dist.iterdir()) == [".json", ".xlsx"], out
        return
    assert status == 1
    one_sentence(err, path.name)
    if item in MODEL_ERROR:
        assert "fails" in err and "check(s)" in err, err
    assert not dist.exists() or not any(dist.iterdir())


@pytest.mark.libreoffice
def test_check_reports_the_planted_ref(
    corpus: dict[str, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(corpus["xlsx"]["ref_error"]), "--today", "2026-01-20"]) == 1
    assert "#REF! (in its own formula" in capsys.readouterr().out


@pytest.mark.parametrize("item", mc.PRICE_NAMES)
def test_refresh_with_each_prices_corpus_item(
    item: str,
    corpus: dict[str, dict[str, Path]],
    base: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
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


def refresh_argv(path: Path, prices: Path) -> list[str]:
    return ["refresh", str(path), "--prices", str(prices), "-q"]


@pytest.fixture
def analyst(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the built workbook in a folder of its own, and a prices file beside it that
    moves Biren's price (Peers!F6) to 40."""
    path = tmp_path / "work" / "analyst.xlsx"
    path.parent.mkdir()
    shutil.copy(base, path)
    prices = tmp_path / "p.csv"
    prices.write_text("entity,date,price,currency\nbiren,2026-11-20,40,HKD\n")
    return path, prices


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("analyst.backup-*.xlsx"))


@pytest.mark.parametrize("step", FAULT_STEPS)
def test_refresh_killed_at_each_step_of_the_save(analyst: tuple[Path, Path], step: str) -> None:
    """SIGKILL at each step of the atomic save: the workbook is the old file (or, once replaced,
    the new one), whole; the next refresh clears what the killed one left."""
    path, prices = analyst
    original = path.read_bytes()
    env = {**os.environ, "GPUVAL_FAULT": f"{step}:kill"}
    killed = subprocess.run([sys.executable, "-m", "gpuval.cli", *refresh_argv(path, prices)],
                            env=env, capture_output=True, timeout=300)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # killed at the step, not before
    if step == "replaced":
        assert open_workbook(path)["Peers"]["F6"].value == 40
    else:
        assert path.read_bytes() == original
    (backup,) = backups(path.parent)
    assert backup.read_bytes() == original  # taken before the save: a whole copy
    # What the killed process could not remove: its lock, and its temporary file until replaced.
    left = {p.name for p in path.parent.iterdir()} - {path.name, backup.name}
    temporary = {n for n in left if n.startswith(".analyst.xlsx.") and n.endswith(".tmp")}
    assert left - temporary == {".analyst.xlsx.gpuval-lock"}
    assert len(temporary) == (0 if step == "replaced" else 1)

    assert main(refresh_argv(path, prices)) == 0  # takes over the lock, removes the temporary
    assert open_workbook(path)["Peers"]["F6"].value == 40
    assert {p.name for p in path.parent.iterdir()} == {path.name} | {
        b.name for b in backups(path.parent)
    }


@pytest.mark.parametrize("step", FAULT_STEPS)
def test_refresh_failing_at_each_step_of_the_save(
    analyst: tuple[Path, Path],
    step: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An I/O error at each step of the save: one sentence, exit 1, the old workbook and no
    backup of it (or, once replaced, the new one and a whole backup), and no lock or temporary
    file."""
    path, prices = analyst
    original = path.read_bytes()
    monkeypatch.setenv("GPUVAL_FAULT", step)
    assert main(refresh_argv(path, prices)) == 1
    err = capsys.readouterr().err
    assert f"fault injected at step '{step}'" in err
    one_sentence(err, "analyst.xlsx")
    if step != "replaced":
        assert path.read_bytes() == original
        assert {p.name for p in path.parent.iterdir()} == {path.name}
        return
    assert open_workbook(path)["Peers"]["F6"].value == 40
    (backup,) = backups(path.parent)
    assert backup.read_bytes() == original
    assert {p.name for p in path.parent.iterdir()} == {path.name, backup.name}


@pytest.mark.parametrize("step", FAULT_STEPS)
def test_build_killed_at_each_step_keeps_a_whole_workbook(base: Path, tmp_path: Path, step: str):
    """``gpuval build --out`` over an existing workbook, SIGKILLed at each step of the save."""
    path = tmp_path / "analyst.xlsx"
    path.write_bytes(b"an earlier file, not a workbook")  # so a new build is told apart
    # (--force: without it build refuses to replace a file that is not a workbook)
    argv = [sys.executable, "-m", "gpuval.cli", "build", "--out", str(path), "--force"]
    env = {**os.environ, "GPUVAL_FAULT": f"{step}:kill"}
    killed = subprocess.run(argv, env=env, capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if step == "replaced":
        assert open_workbook(path).sheetnames == open_workbook(base).sheetnames  # the new one
    else:
        assert path.read_bytes() == b"an earlier file, not a workbook"
    assert main(["build", "--out", str(path), "--force"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["analyst.xlsx"]  # no temporary file left


def test_two_refreshes_started_together_leave_a_whole_workbook(base: Path, tmp_path: Path) -> None:
    path = tmp_path / "analyst.xlsx"
    shutil.copy(base, path)
    runs = [
        subprocess.Popen([sys.executable, "-m", "gpuval.cli", "refresh", str(path), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    errors = [r.communicate(timeout=300)[1] for r in runs]
    results = [(r.returncode, err) for r, err in zip(runs, errors, strict=True)]
    statuses = sorted(status for status, _ in results)
    assert statuses[0] == 0
    if statuses[1] != 0:  # the second found the first's lock
        assert any("being refreshed or published by another gpuval" in err for _, err in results)
    open_workbook(path)
