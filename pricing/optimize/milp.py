"""The plan as a mixed-integer linear program in PuLP: build (never solves), solve, extract.

This is the only module that imports PuLP. Variables and constraints, with ``j`` a product
that still has a choice after pruning (products left with one row are constants), ``r`` its
valid rows, ``L`` the coupon ladders and ``k`` the coupon candidates:

* ``choose[j,r] ∈ {0,1}``, ``ladder[L] ∈ {0,1}``;
* ``one_level[SKU]``: ``Σ_r choose[j,r] = 1`` (one level per product, or out);
* ``one_ladder``: ``Σ_L ladder[L] = 1``; the tier ``k`` is offered when ``y_k = Σ_{L∋k}
  ladder[L] = 1``, so at most ``max_tiers`` tiers are offered;
* ``margin[SKU,tierT-A]``: ``Σ_{r unsafe with k} choose[j,r] + y_k ≤ 1`` (a product's level
  and a coupon tier it cannot bear are never chosen together); a ladder holding a tier that a
  fixed product cannot bear is fixed at 0;
* ``budget``: ``Σ spend[j,r]·choose[j,r] + Σ spend(L)·ladder[L] ≤ budget − fixed spend``;
* objective: maximise ``Σ profit[j,r]·choose[j,r] + Σ value(L)·ladder[L]``, stated as the
  minimisation of its negative (CBC ignores a warm start on a maximisation).

Stock needs no row (a forecast is capped at stock), hero products have no "out" row, and sign-up
rules and safety without coupons are met by every row the candidate table keeps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pulp

from models.rules import CouponTier
from pricing.optimize.candidates import CandidateTable
from pricing.optimize.decompose import Selection
from pricing.optimize.demand import Ladders

IntArray = npt.NDArray[np.int64]


class SolveStatus(StrEnum):
    """What the solver returned."""

    OPTIMAL = "optimal"  # optimal within the gap asked for
    FEASIBLE = "feasible"  # stopped by the time limit with a plan, not proven optimal
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped with nothing usable


@dataclass
class MilpModel:
    """A built model and how to read its solution back."""

    problem: pulp.LpProblem
    choose: dict[tuple[int, int], pulp.LpVariable]
    ladder: dict[int, pulp.LpVariable]
    fixed_rows: dict[int, int]  # product -> its only row
    active: IntArray  # products with a choice
    seconds: float
    labels: dict[str, str]  # PuLP's constraint name -> readable name (margin[SKU,tier299-20])

    @property
    def variables(self) -> int:
        return len(self.choose) + len(self.ladder)

    @property
    def constraints(self) -> int:
        return int(self.problem.numConstraints())


@dataclass(frozen=True)
class MilpResult:
    """The solver's outcome, with the plan when there is one."""

    status: SolveStatus
    solver_status: str
    selection: Selection | None
    seconds: float
    gap: float | None


def _name(kind: str, *parts: object) -> str:
    """A constraint name that says which product and rule, e.g. ``margin[SKU1,tier299-20]``."""
    return f"{kind}[{','.join(str(p) for p in parts)}]"


class _Constraints:
    """Adds named constraints and remembers the readable name of each (PuLP rewrites
    ``[``, ``]``, ``-`` and spaces in names to ``_``)."""

    def __init__(self, problem: pulp.LpProblem) -> None:
        self.problem = problem
        self.labels: dict[str, str] = {}

    def add(self, constraint: pulp.LpConstraint, name: str) -> None:
        self.problem += (constraint, name)
        self.labels[constraint.name] = name


