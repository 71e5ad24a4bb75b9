"""Hypothesis strategies for price-opt's inputs: money, products, rules, offers and carts.

Shared by every test module; keep them general. All money is integer fen. The strategies
generate the whole domain, edges included (zero prices, no-threshold coupons, tiny carts,
purchase limits of one), not just the comfortable middle.

Settings profiles (choose with ``HYPOTHESIS_PROFILE=ci`` or ``=dev``; the default is ``dev``)::

    dev  100 examples per property (hypothesis' default), no deadline
    ci   500 examples per property, no deadline

Expensive properties scale their example count from the active profile with :func:`examples`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from models.cart import (
    Activity,
    B2G1Activity,
    Cart,
    CartLine,
    CrossStore,
    PiecesDiscountActivity,
    PiecesDiscountTier,
    PiecesSaveActivity,
    PiecesSaveTier,
    SpendSaveActivity,
    StoreOffer,
    SuperInstant,
)
from models.product import Product
from models.rules import (
    CouponRules,
    CouponTier,
    Mechanism,
    MechanismScope,
    OfficialRounding,
    PlatformRules,
    Rules,
    StoreRules,
    StoreTools,
)
from pricing.verify.checker import OTHER_SKU, OTHER_STORE, STORE, StoreSetup

# Under CI (the variable CI is set) the examples are derived from each test's source, so a
# submission's run is repeatable; local runs keep exploring new examples every time.
_REPEATABLE = bool(os.environ.get("CI"))
settings.register_profile(
    "dev",
    deadline=None,
    derandomize=_REPEATABLE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    derandomize=_REPEATABLE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def examples(share: float) -> int:
    """``share`` of the active profile's example count (at least 10), for costly properties."""
    active = settings.default
    return max(10, int((active.max_examples if active is not None else 100) * share))


# --- money and tiers -------------------------------------------------------------------------


