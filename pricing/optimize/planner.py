"""Make a plan: candidate table → (explain if infeasible) → solve → extract → verify.

:func:`make_plan` is a short list of named steps; each can be called on its own:

1. :func:`pricing.optimize.candidates.build_candidates`, and the coupon ladders of
   :mod:`pricing.optimize.demand`;
2. :func:`explain_infeasible` raises :class:`InfeasiblePlanError` naming each product and rule in
   conflict (a hero that cannot sign up without a loss, a product that loses at its everyday
   price, a budget below the least spend the rules force);
3. solve: the ladder decomposition (:mod:`pricing.optimize.decompose`) always runs, it is fast and
gives
   a proven bound; the MILP (:mod:`pricing.optimize.milp`) states and solves the model where it is
   fast
   (``method="auto"``: up to ``milp_max_products`` products with a choice), warm-started from
   the decomposition's plan;
4. extract the :class:`models.plan.Plan`;
5. verify it with the exact checker (:func:`pricing.verify.checker.check_store`): a plan that fails
is
   a bug and raises :class:`VerificationError`, it is never returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, cast

import numpy as np

from models.money import discount_label, format_yuan
from models.plan import (
    Plan,
    PlanInputs,
    PlanStatus,
    ProductDecision,
    SolverInfo,
    product_decisions,
)
from models.product import Product, Role
from models.rules import CouponScope, Mechanism, MechanismScope, Priority, Rules
from pricing.demand.event import MAX_ROUNDS, CandidateDemand, EventDemand
from pricing.errors import (
    Conflict,
    InfeasiblePlanError,
    InputError,
    Problem,
    SolverError,
    VerificationError,
)
from pricing.optimize.business import couples_products, judge_rules
from pricing.optimize.candidates import CandidateTable, ProductArrays, build_candidates
from pricing.optimize.decompose import solve_by_ladders
from pricing.optimize.demand import Ladders, coupon_ladders, rounded_units, store_orders
from pricing.optimize.exclusions import product_exclusions
from pricing.optimize.result import Selection, SolveStatus, products_with_a_choice
from pricing.progress import Progress as StepProgress
from pricing.verify.checker import CheckReport, StoreSetup, check_store
from pricing.verify.policy import WITNESSES

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanOptions:
    """How to solve: ``solver`` cbc|highs, ``method`` auto|milp|decompose, limits."""

    solver: str = "cbc"
    method: str = "auto"
    time_limit: float | None = None
    gap: float = 1e-4
    milp_max_products: int = 3_000
    # With business rules, a model with more products with a choice is solved in stages
    staged_min_products: int = 1_000


@dataclass(frozen=True)
class PlanResult:
    """A verified plan, the checker's report on it, and what each step took (seconds)."""

    plan: Plan
    check: CheckReport
    table: CandidateTable
    timings: dict[str, float] = field(default_factory=dict)


def _quiet(_: str) -> None:
    return None


def _counted_step(progress: Progress, description: str, total: int) -> Callable[[int], None] | None:
    """Start a step of ``total`` products: counted when ``progress`` draws bars (a
    :class:`pricing.progress.Progress`, which the CLI passes), and then its ``advance``."""
    advance: Callable[[int], None] | None = getattr(progress, "advance", None)
    if advance is None:
        progress(description)
        return None
    cast(StepProgress, progress)(description, total=total)
    return advance


def store_margin_rate(arrays: ProductArrays, rules: Rules) -> float:
    """The store's contribution per yuan of sales at everyday prices (for the coupon forecast)."""
    commission = float(rules.platform.commission_rate)
    weights = arrays.base_units
    sales = float((weights * arrays.list_price).sum())
    if sales <= 0:
        return 0.0
    contribution = (
        (1.0 - commission) * arrays.list_price - arrays.cost - rules.store.handling_cost_fen
    )
    return max(0.0, float((weights * contribution).sum()) / sales)


