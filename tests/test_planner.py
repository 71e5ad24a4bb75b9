"""The optimizer against a slow, obvious brute force, and how its answer responds to changes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import examples

from models.product import Product, Role
from models.rules import (
    B2G1Rules,
    CouponRules,
    CouponScope,
    CouponTier,
    DiscountLadder,
    Mechanism,
    MechanismScope,
    PlatformRules,
    Rules,
    StoreRules,
    StoreTools,
)
from pricing.engine.bounds import (
    coupon_stacks_with_offer,
    margin_floor_fen,
    official_discount_fen,
    unit_margin_bound_fen,
    worst_rate,
)
from pricing.engine.signup import meets_signup
from pricing.engine.stacking import quote
from pricing.errors import InfeasiblePlanError
from pricing.optimize.candidates import ProductArrays
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.exclusions import break_even_price_fen
from pricing.optimize.planner import PlanOptions, make_plan, store_margin_rate
from pricing.verify.checker import StoreSetup, cart_margins

EXACT = PlanOptions(method="milp", gap=0.0)
SOLVE_SETTINGS = settings(
    max_examples=examples(0.4), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Row:
    joins: bool
    price_fen: int
    b2g1: bool
    profit: float
    spend: float
    unsafe_tiers: frozenset[int]


def _one(value: int) -> np.ndarray:
    return np.array([value], dtype=np.int64)


def reference_rows(product: Product, rules: Rules) -> list[Row]:
    """Every choice for one product, computed one at a time with plain arithmetic.

    The platform mechanism reaches a row that joins (every row with ``mechanism_scope =
    "store"``); staying out is always possible (a hero stays out only when it cannot join); with
    ``coupons.scope = "auto"`` staying out bears no coupon (the plan limits them away)."""
    platform, store, demand = rules.platform, rules.store, rules.demand
    choices: list[tuple[bool, Decimal, bool]] = [(False, Decimal(1), False)]
    choices += [(True, level, False) for level in rules.ladder.levels]
    if rules.b2g1.enabled and product.b2g1_eligible:
        choices += [(True, level, True) for level in rules.ladder.levels]
    elasticity = product.elasticity or demand.default_elasticity
    rows = []
    for joins, level, b2g1 in choices:
        bears = joins or platform.mechanism_scope is MechanismScope.STORE
        official_rate = (
            float(platform.official_rate)
            if platform.mechanism is Mechanism.OFFICIAL and bears
            else 0.0
        )
        cross = (
            platform.cross_store_save_fen / platform.cross_store_every_fen
            if platform.mechanism is Mechanism.CROSS_STORE and bears
            else 0.0
        )
        take = demand.cross_store_take_rate * cross
        price = product.list_price_fen
        if joins:
            price = int(
                (Decimal(product.list_price_fen) * level).quantize(Decimal(1), "ROUND_HALF_UP")
            )
            if not meets_signup(
                _one(price), _one(product.list_price_fen), _one(product.lowest_price_fen), rules
            )[0]:
                continue
        units = product.base_units * (price / product.list_price_fen) ** elasticity
        units *= (1 + demand.event_uplift) if joins else 1.0
        units *= (1 + rules.b2g1.uplift) if b2g1 else 1.0
        units = min(units, product.stock)
        free = rules.b2g1.free_share if b2g1 else 0.0
        per_unit = (
            (1 - float(platform.commission_rate)) * price * (1 - official_rate - take - free)
            - product.unit_cost_fen
            - store.handling_cost_fen
            - store.shipping_cost_fen / demand.units_per_order
        )
        spend = units * ((product.list_price_fen - price) + price * (official_rate + take + free))

        def safe(
            amount: int, threshold: int, price: int = price, b2g1: bool = b2g1,
            bears: bool = bears,
        ) -> bool:
            prices = _one(price)
            official = official_discount_fen(prices, rules) if bears else _one(0)
            # Exclusive store tools: a coupon line never bears B2G1 too (the larger of the two).
            in_b2g1 = np.array([b2g1 and (amount == 0 or coupon_stacks_with_offer(rules))])
            basket = _one(max(price, threshold))
            bound = unit_margin_bound_fen(
                prices, official, _one(product.unit_cost_fen), in_b2g1, amount, basket, rules,
                np.array([bears]),
            )[0]
            rate = worst_rate(prices, official, in_b2g1, amount, basket, rules,
                              np.array([bears]))[0]
            return bool(bound >= margin_floor_fen(prices, rules)[0] and rate < 1.0)

        if joins and not safe(0, 0):
            continue
        # Exclusive store tools (since 2026-03-10): a coupon line never bears B2G1 too.
        coupon_b2g1 = b2g1 and platform.store_tools is StoreTools.STACKED
        unsafe = frozenset(
            k
            for k, tier in enumerate(rules.coupons.candidates)
            if not safe(tier.amount_fen, tier.threshold_fen, b2g1=coupon_b2g1)
        )
        if not joins and rules.coupons.scope is CouponScope.AUTO:
            unsafe = frozenset()
        elif not joins and not safe(0, 0):
            # A known loser blocks only a tier that could cut its line to nothing.
            prices = _one(price)
            official = official_discount_fen(prices, rules) if bears else _one(0)
            unsafe = frozenset(
                k for k, tier in enumerate(rules.coupons.candidates)
                if worst_rate(prices, official, np.array([False]), tier.amount_fen,
                              _one(max(price, tier.threshold_fen)), rules,
                              np.array([bears]))[0] >= 1.0
            )
        rows.append(Row(joins, price, b2g1, units * per_unit, spend, unsafe))
    if product.role is Role.HERO and rules.business.heroes.hard and any(r.joins for r in rows):
        rows = [row for row in rows if row.joins]
    return rows


def brute_force(products: Sequence[Product], rules: Rules) -> float | None:
    """The best expected profit over every ladder and every product's choice, or None."""
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    rows = [reference_rows(p, rules) for p in products]
    best: float | None = None
    budget = rules.store.budget_fen
    for index, members in enumerate(ladders.members):
        offered = set(members)
        for combo in itertools.product(*rows):
            if any(row.unsafe_tiers & offered for row in combo):
                continue
            spend = sum(row.spend for row in combo) + ladders.spend[index]
            if budget and spend > budget:
                continue
            value = sum(row.profit for row in combo) + ladders.value[index]
            if best is None or value > best:
                best = value
    return best


