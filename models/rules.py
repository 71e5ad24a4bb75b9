"""The platform's rules and the store's limits, as read from the rules file (TOML).

Money is integer fen; rates are ``Decimal`` where they multiply money (commission, official
discount) and floats where they only shape a forecast (elasticity, uplifts).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.limits import (
    MAX_COUPON_RESPONSE,
    MAX_COUPON_TIERS,
    MAX_LADDER_LEVELS,
    MAX_LOWEST_PRICE_FACTOR,
    MAX_UNITS_PER_ORDER,
    MAX_UPLIFT,
    MIN_ELASTICITY,
)
from models.money import MAX_TOTAL_FEN, short_yuan


class Mechanism(StrEnum):
    """The platform-wide, merchant-funded discount the store's products carry."""

    CROSS_STORE = "cross_store"  # 跨店满减: every X save Y, pooled across stores
    OFFICIAL = "official"  # 官方立减: a share off the single-item price, per unit
    NONE = "none"


class StoreTools(StrEnum):
    """How a store's coupons and multi-piece offers combine in one sub-order (order line)."""

    EXCLUSIVE = "exclusive"  # since 2026-03-10: 互斥择优, each line takes the larger one
    STACKED = "stacked"  # before 2026-03-10: a coupon stacks with the store activity


class OfficialRounding(StrEnum):
    """How the official instant discount (官方立减) per unit is rounded."""

    YUAN_UP = "yuan_up"  # 2026: price ≥ ¥100 up to the yuan, below ¥100 up to the fen
    FEN = "fen"  # older pages: half up to the fen at every price
class PriceEnding(StrEnum):
    """How a ladder level's price is rounded down: to the fen, the whole yuan, or a 9."""

    FEN = "fen"  # list × level, rounded half up to the fen (as before)
    YUAN = "yuan"  # then down to the whole yuan
    NINE = "9"  # the largest whole-yuan price ending in 9 at or below the level price


class MechanismScope(StrEnum):
    """Which products bear the platform mechanism (cross-store reduction or official discount)."""

    EVENT = "event"  # only the products signed up for the event (活动商品): the platform's rule
    STORE = "store"  # every product of the store, joining or not (the cautious legacy reading)


class CouponScope(StrEnum):
    """Whether the plan may limit the store coupons to some products (店铺券 → 商品券)."""

    AUTO = "auto"  # store-wide, except products outside the event that cannot bear them
    STORE = "store"  # always store-wide: a tier some product cannot bear is not offered


class SignupCheck(StrEnum):
    """Which lowest-price check a product's activity price must pass to sign up."""

    RULES_2026 = "2026"  # price ≤ lowest list price; price after cycle-long offers ≤ 最低普惠券后价
    PRO_RATED = "pro_rated"  # price after the pro-rated cross-store / official ≤ lowest price


class CouponTier(BaseModel):
    """A "spend T save A" tier (满T减A); ``threshold_fen`` 0 is a no-threshold coupon."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold_fen: int = Field(ge=0)
    amount_fen: int = Field(gt=0)

    @model_validator(mode="after")
    def _amount_below_threshold(self) -> CouponTier:
        if self.threshold_fen and self.amount_fen >= self.threshold_fen:
            raise ValueError("a coupon must save less than its threshold")
        return self

    @property
    def label(self) -> str:
        """The merchandiser's name for the tier, e.g. ``299-20`` or ``0-5``."""
        return f"{short_yuan(self.threshold_fen)}-{short_yuan(self.amount_fen)}"


