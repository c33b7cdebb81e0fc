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
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self
from xml.sax.saxutils import escape

from gpuval.errors import GpuvalError

__all__ = [
    "Recalculation",
    "Rendering",
    "convert",
    "find_soffice",
    "make_profile",
    "recalculate",
    "recalculate_and_render",
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


class _Soffice:
    """One ``soffice --convert-to fmt`` run of ``src`` into the empty directory ``outdir``,
    started at once in its own process group with a fresh profile; :meth:`finish` waits for it
    and returns the single file produced; :meth:`kill` (also called by :meth:`finish`) removes
    every process of the group and the profile."""

    def __init__(
        self, src: Path, fmt: str, outdir: Path, timeout: float, *, macro: str | None = None
    ) -> None:
        soffice = find_soffice()
        if soffice is None:
            raise soffice_missing(f"process {src}")
        if not src.is_file():
            raise GpuvalError(f"Cannot process {src}: the file does not exist.")
        self.src, self.fmt, self.outdir = src, fmt, outdir
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.profile = make_profile(Path(tempfile.mkdtemp(prefix="gpuval-lo-profile-")))
        if macro is not None:
            _add_macros(self.profile)
        task = (
            [macro]
            if macro is not None
            else ["--convert-to", fmt, "--outdir", str(outdir), str(src)]
        )
        cmd = [
            soffice,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            *task,
        ]
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise GpuvalError(f"Cannot start LibreOffice ({soffice}) for {src}: {exc}.") from None

    def kill(self) -> None:
        _kill_group(self.proc.pid)  # stragglers (e.g. soffice.bin) left behind by the wrapper
        if self.proc.poll() is None:
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def finish(self) -> Path:
        try:
            _, err = self.proc.communicate(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(self.proc.pid)
            self.proc.communicate()
            raise GpuvalError(
                f"LibreOffice timed out after {self.timeout:g} s converting {self.src}."
            ) from None
        finally:
            self.kill()
        if self.proc.returncode != 0:
            detail = _last_line(err)
            raise GpuvalError(
                f"LibreOffice exited with code {self.proc.returncode} converting {self.src}"
                + (f": {detail}." if detail else ".")
            )
        produced = [p for p in self.outdir.iterdir() if p.is_file() and p.stat().st_size > 0]
        self.stderr = err
        if len(produced) != 1:  # soffice exits 0 even when it cannot load or store the file
            detail = _last_line(err) or "the file is probably corrupt or not a supported document"
            raise GpuvalError(
                f"LibreOffice produced no output converting {self.src} to "
                f"{self.fmt.split(':')[0]} ({detail})."
            )
        return produced[0]


# A Basic macro in the throwaway profile lets one LibreOffice run do what publish needs: load,
# recalculate everything, store the .xlsx with its values and export the PDF. The profile is marked
# as set up (ooSetupInstCompleted), or LibreOffice's first start would replace the macro library
# with its presets. Errors end the run too (no dialog can wait for an answer in headless mode).
_SETUP_DONE = (
    '<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" '
    'oor:op="fuse"><value>true</value></prop></item>\n'
)
_LIBRARIES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" \
xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" xlink:href="$(USER)/basic/Standard/{kind}.xlb/" \
xlink:type="simple" library:link="false"/>
</library:libraries>
"""
_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" \
library:readonly="false" library:passwordprotected="false">{elements}</library:library>
"""
_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Gpuval" \
script:language="StarBasic">{code}</script:module>
"""
_BASIC = """
Sub Render(src As String, xlsx As String, pdf As String)
  On Error GoTo Failed
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden"
  load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), "_blank", 0, load())
  REM the profile recalculates every formula on load (OOXMLRecalcMode 0)
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = "FilterName"
  store(0).Value = "Calc MS Excel 2007 XML"
  store(1).Name = "Overwrite"
  store(1).Value = True
  doc.storeToURL(ConvertToURL(xlsx), store())
  If pdf <> "" Then
    Dim export(0) As New com.sun.star.beans.PropertyValue
    export(0).Name = "FilterName"
    export(0).Value = "calc_pdf_Export"
    doc.storeToURL(ConvertToURL(pdf), export())
  End If
  doc.close(True)
Failed:
  StarDesktop.terminate()
