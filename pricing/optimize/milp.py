"""The plan as a mixed-integer linear program in PuLP: build (never solves), solve, extract.

This is the only module that imports PuLP. :func:`build_model` is a short list of named steps,
one ``define_*`` function per family of variables or constraints, each with its maths in its
docstring and constraint names that say which product and rule (``margin[SKU123,tier299-20]``),
so that a binding or infeasible rule can be explained in the merchandiser's words:

1. :func:`define_ladder`: the store's coupon ladder, ``ladder[L]``, ``one_ladder``;
2. :func:`define_choices`: one row per product, ``choose[j,r]``, ``one_level[SKU]``;
3. :func:`define_margin_safety`: no product row beside a coupon tier it cannot bear,
   ``margin[SKU,tierT-A]``;
4. :func:`define_budget`: the store's discount budget, ``budget``;
5. :func:`define_objective`: expected profit.

Here ``j`` is a product that still has a choice after pruning (a product left with one row is a
constant; a product with no row at all is out of the plan and absent from the model), ``r`` its
valid rows, ``L`` the coupon ladders and ``k`` the coupon candidates. Stock needs no row (a
forecast is capped at stock), hero products have no "out" row, and sign-up rules and safety
without coupons are met by every row the candidate table keeps.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pulp

from models.rules import CouponTier
from pricing.errors import SolverError
from pricing.optimize.candidates import CandidateTable
from pricing.optimize.demand import Ladders
from pricing.optimize.result import (
    Selection,
    SolveStatus,
    products_with_a_choice,
    selection_totals,
)

IntArray = npt.NDArray[np.int64]

__all__ = [
    "MilpModel", "MilpResult", "SolveStatus", "build_model", "define_budget", "define_choices",
    "define_ladder", "define_margin_safety", "define_objective", "solve_model",
]


def constraint_name(kind: str, *parts: object) -> str:
    """A constraint name that says which product and rule, e.g. ``margin[SKU1,tier299-20]``."""
    return f"{kind}[{','.join(str(p) for p in parts)}]"


@dataclass
class MilpModel:
    """A model being built or built, and how to read its solution back."""

    problem: pulp.LpProblem
    skus: list[str]
    fixed_rows: dict[int, int]  # product -> its only row
    active: IntArray  # products with a choice
    choose: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    ladder: dict[int, pulp.LpVariable] = field(default_factory=dict)
    offered: list[list[pulp.LpVariable]] = field(default_factory=list)  # per coupon candidate
    labels: dict[str, str] = field(default_factory=dict)  # PuLP's name -> readable name
    seconds: float = 0.0

    @property
    def variables(self) -> int:
        return len(self.choose) + len(self.ladder)

    @property
    def constraints(self) -> int:
        return int(self.problem.numConstraints())

    def add(self, constraint: pulp.LpConstraint, name: str) -> None:
        """Add a named constraint and remember its readable name (PuLP rewrites ``[``, ``]``,
        ``-`` and spaces in names to ``_``)."""
        self.problem += (constraint, name)
        self.labels[constraint.name] = name

    def tier_offered(self, k: int) -> pulp.LpAffineExpression:
        """``y_k = Σ_{L∋k} ladder[L]``: 1 when coupon candidate ``k`` is offered."""
        return pulp.LpAffineExpression([(v, 1.0) for v in self.offered[k]])


@dataclass(frozen=True)
class MilpResult:
    """The solver's outcome, with the plan when there is one."""

    status: SolveStatus
    solver_status: str
    selection: Selection | None
    seconds: float
    gap: float | None


def _empty_model(table: CandidateTable, skus: list[str]) -> MilpModel:
    active = products_with_a_choice(table)
    fixed = np.flatnonzero(table.valid.sum(axis=1) == 1)
    return MilpModel(
        problem=pulp.LpProblem("price_opt_plan", pulp.LpMinimize),
        skus=skus,
        fixed_rows={int(j): int(np.flatnonzero(table.valid[j])[0]) for j in fixed},
        active=active,
    )


