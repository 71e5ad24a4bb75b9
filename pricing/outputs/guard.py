"""Output paths that never destroy what the user had.

Two rules, checked before a command does any work:

1. **An output is never one of the command's inputs.** Paths are compared by their real path
   (symbolic links resolved) and, when both exist, by file identity (a hard link to the
   products file is the products file). The inputs include the files a plan records
   (``inputs.products_file``, ``inputs.rules_file``) for ``export`` and ``report``.
2. **A file price-opt did not write is never replaced without ``--force``.** price-opt knows it
   wrote a file by a ledger kept beside it: ``.price-opt-written.json`` in the output's folder
   maps each file name price-opt wrote there to the SHA-256 of what it wrote. A file whose
   name is in the ledger *and* whose content still has that hash is price-opt's own and is
   replaced silently; any other existing file (the user's, or price-opt's output edited by
   hand since) is refused with a message asking for ``--force``. With ``--force`` the current
   file is first copied to ``<name>.bak`` (replacing an older ``.bak``), then replaced.

The ledger is written atomically after each output; a missing or unreadable ledger only makes
price-opt more careful (it then treats every existing file as the user's).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pricing.errors import AtomicWriteError, InputError, Problem
from pricing.formats.atomic import write_atomic, write_text_atomic

LEDGER_NAME = ".price-opt-written.json"
LEDGER_MAX_BYTES = 4 * 1024 * 1024
_LEDGER_VERSION = 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs_as_outputs(
    outputs: Mapping[str, Path], inputs: Mapping[str, Path | None]
) -> None:
    """Raise :class:`InputError` if any output (keyed by its option, e.g. ``--out``) is one of
    the inputs (keyed by what they are, e.g. ``the products file``); every clash at once."""
    problems = []
    for option, output in outputs.items():
        clash = next((what for what, source in inputs.items()
                      if source is not None and _same_file(output, source)), None)
        if clash is not None:  # one problem per output, naming the first input it is
            problems.append(Problem(
                option, f"this is {clash}; choose another output path (nothing was written)",
                value=str(output),
            ))
    problems.extend(
        Problem(option, "is a folder; expected a file name", value=str(output))
        for option, output in outputs.items()
        if output.is_dir()
    )
    if problems:
        raise InputError(problems)


def _ledger_path(path: Path) -> Path:
    return path.parent / LEDGER_NAME


def _read_ledger(path: Path) -> dict[str, Any]:
    """The ledger of ``path``'s folder: ``{file name: {"sha256": …}}``; empty when unreadable."""
    ledger = _ledger_path(path)
    try:
        if ledger.stat().st_size > LEDGER_MAX_BYTES:
            return {}
        document = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    files = document.get("files") if isinstance(document, dict) else None
    return {
        name: entry for name, entry in (files.items() if isinstance(files, dict) else ())
        if isinstance(name, str) and isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
    }


def written_by_price_opt(path: Path) -> bool:
    """Whether ``path`` holds exactly what price-opt last wrote there (see the module doc)."""
    entry = _read_ledger(path).get(path.name)
    if entry is None:
        return False
    try:
        return _sha256(path) == str(entry["sha256"])
    except OSError:
        return False


def backup_path(path: Path) -> Path:
    """Where ``--force`` keeps the file it replaces: ``<name>.bak`` beside it."""
    return path.with_name(path.name + ".bak")


def check_overwrites(outputs: Mapping[str, Path], force: bool) -> list[Path]:
    """Refuse (all at once) outputs that would replace a file price-opt did not write, unless
    ``force``; with ``force`` return those files, to be kept by :func:`keep_backups`."""
    foreign = [
        (option, path) for option, path in outputs.items()
        if path.exists() and not path.is_dir() and not written_by_price_opt(path)
    ]
    if foreign and not force:
        raise InputError([
            Problem(option, f"{path} exists and was not written by price-opt (or was edited "
                    "since); pass --force to replace it (the current file is kept as "
                    f"{backup_path(path).name})")
            for option, path in foreign
        ])
    return [path for _, path in foreign]


def keep_backups(paths: Iterable[Path]) -> list[Path]:
    """Copy each file to ``<name>.bak`` (atomically, with its metadata) before it is replaced."""
    kept = []
    for path in paths:
        backup = backup_path(path)

        def copy(temp_path: Path, source: Path = path) -> None:
            shutil.copy2(source, temp_path)

        write_atomic(backup, copy)
        kept.append(backup)
    return kept


def record_written(paths: Iterable[Path]) -> None:
    """Note in each folder's ledger that price-opt wrote these files, as they are now."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path)
    for folder, written in by_folder.items():
        files = _read_ledger(written[0])
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for path in written:
            with contextlib.suppress(OSError):
                files[path.name] = {"sha256": _sha256(path), "written_at": stamp}
        document = {"format": "price-opt written files", "version": _LEDGER_VERSION,
                    "files": files}
        # A ledger that cannot be written only makes the next run ask for --force.
        with contextlib.suppress(OSError, AtomicWriteError):
            write_text_atomic(folder / LEDGER_NAME,
                              json.dumps(document, ensure_ascii=False, indent=1) + "\n")
