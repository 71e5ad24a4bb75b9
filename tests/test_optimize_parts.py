"""The optimizer's parts on their own: dominance pruning, the budget bisection and repair of the
ladder decomposition, the MILP's named steps, and honest method labels."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples

from models.product import Product
from models.rules import CouponRules, CouponTier, Rules
from pricing.optimize.candidates import CandidateTable, _drop_dominated
from pricing.optimize.decompose import _Evaluator, _repair, solve_by_ladders
from pricing.optimize.demand import Ladders
from pricing.optimize.milp import build_model, solve_model
from pricing.optimize.planner import PlanOptions, make_plan
from pricing.optimize.result import Selection, selection_totals

SETTINGS = settings(max_examples=examples(0.6), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _table(
    profit: np.ndarray, spend: np.ndarray, unsafe: np.ndarray, valid: np.ndarray | None = None
) -> CandidateTable:
    """A candidate table from its optimisation columns alone (prices are placeholders)."""
    count, rows = profit.shape
    valid = np.ones((count, rows), dtype=bool) if valid is None else valid
    return CandidateTable(
        levels=tuple(Decimal(1) for _ in range(rows)),
        row_joins=np.array([False] + [True] * (rows - 1)),
        row_b2g1=np.zeros(rows, dtype=bool),
        price=np.full((count, rows), 10_000, dtype=np.int64),
        signup_ok=np.ones((count, rows), dtype=bool),
        units=np.ones((count, rows)),
        revenue=np.ones((count, rows)),
        spend=spend.astype(np.float64),
        profit=profit.astype(np.float64),
        unsafe=unsafe.astype(np.int64),
        base_safe=np.ones((count, rows), dtype=bool),
        valid=valid,
        joinable=valid[:, 1:].any(axis=1),
        out_unsafe=unsafe[:, 0].astype(np.int64),
    )


def _ladders(values: list[float], spends: list[float], members: list[tuple[int, ...]]) -> Ladders:
    return Ladders(
        members=tuple(members),
        masks=np.array([sum(1 << k for k in m) for m in members], dtype=np.int64),
        value=np.array(values, dtype=np.float64),
        spend=np.array(spends, dtype=np.float64),
    )


def _brute(table: CandidateTable, ladders: Ladders, budget: float) -> float | None:
    """The optimum by trying every ladder and every row of every product."""
    best: float | None = None
    options = [np.flatnonzero(table.valid[j]).tolist() for j in range(table.size)]
    for ladder, mask in enumerate(ladders.masks.tolist()):
        for rows in itertools.product(*options):
            picked = np.array(rows, dtype=np.int64)
            if any(int(table.unsafe[j, r]) & mask for j, r in enumerate(rows)):
                continue
            profit, spend = selection_totals(table, ladders, ladder, picked)
            if budget > 0 and spend > budget + 1e-9:
                continue
            if best is None or profit > best:
                best = profit
    return best


@st.composite
def small_tables(draw: st.DrawFn) -> tuple[CandidateTable, Ladders]:
    """2–4 products × 3–4 rows, two coupon candidates, three ladders: {}, {0}, {0,1}."""
    count = draw(st.integers(2, 4))
    rows = draw(st.integers(3, 4))
    cells = count * rows
    profit = np.array(draw(st.lists(st.integers(-50, 400), min_size=cells, max_size=cells)))
    spend = np.array(draw(st.lists(st.integers(0, 300), min_size=cells, max_size=cells)))
    unsafe = np.array(draw(st.lists(st.integers(0, 3), min_size=cells, max_size=cells)))
    unsafe = unsafe.reshape(count, rows)
    unsafe[:, 0] = 0  # "out" bears every coupon, so some plan always exists
    ladders = _ladders(
        [0.0, draw(st.integers(-50, 200)) * 1.0, draw(st.integers(-50, 300)) * 1.0],
        [0.0, draw(st.integers(0, 100)) * 1.0, draw(st.integers(0, 200)) * 1.0],
        [(), (0,), (0, 1)],
    )
    return _table(profit.reshape(count, rows), spend.reshape(count, rows), unsafe), ladders


# --- dominance pruning -----------------------------------------------------------------------


def test_a_row_that_earns_less_and_bears_fewer_coupons_is_dropped() -> None:
    valid = np.ones((1, 3), dtype=bool)
    profit = np.array([[10.0, 30.0, 20.0]])
    spend = np.array([[0.0, 5.0, 1.0]])
    unsafe = np.array([[0, 0, 1]])
    kept = _drop_dominated(valid, profit, spend, unsafe, with_budget=False)
    assert kept.tolist() == [[False, True, False]]


def test_a_cheaper_row_survives_dominance_when_there_is_a_budget() -> None:
    valid = np.ones((1, 3), dtype=bool)
    profit = np.array([[10.0, 30.0, 20.0]])
    spend = np.array([[0.0, 5.0, 1.0]])
    unsafe = np.array([[0, 0, 0]])
    kept = _drop_dominated(valid, profit, spend, unsafe, with_budget=True)
    assert kept.tolist() == [[True, True, True]]


def test_a_more_profitable_row_unsafe_with_more_coupons_does_not_dominate() -> None:
    valid = np.ones((1, 2), dtype=bool)
    kept = _drop_dominated(
        valid, np.array([[10.0, 30.0]]), np.zeros((1, 2)), np.array([[0, 2]]), with_budget=False
    )
    assert kept.tolist() == [[True, True]]


def test_of_two_identical_rows_the_earlier_stays() -> None:
    valid = np.ones((1, 3), dtype=bool)
    kept = _drop_dominated(
        valid, np.array([[5.0, 7.0, 7.0]]), np.zeros((1, 3)), np.zeros((1, 3), dtype=np.int64),
        with_budget=True,
    )
    assert kept.tolist() == [[False, True, False]]


@SETTINGS
@given(small_tables(), st.booleans())
def test_pruning_never_changes_the_optimum(data: tuple, with_budget: bool) -> None:
    table, ladders = data
    budget = float(table.spend.max(axis=1).sum() / 2) if with_budget else 0.0
    pruned = _drop_dominated(table.valid, table.profit, table.spend, table.unsafe, with_budget)
    smaller = _table(table.profit, table.spend, table.unsafe, pruned)
    assert _brute(smaller, ladders, budget) == _brute(table, ladders, budget)


# --- the ladder decomposition: bisection and repair ------------------------------------------


@SETTINGS
@given(small_tables(), st.integers(0, 900))
def test_the_budget_bisection_is_feasible_and_its_bound_holds(data: tuple, budget: int) -> None:
    """GIVEN a budget WHEN the decomposition solves THEN its plan fits the budget, is never
    above the optimum, and its bound is never below it."""
    table, ladders = data
    expected = _brute(table, ladders, float(budget))
    found = solve_by_ladders(table, ladders, budget)
    if expected is None:
        assert found is None or found.spend > budget
        return
    if found is None:
        return  # no λ brought the spend within budget: the planner then runs the MILP
    assert found.spend <= budget + 1e-6 or budget == 0
    assert found.objective <= expected + 1e-6
    assert found.bound >= expected - 1e-6
    profit, spend = selection_totals(table, ladders, found.ladder, found.rows)
    assert (profit, spend) == pytest.approx((found.objective, found.spend))


def test_repair_spends_the_budget_left_on_the_best_upgrades() -> None:
    """GIVEN the plan at a high budget price (everyone cheap) and the one at a low price
    (everyone upgraded, over budget) WHEN repaired THEN the upgrades with the best profit per
    yuan are taken while they fit."""
    profit = np.array([[0.0, 100.0], [0.0, 60.0], [0.0, 90.0]])
    spend = np.array([[0.0, 50.0], [0.0, 10.0], [0.0, 100.0]])
    table = _table(profit, spend, np.zeros((3, 2), dtype=np.int64))
    ladders = _ladders([0.0], [0.0], [()])
    evaluator = _Evaluator(table, ladders)
    active = np.ones(1, dtype=bool)
    # at λ = 10 every upgrade costs more than it earns; at λ = 0 all are taken (spend 160).
    repaired = _repair(table, ladders, evaluator, 0.0, 10.0, 70.0, None, active)
    assert repaired is not None
    assert repaired.rows.tolist() == [1, 1, 0]  # 6/yuan and 2/yuan fit; 0.9/yuan does not
    assert repaired.spend == pytest.approx(60.0)
    assert repaired.objective == pytest.approx(160.0)


def test_the_decomposition_leaves_a_product_without_rows_out() -> None:
    valid = np.array([[True, True], [False, False]])
    table = _table(np.array([[1.0, 5.0], [9.0, 9.0]]), np.zeros((2, 2)),
                   np.zeros((2, 2), dtype=np.int64), valid)
    found = solve_by_ladders(table, _ladders([0.0], [0.0], [()]))
    assert found is not None
    assert found.rows.tolist() == [1, -1]
    assert found.objective == pytest.approx(5.0)


# --- the MILP on its own ---------------------------------------------------------------------


def _solve_milp_alone(table: CandidateTable, ladders: Ladders, budget: int) -> Selection | None:
    candidates = (CouponTier(threshold_fen=0, amount_fen=100),
                  CouponTier(threshold_fen=10_000, amount_fen=500))
    skus = [f"P{j}" for j in range(table.size)]
    model = build_model(table, ladders, candidates, skus, budget)
    return solve_model(model, table, ladders, gap=0.0).selection


@SETTINGS
@given(small_tables(), st.sampled_from([0, 0, 150, 400, 900]))
def test_the_milp_alone_matches_the_brute_force(data: tuple, budget: int) -> None:
    """GIVEN a small generated table WHEN the MILP alone solves it (no decomposition, no warm
    start) THEN it finds the brute-force optimum, and its bound is proven."""
    table, ladders = data
    expected = _brute(table, ladders, float(budget))
    found = _solve_milp_alone(table, ladders, budget)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert found.objective == pytest.approx(expected, abs=1e-6)
    assert found.bound >= expected - 1e-6


def test_the_model_is_built_by_named_steps_without_solving() -> None:
    profit = np.array([[0.0, 10.0, 20.0], [0.0, 5.0, 8.0]])
    unsafe = np.array([[0, 0, 1], [0, 2, 2]])
    table = _table(profit, np.ones((2, 3)), unsafe)
    ladders = _ladders([0.0, 1.0, 2.0], [0.0, 1.0, 1.0], [(), (0,), (0, 1)])
    candidates = (CouponTier(threshold_fen=0, amount_fen=100),
                  CouponTier(threshold_fen=10_000, amount_fen=500))
    model = build_model(table, ladders, candidates, ["SKU1", "SKU2"], budget_fen=100)
    names = set(model.labels.values())
    assert names == {
        "one_ladder", "one_level[SKU1]", "one_level[SKU2]", "margin[SKU1,tier0-1]",
        "margin[SKU2,tier100-5]", "budget",
    }
    assert model.problem.status == 0  # not solved


# --- labels ----------------------------------------------------------------------------------


def _store() -> tuple[list[Product], Rules]:
    products = [
        Product(sku=f"S{i}", list_price_fen=price, lowest_price_fen=price,
                unit_cost_fen=price * 4 // 10, stock=300, base_units=40.0, elasticity=-3.0)
        for i, price in enumerate([5_900, 19_900, 39_900])
    ]
    return products, Rules(coupons=CouponRules(max_tiers=2))


@pytest.mark.parametrize(
    ("method", "label", "name"),
    [("milp", "milp", "cbc"), ("decompose", "decompose", "ladder-decomposition")],
)
def test_the_plan_names_the_method_that_produced_it(method: str, label: str, name: str) -> None:
    products, rules = _store()
    plan = make_plan(products, rules, PlanOptions(method=method)).plan
    assert plan.solver.method == label
    assert plan.solver.name == name


def test_a_plan_labelled_milp_is_the_milps_own_answer() -> None:
    """In ``auto`` mode the label is ``milp`` only when the MILP's plan is the one written."""
    products, rules = _store()
    auto = make_plan(products, rules, PlanOptions(method="auto")).plan
    alone = make_plan(products, rules, PlanOptions(method="milp", gap=0.0)).plan
    if auto.solver.method == "milp":
        assert auto.objective_fen == alone.objective_fen
    else:
        assert auto.solver.method == "decompose"
