"""A promotion plan: the store-level choices and one decision per product.

Money is integer fen; expected units are forecasts (floats). The public JSON form (money as
two-decimal strings) is written and read by ``pricing.formats.plan_json``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.rules import CouponTier


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

    @property
    def discount(self) -> Decimal:
        """The share taken off the everyday price, e.g. ``0.25`` for 7.5折."""
        return Decimal(1) - self.level


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
