"""A promotion plan: the store-level choices and one decision per product.

Money is integer fen; expected units are forecasts (floats). The public JSON form (money as
two-decimal strings) is written and read by ``pricing.formats.plan_json``.
"""

from __future__ import annotations

import gc
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.rules import CouponTier, PiecesOffer


class PlanStatus(StrEnum):
    """How good the plan is known to be."""

    OPTIMAL = "optimal"  # proven optimal within the requested gap
    FEASIBLE = "feasible"  # stopped early (time limit): verified, with the gap it proved


class SolverInfo(BaseModel):
    """Which solver made the plan, how, and how sure it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    method: str
    status: str
    gap: float | None
    seconds: float
    variables: int = 0
    constraints: int = 0
    time_limit: float | None = None
    gap_limit: float | None = None
    candidates_total: int = 0
    candidates_pruned: int = 0
    # How the method found the plan and proved its gap, when it took several stages
    detail: str = ""


class ProductDecision(BaseModel):
    """What the plan does with one SKU, and what it is expected to earn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    item_id: str = ""
    title: str = ""
    joins: bool
    list_price_fen: int
    activity_price_fen: int
    level: Decimal = Field(gt=0, le=1)
    b2g1: bool = False
    expected_units: float = Field(ge=0)
    expected_revenue_fen: int
    expected_profit_fen: int
    worst_unit_margin_fen: int
    meets_signup: bool = True
    # 超级立减: the share of the activity price cut per unit (rounded up by price band), if any.
    super_instant_rate: Decimal | None = Field(default=None, ge=Decimal("0.10"),
                                               lt=Decimal("0.50"))

    @property
    def discount(self) -> Decimal:
        """The share taken off the everyday price, e.g. ``0.25`` for 7.5折."""
        return Decimal(1) - self.level


_DECISION_FIELDS = tuple(ProductDecision.model_fields)
_DECISION_TYPES: dict[str, set[type]] = {
    "sku": {str}, "item_id": {str}, "title": {str}, "joins": {bool}, "list_price_fen": {int},
    "activity_price_fen": {int}, "level": {Decimal}, "b2g1": {bool}, "expected_units": {float},
    "expected_revenue_fen": {int}, "expected_profit_fen": {int}, "worst_unit_margin_fen": {int},
    "meets_signup": {bool}, "super_instant_rate": {Decimal, type(None)},
}
# Assembling a model the way ``model_construct`` does (minus its per-field bookkeeping) is only
# sound for a plain model whose fields are the ones typed above.
_FAST_DECISIONS = (
    not ProductDecision.__private_attributes__
    and not ProductDecision.__pydantic_post_init__
    and set(_DECISION_FIELDS) == set(_DECISION_TYPES)
)


def product_decisions(columns: dict[str, list[Any]]) -> tuple[ProductDecision, ...]:
    """One :class:`ProductDecision` per row of ``columns`` (field name → one value per product),
    equal to validating each one (``tests/test_planio.py`` holds them equal).

    A plan holds a decision per product (100,000 at a large store) and pydantic's validation
    of each costs more than the rest of the plan's assembly, so when every value already has
    its field's exact type and meets its field's range (checked here at once, column by
    column), the models are assembled directly; otherwise each is validated, and the first bad
    value raises pydantic's error as it always does.
    """
    count = len(columns["sku"])
    if set(columns) != set(_DECISION_FIELDS) or any(
        len(values) != count for values in columns.values()
    ):
        raise ValueError(f"expected one column of {count} values per field {_DECISION_FIELDS}")
    trusted = _FAST_DECISIONS and all(
        set(map(type, values)) <= _DECISION_TYPES[name] for name, values in columns.items()
    ) and all(0 < level <= 1 for level in set(columns["level"])) and all(
        rate is None or Decimal("0.10") <= rate < Decimal("0.50")
        for rate in set(columns["super_instant_rate"])
    ) and bool(
        (np.asarray(columns["expected_units"], dtype=np.float64) >= 0).all()  # NaN is not ≥ 0
    )
    names = list(_DECISION_FIELDS)
    rows = zip(*(columns[name] for name in names), strict=True)
    if not trusted:
        return tuple(ProductDecision(**dict(zip(names, row, strict=True))) for row in rows)
    new = ProductDecision.__new__
    set_attribute = object.__setattr__
    # BaseModel's own slots, set through their descriptors (no attribute lookup per model).
    set_fields_set, set_extra, set_private = (
        vars(BaseModel)[slot].__set__
        for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    )
    fields_set = set(_DECISION_FIELDS)  # shared: a frozen model's set is only changed on a copy
    decisions = []
    collecting = gc.isenabled()
    gc.disable()  # many acyclic objects at once: the cycle collector would rescan them all
    try:
        for row in rows:
            decision = new(ProductDecision)
            set_attribute(decision, "__dict__", dict(zip(names, row, strict=True)))
            set_fields_set(decision, fields_set)
            set_extra(decision, None)
            set_private(decision, None)
            decisions.append(decision)
    finally:
        if collecting:
            gc.enable()
    return tuple(decisions)


