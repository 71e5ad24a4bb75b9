"""How one run of price-opt starts and ends: temporary files and signals; and the cycle collector.

:func:`guarded_run` wraps a command so that it leaves nothing behind, however it ends:

* **Temporary files** (the solver's ``*-pulp.mps``/``*.mst``/``*.sol`` files, which PuLP puts
  in ``$TMPDIR``) go to a folder of this run only, removed when the run ends: normally, on an
  error, a solver failure, Ctrl-C or SIGTERM. Atomic writes put their temporary file beside the
  target and remove it when an exception (including the two signals below) passes through.
* **SIGTERM** (a ``kill``, a CI timeout) is turned into an :class:`Interrupted` exception in the
  main thread, so the ``finally`` clauses of the writers and the folder clean-up run; solver
  processes this run started are asked to stop too. Exit code 143 (128 + 15), as a shell
  reports a process ended by SIGTERM.
* **SIGINT** (Ctrl-C) likewise, exit code 130. The caller prints one line, no traceback.

SIGKILL cannot be caught: a run killed that way may leave its temporary folder
(``price-opt-run-*`` in the system's temporary folder) and one ``.<name>.*.tmp`` file beside an
output being written.

:func:`collector_paused` keeps Python's cycle collector from rescanning, again and again, the
many long-lived objects a plan, an export or a report builds.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TypeVar

T = TypeVar("T")
_TEMP_VARIABLES = ("TMPDIR", "TMP", "TEMP")


class Interrupted(BaseException):
    """The run was stopped by a signal; ``exit_code`` is what a shell expects (128 + signal)."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
        name = signal.Signals(signal_number).name
        super().__init__(f"stopped by {name}")


def _child_processes() -> list[int]:
    """The process ids of this process's children (Linux; elsewhere none are known)."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            with contextlib.suppress(OSError, ValueError):
                text = Path(f"/proc/{os.getpid()}/task/{task}/children").read_text()
                children.extend(int(pid) for pid in text.split())
    return children


def _stop_children() -> None:
    for pid in _child_processes():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _raise_interrupted(signal_number: int, frame: FrameType | None) -> None:
    # Ignore further signals while the clean-up runs: one line, one exit.
    for handled in (signal.SIGINT, signal.SIGTERM):
        signal.signal(handled, signal.SIG_IGN)
    _stop_children()
    raise Interrupted(signal_number)


@contextlib.contextmanager
def _private_temp_folder() -> Iterator[Path]:
    """Point ``$TMPDIR`` (and :mod:`tempfile`) at a folder of this run; remove it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="price-opt-run-"))
    saved_env = {name: os.environ.get(name) for name in _TEMP_VARIABLES}
    saved_tempdir = tempfile.tempdir
    for name in _TEMP_VARIABLES:
        os.environ[name] = str(folder)
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


def guarded_run(run: Callable[[], T]) -> T:
    """Call ``run`` with a private temporary folder and SIGINT/SIGTERM turned into
    :class:`Interrupted`; restore the previous handlers and remove the folder afterwards."""
    previous = {
        handled: signal.getsignal(handled) for handled in (signal.SIGINT, signal.SIGTERM)
    }
    for handled in previous:
        signal.signal(handled, _raise_interrupted)
    try:
        with _private_temp_folder():
            return run()
    finally:
        for handled, handler in previous.items():
            signal.signal(handled, handler)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a block that allocates many long-lived acyclic objects.

    A plan of 10,000 products builds some 100,000 such objects (decisions, checks, JSON
    fields): each collection the allocations trigger rescans the objects that survived the
    earlier ones, and a full collection rescans the whole process (up to 90 ms of a 10,000-SKU
    plan's 0.75 s). What a plan leaves to the collector alone is a few dozen objects in
    reference cycles, freed by the first collection after the block. Restores the collector's
    previous state (nesting is safe)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
