"""Replacing a file only by a complete new one, and the lock that keeps two gpuval processes (or
gpuval and an open Excel or LibreOffice) off the same workbook.

Fault injection (for tests). ``GPUVAL_FAULT=<step>`` makes :func:`replace_atomically` raise an
``OSError`` at that step, as a full disk would; ``GPUVAL_FAULT=<step>:kill`` makes the process
SIGKILL itself there, as a power cut or the OOM killer would. The steps, in order, are
:data:`FAULT_STEPS`:

* ``temp-created``: the empty temporary file exists beside the target, nothing written yet;
* ``temp-written``: the temporary file is complete, its permissions not yet set;
* ``before-replace``: the temporary file is complete, about to be moved into place;
* ``replaced``: the new file is in place.

Unset (always, outside tests) it costs one environment lookup per call.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from gpuval.errors import GpuvalError

__all__ = ["FAULT_STEPS", "lock_files", "replace_atomically", "workbook_lock"]

FAULT_STEPS = ("temp-created", "temp-written", "before-replace", "replaced")


def _fault(wanted: str, step: str, path: Path) -> None:
    """Act on ``GPUVAL_FAULT`` (value ``wanted``) if it names ``step``."""
    name, _, how = wanted.partition(":")
    if name != step:
        return
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.EIO, f"fault injected at step {step!r} by GPUVAL_FAULT", str(path))


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or what a new file gets under the current umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphans(path: Path) -> None:
    """Delete temporary files for ``path`` left by processes that died before cleaning up."""
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = orphan.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                orphan.unlink()


def named(exc: OSError, path: Path) -> OSError:
    """``exc`` (a full disk, a folder that may not be written) naming ``path``, the file the
    analyst asked for, instead of a temporary or source file."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def replace_atomically(path: Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary name)`` beside ``path``, then move the result into place.

    The file at ``path`` is either untouched (if anything fails or the process dies) or fully
    replaced, and it keeps its permissions. The temporary file is ``.<name>.<pid>.<random>.tmp``;
    one left by a process that was killed is removed by the next call for the same ``path``.
    """
    fault = os.environ.get("GPUVAL_FAULT")
    if fault and fault.partition(":")[0] not in FAULT_STEPS:
        raise ValueError(f"GPUVAL_FAULT={fault!r} names no step of {FAULT_STEPS}")
    try:  # a read-only folder: name the file asked for, not the temporary one
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(path)
        handle, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise named(exc, path) from None
    os.close(handle)
    try:
        if fault:
            _fault(fault, "temp-created", path)
        write(tmp)
        if fault:
            _fault(fault, "temp-written", path)
        os.chmod(tmp, _mode_for(path))
        if fault:
            _fault(fault, "before-replace", path)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a read-only folder: name the file, not the temporary
        Path(tmp).unlink(missing_ok=True)
        raise named(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if fault:
        _fault(fault, "replaced", path)
    return path


def lock_files(path: Path) -> list[Path]:
    """The lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) leave beside a
    workbook they have open."""
    return [path.with_name(f"~${path.name}"), path.with_name(f".~lock.{path.name}#")]


@contextlib.contextmanager
def workbook_lock(path: Path, *, reading: bool = False) -> Iterator[None]:
    """Refuse when the workbook is open elsewhere; hold gpuval's own lock while working
    (``reading``: a command that only reads the workbook works on without it in a folder no one
    may write to, where no one can change the workbook either)."""
    for lock in lock_files(path):
        if lock.exists():
            app = "Excel" if lock.name.startswith("~$") else "LibreOffice"
            raise GpuvalError(
                f"{path.name} is open in {app} (lock file {lock.name}); close it and try again."
            )
    own = path.with_name(f".{path.name}.gpuval-lock")
    try:
        fd = os.open(own, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        holder = own.read_text().strip() if own.exists() else ""
        if holder.isdigit() and not _alive(int(holder)):
            own.unlink(missing_ok=True)  # left by a process that died: take it over
            fd = os.open(own, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        else:
            raise GpuvalError(
                f"{path.name} is being refreshed or published by another gpuval process "
                f"(lock file {own.name}); try again when it has finished."
            ) from None
    except OSError as exc:
        if reading and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            yield
            return
        raise GpuvalError(f"Cannot create the lock file {own}: {exc.strerror or exc}.") from None
    try:
        try:
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk
            raise GpuvalError(f"Cannot write the lock file {own}: {exc.strerror or exc}.") from None
        finally:
            os.close(fd)
        yield
    finally:
        own.unlink(missing_ok=True)