def explain_infeasible(
    products: Sequence[Product], table: CandidateTable, ladders: Ladders, rules: Rules
) -> None:
    """Raise :class:`InfeasiblePlanError` when a hard rule no plan can meet, naming the products
    and amounts; return when a plan exists. (Products that cannot join are not conflicts: they
    stay out and are named in the plan's ``excluded``.)"""
    conflicts: list[Conflict] = []
    budget = rules.store.budget_fen
    if budget > 0:
        least = float(np.where(table.valid, table.spend, np.inf).min(axis=1).sum())
        least += float(ladders.spend.min())
        if least > budget:
            heroes = [
                p.sku for j, p in enumerate(products)
                if p.role is Role.HERO and table.joinable[j]
            ]
            conflicts.append(Conflict(
                sku=", ".join(heroes) if heroes else "(store)",
                rules="store.budget; role = hero (must join); platform.min_discount",
                detail=(
                    f"the budget {format_yuan(budget)} is below the least expected discount"
                    f" spend any plan has, {format_yuan(math.ceil(least))} (heroes must join at"
                    " a sign-up discount)"
                ),
            ))
    if conflicts:
        raise InfeasiblePlanError(conflicts)


def _solve(
    table: CandidateTable,
    ladders: Ladders,
    products: Sequence[Product],
    rules: Rules,
    options: PlanOptions,
    timings: dict[str, float],
    progress: Progress,
) -> tuple[Selection, SolverInfo]:
    """Solve by the method asked for; the plan's label names the method that produced it.

    ``decompose``: the ladder decomposition alone. ``milp``: the MILP alone (no warm start, no
    decomposition). ``auto``: the decomposition, then the MILP warm-started from it where the
    model is small enough; the better plan is kept and labelled by where it came from, with the
    least of the two proven bounds.
    """
    if options.method not in ("auto", "milp", "decompose"):
        raise ValueError(f"unknown method {options.method!r}")
    if options.method == "decompose" and couples_products(rules):
        raise InputError([Problem(
            "--method", "the ladder decomposition cannot enforce the [business] rules (or"
            " b2g1.max_products); use --method auto or milp", value="decompose",
        )])
    counts = table.drops
    info: dict[str, Any] = dict(
        time_limit=options.time_limit, gap_limit=options.gap,
        candidates_total=counts.total, candidates_pruned=counts.dropped,
    )
    decomposed: Selection | None = None
    if options.method in ("auto", "decompose"):
        started = time.perf_counter()
        progress("Solving by coupon ladders")
        decomposed = solve_by_ladders(table, ladders, rules.store.budget_fen)
        timings["decompose"] = time.perf_counter() - started
        if decomposed is None:
            raise SolverError("no coupon ladder leaves every product a safe price (a bug: the"
                              " no-coupon ladder always should)")
    active = len(products_with_a_choice(table))
    # Business rules couple products: the MILP decides (the decomposition only bounds).
    coupled = couples_products(rules)
    use_milp = coupled or options.method == "milp" or (
        options.method == "auto" and active <= options.milp_max_products
    )
    if not use_milp:
        assert decomposed is not None
        timings["build"] = 0.0
        timings["solve"] = timings["decompose"]
        return decomposed, _decomposition_info(decomposed, table, ladders, options, info,
                                   timings["decompose"])
    # Imported here so that the decomposition path never pays for loading PuLP.
    from pricing.optimize.milp import build_model, solve_model, solve_staged

    progress(f"Building the MILP ({active} products with a choice)")
    skus = [p.sku for p in products]
    model = build_model(table, ladders, rules.coupons.candidates, skus, rules.store.budget_fen,
                        products, rules)
    timings["build"] = model.seconds
    progress(f"Solving with {options.solver.upper()}")
    if coupled and options.method == "auto" and active >= options.staged_min_products:
        # A large coupled model: its LP relaxation settles most products (see solve_staged).
        result = solve_staged(model, table, ladders, products, solver=options.solver,
                              time_limit=options.time_limit, gap=options.gap)
    else:
        result = solve_model(
            model, table, ladders, solver=options.solver, time_limit=options.time_limit,
            gap=options.gap, warm_start=None if coupled else decomposed,
        )
    timings["solve"] = result.seconds
    selection = result.selection
    if selection is None and coupled:
        if result.status is SolveStatus.INFEASIBLE:
            explain_hard_rules(table, ladders, products, rules, options)
        raise SolverError(f"{options.solver} stopped ({result.solver_status}) without a plan"
                          " that meets the [business] rules; try a longer --time-limit")
    if selection is None:
        if decomposed is not None:
            # The MILP found nothing in its time: the decomposition's plan is what is written.
            return decomposed, _decomposition_info(decomposed, table, ladders, options, info,
                                   timings["decompose"])
        if result.status is SolveStatus.INFEASIBLE:
            raise SolverError(f"{options.solver} reports the model infeasible although the"
                              " candidate table leaves every product a row: a bug in the model")
        raise SolverError(f"{options.solver} stopped ({result.solver_status}) without a plan;"
                          " try a longer --time-limit")
    if decomposed is not None and coupled:
        # The decomposition solves the problem without the business rules: an upper bound.
        selection = selection.with_bound(min(decomposed.bound, selection.bound))
    elif decomposed is not None:
        # Both bounds are proven upper bounds on the same problem: the least holds.
        bound = min(decomposed.bound, selection.bound)
        if decomposed.objective > selection.objective + 1e-6 * max(1.0, abs(selection.objective)):
            chosen = decomposed.with_bound(bound)
            return chosen, _decomposition_info(chosen, table, ladders, options, info,
                                   timings["decompose"])
        selection = selection.with_bound(bound)
    gap = selection.gap
    status = "optimal" if gap <= options.gap + 1e-9 else "feasible"
    return selection, SolverInfo(
        name=result.solver or options.solver, method="milp", status=status,
        gap=None if not math.isfinite(gap) else gap, seconds=result.seconds,
        variables=model.variables, constraints=model.constraints, detail=result.detail, **info,
    )