@st.composite
def tiny_stores(draw: st.DrawFn, budget: bool = False) -> tuple[list[Product], Rules]:
    count = draw(st.integers(2, 4))
    products = []
    for i in range(count):
        list_yuan = draw(st.integers(20, 1500))
        cost_share = draw(st.floats(0.15, 0.75))
        products.append(
            Product(
                sku=f"P{i}",
                role=draw(st.sampled_from([Role.REGULAR, Role.REGULAR, Role.TRAFFIC, Role.HERO])),
                list_price_fen=list_yuan * 100,
                lowest_price_fen=list_yuan * 100 - draw(st.sampled_from([0, 0, 100, 500])),
                unit_cost_fen=int(list_yuan * 100 * cost_share),
                stock=draw(st.integers(5, 500)),
                base_units=draw(st.floats(1, 300)),
                elasticity=draw(st.floats(-4.5, -0.5)),
                purchase_limit=draw(st.sampled_from([None, 1, 2, 5])),
                b2g1_eligible=draw(st.booleans()),
            )
        )
    thresholds = draw(
        st.lists(st.sampled_from([0, 99, 199, 299, 599, 999]), min_size=3, max_size=3, unique=True)
    )
    candidates = tuple(
        CouponTier(threshold_fen=t * 100, amount_fen=draw(st.sampled_from([5, 10, 20, 40])) * 100)
        for t in sorted(thresholds)
        if t == 0 or t > 40
    )
    rules = Rules(
        platform=PlatformRules(
            mechanism=draw(st.sampled_from(list(Mechanism))),
            min_discount=draw(st.sampled_from([Decimal("0"), Decimal("0.1")])),
            mechanism_scope=draw(st.sampled_from(list(MechanismScope))),
        ),
        store=StoreRules(
            shipping_cost_fen=draw(st.sampled_from([0, 600, 1000])),
            handling_cost_fen=draw(st.sampled_from([0, 150])),
            margin_floor_rate=draw(st.sampled_from([Decimal("0"), Decimal("0.05")])),
            budget_fen=draw(st.integers(1, 30_000_000)) if budget else 0,
        ),
        ladder=DiscountLadder(levels=(Decimal("0.9"), Decimal("0.7"), Decimal("0.5"))),
        coupons=CouponRules(candidates=candidates, max_tiers=2,
                            scope=draw(st.sampled_from(list(CouponScope)))),
        b2g1=B2G1Rules(enabled=draw(st.booleans())),
    )
    return products, rules


