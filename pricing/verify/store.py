"""The store under a plan: what the checker quotes, built from the prices a plan sets."""

from __future__ import annotations

from collections.abc import Sequence

from models.product import Product
from models.rules import Rules
from pricing.errors import InputError, Problem
from pricing.formats.sheets import PlanPrices
from pricing.verify.checker import StoreSetup


def store_setup(plan_prices: PlanPrices, products: Sequence[Product], rules: Rules) -> StoreSetup:
    """The store under the plan: joining SKUs at their activity price, the rest at list price.

    Every SKU the plan names must be in ``products``; an unknown one is an input error.
    """
    known = {product.sku for product in products}
    unknown = sorted((plan_prices.joins | plan_prices.b2g1_members) - known)
    if unknown:
        shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
        raise InputError([Problem(
            plan_prices.source or "plan",
            f"{len(unknown)} SKU(s) of the plan are not in the products file: {shown}",
        )])
    return StoreSetup(
        products=tuple(products),
        prices_fen=tuple(
            plan_prices.prices_fen.get(product.sku, product.list_price_fen)
            for product in products
        ),
        coupon_tiers=plan_prices.coupon_tiers,
        b2g1_members=plan_prices.b2g1_members & known,
        rules=rules,
        event_members=plan_prices.joins & known,
        coupon_excluded=plan_prices.coupon_excluded & known,
        known_losers=plan_prices.known_losers & known,
        pieces_offer=plan_prices.pieces_offer,
        super_instant={sku: rate for sku, rate in plan_prices.super_instant.items()
                       if sku in known and sku in plan_prices.joins},
    )
