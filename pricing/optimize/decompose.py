"""Solve the plan by enumerating coupon ladders: exact without a budget, certified with one.

Products interact only through the store-level choice of coupon ladder (and, with a budget,
through the shared budget). For a fixed ladder ``L`` the safe rows of each product are known
(``unsafe & mask(L) = 0``), so without a budget the best plan for ``L`` is every product's most
profitable safe row, and the optimum is the best ladder::

    OPT = max_L [ value(L) + Σ_j max { profit[j,r] : r valid, unsafe[j,r] ∧ mask(L) = 0 } ]

which is exact and vectorized (one pass over the constrained products per ladder; products
with no unsafe row at all are solved once).

With a budget ``B`` on expected discount spend, the budget is priced with a Lagrange multiplier
``λ ≥ 0``::

    D(λ) = λ·B + max_L [ value(L) − λ·spend(L) + Σ_j max_r (profit[j,r] − λ·spend[j,r]) ]

``D(λ)`` is an upper bound on the optimum for every ``λ`` (weak duality); the search minimises it
by bisection on its subgradient, keeps every ladder's choice that fits the budget as a feasible
plan, and then spends the budget left over greedily on the best profit-per-spend upgrades. The
gap between the best plan and the least ``D(λ)`` is certified, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pricing.optimize.candidates import CandidateTable
from pricing.optimize.demand import Ladders
from pricing.optimize.result import Selection, selection_totals

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BISECTION_STEPS = 48
REPAIR_LADDERS = 4


@dataclass(frozen=True)
class _Split:
    """Products whose choice never depends on the ladder, the others, and the products left
    out of the plan (no valid row: their row is -1)."""

    free: IntArray
    constrained: IntArray
    excluded: IntArray


def _split(table: CandidateTable) -> _Split:
    included = table.valid.any(axis=1)
    touches = (table.valid & (table.unsafe != 0)).any(axis=1)
    return _Split(
        free=np.flatnonzero(included & ~touches),
        constrained=np.flatnonzero(included & touches),
        excluded=np.flatnonzero(~included),
    )


class _Evaluator:
    """Evaluates every ladder at a price ``λ`` of budget (``λ = 0``: no budget)."""

    def __init__(self, table: CandidateTable, ladders: Ladders) -> None:
        self.table = table
        self.ladders = ladders
        split = _split(table)
        self.free = split.free
        self.constrained = split.constrained
        self.excluded = split.excluded
        self.valid_c = table.valid[self.constrained]
        self.unsafe_c = table.unsafe[self.constrained]
        self.allowed_c = [
            self.valid_c & ((self.unsafe_c & mask) == 0) for mask in ladders.masks
        ]
        self.ladder_ok = np.array(
            [bool(allowed.any(axis=1).all()) for allowed in self.allowed_c], dtype=bool
        )

    def evaluate(
        self, price_of_budget: float, active: BoolArray | None = None
    ) -> tuple[FloatArray, list[IntArray | None]]:
        """Each ladder's Lagrangian value ``g_L(λ)`` and its choice of rows (None: impossible or
        not ``active``)."""
        table, ladders = self.table, self.ladders
        score = table.profit - price_of_budget * table.spend if price_of_budget else table.profit
        free_score = np.where(table.valid[self.free], score[self.free], -np.inf)
        free_rows = free_score.argmax(axis=1)
        free_total = float(free_score[np.arange(len(self.free)), free_rows].sum())
        score_c = score[self.constrained]
        values = np.full(len(ladders.members), -np.inf)
        choices: list[IntArray | None] = []
        for index, allowed in enumerate(self.allowed_c):
            if not self.ladder_ok[index] or (active is not None and not active[index]):
                choices.append(None)
                continue
            masked = np.where(allowed, score_c, -np.inf)
            rows_c = masked.argmax(axis=1)
            total = float(masked[np.arange(len(rows_c)), rows_c].sum())
            values[index] = (
                ladders.value[index] - price_of_budget * ladders.spend[index] + free_total + total
            )
            rows = np.empty(table.size, dtype=np.int64)
            rows[self.free] = free_rows
            rows[self.constrained] = rows_c
            rows[self.excluded] = -1
            choices.append(rows)
        return values, choices


def solve_by_ladders(
    table: CandidateTable, ladders: Ladders, budget_fen: int = 0
) -> Selection | None:
    """The best plan by ladder enumeration (see the module docstring); None when none exists."""
    evaluator = _Evaluator(table, ladders)
    if not evaluator.ladder_ok.any():
        return None
    values, choices = evaluator.evaluate(0.0)
    best = int(np.argmax(values))  # ties: the first ladder, which has the fewest tiers
    rows = choices[best]
    assert rows is not None
    profit, spend = selection_totals(table, ladders, best, rows)
    if budget_fen <= 0 or spend <= budget_fen:
        # Unconstrained optimum; with a budget it also fits, so it is optimal there too.
        return Selection(ladder=best, rows=rows, objective=profit, spend=spend, bound=profit)
    return _solve_with_budget(table, ladders, evaluator, float(budget_fen), profit)


def _solve_with_budget(
    table: CandidateTable, ladders: Ladders, evaluator: _Evaluator, budget: float,
    unconstrained: float,
) -> Selection | None:
    best: Selection | None = None
    bound = unconstrained
    active = evaluator.ladder_ok.copy()

    def visit(price: float) -> tuple[float, int, IntArray | None]:
        nonlocal best, bound
        values, choices = evaluator.evaluate(price, active)
        # A ladder whose own bound λ·B + g_L(λ) cannot beat the best plan is out for good; the
        # bound over the ladders left, or the best plan itself, still bounds the optimum.
        floor = -np.inf if best is None else best.objective
        bound = min(bound, max(price * budget + float(values.max()), floor))
        top = int(np.argmax(values))
        top_spend = np.inf
        for ladder, rows in enumerate(choices):
            if rows is None:
                continue
            profit, spend = selection_totals(table, ladders, ladder, rows)
            if ladder == top:
                top_spend = spend
            if spend <= budget and (best is None or profit > best.objective):
                best = Selection(ladder, rows, profit, spend, bound)
        if best is not None:
            active[:] = active & (price * budget + values > best.objective)
            active[best.ladder] = True
        return top_spend, top, choices[top]

    low, high = 0.0, 1e-3
    while True:
        spend, _, _ = visit(high)
        if spend <= budget:
            break
        low, high = high, high * 2.0
        if high > 1e9:
            return best  # no λ brings the spend within budget
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        spend, _, _ = visit(middle)
        if spend > budget:
            low = middle
        else:
            high = middle
    best = _repair(table, ladders, evaluator, low, high, budget, best, active)
    if best is None:
        return None
    return Selection(best.ladder, best.rows, best.objective, best.spend, max(bound, best.objective))


def _repair(
    table: CandidateTable, ladders: Ladders, evaluator: _Evaluator, low: float, high: float,
    budget: float, best: Selection | None, active: BoolArray,
) -> Selection | None:
    """Spend what the budget leaves on upgrades toward the choice just over budget."""
    _, low_choices = evaluator.evaluate(low, active)
    high_values, high_choices = evaluator.evaluate(high, active)
    order = np.argsort(-high_values, kind="stable")[:REPAIR_LADDERS]
    picked = np.arange(table.size)
    for ladder in order:
        base_rows, target_rows = high_choices[int(ladder)], low_choices[int(ladder)]
        if base_rows is None or target_rows is None:
            continue
        rows = base_rows.copy()
        profit, spend = selection_totals(table, ladders, int(ladder), rows)
        if spend > budget:
            continue
        gain = table.profit[picked, target_rows] - table.profit[picked, rows]
        cost = table.spend[picked, target_rows] - table.spend[picked, rows]
        useful = np.flatnonzero((rows != target_rows) & (gain > 0))
        ratio = gain[useful] / np.maximum(cost[useful], 1e-9)
        for product in useful[np.argsort(-ratio, kind="stable")]:
            if spend + cost[product] <= budget:
                rows[product] = target_rows[product]
                spend += float(cost[product])
                profit += float(gain[product])
        if best is None or profit > best.objective:
            profit, spend = selection_totals(table, ladders, int(ladder), rows)
            best = Selection(int(ladder), rows, profit, spend, best.bound if best else profit)
    return best
