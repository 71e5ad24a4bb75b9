"""The business rules judged on a chosen plan: which are broken (and by how much), which bind.

The MILP states each rule as a family of constraints (:mod:`pricing.optimize.milp`); this module
reads a solution back in the merchandiser's terms, exactly, from the chosen rows alone, so a
plan's ``violations`` and ``binding_rules`` never depend on the solver's tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from models.money import format_yuan
from models.plan import Violation
from models.product import Product, Role
from models.rules import Rules
from pricing.optimize.candidates import CandidateTable

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RuleReport:
    """Soft rules broken (with their penalties), hard rules broken (a bug or an infeasible
    model relaxed on purpose), and the rules whose limit the plan reaches."""

    violations: tuple[Violation, ...]
    hard_broken: tuple[Violation, ...]
    binding: tuple[str, ...]


def couples_products(rules: Rules) -> bool:
    """Whether the business rules link products' choices (then the MILP decides)."""
    return (
        rules.business.couples_products
        or rules.b2g1.max_products is not None
        or not rules.business.heroes.hard
    )


def judge_rules(
    products: Sequence[Product], table: CandidateTable, rows: IntArray, rules: Rules
) -> RuleReport:
    """Every business rule, judged on the rows chosen (``-1``: no row, out of the plan)."""
    business = rules.business
    picked = np.flatnonzero(rows >= 0)
    joins = np.zeros(len(products), dtype=bool)
    joins[picked] = table.row_joins[rows[picked]]
    levels = [table.levels[r] if r >= 0 else None for r in rows.tolist()]
    broken: list[tuple[bool, Violation]] = []
    binding: list[str] = []

    if business.item_joins_together:
        items: dict[str, set[bool]] = {}
        for j, product in enumerate(products):
            if rows[j] >= 0:
                items.setdefault(product.item_id, set()).add(bool(joins[j]))
        split = [item for item, states in items.items() if len(states) > 1]
        if split:
            broken.append((True, Violation(
                rule="item_joins_together", products=tuple(split), by=f"{len(split)} items",
                penalty_fen=0, message="SKUs of one item do not all join or stay out"),
            ))
    if business.keep_price_order:
        inversions = _price_inversions(products, table, rows)
        if inversions:
            broken.append((True, Violation(
                rule="keep_price_order", products=tuple(inversions),
                by=f"{len(inversions) // 2} pairs", penalty_fen=0,
                message="a dearer product of a price line sells below a cheaper one"),
            ))
    heroes_out = [p.sku for j, p in enumerate(products)
                  if p.role is Role.HERO and table.joinable[j] and not joins[j]]
    if heroes_out:
        priority = business.heroes
        broken.append((priority.hard, Violation(
            rule="heroes", products=tuple(heroes_out), by=f"{len(heroes_out)} SKUs",
            penalty_fen=priority.penalty_fen * len(heroes_out),
            message=f"{len(heroes_out)} hero product(s) that could join stay out"),
        ))
    for quota in business.quota:
        scope = [j for j, p in enumerate(products)
                 if quota.category is None or p.category == quota.category]
        joining = [j for j in scope if joins[j]]
        deep = [j for j in joining if _at_or_below(levels[j], quota.max_level)]
        needed = Fraction(quota.min_share) * len(joining)
        short = math.ceil(needed - len(deep)) if len(deep) < needed else 0
        if short > 0:
            broken.append((quota.priority.hard, Violation(
                rule=quota.name, products=tuple(products[j].sku for j in joining
                                                if j not in deep)[:50],
                by=f"{short} SKUs", penalty_fen=quota.priority.penalty_fen * short,
                message=(f"{len(deep)} of {len(joining)} joining SKUs in scope at or below"
                         f" {quota.max_level} of list price; {quota.min_share:%} needed"),
            )))
        elif joining and len(deep) - needed < 1:
            binding.append(quota.name)
    for rule in business.budget:
        in_category = [j for j, p in enumerate(products)
                       if p.category == rule.category and rows[j] >= 0]
        spend = float(sum(table.spend[j, rows[j]] for j in in_category))
        over = math.ceil(spend - rule.amount_fen) if spend > rule.amount_fen + 0.5 else 0
        if over > 0:
            broken.append((rule.priority.hard, Violation(
                rule=rule.name, products=tuple(products[j].sku for j in in_category)[:50],
                by=f"¥{format_yuan(over)}", penalty_fen=math.ceil(rule.priority.penalty_fen
                                                                 * over / 100),
                message=(f"expected discount spend ¥{format_yuan(round(spend))} against a budget"
                         f" of ¥{format_yuan(rule.amount_fen)}"),
            )))
        elif in_category and spend >= rule.amount_fen * 0.999:
            binding.append(rule.name)
    limit = rules.b2g1.max_products
    if limit is not None:
        members = int(sum(bool(table.row_b2g1[rows[j]]) for j in picked))
        if members > limit:
            broken.append((True, Violation(
                rule="b2g1.max_products", by=f"{members - limit} products", penalty_fen=0,
                message=f"{members} products in buy-two-get-one, at most {limit} allowed")))
        elif members == limit and limit > 0:
            binding.append("b2g1.max_products")
    return RuleReport(
        violations=tuple(v for hard, v in broken if not hard),
        hard_broken=tuple(v for hard, v in broken if hard),
        binding=tuple(binding),
    )


def _at_or_below(level: Decimal | None, max_level: Decimal) -> bool:
    return level is not None and level <= max_level


def _price_inversions(
    products: Sequence[Product], table: CandidateTable, rows: IntArray
) -> list[str]:
    """SKUs of pairs of joining products in one price line whose activity prices invert their
    list prices."""
    lines: dict[str, list[int]] = {}
    for j, product in enumerate(products):
        if product.price_line and rows[j] >= 0 and table.row_joins[rows[j]]:
            lines.setdefault(product.price_line, []).append(j)
    found: list[str] = []
    for members in lines.values():
        for a in members:
            for b in members:
                if (products[a].list_price_fen < products[b].list_price_fen
                        and table.price[a, rows[a]] > table.price[b, rows[b]]):
                    found += [products[a].sku, products[b].sku]
    return found
