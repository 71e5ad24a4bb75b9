"""The plain PuLP formulation of issue 4: the reference the optimizer is measured against.

No pruning and no decomposition: the problem stated the obvious way, product by product, in
PuLP, and handed to CBC. With ``j`` a product, ``r`` one of its rows (out at the everyday price,
each ladder level, each ladder level in buy-two-get-one when the product is eligible), ``k`` a
coupon candidate and ``L`` a coupon ladder (a set of at most ``max_tiers`` candidates)::

    x[j,r] ∈ {0,1}   one binary per product-row, every row (none dropped)
    y[k]   ∈ {0,1}   one binary per coupon tier
    z[L]   ∈ {0,1}   one binary per ladder (the ladder's forecast value is not linear in y)

    Σ_r x[j,r] = 1                       one level per product (or out)
    Σ_L z[L] = 1;  y[k] = Σ_{L∋k} z[L];  Σ_k y[k] ≤ max_tiers
    x[j,r] = 0  (its bound)              r joins and breaks a sign-up rule or loses money
                                         without any coupon, or is "out" for a hero product
                                         that can join (staying out is never forbidden)
    x[j,r] + y[k] ≤ 1                    for every other (j, r) unsafe with tier k (the "out"
                                         row as the coupon scope says, see unsafe_rows)
    Σ spend[j,r]·x[j,r] + Σ spend(L)·z[L] ≤ budget            (when the rules set one)
    max  Σ profit[j,r]·x[j,r] + Σ value(L)·z[L]

The coefficients (expected profit and discount spend per product-row, each ladder's value and
spend) are the optimizer's own, read from :func:`pricing.optimize.candidates.build_candidates` and
:func:`pricing.optimize.demand.coupon_ladders`, so both maximise the same objective. Safety is
computed
here again from :func:`pricing.engine.bounds.unit_margin_bound_fen` with the least subtotal
``S = max(threshold, price)`` (shipping, handling, commission and, on the rows the platform
mechanism reaches, the cross-store rate or official discount counted;
a row whose discounts can reach the whole price is unsafe too), the same conditions the
optimizer uses; ``safety_mismatches`` counts the product-rows where the two disagree (0 expected).

Buy-two-get-one is chosen per product, as the optimizer does (a product joins it with a B2G1
row; rows unsafe under B2G1 are forbidden like any row unsafe without a coupon), rather than as
one store-wide binary: the store-wide version forces every eligible product in and would
optimise a different problem.

Timings: ``coefficients`` (the candidate table and ladders, vectorized), ``build`` (PuLP's Python
objects), ``handoff`` (writing the MPS file CBC reads), ``solve`` (CBC itself and reading its
solution back). The proven gap and bound are read from CBC's log.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pulp

from models.product import Product
from models.rules import CouponScope, CouponTier, Rules
from pricing.engine.bounds import (
    bears_mechanism,
    coupon_stacks_with_offer,
    margin_floor_fen,
    official_discount_fen,
    unit_margin_bound_fen,
    worst_rate,
)
from pricing.optimize.candidates import CandidateTable, ProductArrays, build_candidates
from pricing.optimize.demand import Ladders, coupon_ladders, store_orders
from pricing.optimize.planner import store_margin_rate

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class ReferenceModel:
    """The plain model and what reading its solution back needs."""

    problem: pulp.LpProblem
    rows: dict[tuple[int, int], pulp.LpVariable]
    ladders_chosen: dict[int, pulp.LpVariable]
    table: CandidateTable
    ladders: Ladders
    candidates: tuple[CouponTier, ...]
    safety_mismatches: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def variables(self) -> int:
        return len(self.problem.variables())

    @property
    def constraints(self) -> int:
        return int(self.problem.numConstraints())


@dataclass(frozen=True)
class ReferenceResult:
    """What CBC made of the plain model."""

    status: str  # optimal | feasible (stopped with a plan) | infeasible | no_solution
    cbc_status: str
    objective_fen: int | None  # Σ rounded product profits + rounded ladder value, as a plan
    bound_fen: float | None  # CBC's proven bound, when its log gives one
    gap: float | None
    seconds: dict[str, float]
    variables: int
    constraints: int
    coupon_tiers: tuple[str, ...] = ()
    safety_mismatches: int = 0


def _bears(table: CandidateTable, rules: Rules) -> BoolArray:
    """Per product-row: the platform mechanism reaches it (the joining rows, every row when
    ``platform.mechanism_scope = "store"``)."""
    return np.broadcast_to(bears_mechanism(table.row_joins, rules)[None, :], table.price.shape)


def unsafe_rows(table: CandidateTable, arrays: ProductArrays, rules: Rules) -> IntArray:
    """Bitmask per product-row: bit ``k`` set when a cart reaching coupon candidate ``k`` could
    take a unit below its margin floor (least subtotal ``max(threshold, price)``).

    The "out" row (the everyday price) follows the coupon scope: with ``coupons.scope =
    "auto"`` a product staying out that cannot bear a tier is left out of the coupons, so its
    row bears none; with ``"store"`` a product that loses at its everyday price anyway bears
    only the tiers that could cut its line to nothing.
    """
    price = table.price
    in_b2g1 = table.row_b2g1[None, :] & arrays.b2g1_eligible[:, None]
    with_coupon_b2g1 = in_b2g1 if coupon_stacks_with_offer(rules) else np.zeros_like(in_b2g1)
    bears = _bears(table, rules)
    official = np.where(bears, official_discount_fen(price, rules), 0)
    floors = margin_floor_fen(price, rules)
    cost = np.broadcast_to(arrays.cost[:, None], price.shape)
    unsafe = np.zeros(price.shape, dtype=np.int64)
    zeroes = np.zeros(price.shape, dtype=np.int64)
    for k, tier in enumerate(rules.coupons.candidates):
        basket = np.maximum(price, tier.threshold_fen)
        amount = tier.amount_fen
        bound = unit_margin_bound_fen(price, official, cost, with_coupon_b2g1, amount, basket,
                                      rules, bears)
        rate = worst_rate(price, official, with_coupon_b2g1, amount, basket, rules, bears)
        unsafe |= np.where((bound < floors) | (rate >= 1.0), np.int64(1 << k), np.int64(0))
        zeroes |= np.where(rate >= 1.0, np.int64(1 << k), np.int64(0))
    if rules.coupons.scope is CouponScope.AUTO:
        unsafe[:, 0] = 0
    else:
        loses = unsafe_without_coupon(table, arrays, rules)[:, 0]
        unsafe[:, 0] = np.where(loses, zeroes[:, 0], unsafe[:, 0])
    return unsafe


def unsafe_without_coupon(table: CandidateTable, arrays: ProductArrays, rules: Rules) -> BoolArray:
    """Per product-row: a one-unit cart with no coupon already breaks the margin floor."""
    price = table.price
    in_b2g1 = table.row_b2g1[None, :] & arrays.b2g1_eligible[:, None]
    bears = _bears(table, rules)
    official = np.where(bears, official_discount_fen(price, rules), 0)
    cost = np.broadcast_to(arrays.cost[:, None], price.shape)
    bound = unit_margin_bound_fen(price, official, cost, in_b2g1, 0, price, rules, bears)
    rate = worst_rate(price, official, in_b2g1, 0, price, rules, bears)
    return np.asarray((bound < margin_floor_fen(price, rules)) | (rate >= 1.0))


def build_reference(products: Sequence[Product], rules: Rules) -> ReferenceModel:
    """State the plain model (see the module docstring). Never solves."""
    started = time.perf_counter()
    arrays = ProductArrays.of(products, rules)
    table = build_candidates(arrays, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    unsafe = unsafe_rows(table, arrays, rules)
    forbidden = ~table.signup_ok | unsafe_without_coupon(table, arrays, rules)
    # Staying out is the store as it is: never forbidden for safety (a product that loses at
    # its everyday price is a fact the plan names), only for a hero that can join.
    forbidden[:, 0] = False
    b2g1_possible = ~table.row_b2g1[None, :] | arrays.b2g1_eligible[:, None]
    can_join = (~forbidden[:, 1:] & b2g1_possible[:, 1:]).any(axis=1)
    if rules.business.heroes.hard:
        forbidden[:, 0] = arrays.hero & can_join
    mismatches = int((unsafe != table.unsafe).sum())
    coefficients_done = time.perf_counter()

    problem = pulp.LpProblem("reference_plan", pulp.LpMaximize)
    candidates = rules.coupons.candidates
    tier = [problem.add_variable(f"tier_{k}", cat=pulp.LpBinary) for k in range(len(candidates))]
    ladder = {
        index: problem.add_variable(f"ladder_{index}", cat=pulp.LpBinary)
        for index in range(len(ladders.members))
    }
    problem += pulp.lpSum(ladder.values()) == 1
    for k in range(len(candidates)):
        holding = [ladder[i] for i, members in enumerate(ladders.members) if k in members]
        problem += tier[k] == pulp.lpSum(holding)
    problem += pulp.lpSum(tier) <= rules.coupons.max_tiers

    x: dict[tuple[int, int], pulp.LpVariable] = {}
    profit_terms = []
    spend_terms = []
    rows_count = table.price.shape[1]
    for j, product in enumerate(products):
        own_rows = []
        for r in range(rows_count):
            if table.row_b2g1[r] and not product.b2g1_eligible:
                continue  # not a choice: the product cannot join buy-two-get-one
            # A row the rules forbid stays in the model, fixed at 0 by its bound; its links
            # to the tiers would say nothing more, so they are not written.
            variable = problem.add_variable(
                f"x_{j}_{r}", lowBound=0, upBound=0 if forbidden[j, r] else 1, cat=pulp.LpInteger
            )
            x[j, r] = variable
            own_rows.append(variable)
            profit_terms.append(float(table.profit[j, r]) * variable)
            spend_terms.append(float(table.spend[j, r]) * variable)
            if forbidden[j, r]:
                continue
            mask = int(unsafe[j, r])
            for k in range(len(candidates)):
                if mask >> k & 1:
                    problem += variable + tier[k] <= 1
        problem += pulp.lpSum(own_rows) == 1
    if rules.store.budget_fen > 0:
        ladder_spend = [float(ladders.spend[i]) * ladder[i] for i in ladder]
        problem += pulp.lpSum(spend_terms + ladder_spend) <= rules.store.budget_fen
    ladder_value = [float(ladders.value[i]) * ladder[i] for i in ladder]
    problem += pulp.lpSum(profit_terms + ladder_value)
    seconds = {
        "coefficients": coefficients_done - started,
        "build": time.perf_counter() - coefficients_done,
    }
    return ReferenceModel(
        problem=problem, rows=x, ladders_chosen=ladder, table=table, ladders=ladders,
        candidates=candidates, safety_mismatches=mismatches, seconds=seconds,
    )


_NUMBER = r"(-?[0-9.]+(?:e[+-]?[0-9]+)?)"


def read_cbc_bound(log_text: str, maximise: bool, objective: float) -> float | None:
    """CBC's proven bound on the optimum, in the problem's own sense, from its log.

    A completed search proves the plan optimal; a stopped one ends its log with ``Upper bound``
    (``Lower bound`` when minimising) in the problem's sense; otherwise the last ``best possible``
    of the progress lines, which CBC states for the minimisation it solves.
    """
    if "Search completed" in log_text:
        return objective
    final = re.search(r"^(?:Lower|Upper) bound:\s+" + _NUMBER, log_text, re.MULTILINE)
    if final:
        return float(final.group(1))
    progress = re.findall(r"best possible " + _NUMBER, log_text)
    if progress:
        return -float(progress[-1]) if maximise else float(progress[-1])
    return None


def solve_reference(
    model: ReferenceModel, time_limit: float | None = None, gap: float = 1e-4
) -> ReferenceResult:
    """Solve with PULP_CBC_CMD and read the plan's objective, CBC's bound and gap back."""
    problem = model.problem
    seconds = dict(model.seconds)
    seconds["handoff"] = 0.0
    write_mps = problem.writeMPS

    def timed_write_mps(*args: object, **kwargs: object) -> object:
        began = time.perf_counter()
        written = write_mps(*args, **kwargs)
        seconds["handoff"] += time.perf_counter() - began
        return written

    problem.writeMPS = timed_write_mps
    with tempfile.TemporaryDirectory(prefix="reference-cbc-") as folder:
        log = Path(folder) / "cbc.log"
        command = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=gap, logPath=str(log))
        began = time.perf_counter()
        problem.solve(command)
        seconds["solve"] = time.perf_counter() - began - seconds["handoff"]
        log_text = log.read_text(errors="replace") if log.exists() else ""
    seconds["total"] = sum(seconds[step] for step in ("coefficients", "build", "handoff", "solve"))
    unsolved = ReferenceResult(
        status="no_solution", cbc_status=pulp.LpStatus.get(problem.status, str(problem.status)),
        objective_fen=None, bound_fen=None, gap=None, seconds=seconds,
        variables=model.variables, constraints=model.constraints,
        safety_mismatches=model.safety_mismatches,
    )
    if problem.status == pulp.LpStatusInfeasible:
        return replace(unsolved, status="infeasible")
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return unsolved
    table, ladders = model.table, model.ladders
    rows = np.full(table.size, -1, dtype=np.int64)
    for (j, r), variable in model.rows.items():
        if (variable.value() or 0.0) > 0.5:
            rows[j] = r
    chosen = [i for i, v in model.ladders_chosen.items() if (v.value() or 0.0) > 0.5]
    picked = np.arange(table.size)
    # Rounded as the planner rounds a plan's objective: each product's profit, then the ladder.
    objective_fen = int(np.rint(table.profit[picked, rows]).astype(np.int64).sum()) + round(
        float(ladders.value[chosen[0]])
    )
    raw_objective = float(pulp.value(problem.objective))
    bound = read_cbc_bound(log_text, maximise=True, objective=raw_objective)
    return replace(
        unsolved,
        status="optimal" if problem.sol_status == pulp.LpSolutionOptimal else "feasible",
        objective_fen=objective_fen,
        bound_fen=bound,
        gap=None if bound is None else max(0.0, bound - raw_objective) / max(abs(raw_objective), 1),
        coupon_tiers=tuple(tier.label for tier in ladders.tiers(chosen[0], model.candidates)),
    )