def define_ladder(model: MilpModel, ladders: Ladders, candidates: tuple[CouponTier, ...]) -> None:
    """The coupon ladder: exactly one of the enumerated ladders is offered::

        ladder[L] ∈ {0,1},    Σ_L ladder[L] = 1                        one_ladder

    and the tier ``k`` is offered when ``y_k = Σ_{L∋k} ladder_L = 1``, so at most ``max_tiers``
    tiers are offered (every ladder has at most that many).
    """
    model.ladder = {
        index: model.problem.add_variable(f"ladder_{index}", cat=pulp.LpBinary)
        for index in range(len(ladders.members))
    }
    model.offered = [[] for _ in candidates]
    for index, members in enumerate(ladders.members):
        for k in members:
            model.offered[k].append(model.ladder[index])
    model.add(
        pulp.LpAffineExpression([(v, 1.0) for v in model.ladder.values()]) == 1, "one_ladder"
    )


def define_choices(model: MilpModel, table: CandidateTable) -> None:
    """One row (a level, with or without buy-two-get-one, or out) per product with a choice::

        choose[j,r] ∈ {0,1},    Σ_{r valid} choose[j,r] = 1              one_level[SKU]
    """
    for j in model.active.tolist():
        rows = np.flatnonzero(table.valid[j]).tolist()
        for r in rows:
            model.choose[j, r] = model.problem.add_variable(f"choose_{j}_{r}", cat=pulp.LpBinary)
        model.add(
            pulp.LpAffineExpression([(model.choose[j, r], 1.0) for r in rows]) == 1,
            constraint_name("one_level", model.skus[j]),
        )


def define_margin_safety(
    model: MilpModel, table: CandidateTable, candidates: tuple[CouponTier, ...]
) -> None:
    """No product sits at a row beside a coupon tier that could take its unit below the floor.

    For each product ``j`` and candidate ``k`` with rows unsafe under ``k``::

        Σ_{r unsafe with k} choose[j,r] + y_k ≤ 1          margin[SKU,tierT-A]

    A product left with one row that cannot bear ``k`` forbids the tier outright, ``y_k ≤ 0``
    (named after the first such product, so a reader sees why the tier is never offered).
    """
    blocked: set[int] = set()
    for j, r in model.fixed_rows.items():
        mask = int(table.unsafe[j, r])
        for k, tier in enumerate(candidates):
            if mask >> k & 1 and k not in blocked and model.offered[k]:
                blocked.add(k)
                model.add(
                    model.tier_offered(k) <= 0,
                    constraint_name("margin", model.skus[j], f"tier{tier.label}"),
                )
    for j in model.active.tolist():
        rows = np.flatnonzero(table.valid[j]).tolist()
        masks = [int(table.unsafe[j, r]) for r in rows]
        for k, tier in enumerate(candidates):
            if k in blocked or not model.offered[k]:
                continue
            unsafe_rows = [r for r, mask in zip(rows, masks, strict=True) if mask >> k & 1]
            if not unsafe_rows:
                continue
            terms = [(model.choose[j, r], 1.0) for r in unsafe_rows]
            terms += [(v, 1.0) for v in model.offered[k]]
            model.add(
                pulp.LpAffineExpression(terms) <= 1,
                constraint_name("margin", model.skus[j], f"tier{tier.label}"),
            )


def define_budget(
    model: MilpModel, table: CandidateTable, ladders: Ladders, budget_fen: int
) -> None:
    """The store's expected discount spend stays within its budget (none when 0)::

        Σ_{j,r} spend[j,r]·choose[j,r] + Σ_L spend(L)·ladder[L]
            ≤ budget − Σ_{j fixed} spend[j,r_j]                               budget
    """
    if budget_fen <= 0:
        return
    fixed_spend = sum(float(table.spend[j, r]) for j, r in model.fixed_rows.items())
    terms = [(v, float(table.spend[j, r])) for (j, r), v in model.choose.items()]
    terms += [(v, float(ladders.spend[i])) for i, v in model.ladder.items()]
    model.add(pulp.LpAffineExpression(terms) <= budget_fen - fixed_spend, "budget")


def define_objective(model: MilpModel, table: CandidateTable, ladders: Ladders) -> None:
    """Maximise expected profit, stated as the minimisation of its negative (CBC ignores a warm
    start on a maximisation)::

        min −( Σ_{j,r} profit[j,r]·choose[j,r] + Σ_L value(L)·ladder[L] )

    (the fixed products' profit is a constant and is left out).
    """
    terms = [(v, -float(table.profit[j, r])) for (j, r), v in model.choose.items()]
    terms += [(v, -float(ladders.value[i])) for i, v in model.ladder.items()]
    model.problem.setObjective(pulp.LpAffineExpression(terms))