def _solve_or_none(products: list[Product], rules: Rules, options: PlanOptions) -> float | None:
    try:
        plan = make_plan(products, rules, options).plan
    except InfeasiblePlanError:
        return None
    # The MILP alone: neither warm-started nor rescued by the decomposition.
    assert plan.solver.method == options.method
    return float(plan.objective_fen)


@SOLVE_SETTINGS
@given(tiny_stores())
def test_milp_and_decomposition_find_the_brute_force_optimum(store: tuple) -> None:
    """GIVEN a tiny catalogue WHEN planned THEN both solvers match the brute force to the fen
    (each product's profit is rounded to the fen once, hence the tolerance of a fen each)."""
    products, rules = store
    expected = brute_force(products, rules)
    for options in (EXACT, PlanOptions(method="decompose")):
        found = _solve_or_none(products, rules, options)
        if expected is None:
            assert found is None
        else:
            assert found is not None
            assert abs(found - expected) <= len(products) + 1


@SOLVE_SETTINGS
@given(tiny_stores(budget=True))
def test_milp_with_budget_finds_the_brute_force_optimum(store: tuple) -> None:
    products, rules = store
    expected = brute_force(products, rules)
    found = _solve_or_none(products, rules, EXACT)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert abs(found - expected) <= len(products) + 1
        decomposed = make_plan(products, rules, PlanOptions(method="decompose")).plan
        # The decomposition may stop short of the optimum with a budget, but never above it,
        # and the gap it reports is honest.
        assert decomposed.objective_fen <= expected + len(products) + 1
        gap = decomposed.solver.gap or 0.0
        assert (
            decomposed.objective_fen >= expected - gap * max(abs(expected), 1) - len(products) - 1
        )


@SOLVE_SETTINGS
@given(tiny_stores(budget=True), st.integers(0, 3_000_000))
def test_more_budget_never_lowers_the_optimum(store: tuple, extra: int) -> None:
    products, rules = store
    tight = _solve_or_none(products, rules, EXACT)
    looser = rules.model_copy(
        update={
            "store": rules.store.model_copy(update={"budget_fen": rules.store.budget_fen + extra})
        }
    )
    unlimited = rules.model_copy(update={"store": rules.store.model_copy(update={"budget_fen": 0})})
    more = _solve_or_none(products, looser, EXACT)
    most = _solve_or_none(products, unlimited, EXACT)
    if tight is None:
        return  # the tighter budget was infeasible: nothing to compare
    assert more is not None and most is not None
    assert tight <= more + len(products) + 1
    assert more <= most + len(products) + 1


@SOLVE_SETTINGS
@given(tiny_stores(), st.integers(0, 2))
def test_removing_a_coupon_candidate_never_raises_the_optimum(store: tuple, drop: int) -> None:
    products, rules = store
    candidates = rules.coupons.candidates
    assume(drop < len(candidates))
    fewer = rules.model_copy(
        update={
            "coupons": rules.coupons.model_copy(
                update={"candidates": candidates[:drop] + candidates[drop + 1 :]}
            )
        }
    )
    full = _solve_or_none(products, rules, EXACT)
    reduced = _solve_or_none(products, fewer, EXACT)
    if full is None:
        assert reduced is None
        return
    assert reduced is not None
    assert reduced <= full + len(products) + 1


@SOLVE_SETTINGS
@given(tiny_stores())
def test_a_product_that_loses_at_every_level_never_joins(store: tuple) -> None:
    """GIVEN a product safe at its everyday price but below break-even at every ladder level
    WHEN the store is planned THEN it stays out."""
    products, rules = store
    cost = 6_000
    list_price = math.ceil(break_even_price_fen(cost, rules) * 1.05)
    loser = Product(
        sku="LOSER",
        list_price_fen=list_price,
        lowest_price_fen=list_price,
        unit_cost_fen=cost,
        stock=100,
        base_units=50.0,
    )
    try:
        plan = make_plan([*products, loser], rules, EXACT).plan
    except InfeasiblePlanError as error:
        assert "LOSER" not in str(error)
        return
    decision = next(d for d in plan.products if d.sku == "LOSER")
    assert not decision.joins


