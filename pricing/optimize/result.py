"""What the optimizers return, in a module both import (so neither imports the other).

:class:`Selection` is a plan as the solvers see it (a coupon ladder and one candidate row per
product); :class:`SolveStatus` is the typed outcome of a solve; :func:`selection_totals` and
:func:`products_with_a_choice` are the two sums both optimizers need.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from pricing.optimize.candidates import CandidateTable
from pricing.optimize.demand import Ladders

IntArray = npt.NDArray[np.int64]


class SolveStatus(StrEnum):
    """What a solve returned."""

    OPTIMAL = "optimal"  # optimal within the gap asked for
    FEASIBLE = "feasible"  # stopped by the time limit with a plan, not proven optimal
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped with nothing usable


@dataclass(frozen=True)
class Selection:
    """A plan as the solvers see it: a ladder and a row per product, with its value and bound.

    ``rows[j] = -1`` marks a product left out of the plan altogether (excluded: no row of it is
    valid); it contributes nothing to the totals.
    """

    ladder: int
    rows: IntArray
    objective: float  # expected profit, fen (a forecast)
    spend: float  # expected discount spend, fen
    bound: float  # proven upper bound on the optimum, fen

    @property
    def gap(self) -> float:
        """Relative gap between the plan and the proven bound."""
        return max(0.0, self.bound - self.objective) / max(abs(self.objective), 1.0)

    def with_bound(self, bound: float) -> Selection:
        """The same plan with another proven bound (never below its own objective)."""
        return Selection(self.ladder, self.rows, self.objective, self.spend,
                         max(bound, self.objective))


def selection_totals(
    table: CandidateTable, ladders: Ladders, ladder: int, rows: IntArray
) -> tuple[float, float]:
    """Expected profit and discount spend (fen) of a ladder and one row per product.

    .. math:: \\text{profit} = value(L) + \\sum_j profit[j, r_j], \\quad
              \\text{spend} = spend(L) + \\sum_j spend[j, r_j]

    over the products with a row (``r_j ≥ 0``).
    """
    kept = np.flatnonzero(rows >= 0)
    profit = float(table.profit[kept, rows[kept]].sum()) + float(ladders.value[ladder])
    spend = float(table.spend[kept, rows[kept]].sum()) + float(ladders.spend[ladder])
    return profit, spend


def products_with_a_choice(table: CandidateTable) -> IntArray:
    """The products with more than one valid row (the others are constants of the model)."""
    return np.flatnonzero(table.valid.sum(axis=1) > 1)
