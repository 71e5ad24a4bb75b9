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

import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pulp

from models.product import Product, Role
from models.rules import BudgetRule, CouponTier, QuotaRule, Rules
from pricing.errors import SolverError
from pricing.optimize.candidates import CandidateTable
from pricing.optimize.demand import Ladders
from pricing.optimize.offers import StoreToolBit
from pricing.optimize.result import (
    Selection,
    SolveStatus,
    products_with_a_choice,
    selection_totals,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Terms = list[tuple[pulp.LpVariable, float]]
LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ

__all__ = [
    "MilpModel", "MilpResult", "SolveStatus", "build_model", "define_b2g1_limit",
    "define_budget", "define_category_budget", "define_choices", "define_hero_penalty",
    "define_items_together", "define_ladder", "define_margin_safety", "define_objective",
    "define_price_order", "define_quota", "solve_model", "solve_staged",
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
    # Soft rules: a slack variable per rule (its name) and its penalty per unit in the objective
    penalties: dict[str, tuple[pulp.LpVariable, float]] = field(default_factory=dict)
    # Per product with a choice: its valid rows and their variables, in the same order
    rows_of: dict[int, IntArray] = field(default_factory=dict)
    vars_of: dict[int, list[pulp.LpVariable]] = field(default_factory=dict)
    _names: dict[str, int] = field(default_factory=dict)

    @property
    def variables(self) -> int:
        return len(self.choose) + len(self.ladder)

    @property
    def constraints(self) -> int:
        return int(self.problem.numConstraints())

    def add(self, constraint: pulp.LpConstraint, name: str) -> None:
        """Add a named constraint and remember its readable name (PuLP rewrites ``[``, ``]``,
        ``-`` and spaces in names to ``_``); a repeated name (two identical rules) gets ``#2``."""
        if name in self._names:
            self._names[name] += 1
            name = f"{name}#{self._names[name]}"
        self._names[name] = 1
        self.problem.addConstraint(constraint, name)
        self.labels[constraint.name] = name

    def add_row(self, terms: Terms, sense: int, rhs: float, name: str) -> None:
        """Add ``Σ terms (sense) rhs`` (``terms``: distinct variables with their coefficients),
        named as :meth:`add` does; a row without variables is left out (always true here)."""
        if terms:
            self.add(pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, rhs=rhs), name)

    def terms(self, j: int, weights: FloatArray) -> tuple[Terms, float]:
        """``Σ_r weights[r]·choose[j,r]`` over product ``j``'s valid rows, as terms and a
        constant (a product left with one row is a constant; ``weights`` over every row)."""
        if j in self.fixed_rows:
            return [], float(weights[self.fixed_rows[j]])
        values = weights[self.rows_of[j]].tolist()
        return [(v, c) for v, c in zip(self.vars_of[j], values, strict=True) if c], 0.0

    def row_sum(
        self, table: CandidateTable, j: int, weights: FloatArray
    ) -> pulp.LpAffineExpression:
        """``Σ_r weights[r]·choose[j,r]`` over product ``j``'s valid rows, as an expression."""
        terms, constant = self.terms(j, weights)
        return pulp.LpAffineExpression(terms, constant=constant)

    def slack(self, name: str, penalty_fen: float, whole: bool = False) -> pulp.LpVariable:
        """A soft rule's shortfall (≥ 0; ``whole``: a whole number, e.g. SKUs short), paid at
        ``penalty_fen`` per unit in the objective."""
        variable = self.problem.add_variable(
            f"slack_{len(self.penalties)}", lowBound=0,
            cat=pulp.LpInteger if whole else pulp.LpContinuous,
        )
        self.penalties[f"{name}#{len(self.penalties)}"] = (variable, penalty_fen)
        return variable

    def tier_offered(self, k: int) -> pulp.LpAffineExpression:
        """``y_k = Σ_{L∋k} ladder[L]``: 1 when coupon candidate ``k`` is offered."""
        return pulp.LpAffineExpression([(v, 1.0) for v in self.offered[k]])


@dataclass(frozen=True)
class MilpResult:
    """The solver's outcome, with the plan when there is one; ``solver`` ran last, ``detail``
    says how the plan and its bound were found."""

    status: SolveStatus
    solver_status: str
    selection: Selection | None
    seconds: float
    gap: float | None
    solver: str = ""
    detail: str = ""


def _empty_model(table: CandidateTable, skus: list[str]) -> MilpModel:
    active = products_with_a_choice(table)
    fixed = np.flatnonzero(table.valid.sum(axis=1) == 1)
    only_row = table.valid[fixed].argmax(axis=1)  # the first (and only) valid row
    return MilpModel(
        problem=pulp.LpProblem("price_opt_plan", pulp.LpMinimize),
        skus=skus,
        fixed_rows=dict(zip(fixed.tolist(), only_row.tolist(), strict=True)),
        active=active,
    )


StoreTool = CouponTier | StoreToolBit  # a bit of the safety masks (pricing.optimize.offers)


def _tool_name(tool: StoreTool) -> str:
    """``tier299-20`` for a coupon tier; an offer's bit carries its own name."""
    return f"tier{tool.label}" if isinstance(tool, CouponTier) else tool.label


def define_ladder(model: MilpModel, ladders: Ladders, candidates: Sequence[StoreTool]) -> None:
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
    active = model.active.tolist()
    valid_rows = table.valid[model.active]
    add = model.problem.add_variable
    for j, mask in zip(active, valid_rows, strict=True):
        row_array = np.flatnonzero(mask)
        rows = row_array.tolist()
        variables = [add(f"choose_{j}_{r}", cat=pulp.LpBinary) for r in rows]
        model.rows_of[j] = row_array
        model.vars_of[j] = variables
        for r, variable in zip(rows, variables, strict=True):
            model.choose[j, r] = variable
        model.add_row([(v, 1.0) for v in variables], EQ, 1.0,
                      constraint_name("one_level", model.skus[j]))


def define_margin_safety(
    model: MilpModel, table: CandidateTable, candidates: Sequence[StoreTool]
) -> None:
    """No product sits at a row beside a coupon tier (or a multi-piece offer, alone or stacked
    with a tier: the bits of :mod:`pricing.optimize.offers`) that could take its unit below the
    floor.

    For each product ``j`` and candidate ``k`` with rows unsafe under ``k``::

        Σ_{r unsafe with k} choose[j,r] + y_k ≤ 1          margin[SKU,tierT-A]

    A product left with one row that cannot bear ``k`` forbids the tier outright, ``y_k ≤ 0``
    (named after the first such product, so a reader sees why the tier is never offered).
    """
    blocked: set[int] = set()
    fixed = np.fromiter(model.fixed_rows, np.int64, len(model.fixed_rows))
    fixed_masks = table.unsafe[
        fixed, np.fromiter(model.fixed_rows.values(), np.int64, len(model.fixed_rows))
    ]
    # Only the fixed products unsafe with some tier can block one (in product order).
    for j, mask in zip(fixed[fixed_masks != 0].tolist(), fixed_masks[fixed_masks != 0].tolist(),
                       strict=True):
        for k, tier in enumerate(candidates):
            if mask >> k & 1 and k not in blocked and model.offered[k]:
                blocked.add(k)
                model.add(
                    model.tier_offered(k) <= 0,
                    constraint_name("margin", model.skus[j], _tool_name(tier)),
                )
    tiers = [(k, tier, 1 << k, [(v, 1.0) for v in model.offered[k]])
             for k, tier in enumerate(candidates) if k not in blocked and model.offered[k]]
    relevant = sum(bit for _, _, bit, _ in tiers)
    for j in model.active.tolist():
        masks = table.unsafe[j, model.rows_of[j]].tolist()
        if not relevant & np.bitwise_or.reduce(masks):
            continue
        variables = model.vars_of[j]
        for _, tier, bit, offered in tiers:
            terms = [(v, 1.0) for v, mask in zip(variables, masks, strict=True) if mask & bit]
            if terms:
                model.add_row(terms + offered, LE, 1.0,
                              constraint_name("margin", model.skus[j], _tool_name(tier)))


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


def _with_rows(table: CandidateTable, products: Iterable[int]) -> list[int]:
    return [j for j in products if table.valid[j].any()]


def define_items_together(
    model: MilpModel, table: CandidateTable, products: Sequence[Product]
) -> None:
    """SKUs sharing an item_id join or stay out together (the platform signs up items)::

        join[j] = join[first SKU of the item]          item_together[ITEM,SKU]

    with ``join[j] = Σ_{r joins} choose[j,r]``.
    """
    joins = table.row_joins.astype(np.float64)
    items: dict[str, list[int]] = {}
    for j in _with_rows(table, range(len(products))):
        items.setdefault(products[j].item_id, []).append(j)
    for item, members in items.items():
        if len(members) < 2:
            continue
        first, first_constant = model.terms(members[0], joins)
        against = [(v, -c) for v, c in first]
        for j in members[1:]:
            terms, constant = model.terms(j, joins)
            if not terms and not first:
                continue  # two constants: equal, as the candidate table keeps whole items
            model.add_row(terms + against, EQ, first_constant - constant,
                          constraint_name("item_together", item, products[j].sku))


def define_price_order(
    model: MilpModel, table: CandidateTable, products: Sequence[Product]
) -> None:
    """Within a price line, the activity prices of the products that join keep their
    everyday-price order (no inversions). With the line's distinct list prices ``L_1 < … < L_K``
    and ``top[k] ∈ [0, L_k]`` (continuous, ``k < K``) a price between those listed at ``L_k``
    and those listed above::

        top[k] ≥ top[k−1]                                          price_order[LINE,topk]
        top[k] ≥ Σ_{r joins} price[a,r]·choose[a,r]   (a listed at L_k)   …[LINE,SKU≤top]
        Σ_{r joins} price[b,r]·choose[b,r] + L_{k−1}·out[b] ≥ top[k−1]
                                                      (b listed at L_k)   price_order[LINE,SKU]

    A product that stays out adds nothing above and at most ``L_{k−1}`` (which bounds
    ``top[k−1]``) below, so only joining products are ordered; no big-M, and O(n) rows: one
    ``top`` per list price keeps the family linear in the line's size.
    """
    joins = table.row_joins
    lines: dict[str, list[int]] = {}
    for j in _with_rows(table, range(len(products))):
        if products[j].price_line:
            lines.setdefault(products[j].price_line, []).append(j)
    for line, members in lines.items():
        by_price: dict[int, list[int]] = {}
        for j in members:
            by_price.setdefault(products[j].list_price_fen, []).append(j)
        if len(by_price) < 2:
            continue
        levels = sorted(by_price)
        previous: pulp.LpVariable | None = None
        below = 0.0
        for k, level in enumerate(levels):
            # The dearest list price bounds nothing above it: it needs no top of its own.
            top = (None if k == len(levels) - 1 else
                   model.problem.add_variable(f"top_{len(model.labels)}_{k}", lowBound=0,
                                              upBound=level))
            if previous is not None and top is not None:
                model.add_row([(top, 1.0), (previous, -1.0)], GE, 0.0,
                              constraint_name("price_order", line, f"top{k}"))
            for j in by_price[level]:
                prices = np.where(joins, table.price[j], 0).astype(np.float64)
                if top is not None:
                    terms, constant = model.terms(j, prices)
                    model.add_row([(top, 1.0), *((v, -c) for v, c in terms)], GE, constant,
                                  constraint_name("price_order", line, f"{products[j].sku}≤top"))
                if previous is not None:
                    terms, constant = model.terms(j, np.where(joins, prices, below))
                    model.add_row([*terms, (previous, -1.0)], GE, -constant,
                                  constraint_name("price_order", line, products[j].sku))
            previous, below = top, float(level)


def define_hero_penalty(
    model: MilpModel, table: CandidateTable, products: Sequence[Product], penalty_fen: int
) -> None:
    """``heroes = <yuan>``: a hero that could join may stay out, at that penalty::

        out[j] = Σ_{r out} choose[j,r] ≤ slack_hero[SKU]     objective + penalty·slack
    """
    out = (~table.row_joins).astype(np.float64)
    for j, product in enumerate(products):
        if product.role is not Role.HERO or not table.joinable[j] or not table.valid[j, 0]:
            continue
        slack = model.slack(f"heroes[{product.sku}]", float(penalty_fen), whole=True)
        model.add(model.row_sum(table, j, out) - slack <= 0,
                  constraint_name("heroes", product.sku))


def _in_scope(product: Product, category: str | None) -> bool:
    return category is None or product.category == category


def define_quota(
    model: MilpModel, table: CandidateTable, products: Sequence[Product], quota: QuotaRule
) -> None:
    """A venue's depth: of the joining SKUs in scope, at least ``min_share`` priced at or below
    ``max_level`` × list price::

        Σ_{j in scope} deep[j] − min_share·Σ_{j in scope} join[j] + slack ≥ 0   quota[CAT,…]

    with ``deep[j] = Σ_{r joins, level_r ≤ max_level} choose[j,r]``; ``slack`` (SKUs short) is
    fixed at 0 for a hard quota and paid at the penalty per SKU otherwise.
    """
    joins = table.row_joins.astype(np.float64)
    deep = np.array([bool(j) and level <= quota.max_level
                     for j, level in zip(table.row_joins, table.levels, strict=True)],
                    dtype=np.float64)
    share = float(quota.min_share)
    expression = _sum_over(model, [j for j in _with_rows(table, range(len(products)))
                                   if _in_scope(products[j], quota.category)],
                           deep - share * joins)
    if quota.priority.hard:
        model.add(expression >= 0, quota.name)
    else:
        slack = model.slack(quota.name, float(quota.priority.penalty_fen), whole=True)
        model.add(expression + slack >= 0, quota.name)


def _sum_over(
    model: MilpModel, members: Sequence[int], weights: FloatArray
) -> pulp.LpAffineExpression:
    """``Σ_{j ∈ members} Σ_r weights[r]·choose[j,r]`` (``weights`` per row, or per product and
    row), built as one list: each product's variables are its own."""
    terms: Terms = []
    constant = 0.0
    for j in members:
        part, value = model.terms(j, weights[j] if weights.ndim == 2 else weights)
        terms.extend(part)
        constant += value
    return pulp.LpAffineExpression(terms, constant=constant)


def define_category_budget(
    model: MilpModel, table: CandidateTable, products: Sequence[Product], rule: BudgetRule
) -> None:
    """A category's expected discount spend stays within its budget::

        Σ_{j in category} spend[j,r]·choose[j,r] − slack ≤ amount          budget[CAT]

    ``slack`` (fen over) is 0 for a hard budget, else paid at the penalty per yuan over.
    """
    members = [j for j in _with_rows(table, range(len(products)))
               if products[j].category == rule.category]
    expression = _sum_over(model, members, table.spend)
    if rule.priority.hard:
        model.add(expression <= rule.amount_fen, rule.name)
    else:
        slack = model.slack(rule.name, rule.priority.penalty_fen / 100.0)
        model.add(expression - slack <= rule.amount_fen, rule.name)


def define_b2g1_limit(model: MilpModel, table: CandidateTable, max_products: int) -> None:
    """At most ``max_products`` products in buy-two-get-one::

        Σ_j Σ_{r in B2G1} choose[j,r] ≤ max_products                        b2g1_max_products
    """
    in_b2g1 = table.row_b2g1.astype(np.float64)
    if not in_b2g1.any():
        return
    expression = _sum_over(model, _with_rows(table, range(table.size)), in_b2g1)
    model.add(expression <= max_products, "b2g1_max_products")


def define_objective(model: MilpModel, table: CandidateTable, ladders: Ladders) -> None:
    """Maximise expected profit, stated as the minimisation of its negative (CBC ignores a warm
    start on a maximisation)::

        min −( Σ_{j,r} profit[j,r]·choose[j,r] + Σ_L value(L)·ladder[L] ) + Σ_s penalty_s·s

    (the fixed products' profit is a constant and is left out).
    """
    terms = [(v, -float(table.profit[j, r])) for (j, r), v in model.choose.items()]
    terms += [(v, -float(ladders.value[i])) for i, v in model.ladder.items()]
    terms += [(slack, penalty) for slack, penalty in model.penalties.values()]
    model.problem.setObjective(pulp.LpAffineExpression(terms))


def build_model(
    table: CandidateTable,
    ladders: Ladders,
    candidates: tuple[CouponTier, ...],
    skus: list[str],
    budget_fen: int = 0,
    products: Sequence[Product] = (),
    rules: Rules | None = None,
) -> MilpModel:
    """State the plan as a MILP, one named step per family (see the module docstring). Never
    solves. With ``products`` and ``rules``, the business rules are families of their own."""
    started = time.perf_counter()
    model = _empty_model(table, skus)
    tools: Sequence[StoreTool] = ladders.tools if ladders.tools is not None else candidates
    define_ladder(model, ladders, tools)
    define_choices(model, table)
    define_margin_safety(model, table, tools)
    define_budget(model, table, ladders, budget_fen)
    if rules is not None and products:
        business = rules.business
        if business.item_joins_together:
            define_items_together(model, table, products)
        if business.keep_price_order:
            define_price_order(model, table, products)
        if not business.heroes.hard:
            define_hero_penalty(model, table, products, business.heroes.penalty_fen)
        for quota in business.quota:
            define_quota(model, table, products, quota)
        for category_budget in business.budget:
            define_category_budget(model, table, products, category_budget)
        if rules.b2g1.max_products is not None:
            define_b2g1_limit(model, table, rules.b2g1.max_products)
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
            # CBC's integer preprocessing can cut off the optimum: on a four-product knapsack
            # (tests/test_optimize_parts.py, the MILP-alone brute force) it proved 2 "optimal"
            # where 3 is feasible; with it off CBC and HiGHS agree with the brute force.
            command: pulp.LpSolver = pulp.PULP_CBC_CMD(
                msg=False, timeLimit=time_limit, gapRel=gap, warmStart=warm_start is not None,
                logPath=str(log_path), options=["preprocess off"],
            )
        elif solver == "highs":
            command = _Highs(msg=False, timeLimit=time_limit, gapRel=gap,
                             warm_start=warm_start is not None)
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
    # Soft rules: the objective the model maximised is the profit less the penalties paid.
    penalties = sum(penalty * (slack.value() or 0.0) for slack, penalty in model.penalties.values())
    return Selection(ladder=chosen[0], rows=rows, objective=profit - penalties, spend=spend,
                     bound=np.inf)


def _quiet_highs() -> Any:
    """A new ``highspy.Highs``; the first one of a process prints a banner on the C stdout,
    which the CLI's output must not carry, so it is made with that stream pointed away."""
    import highspy

    stdout = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(stdout, 1)
        os.close(stdout)


class _Highs(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's in-memory HiGHS, made quietly (see :func:`_quiet_highs`), started from the
    variables' initial values when ``warm_start``."""

    def __init__(self, warm_start: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.warm_start = warm_start

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        highs = lp.solverModel = _quiet_highs()
        highs.setOptionValue("output_flag", False)
        if self.gapRel is not None:
            highs.setOptionValue("mip_rel_gap", self.gapRel)
        if self.timeLimit is not None:
            highs.setOptionValue("time_limit", float(self.timeLimit))

    def callSolver(self, lp: pulp.LpProblem) -> None:
        if self.warm_start:
            _set_start(lp.solverModel, [(v.index, v.varValue) for v in lp.variables()
                                        if v.varValue is not None])
        lp.solverModel.run()


def _set_start(highs: Any, values: Sequence[tuple[int, float]]) -> None:
    """Give HiGHS a start (a plan meeting every rule) by column index."""
    import highspy

    solution = highspy.HighsSolution()
    column = [0.0] * highs.getNumCol()
    for position, value in values:
        column[position] = float(value)
    solution.col_value = column
    highs.setSolution(solution)


FRACTIONAL = 1e-6


def solve_staged(
    model: MilpModel,
    table: CandidateTable,
    ladders: Ladders,
    products: Sequence[Product],
    solver: str = "highs",
    time_limit: float | None = None,
    gap: float = 1e-3,
) -> MilpResult:
    """Solve the MILP in stages, each on the same PuLP model (the business rules couple
    products, so the model is large; most of its choices are settled by its LP relaxation):

    1. the **LP relaxation** (HiGHS): a proven upper bound on expected profit, and an integral
       row for almost every product;
    2. the **MILP restricted** to the products the LP leaves fractional (the others, and the
       coupon ladder when integral, fixed at the LP's choice); when that leaves no plan, again
       with the products sharing an item or a price line with them: a plan meeting every rule;
    3. when the plan's gap to the bound exceeds ``gap``, the **whole MILP** warm-started from it
       (``solver``: HiGHS, or CBC), within what is left of ``time_limit``.

    The returned plan carries the least proven bound of the stages that ran (stage 1's LP bound
    or stage 3's dual bound); its gap is ``(bound − profit) / profit``.
    """
    import highspy

    started = time.perf_counter()
    problem = model.problem
    command = _Highs(msg=False, mip=False, timeLimit=time_limit)
    command.createAndConfigureSolver(problem)
    command.buildSolverModel(problem)
    highs = problem.solverModel
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return MilpResult(SolveStatus.INFEASIBLE, "Infeasible", None,
                          time.perf_counter() - started, None, "highs", "LP relaxation")
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return _solve_whole(model, table, ladders, solver, time_limit, gap, None, started,
                            "the LP relaxation did not finish")
    lp_bound = float(highs.getInfo().objective_function_value)  # least of the minimised
    variables = problem.variables()
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)

    pairs = list(model.choose.items())
    index = np.fromiter((v.index for _, v in pairs), np.int32, len(pairs))
    product = np.fromiter((j for (j, _), _ in pairs), np.int64, len(pairs))
    fractional_value = np.minimum(values[index], 1.0 - values[index]) > FRACTIONAL
    fractional = np.zeros(table.size, dtype=bool)
    fractional[product[fractional_value]] = True
    ladder_index = np.fromiter((v.index for v in model.ladder.values()), np.int32,
                               len(model.ladder))
    ladder_values = values[ladder_index]
    ladder_integral = bool((np.minimum(ladder_values, 1 - ladder_values) <= FRACTIONAL).all())
    integer = np.fromiter(
        (v.index for v in variables if v.cat == pulp.LpInteger), np.int32
    )
    highs.changeColsIntegrality(
        len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
    )
    # Half the gap asked for: the rest is left for the distance between the LP's bound and the
    # restricted MILP's own bound.
    highs.setOptionValue("mip_rel_gap", gap / 2)
    lp_values = values
    # First the products the LP left fractional alone; when that leaves no plan (a fixed
    # neighbour in an item or a price line stands in the way), with their items and lines too.
    attempts = (("the LP left fractional", fractional),
                ("the LP left fractional, their items and price lines",
                 _with_neighbours(fractional, products)))
    best: tuple[Selection, FloatArray, float, str] | None = None
    stage = "LP relaxation bound"
    for which, free_products in attempts:
        fix = ~free_products[product]
        fixed = index[fix]
        fixed_values = np.rint(lp_values[fixed])
        if ladder_integral:
            fixed = np.concatenate([fixed, ladder_index])
            fixed_values = np.concatenate([fixed_values, np.rint(ladder_values)])
        highs.changeColsBounds(len(index), index, np.zeros(len(index)), np.ones(len(index)))
        highs.changeColsBounds(len(fixed), fixed, fixed_values, fixed_values)
        if best is not None:  # the plan of the narrower attempt is a plan here too
            _set_start(highs, list(enumerate(best[1].tolist())))
        if time_limit is not None:
            highs.setOptionValue("time_limit",
                                 max(1.0, time_limit - (time.perf_counter() - started)))
        highs.run()
        stage = (f"LP relaxation bound; MILP on {int(free_products.sum())} products ({which})"
                 f"{'' if ladder_integral else ' and the coupon ladder'}, the others fixed at"
                 " the LP's rows")
        solution = highs.getSolution()
        if not solution.value_valid:
            continue
        values = np.asarray(solution.col_value, dtype=np.float64)
        incumbent = float(highs.getInfo().objective_function_value)
        if best is not None and incumbent >= best[2]:
            continue
        for variable in variables:
            variable.varValue = float(values[variable.index])
        found = _extract(model, table, ladders)
        if found is None:
            continue
        found = found.with_bound(found.objective + max(0.0, incumbent - lp_bound))
        best = (found, values, incumbent, stage)
        if found.gap <= gap:
            return MilpResult(SolveStatus.OPTIMAL, "Optimal", found,
                              time.perf_counter() - started, found.gap, "highs", stage)
        if time_limit is not None and time.perf_counter() - started >= time_limit:
            break
    if best is None:
        return _solve_whole(model, table, ladders, solver, time_limit, gap, None, started,
                            f"{stage}: no plan")
    selection, values, incumbent, stage = best
    for variable in variables:
        variable.varValue = float(values[variable.index])
    # Stage 3: the whole MILP, from this plan.
    highs.changeColsBounds(len(index), index, np.zeros(len(index)), np.ones(len(index)))
    highs.changeColsBounds(len(ladder_index), ladder_index, np.zeros(len(ladder_index)),
                           np.ones(len(ladder_index)))
    if solver != "highs":
        return _solve_whole(model, table, ladders, solver, time_limit, gap, selection, started,
                            stage)
    _set_start(highs, list(enumerate(values.tolist())))
    highs.setOptionValue("mip_rel_gap", gap)
    if time_limit is not None:
        highs.setOptionValue("time_limit", max(1.0, time_limit - (time.perf_counter() - started)))
    highs.run()
    detail = f"{stage}; then the whole MILP (highs) from that plan"
    dual = float(highs.getInfo().mip_dual_bound)
    bound = min(selection.bound, selection.objective + max(0.0, incumbent - dual))
    solution = highs.getSolution()
    if solution.value_valid and float(highs.getInfo().objective_function_value) < incumbent:
        values = np.asarray(solution.col_value, dtype=np.float64)
        incumbent = float(highs.getInfo().objective_function_value)
        for variable in variables:
            variable.varValue = float(values[variable.index])
        better = _extract(model, table, ladders)
        if better is not None:
            bound = min(selection.bound, better.objective + max(0.0, incumbent - dual))
            selection = better
    selection = selection.with_bound(bound)
    status = SolveStatus.OPTIMAL if selection.gap <= gap else SolveStatus.FEASIBLE
    return MilpResult(status, str(highs.getModelStatus()), selection,
                      time.perf_counter() - started, selection.gap, "highs", detail)


def _with_neighbours(chosen: npt.NDArray[np.bool_], products: Sequence[Product]) -> npt.NDArray[
        np.bool_]:
    """``chosen`` and every product sharing an item or a price line with a chosen one."""
    grown = chosen.copy()
    for labels in ([p.item_id for p in products], [p.price_line for p in products]):
        keyed = [label or f"\0{j}" for j, label in enumerate(labels)]  # none: a group alone
        _, group = np.unique(np.array(keyed, dtype=np.str_), return_inverse=True)
        hit = np.zeros(int(group.max()) + 1 if len(group) else 0, dtype=bool)
        hit[group[chosen]] = True
        grown |= hit[group]
    return grown


def _solve_whole(
    model: MilpModel, table: CandidateTable, ladders: Ladders, solver: str,
    time_limit: float | None, gap: float, start: Selection | None, started: float, stage: str,
) -> MilpResult:
    """Stage 3 of :func:`solve_staged` with a solver other than the staged HiGHS (or after a
    stage that found nothing): the whole MILP, from ``start`` when there is one."""
    left = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - started))
    result = solve_model(model, table, ladders, solver=solver, time_limit=left, gap=gap,
                         warm_start=start)
    detail = (f"{stage}; then the whole MILP ({solver}) from that plan" if start
              else f"{stage}; the whole MILP ({solver})")
    selection = result.selection
    if start is not None:
        if selection is None or selection.objective < start.objective:
            # The solver stopped without bettering the start: the start stands, with the least
            # bound either proved.
            bound = start.bound if selection is None else min(start.bound, selection.bound)
            selection = start.with_bound(bound)
        else:
            selection = selection.with_bound(min(selection.bound, start.bound))
    if selection is None:
        return replace(result, seconds=time.perf_counter() - started, solver=solver,
                       detail=detail)
    status = SolveStatus.OPTIMAL if selection.gap <= gap else SolveStatus.FEASIBLE
    return MilpResult(status, result.solver_status, selection,
                      time.perf_counter() - started, selection.gap, solver, detail)