@SOLVE_SETTINGS
@given(tiny_stores(budget=True))
def test_the_plan_is_deterministic(store: tuple) -> None:
    products, rules = store
    try:
        first = make_plan(products, rules, EXACT).plan
    except InfeasiblePlanError:
        return
    second = make_plan(products, rules, EXACT).plan
    assert first.model_dump(exclude={"solver"}) == second.model_dump(exclude={"solver"})


@settings(max_examples=examples(0.6), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_stores(), st.data())
def test_no_generated_cart_beats_the_plans_worst_unit_margin(
    store: tuple, data: st.DataObject
) -> None:
    """GIVEN a plan WHEN a buyer builds any cart (quantities within limits, a top-up in another
    store of the cross-store pool) THEN no unit of it keeps less than the plan's worst unit
    margin, and none keeps less than its margin floor."""
    products, rules = store
    try:
        result = make_plan(products, rules, EXACT)
    except InfeasiblePlanError:
        return
    plan = result.plan
    prices = {d.sku: d.activity_price_fen for d in plan.products}
    setup = StoreSetup(
        products=tuple(products),
        prices_fen=tuple(prices[p.sku] for p in products),
        coupon_tiers=plan.coupon_tiers,
        b2g1_members=frozenset(d.sku for d in plan.products if d.b2g1),
        rules=rules,
    )
    from models.cart import Cart, CartLine

    worst = {d.sku: d.worst_unit_margin_fen for d in plan.products}
    joining = {d.sku for d in plan.products if d.joins}
    losers = {e.sku for e in plan.excluded if e.reason.value == "loses_at_everyday_price"}
    floors = dict(
        zip(
            (p.sku for p in products),
            margin_floor_fen(np.array([prices[p.sku] for p in products]), rules).tolist(),
            strict=True,
        )
    )
    for _ in range(10):
        lines = []
        for product in products:
            limit = product.purchase_limit or 6
            quantity = data.draw(st.integers(0, min(limit, 6)))
            if quantity:
                lines.append(
                    CartLine(
                        sku=product.sku,
                        store="S",
                        unit_price_fen=prices[product.sku],
                        quantity=quantity,
                        b2g1=product.sku in setup.b2g1_members,
                        event=product.sku in joining,
                        store_coupons=product.sku not in plan.coupon_excluded,
                    )
                )
        if not lines:
            continue
        stores = {"S": setup.offer()}
        top_up = data.draw(st.sampled_from([0, 0, 5_000, 20_000, 60_000]))
        if top_up and setup.offer().cross_store is not None:
            stores["OTHER"] = setup.other_store_offer()
            lines.append(
                CartLine(sku="OTHER-ITEM", store="OTHER", unit_price_fen=top_up, quantity=1)
            )
        cart = Cart(stores=stores, lines=tuple(lines))
        costs = {p.sku: p.unit_cost_fen for p in products}
        margins, order_margin = cart_margins(cart, quote(cart), costs, rules)
        for line, margin in zip(cart.lines, margins, strict=True):
            if margin is None or line.store != "S" or line.sku in losers:
                continue
            assert margin >= worst[line.sku] * line.quantity
            assert margin >= floors[line.sku] * line.quantity
        if not losers & {line.sku for line in cart.lines}:
            assert order_margin >= 0


def _hero(unit_cost_fen: int) -> Product:
    """A hero product at ¥100 everyday (and lowest) price."""
    return Product(
        sku="HERO-1",
        role=Role.HERO,
        list_price_fen=10_000,
        lowest_price_fen=10_000,
        unit_cost_fen=unit_cost_fen,
        stock=100,
        base_units=50.0,
    )


