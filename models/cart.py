"""A buyer's cart, as ``price-opt quote`` reads it, and the exact quote of what is paid.

A cart holds lines from one or more stores; each store states the discounts a buyer can stack
there. All money is integer fen; the public JSON form (yuan strings) is read and written by
``pricing.formats.carts``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.rules import CouponTier


class SpendSaveActivity(BaseModel):
    """A store activity "spend T save A" with tiers: the highest tier reached applies once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["spend_save"] = "spend_save"
    tiers: tuple[CouponTier, ...] = Field(min_length=1)


class B2G1Activity(BaseModel):
    """Buy two get one: of every three eligible units, the cheapest is free."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["b2g1"] = "b2g1"


Activity = Annotated[SpendSaveActivity | B2G1Activity, Field(discriminator="kind")]


class CrossStore(BaseModel):
    """The cross-store reduction "every X save Y" (每满X减Y), repeating without cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_fen: int = Field(gt=0)
    save_fen: int = Field(ge=0)

    @model_validator(mode="after")
    def _saves_less_than_it_asks(self) -> CrossStore:
        if self.save_fen >= self.every_fen:
            raise ValueError("save must be below every")
        return self


class StoreOffer(BaseModel):
    """What one store lets a buyer stack: coupons held, one activity, one platform mechanism."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coupons: tuple[CouponTier, ...] = ()
    activity: Activity | None = None
    cross_store: CrossStore | None = None
    official_rate: Decimal | None = Field(default=None, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_platform_mechanism(self) -> StoreOffer:
        if self.cross_store is not None and self.official_rate is not None:
            raise ValueError("a store has either cross_store or official_rate, never both")
        return self


class CartLine(BaseModel):
    """One line: a SKU of one store, its single-item price and quantity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    store: str = Field(min_length=1)
    unit_price_fen: int = Field(ge=0)
    quantity: int = Field(ge=1)
    item_coupon: CouponTier | None = None
    b2g1: bool = False


class Cart(BaseModel):
    """Lines from one or more stores, the stores' offers, and platform-funded red packets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stores: dict[str, StoreOffer]
    lines: tuple[CartLine, ...] = Field(min_length=1)
    red_packet_fen: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _lines_name_known_stores(self) -> Cart:
        unknown = sorted({line.store for line in self.lines} - set(self.stores))
        if unknown:
            raise ValueError(f"lines name unknown store(s): {', '.join(unknown)}")
        return self


class LineQuote(BaseModel):
    """The price waterfall of one line, to the fen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    store: str
    quantity: int
    subtotal_fen: int
    official_discount_fen: int
    activity_discount_fen: int
    coupon_discount_fen: int
    cross_store_discount_fen: int
    red_packet_fen: int
    paid_fen: int
    merchant_receives_fen: int


class StoreQuote(BaseModel):
    """One store's sub-order: what the buyer pays there and what the merchant receives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str
    subtotal_fen: int
    paid_fen: int
    merchant_receives_fen: int
    coupon_used: str | None = None


class CartQuote(BaseModel):
    """The exact quote of a cart: lines in the cart's order, stores by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paid_fen: int
    lines: tuple[LineQuote, ...]
    stores: tuple[StoreQuote, ...]