def fen(min_value: int = 0, max_value: int = 200_000) -> st.SearchStrategy[int]:
    """An amount in fen, biased towards round yuan (the prices merchandisers really use)."""
    any_fen = st.integers(min_value, max_value)
    low_yuan, high_yuan = -(-min_value // 100), max_value // 100
    if low_yuan > high_yuan:
        return any_fen
    return st.one_of(st.integers(low_yuan, high_yuan).map(lambda yuan: yuan * 100), any_fen)


def rates(max_value: str = "0.5", places: int = 2) -> st.SearchStrategy[Decimal]:
    """A rate in [0, max_value] with at most ``places`` decimals (commission, official)."""
    return st.decimals(
        min_value=Decimal(0), max_value=Decimal(max_value), places=places,
        allow_nan=False, allow_infinity=False,
    )


@st.composite
def coupon_tiers(
    draw: st.DrawFn, max_threshold: int = 120_000, allow_no_threshold: bool = True
) -> CouponTier:
    """A "spend T save A" tier; threshold 0 is a no-threshold coupon (any positive amount)."""
    no_threshold = allow_no_threshold and draw(st.integers(0, 4)) == 0
    if no_threshold:
        return CouponTier(threshold_fen=0, amount_fen=draw(fen(1, 5_000)))
    threshold = draw(fen(2, max_threshold))
    amount = draw(fen(1, min(threshold - 1, threshold // 3 + 100)))
    return CouponTier(threshold_fen=threshold, amount_fen=amount)


def tier_ladders(
    max_tiers: int = 4, max_threshold: int = 120_000
) -> st.SearchStrategy[tuple[CouponTier, ...]]:
    """Up to ``max_tiers`` tiers with distinct thresholds, sorted by threshold."""
    return st.lists(
        coupon_tiers(max_threshold=max_threshold), max_size=max_tiers,
        unique_by=lambda tier: tier.threshold_fen,
    ).map(lambda tiers: tuple(sorted(tiers, key=lambda tier: tier.threshold_fen)))


# A few cross-store tiers, so that generated stores often share one and get pooled.
CROSS_STORE_TIERS = (
    CrossStore(every_fen=30_000, save_fen=5_000),
    CrossStore(every_fen=30_000, save_fen=4_000),
    CrossStore(every_fen=20_000, save_fen=3_000),
    CrossStore(every_fen=40_000, save_fen=5_000),
)


@st.composite
def cross_store_tiers(draw: st.DrawFn) -> CrossStore:
    """A cross-store tier: mostly one of the platform's real ones, sometimes any."""
    if draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(CROSS_STORE_TIERS))
    every = draw(fen(100, 100_000))
    return CrossStore(every_fen=every, save_fen=draw(st.integers(0, every - 1)))


# --- carts -----------------------------------------------------------------------------------


@st.composite
def pieces_offers(draw: st.DrawFn) -> PiecesDiscountActivity | PiecesSaveActivity:
    """A pieces offer (满件打折 or 满件减钱) of one to three tiers, pieces 1–4."""
    if draw(st.booleans()):
        return PiecesDiscountActivity(tiers=tuple(
            PiecesDiscountTier(pieces=pieces, rate=rate)
            for pieces, rate in draw(st.lists(
                st.tuples(st.integers(1, 4), rates("0.99").filter(lambda r: r > 0)),
                min_size=1, max_size=3, unique_by=lambda t: t[0],
            ))
        ))
    return PiecesSaveActivity(tiers=tuple(
        PiecesSaveTier(pieces=pieces, amount_fen=amount)
        for pieces, amount in draw(st.lists(
            st.tuples(st.integers(1, 4), fen(1, 10_000)), min_size=1, max_size=3,
            unique_by=lambda t: t[0],
        ))
    ))


@st.composite
def store_offers(draw: st.DrawFn, pieces_offers: bool = True) -> StoreOffer:
    """What one store lets a buyer stack: coupons, one activity, one platform mechanism
    (``pieces_offers=False``: no N-pieces activity)."""
    coupons = draw(tier_ladders(max_tiers=3))
    kinds = ["none", "spend_save", "b2g1"]
    if pieces_offers:
        kinds += ["pieces_discount", "pieces_save"]
    activity_kind = draw(st.sampled_from(kinds))
    activity: Activity | None = None
    if activity_kind == "spend_save":
        tiers = draw(tier_ladders(max_tiers=3))
        activity = SpendSaveActivity(tiers=tiers) if tiers else None
    elif activity_kind == "b2g1":
        activity = B2G1Activity()
    elif activity_kind == "pieces_discount":
        activity = PiecesDiscountActivity(tiers=tuple(
            PiecesDiscountTier(pieces=pieces, rate=rate)
            for pieces, rate in draw(st.lists(
                st.tuples(st.integers(1, 4), rates("0.99").filter(lambda r: r > 0)),
                min_size=1, max_size=3,
            ))
        ))
    elif activity_kind == "pieces_save":
        activity = PiecesSaveActivity(tiers=tuple(
            PiecesSaveTier(pieces=pieces, amount_fen=amount)
            for pieces, amount in draw(st.lists(
                st.tuples(st.integers(1, 4), fen(1, 10_000)), min_size=1, max_size=3
            ))
        ))
    mechanism = draw(st.sampled_from(["none", "cross_store", "official"]))
    return StoreOffer(
        coupons=coupons,
        activity=activity,
        cross_store=draw(cross_store_tiers()) if mechanism == "cross_store" else None,
        official_rate=draw(rates("0.3")) if mechanism == "official" else None,
    )


@st.composite
def cart_lines(
    draw: st.DrawFn,
    stores: Sequence[str],
    max_price: int = 100_000,
    max_quantity: int = 5,
    item_coupons: bool = True,
    instants: Sequence[str] = (),
) -> CartLine:
    """One line of one of ``stores``: price (zero allowed), quantity, item coupon, B2G1 flag,
    and, in the ``instants`` stores, item and super instant discounts."""
    store = draw(st.sampled_from(list(stores)))
    price = draw(fen(0, max_price))
    item_instant = super_instant = None
    if store in instants and price > 1 and draw(st.booleans()):
        item_instant = draw(st.integers(0, price // 3))
        if draw(st.booleans()):
            super_instant = (
                SuperInstant(rate=draw(st.sampled_from(
                    [Decimal("0.10"), Decimal("0.15"), Decimal("0.33"), Decimal("0.49")]
                )))
                if draw(st.booleans())
                else SuperInstant(amount_fen=draw(st.integers(1, max(1, price // 2))))
            )
    return CartLine(
        sku=draw(st.sampled_from(["A1", "A2", "B1", "C1", "G1"])),
        store=store,
        unit_price_fen=price,
        quantity=draw(st.integers(1, max_quantity)),
        item_coupon=draw(st.none() | coupon_tiers(max_threshold=60_000))
        if item_coupons else None,
        b2g1=draw(st.booleans()),
        item_instant_fen=item_instant or 0,
        super_instant=super_instant,
    )


@st.composite
def carts(
    draw: st.DrawFn,
    max_stores: int = 3,
    max_lines: int = 6,
    max_price: int = 100_000,
    max_quantity: int = 5,
    item_coupons: bool = True,
    store_tools: StoreTools | None = None,
    official_rounding: OfficialRounding | None = None,
    legacy: bool = False,
) -> Cart:
    """Any valid cart: 1–``max_stores`` stores, 1–``max_lines`` lines, an optional red packet
    (``item_coupons=False``: no line carries an item coupon). ``store_tools`` and
    ``official_rounding`` are drawn unless given; ``legacy=True`` draws only what the rules
    before 2026 knew (stacked tools, half-up official rounding, no instant discounts, no
    N-pieces activity)."""
    names = ["A", "B", "C", "D"][: draw(st.integers(1, max_stores))]
    offers = {name: draw(store_offers(pieces_offers=not legacy)) for name in names}
    instants = [] if legacy else [
        name for name, offer in offers.items()
        if offer.cross_store is None and offer.official_rate is None
    ]
    lines = draw(st.lists(
        cart_lines(names, max_price, max_quantity, item_coupons, instants),
        min_size=1, max_size=max_lines,
    ))
    red_packet = draw(st.just(0) | fen(0, 3_000))
    if legacy:
        store_tools, official_rounding = StoreTools.STACKED, OfficialRounding.FEN
    return Cart(
        stores=offers, lines=tuple(lines), red_packet_fen=red_packet,
        store_tools=store_tools or draw(st.sampled_from(list(StoreTools))),
        official_rounding=official_rounding or draw(st.sampled_from(list(OfficialRounding))),
    )


# --- catalogues and rules --------------------------------------------------------------------


@st.composite
def products(draw: st.DrawFn, sku: str = "P1") -> Product:
    """One product: everyday price, cost (up to above the price), limit, B2G1 eligibility."""
    list_price = draw(fen(100, 150_000))
    cost = draw(st.integers(0, list_price * 3 // 4))
    return Product(
        sku=sku,
        title=f"product {sku}",
        list_price_fen=list_price,
        lowest_price_fen=draw(st.integers(max(1, list_price * 7 // 10), list_price)),
        unit_cost_fen=cost,
        stock=draw(st.integers(0, 1_000)),
        base_units=draw(st.floats(0, 500, allow_nan=False)),
        purchase_limit=draw(st.none() | st.integers(1, 4)),
        b2g1_eligible=draw(st.booleans()),
    )


@st.composite
def catalogues(draw: st.DrawFn, min_size: int = 1, max_size: int = 5) -> tuple[Product, ...]:
    """A small catalogue of distinct SKUs ``P1…Pn``."""
    count = draw(st.integers(min_size, max_size))
    return tuple(draw(products(sku=f"P{i + 1}")) for i in range(count))


@st.composite
def rules(
    draw: st.DrawFn, mechanisms: Sequence[Mechanism] = tuple(Mechanism)
) -> Rules:
    """Platform and store rules: mechanism, commission, shipping, handling, coupon candidates,
    store tools (exclusive or stacked) and the official discount's rounding."""
    mechanism = draw(st.sampled_from(list(mechanisms)))
    cross = draw(cross_store_tiers())
    platform = PlatformRules(
        commission_rate=draw(rates("0.1", places=3)),
        min_discount=draw(rates("0.3")),
        lowest_price_factor=Decimal(1),
        mechanism=mechanism,
        cross_store_every_fen=cross.every_fen,
        cross_store_save_fen=cross.save_fen,
        official_rate=draw(rates("0.2")),
        store_tools=draw(st.sampled_from(list(StoreTools))),
        official_rounding=draw(st.sampled_from(list(OfficialRounding))),
    )
    store = StoreRules(
        shipping_cost_fen=draw(st.sampled_from([0, 600, 800, 1_000]) | fen(0, 2_000)),
        handling_cost_fen=draw(st.sampled_from([0, 150]) | fen(0, 500)),
        margin_floor_rate=draw(st.sampled_from([Decimal(0), Decimal("0.05")])),
    )
    candidates = draw(tier_ladders(max_tiers=4, max_threshold=100_000))
    return Rules(
        platform=platform,
        store=store,
        coupons=CouponRules(candidates=candidates) if candidates else CouponRules(candidates=()),
    )


@st.composite
def store_setups(
    draw: st.DrawFn,
    min_products: int = 1,
    max_products: int = 5,
    mechanisms: Sequence[Mechanism] = tuple(Mechanism),
) -> StoreSetup:
    """A store under a plan: a small catalogue at generated activity prices, coupon tiers
    (a subset of the rules' candidates), and B2G1 members (among the eligible products)."""
    catalogue = draw(catalogues(min_products, max_products))
    the_rules = draw(rules(mechanisms))
    prices = tuple(
        draw(st.one_of(
            st.integers(max(1, p.list_price_fen // 3), p.list_price_fen),
            st.just(p.list_price_fen),
            st.just((p.list_price_fen + 1) // 2),
        ))
        for p in catalogue
    )
    tiers = tuple(
        tier for tier in the_rules.coupons.candidates if draw(st.booleans())
    )
    b2g1 = draw(st.booleans())
    members = frozenset(
        p.sku for p in catalogue if b2g1 and p.b2g1_eligible and draw(st.booleans())
    )
    # A store runs one multi-piece offer: a pieces offer only without buy-two-get-one.
    offer = None if members or not draw(st.booleans()) else draw(pieces_offers())
    # 超级立减 only where the store runs no platform mechanism.
    super_instant = {
        p.sku: draw(st.sampled_from([Decimal("0.10"), Decimal("0.25"), Decimal("0.49")]))
        for p in catalogue
        if the_rules.platform.mechanism is Mechanism.NONE and draw(st.booleans())
    }
    return StoreSetup(
        products=catalogue, prices_fen=prices, coupon_tiers=tiers, b2g1_members=members,
        rules=the_rules, pieces_offer=offer, super_instant=super_instant,
    )


def setup_cart(
    setup: StoreSetup, quantities: Sequence[int], top_up_fen: int = 0
) -> Cart | None:
    """The cart a buyer builds in ``setup``'s store: ``quantities[i]`` units of product ``i``
    (lines in catalogue order, zero quantities left out) and ``top_up_fen`` bought in another
    store of the cross-store pool (ignored without a cross-store reduction). None if empty."""
    lines = [
        CartLine(
            sku=product.sku, store=STORE, unit_price_fen=price, quantity=quantity,
            b2g1=product.sku in setup.b2g1_members,
            event=setup.event_members is None or product.sku in setup.event_members
            or setup.rules.platform.mechanism_scope is MechanismScope.STORE,
            store_coupons=product.sku not in setup.coupon_excluded,
            super_instant=None if product.sku not in setup.super_instant
            else SuperInstant(rate=setup.super_instant[product.sku]),
        )
        for product, price, quantity in zip(
            setup.products, setup.prices_fen, quantities, strict=True
        )
        if quantity > 0
    ]
    if not lines:
        return None
    stores = {STORE: setup.offer()}
    if top_up_fen > 0 and setup.offer().cross_store is not None:
        stores[OTHER_STORE] = setup.other_store_offer()
        lines.append(
            CartLine(sku=OTHER_SKU, store=OTHER_STORE, unit_price_fen=top_up_fen, quantity=1)
        )
    platform = setup.rules.platform
    return Cart(
        stores=stores, lines=tuple(lines), store_tools=platform.store_tools,
        official_rounding=platform.official_rounding,
    )


@st.composite
def buyer_carts(draw: st.DrawFn, setup: StoreSetup, max_units: int = 6) -> Cart:
    """A cart a buyer may build in ``setup``'s store: quantities within purchase limits (at
    least one unit), lines in any order, and any amount bought in other pooled stores."""
    count = len(setup.products)
    quantities = [
        draw(st.integers(0, min(max_units, p.purchase_limit or max_units)))
        for p in setup.products
    ]
    if not any(quantities):
        quantities[draw(st.integers(0, count - 1))] = 1
    subtotal = sum(q * p for q, p in zip(quantities, setup.prices_fen, strict=True))
    every = setup.rules.platform.cross_store_every_fen
    # Topping up to a multiple of the cross-store step is what a buyer hunting the reduction
    # does; any other amount is allowed too.
    to_multiple = (-subtotal) % every + every * draw(st.integers(0, 2))
    top_up = draw(st.sampled_from([0, to_multiple]) | st.integers(0, 3 * every))
    cart = setup_cart(setup, quantities, top_up)
    assert cart is not None
    order = draw(st.permutations(range(len(cart.lines))))
    return cart.model_copy(update={"lines": tuple(cart.lines[i] for i in order)})
