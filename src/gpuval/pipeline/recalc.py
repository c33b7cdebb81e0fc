"""LibreOffice headless recalculation and conversion (the stand-in for Excel).

openpyxl writes formulas without cached values, so a workbook it produced shows ``None`` under
``load_workbook(data_only=True)``. :func:`recalculate` runs the file through LibreOffice Calc with a
throwaway profile that forces a hard recalculation on load (even of cached values already in the
file) and writes the result back as .xlsx. Every run gets its own profile directory (a shared
profile fails silently under concurrency) and its own process group, which is killed as a whole on
timeout because ``soffice.bin`` outlives its ``soffice`` wrapper otherwise.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gpuval.errors import GpuvalError

__all__ = [
    "convert",
    "find_soffice",
    "make_profile",
    "recalculate",
    "render_pngs",
    "soffice_missing",
]

# No quotes around the filter name: passed without a shell, literal quotes make the export fail
# (with exit status 0).
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"

# RecalcMode 0 = always recalculate on load (1 = never, 2 = prompt).
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


#: Where the LibreOffice installers put soffice when it is not on PATH (macOS, Windows).
STANDARD_PLACES = (
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)


def find_soffice() -> str | None:
    """Return the LibreOffice executable: ``$GPUVAL_SOFFICE`` if set (a path or a command name;
    nothing else is tried then), else ``soffice`` or ``libreoffice`` on PATH, else the standard
    install place on macOS or Windows, else ``None``."""
    override = os.environ.get("GPUVAL_SOFFICE")
    if override:
        return shutil.which(override)
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        found = next((shutil.which(p) for p in STANDARD_PLACES if shutil.which(p)), None)
    return found


def soffice_missing(doing: str) -> GpuvalError:
    """The one sentence for "LibreOffice is needed to <doing> but was not found"."""
    override = os.environ.get("GPUVAL_SOFFICE")
    if override:
        return GpuvalError(
            f"Cannot {doing}: LibreOffice (soffice) was not found: GPUVAL_SOFFICE is set to "
            f"{override!r}, which is not an executable program."
        )
    return GpuvalError(
        f"Cannot {doing}: LibreOffice (soffice) was not found on PATH nor where its installer "
        "puts it; install LibreOffice or set GPUVAL_SOFFICE to its soffice program (README: "
        "LibreOffice)."
    )


def make_profile(profile: Path) -> Path:
    """Make ``profile`` (an empty directory) a fresh LibreOffice user installation that
    recalculates every formula on load; pass it as ``-env:UserInstallation=<its file URI>``."""
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
    return profile


@contextlib.contextmanager
def _tempdir(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _last_line(stderr: bytes) -> str:
    """The most telling stderr line (the last ``Error:`` line, else the last line), or ``""``."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error")]
    return (errors or lines or [""])[-1].rstrip(".")


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _run_soffice(src: Path, fmt: str, outdir: Path, timeout: float) -> Path:
    """Convert ``src`` with ``--convert-to fmt`` into the empty directory ``outdir``; return the
    single file produced. Uses a fresh profile and kills the whole process group at the end."""
    soffice = find_soffice()
    if soffice is None:
        raise soffice_missing(f"process {src}")
    if not src.is_file():
        raise GpuvalError(f"Cannot process {src}: the file does not exist.")
    with _tempdir("gpuval-lo-profile-") as profile:
        make_profile(profile)
        cmd = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.communicate()
            raise GpuvalError(
                f"LibreOffice timed out after {timeout:g} s converting {src}."
            ) from None
        finally:
            _kill_group(proc.pid)  # stragglers (e.g. soffice.bin) left behind by the wrapper
            if proc.poll() is None:
                proc.wait()
    if proc.returncode != 0:
        detail = _last_line(err)
        raise GpuvalError(
            f"LibreOffice exited with code {proc.returncode} converting {src}"
            + (f": {detail}." if detail else ".")
        )
    produced = [p for p in outdir.iterdir() if p.is_file() and p.stat().st_size > 0]
    if len(produced) != 1:  # soffice exits 0 even when it cannot load or store the file
        detail = _last_line(err) or "the file is probably corrupt or not a supported document"
        raise GpuvalError(
            f"LibreOffice produced no output converting {src} to {fmt.split(':')[0]} ({detail})."
        )
    return produced[0]


def convert(src: Path, fmt: str, outdir: Path, *, timeout: float = 120.0) -> Path:
    """Convert ``src`` with LibreOffice (``fmt`` as for ``--convert-to``, e.g. ``"pdf"``) into
    ``outdir``; return the written path ``outdir/<stem>.<ext>`` (replaced atomically)."""
    src, outdir = Path(src).resolve(), Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{src.stem}.{fmt.split(':', 1)[0]}"
    with _tempdir(".gpuval-convert-", outdir) as work:
        produced = _run_soffice(src, fmt, work, timeout)
        os.replace(produced, target)
    return target


def recalculate(src: Path, out: Path | None = None, *, timeout: float = 120.0) -> Path:
    """Write a fully recalculated copy of the workbook ``src`` to ``out`` (default
    ``<stem>.recalc.xlsx`` beside ``src``; ``out == src`` recalculates in place) and return it.

    Every formula is recomputed by LibreOffice, whatever cached values the file carried, so
    ``openpyxl.load_workbook(out, data_only=True)`` sees the results. ``out`` is never left
    partially written.
    """
    src = Path(src).resolve()
    out = Path(out).resolve() if out is not None else src.with_name(f"{src.stem}.recalc.xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _tempdir(".gpuval-recalc-", out.parent) as work:
        produced = _run_soffice(src, XLSX_FILTER, work, timeout)
        os.replace(produced, out)
    return out


def render_pngs(pdf: Path, outdir: Path, dpi: int = 80) -> list[Path]:
    """Render each page of ``pdf`` to ``outdir/<stem>-<n>.png`` with ``pdftoppm``; return them in
    page order."""
    pdf, outdir = Path(pdf), Path(outdir)
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise GpuvalError(f"Cannot render {pdf}: pdftoppm (poppler) was not found on PATH.")
    outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [exe, "-png", "-r", str(dpi), str(pdf), str(outdir / pdf.stem)],
        capture_output=True,
        check=False,
    )
    pages = sorted(
        outdir.glob(f"{glob.escape(pdf.stem)}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
    )
    if proc.returncode != 0 or not pages:
        detail = _last_line(proc.stderr)
        raise GpuvalError(
            f"pdftoppm could not render {pdf} (exit {proc.returncode})"
            + (f": {detail}." if detail else ".")
        )
    return pages