HARD_AS_PENALTY_FEN = 10**9  # ¥10,000,000 per unit short: breaks a hard rule only if it must


def explain_hard_rules(
    table: CandidateTable, ladders: Ladders, products: Sequence[Product], rules: Rules,
    options: PlanOptions,
) -> None:
    """The hard business rules leave no plan: solve again with each hard rule as a very large
    penalty, and raise :class:`InfeasiblePlanError` naming the rules the best plan still breaks,
    with their products and amounts."""
    from pricing.optimize.milp import build_model, solve_model

    soft = Priority(hard=False, penalty_fen=HARD_AS_PENALTY_FEN)
    # A hero is left out only as a last resort: the quota or budget it breaks is named instead.
    hero_soft = Priority(hard=False, penalty_fen=HARD_AS_PENALTY_FEN * 1000)
    business = rules.business
    relaxed = rules.model_copy(update={"business": business.model_copy(update={
        "heroes": hero_soft if business.heroes.hard else business.heroes,
        "quota": tuple(q.model_copy(update={"priority": soft}) if q.priority.hard else q
                       for q in business.quota),
        # ¥1,000 per yuan over: far above what a yuan of discount earns, far below a hero.
        "budget": tuple(b.model_copy(update={"priority": Priority(hard=False,
                                                                   penalty_fen=100_000)})
                        if b.priority.hard else b for b in business.budget),
    })})
    # A hero may now stay out: its "out" row comes back to the table.
    table = build_candidates(ProductArrays.of(products, relaxed), relaxed)
    model = build_model(table, ladders, rules.coupons.candidates, [p.sku for p in products],
                        rules.store.budget_fen, products, relaxed)
    result = solve_model(model, table, ladders, solver=options.solver,
                         time_limit=options.time_limit, gap=options.gap)
    conflicts: list[Conflict] = []
    if result.selection is not None:
        report = judge_rules(products, table, result.selection.rows, rules)
        conflicts = [
            Conflict(sku=", ".join(v.products[:20]) or "(store)", rules=v.rule,
                     detail=f"{v.message} (short by {v.by})")
            for v in report.hard_broken
        ]
    if not conflicts:
        conflicts = [Conflict(sku="(store)", rules="[business] hard rules",
                              detail="no plan meets the hard rules together")]
    raise InfeasiblePlanError(conflicts)


