"""What the business rules read of a candidate row, so that dominance keeps what a rule may need.

Pruning (:func:`pricing.optimize.candidates.build_candidates`) drops a row another row of the
same product dominates. With business rules on, row ``b`` may stand in for row ``a`` only when
every rule is at least as well served by ``b`` as by ``a``; :func:`rule_attributes` gives, per
product × row, the **class** that must be equal and the **attributes** that must be no larger:

=========================  ========================================================
rule                       what ``b`` needs against ``a``
=========================  ========================================================
item_joins_together,       joins exactly when ``a`` joins (class)
heroes as a penalty
``[[business.quota]]``     deep (joins at or below ``max_level``) whenever ``a`` is,
                           for the products in the quota's scope: ``−deep_b ≤ −deep_a``
``[[business.budget]]``    ``spend_b ≤ spend_a`` for the products of the category
``b2g1.max_products``      in B2G1 only when ``a`` is: ``b2g1_b ≤ b2g1_a``
keep_price_order           by the product's place in its price line (distinct list
                           prices of the products that can join): at the lowest list
                           price only dearer products bound it, so ``price_b ≤
                           price_a``; at the highest, ``price_b ≥ price_a``; in between
                           the price is bounded both ways, so ``price_b = price_a``
                           (class); alone at its list price, nothing
=========================  ========================================================

Each rule then holds for ``b`` wherever it holds for ``a``, so the optimum over the pruned table
is the optimum over the full one (the Pareto front on the attributes the active rules read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from models.rules import Rules

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RuleAttributes:
    """Per product × row: a class rows must share, and attributes ``b`` must not exceed."""

    classes: IntArray
    at_most: tuple[FloatArray, ...]


def rules_couple_products(rules: Rules) -> bool:
    """Whether any business rule links products' choices."""
    business = rules.business
    return (business.couples_products or rules.b2g1.max_products is not None
            or not business.heroes.hard)


def rule_attributes(
    rules: Rules,
    row_levels: tuple[Decimal, ...],
    row_joins: BoolArray,
    row_b2g1: BoolArray,
    price: IntArray,
    spend: FloatArray,
    joinable: BoolArray,
    list_price: IntArray,
    category: Sequence[str],
    price_line: Sequence[str],
) -> RuleAttributes | None:
    """The class and attributes of every row (see the module docstring); None without rules."""
    if not rules_couple_products(rules):
        return None
    business = rules.business
    count, rows = price.shape
    classes = np.broadcast_to(row_joins.astype(np.int64)[None, :], (count, rows)).copy()
    at_most: list[FloatArray] = []
    if rules.b2g1.max_products is not None:
        at_most.append(np.broadcast_to(row_b2g1.astype(np.float64)[None, :], (count, rows)))
    categories = np.asarray(category, dtype=object) if category else np.full(count, "", object)
    for quota in business.quota:
        deep = np.array([j and level <= quota.max_level
                         for j, level in zip(row_joins, row_levels, strict=True)], dtype=bool)
        scope = (np.ones(count, dtype=bool) if quota.category is None
                 else categories == quota.category)
        at_most.append(np.where(scope[:, None], -deep[None, :].astype(np.float64), 0.0))
    if business.budget:
        budgeted = np.isin(categories, [rule.category for rule in business.budget])
        at_most.append(np.where(budgeted[:, None], spend, 0.0))
    if business.keep_price_order and price_line:
        place = _line_places(list_price, joinable, price_line)
        price_f = price.astype(np.float64)
        at_most.append(np.where((place == LOWEST)[:, None], price_f,
                                np.where((place == HIGHEST)[:, None], -price_f, 0.0)))
        between = place == BETWEEN
        classes[between] += price[between] * 2
    return RuleAttributes(classes=classes, at_most=tuple(at_most))


ALONE, LOWEST, BETWEEN, HIGHEST = 0, 1, 2, 3


def _line_places(
    list_price: IntArray, joinable: BoolArray, price_line: Sequence[str]
) -> IntArray:
    """Each product's place in its price line among the products that can join: ``ALONE`` (no
    line, or one list price in it), ``LOWEST``, ``HIGHEST`` or ``BETWEEN``."""
    count = len(list_price)
    place = np.full(count, ALONE, dtype=np.int64)
    lines = np.asarray(price_line, dtype=object)
    lined = (lines != "") & joinable
    if not lined.any():
        return place
    members = np.flatnonzero(lined)
    _, line = np.unique(lines[members], return_inverse=True)
    prices = list_price[members].astype(np.float64)
    groups = int(line.max()) + 1
    low = np.full(groups, np.inf)
    high = np.full(groups, -np.inf)
    np.minimum.at(low, line, prices)
    np.maximum.at(high, line, prices)
    spread = low[line] < high[line]
    at_low = spread & (prices == low[line])
    at_high = spread & (prices == high[line])
    place[members] = np.where(at_low, LOWEST, np.where(at_high, HIGHEST,
                                                       np.where(spread, BETWEEN, ALONE)))
    return place
