"""The errors price-opt raises, one tree. The CLI catches :class:`PriceOptError` in one place,
prints ``error: <message>`` and exits non-zero; nothing else in the library prints.

::

    PriceOptError                  anything price-opt refuses, with a message for the user
    ├── InputError                 bad files or values: carries every Problem found at once
    │   └── CartError              a cart file for ``quote`` is malformed
    ├── InfeasiblePlanError        no plan meets the rules; names the products and rules
    ├── SolverError                the solver failed or returned nothing usable
    ├── VerificationError          a plan failed the exact stacking checker (a bug: never written)
    ├── ExportRefusedError         a plan that loses money or breaks sign-up rules is not exported
    └── AtomicWriteError           an output could not be written; the old file is untouched

Each error builds its message first and is raised with it; ``problems`` (input) and
``conflicts`` (infeasible) keep the structured details for tests and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is and what was expected there."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def render(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        shown = f" (got {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.message}{shown}"


class PriceOptError(Exception):
    """Base of every error price-opt reports to the user."""

    exit_code = 1


class InputError(PriceOptError):
    """One or more bad inputs; ``problems`` lists every one found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        lines = [p.render() for p in self.problems]
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the input"
        super().__init__(header + ":\n  " + "\n  ".join(lines))


class CartError(InputError):
    """A cart file for ``price-opt quote`` is malformed."""


SHOWN_CONFLICTS = 20


@dataclass(frozen=True)
class Conflict:
    """Why one product cannot be planned: the product, the rules in conflict, and by how much."""

    sku: str
    rules: str
    detail: str

    def render(self) -> str:
        return f"{self.sku}: {self.detail} [{self.rules}]"


class InfeasiblePlanError(PriceOptError):
    """No plan satisfies every rule; ``conflicts`` says which products and rules, in numbers."""

    exit_code = 3

    def __init__(
        self, conflicts: Sequence[Conflict], summary: str = "no plan meets the rules"
    ) -> None:
        self.conflicts = list(conflicts)
        lines = [c.render() for c in self.conflicts[:SHOWN_CONFLICTS]]
        if len(self.conflicts) > SHOWN_CONFLICTS:
            lines.append(f"… and {len(self.conflicts) - SHOWN_CONFLICTS} more products like these")
        super().__init__(summary + (":\n  " + "\n  ".join(lines) if lines else ""))


class SolverError(PriceOptError):
    """The solver failed, or stopped without any plan to offer."""

    exit_code = 4


class VerificationError(PriceOptError):
    """A plan failed the exact stacking checker. The optimizer is wrong; the plan is not written."""

    exit_code = 5


class ExportRefusedError(PriceOptError):
    """A plan that loses money or breaks the sign-up rules is refused for export."""

    exit_code = 6


class AtomicWriteError(PriceOptError):
    """An output file could not be written; the previous file, if any, is untouched."""
