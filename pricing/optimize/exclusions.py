"""Products no plan can bring into the event, and by how much they miss.

Every product gets a decision. A product stays out of the event (and is named in the plan's
``excluded``) when no level of the ladder is both signed up and safe without any coupon:

* ``loses_at_everyday_price``: a one-unit order at the everyday price already loses money, with
  no discount at all (free shipping, commission and handling eat the margin). No plan can fix
  that; the product is outside the no-loss guarantee, and ``validate`` warns about it: "raise the
  price by ¥x or stop free shipping";
* ``item_cannot_join``: with ``[business] item_joins_together``, another SKU of its item cannot
  join (for one of the two reasons here), so the whole item stays out;
* ``no_safe_signup_price``: the highest price that meets the sign-up rules is below the least
  price a unit needs once the event's discounts apply (or no ladder level lies in between).

The break-even price of a one-unit order with no coupon, at single-item price ``p``, solves::

    (1 − c)·p·(1 − o − Y/X) − cost − handling − shipping − 6 fen ≥ floor_rate·p

with ``o`` and ``Y/X`` counted only when the platform mechanism reaches the product (it joins,
or ``mechanism_scope = "store"``); the 6 fen are the checker's rounding allowance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.money import format_yuan
from models.plan import Exclusion, ExclusionReason
from models.product import Product
from models.rules import Mechanism, MechanismScope, Rules
from pricing.engine.bounds import (
    ROUNDING_ALLOWANCE_FEN,
    cross_store_rate,
    margin_floor_fen,
    official_discount_fen,
    unit_margin_bound_fen,
    worst_rate,
)
from pricing.engine.signup import signup_price_cap_fen
from pricing.errors import Problem
from pricing.optimize.candidates import CandidateTable, ProductArrays

NEVER_FEN = 10**12  # a break-even price no product reaches (discounts take every yuan)


def break_even_price_fen(cost_fen: int, rules: Rules, joins: bool = True) -> int:
    """The least price whose unit keeps its margin floor in a one-unit order with no coupon.

    ``joins``: the product joins the event, so the platform mechanism reaches it (it always
    does when ``platform.mechanism_scope = "store"``)."""
    bears = joins or rules.platform.mechanism_scope is MechanismScope.STORE
    keep = 1.0 - (cross_store_rate(rules) if bears else 0.0)
    if bears and rules.platform.mechanism is Mechanism.OFFICIAL:
        keep -= float(rules.platform.official_rate)
    per_price = (1.0 - float(rules.platform.commission_rate)) * keep - float(
        rules.store.margin_floor_rate
    )
    fixed = cost_fen + rules.store.handling_cost_fen + rules.store.shipping_cost_fen
    if per_price <= 0:
        return NEVER_FEN
    return math.ceil((fixed + ROUNDING_ALLOWANCE_FEN) / per_price)


def everyday_safe(arrays: ProductArrays, rules: Rules) -> npt.NDArray[np.bool_]:
    """Whether each product keeps its margin floor on a one-unit order at its everyday price,
    outside the event and with no coupon (the candidate table's "out" row, without a coupon)."""
    price = arrays.list_price
    bears = np.full(len(price), rules.platform.mechanism_scope is MechanismScope.STORE)
    official = np.where(bears, official_discount_fen(price, rules), 0)
    no_b2g1 = np.zeros(len(price), dtype=bool)
    bound = unit_margin_bound_fen(price, official, arrays.cost, no_b2g1, 0, price, rules, bears)
    rate = worst_rate(price, official, no_b2g1, 0, price, rules, bears)
    return np.asarray((bound >= margin_floor_fen(price, rules)) & (rate < 1.0), dtype=bool)


def product_exclusions(
    products: Sequence[Product], table: CandidateTable, rules: Rules
) -> tuple[Exclusion, ...]:
    """Every product that cannot join the event under any plan, with the amounts it misses."""
    left_out = np.flatnonzero(~table.joinable)
    if not len(left_out):
        return ()
    arrays = ProductArrays.of([products[int(j)] for j in left_out], rules)
    caps = signup_price_cap_fen(
        arrays.list_price, arrays.lowest_price, rules,
        lowest_coupon_price_fen=arrays.lowest_coupon_price,
    )
    exclusions = []
    blocked = table.item_blocked
    cannot: dict[str, list[str]] = {}  # item -> its SKUs that cannot join on their own
    if blocked is not None and blocked.any():
        for i in left_out.tolist():
            if not blocked[i]:
                cannot.setdefault(products[i].item_id, []).append(products[i].sku)
    for position, j in enumerate(left_out.tolist()):
        product = products[j]
        if blocked is not None and blocked[j]:
            siblings = cannot.get(product.item_id, [])
            needed = break_even_price_fen(product.unit_cost_fen, rules, joins=True)
            exclusions.append(Exclusion(
                sku=product.sku, role=product.role.value,
                reason=ExclusionReason.ITEM_CANNOT_JOIN,
                list_price_fen=product.list_price_fen, break_even_fen=needed, shortfall_fen=0,
                message=(f"SKU(s) {', '.join(siblings[:10])} of its item {product.item_id} cannot"
                         " join, and item_joins_together keeps an item's SKUs together"),
            ))
            continue
        if not table.base_safe[j, 0]:
            needed = break_even_price_fen(product.unit_cost_fen, rules, joins=False)
            shortfall = max(0, needed - product.list_price_fen)
            exclusions.append(Exclusion(
                sku=product.sku, role=product.role.value,
                reason=ExclusionReason.LOSES_AT_EVERYDAY_PRICE,
                list_price_fen=product.list_price_fen, break_even_fen=needed,
                shortfall_fen=shortfall,
                message=everyday_loss_message(product, needed),
            ))
            continue
        needed = break_even_price_fen(product.unit_cost_fen, rules, joins=True)
        cap = int(caps[position])
        if cap < 0:
            signs_up = "no price meets the sign-up rules"
        else:
            signs_up = f"signs up only at {format_yuan(cap)} or less"
        exclusions.append(Exclusion(
            sku=product.sku, role=product.role.value,
            reason=ExclusionReason.NO_SAFE_SIGNUP_PRICE,
            list_price_fen=product.list_price_fen, break_even_fen=needed,
            signup_cap_fen=max(cap, 0) if cap >= 0 else None,
            shortfall_fen=max(0, needed - max(cap, 0)),
            message=(
                f"{signs_up}, but below {format_yuan(needed)} a unit loses money once the"
                f" event's discounts apply (cost {format_yuan(product.unit_cost_fen)},"
                " commission, shipping, handling and the platform discount)"
                + ("; no ladder level fits both" if cap >= 0 and needed <= cap else "")
            ),
        ))
    return tuple(exclusions)


def everyday_loss_message(product: Product, needed_fen: int) -> str:
    """What the merchandiser reads about a product that loses at its everyday price."""
    shortfall = max(0, needed_fen - product.list_price_fen)
    return (
        f"loses money on a one-unit order at its everyday price"
        f" {format_yuan(product.list_price_fen)} (cost {format_yuan(product.unit_cost_fen)},"
        f" commission, handling and free shipping): raise the price by ¥{format_yuan(shortfall)}"
        f" (to {format_yuan(needed_fen)}) or stop free shipping"
    )


def everyday_loss_warnings(
    products: Sequence[Product], rules: Rules, source: str
) -> list[Problem]:
    """``validate``'s warnings: one per product that loses on a one-unit order at its everyday
    price (no event, no coupon), naming the shortfall."""
    if not products:
        return []
    arrays = ProductArrays.of(products, rules)
    losing = np.flatnonzero(~everyday_safe(arrays, rules))
    warnings = []
    for j in losing.tolist():
        product = products[j]
        needed = break_even_price_fen(product.unit_cost_fen, rules, joins=False)
        warnings.append(Problem(
            source, f"{product.sku} {everyday_loss_message(product, needed)}",
            severity="warning",
        ))
    return warnings