def _decomposition_info(
    selection: Selection, table: CandidateTable, ladders: Ladders, options: PlanOptions,
    info: dict[str, Any], seconds: float,
) -> SolverInfo:
    """The label of a plan the ladder decomposition produced."""
    status = "optimal" if selection.gap <= options.gap + 1e-9 else "feasible"
    return SolverInfo(
        name="ladder-decomposition", method="decompose", status=status,
        gap=selection.gap, seconds=seconds, variables=int(table.valid.sum()),
        constraints=len(ladders.members), **info,
    )


@dataclass(frozen=True)
class StoreScope:
    """Who bears what under a plan: the event's products, the products the store coupons do not
    cover, the products to opt out of the official discount, and the known losers."""

    joining: frozenset[str]
    coupon_excluded: tuple[str, ...]
    official_opt_out: tuple[str, ...]
    known_losers: frozenset[str]


def store_scope(
    products: Sequence[Product], table: CandidateTable, rows: np.ndarray, ladder_mask: int,
    rules: Rules,
) -> StoreScope:
    """Derive the plan's scopes from the chosen rows and coupon ladder.

    With ``coupons.scope = "auto"`` a product staying out whose everyday price cannot bear an
    offered tier is left out of the store coupons (all of them). With the official discount and
    ``mechanism_scope = "event"``, every product outside the event goes on the opt-out list.
    """
    joins = table.row_joins[rows].tolist()
    joining = frozenset(p.sku for p, joined in zip(products, joins, strict=True) if joined)
    coupon_excluded: tuple[str, ...] = ()
    if rules.coupons.scope is CouponScope.AUTO and ladder_mask:
        cannot_bear = ~table.row_joins[rows] & ((table.out_unsafe & ladder_mask) != 0)
        coupon_excluded = tuple(products[int(j)].sku for j in np.flatnonzero(cannot_bear))
    official_opt_out: tuple[str, ...] = ()
    if (
        rules.platform.mechanism is Mechanism.OFFICIAL
        and rules.platform.mechanism_scope is MechanismScope.EVENT
    ):
        official_opt_out = tuple(
            p.sku for p, joined in zip(products, joins, strict=True) if not joined
        )
    losers = frozenset(products[int(j)].sku for j in np.flatnonzero(~table.base_safe[:, 0]))
    return StoreScope(joining, coupon_excluded, official_opt_out, losers)


def super_instant_rate(table: CandidateTable, row: int) -> Decimal | None:
    """The super instant rate a candidate row gives (None: none)."""
    if row < 0 or not table.row_super_rate or not table.row_super_rate[row]:
        return None
    return table.row_super_rate[row]


def super_instant_rates(table: CandidateTable, rows: np.ndarray) -> list[Decimal | None]:
    """:func:`super_instant_rate` of each product's row (all None at once without such rows)."""
    if not any(table.row_super_rate):
        return [None] * len(rows)
    return [super_instant_rate(table, row) for row in rows.tolist()]


def _decisions(
    products: Sequence[Product], table: CandidateTable, rows: np.ndarray, check: CheckReport
) -> tuple[ProductDecision, ...]:
    # Every column as a Python list first: indexing numpy per product costs more than the rest.
    picked = np.arange(table.size)
    prices = table.price[picked, rows].tolist()
    revenue = np.rint(table.revenue[picked, rows]).astype(np.int64).tolist()
    profit = np.rint(table.profit[picked, rows]).astype(np.int64).tolist()
    joins = table.row_joins[rows].tolist()
    b2g1 = table.row_b2g1[rows].tolist()
    signup = table.signup_ok[picked, rows].tolist()
    levels = table.levels
    return product_decisions({
        "sku": [p.sku for p in products],
        "item_id": [p.item_id for p in products],
        "title": [p.title for p in products],
        "joins": joins,
        "list_price_fen": [p.list_price_fen for p in products],
        "activity_price_fen": prices,
        "level": [levels[row] for row in rows.tolist()],
        "b2g1": [b and p.b2g1_eligible for b, p in zip(b2g1, products, strict=True)],
        "expected_units": rounded_units(table.units[picked, rows]),
        "expected_revenue_fen": revenue,
        "expected_profit_fen": profit,
        "worst_unit_margin_fen": [verdict.bound_fen for verdict in check.products],
        "meets_signup": signup,
        "super_instant_rate": super_instant_rates(table, rows),
    })


