"""Write files atomically: a reader sees the old file or the whole new one, never a half file.

Every writer goes through :func:`write_atomic`: the content is written to a temporary file in
the target's own directory (so that the final rename never crosses a file system), flushed and
``fsync``-ed, given the permissions the target had (or the umask's defaults for a new file) and
moved over the target with :func:`os.replace`, which is atomic on POSIX and Windows. The
directory is then ``fsync``-ed where the platform allows it, so the rename survives a crash. If
anything fails on the way, the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pricing.errors import AtomicWriteError


def _default_mode() -> int:
    """The mode a new file gets from ``open()``: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some platforms (Windows) cannot open a directory: skip there."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then move it over ``path``.

    ``write`` receives the temporary path (an empty file that exists) and may open it by name,
    as :meth:`openpyxl.Workbook.save` does. Any exception from ``write`` propagates after the
    temporary file is removed; an ``OSError`` becomes :class:`AtomicWriteError` naming the
    target.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else _default_mode()
        descriptor, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=directory
        )
    except OSError as error:
        raise AtomicWriteError(f"cannot write {path}: {error.strerror or error}") from None
    os.close(descriptor)
    temp_path = Path(temp_name)
    try:
        write(temp_path)
        _fsync_file(temp_path)
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except OSError as error:
        temp_path.unlink(missing_ok=True)
        raise AtomicWriteError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""

    def write(temp_path: Path) -> None:
        with open(temp_path, "wb") as handle:
            handle.write(data)
            handle.flush()

    write_atomic(path, write)


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``encoding="utf-8-sig"`` adds a BOM for Excel)."""
    write_bytes_atomic(path, text.encode(encoding))


def save_workbook_atomic(workbook: Any, path: Path) -> None:
    """Save an openpyxl workbook to ``path`` atomically (it is saved to the temporary path)."""
    write_atomic(path, lambda temp_path: workbook.save(temp_path))