class PiecesDiscountTier(BaseModel):
    """满件打折: from ``pieces`` units on, pay ``rate`` of the amount (0.90 = 9折)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pieces: int = Field(ge=1)
    rate: Decimal = Field(gt=0, lt=1)


class PiecesDiscountActivity(BaseModel):
    """N pieces at x折: the lowest rate among the tiers the units reach applies to the amount;
    the discount is rounded half up to the fen on the order amount."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["pieces_discount"] = "pieces_discount"
    tiers: tuple[PiecesDiscountTier, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """The offer as merchandisers write it: ``2pcs×0.9`` (满2件9折), tiers joined by ``/``."""
        return "/".join(f"{t.pieces}pcs×{t.rate.normalize():f}" for t in self.tiers)


class PiecesSaveTier(BaseModel):
    """满件减钱: from ``pieces`` units on, save ``amount_fen``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pieces: int = Field(ge=1)
    amount_fen: int = Field(gt=0)


class PiecesSaveActivity(BaseModel):
    """N pieces save y: the largest amount among the tiers the units reach applies once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["pieces_save"] = "pieces_save"
    tiers: tuple[PiecesSaveTier, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """The offer as merchandisers write it: ``2pcs-20`` (满2件减20), tiers joined by ``/``."""
        return "/".join(f"{t.pieces}pcs-{short_yuan(t.amount_fen)}" for t in self.tiers)


PiecesOffer = Annotated[
    PiecesDiscountActivity | PiecesSaveActivity, Field(discriminator="kind")
]


class PlatformRules(BaseModel):
    """What the platform imposes: commission, sign-up rules, the platform-wide discount."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission_rate: Decimal = Field(default=Decimal("0.05"), ge=0, lt=1)
    min_discount: Decimal = Field(default=Decimal("0.10"), ge=0, lt=1)
    lowest_price_factor: Decimal = Field(default=Decimal("1.0"), gt=0, le=MAX_LOWEST_PRICE_FACTOR)
    mechanism: Mechanism = Mechanism.CROSS_STORE
    cross_store_every_fen: int = Field(default=30000, gt=0)
    cross_store_save_fen: int = Field(default=5000, ge=0)
    official_rate: Decimal = Field(default=Decimal("0.15"), ge=0, lt=1)
    store_tools: StoreTools = StoreTools.EXCLUSIVE
    official_rounding: OfficialRounding = OfficialRounding.YUAN_UP
    signup_check: SignupCheck = SignupCheck.RULES_2026
    coupons_cover_cycle: bool = True
    mechanism_scope: MechanismScope = MechanismScope.EVENT

    @model_validator(mode="after")
    def _cross_store_saves_less_than_it_asks(self) -> PlatformRules:
        if self.cross_store_save_fen >= self.cross_store_every_fen:
            raise ValueError("cross_store_save must be below cross_store_every")
        return self


class StoreRules(BaseModel):
    """The store's own costs and limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shipping_cost_fen: int = Field(default=800, ge=0)
    handling_cost_fen: int = Field(default=0, ge=0)
    margin_floor_rate: Decimal = Field(default=Decimal("0"), ge=0, lt=1)
    budget_fen: int = Field(default=0, ge=0)
    timezone: str = "Asia/Shanghai"  # the store's clock: plans and sheets are stamped in it

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; expected an IANA name such as "
                             "Asia/Shanghai") from None
        return name


class DiscountLadder(BaseModel):
    """The activity-price levels to choose from, as shares of the everyday price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: tuple[Decimal, ...] = (
        Decimal("0.95"), Decimal("0.90"), Decimal("0.85"), Decimal("0.80"), Decimal("0.75"),
        Decimal("0.70"), Decimal("0.65"), Decimal("0.60"), Decimal("0.55"), Decimal("0.50"),
    )
    price_ending: PriceEnding = PriceEnding.FEN

    @field_validator("levels")
    @classmethod
    def _levels_in_range_and_distinct(cls, levels: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not levels:
            raise ValueError("at least one level is needed")
        if any(not (Decimal("0.01") <= level <= 1) for level in levels):
            raise ValueError("every level must be a share of the everyday price in [0.01, 1]")
        if any(level != level.quantize(Decimal("0.0001")) for level in levels):
            raise ValueError("a level has at most four decimals, e.g. 0.85 or 0.875")
        if len(levels) > MAX_LADDER_LEVELS:
            raise ValueError(f"at most {MAX_LADDER_LEVELS} levels")
        if len(set(levels)) != len(levels):
            raise ValueError("levels must be distinct")
        return tuple(sorted(levels, reverse=True))


class CouponRules(BaseModel):
    """The store-coupon tiers the optimizer may offer, and how many at most."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: tuple[CouponTier, ...] = (
        CouponTier(threshold_fen=0, amount_fen=500),
        CouponTier(threshold_fen=9900, amount_fen=1000),
        CouponTier(threshold_fen=29900, amount_fen=2000),
        CouponTier(threshold_fen=59900, amount_fen=5000),
    )
    max_tiers: int = Field(default=3, ge=0, le=MAX_COUPON_TIERS)
    scope: CouponScope = CouponScope.AUTO

    @field_validator("candidates")
    @classmethod
    def _distinct_thresholds(cls, tiers: tuple[CouponTier, ...]) -> tuple[CouponTier, ...]:
        thresholds = [tier.threshold_fen for tier in tiers]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("two coupon candidates share a threshold")
        if len(tiers) > 12:
            raise ValueError("at most 12 coupon candidates")
        return tuple(sorted(tiers, key=lambda tier: tier.threshold_fen))