def build_model(
    table: CandidateTable,
    ladders: Ladders,
    candidates: tuple[CouponTier, ...],
    skus: list[str],
    budget_fen: int = 0,
) -> MilpModel:
    """State the plan as a MILP, one named step per family (see the module docstring). Never
    solves."""
    started = time.perf_counter()
    model = _empty_model(table, skus)
    define_ladder(model, ladders, candidates)
    define_choices(model, table)
    define_margin_safety(model, table, candidates)
    define_budget(model, table, ladders, budget_fen)
    define_objective(model, table, ladders)
    model.seconds = time.perf_counter() - started
    return model


def solve_model(
    model: MilpModel,
    table: CandidateTable,
    ladders: Ladders,
    solver: str = "cbc",
    time_limit: float | None = None,
    gap: float = 1e-4,
    warm_start: Selection | None = None,
) -> MilpResult:
    """Solve with CBC (bundled with PuLP) or HiGHS; read the plan back when there is one.

    The returned selection carries the solver's proven bound on expected profit: the best
    possible objective it reports (CBC's log, HiGHS' dual bound), or, when the solver proves
    optimality within ``gap`` without reporting it, the plan's objective plus that gap.
    """
    if warm_start is not None:
        for (j, r), variable in model.choose.items():
            variable.setInitialValue(1 if warm_start.rows[j] == r else 0)
        for index, variable in model.ladder.items():
            variable.setInitialValue(1 if warm_start.ladder == index else 0)
    with tempfile.TemporaryDirectory(prefix="price-opt-cbc-") as folder:
        log_path = Path(folder) / "cbc.log"
        if solver == "cbc":
            command: pulp.LpSolver = pulp.PULP_CBC_CMD(
                msg=False, timeLimit=time_limit, gapRel=gap, warmStart=warm_start is not None,
                logPath=str(log_path),
            )
        elif solver == "highs":
            command = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=gap)
        else:
            raise ValueError(f"unknown solver {solver!r}")
        started = time.perf_counter()
        try:
            model.problem.solve(command)
        except pulp.PulpSolverError as error:  # a crashed or missing solver binary
            raise SolverError(f"the {solver} solver failed: {error}") from None
        seconds = time.perf_counter() - started
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
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
    # The model minimises −(profit − constants); a bound b on it is a bound
    # profit ≤ objective + (model objective − b).
    model_objective = float(pulp.value(model.problem.objective) or 0.0)
    best_possible = _best_possible(model, solver, log)
    if best_possible is not None:
        bound = selection.objective + max(0.0, model_objective - best_possible)
    elif status is SolveStatus.OPTIMAL:
        bound = selection.objective + gap * max(abs(model_objective), 1.0)
    else:
        bound = np.inf
    selection = selection.with_bound(bound)
    return MilpResult(status, status_text, selection, seconds, selection.gap)


_CBC_BEST_POSSIBLE = re.compile(r"best possible (-?[0-9.eE+-]+)")
_CBC_LOWER_BOUND = re.compile(r"Lower bound:\s+(-?[0-9.eE+-]+)")


def _best_possible(model: MilpModel, solver: str, log: str) -> float | None:
    """The solver's best possible (least) value of the minimised objective, when reported."""
    if solver == "highs":
        try:
            return float(model.problem.solverModel.getInfo().mip_dual_bound)
        except AttributeError:  # pragma: no cover - depends on the highspy build
            return None
    found = _CBC_BEST_POSSIBLE.findall(log) or _CBC_LOWER_BOUND.findall(log)
    if not found:
        return None
    try:
        return float(found[-1])
    except ValueError:
        return None


def _extract(model: MilpModel, table: CandidateTable, ladders: Ladders) -> Selection | None:
    rows = np.full(table.size, -1, dtype=np.int64)
    for j, r in model.fixed_rows.items():
        rows[j] = r
    for (j, r), variable in model.choose.items():
        if (variable.value() or 0.0) > 0.5:
            rows[j] = r
    chosen = [i for i, v in model.ladder.items() if (v.value() or 0.0) > 0.5]
    included = table.valid.any(axis=1)
    if (rows[included] < 0).any() or len(chosen) != 1:
        return None
    profit, spend = selection_totals(table, ladders, chosen[0], rows)
    return Selection(ladder=chosen[0], rows=rows, objective=profit, spend=spend, bound=np.inf)