def _solve_with_demand(
    arrays: ProductArrays,
    products: Sequence[Product],
    rules: Rules,
    options: PlanOptions,
    timings: dict[str, float],
    progress: Progress,
    demand: EventDemand,
) -> tuple[CandidateTable, CandidateTable, Ladders, Selection, SolverInfo]:
    """Iterated linearisation of cannibalization (:mod:`pricing.demand.event`): solve with each
    product's externality on its category at the current plan, move to the new plan, until it
    repeats; every plan visited is evaluated exactly and the best is kept.

    Returns the exact table of the kept plan, the exact table at everyday prices (the
    baseline), the coupon ladders, the selection and the solver's report.
    """
    started = time.perf_counter()
    picked = np.arange(len(products))
    prices = arrays.list_price.copy()
    everyday = build_candidates(
        arrays, rules, demand=CandidateDemand(demand, demand.category_index(prices))
    )
    fitted = demand.fitted
    arrays = replace(arrays, base_units=np.where(fitted, everyday.units[:, 0], arrays.base_units))
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    rows = np.zeros(len(products), dtype=np.int64)
    current = everyday
    best: tuple[float, CandidateTable, Selection, SolverInfo] | None = None
    visited: set[tuple[int, ...]] = set()
    for round_number in range(MAX_ROUNDS):
        weight = demand.externality_weight(current.profit[picked, rows])
        table = build_candidates(
            arrays, rules,
            demand=CandidateDemand(demand, demand.category_index(prices), weight),
        )
        if round_number == 0:
            timings["candidates"] = time.perf_counter() - started
            explain_infeasible(products, table, ladders, rules)
        progress(f"Cannibalization round {round_number + 1}")
        selection, solver_info = _solve(
            table, ladders, products, rules, options, timings, progress
        )
        rows = np.where(selection.rows < 0, 0, selection.rows)
        prices = table.price[picked, rows]
        current = build_candidates(
            arrays, rules, demand=CandidateDemand(demand, demand.category_index(prices))
        )
        value = float(
            np.where(selection.rows < 0, 0.0, current.profit[picked, rows]).sum()
        ) + float(ladders.value[selection.ladder])
        if best is None or value > best[0]:
            best = (value, current, selection, solver_info)
        key = (selection.ladder, *prices.tolist())
        if key in visited:
            break
        visited.add(key)
    assert best is not None
    _, table, selection, solver_info = best
    return table, everyday, ladders, selection, solver_info