class B2G1Rules(BaseModel):
    """Buy two get one (买二送一): whether the store may run it, and its forecast effects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    uplift: float = Field(default=0.30, ge=0, le=MAX_UPLIFT)
    free_share: float = Field(default=0.15, ge=0, le=1 / 3)
    max_products: int | None = Field(default=None, ge=0)  # at most this many products in B2G1


class OrderBand(BaseModel):
    """A band of order values and the share of the store's orders that fall in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upto_fen: int | None = Field(default=None, gt=0)  # None: open-ended top band
    share: float = Field(ge=0, le=1)
    typical_fen: int = Field(gt=0)


class DemandRules(BaseModel):
    """How the forecast responds to prices, coupons and buy-two-get-one (all forecasts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_elasticity: float = Field(default=-1.8, lt=0, ge=MIN_ELASTICITY)
    event_uplift: float = Field(default=0.5, ge=0, le=MAX_UPLIFT)
    event_days: int = Field(default=11, ge=1, le=366)  # with a fitted demand file
    cross_store_take_rate: float = Field(default=0.6, ge=0, le=1)
    units_per_order: float = Field(default=1.6, ge=1, le=MAX_UNITS_PER_ORDER)
    coupon_redemption: float = Field(default=0.7, ge=0, le=1)
    coupon_response: float = Field(default=3.0, ge=0, le=MAX_COUPON_RESPONSE)
    order_bands: tuple[OrderBand, ...] = (
        OrderBand(upto_fen=10000, share=0.22, typical_fen=7900),
        OrderBand(upto_fen=30000, share=0.38, typical_fen=19900),
        OrderBand(upto_fen=60000, share=0.27, typical_fen=39900),
        OrderBand(upto_fen=None, share=0.13, typical_fen=79900),
    )

    @field_validator("order_bands")
    @classmethod
    def _bands_cover_all_orders(cls, bands: tuple[OrderBand, ...]) -> tuple[OrderBand, ...]:
        if not bands:
            raise ValueError("at least one order band is needed")
        if abs(sum(band.share for band in bands) - 1.0) > 1e-6:
            raise ValueError("order band shares must add up to 1")
        if bands[-1].upto_fen is not None or any(b.upto_fen is None for b in bands[:-1]):
            raise ValueError("only the last order band is open-ended (no upto)")
        return bands


MAX_OFFER_CANDIDATES = 3


class OfferRules(BaseModel):
    """The multi-piece offers (多件优惠) the optimizer may run store-wide: none or one of the
    candidates, each a whole offer with its tiers (``pieces_discount`` 满件打折 or
    ``pieces_save`` 满件减钱). A store runs one multi-piece offer, so a plan that runs one runs
    no buy-two-get-one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: tuple[PiecesOffer, ...] = ()

    @field_validator("candidates")
    @classmethod
    def _few_distinct(cls, offers: tuple[PiecesOffer, ...]) -> tuple[PiecesOffer, ...]:
        if len(offers) > MAX_OFFER_CANDIDATES:
            raise ValueError(f"at most {MAX_OFFER_CANDIDATES} offer candidates")
        if len(set(offers)) != len(offers):
            raise ValueError("two offer candidates are the same")
        for offer in offers:
            pieces = [tier.pieces for tier in offer.tiers]
            if len(set(pieces)) != len(pieces):
                raise ValueError("two tiers of one offer share a number of pieces")
        return offers


SUPER_INSTANT_MIN_RATE = Decimal("0.10")
SUPER_INSTANT_MAX_RATE = Decimal("0.50")  # excluded
MAX_SUPER_INSTANT_RATES = 4