End Sub
"""


def _add_macros(profile: Path) -> None:
    user = profile / "user"
    registry = user / "registrymodifications.xcu"
    registry.write_text(
        registry.read_text(encoding="utf-8").replace("</oor:items>", _SETUP_DONE + "</oor:items>"),
        encoding="utf-8",
    )
    standard = user / "basic" / "Standard"
    standard.mkdir(parents=True)
    for kind in ("script", "dialog"):
        (user / "basic" / f"{kind}.xlc").write_text(_LIBRARIES.format(kind=kind), encoding="utf-8")
    element = '<library:element library:name="Gpuval"/>'
    (standard / "script.xlb").write_text(_LIBRARY.format(elements=element), encoding="utf-8")
    (standard / "dialog.xlb").write_text(_LIBRARY.format(elements=""), encoding="utf-8")
    (standard / "Gpuval.xba").write_text(_MODULE.format(code=escape(_BASIC)), encoding="utf-8")


def recalculate_and_render(
    src: Path, xlsx: Path, pdf: Path | None = None, *, timeout: float = 120.0
) -> tuple[Path, Path | None]:
    """One LibreOffice run: a fully recalculated copy of ``src`` to ``xlsx`` (as
    :func:`recalculate`) and, if ``pdf`` is given, a PDF of every sheet. Both are written whole or
    not at all; returns ``(xlsx, pdf)``."""
    with Rendering(src, xlsx, pdf, timeout=timeout) as job:
        return job.result(), job.pdf


class _Background:
    """A LibreOffice job in a scratch directory ``work``; :meth:`close` (or leaving a ``with``
    block) stops the job if it still runs and removes the directory."""

    job: _Soffice | None
    work: Path

    def _start(self, prefix: str, near: Path, start: Callable[[Path], _Soffice]) -> None:
        """Make ``work`` in the directory ``near`` and start the job ``start(work)`` in it; if
        that fails, remove ``work`` again."""
        self.work = Path(tempfile.mkdtemp(prefix=prefix, dir=near))
        try:
            self.job = start(self.work)
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise

    def close(self) -> None:
        if self.job is not None:
            self.job.kill()
            self.job = None
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Rendering(_Background):
    """:func:`recalculate_and_render` started in the background (as :class:`Recalculation`):
    :meth:`result` waits and returns the .xlsx; the PDF is then at :attr:`pdf`."""

    def __init__(
        self, src: Path, xlsx: Path, pdf: Path | None = None, *, timeout: float = 120.0
    ) -> None:
        self.src, self.xlsx = Path(src).resolve(), Path(xlsx).resolve()
        self.pdf = Path(pdf).resolve() if pdf is not None else None
        for target in (self.xlsx, self.pdf):
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
        self._start(".gpuval-render-", self.xlsx.parent, lambda work: self._render(work, timeout))

    def _render(self, work: Path, timeout: float) -> _Soffice:
        (work / "in").mkdir()
        (work / "out").mkdir()
        # the source's name, which the PDF's footer prints (&F); plain ASCII only, so
        # that nothing needs quoting in the macro call below
        name = re.sub(r"[^A-Za-z0-9._-]", "_", self.src.stem) or "workbook"
        staged = work / "in" / f"{name}.xlsx"
        shutil.copyfile(self.src, staged)
        self.outputs = [work / "out" / f"{name}.xlsx", work / "out" / f"{name}.pdf"]
        pdf_arg = self.outputs[1] if self.pdf is not None else ""
        macro = f'macro:///Standard.Gpuval.Render("{staged}","{self.outputs[0]}","{pdf_arg}")'
        return _Soffice(staged, "xlsx+pdf", work / "out", timeout, macro=macro)

    def result(self) -> Path:
        if self.job is None:
            return self.xlsx
        job, self.job = self.job, None
        try:
            job.finish()
        except GpuvalError as exc:
            if "produced no output" not in str(exc):  # the outputs are checked below, by name
                raise
        wanted = self.outputs if self.pdf is not None else self.outputs[:1]
        missing = [p.suffix for p in wanted if not p.is_file() or p.stat().st_size == 0]
        if missing:
            raise GpuvalError(
                f"LibreOffice produced no {' or '.join(m.lstrip('.') for m in missing)} from "
                f"{self.src} (the file is probably corrupt or not a supported document)."
            )
        os.replace(self.outputs[0], self.xlsx)
        if self.pdf is not None:
            os.replace(self.outputs[1], self.pdf)
        return self.xlsx


def _run_soffice(src: Path, fmt: str, outdir: Path, timeout: float) -> Path:
    """Convert ``src`` with ``--convert-to fmt`` into the empty directory ``outdir``; return the
    single file produced. Uses a fresh profile and kills the whole process group at the end."""
    return _Soffice(src, fmt, outdir, timeout).finish()


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
    with Recalculation(src, out, timeout=timeout) as job:
        return job.result()


class Recalculation(_Background):
    """:func:`recalculate` started in the background, so Python can work meanwhile::

        with Recalculation(src, out) as job:
            ...  # anything that does not need the computed values
            values = job.result()  # waits; raises GpuvalError as recalculate does

    Leaving the block without :meth:`result` stops LibreOffice and leaves ``out`` untouched.
    """

    def __init__(self, src: Path, out: Path | None = None, *, timeout: float = 120.0) -> None:
        self.src = Path(src).resolve()
        self.out = (
            Path(out).resolve()
            if out is not None
            else self.src.with_name(f"{self.src.stem}.recalc.xlsx")
        )
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._start(
            ".gpuval-recalc-",
            self.out.parent,
            lambda work: _Soffice(self.src, XLSX_FILTER, work, timeout),
        )

    def result(self) -> Path:
        if self.job is None:
            return self.out
        job, self.job = self.job, None
        produced = job.finish()
        os.replace(produced, self.out)
        return self.out


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
