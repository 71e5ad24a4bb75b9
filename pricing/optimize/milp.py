"""The plan as a mixed-integer linear program: build (never solves), solve, extract.

The model is stated once, as arrays: :func:`build_model` is a short list of named steps, one
``define_*`` function per family of variables or constraints, each with its maths in its
docstring, adding columns (bounds, integrality) and rows (coefficients by column, bounds, and a
name that says which product and rule, ``margin[SKU123,tier299-20]``, so that a binding or
infeasible rule can be explained in the merchandiser's words):

1. :func:`define_ladder`: the store's coupon ladder, ``ladder[L]``, ``one_ladder``;
2. :func:`define_choices`: one row per product, ``choose[j,r]``, ``one_level[SKU]``;
3. :func:`define_margin_safety`: no product row beside a coupon tier it cannot bear,
   ``margin[SKU,tierT-A]``;
4. :func:`define_budget`: the store's discount budget, ``budget``;
5. the business rules (``define_items_together`` … ``define_b2g1_limit``);
6. :func:`define_objective`: expected profit.

Two solvers read the same arrays: HiGHS takes them as they are (one ``passModel`` call,
:func:`highs_model`), CBC through the PuLP problem made from them (:attr:`MilpModel.problem`,
made only when asked for; this is the only module that imports PuLP).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
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
BoolArray = npt.NDArray[np.bool_]
INF = np.inf

__all__ = [
    "MilpModel", "MilpResult", "SolveStatus", "build_model", "define_b2g1_limit",
    "define_budget", "define_category_budget", "define_choices", "define_hero_penalty",
    "define_items_together", "define_ladder", "define_margin_safety", "define_objective",
    "define_price_order", "define_quota", "highs_model", "solve_model", "solve_staged",
]


def constraint_name(kind: str, *parts: object) -> str:
    """A constraint name that says which product and rule, e.g. ``margin[SKU1,tier299-20]``."""
    return f"{kind}[{','.join(str(p) for p in parts)}]"


@dataclass(frozen=True)
class ModelArrays:
    """The model as arrays: columns (bounds, integrality, cost), rows (bounds) and the matrix
    row-wise (row ``i``'s entries are ``index[start[i]:start[i+1]]``, ``value[…]``)."""

    col_lower: FloatArray
    col_upper: FloatArray
    integer: BoolArray
    cost: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    start: npt.NDArray[np.int32]  # num_row + 1
    index: npt.NDArray[np.int32]
    value: FloatArray

    @property
    def num_col(self) -> int:
        return len(self.cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)


@dataclass
class MilpModel:
    """A model being built or built, and how to read its solution back.

    Columns are numbered in the order the steps add them: the ladders, then ``choose[j,r]`` for
    the products with a choice (product by product), then the business rules' own (slacks,
    price-line tops). Rows are added in blocks, each with its names.
    """

    skus: list[str]
    fixed_rows: dict[int, int]  # product -> its only row
    active: IntArray  # products with a choice
    fixed_row: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # n: or -1
    ladder: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # its columns
    offered: list[IntArray] = field(default_factory=list)  # per store tool: ladder columns
    choose_start: int = 0  # column of the first choose[j,r]
    col_product: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # per choose
    col_row: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # per choose
    cost: FloatArray | None = None
    seconds: float = 0.0
    one_ladder_row: int = -1
    one_level_rows: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Soft rules: a slack column per rule (its name) and its penalty per unit in the objective
    penalties: dict[str, tuple[int, float]] = field(default_factory=dict)
    # Columns: per block (lower, upper, integer, names); rows: per block (names, row within the
    # block, column, coefficient, lower, upper)
    _columns: list[tuple[FloatArray, FloatArray, bool, Callable[[], list[str]]]] = field(
        default_factory=list)
    _num_col: int = 0
    _rows: list[tuple[list[str], IntArray, IntArray, FloatArray, FloatArray, FloatArray]] = field(
        default_factory=list)
    _num_row: int = 0

    @property
    def variables(self) -> int:
        """The decisions: one per product row with a choice and one per coupon ladder."""
        return len(self.col_product) + len(self.ladder)

    @property
    def constraints(self) -> int:
        return self._num_row

    @property
    def choose_columns(self) -> IntArray:
        return self.choose_start + np.arange(len(self.col_product), dtype=np.int64)

    def add_columns(
        self, count: int, lower: float | FloatArray = 0.0, upper: float | FloatArray = 1.0,
        integer: bool = True, names: Callable[[], list[str]] | None = None,
    ) -> int:
        """Add ``count`` columns (binaries unless told); returns the first one's number."""
        first = self._num_col
        self._columns.append((
            np.broadcast_to(np.asarray(lower, np.float64), (count,)),
            np.broadcast_to(np.asarray(upper, np.float64), (count,)),
            integer,
            names or (lambda: [f"x_{first + i}" for i in range(count)]),
        ))
        self._num_col += count
        return first

    def add_rows(
        self, names: list[str], row: IntArray, column: IntArray, value: FloatArray,
        lower: float | FloatArray, upper: float | FloatArray,
    ) -> None:
        """Add ``len(names)`` rows, ``lower ≤ Σ value·x[column] ≤ upper``, entries by
        ``row`` (within the block); a row with no entry is left out (always true here)."""
        if not names:
            return
        count = len(names)
        lower_array = np.broadcast_to(np.asarray(lower, np.float64), (count,))
        upper_array = np.broadcast_to(np.asarray(upper, np.float64), (count,))
        used = np.zeros(count, dtype=bool)
        used[row] = True
        if not used.all():
            renumber = np.cumsum(used) - 1
            row = renumber[row]
            names = [name for name, kept in zip(names, used.tolist(), strict=True) if kept]
            lower_array, upper_array = lower_array[used], upper_array[used]
        self._rows.append((names, np.asarray(row, np.int64), np.asarray(column, np.int64),
                           np.asarray(value, np.float64), lower_array, upper_array))
        self._num_row += len(names)

    def add_row(self, name: str, column: IntArray, value: FloatArray, lower: float,
                upper: float) -> None:
        """One row, ``lower ≤ Σ value·x[column] ≤ upper``, kept even without an entry (a rule
        the fixed products alone break makes the model infeasible, as it should)."""
        self._rows.append(([name], np.zeros(len(column), np.int64),
                           np.asarray(column, np.int64), np.asarray(value, np.float64),
                           np.array([lower], np.float64), np.array([upper], np.float64)))
        self._num_row += 1

    def entries(self, products: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """For distinct ``products``: every ``choose[j,r]`` of theirs as (position of ``j`` in
        ``products``, column, candidate row ``r``)."""
        owner = np.full(len(self.fixed_row), -1, dtype=np.int64)
        owner[products] = np.arange(len(products))
        position = owner[self.col_product]
        picked = np.flatnonzero(position >= 0)
        return position[picked], picked + self.choose_start, self.col_row[picked]

    def constants(self, products: IntArray, weights: FloatArray) -> FloatArray:
        """Per product: ``weights`` (per row, or per product and row) at its only row when it
        is fixed, 0 when it has a choice."""
        rows = self.fixed_row[products]
        fixed = rows >= 0
        out = np.zeros(len(products))
        chosen = rows[fixed]
        out[fixed] = weights[chosen] if weights.ndim == 1 else weights[products[fixed], chosen]
        return out

    def sum_over(self, members: IntArray, weights: FloatArray) -> tuple[IntArray, FloatArray,
                                                                         float]:
        """``Σ_{j ∈ members} Σ_r weights[r]·choose[j,r]`` (``weights`` per row, or per product
        and row) as columns, coefficients (zeros left out) and the fixed products' constant."""
        _, columns, rows = self.entries(members)
        values = (weights[rows] if weights.ndim == 1
                  else weights[self.col_product[columns - self.choose_start], rows])
        kept = values != 0
        return columns[kept], values[kept], float(self.constants(members, weights).sum())

    def slack(self, name: str, penalty_fen: float, whole: bool = False) -> int:
        """A soft rule's shortfall (≥ 0; ``whole``: a whole number, e.g. SKUs short), paid at
        ``penalty_fen`` per unit in the objective; returns its column."""
        number = len(self.penalties)
        column = self.add_columns(1, 0.0, INF, integer=whole,
                                  names=lambda: [f"slack_{number}"])
        self.penalties[f"{name}#{number}"] = (column, penalty_fen)
        return column

    @cached_property
    def arrays(self) -> ModelArrays:
        """The built model as arrays (the matrix row-wise)."""
        assert self.cost is not None, "define_objective has not run"
        col_lower = np.concatenate([c[0] for c in self._columns])
        col_upper = np.concatenate([c[1] for c in self._columns])
        integer = np.concatenate([np.full(len(c[0]), c[2]) for c in self._columns])
        offsets = np.cumsum([0] + [len(b[0]) for b in self._rows])
        if self._rows:
            rows = np.concatenate([b[1] + offset for b, offset in zip(self._rows, offsets,
                                                                       strict=False)])
            columns = np.concatenate([b[2] for b in self._rows])
            values = np.concatenate([b[3] for b in self._rows])
            order = np.argsort(rows, kind="stable")
            counts = np.bincount(rows, minlength=self._num_row)
        else:
            order = counts = columns = np.zeros(0, np.int64)
            values = np.zeros(0)
        start = np.zeros(self._num_row + 1, dtype=np.int32)
        np.cumsum(counts, out=start[1:])
        return ModelArrays(
            col_lower=col_lower, col_upper=col_upper, integer=integer, cost=self.cost,
            row_lower=np.concatenate([b[4] for b in self._rows]) if self._rows else np.zeros(0),
            row_upper=np.concatenate([b[5] for b in self._rows]) if self._rows else np.zeros(0),
            start=start, index=columns[order].astype(np.int32), value=values[order],
        )

    @property
    def row_names(self) -> list[str]:
        return [name for block in self._rows for name in block[0]]

    @cached_property
    def _pulp(self) -> tuple[pulp.LpProblem, list[pulp.LpVariable], dict[str, str]]:
        """The PuLP problem made from the arrays (for CBC), its variables by column, and each
        constraint's readable name by PuLP's (which rewrites ``[``, ``]``, ``-`` and spaces)."""
        arrays = self.arrays
        problem = pulp.LpProblem("price_opt_plan", pulp.LpMinimize)
        variables: list[pulp.LpVariable] = []
        for lower, upper, integer, names in self._columns:
            category = pulp.LpInteger if integer else pulp.LpContinuous
            for name, low, up in zip(names(), lower.tolist(), upper.tolist(), strict=True):
                variables.append(problem.add_variable(
                    name, lowBound=low, upBound=None if up == INF else up, cat=category))
        labels: dict[str, str] = {}
        seen: dict[str, int] = {}
        index, value, start = arrays.index.tolist(), arrays.value.tolist(), arrays.start.tolist()
        for i, name in enumerate(self.row_names):
            if name in seen:  # a repeated name (two identical rules) gets "#2"
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            seen[name] = 1
            expression = pulp.LpAffineExpression(
                [(variables[c], v) for c, v in zip(index[start[i]:start[i + 1]],
                                                   value[start[i]:start[i + 1]], strict=True)])
            least, most = float(arrays.row_lower[i]), float(arrays.row_upper[i])
            if least == most:
                constraint = pulp.LpConstraint(expression, pulp.LpConstraintEQ, rhs=least)
            elif most == INF:
                constraint = pulp.LpConstraint(expression, pulp.LpConstraintGE, rhs=least)
            else:
                constraint = pulp.LpConstraint(expression, pulp.LpConstraintLE, rhs=most)
            problem.addConstraint(constraint, name)
            labels[constraint.name] = name
        problem.setObjective(pulp.LpAffineExpression(
            [(variables[c], v) for c, v in enumerate(arrays.cost.tolist()) if v]))
        return problem, variables, labels

    @property
    def problem(self) -> pulp.LpProblem:
        """The PuLP problem (made on first use)."""
        return self._pulp[0]

    @property
    def labels(self) -> dict[str, str]:
        """PuLP's constraint name -> its readable name."""
        return self._pulp[2]


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
    fixed_row = np.full(table.size, -1, dtype=np.int64)
    fixed_row[fixed] = only_row
    return MilpModel(
        skus=skus,
        fixed_rows=dict(zip(fixed.tolist(), only_row.tolist(), strict=True)),
        active=active,
        fixed_row=fixed_row,
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
    count = len(ladders.members)
    first = model.add_columns(count, names=lambda: [f"ladder_{i}" for i in range(count)])
    model.ladder = first + np.arange(count, dtype=np.int64)
    offered: list[list[int]] = [[] for _ in candidates]
    for index, members in enumerate(ladders.members):
        for k in members:
            offered[k].append(first + index)
    model.offered = [np.array(columns, dtype=np.int64) for columns in offered]
    model.one_ladder_row = model._num_row
    model.add_row("one_ladder", model.ladder, np.ones(count), 1.0, 1.0)


def define_choices(model: MilpModel, table: CandidateTable) -> None:
    """One row (a level, with or without buy-two-get-one, or out) per product with a choice::

        choose[j,r] ∈ {0,1},    Σ_{r valid} choose[j,r] = 1              one_level[SKU]
    """
    position, rows = np.nonzero(table.valid[model.active])
    model.col_product = model.active[position]
    model.col_row = rows.astype(np.int64)
    products, candidate_rows = model.col_product, model.col_row
    model.choose_start = model.add_columns(
        len(rows), names=lambda: [f"choose_{j}_{r}" for j, r in
                                  zip(products.tolist(), candidate_rows.tolist(), strict=True)])
    model.one_level_rows = model._num_row + np.arange(len(model.active), dtype=np.int64)
    model.add_rows([constraint_name("one_level", model.skus[j]) for j in model.active.tolist()],
                   position, model.choose_columns, np.ones(len(rows)), 1.0, 1.0)


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
            if mask >> k & 1 and k not in blocked and len(model.offered[k]):
                blocked.add(k)
                offered = model.offered[k]
                model.add_row(constraint_name("margin", model.skus[j], _tool_name(tier)),
                              offered, np.ones(len(offered)), -INF, 0.0)
        if len(blocked) == len(candidates):
            break
    masks = table.unsafe[model.col_product, model.col_row]
    # Per (product, tool) a row, product by product: row keys, then the entries.
    keys: list[IntArray] = []
    tools: list[IntArray] = []
    for k in range(len(candidates)):
        if k in blocked or not len(model.offered[k]):
            continue
        unsafe = np.flatnonzero(masks & (1 << k))
        if len(unsafe):
            keys.append(np.unique(model.col_product[unsafe]))
            tools.append(np.full(len(keys[-1]), k, dtype=np.int64))
    if not keys:
        return
    product = np.concatenate(keys)
    tool = np.concatenate(tools)
    order = np.lexsort((tool, product))
    product, tool = product[order], tool[order]
    rows: list[IntArray] = []
    columns: list[IntArray] = []
    for k in np.unique(tool).tolist():
        unsafe = np.flatnonzero(masks & (1 << k))
        mine = np.flatnonzero(tool == k)
        lookup = np.full(table.size, -1, dtype=np.int64)
        lookup[product[mine]] = mine
        rows.append(lookup[model.col_product[unsafe]])
        columns.append(unsafe + model.choose_start)
        offered = model.offered[k]
        rows.append(np.repeat(mine, len(offered)))
        columns.append(np.tile(offered, len(mine)))
    row = np.concatenate(rows)
    model.add_rows(
        [constraint_name("margin", model.skus[j], _tool_name(candidates[k]))
         for j, k in zip(product.tolist(), tool.tolist(), strict=True)],
        row, np.concatenate(columns), np.ones(len(row)), -INF, 1.0)


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
    columns = np.concatenate([model.choose_columns, model.ladder])
    values = np.concatenate([table.spend[model.col_product, model.col_row], ladders.spend])
    model.add_row("budget", columns, values, -INF, budget_fen - fixed_spend)


def _with_rows(table: CandidateTable) -> BoolArray:
    return np.asarray(table.valid.any(axis=1))


def _groups(labels: Sequence[str], members: IntArray) -> tuple[IntArray, list[str]]:
    """Per member a group number by its label (numbered by first appearance), and the labels."""
    names, first, group = np.unique(np.array([labels[j] for j in members.tolist()], dtype=object),
                                    return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[group.ravel()].astype(np.int64), [str(names[i]) for i in order.tolist()]


def define_items_together(
    model: MilpModel, table: CandidateTable, products: Sequence[Product]
) -> None:
    """SKUs sharing an item_id join or stay out together (the platform signs up items)::

        join[j] = join[first SKU of the item]          item_together[ITEM,SKU]

    with ``join[j] = Σ_{r joins} choose[j,r]``.
    """
    joins = table.row_joins.astype(np.float64)
    members = np.flatnonzero(_with_rows(table))
    if not len(members):
        return
    group, items = _groups([p.item_id for p in products], members)
    first_of = np.full(len(items), len(products), dtype=np.int64)
    np.minimum.at(first_of, group, members)  # the first SKU of each item
    first = first_of[group]
    others = members != first
    member, first = members[others], first[others]
    constant_member = model.constants(member, joins)
    constant_first = model.constants(first, joins)
    # Two constants are equal (the candidate table keeps whole items): no row.
    kept = (model.fixed_row[member] < 0) | (model.fixed_row[first] < 0)
    member, first = member[kept], first[kept]
    rhs = constant_first[kept] - constant_member[kept]
    if not len(member):
        return
    position, columns, rows = model.entries(member)
    own = joins[rows] != 0
    # The first SKU's join columns, once per other member of its item.
    firsts, first_position = np.unique(first, return_inverse=True)
    first_slot, first_columns, first_rows = model.entries(firsts)
    first_joins = joins[first_rows] != 0
    first_slot, first_columns = first_slot[first_joins], first_columns[first_joins]
    per_first = np.argsort(first_position, kind="stable")  # rows grouped by their first SKU
    counts = np.bincount(first_position, minlength=len(firsts))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    repeat = counts[first_slot]
    offsets = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    against_rows = per_first[np.repeat(starts[first_slot], repeat) + offsets]
    row = np.concatenate([position[own], against_rows])
    column = np.concatenate([columns[own], np.repeat(first_columns, repeat)])
    value = np.concatenate([np.ones(int(own.sum())), -np.ones(len(against_rows))])
    item_of = np.empty(len(products), dtype=object)
    item_of[members] = [items[g] for g in group.tolist()]
    model.add_rows([constraint_name("item_together", item_of[j], products[j].sku)
                    for j in member.tolist()], row, column, value, rhs, rhs)


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
    members = np.array([j for j in np.flatnonzero(_with_rows(table)).tolist()
                        if products[j].price_line], dtype=np.int64)
    if not len(members):
        return
    line, line_names = _groups([p.price_line or "" for p in products], members)
    list_price = np.array([products[j].list_price_fen for j in members.tolist()], np.int64)
    order = np.lexsort((members, list_price, line))
    members, line, list_price = members[order], line[order], list_price[order]
    # Levels: the distinct (line, list price); k their rank within the line, K the line's count.
    new_level = np.concatenate([[True], (line[1:] != line[:-1])
                                | (list_price[1:] != list_price[:-1])])
    level = np.cumsum(new_level) - 1
    level_line, level_price = line[new_level], list_price[new_level].astype(np.float64)
    new_line = np.concatenate([[True], level_line[1:] != level_line[:-1]])
    line_first = np.flatnonzero(new_line)
    line_position = np.cumsum(new_line) - 1
    rank = np.arange(len(level_line)) - line_first[line_position]
    size = np.diff(np.concatenate([line_first, [len(level_line)]]))[line_position]
    has_top = rank < size - 1  # the dearest list price bounds nothing above it
    top_levels = np.flatnonzero(has_top)
    first_top = model.add_columns(len(top_levels), 0.0, level_price[top_levels], integer=False,
                                  names=lambda: [f"top_{i}" for i in top_levels.tolist()])
    top = np.full(len(level_line), -1, dtype=np.int64)
    top[top_levels] = first_top + np.arange(len(top_levels))
    joins = table.row_joins
    # top[k] ≥ top[k−1]
    chain = np.flatnonzero(has_top & (rank >= 1))
    count = len(chain)
    model.add_rows(
        [constraint_name("price_order", line_names[level_line[i]], f"top{rank[i]}")
         for i in chain.tolist()],
        np.repeat(np.arange(count), 2), np.stack([top[chain], top[chain - 1]], 1).ravel(),
        np.tile([1.0, -1.0], count), 0.0, INF)
    # top[k] ≥ Σ_{r joins} price·choose[a,r] (a listed at L_k, k < K)
    below = members[has_top[level]]
    below_level = level[has_top[level]]
    prices = np.where(joins, table.price, 0).astype(np.float64)  # n × R
    position, columns, rows = model.entries(below)
    values = prices[below[position], rows]
    kept = values != 0
    count = len(below)
    model.add_rows(
        [constraint_name("price_order", line_names[level_line[i]], f"{products[j].sku}≤top")
         for j, i in zip(below.tolist(), below_level.tolist(), strict=True)],
        np.concatenate([np.arange(count), position[kept]]),
        np.concatenate([top[below_level], columns[kept]]),
        np.concatenate([np.ones(count), -values[kept]]),
        model.constants(below, prices), INF)
    # Σ_r (price if joins else L_{k−1})·choose[b,r] ≥ top[k−1] (b listed at L_k, k ≥ 1)
    above = members[rank[level] >= 1]
    above_level = level[rank[level] >= 1]
    floor = level_price[above_level - 1]
    weights = np.where(joins[None, :], table.price[above].astype(np.float64), floor[:, None])
    position, columns, rows = model.entries(above)
    values = weights[position, rows]
    kept = values != 0
    count = len(above)
    fixed = model.fixed_row[above]
    constant = np.where(fixed >= 0, weights[np.arange(count), np.maximum(fixed, 0)], 0.0)
    model.add_rows(
        [constraint_name("price_order", line_names[level_line[i]], products[j].sku)
         for j, i in zip(above.tolist(), above_level.tolist(), strict=True)],
        np.concatenate([np.arange(count), position[kept]]),
        np.concatenate([top[above_level - 1], columns[kept]]),
        np.concatenate([-np.ones(count), values[kept]]),
        -constant, INF)


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
        columns, values, constant = model.sum_over(np.array([j]), out)
        model.add_row(constraint_name("heroes", product.sku),
                      np.append(columns, slack), np.append(values, -1.0), -INF, -constant)


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
    members = np.array([j for j in np.flatnonzero(_with_rows(table)).tolist()
                        if _in_scope(products[j], quota.category)], dtype=np.int64)
    columns, values, constant = model.sum_over(members, deep - share * joins)
    if not quota.priority.hard:
        slack = model.slack(quota.name, float(quota.priority.penalty_fen), whole=True)
        columns, values = np.append(columns, slack), np.append(values, 1.0)
    model.add_row(quota.name, columns, values, -constant, INF)


def define_category_budget(
    model: MilpModel, table: CandidateTable, products: Sequence[Product], rule: BudgetRule
) -> None:
    """A category's expected discount spend stays within its budget::

        Σ_{j in category} spend[j,r]·choose[j,r] − slack ≤ amount          budget[CAT]

    ``slack`` (fen over) is 0 for a hard budget, else paid at the penalty per yuan over.
    """
    members = np.array([j for j in np.flatnonzero(_with_rows(table)).tolist()
                        if products[j].category == rule.category], dtype=np.int64)
    columns, values, constant = model.sum_over(members, table.spend)
    if not rule.priority.hard:
        slack = model.slack(rule.name, rule.priority.penalty_fen / 100.0)
        columns, values = np.append(columns, slack), np.append(values, -1.0)
    model.add_row(rule.name, columns, values, -INF, rule.amount_fen - constant)


def define_b2g1_limit(model: MilpModel, table: CandidateTable, max_products: int) -> None:
    """At most ``max_products`` products in buy-two-get-one::

        Σ_j Σ_{r in B2G1} choose[j,r] ≤ max_products                        b2g1_max_products
    """
    in_b2g1 = table.row_b2g1.astype(np.float64)
    if not in_b2g1.any():
        return
    columns, values, constant = model.sum_over(np.flatnonzero(_with_rows(table)), in_b2g1)
    model.add_row("b2g1_max_products", columns, values, -INF, max_products - constant)


def define_objective(model: MilpModel, table: CandidateTable, ladders: Ladders) -> None:
    """Maximise expected profit, stated as the minimisation of its negative (CBC ignores a warm
    start on a maximisation)::

        min −( Σ_{j,r} profit[j,r]·choose[j,r] + Σ_L value(L)·ladder[L] ) + Σ_s penalty_s·s

    (the fixed products' profit is a constant and is left out).
    """
    cost = np.zeros(model._num_col)
    cost[model.choose_columns] = -table.profit[model.col_product, model.col_row]
    cost[model.ladder] = -np.asarray(ladders.value, dtype=np.float64)
    for column, penalty in model.penalties.values():
        cost[column] = penalty
    model.cost = cost


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
    model.arrays  # noqa: B018 - the matrix, assembled once
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
    """Solve with CBC (bundled with PuLP, through the PuLP problem) or HiGHS (the arrays
    handed over directly); read the plan back when there is one.

    The returned selection carries the solver's proven bound on expected profit: the best
    possible objective it reports (CBC's log, HiGHS' dual bound), or, when the solver proves
    optimality within ``gap`` without reporting it, the plan's objective plus that gap.
    """
    start = None if warm_start is None else _start_values(model, warm_start)
    started = time.perf_counter()
    if solver == "highs":
        highs = highs_model(model, integer=True)
        highs.setOptionValue("mip_rel_gap", gap)
        if time_limit is not None:
            highs.setOptionValue("time_limit", float(time_limit))
        if start is not None:
            _set_start(highs, start)
        highs.run()
        seconds = time.perf_counter() - started
        outcome = _highs_outcome(highs)
    elif solver == "cbc":
        outcome = _solve_cbc(model, time_limit, gap, start)
        seconds = time.perf_counter() - started
    else:
        raise ValueError(f"unknown solver {solver!r}")
    status, status_text, values, best_possible = outcome
    if status in (SolveStatus.INFEASIBLE, SolveStatus.NO_SOLUTION) or values is None:
        return MilpResult(status, status_text, None, seconds, None)
    selection = _extract(model, table, ladders, values)
    if selection is None:
        return MilpResult(SolveStatus.NO_SOLUTION, status_text, None, seconds, None)
    # The model minimises −(profit − constants); a bound b on it is a bound
    # profit ≤ objective + (model objective − b).
    model_objective = float(model.arrays.cost @ values)
    if best_possible is not None:
        bound = selection.objective + max(0.0, model_objective - best_possible)
    elif status is SolveStatus.OPTIMAL:
        bound = selection.objective + gap * max(abs(model_objective), 1.0)
    else:
        bound = np.inf
    selection = selection.with_bound(bound)
    return MilpResult(status, status_text, selection, seconds, selection.gap)


Outcome = tuple[SolveStatus, str, FloatArray | None, float | None]


def _solve_cbc(
    model: MilpModel, time_limit: float | None, gap: float, start: FloatArray | None
) -> Outcome:
    """CBC on the PuLP problem: its status, the column values and its best possible value."""
    problem, variables, _ = model._pulp
    if start is not None:
        for variable, value in zip(variables, start.tolist(), strict=True):
            variable.setInitialValue(value)
    with tempfile.TemporaryDirectory(prefix="price-opt-cbc-") as folder:
        log_path = Path(folder) / "cbc.log"
        # CBC's integer preprocessing can cut off the optimum: on a four-product knapsack
        # (tests/test_optimize_parts.py, the MILP-alone brute force) it proved 2 "optimal"
        # where 3 is feasible; with it off CBC and HiGHS agree with the brute force.
        command = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, gapRel=gap, warmStart=start is not None,
            logPath=str(log_path), options=["preprocess off"],
        )
        try:
            problem.solve(command)
        except pulp.PulpSolverError as error:  # a crashed or missing solver binary
            raise SolverError(f"the cbc solver failed: {error}") from None
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
    status_text = pulp.LpStatus.get(problem.status, str(problem.status))
    if problem.status == pulp.LpStatusInfeasible:
        return SolveStatus.INFEASIBLE, status_text, None, None
    solution = problem.sol_status
    if solution not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return SolveStatus.NO_SOLUTION, status_text, None, None
    values = np.array([v.varValue or 0.0 for v in variables], dtype=np.float64)
    status = (SolveStatus.OPTIMAL if solution == pulp.LpSolutionOptimal
              else SolveStatus.FEASIBLE)
    return status, status_text, values, _cbc_best_possible(log)


def _highs_outcome(highs: Any) -> Outcome:
    """HiGHS' status, the column values (when it has a plan) and its dual bound."""
    import highspy

    model_status = highs.getModelStatus()
    status_text = highs.modelStatusToString(model_status)
    # Every column is bounded or costs something: "infeasible or unbounded" is infeasible.
    if model_status in (highspy.HighsModelStatus.kInfeasible,
                        highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return SolveStatus.INFEASIBLE, status_text, None, None
    solution = highs.getSolution()
    if not solution.value_valid:
        return SolveStatus.NO_SOLUTION, status_text, None, None
    status = (SolveStatus.OPTIMAL if model_status == highspy.HighsModelStatus.kOptimal
              else SolveStatus.FEASIBLE)
    values = np.asarray(solution.col_value, dtype=np.float64)
    return status, status_text, values, float(highs.getInfo().mip_dual_bound)


_CBC_BEST_POSSIBLE = re.compile(r"best possible (-?[0-9.eE+-]+)")
_CBC_LOWER_BOUND = re.compile(r"Lower bound:\s+(-?[0-9.eE+-]+)")


def _cbc_best_possible(log: str) -> float | None:
    """CBC's best possible (least) value of the minimised objective, when its log reports it."""
    found = _CBC_BEST_POSSIBLE.findall(log) or _CBC_LOWER_BOUND.findall(log)
    if not found:
        return None
    try:
        return float(found[-1])
    except ValueError:
        return None


def _start_values(model: MilpModel, start: Selection) -> FloatArray:
    """The column values of a plan: its rows and its ladder (slacks and tops left at 0)."""
    values = np.zeros(model.arrays.num_col)
    values[model.choose_columns] = start.rows[model.col_product] == model.col_row
    values[model.ladder[start.ladder]] = 1.0
    return values


def _extract(
    model: MilpModel, table: CandidateTable, ladders: Ladders, values: FloatArray
) -> Selection | None:
    rows = model.fixed_row.copy()
    picked = np.flatnonzero(values[model.choose_columns] > 0.5)
    rows[model.col_product[picked]] = model.col_row[picked]
    chosen = np.flatnonzero(values[model.ladder] > 0.5)
    included = table.valid.any(axis=1)
    if (rows[included] < 0).any() or len(chosen) != 1:
        return None
    ladder = int(chosen[0])
    profit, spend = selection_totals(table, ladders, ladder, rows)
    # Soft rules: the objective the model maximised is the profit less the penalties paid.
    penalties = sum(penalty * float(values[column])
                    for column, penalty in model.penalties.values())
    return Selection(ladder=ladder, rows=rows, objective=profit - penalties, spend=spend,
                     bound=np.inf)


def _quiet_highs() -> Any:
    """A new ``highspy.Highs``; the first one of a process prints a banner on the C stdout,
    which the CLI's output must not carry, so it is made with that stream pointed away."""
    import highspy

    stdout = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(stdout, 1)
        os.close(stdout)
    highs.setOptionValue("output_flag", False)
    return highs


def highs_model(model: MilpModel, integer: bool = True) -> Any:
    """A quiet ``highspy.Highs`` holding the model's arrays (one ``passModel`` call, the matrix
    row-wise); ``integer=False``: its LP relaxation (integrality can be set later)."""
    import highspy

    arrays = model.arrays
    highs = _quiet_highs()
    integrality = (arrays.integer if integer else np.zeros(arrays.num_col, bool)).astype(np.int32)
    status = highs.passModel(
        arrays.num_col, arrays.num_row, len(arrays.index), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0, arrays.cost, arrays.col_lower, arrays.col_upper,
        arrays.row_lower, arrays.row_upper, arrays.start[:-1], arrays.index, arrays.value,
        integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (a bug in the model's arrays)")
    return highs


def _set_start(highs: Any, values: FloatArray) -> None:
    """Give HiGHS a start (a plan meeting every rule), a value per column."""
    import highspy

    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(values, dtype=np.float64).tolist()
    highs.setSolution(solution)


FRACTIONAL = 1e-6
LP_OPTIONS: dict[str, Any] = {"presolve": "off", "simplex_scale_strategy": 4}


def _most_profitable_basis(model: MilpModel) -> Any:
    """A dual feasible starting basis for the LP relaxation: in each ``one_level[SKU]`` row the
    product's most profitable row is basic, in ``one_ladder`` the most valuable ladder, and every
    other row's own slack (every other column at its lower bound).

    Each of those rows then holds exactly one basic column, with coefficient 1, and every other
    row its slack, so the basis is nonsingular (triangular); its duals are the basic costs, so
    every reduced cost is a row's cost less its product's least (or the ladder's), never
    negative: the dual simplex starts dual feasible with every product placed, and has only the
    rules' and the margins' rows left to repair (a third of the iterations from HiGHS' own
    slack basis at 10k SKUs).
    """
    import highspy

    arrays = model.arrays
    columns = model.choose_columns
    cost = arrays.cost[columns]
    # Choose columns are product by product: each product's least cost, its first such column.
    first = np.flatnonzero(np.diff(model.col_product, prepend=-1))
    least = np.minimum.reduceat(cost, first) if len(cost) else cost
    owner = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(cost))))
    at_least = np.flatnonzero(cost <= least[owner])
    _, first_at_least = np.unique(owner[at_least], return_index=True)
    basic = [columns[at_least[first_at_least]],
             model.ladder[[int(np.argmin(arrays.cost[model.ladder]))]]]
    lower, is_basic = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kBasic)
    col_status = np.full(arrays.num_col, lower, dtype=np.int64)
    col_status[np.concatenate(basic)] = is_basic
    row_status = np.full(arrays.num_row, is_basic, dtype=np.int64)
    row_status[model.one_level_rows] = lower
    row_status[model.one_ladder_row] = lower
    statuses = [highspy.HighsBasisStatus(code) for code in (0, 1, 2)]
    basis = highspy.HighsBasis()
    basis.col_status = [statuses[code] for code in col_status.tolist()]
    basis.row_status = [statuses[code] for code in row_status.tolist()]
    return basis


def solve_staged(
    model: MilpModel,
    table: CandidateTable,
    ladders: Ladders,
    products: Sequence[Product],
    solver: str = "highs",
    time_limit: float | None = None,
    gap: float = 1e-3,
) -> MilpResult:
    """Solve the MILP in stages, each on the same model (the business rules couple products,
    so the model is large; most of its choices are settled by its LP relaxation):

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
    highs = highs_model(model, integer=False)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    # The dual simplex without presolve and with HiGHS' scaling for badly scaled models (fen
    # amounts beside 0/1 choices), from a basis that already settles every product's row.
    for option, value in LP_OPTIONS.items():
        highs.setOptionValue(option, value)
    highs.setBasis(_most_profitable_basis(model))
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return MilpResult(SolveStatus.INFEASIBLE, "Infeasible", None,
                          time.perf_counter() - started, None, "highs", "LP relaxation")
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return _solve_whole(model, table, ladders, solver, time_limit, gap, None, started,
                            "the LP relaxation did not finish")
    lp_bound = float(highs.getInfo().objective_function_value)  # least of the minimised
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)

    index = model.choose_columns.astype(np.int32)
    product = model.col_product
    fractional_value = np.minimum(values[index], 1.0 - values[index]) > FRACTIONAL
    fractional = np.zeros(table.size, dtype=bool)
    fractional[product[fractional_value]] = True
    ladder_index = model.ladder.astype(np.int32)
    ladder_values = values[ladder_index]
    ladder_integral = bool((np.minimum(ladder_values, 1 - ladder_values) <= FRACTIONAL).all())
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
        stage = (f"LP relaxation bound; MILP on {int(free_products.sum())} products ({which})"
                 f"{'' if ladder_integral else ' and the coupon ladder'}, the others fixed at"
                 " the LP's rows")
        restricted = _restricted_highs(model, fixed, fixed_values)
        if restricted is None:  # a row of fixed products alone is broken
            continue
        sub, free = restricted
        # A tenth of the gap asked for: the rest is left for the distance between the LP's
        # bound and the restricted MILP's optimum (half the gap left plans 0.01% short).
        sub.setOptionValue("mip_rel_gap", gap / 10)
        if best is not None:  # the plan of the narrower attempt is a plan here too
            _set_start(sub, best[1][free])
        if time_limit is not None:
            sub.setOptionValue("time_limit",
                               max(1.0, time_limit - (time.perf_counter() - started)))
        sub.run()
        solution = sub.getSolution()
        if not solution.value_valid:
            continue
        values = np.zeros(model.arrays.num_col)
        values[fixed] = fixed_values
        values[free] = solution.col_value
        incumbent = float(sub.getInfo().objective_function_value)
        if best is not None and incumbent >= best[2]:
            continue
        found = _extract(model, table, ladders, values)
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
    # Stage 3: the whole MILP, from this plan.
    if solver != "highs":
        return _solve_whole(model, table, ladders, solver, time_limit, gap, selection, started,
                            stage)
    integer = np.flatnonzero(model.arrays.integer).astype(np.int32)
    highs.changeColsIntegrality(
        len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
    )
    highs.setOptionValue("presolve", "choose")
    _set_start(highs, values)
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
        better = _extract(model, table, ladders, values)
        if better is not None:
            bound = min(selection.bound, better.objective + max(0.0, incumbent - dual))
            selection = better
    selection = selection.with_bound(bound)
    status = SolveStatus.OPTIMAL if selection.gap <= gap else SolveStatus.FEASIBLE
    return MilpResult(status, highs.modelStatusToString(highs.getModelStatus()), selection,
                      time.perf_counter() - started, selection.gap, "highs", detail)


def _restricted_highs(
    model: MilpModel, fixed: npt.NDArray[np.int32], fixed_values: FloatArray
) -> tuple[Any, IntArray] | None:
    """The MILP with the columns ``fixed`` held at ``fixed_values``, as a HiGHS model over the
    other columns only: each row's bounds less what the fixed columns contribute, a row without
    a free column left out (None when such a row is broken: no plan with these columns fixed).
    Also returns the free columns, in order; the objective keeps the fixed columns' cost as an
    offset, so it is the whole model's."""
    import highspy

    arrays = model.arrays
    is_fixed = np.zeros(arrays.num_col, dtype=bool)
    is_fixed[fixed] = True
    value = np.zeros(arrays.num_col)
    value[fixed] = fixed_values
    entry_row = np.repeat(np.arange(arrays.num_row), np.diff(arrays.start))
    entry_fixed = is_fixed[arrays.index]
    activity = np.bincount(entry_row[entry_fixed],
                           weights=arrays.value[entry_fixed] * value[arrays.index[entry_fixed]],
                           minlength=arrays.num_row)
    lower, upper = arrays.row_lower - activity, arrays.row_upper - activity
    free_entry = ~entry_fixed
    per_row = np.bincount(entry_row[free_entry], minlength=arrays.num_row)
    closed = per_row == 0
    slack = 1e-6 * np.maximum(1.0, np.abs(activity[closed]))
    if (lower[closed] > slack).any() or (upper[closed] < -slack).any():
        return None
    free = np.flatnonzero(~is_fixed)
    renumber = np.full(arrays.num_col, -1, dtype=np.int32)
    renumber[free] = np.arange(len(free), dtype=np.int32)
    kept = ~closed
    start = np.zeros(int(kept.sum()) + 1, dtype=np.int32)
    np.cumsum(per_row[kept], out=start[1:])
    highs = _quiet_highs()
    status = highs.passModel(
        len(free), int(kept.sum()), int(start[-1]), int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), float(arrays.cost[fixed] @ fixed_values),
        arrays.cost[free], arrays.col_lower[free], arrays.col_upper[free], lower[kept],
        upper[kept], start[:-1], renumber[arrays.index[free_entry]],
        arrays.value[free_entry], arrays.integer[free].astype(np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the restricted model (a bug in the model's arrays)")
    return highs, free


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
