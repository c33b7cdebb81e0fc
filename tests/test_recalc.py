"""The LibreOffice recalculation layer: formulas really computed, failures reported, no leaks."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

import conftest
from gpuval.errors import GpuvalError
from gpuval.pipeline import recalc as recalc_mod
from gpuval.pipeline.recalc import convert, find_soffice, recalculate, render_pngs

libreoffice = pytest.mark.libreoffice


def _model_workbook(path: Path, a1: float = 2, a2: float = 3) -> Path:
    """Two sheets, a defined name and formulas with hand-worked results (see test below)."""
    wb = openpyxl.Workbook()
    model = wb.worksheets[0]
    model.title = "Model"
    inputs = wb.create_sheet("Inputs")
    inputs["B1"] = 0.1
    inputs["B2"] = 1000
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="Inputs!$B$1")
    model["A1"], model["A2"] = a1, a2
    model["A3"] = "=A1*A2+1"
    model["A4"] = "=(A1+A2)^2/5"
    model["A5"] = "=SUM(A1:A4)"
    model["A6"] = "=Inputs!B2*2"
    model["A7"] = "=Inputs!B2*(1+Rate)"
    model["A8"] = "=ROUND(1/3,4)"
    model["A9"] = '=IF(A1>1,"big","small")'
    wb.save(path)
    return path


def _values(path: Path) -> dict[str, object]:
    ws = openpyxl.load_workbook(path, data_only=True)["Model"]
    return {f"A{r}": ws[f"A{r}"].value for r in range(1, 10)}


def _set_cached(src: Path, dst: Path, cell: str, value: str) -> None:
    """Copy ``src`` to ``dst`` with the cached value of formula ``cell`` on sheet 1 replaced."""
    pattern = rf'(<c r="{cell}"[^>]*>\s*<f[^>]*>[^<]*</f>\s*<v>)[^<]*(</v>)'.encode()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(pattern, rb"\g<1>" + value.encode() + rb"\g<2>", data)
                assert n == 1, f"cached value of {cell} not found"
            zout.writestr(item, data)


def _spy_tempdirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        path = real(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch.setattr(recalc_mod.tempfile, "mkdtemp", spy)
    return made


def _kill_survivors(text: str, wait: float = 3.0) -> list[str]:
    """``ps`` lines of processes whose command line contains ``text`` and that are still alive
    after ``wait`` seconds; those are killed so that a failing test leaks nothing."""
    deadline = time.monotonic() + wait
    while True:
        ps = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True)
        lines = [ln.strip() for ln in ps.stdout.splitlines() if text in ln]
        if not lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for line in lines:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    return lines


def _fake_soffice(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@libreoffice
def test_formulas_are_computed(tmp_path: Path, recalc: Callable[[Path], Path]) -> None:
    src = _model_workbook(tmp_path / "model.xlsx")
    assert _values(src)["A3"] is None  # openpyxl writes no cached values
    out = recalc(src)
    assert out.parent == tmp_path and out != src
    got = _values(out)
    assert got["A3"] == 7  # 2*3+1
    assert got["A4"] == 5  # (2+3)^2/5
    assert got["A5"] == 17  # 2+3+7+5
    assert got["A6"] == 2000  # cross-sheet: 1000*2
    assert got["A7"] == pytest.approx(1100)  # defined name: 1000*(1+0.1)
    assert got["A8"] == pytest.approx(0.3333)
    assert got["A9"] == "big"
    # formulas survive the round trip
    assert openpyxl.load_workbook(out)["Model"]["A7"].value == "=Inputs!B2*(1+Rate)"


@libreoffice
def test_wrong_cached_values_are_recomputed(tmp_path: Path) -> None:
    first = recalculate(_model_workbook(tmp_path / "model.xlsx"), tmp_path / "first.xlsx")
    assert _values(first)["A3"] == 7
    tampered = tmp_path / "tampered.xlsx"
    _set_cached(first, tampered, "A3", "999")
    assert _values(tampered)["A3"] == 999
    fixed = recalculate(tampered, tmp_path / "fixed.xlsx")
    assert _values(fixed)["A3"] == 7
    assert _values(fixed)["A5"] == 17


@libreoffice
def test_default_output_and_in_place(tmp_path: Path) -> None:
    src = _model_workbook(tmp_path / "model.xlsx")
    assert recalculate(src) == tmp_path / "model.recalc.xlsx"
    assert recalculate(src, src) == src
    assert _values(src)["A3"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.recalc.xlsx", "model.xlsx"]


@libreoffice
@pytest.mark.parametrize("kind", ["random-bytes", "truncated-zip"])
def test_corrupt_input_raises(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "broken_book.xlsx"
    if kind == "random-bytes":
        bad.write_bytes(os.urandom(4096))
    else:
        good = _model_workbook(tmp_path / "good.xlsx").read_bytes()
        bad.write_bytes(good[: len(good) // 2])
    out = tmp_path / "out" / "result.xlsx"
    with pytest.raises(GpuvalError, match=r"broken_book\.xlsx") as err:
        recalculate(bad, out)
    assert "no output" in str(err.value)
    assert list(out.parent.iterdir()) == []  # no partial file, temp dir cleaned


def test_missing_input_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", _fake_soffice(tmp_path, "exit 1"))  # never started
    with pytest.raises(GpuvalError, match=r"nowhere\.xlsx.*does not exist"):
        recalculate(tmp_path / "nowhere.xlsx", tmp_path / "out.xlsx")


@libreoffice
@pytest.mark.parametrize("timeout", [0.01, 0.7])
def test_timeout_kills_process_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout: float
) -> None:
    src = _model_workbook(tmp_path / "model.xlsx")
    made = _spy_tempdirs(monkeypatch)
    out = tmp_path / "out.xlsx"
    with pytest.raises(GpuvalError, match=rf"timed out after {timeout:g} s.*model\.xlsx"):
        recalculate(src, out, timeout=timeout)
    profiles = [p for p in made if "profile" in p]
    assert len(profiles) == 1
    assert _kill_survivors(profiles[0]) == []
    assert not out.exists()
    assert not Path(profiles[0]).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.xlsx"]


def test_timeout_kills_stubborn_grandchildren(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that detaches its stdio and outlives the wrapper still dies with the group."""
    body = (
        f'"{sys.executable}" -c "import time; time.sleep(60)" "$@" >/dev/null 2>&1 </dev/null &\n'
        "wait"
    )
    monkeypatch.setenv("GPUVAL_SOFFICE", _fake_soffice(tmp_path, body))
    made = _spy_tempdirs(monkeypatch)
    src = tmp_path / "model.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(GpuvalError, match="timed out"):
        recalculate(src, tmp_path / "out.xlsx", timeout=0.5)
    (profile,) = (p for p in made if "profile" in p)
    assert _kill_survivors(profile) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('echo "Warning: noise" >&2; echo "Error: boom" >&2; exit 3', r"code 3.*: Error: boom\."),
        ("exit 0", r"produced no output"),
    ],
)
def test_soffice_failures_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", _fake_soffice(tmp_path, body))
    src = tmp_path / "model.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(GpuvalError, match=r"model\.xlsx") as err:
        recalculate(src, tmp_path / "out.xlsx")
    assert re.search(message, str(err.value))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-soffice", "model.xlsx"]


