"""replace_atomically under injected faults: a failure or a SIGKILL at each named step leaves the
old file or the new one, whole, and no temporary file that outlives the next write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gpuval.pipeline.files import FAULT_STEPS, replace_atomically

OLD, NEW = b"old content\n", b"new content, longer than the old\n"
BEFORE_REPLACE = [s for s in FAULT_STEPS if s != "replaced"]


def write_new(tmp: str) -> None:
    Path(tmp).write_bytes(NEW)


def test_the_steps_are_in_order() -> None:
    assert FAULT_STEPS == ("temp-created", "temp-written", "before-replace", "replaced")


def test_without_a_fault_the_file_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GPUVAL_FAULT", raising=False)
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    target.chmod(0o640)
    assert replace_atomically(target, write_new) == target
    assert target.read_bytes() == NEW
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["book.xlsx"]


@pytest.mark.parametrize("step", FAULT_STEPS)
def test_a_failure_at_each_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str):
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    monkeypatch.setenv("GPUVAL_FAULT", step)
    with pytest.raises(OSError, match=f"fault injected at step '{step}' by GPUVAL_FAULT"):
        replace_atomically(target, write_new)
    assert target.read_bytes() == (NEW if step == "replaced" else OLD)
    assert os.listdir(tmp_path) == ["book.xlsx"]  # the temporary file was removed


def test_a_failure_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)

    def half(tmp: str) -> None:
        Path(tmp).write_bytes(NEW[:5])
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        replace_atomically(target, half)
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["book.xlsx"]


def test_an_unknown_step_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt step would otherwise inject nothing and let a fault test pass untested."""
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    monkeypatch.setenv("GPUVAL_FAULT", "before-rename:kill")
    with pytest.raises(ValueError, match="names no step"):
        replace_atomically(target, write_new)
    assert target.read_bytes() == OLD


KILLED_WRITER = """
import sys
from pathlib import Path
from typing import Any
from gpuval.pipeline.files import replace_atomically
replace_atomically(Path(sys.argv[1]), lambda tmp: Path(tmp).write_bytes(b"new content, "
                   b"longer than the old\\n"))
"""


def run_writer(target: Path, fault: str | None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "GPUVAL_FAULT"}
    if fault:
        env["GPUVAL_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(target)], env=env, capture_output=True, timeout=60
    )


@pytest.mark.parametrize("step", FAULT_STEPS)
def test_sigkill_at_each_step(tmp_path: Path, step: str) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    killed = run_writer(target, f"{step}:kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # the kill landed at the step
    assert target.read_bytes() == (NEW if step == "replaced" else OLD)
    leftovers = sorted(set(os.listdir(tmp_path)) - {"book.xlsx"})
    if step == "replaced":
        assert leftovers == []
        return
    # The killed process could not clean up: its temporary file is hidden and names it ...
    (orphan,) = leftovers
    assert orphan.startswith(".book.xlsx.") and orphan.endswith(".tmp")
    assert (tmp_path / orphan).read_bytes() == (b"" if step == "temp-created" else NEW)
    # ... and the next write to the same file removes it.
    assert run_writer(target, None).returncode == 0
    assert target.read_bytes() == NEW
    assert os.listdir(tmp_path) == ["book.xlsx"]


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    theirs = tmp_path / f".book.xlsx.{os.getppid()}.abc123.tmp"  # our parent: alive
    theirs.write_bytes(b"partial")
    other = tmp_path / ".book.xlsx.notapid.tmp"
    other.write_bytes(b"not ours")
    replace_atomically(target, write_new)
    assert sorted(os.listdir(tmp_path)) == sorted(["book.xlsx", theirs.name, other.name])


def test_publishing_a_file_on_a_full_disk_without_hard_links_leaves_no_part_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where hard links are refused, publish creates the file itself; a disk that fills then
    must not leave half a file for the next publish to take as an earlier publication."""
    from gpuval.pipeline import publish

    src, target = tmp_path / "src.xlsx", tmp_path / "dist" / "x_2026-01-05.xlsx"
    src.write_bytes(b"a whole workbook")
    target.parent.mkdir()

    def no_links(a: object, b: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    def full(source: object, handle: Any) -> None:
        handle.write(b"a who")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.os, "link", no_links)
    monkeypatch.setattr(publish.shutil, "copyfileobj", full)
    with pytest.raises(OSError) as caught:
        publish._copy_new(src, target)
    assert (caught.value.filename, caught.value.strerror) == (
        str(target),
        "No space left on device",
    )
    assert list(target.parent.iterdir()) == []


def test_the_lock_file_on_a_full_disk_or_a_read_only_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk names the lock file (it said "cannot write or read: No space left on
    device", no file); a read-only folder stops a command that writes the workbook and lets
    one that only reads it (publish) work on without the lock."""
    import errno

    from gpuval.errors import GpuvalError
    from gpuval.pipeline.files import workbook_lock

    book = tmp_path / "analyst.xlsx"
    book.write_bytes(b"x")
    lock = tmp_path / ".analyst.xlsx.gpuval-lock"

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "write", full)
        with pytest.raises(GpuvalError) as refused, workbook_lock(book):
            pass
    assert str(refused.value) == f"Cannot write the lock file {lock}: No space left on device."
    assert not lock.exists()

    def read_only(*args: Any, **kwargs: Any) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(GpuvalError) as refused, workbook_lock(book):
        pass
    assert str(refused.value) == f"Cannot create the lock file {lock}: Read-only file system."
    ran = []
    with workbook_lock(book, reading=True):
        ran.append(True)
    assert ran == [True]


def test_a_folder_that_may_not_be_written_is_named_by_the_file_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file cannot even be created (a read-only folder): the error names the
    file asked for, not ``.new.xlsx.10461.xl5hzt0j.tmp``."""
    import errno
    import tempfile

    def read_only(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".new.xlsx.1.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as refused:
        replace_atomically(tmp_path / "new.xlsx", write_new)
    assert refused.value.filename == str(tmp_path / "new.xlsx")
    assert refused.value.strerror == "Read-only file system"
