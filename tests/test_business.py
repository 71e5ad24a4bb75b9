"""The [business] rules: brute force against the MILP alone on tiny stores (one rule family at a
time and all together), and properties every written plan keeps."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples
from test_planner import EXACT, Row, reference_rows, tiny_stores

from models.product import Product, Role
from models.rules import BudgetRule, BusinessRules, Priority, QuotaRule, Rules
from pricing.errors import InfeasiblePlanError, InputError
from pricing.formats.plan_json import plan_from_json, plan_to_json
from pricing.formats.rules import load_rules
from pricing.optimize.candidates import ProductArrays
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.planner import PlanOptions, make_plan, store_margin_rate

SETTINGS = settings(max_examples=examples(0.3), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FAMILIES = ("items", "price_order", "heroes", "quota", "budget", "b2g1")


def _level(row: Row, product: Product) -> Fraction:
    return Fraction(row.price_fen, product.list_price_fen)


def _joinable(products: Sequence[Product], rules: Rules) -> list[bool]:
    """Whether each product could join: some level signs up safely and, with
    item_joins_together, every SKU of its item has one too."""
    alone = [any(r.joins for r in reference_rows(p, rules)) for p in products]
    if not rules.business.item_joins_together:
        return alone
    blocked = {p.item_id for p, ok in zip(products, alone, strict=True) if not ok}
    return [ok and p.item_id not in blocked for p, ok in zip(products, alone, strict=True)]


def brute_force(products: Sequence[Product], rules: Rules) -> float | None:
    """The best profit less penalties over every ladder and every product's choice, checking
    each business rule with plain arithmetic; None when no choice meets the hard rules."""
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    business = rules.business
    joinable = _joinable(products, rules)
    options = []
    for product, can_join in zip(products, joinable, strict=True):
        rows = reference_rows(product, rules)
        if not can_join:
            # Its item cannot join: it stays out, a hero too (reference_rows keeps no "out"
            # row for a hero that could join on its own).
            as_regular = product.model_copy(update={"role": Role.REGULAR})
            rows = [r for r in reference_rows(as_regular, rules) if not r.joins]
        options.append(rows)
    best: float | None = None
    for index, members in enumerate(ladders.members):
        offered = set(members)
        for combo in itertools.product(*options):
            if any(row.unsafe_tiers & offered for row in combo):
                continue
            penalty = 0.0
            if business.item_joins_together:
                items: dict[str, set[bool]] = {}
                for product, row in zip(products, combo, strict=True):
                    items.setdefault(product.item_id, set()).add(row.joins)
                if any(len(states) > 1 for states in items.values()):
                    continue
            if business.keep_price_order and any(
                a.price_line and a.price_line == b.price_line and ra.joins and rb.joins
                and a.list_price_fen < b.list_price_fen and ra.price_fen > rb.price_fen
                for (a, ra), (b, rb) in itertools.permutations(zip(products, combo, strict=True), 2)
            ):
                continue
            heroes_out = sum(
                1 for j, (p, row) in enumerate(zip(products, combo, strict=True))
                if p.role is Role.HERO and joinable[j] and not row.joins
            )
            if heroes_out and business.heroes.hard:
                continue
            penalty += heroes_out * business.heroes.penalty_fen
            broken = False
            for quota in business.quota:
                scope = [(p, r) for p, r in zip(products, combo, strict=True)
                         if r.joins and (quota.category is None or p.category == quota.category)]
                deep = sum(1 for p, r in scope if _level(r, p) <= quota.max_level)
                needed = Fraction(quota.min_share) * len(scope)
                short = max(0, math.ceil(needed - deep))
                if short and quota.priority.hard:
                    broken = True
                penalty += short * quota.priority.penalty_fen
            for rule in business.budget:
                spend = sum(r.spend for p, r in zip(products, combo, strict=True)
                            if p.category == rule.category)
                if spend > rule.amount_fen + 1e-6:
                    broken = True
            limit = rules.b2g1.max_products
            if limit is not None and sum(r.b2g1 for r in combo) > limit:
                broken = True
            if broken:
                continue
            value = sum(r.profit for r in combo) + ladders.value[index] - penalty
            if best is None or value > best:
                best = value
    return best


@st.composite
def business_stores(draw: st.DrawFn, family: str | None = None) -> tuple[list[Product], Rules]:
    """A tiny store with categories, shared item IDs and price lines, and the rules of one
    family (``None``: every family at once)."""
    products, rules = draw(tiny_stores())
    products = [
        p.model_copy(update={
            "category": draw(st.sampled_from(["A", "B"])),
            "item_id": draw(st.sampled_from(["I1", "I2", p.sku])),
            "price_line": draw(st.sampled_from(["", "L1"])),
        })
        for p in products
    ]
    families = FAMILIES if family is None else (family,)
    hard = Priority()
    penalty = st.builds(lambda y: Priority(hard=False, penalty_fen=y * 100),
                        st.integers(1, 3000))
    business = BusinessRules(
        item_joins_together="items" in families,
        keep_price_order="price_order" in families,
        heroes=draw(st.just(hard) | penalty) if "heroes" in families else hard,
        quota=tuple(
            QuotaRule(category=draw(st.sampled_from([None, "A"])),
                      min_share=draw(st.sampled_from([Decimal("0.3"), Decimal("0.5"),
                                                      Decimal("1")])),
                      max_level=draw(st.sampled_from([Decimal("0.5"), Decimal("0.7")])),
                      priority=draw(st.just(hard) | penalty))
            for _ in range(draw(st.integers(1, 2)))
        ) if "quota" in families else (),
        budget=(BudgetRule(category="A", amount_fen=draw(st.integers(1, 3_000_000))),)
        if "budget" in families else (),
    )
    b2g1 = rules.b2g1.model_copy(update={
        "enabled": True, "max_products": draw(st.integers(0, 2)),
    }) if "b2g1" in families else rules.b2g1
    return products, rules.model_copy(update={"business": business, "b2g1": b2g1})


def _solve(products: list[Product], rules: Rules) -> float | None:
    try:
        plan = make_plan(products, rules, EXACT).plan
    except InfeasiblePlanError:
        return None
    assert plan.solver.method == "milp"
    return float(plan.objective_fen) - sum(v.penalty_fen for v in plan.violations)


@pytest.mark.parametrize("family", [*FAMILIES, None])
def test_the_milp_alone_matches_the_brute_force_for_each_rule(family: str | None) -> None:
    """GIVEN tiny stores with one business rule family (or all) WHEN the MILP alone plans them
    THEN it finds the brute-force optimum (profit less penalties), or both find no plan."""

    @SETTINGS
    @given(business_stores(family))
    def check(store: tuple) -> None:
        products, rules = store
        expected = brute_force(products, rules)
        found = _solve(products, rules)
        if expected is None:
            assert found is None
        else:
            assert found is not None
            # each product's profit is rounded to the fen once in the plan
            assert abs(found - expected) <= len(products) + 1

    check()


@settings(max_examples=examples(0.4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(business_stores(None))
def test_no_written_plan_breaks_a_hard_rule_or_excludes_a_product_that_could_join(
    store: tuple,
) -> None:
    """GIVEN any store with every rule WHEN a plan is written THEN every hard rule holds (checked
    here with plain arithmetic), the exact checker passed, and a product is excluded only when
    none of its levels could sign up safely."""
    products, rules = store
    try:
        result = make_plan(products, rules, PlanOptions())
    except InfeasiblePlanError:
        assert brute_force(products, rules) is None
        return
    plan = result.plan
    assert result.check.passes
    by_sku = {d.sku: d for d in plan.products}
    business = rules.business
    items: dict[str, set[bool]] = {}
    for product in products:
        items.setdefault(product.item_id, set()).add(by_sku[product.sku].joins)
    assert all(len(states) == 1 for states in items.values())
    for a, b in itertools.permutations(products, 2):
        if (a.price_line and a.price_line == b.price_line and a.list_price_fen < b.list_price_fen
                and by_sku[a.sku].joins and by_sku[b.sku].joins):
            assert by_sku[a.sku].activity_price_fen <= by_sku[b.sku].activity_price_fen
    for quota in business.quota:
        if not quota.priority.hard:
            continue
        scope = [by_sku[p.sku] for p in products if by_sku[p.sku].joins
                 and (quota.category is None or p.category == quota.category)]
        deep = sum(1 for d in scope if d.level <= quota.max_level)
        assert deep >= quota.min_share * len(scope)
    limit = rules.b2g1.max_products
    assert limit is None or sum(d.b2g1 for d in plan.products) <= limit
    excluded = {e.sku for e in plan.excluded}
    for product, could_join in zip(products, _joinable(products, rules), strict=True):
        assert (product.sku in excluded) == (not could_join)


def test_the_issue_syntax_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('''
[business]
item_joins_together = true
keep_price_order = true
heroes = "hard"

[[business.quota]]
category = "dresses"
min_share = 0.3
max_level = 0.5
priority = "hard"

[[business.quota]]
min_share = 0.2
max_level = 0.7
priority = 500

[[business.budget]]
category = "shoes"
amount = 50000
priority = "hard"

[ladder]
price_ending = "9"

[b2g1]
max_products = 50
''', encoding="utf-8")
    rules = load_rules(path)
    business = rules.business
    assert business.item_joins_together and business.keep_price_order and business.heroes.hard
    assert business.quota[0] == QuotaRule(category="dresses", min_share=Decimal("0.3"),
                                          max_level=Decimal("0.5"))
    assert business.quota[1].priority == Priority(hard=False, penalty_fen=50_000)
    assert business.budget[0].amount_fen == 5_000_000
    assert rules.ladder.price_ending.value == "9" and rules.b2g1.max_products == 50


def test_a_bad_business_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[business]\nheroes = "soft"\n\n[[business.quota]]\nmin_share = 0.3\n',
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert "business.heroes" in message and "business.quota" in message


def test_decompose_refuses_business_rules() -> None:
    products, _ = _hero_store()
    rules = Rules(business=BusinessRules(keep_price_order=True))
    with pytest.raises(InputError, match="cannot enforce"):
        make_plan(products, rules, PlanOptions(method="decompose"))


def _hero_store() -> tuple[list[Product], Rules]:
    products = [
        Product(sku=f"S{i}", category="A", role=Role.HERO if i == 0 else Role.REGULAR,
                list_price_fen=price, lowest_price_fen=price, unit_cost_fen=price * 3 // 10,
                stock=500, base_units=60.0, elasticity=-2.5)
        for i, price in enumerate([29_900, 19_900, 9_900])
    ]
    return products, Rules()


def test_infeasible_hard_rules_exit_3_naming_rule_products_and_amounts() -> None:
    """GIVEN a hero that must join and a hard category budget it alone exceeds WHEN planned
    THEN the error names the budget, its products and by how much."""
    products, _ = _hero_store()
    rules = Rules(business=BusinessRules(
        budget=(BudgetRule(category="A", amount_fen=100),),
    ))
    with pytest.raises(InfeasiblePlanError) as caught:
        make_plan(products, rules)
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "budget[A]" in message and "S0" in message and "short by ¥" in message


def test_price_endings() -> None:
    from models.rules import PriceEnding
    from pricing.optimize.candidates import price_with_ending

    prices = np.array([18_750, 18_900, 990, 500], dtype=np.int64)
    assert price_with_ending(prices, PriceEnding.NINE).tolist() == [17_900, 18_900, 900, 0]
    assert price_with_ending(prices, PriceEnding.YUAN).tolist() == [18_700, 18_900, 900, 500]
    assert price_with_ending(prices, PriceEnding.FEN).tolist() == prices.tolist()


def test_a_sku_that_cannot_join_keeps_its_item_out_and_a_hero_of_it_is_excluded() -> None:
    """GIVEN item_joins_together, heroes hard, and a hero whose sibling SKU loses money at any
    event price WHEN planning THEN a plan is written: the item stays out, the hero is excluded
    with reason item_cannot_join naming the sibling (no infeasibility)."""
    products, rules = _hero_store()
    hero = products[0].model_copy(update={"item_id": "ITEM-0"})
    loser = hero.model_copy(update={
        "sku": "LOSER-1", "role": Role.REGULAR, "unit_cost_fen": hero.list_price_fen * 9 // 10,
    })
    rules = rules.model_copy(update={"business": BusinessRules(item_joins_together=True)})
    plan = make_plan([hero, *products[1:], loser], rules, PlanOptions()).plan
    reasons = {e.sku: e for e in plan.excluded}
    assert reasons[hero.sku].reason.value == "item_cannot_join"
    assert "LOSER-1" in reasons[hero.sku].message
    assert not next(d for d in plan.products if d.sku == hero.sku).joins


@settings(max_examples=examples(0.25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(business_stores(None))
def test_the_staged_milp_is_within_its_proven_gap_of_the_brute_force(store: tuple) -> None:
    """GIVEN any tiny store with every rule WHEN the MILP is solved in stages (LP relaxation,
    the MILP on the products it leaves fractional, then the whole MILP if the gap is too wide)
    THEN the plan keeps every hard rule, its profit is within the gap it reports of the
    brute-force optimum, and its label says how it was found."""
    products, rules = store
    expected = brute_force(products, rules)
    options = PlanOptions(gap=1e-3, staged_min_products=0)
    try:
        plan = make_plan(products, rules, options).plan
    except InfeasiblePlanError:
        assert expected is None
        return
    assert expected is not None
    found = float(plan.objective_fen) - sum(v.penalty_fen for v in plan.violations)
    assert plan.solver.method == "milp" and plan.solver.detail.startswith("LP relaxation")
    assert plan_from_json(plan_to_json(plan)).solver == plan.solver  # the detail round-trips
    assert plan.solver.gap is not None
    assert found <= expected + len(products) + 1
    assert found >= expected - plan.solver.gap * abs(expected) - len(products) - 1


@settings(max_examples=examples(0.25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(business_stores(None))
def test_highs_reading_the_arrays_and_cbc_reading_the_pulp_problem_agree(store: tuple) -> None:
    """GIVEN any tiny store with every rule WHEN one model is solved to optimality by HiGHS from
    its arrays (``passModel``) and by CBC from the PuLP problem made from the same arrays THEN
    both prove the same optimum, or both find the model infeasible."""
    from pricing.optimize.candidates import build_candidates
    from pricing.optimize.milp import build_model, solve_model
    from pricing.optimize.result import SolveStatus

    products, rules = store
    arrays = ProductArrays.of(products, rules)
    table = build_candidates(arrays, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    model = build_model(table, ladders, rules.coupons.candidates, [p.sku for p in products],
                        rules.store.budget_fen, products, rules)
    assert model.problem.numConstraints() == model.constraints
    by_highs = solve_model(model, table, ladders, solver="highs", gap=0.0)
    by_cbc = solve_model(model, table, ladders, solver="cbc", gap=0.0)
    assert (by_highs.status is SolveStatus.INFEASIBLE) == (by_cbc.status is SolveStatus.INFEASIBLE)
    if by_highs.selection is None or by_cbc.selection is None:
        assert by_highs.selection is None and by_cbc.selection is None
        return
    expected = by_cbc.selection.objective
    assert abs(by_highs.selection.objective - expected) <= 1e-6 * max(1.0, abs(expected))