def test_soffice_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", str(tmp_path / "no-such-soffice"))
    assert find_soffice() is None
    src = tmp_path / "model.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(GpuvalError, match=r"model\.xlsx.*LibreOffice \(soffice\) was not found"):
        recalculate(src)


@libreoffice
def test_concurrent_recalculations(tmp_path: Path) -> None:
    srcs = [_model_workbook(tmp_path / f"m{i}.xlsx", a1=i + 2, a2=10) for i in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(lambda s: recalculate(s, s.with_suffix(".out.xlsx")), srcs))
    assert [_values(o)["A3"] for o in outs] == [21, 31]  # (i+2)*10+1


@libreoffice
def test_pdf_and_pngs(tmp_path: Path) -> None:
    src = _model_workbook(tmp_path / "model.xlsx")
    pdf = convert(src, "pdf", tmp_path / "pdf")
    assert pdf == tmp_path / "pdf" / "model.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert list(pdf.parent.iterdir()) == [pdf]
    pngs = render_pngs(pdf, tmp_path / "png", dpi=40)
    assert pngs
    for png in pngs:
        assert png.stat().st_size > 100
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_render_pngs_rejects_non_pdf(tmp_path: Path) -> None:
    fake = tmp_path / "notes.pdf"
    fake.write_text("not a pdf")
    with pytest.raises(GpuvalError, match=r"notes\.pdf"):
        render_pngs(fake, tmp_path / "png")


