"""A buyer's cart, as ``price-opt quote`` reads it, and the exact quote of what is paid.

A cart holds lines from one or more stores; each store states the discounts a buyer can stack
there. All money is integer fen; the public JSON form (yuan strings) is read and written by
``pricing.formats.carts``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.rules import (
    CouponTier,
    OfficialRounding,
    PiecesDiscountActivity,
    PiecesDiscountTier,
    PiecesSaveActivity,
    PiecesSaveTier,
    StoreTools,
)

__all__ = [
    "MAX_EXCLUSIVE_LINES",
    "Activity",
    "B2G1Activity",
    "Cart",
    "CartLine",
    "CartQuote",
    "CrossStore",
    "LineQuote",
    "PiecesDiscountActivity",
    "PiecesDiscountTier",
    "PiecesSaveActivity",
    "PiecesSaveTier",
    "SpendSaveActivity",
    "StoreOffer",
    "StoreQuote",
    "SuperInstant",
]

# Under exclusive store tools the engine tries every assignment of a store's lines to its
# coupon or its multi-piece offer: a store holding both takes at most this many lines.
MAX_EXCLUSIVE_LINES = 16


class SpendSaveActivity(BaseModel):
    """A store activity "spend T save A" with tiers: the highest tier reached applies once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["spend_save"] = "spend_save"
    tiers: tuple[CouponTier, ...] = Field(min_length=1)


class B2G1Activity(BaseModel):
    """Buy two get one: of every three eligible units, the cheapest is free."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["b2g1"] = "b2g1"


Activity = Annotated[
    SpendSaveActivity | B2G1Activity | PiecesDiscountActivity | PiecesSaveActivity,
    Field(discriminator="kind"),
]


class SuperInstant(BaseModel):
    """超级立减 on one line: a ``rate`` of the single-item price (rounded up by price band) or
    the merchant's own ``amount_fen`` per unit; exactly one of the two."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: Decimal | None = Field(default=None, ge=Decimal("0.10"), lt=Decimal("0.50"))
    amount_fen: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _rate_or_amount(self) -> SuperInstant:
        if (self.rate is None) == (self.amount_fen is None):
            raise ValueError("a super instant discount has either a rate or an amount")
        return self


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
    """One line: a SKU of one store, its single-item price and quantity.

    ``event``: the product signed up for the event; the store's cross-store reduction and
    official discount reach only such lines. ``store_coupons``: the store's coupons cover the
    line (false for a product the store limited its coupons away from).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    store: str = Field(min_length=1)
    unit_price_fen: int = Field(ge=0)
    quantity: int = Field(ge=1)
    item_coupon: CouponTier | None = None
    b2g1: bool = False
    event: bool = True
    store_coupons: bool = True
    item_instant_fen: int = Field(default=0, ge=0)
    super_instant: SuperInstant | None = None

    @model_validator(mode="after")
    def _instant_below_price(self) -> CartLine:
        if self.item_instant_fen and self.item_instant_fen >= self.unit_price_fen:
            raise ValueError("item_instant must be below the unit price")
        if (
            self.super_instant is not None
            and self.super_instant.amount_fen is not None
            and self.super_instant.amount_fen >= self.unit_price_fen
        ):
            raise ValueError("super_instant amount must be below the unit price")
        return self


class Cart(BaseModel):
    """Lines from one or more stores, the stores' offers, and platform-funded red packets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stores: dict[str, StoreOffer]
    lines: tuple[CartLine, ...] = Field(min_length=1)
    red_packet_fen: int = Field(default=0, ge=0)
    store_tools: StoreTools = StoreTools.EXCLUSIVE
    official_rounding: OfficialRounding = OfficialRounding.YUAN_UP

    @model_validator(mode="after")
    def _lines_name_known_stores(self) -> Cart:
        unknown = sorted({line.store for line in self.lines} - set(self.stores))
        if unknown:
            raise ValueError(f"lines name unknown store(s): {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _exclusive_lines_within_limit(self) -> Cart:
        if self.store_tools is not StoreTools.EXCLUSIVE:
            return self
        for name, offer in sorted(self.stores.items()):
            lines = [line for line in self.lines if line.store == name]
            has_coupon = bool(offer.coupons) or any(line.item_coupon for line in lines)
            if offer.activity is not None and has_coupon and len(lines) > MAX_EXCLUSIVE_LINES:
                raise ValueError(
                    f"store {name} has {len(lines)} lines, a coupon and a multi-piece offer; "
                    f"under exclusive store tools at most {MAX_EXCLUSIVE_LINES} such lines are "
                    "quoted (merge lines of the same SKU and price)"
                )
        return self

    @model_validator(mode="after")
    def _super_instant_alone(self) -> Cart:
        clashing = sorted(
            {
                line.store
                for line in self.lines
                if line.super_instant is not None
                and (
                    self.stores[line.store].cross_store is not None
                    or self.stores[line.store].official_rate is not None
                )
            }
        )
        if clashing:
            raise ValueError(
                f"store {', '.join(clashing)}: super_instant does not combine with the "
                "cross-store reduction or the official discount"
            )
        return self


class LineQuote(BaseModel):
    """The price waterfall of one line, to the fen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    store: str
    quantity: int
    subtotal_fen: int
    official_discount_fen: int
    instant_discount_fen: int
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
