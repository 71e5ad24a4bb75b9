"""A product (one SKU) of the store's catalogue, with exact money in fen."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Role(StrEnum):
    """The product's role in the plan (主推 / 引流 / 利润 / 常规)."""

    HERO = "hero"
    TRAFFIC = "traffic"
    PROFIT = "profit"
    REGULAR = "regular"


class Product(BaseModel):
    """One SKU. Prices and costs are integer fen; ``base_units`` is a forecast (a float).

    ``base_units`` is the expected number of units sold during the event at the everyday
    price; ``elasticity`` (negative) overrides the rules' default; ``purchase_limit`` is the
    most units one buyer may take (``None``: no limit); ``lowest_coupon_price_fen`` is the
    lowest price after universal offers (最低普惠券后价) of the sign-up window (``None``: not
    checked).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    item_id: str = ""
    sku_id: str = ""  # the platform's numeric SKU ID (SKU ID / SKUID), for the upload sheet
    title: str = ""
    category: str = ""
    price_line: str = ""  # products of one line keep their everyday-price order (价格线)
    role: Role = Role.REGULAR
    list_price_fen: int = Field(gt=0)
    lowest_price_fen: int = Field(gt=0)
    lowest_coupon_price_fen: int | None = Field(default=None, gt=0)
    unit_cost_fen: int = Field(ge=0)
    stock: int = Field(ge=0)
    base_units: float = Field(ge=0)
    elasticity: float | None = Field(default=None, lt=0)
    purchase_limit: int | None = Field(default=None, ge=1)
    b2g1_eligible: bool = True

    @model_validator(mode="after")
    def _item_id_defaults_to_sku(self) -> Product:
        if not self.item_id:
            object.__setattr__(self, "item_id", self.sku)
        return self
