"""Judging a plan before its submission sheet is written: the SKUs that fail the platform's
sign-up rules or can lose money in some cart, and the lowest price a buyer can pay per unit
(see :mod:`pricing.outputs.export`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from models.cart import Cart
from models.money import format_yuan, fraction_floor_fen, super_instant_unit_fen
from models.plan import Plan
from models.product import Product
from models.rules import Rules
from pricing.engine.signup import (
    cycle_coupon_fen,
    lowest_coupon_prices_fen,
    meets_signup,
    signup_price_cap_fen,
)
from pricing.errors import ExportRefusedError
from pricing.formats.plan_context import PlanContext
from pricing.formats.sheets import (
    PlanPrices,
)
from pricing.progress import SILENT, Progress
from pricing.verify.checker import CheckReport, StoreSetup, check_store
from pricing.verify.policy import WITNESSES
from pricing.verify.store import store_setup

MAX_DROP_ROUNDS = 50


@dataclass(frozen=True)
class Failure:
    """Why one product cannot go into the sheet as planned."""

    sku: str
    joins: bool
    reason: str

    def render(self) -> str:
        return f"{self.sku}: {self.reason}"


def _signup_failures(
    prices: PlanPrices, products: Sequence[Product], plan: Plan, rules: Rules
) -> list[Failure]:
    joining = [p for p in products if p.sku in prices.joins]
    if not joining:
        return []
    price = np.array([prices.prices_fen[p.sku] for p in joining], dtype=np.int64)
    list_price = np.array([p.list_price_fen for p in joining], dtype=np.int64)
    lowest = np.array([p.lowest_price_fen for p in joining], dtype=np.int64)
    lowest_coupon = lowest_coupon_prices_fen(joining)
    # The super instant discount runs all cycle: a universal offer the 2026 check counts.
    counted = cycle_coupon_fen(price, plan.coupon_tiers, rules) + np.array(
        [super_instant_unit_fen(int(price[j]), prices.super_instant[p.sku])
         if p.sku in prices.super_instant else 0 for j, p in enumerate(joining)],
        dtype=np.int64,
    )
    ok = meets_signup(price, list_price, lowest, rules, lowest_coupon_price_fen=lowest_coupon,
                      universal_offer_fen=counted)
    caps = signup_price_cap_fen(list_price, lowest, rules, lowest_coupon_price_fen=lowest_coupon,
                                universal_offer_fen=counted)
    planned = {d.sku: d.meets_signup for d in plan.products}
    failures = []
    for j, product in enumerate(joining):
        if ok[j] and planned.get(product.sku, True):
            continue
        if ok[j]:
            reason = "the plan marks it as not meeting the sign-up rules"
        else:
            reason = (
                f"activity price {format_yuan(int(price[j]))} breaks the sign-up rules: it needs"
                f" ≤ {format_yuan(int(caps[j]))} (at least"
                f" {rules.platform.min_discount * 100:g}% off the everyday price"
                f" {format_yuan(product.list_price_fen)}, and after the platform discount at most"
                f" the lowest price {format_yuan(product.lowest_price_fen)}"
                f" × {rules.platform.lowest_price_factor})"
            )
        failures.append(Failure(product.sku, True, reason))
    return failures


def _loss_failures(check: CheckReport, prices: PlanPrices) -> list[Failure]:
    failures = []
    for verdict in check.products:
        if verdict.proven_safe or not verdict.guaranteed:
            continue
        joins = verdict.sku in prices.joins
        where = "" if joins else (
            f"stays out of the event at its everyday price {format_yuan(verdict.price_fen)}, but "
        )
        real = ""
        if verdict.witness_margin is not None and verdict.witness_margin < verdict.floor_fen:
            real = (
                f"; a real cart leaves {format_yuan(fraction_floor_fen(verdict.witness_margin))}"
                f" per unit ({_cart_summary(verdict.witness)})"
            )
        failures.append(Failure(
            verdict.sku, joins,
            f"{where}a cart can take a unit's margin down to {format_yuan(verdict.bound_fen)},"
            f" below its floor {format_yuan(verdict.floor_fen)}{real}",
        ))
    return failures


def _cart_summary(cart: Cart | None) -> str:
    if cart is None:
        return ""
    return " + ".join(
        f"{line.quantity} × {line.sku} @ {format_yuan(line.unit_price_fen)}" for line in cart.lines
    )


def _without(prices: PlanPrices, skus: set[str]) -> PlanPrices:
    return dataclasses.replace(
        prices,
        prices_fen={sku: p for sku, p in prices.prices_fen.items() if sku not in skus},
        joins=prices.joins - skus,
        b2g1_members=prices.b2g1_members - skus,
    )


def _refuse(failures: Sequence[Failure], hint: str) -> ExportRefusedError:
    lines = "\n  ".join(failure.render() for failure in failures)
    count = len({failure.sku for failure in failures})
    return ExportRefusedError(
        f"the plan cannot be exported: {count} product{'s' if count != 1 else ''} would lose"
        f" money or break the sign-up rules:\n  {lines}\n{hint}"
    )


def judge(
    context: PlanContext, drop_failing: bool = False, progress: Progress = SILENT
) -> tuple[PlanPrices, CheckReport, tuple[Failure, ...]]:
    """The plan's prices after the checks (and removals), the checker's report, the removed.

    Raises :class:`ExportRefusedError` naming every failing product when the plan fails and
    ``drop_failing`` is off, or when a failure cannot be removed.
    """
    plan, products, rules = context.plan, context.products, context.rules
    prices = PlanPrices.of_plan(plan)
    dropped: list[Failure] = []
    for _ in range(MAX_DROP_ROUNDS):
        setup = store_setup(prices, products, rules)
        # Witness carts only name the failures (the worst products come first); on a large
        # catalogue the rest would cost seconds for nothing.
        progress("Checking every cart", total=len(products))
        check = check_store(setup, witnesses_for=WITNESSES.for_check(len(products)),
                            progress=progress.advance)
        failures = _signup_failures(prices, products, plan, rules) + _loss_failures(check, prices)
        if not failures:
            return prices, check, tuple(dropped)
        stuck = [failure for failure in failures if not failure.joins]
        if not drop_failing:
            raise _refuse(
                failures,
                "Fix the plan (re-plan with `price-opt plan`), or pass --drop-failing to leave"
                " the failing products out of the event.",
            )
        if stuck:
            raise _refuse(
                stuck,
                "These products do not join the event, so --drop-failing cannot remove them:"
                " the store's coupon tiers or buy-two-get-one must change (re-plan).",
            )
        dropped.extend(failures)
        prices = _without(prices, {failure.sku for failure in failures})
    raise ExportRefusedError("removing failing products did not settle; re-plan")  # defensive


def lowest_paid_fen(
    setup: StoreSetup, check: CheckReport, skus: frozenset[str]
) -> dict[str, int | None]:
    """最低到手价: per SKU, the least paid per unit over the carts the exact checker quoted for it.

    ``check`` is the checker's report on the store as planned. For each product that got a
    witness it quoted the starting cart of every family of carts (each coupon tier, none, and
    buy-two-get-one where the SKU is a member, each at its smallest reachable subtotal) and any
    cart the local search moved to, all in the real store (every tier on offer: the buyer gets
    the best coupon the cart reaches), and kept the least the SKU's line paid per unit
    (:attr:`~pricing.verify.checker.ProductCheck.lowest_paid`). The figure is that amount,
    never above the activity price, rounded down to the fen: a real cart pays it; red packets
    (platform-funded) are left out.

    Large catalogues get witness carts for the tightest products only (the witness policy);
    a SKU without a witness has ``None`` (the review leaves its cell empty and says why).
    """
    lowest: dict[str, int | None] = {}
    for product, verdict, price in zip(setup.products, check.products, setup.prices_fen,
                                       strict=True):
        if product.sku not in skus:
            continue
        least = verdict.lowest_paid
        lowest[product.sku] = None if least is None else fraction_floor_fen(
            min(least, Fraction(price)))
    return lowest