def test_libreoffice_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUVAL_SOFFICE", str(tmp_path / "missing-soffice"))
    monkeypatch.delenv("GPUVAL_REQUIRE_LIBREOFFICE", raising=False)
    assert conftest.libreoffice_policy() == (
        "skip",
        "LibreOffice (soffice) not found; set GPUVAL_REQUIRE_LIBREOFFICE=1 to make this a failure",
    )
    monkeypatch.setenv("GPUVAL_REQUIRE_LIBREOFFICE", "")
    assert conftest.libreoffice_policy() == ("skip", conftest.SKIP_REASON)
    monkeypatch.setenv("GPUVAL_REQUIRE_LIBREOFFICE", "1")
    assert conftest.libreoffice_policy() == ("fail", conftest.FAIL_REASON)
    monkeypatch.setenv("GPUVAL_SOFFICE", _fake_soffice(tmp_path, "exit 0"))
    assert conftest.libreoffice_policy() is None


@pytest.mark.parametrize(("require", "outcome"), [("", "skipped"), ("1", "errors")])
def test_libreoffice_policy_end_to_end(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require: str, outcome: str
) -> None:
    """Marked tests and ``recalc`` users are skipped (visibly) or fail when soffice is missing."""
    monkeypatch.setenv("GPUVAL_SOFFICE", str(pytester.path / "missing-soffice"))
    monkeypatch.setenv("GPUVAL_REQUIRE_LIBREOFFICE", require)
    monkeypatch.setenv("PYTHONPATH", str(conftest.REPO_ROOT / "src"))
    pytester.makeconftest(Path(conftest.__file__).read_text())
    pytester.makeini("[pytest]\nmarkers =\n    libreoffice: needs LibreOffice\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.libreoffice
        def test_marked():
            pass

        def test_fixture(recalc):
            pass

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, **{outcome: 2})
    if outcome == "skipped":
        result.stdout.fnmatch_lines(["*LibreOffice (soffice) not found; set GPUVAL_REQUIRE*"])
    else:
        result.stdout.fnmatch_lines(["*GPUVAL_REQUIRE_LIBREOFFICE is set*"])


def test_an_unmarked_test_that_starts_libreoffice_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the mark a test (and any gpuval process it starts) meets the stand-in soffice,
    wherever LibreOffice is installed; a marked test sees the real setting."""
    real = _fake_soffice(tmp_path, "exit 0")
    monkeypatch.setenv("GPUVAL_SOFFICE", real)
    monkeypatch.setenv("PYTHONPATH", str(conftest.REPO_ROOT / "src"))
    pytester.makeconftest(Path(conftest.__file__).read_text())
    pytester.makeini("[pytest]\nmarkers =\n    libreoffice: needs LibreOffice\n")
    pytester.makepyfile(
        f"""
        import os
        import subprocess
        import sys

        import pytest

        from gpuval.pipeline.recalc import recalculate

        def test_unmarked(tmp_path):
            (tmp_path / "a.xlsx").write_bytes(b"x")
            recalculate(tmp_path / "a.xlsx", tmp_path / "b.xlsx")

        def test_unmarked_child_process(tmp_path):
            (tmp_path / "a.xlsx").write_bytes(b"x")
            code = "from gpuval.pipeline.recalc import recalculate; import sys; "
            code += "recalculate(sys.argv[1], sys.argv[2])"
            child = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.xlsx"),
                                    str(tmp_path / "b.xlsx")], capture_output=True, text=True)
            assert "is not marked @pytest.mark.libreoffice" in child.stderr

        @pytest.mark.libreoffice
        def test_marked():
            assert os.environ["GPUVAL_SOFFICE"] == {real!r}
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)  # test_unmarked fails, saying why
    result.stdout.fnmatch_lines([f"*code 97*: Error: {conftest.UNMARKED}*"])
