"""How a long command says how far it has got, without knowing who draws it.

The library calls a :class:`Progress`: ``progress("Checking every cart", total=10_000)`` starts
a counted step, ``progress.advance(500)`` moves it on, ``progress("Writing")`` starts a step
without a count. The CLI draws a progress bar on a terminal (``pricing.outputs.render.working``);
everywhere else :data:`SILENT` is used and nothing is drawn. Descriptions are English; the CLI
translates them.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A step's description and, for a counted step, its total; then advances."""

    def __call__(self, description: str, total: int | None = None) -> None: ...

    def advance(self, done: int = 1) -> None: ...


class _Silent:
    """The progress of a library call nobody watches."""

    def __call__(self, description: str, total: int | None = None) -> None:
        return None

    def advance(self, done: int = 1) -> None:
        return None


SILENT: Progress = _Silent()

__all__ = ["SILENT", "Progress"]