class ExclusionReason(StrEnum):
    """Why a product cannot join the event under any plan."""

    # A one-unit order at the everyday price already loses money (free shipping, commission and
    # handling eat the margin): a fact about the store, outside the no-loss guarantee.
    LOSES_AT_EVERYDAY_PRICE = "loses_at_everyday_price"
    # Every price that meets the sign-up rules loses money once the event's discounts apply
    # (or no ladder level lies between the sign-up cap and the break-even price).
    NO_SAFE_SIGNUP_PRICE = "no_safe_signup_price"
    # It could join on its own, but another SKU of its item cannot, and the rules keep an
    # item's SKUs together ([business] item_joins_together).
    ITEM_CANNOT_JOIN = "item_cannot_join"


class Exclusion(BaseModel):
    """A product that stays out of the event because no level is safe, and by how much.

    ``break_even_fen`` is the least price at which one unit keeps its margin floor in a one-unit
    order (with the platform mechanism when the product would join); ``signup_cap_fen`` the
    highest price that meets the sign-up rules (for ``no_safe_signup_price``); ``shortfall_fen``
    what is missing: ``break_even − list_price`` or ``break_even − signup_cap``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    role: str = "regular"
    reason: ExclusionReason
    list_price_fen: int
    break_even_fen: int
    signup_cap_fen: int | None = None
    shortfall_fen: int = Field(ge=0)
    message: str = ""


class Violation(BaseModel):
    """A soft rule the plan breaks: which rule, which products, by how much, at what penalty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    products: tuple[str, ...] = ()
    by: str  # the amount missing, in the rule's unit ("2 SKUs", "¥1,200.00")
    penalty_fen: int = Field(ge=0)
    message: str = ""


class PlanInputs(BaseModel):
    """What the plan was made from, so it can be reproduced and compared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    products_file: str
    products_sha256: str
    rules_file: str | None
    rules_sha256: str | None
    rules: dict[str, Any]
    created_at: str
    price_opt_version: str
    demand_file: str | None = None  # plan --demand: the fitted demand file
    demand_sha256: str | None = None


class Plan(BaseModel):
    """A verified plan: every product's decision and the store's coupon tiers and B2G1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: PlanStatus
    objective_fen: int
    expected_revenue_fen: int
    baseline_profit_fen: int
    baseline_revenue_fen: int
    expected_discount_spend_fen: int
    solver: SolverInfo
    coupon_tiers: tuple[CouponTier, ...]
    b2g1: bool
    worst_unit_margin_fen: int
    products: tuple[ProductDecision, ...]
    inputs: PlanInputs | None = None
    excluded: tuple[Exclusion, ...] = ()
    violations: tuple[Violation, ...] = ()
    # Products the store coupons (every tier of coupon_tiers) do not cover: the coupons are set
    # up as limited to the other products (商品券), or these are excluded when creating them.
    coupon_excluded: tuple[str, ...] = ()
    # Products to put on the platform's official-discount opt-out list (不生效官方立减): those
    # outside the event, when the mechanism is the official discount and only event products
    # are meant to bear it.
    official_opt_out: tuple[str, ...] = ()
    # Business rules that bind at the plan (their limit is reached), by name.
    binding_rules: tuple[str, ...] = ()
    # The store-wide multi-piece offer the plan runs ([offers] candidates), never beside B2G1.
    pieces_offer: PiecesOffer | None = None

    @property
    def strict_failures(self) -> list[str]:
        """What ``plan --strict`` refuses: a hero left out, or any soft rule broken."""
        failures = [
            f"hero {e.sku} is excluded ({e.reason.value})" for e in self.excluded
            if e.role == "hero"
        ]
        failures += [f"{v.rule} is violated by {v.by}" for v in self.violations]
        return failures