def build_model(
    table: CandidateTable,
    ladders: Ladders,
    candidates: tuple[CouponTier, ...],
    skus: list[str],
    budget_fen: int = 0,
) -> MilpModel:
    """State the plan as a MILP (see the module docstring). Never solves."""
    started = time.perf_counter()
    problem = pulp.LpProblem("price_opt_plan", pulp.LpMinimize)
    rows_added = _Constraints(problem)
    rows_per_product = table.valid.sum(axis=1)
    active = np.flatnonzero(rows_per_product > 1)
    fixed = np.flatnonzero(rows_per_product == 1)
    fixed_rows = {int(j): int(np.flatnonzero(table.valid[j])[0]) for j in fixed}

    ladder = {
        index: problem.add_variable(f"ladder_{index}", cat=pulp.LpBinary)
        for index in range(len(ladders.members))
    }
    offered: list[list[pulp.LpVariable]] = [[] for _ in candidates]
    for index, members in enumerate(ladders.members):
        for k in members:
            offered[k].append(ladder[index])
    # A product left with one row forbids every tier that row cannot bear (named after the
    # first such product, so a reader of the model sees why the tier is never offered).
    blocked: set[int] = set()
    for j, r in fixed_rows.items():
        mask = int(table.unsafe[j, r])
        for k, tier in enumerate(candidates):
            if mask >> k & 1 and k not in blocked and offered[k]:
                blocked.add(k)
                rows_added.add(
                    pulp.LpAffineExpression([(v, 1.0) for v in offered[k]]) <= 0,
                    _name("margin", skus[j], f"tier{tier.label}"),
                )

    choose: dict[tuple[int, int], pulp.LpVariable] = {}
    objective_terms: list[tuple[pulp.LpVariable, float]] = []
    spend_terms: list[tuple[pulp.LpVariable, float]] = []
    for j in active.tolist():
        rows = np.flatnonzero(table.valid[j]).tolist()
        for r in rows:
            variable = problem.add_variable(f"choose_{j}_{r}", cat=pulp.LpBinary)
            choose[j, r] = variable
            objective_terms.append((variable, -float(table.profit[j, r])))
            spend_terms.append((variable, float(table.spend[j, r])))
        rows_added.add(
            pulp.LpAffineExpression([(choose[j, r], 1.0) for r in rows]) == 1,
            _name("one_level", skus[j]),
        )
        masks = [int(table.unsafe[j, r]) for r in rows]
        for k, tier in enumerate(candidates):
            unsafe_rows = [r for r, mask in zip(rows, masks, strict=True) if mask >> k & 1]
            if not unsafe_rows or not offered[k]:
                continue
            terms = [(choose[j, r], 1.0) for r in unsafe_rows] + [(v, 1.0) for v in offered[k]]
            rows_added.add(
                pulp.LpAffineExpression(terms) <= 1,
                _name("margin", skus[j], f"tier{tier.label}"),
            )
    rows_added.add(
        pulp.LpAffineExpression([(v, 1.0) for v in ladder.values()]) == 1,
        "one_ladder",
    )
    objective_terms += [(ladder[i], -float(ladders.value[i])) for i in ladder]
    if budget_fen > 0:
        fixed_spend = sum(float(table.spend[j, r]) for j, r in fixed_rows.items())
        spend_terms += [(ladder[i], float(ladders.spend[i])) for i in ladder]
        rows_added.add(
            pulp.LpAffineExpression(spend_terms) <= budget_fen - fixed_spend,
            "budget",
        )
    problem.setObjective(pulp.LpAffineExpression(objective_terms))
    return MilpModel(
        problem=problem, choose=choose, ladder=ladder, fixed_rows=fixed_rows, active=active,
        seconds=time.perf_counter() - started, labels=rows_added.labels,
    )


def solve_model(
    model: MilpModel,
    table: CandidateTable,
    ladders: Ladders,
    solver: str = "cbc",
    time_limit: float | None = None,
    gap: float = 1e-4,
    warm_start: Selection | None = None,
) -> MilpResult:
    """Solve with CBC (bundled with PuLP) or HiGHS; read the plan back when there is one."""
    if warm_start is not None:
        for (j, r), variable in model.choose.items():
            variable.setInitialValue(1 if warm_start.rows[j] == r else 0)
        for index, variable in model.ladder.items():
            variable.setInitialValue(1 if warm_start.ladder == index else 0)
    if solver == "cbc":
        command: pulp.LpSolver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, gapRel=gap, warmStart=warm_start is not None
        )
    elif solver == "highs":
        command = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=gap)
    else:
        raise ValueError(f"unknown solver {solver!r}")
    started = time.perf_counter()
    model.problem.solve(command)
    seconds = time.perf_counter() - started
    status_text = pulp.LpStatus.get(model.problem.status, str(model.problem.status))
    solution = model.problem.sol_status
    if model.problem.status == pulp.LpStatusInfeasible:
        return MilpResult(SolveStatus.INFEASIBLE, status_text, None, seconds, None)
    if solution not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return MilpResult(SolveStatus.NO_SOLUTION, status_text, None, seconds, None)
    selection = _extract(model, table, ladders)
    if selection is None:
        return MilpResult(SolveStatus.NO_SOLUTION, status_text, None, seconds, None)
    status = (
        SolveStatus.OPTIMAL if solution == pulp.LpSolutionOptimal else SolveStatus.FEASIBLE
    )
    solver_gap: float | None = None
    if solver == "highs":
        try:
            solver_gap = float(model.problem.solverModel.getInfo().mip_gap)
        except AttributeError:  # pragma: no cover - depends on the highspy build
            solver_gap = None
    return MilpResult(status, status_text, selection, seconds, solver_gap)


def _extract(model: MilpModel, table: CandidateTable, ladders: Ladders) -> Selection | None:
    rows = np.full(table.size, -1, dtype=np.int64)
    for j, r in model.fixed_rows.items():
        rows[j] = r
    for (j, r), variable in model.choose.items():
        if (variable.value() or 0.0) > 0.5:
            rows[j] = r
    chosen = [i for i, v in model.ladder.items() if (v.value() or 0.0) > 0.5]
    if (rows < 0).any() or len(chosen) != 1:
        return None
    picked = np.arange(table.size)
    ladder = chosen[0]
    profit = float(table.profit[picked, rows].sum()) + float(ladders.value[ladder])
    spend = float(table.spend[picked, rows].sum()) + float(ladders.spend[ladder])
    return Selection(ladder=ladder, rows=rows, objective=profit, spend=spend, bound=np.inf)