class SuperInstantRules(BaseModel):
    """超级立减, the everyday super instant discount, as a per-product decision: the rates the
    plan may give a joining product (each in [0.10, 0.50) of its activity price, rounded up by
    price band); empty: the store does not run the channel. It does not combine with the
    cross-store reduction or the official discount, so it needs ``platform.mechanism =
    "none"``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rates: tuple[Decimal, ...] = ()

    @field_validator("rates")
    @classmethod
    def _rates_in_range(cls, rates: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if any(not (SUPER_INSTANT_MIN_RATE <= rate < SUPER_INSTANT_MAX_RATE) for rate in rates):
            raise ValueError("every rate must be from 0.10 to below 0.50 (超级立减: at least 10% "
                             "and less than 50% of the activity price)")
        if any(rate != rate.quantize(Decimal("0.0001")) for rate in rates):
            raise ValueError("a rate has at most four decimals, e.g. 0.15")
        if len(set(rates)) != len(rates):
            raise ValueError("rates must be distinct")
        if len(rates) > MAX_SUPER_INSTANT_RATES:
            raise ValueError(f"at most {MAX_SUPER_INSTANT_RATES} rates")
        return tuple(sorted(rates))


SUPER_INSTANT_CLASH = (
    "super_instant.rates needs platform.mechanism = \"none\": the super instant discount does "
    "not combine with the cross-store reduction or the official discount"
)


class Priority(BaseModel):
    """How a business rule binds: ``"hard"`` (a plan must meet it) or a penalty in yuan (a plan
    may break it, paying the penalty per unit short in the objective)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hard: bool = True
    penalty_fen: int = Field(default=0, ge=0, le=MAX_TOTAL_FEN)

    @property
    def label(self) -> str:
        return "hard" if self.hard else f"penalty {short_yuan(self.penalty_fen)}"


class QuotaRule(BaseModel):
    """A venue's depth requirement: at least ``min_share`` of the joining SKUs in scope (a
    category, or every joining product) priced at or below ``max_level`` × list price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str | None = None
    min_share: Decimal = Field(gt=0, le=1)
    max_level: Decimal = Field(gt=0, le=1)
    priority: Priority = Priority()

    @property
    def name(self) -> str:
        scope = self.category if self.category is not None else "all"
        return f"quota[{scope},{self.min_share}@{self.max_level}]"


class BudgetRule(BaseModel):
    """A discount budget for one category: its products' expected discount spend at most
    ``amount_fen`` (the store-wide ``[store] budget`` stays)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str
    amount_fen: int = Field(gt=0, le=MAX_TOTAL_FEN)
    priority: Priority = Priority()

    @property
    def name(self) -> str:
        return f"budget[{self.category}]"


class BusinessRules(BaseModel):
    """The merchandiser's own rules, coupling products (``[business]`` in the rules file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_joins_together: bool = False
    keep_price_order: bool = False
    heroes: Priority = Priority()
    quota: tuple[QuotaRule, ...] = ()
    budget: tuple[BudgetRule, ...] = ()

    @property
    def couples_products(self) -> bool:
        """Whether any rule links products' choices (then the MILP must decide)."""
        return bool(
            self.item_joins_together or self.keep_price_order or self.quota or self.budget
        )


class Rules(BaseModel):
    """Everything the plan must respect, one object per section of the rules file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: PlatformRules = PlatformRules()
    store: StoreRules = StoreRules()
    ladder: DiscountLadder = DiscountLadder()
    coupons: CouponRules = CouponRules()
    b2g1: B2G1Rules = B2G1Rules()
    offers: OfferRules = OfferRules()
    super_instant: SuperInstantRules = SuperInstantRules()
    demand: DemandRules = DemandRules()
    business: BusinessRules = BusinessRules()

    @model_validator(mode="after")
    def _super_instant_alone(self) -> Rules:
        if self.super_instant.rates and self.platform.mechanism is not Mechanism.NONE:
            raise ValueError(SUPER_INSTANT_CLASH)
        return self


def mechanism_label(platform: PlatformRules, lang: str = "en") -> str:
    """The platform's mechanism as every output names it: ``cross-store every ¥300 save ¥50``
    (``跨店满减 每满300减50``), ``official instant discount 15%`` (``官方立减 15%``), or none."""
    zh = lang == "zh"
    if platform.mechanism is Mechanism.CROSS_STORE:
        every, save = short_yuan(platform.cross_store_every_fen), short_yuan(
            platform.cross_store_save_fen
        )
        return f"跨店满减 每满{every}减{save}" if zh else f"cross-store every ¥{every} save ¥{save}"
    if platform.mechanism is Mechanism.OFFICIAL:
        share = f"{(platform.official_rate * 100).normalize():f}%"
        return f"官方立减 {share}" if zh else f"official instant discount {share}"
    return "无平台优惠" if zh else "no platform-wide discount"


def store_now(rules: Rules) -> str:
    """The time now on the store's clock (``[store] timezone``), ISO 8601 to the second with
    its offset: ``2026-11-30T03:58:59+08:00``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(rules.store.timezone)).isoformat(timespec="seconds")