def make_plan(
    products: Sequence[Product],
    rules: Rules,
    options: PlanOptions | None = None,
    inputs: PlanInputs | None = None,
    progress: Progress | None = None,
    demand: EventDemand | None = None,
) -> PlanResult:
    """Plan the store's event: the most profitable plan no cart can turn into a loss.

    With ``demand`` (a fitted model lined up with the catalogue), units come from the model and
    cannibalization within a category is handled by :func:`_solve_with_demand`.
    """
    options = options or PlanOptions()
    progress = progress or _quiet
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress(f"Building the candidate table ({len(products)} products)")
    arrays = ProductArrays.of(products, rules)
    if demand is not None:
        table, baseline_table, ladders, selection, solver_info = _solve_with_demand(
            arrays, products, rules, options, timings, progress, demand
        )
    else:
        table = baseline_table = build_candidates(arrays, rules)
        ladders = coupon_ladders(
            rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
        )
        timings["candidates"] = time.perf_counter() - started
        explain_infeasible(products, table, ladders, rules)
        selection, solver_info = _solve(
            table, ladders, products, rules, options, timings, progress
        )

    excluded = product_exclusions(products, table, rules)
    advance = _counted_step(progress, "Verifying the plan against every basket", len(products))
    verify_started = time.perf_counter()
    rows = selection.rows
    tiers = ladders.tiers(selection.ladder, rules.coupons.candidates)
    scope = store_scope(products, table, rows, int(ladders.masks[selection.ladder]), rules)
    picked = np.arange(table.size)
    prices = table.price[picked, rows]
    members = frozenset(
        p.sku for p, in_b2g1 in zip(products, table.row_b2g1[rows].tolist(), strict=True)
        if in_b2g1 and p.b2g1_eligible
    )
    offer_index = ladders.offer(selection.ladder)
    pieces_offer = None if offer_index is None else rules.offers.candidates[offer_index]
    setup = StoreSetup(
        products=tuple(products), prices_fen=tuple(prices.tolist()),
        coupon_tiers=tiers, b2g1_members=members, rules=rules,
        event_members=scope.joining, coupon_excluded=frozenset(scope.coupon_excluded),
        known_losers=scope.known_losers, pieces_offer=pieces_offer,
        super_instant={p.sku: rate for p, rate in zip(
            products, super_instant_rates(table, rows), strict=True) if rate is not None},
    )
    check = check_store(setup, witnesses_for=WITNESSES.for_plan(len(products)),
                        progress=advance)
    timings["verify"] = time.perf_counter() - verify_started
    if not check.passes:
        failing = [c.sku for c in check.products if not c.proven_safe and c.guaranteed]
        raise VerificationError(
            "the optimizer produced a plan the exact checker rejects (a bug; nothing was"
            f" written): {', '.join(failing[:20])}"
        )

    report = judge_rules(products, table, rows, rules)
    if report.hard_broken:
        raise VerificationError(
            "the optimizer produced a plan that breaks a hard business rule (a bug; nothing was"
            f" written): {', '.join(v.rule for v in report.hard_broken)}"
        )
    decisions = _decisions(products, table, rows, check)
    baseline_profit = float(baseline_table.profit[:, 0].sum())
    baseline_revenue = float(baseline_table.revenue[:, 0].sum())
    ladder_value = float(ladders.value[selection.ladder])
    guaranteed = [d.worst_unit_margin_fen for d in decisions if d.sku not in scope.known_losers]
    plan = Plan(
        status=PlanStatus.OPTIMAL if solver_info.status == "optimal" else PlanStatus.FEASIBLE,
        objective_fen=sum(d.expected_profit_fen for d in decisions) + round(ladder_value),
        expected_revenue_fen=sum(d.expected_revenue_fen for d in decisions),
        baseline_profit_fen=round(baseline_profit),
        baseline_revenue_fen=round(baseline_revenue),
        expected_discount_spend_fen=round(selection.spend),
        solver=solver_info,
        coupon_tiers=tiers,
        b2g1=bool(members),
        worst_unit_margin_fen=min(guaranteed, default=0),
        products=decisions,
        inputs=inputs,
        excluded=excluded,
        coupon_excluded=scope.coupon_excluded,
        official_opt_out=scope.official_opt_out,
        violations=report.violations,
        binding_rules=report.binding,
        pieces_offer=pieces_offer,
    )
    timings["total"] = time.perf_counter() - started
    return PlanResult(plan=plan, check=check, table=table, timings=timings)


def refuse_strict(plan: Plan) -> None:
    """``plan --strict``: raise :class:`InfeasiblePlanError` when a hero is excluded or a soft
    rule is violated, naming each."""
    conflicts = [
        Conflict(sku=e.sku, rules="role = hero (must join); --strict", detail=e.message)
        for e in plan.excluded if e.role == "hero"
    ]
    conflicts += [
        Conflict(sku=", ".join(v.products[:20]) or "(store)", rules=f"{v.rule}; --strict",
                 detail=v.message or f"violated by {v.by}")
        for v in plan.violations
    ]
    if conflicts:
        raise InfeasiblePlanError(conflicts)


def level_label(level: Decimal) -> str:
    """The merchandiser's name of a level: ``0.75`` → ``7.5折``, 1 → ``—``."""
    return "—" if level >= 1 else discount_label(level)