def test_a_hero_that_cannot_sign_up_without_a_loss_is_excluded_and_named() -> None:
    """GIVEN a hero whose sign-up cap is below its break-even WHEN planned THEN a plan is
    written, the hero stays out and is named with the amounts, and --strict would refuse it."""
    hero = _hero(7_000)
    other = Product(
        sku="OK-1",
        list_price_fen=20_000,
        lowest_price_fen=20_000,
        unit_cost_fen=6_000,
        stock=100,
        base_units=50.0,
    )
    plan = make_plan([hero, other], Rules()).plan
    [exclusion] = plan.excluded
    assert exclusion.sku == "HERO-1"
    assert exclusion.reason.value == "no_safe_signup_price"
    assert exclusion.signup_cap_fen == 9_000
    assert exclusion.shortfall_fen == exclusion.break_even_fen - 9_000 > 0
    assert "signs up only at 90.00 or less" in exclusion.message
    assert not next(d for d in plan.products if d.sku == "HERO-1").joins
    assert plan.strict_failures == ["hero HERO-1 is excluded (no_safe_signup_price)"]


def test_a_product_losing_at_its_everyday_price_is_named_and_the_rest_is_planned() -> None:
    """GIVEN a ¥9.90 accessory that free shipping makes a loser WHEN planned THEN the plan is
    written, the product stays out, is left out of the coupons, and is named with the price
    rise it needs; every other product keeps the guarantee."""
    cheap = Product(sku="CABLE", list_price_fen=990, lowest_price_fen=990, unit_cost_fen=300,
                    stock=100, base_units=50.0)
    other = Product(sku="OK-1", list_price_fen=20_000, lowest_price_fen=20_000,
                    unit_cost_fen=6_000, stock=100, base_units=50.0)
    result = make_plan([cheap, other], Rules())
    plan = result.plan
    [exclusion] = plan.excluded
    assert exclusion.reason.value == "loses_at_everyday_price"
    assert exclusion.break_even_fen - 990 == exclusion.shortfall_fen > 0
    assert "stop free shipping" in exclusion.message
    # A bigger order shares the shipping: only a no-threshold coupon deepens its loss.
    no_threshold = any(t.threshold_fen == 0 for t in plan.coupon_tiers)
    assert plan.coupon_excluded == (("CABLE",) if no_threshold else ())
    assert result.check.passes
    assert plan.strict_failures == []


def test_a_budget_below_the_least_spend_is_explained() -> None:
    hero = _hero(2_000)
    rules = Rules(store=StoreRules(budget_fen=100))
    with pytest.raises(InfeasiblePlanError, match=r"budget 1\.00 is below"):
        make_plan([hero], rules)


def test_the_model_names_its_margin_constraints_by_product_and_tier() -> None:
    """The MILP is built without solving; its constraint names say which product and tier."""
    from pricing.optimize.candidates import build_candidates
    from pricing.optimize.milp import build_model

    products = [
        Product(
            sku=f"SKU{i}",
            list_price_fen=price,
            lowest_price_fen=price,
            unit_cost_fen=int(price * 0.42),
            stock=500,
            base_units=100.0,
            elasticity=-3.5,
        )
        for i, price in enumerate([3_900, 12_900, 29_900])
    ]
    rules = Rules()
    table = build_candidates(products, rules)
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    model = build_model(table, ladders, rules.coupons.candidates, [p.sku for p in products])
    names = set(model.labels.values())
    assert set(model.labels) == {c.name for c in model.problem.constraints()}
    assert "one_ladder" in names
    assert any(name.startswith("margin[SKU0,tier") for name in names), names
    assert all(
        f"one_level[{p.sku}]" in names for p in products if table.valid[products.index(p)].sum() > 1
    )


@SOLVE_SETTINGS
@given(tiny_stores())
def test_a_product_is_excluded_exactly_when_it_could_not_have_joined(store: tuple) -> None:
    """GIVEN any store WHEN planned THEN the plan is written, and a product is named in
    ``excluded`` exactly when no level of it signs up and is safe (the reference rows, one
    product at a time); a hero that can join joins."""
    products, rules = store
    plan = make_plan(products, rules, EXACT).plan
    excluded = {e.sku for e in plan.excluded}
    for product in products:
        could_join = any(row.joins for row in reference_rows(product, rules))
        assert (product.sku in excluded) == (not could_join)
        decision = next(d for d in plan.products if d.sku == product.sku)
        if product.role is Role.HERO and could_join:
            assert decision.joins
        if product.sku in excluded:
            assert not decision.joins
