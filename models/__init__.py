"""The domain models of price-opt: pydantic, frozen, exact money in integer fen."""

from models.cart import (
    B2G1Activity,
    Cart,
    CartLine,
    CartQuote,
    CrossStore,
    LineQuote,
    SpendSaveActivity,
    StoreOffer,
    StoreQuote,
)
from models.plan import Plan, PlanInputs, PlanStatus, ProductDecision, SolverInfo
from models.product import Product, Role
from models.rules import (
    B2G1Rules,
    CouponRules,
    CouponTier,
    DemandRules,
    DiscountLadder,
    Mechanism,
    OrderBand,
    PlatformRules,
    Rules,
    StoreRules,
)

__all__ = [
    "B2G1Activity",
    "B2G1Rules",
    "Cart",
    "CartLine",
    "CartQuote",
    "CouponRules",
    "CouponTier",
    "CrossStore",
    "DemandRules",
    "DiscountLadder",
    "LineQuote",
    "Mechanism",
    "OrderBand",
    "Plan",
    "PlanInputs",
    "PlanStatus",
    "PlatformRules",
    "Product",
    "ProductDecision",
    "Role",
    "Rules",
    "SolverInfo",
    "SpendSaveActivity",
    "StoreOffer",
    "StoreQuote",
    "StoreRules",
]
