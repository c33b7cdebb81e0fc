"""LibreOffice as the analyst's application: open an .xlsx, edit it as a person would, save it.

The venv cannot import ``uno``; Debian's ``python3-uno`` can, so the edits run in
``tests/apps/uno_edit.py`` under ``/usr/bin/python3`` (override: ``$GPUVAL_UNO_PYTHON``) in a
subprocess of its own process group, with a fresh LibreOffice profile per run (every formula
recalculated on load, as in ``gpuval.pipeline.recalc``). On timeout the whole group (the script,
``soffice`` and ``soffice.bin``) is killed.

Usage::

    from apps.libreoffice import InsertRows, RenameSheet, SetValue, edit_in_libreoffice

    edit_in_libreoffice(src, dst, [InsertRows("Peers", at=1, count=2),
                                   RenameSheet("Inputs", "My inputs"),
                                   SetValue("My inputs", "D37", 2.5)])

Rows and columns are 1-based as on screen; ``at`` is the row (column) the new ones push down
(right), so ``InsertRows("Inputs", at=1)`` inserts above everything. Edits apply in order, so a
sheet renamed earlier is addressed by its new name later. With no edits the call is a plain
open-and-save. Tests that need it call :func:`require_uno` first (skip, or fail when
``GPUVAL_REQUIRE_LIBREOFFICE`` is set, as the other LibreOffice tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from gpuval.pipeline.recalc import find_soffice, make_profile

__all__ = [
    "CopyRange",
    "DeleteColumns",
    "DeleteRows",
    "DeleteSheet",
    "Edit",
    "InsertColumns",
    "InsertRows",
    "InsertSheet",
    "LibreOfficeEditError",
    "RenameSheet",
    "SetFormula",
    "SetValue",
    "edit_in_libreoffice",
    "require_uno",
    "uno_python",
]

SCRIPT = Path(__file__).with_name("uno_edit.py")


class LibreOfficeEditError(RuntimeError):
    """LibreOffice could not open, edit or save the file (the message says which and why)."""


@dataclass(frozen=True)
class InsertRows:
    sheet: str
    at: int
    count: int = 1
    op: str = "insert_rows"


@dataclass(frozen=True)
class DeleteRows:
    sheet: str
    at: int
    count: int = 1
    op: str = "delete_rows"


@dataclass(frozen=True)
class InsertColumns:
    """``at`` is a 1-based column number or a column letter (``"C"``)."""

    sheet: str
    at: int | str
    count: int = 1
    op: str = "insert_columns"


@dataclass(frozen=True)
class DeleteColumns:
    sheet: str
    at: int | str
    count: int = 1
    op: str = "delete_columns"


@dataclass(frozen=True)
class RenameSheet:
    sheet: str
    new: str
    op: str = "rename_sheet"


@dataclass(frozen=True)
class InsertSheet:
    """A new empty sheet at 1-based position ``at`` (1: before every other)."""

    sheet: str
    at: int
    op: str = "insert_sheet"


@dataclass(frozen=True)
class DeleteSheet:
    sheet: str
    op: str = "delete_sheet"


@dataclass(frozen=True)
class SetValue:
    """A number or text typed into ``cell`` (text is stored as text, even ``"=1"``); ``None``
    clears it."""

    sheet: str
    cell: str
    value: float | int | str | None
    op: str = "set_value"


@dataclass(frozen=True)
class SetFormula:
    """A formula in LibreOffice's API syntax: English function names, ``;`` between arguments
    (``"=SUM(A1;B1)"``)."""

    sheet: str
    cell: str
    formula: str
    op: str = "set_formula"


@dataclass(frozen=True)
class CopyRange:
    """Copy ``source`` (``"W7:BC7"``) and paste it at ``to`` (its top-left cell, ``"W8"``), as
    an analyst copies a row's formulas down: relative references move with the cells."""

    sheet: str
    source: str
    to: str
    op: str = "copy_range"


Edit = (
    InsertRows
    | DeleteRows
    | InsertColumns
    | DeleteColumns
    | RenameSheet
    | DeleteSheet
    | InsertSheet
    | SetValue
    | SetFormula
    | CopyRange
)


def _column_number(at: int | str) -> int:
    if isinstance(at, int):
        return at
    number = 0
    for ch in at.upper():
        number = number * 26 + ord(ch) - 64
    return number


def _record(edit: Edit) -> dict[str, object]:
    record = asdict(edit)
    if isinstance(edit, InsertColumns | DeleteColumns):
        record["at"] = _column_number(edit.at)
    return record


def uno_python() -> str | None:
    """A Python interpreter that can ``import uno`` (``$GPUVAL_UNO_PYTHON``, else
    ``/usr/bin/python3``), or ``None``."""
    exe = os.environ.get("GPUVAL_UNO_PYTHON") or "/usr/bin/python3"
    if not Path(exe).is_file():
        return None
    probe = subprocess.run([exe, "-c", "import uno"], capture_output=True, check=False)
    return exe if probe.returncode == 0 else None


def require_uno() -> None:
    """Skip the calling test when LibreOffice or python3-uno is missing (fail instead when
    ``GPUVAL_REQUIRE_LIBREOFFICE`` is set)."""
    import pytest

    missing = [
        what
        for what, found in (
            ("LibreOffice (soffice)", find_soffice()),
            ("python3-uno", uno_python()),
        )
        if found is None
    ]
    if missing:
        reason = (
            f"{' and '.join(missing)} not found "
            "(Debian: apt-get install libreoffice-calc python3-uno)"
        )
        if os.environ.get("GPUVAL_REQUIRE_LIBREOFFICE"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def edit_in_libreoffice(
    src: Path, dst: Path, edits: Sequence[Edit] = (), *, timeout: float = 120.0
) -> Path:
    """Open ``src`` in LibreOffice, apply ``edits`` in order, recalculate and save as .xlsx to
    ``dst`` (may equal ``src``); return ``dst``. Raises :class:`LibreOfficeEditError`."""
    soffice, python = find_soffice(), uno_python()
    if soffice is None or python is None:
        raise LibreOfficeEditError(
            "LibreOffice or python3-uno is missing; call require_uno() first"
        )
    src, dst = Path(src).resolve(), Path(dst).resolve()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gpuval-uno-") as tmp_name:
        tmp = Path(tmp_name)
        out = tmp / "out.xlsx"
        job = {
            "soffice": soffice,
            "profile": str(make_profile(tmp / "profile")),
            "src": str(src),
            "dst": str(out),
            "edits": [_record(e) for e in edits],
            "timeout": timeout,
        }
        (tmp / "job.json").write_text(json.dumps(job), encoding="utf-8")
        proc = subprocess.Popen(
            [python, str(SCRIPT), str(tmp / "job.json")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.communicate()
            raise LibreOfficeEditError(
                f"LibreOffice timed out after {timeout:g} s editing {src}"
            ) from None
        finally:
            _kill_group(proc.pid)
        message = err.decode(errors="replace").strip().splitlines()
        if proc.returncode != 0:
            raise LibreOfficeEditError(
                f"editing {src} failed (exit {proc.returncode}): {message[-1] if message else ''}"
            )
        if not out.is_file() or out.stat().st_size == 0:
            raise LibreOfficeEditError(f"LibreOffice wrote no file editing {src}")
        shutil.move(out, dst)
    return dst
