"""The worst-basket checker: the least margin any cart leaves each product's units.

For a store whose products sell at given single-item prices, with its coupon tiers, its
buy-two-get-one members, the platform's mechanism, commission, shipping and handling, the
checker reports for every product

* ``bound_fen``: a proven lower bound on the margin one unit keeps in *any* cart a buyer can
  build (any quantities within purchase limits, any other-store amounts to reach cross-store
  thresholds, the best coupon the cart reaches); see :mod:`pricing.engine.bounds` for the formula.
  The
  worst sub-order for a coupon of threshold ``T`` is the smallest subtotal ``≥ T`` that the
  store's own prices and limits can really build (:mod:`pricing.engine.reach`); above a size limit
  the
  checker assumes every amount is reachable, which is sound and slightly more cautious;
* ``witness``: the worst cart it found, a real cart in the public cart format, and
  ``witness_margin`` the unit margin that cart gives when quoted exactly by
  :func:`pricing.engine.stacking.quote`. ``bound_fen ≤ witness_margin`` always; the difference is
  the
  rounding allowance and, for buy-two-get-one members, the free-unit share (the bound charges
  the most a cart can make them bear, which large carts only approach: see
  :func:`_b2g1_member_bound_fen`). The witness is searched among the shapes a worst cart takes (see
  :func:`_witness_carts`); outside buy-two-get-one, purchase limits and lines cut to zero it is
  the worst cart up to the rounding of the splits.

A plan passes when every product's bound is at or above its margin floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from models.cart import (
    B2G1Activity,
    Cart,
    CartLine,
    CartQuote,
    CrossStore,
    StoreOffer,
    SuperInstant,
)
from models.money import allocate_proportional, fen_times_rate, super_instant_unit_fen
from models.product import Product
from models.rules import (
    CouponTier,
    Mechanism,
    PiecesDiscountTier,
    PiecesOffer,
    PiecesSaveTier,
    Rules,
)
from pricing.engine.bounds import (
    ROUNDING_ALLOWANCE_FEN,
    bears_mechanism,
    coupon_stacks_with_offer,
    cross_store_rate,
    margin_floor_fen,
    official_discount_fen,
    pieces_offer_fen,
    unit_margin_bound_fen,
    worst_rate,
)
from pricing.engine.reach import Reachability
from pricing.engine.stacking import quote

STORE = "S"
OTHER_STORE = "OTHER"
OTHER_SKU = "OTHER-STORE-ITEMS"
REACHABILITY_MAX_PRODUCTS = 5_000
PROGRESS_EVERY = 256  # products between two reports to a progress bar


@dataclass(frozen=True)
class StoreSetup:
    """One store under a plan: products at their prices, and what a buyer may stack."""

    products: tuple[Product, ...]
    prices_fen: tuple[int, ...]
    coupon_tiers: tuple[CouponTier, ...]
    b2g1_members: frozenset[str]
    rules: Rules
    # Products signed up for the event (None: every product); with the default
    # ``mechanism_scope = "event"`` the platform mechanism reaches only these.
    event_members: frozenset[str] | None = None
    # Products the store coupons do not cover (the plan limited the coupons away from them).
    coupon_excluded: frozenset[str] = frozenset()
    # Products outside the guarantee: they lose money at their everyday price with no discount
    # at all (a fact about the store the plan names, not something a plan can fix).
    known_losers: frozenset[str] = frozenset()
    # The store-wide multi-piece offer the plan runs (满件打折 / 满件减钱), never beside B2G1.
    pieces_offer: PiecesOffer | None = None
    # The super instant rate (超级立减) of each product that runs one (only without a platform
    # mechanism).
    super_instant: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pieces_offer is not None and self.b2g1_members:
            raise ValueError("a store runs one multi-piece offer: a pieces offer or "
                             "buy-two-get-one, not both")
        if self.super_instant and self.rules.platform.mechanism is not Mechanism.NONE:
            raise ValueError("a super instant discount does not combine with the cross-store "
                             "reduction or the official discount")

    def offer(self) -> StoreOffer:
        """The store's offer as a cart states it."""
        platform = self.rules.platform
        return StoreOffer(
            coupons=self.coupon_tiers,
            activity=B2G1Activity() if self.b2g1_members else self.pieces_offer,
            cross_store=CrossStore(
                every_fen=platform.cross_store_every_fen, save_fen=platform.cross_store_save_fen
            )
            if platform.mechanism is Mechanism.CROSS_STORE
            else None,
            official_rate=platform.official_rate
            if platform.mechanism is Mechanism.OFFICIAL
            else None,
        )

    def other_store_offer(self) -> StoreOffer:
        """Another store in the same cross-store pool (where the buyer tops up to a threshold)."""
        offer = self.offer()
        return StoreOffer(cross_store=offer.cross_store)


@dataclass(frozen=True)
class ProductCheck:
    """The checker's verdict on one product."""

    sku: str
    price_fen: int
    floor_fen: int
    bound_fen: int
    witness: Cart | None
    witness_margin: Fraction | None
    cap_possible: bool = False
    guaranteed: bool = True  # False: a known loser the plan names (outside the guarantee)
    # The least the product's line pays per unit over the carts quoted for its witness (every
    # starting cart of every family, and the witness): 最低到手价 without quoting them again.
    lowest_paid: Fraction | None = None
    # The exact quote of ``witness`` (None: not kept), so that showing it quotes nothing again.
    witness_quote: CartQuote | None = None

    @property
    def proven_safe(self) -> bool:
        """No cart can take a unit below its margin floor."""
        return self.bound_fen >= self.floor_fen

    @property
    def loses(self) -> bool:
        """A real cart (the witness) sells a unit below cost."""
        return self.witness_margin is not None and self.witness_margin < 0


# Assembling a verdict directly is only sound for a plain dataclass with exactly these fields.
_FAST_CHECKS = [f.name for f in fields(ProductCheck)] == [
    "sku", "price_fen", "floor_fen", "bound_fen", "witness", "witness_margin", "cap_possible",
    "guaranteed", "lowest_paid", "witness_quote",
] and not hasattr(ProductCheck, "__slots__") and not hasattr(ProductCheck, "__post_init__")


def _product_check(
    sku: str, price_fen: int, floor_fen: int, bound_fen: int, witness: Cart | None,
    witness_margin: Fraction | None, cap_possible: bool, guaranteed: bool,
    lowest_paid: Fraction | None = None, witness_quote: CartQuote | None = None,
) -> ProductCheck:
    """``ProductCheck(...)`` without the frozen dataclass's guarded assignment of each field
    (a check per product: a tenth of a 10,000-SKU plan's verification); a property test holds
    the two equal."""
    if not _FAST_CHECKS:
        return ProductCheck(sku, price_fen, floor_fen, bound_fen, witness, witness_margin,
                            cap_possible, guaranteed, lowest_paid, witness_quote)
    check = object.__new__(ProductCheck)
    object.__setattr__(check, "__dict__", {
        "sku": sku, "price_fen": price_fen, "floor_fen": floor_fen, "bound_fen": bound_fen,
        "witness": witness, "witness_margin": witness_margin, "cap_possible": cap_possible,
        "guaranteed": guaranteed, "lowest_paid": lowest_paid, "witness_quote": witness_quote,
    })
    return check


@dataclass(frozen=True)
class CheckReport:
    """The checker's verdict on a store: every product, and the worst order it found."""

    products: tuple[ProductCheck, ...]
    worst_order_margin_fen: int | None = None
    worst_order_witness: Cart | None = None
    unchecked_witnesses: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passes(self) -> bool:
        """Every product under the guarantee is proven to keep its margin floor in every cart."""
        return all(check.proven_safe or not check.guaranteed for check in self.products)

    @property
    def order_bound_fen(self) -> int | None:
        """A lower bound on any order's margin: the least unit bound, when none is negative."""
        if not self.products:
            return None
        least = min(check.bound_fen for check in self.products)
        return least if least >= 0 else None


def cart_margins(
    cart: Cart, result: CartQuote, costs_fen: Mapping[str, int], rules: Rules, store: str = STORE
) -> tuple[list[int | None], int]:
    """The merchant's margin on each line of ``store`` and on its whole sub-order, in fen.

    A line's margin is what the merchant receives for it, less commission (rounded half up to
    the fen), the units' cost and handling, and its share of the order's shipping (split by
    single-item amount, exactly). Lines of other stores get ``None``.
    """
    own = [i for i, line in enumerate(cart.lines) if line.store == store]
    shipping = allocate_proportional(
        rules.store.shipping_cost_fen if own else 0,
        [result.lines[i].subtotal_fen for i in own],
    )
    margins: list[int | None] = [None] * len(cart.lines)
    for i, ship_share in zip(own, shipping, strict=True):
        line = cart.lines[i]
        receives = result.lines[i].merchant_receives_fen
        commission = fen_times_rate(receives, rules.platform.commission_rate)
        unit_cost = costs_fen[line.sku] + rules.store.handling_cost_fen
        margins[i] = receives - commission - line.quantity * unit_cost - ship_share
    return margins, sum(m for m in margins if m is not None)


def _as_array(values: Sequence[int]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class _Scenario:
    """A family of carts: the coupon they reach, the least subtotal, whether B2G1 fires, and
    the tier of the store's pieces offer they reach (None: the offer does not apply)."""

    coupon_fen: int
    target_fen: npt.NDArray[np.int64]
    b2g1: bool
    threshold_fen: int = 0
    pieces_tier: PiecesDiscountTier | PiecesSaveTier | None = None


class _StoreArrays:
    """The store's products as arrays, with what the bound needs."""

    def __init__(self, setup: StoreSetup) -> None:
        self.setup = setup
        rules = setup.rules
        # Column by column in C loops (a store can hold 100,000 products).
        products, count = setup.products, len(setup.products)
        skus = [p.sku for p in products]
        self.prices = _as_array(setup.prices_fen)
        self.costs = np.fromiter(map(attrgetter("unit_cost_fen"), products), np.int64, count)
        self.limits = np.fromiter((p.purchase_limit or 0 for p in products), np.int64, count)
        self.in_b2g1 = np.fromiter(map(setup.b2g1_members.__contains__, skus), bool, count)
        members = setup.event_members
        joins = (np.ones(count, dtype=bool) if members is None
                 else np.fromiter(map(members.__contains__, skus), bool, count))
        self.bears = bears_mechanism(joins, rules)
        self.coupon_ok = ~np.fromiter(map(setup.coupon_excluded.__contains__, skus), bool, count)
        rates = [setup.super_instant.get(sku) for sku in skus] if setup.super_instant else (
            [None] * count
        )
        self.super_rates = rates
        super_fen = np.array(
            [0 if rate is None else super_instant_unit_fen(int(price), rate)
             for price, rate in zip(self.prices.tolist(), rates, strict=True)],
            dtype=np.int64,
        ) if setup.super_instant else np.zeros(count, dtype=np.int64)
        # The super instant discount is a per-unit discount like the official one (never both).
        self.official = (
            np.where(self.bears, official_discount_fen(self.prices, rules), 0) + super_fen
        )
        self.floors = margin_floor_fen(self.prices, rules)
        eligible_prices = self.prices[self.in_b2g1]
        # The cheapest pair of other eligible units a B2G1 cart can hold (a superset is sound).
        self.cheapest_eligible = int(eligible_prices.min()) if len(eligible_prices) else 0
        # What every witness cart repeats, built once: the offers its stores state, and the
        # cheapest product without a purchase limit (the greedy filler's product).
        self.store_offer = setup.offer()
        self.other_store_offer = setup.other_store_offer()
        unlimited = np.flatnonzero((self.limits == 0) & (self.prices > 0))
        self.cheapest_unlimited = (
            int(unlimited[np.argmin(self.prices[unlimited])]) if len(unlimited) else None
        )
        self.positive = self.prices > 0
        self.unlimited = self.limits == 0
        self._filler_pool: _FillerPool | None = None

    def filler_pool(self) -> _FillerPool:
        """The products a one-product filler is chosen from (built on first use)."""
        if self._filler_pool is None:
            self._filler_pool = _FillerPool(self)
        return self._filler_pool

    def cheapest_units_fen(self, count: int) -> int:
        """The least amount ``count`` units of the store can cost, within purchase limits (a
        product's own unit is not set aside: a lower bound on the other units of a cart)."""
        total, left = 0, count
        for i in np.argsort(self.prices, kind="stable").tolist():
            if left <= 0:
                break
            take = left if not self.limits[i] else min(left, int(self.limits[i]))
            total += take * int(self.prices[i])
            left -= take
        return total

    def pieces_scenarios(self) -> list[_Scenario]:
        """The families of carts that reach a tier of the pieces offer: the least subtotal
        holds the unit and ``N − 1`` of the store's cheapest units; with stacked store tools
        each coupon tier too (its threshold and the pieces both reached). A tier no cart can
        reach within the purchase limits has no family."""
        offer = self.setup.pieces_offer
        if offer is None:
            return []
        units_on_sale = int(np.where(self.limits == 0, 1 << 40, self.limits).sum())
        coupons = [(0, 0)]
        if coupon_stacks_with_offer(self.setup.rules):
            coupons += [(t.amount_fen, t.threshold_fen) for t in self.setup.coupon_tiers]
        families: list[_Scenario] = []
        for tier in offer.tiers:
            if tier.pieces > units_on_sale:
                continue
            least = self.prices + self.cheapest_units_fen(tier.pieces - 1)
            families.extend(
                _Scenario(amount, np.maximum(least, threshold), False,
                          threshold_fen=threshold, pieces_tier=tier)
                for amount, threshold in coupons
            )
        return families

    def scenarios(self) -> list[_Scenario]:
        tiers = self.setup.coupon_tiers
        lowest_threshold = min((t.threshold_fen for t in tiers), default=None)
        families: list[_Scenario] = []
        for with_b2g1 in (False, True):
            if with_b2g1 and not self.in_b2g1.any():
                continue
            least = self.prices + (2 * self.cheapest_eligible if with_b2g1 else 0)
            if lowest_threshold is None or lowest_threshold > 0:
                families.append(_Scenario(0, least, with_b2g1))
            if with_b2g1 and not coupon_stacks_with_offer(self.setup.rules):
                # Exclusive store tools: a B2G1 line never also bears a coupon (its share of
                # the free units and of a coupon is the larger of the two, see bounds).
                if lowest_threshold == 0:
                    families.append(_Scenario(0, least, with_b2g1))
                continue
            families.extend(
                _Scenario(tier.amount_fen, np.maximum(least, tier.threshold_fen), with_b2g1,
                          tier.threshold_fen)
                for tier in tiers
            )
        return families + self.pieces_scenarios()


class _FillerPool:
    """The first product of each kind (price, purchase limit, in buy-two-get-one) that has a
    price, in catalogue order: a one-product filler is the first product with the least total
    among those with room, and a later product of the same kind has the same total and room
    unless the cart holds units of the first (then the whole catalogue is searched, see
    :func:`_fillers`). A 10,000-SKU catalogue has about 4,000 kinds, 100,000 about 16,000."""

    def __init__(self, arrays: _StoreArrays) -> None:
        kinds = np.stack([arrays.prices, arrays.limits, arrays.in_b2g1.astype(np.int64)], axis=1)
        _, first, counts = np.unique(kinds, axis=0, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        first, counts = first[order], counts[order]
        keep = arrays.prices[first] > 0
        self.index = first[keep]
        self.position = {int(i): position for position, i in enumerate(self.index.tolist())}
        self.shared = frozenset(first[keep & (counts > 1)].tolist())  # kinds of several
        self.prices = arrays.prices[self.index]
        self.limits = arrays.limits[self.index]
        self.unlimited = self.limits == 0
        self.in_b2g1 = arrays.in_b2g1[self.index]
        # For _mixed_filler: the members by price, and the columns of the products outside.
        members = np.flatnonzero(self.in_b2g1)
        self.members = members[np.argsort(self.prices[members], kind="stable")]
        self.member_prices = self.prices[self.members]
        outside = np.flatnonzero(~self.in_b2g1)
        self.outside = outside
        self.outside_prices = self.prices[outside]
        self.outside_limits = self.limits[outside]
        self.outside_unlimited = self.outside_limits == 0


def _smallest_baskets(
    arrays: _StoreArrays, reach: Reachability | None, targets: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The least subtotal holding one unit of each product and reaching its target."""
    if reach is None:
        return targets
    rest = reach.smallest_at_least_many(np.maximum(targets - arrays.prices, 0))
    # Beyond the horizon nothing is known: the target itself is a sound (smaller) subtotal.
    return np.where(rest >= 0, arrays.prices + rest, targets)


def _build_reach(arrays: _StoreArrays) -> Reachability | None:
    thresholds = [t.threshold_fen for t in arrays.setup.coupon_tiers]
    if not len(arrays.prices) or len(arrays.prices) > REACHABILITY_MAX_PRODUCTS:
        return None
    horizon = max([*thresholds, 0]) + 3 * int(arrays.prices.max()) + 1
    if not Reachability.affordable(arrays.prices, horizon):
        return None
    return Reachability(arrays.prices, arrays.limits, horizon)


def _nearest_other_member_fen(arrays: _StoreArrays) -> npt.NDArray[np.float64]:
    """For each B2G1 member with a purchase limit of one or two units, the least distance from
    its price to another member's price (``inf`` when it is the only member); 0 for the rest.
    """
    distance = np.zeros(len(arrays.prices), dtype=np.float64)
    members = np.flatnonzero(arrays.in_b2g1)
    limited = (arrays.limits >= 1) & (arrays.limits <= 2)
    if not len(members):
        return distance
    order = members[np.argsort(arrays.prices[members], kind="stable")]
    ranked = arrays.prices[order].astype(np.float64)
    gaps = np.diff(ranked)
    below = np.concatenate(([np.inf], gaps))
    above = np.concatenate((gaps, [np.inf]))
    distance[order] = np.minimum(below, above)
    return np.where(limited, distance, 0.0)


def _all_limited_b2g1(arrays: _StoreArrays) -> tuple[float, float]:
    """When every B2G1 member has a purchase limit: the largest eligible amount a cart can hold
    (every member at its limit) and the most its free units can be worth, ``Φ``; else infinite.

    ``Φ``: list the member units available (within the limits) dearest first, ``a₁ ≥ a₂ ≥ …``,
    ``U`` of them. A cart of ``n ≤ U`` eligible units has ``k = ⌊n/3⌋`` free, its cheapest; the
    cart's ``j``-th dearest unit costs at most ``a_j``, and its free units are its ranks
    ``n − k + 1 … n``, each at or below rank ``2k + 1``, so they are worth at most
    ``a_{2k+1} + … + a_{3k} = P(3k) − P(2k)`` (``P(m)``: the ``m`` dearest available units).
    ``Φ`` is the largest of these for ``1 ≤ k ≤ ⌊U/3⌋``; ``P`` is linear between the member
    boundaries, so it is enough to try the ``k`` where ``2k`` or ``3k`` meets one.
    """
    members = np.flatnonzero(arrays.in_b2g1)
    limits = arrays.limits[members]
    if not len(members) or (limits <= 0).any():
        return np.inf, np.inf
    prices = arrays.prices[members]
    order = np.argsort(-prices, kind="stable")
    prices, limits = prices[order].astype(np.float64), limits[order]
    through = np.cumsum(limits)  # units available down to each member, dearest first
    worth = np.cumsum(prices * limits)
    most_free = int(through[-1]) // 3

    def dearest(units: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """``P(units)``: the worth of the ``units`` dearest available units."""
        member = np.searchsorted(through, units, side="left")
        member = np.minimum(member, len(through) - 1)
        before = np.where(member > 0, through[member - 1], 0)
        worth_before = np.where(member > 0, worth[member - 1], 0.0)
        return np.asarray(worth_before + (units - before) * prices[member], dtype=np.float64)

    if not most_free:
        return float(worth[-1]), 0.0
    boundaries = np.concatenate(([0], through))
    tries = np.concatenate([boundaries // 2, -(-boundaries // 2), boundaries // 3,
                            -(-boundaries // 3), [1, most_free]])
    tries = np.unique(np.clip(tries, 1, most_free)).astype(np.int64)
    return float(worth[-1]), float((dearest(3 * tries) - dearest(2 * tries)).max())


def _b2g1_member_bound_fen(
    arrays: _StoreArrays,
    reach: Reachability | None,
    family: _Scenario,
    baskets: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """The least margin a unit of a B2G1 member keeps in a cart of this family (whole fen).

    The same terms as :func:`pricing.engine.bounds.unit_margin_bound_fen`, with the free units'
    share ``b·p/3`` replaced by ``p·β(E)``, ``E`` the eligible amount on the offer::

        margin ≥ (1 − c)·(p − o − p·r) − cost − handling − 0.06
                 − p·max over E ≥ E₀ of [(1 − c)·β(E) + (1 − c)·A/S_c(E) + ship/S(E)]

    Why it holds. Let a cart's eligible units on the offer be ``n ≥ 3`` (fewer: nothing is free
    and the families without B2G1 bound the line), ``k = ⌊n/3⌋`` of them free (the cheapest),
    ``F`` their value, ``u`` the dearest free price, ``N = E − F`` the rest (``n − k ≥ 2k``
    units, each ``≥ u``). The line bears ``p·F/E`` a unit (the split is proportional). Then

    * ``E − 3F = N − 2F ≥ Σ_nonfree (x − u) + 2·Σ_free (u − y) ≥ Σ_units |x − u| ≥ 0``, so
      ``F ≤ E/3``;
    * ``F ≤ (E − p)/2``: if a unit of the product is not free, ``N − F ≥ p + (2k − 1)·u − k·u ≥
      p``; if one is free, every non-free unit costs at least ``p``, so ``E ≥ 3p`` and
      ``(E − p)/2 ≥ E/3 ≥ F``;
    * with a purchase limit of one or two units, the ``n ≥ 3`` units hold another member's unit
      at price ``q``; ``u`` is ``p`` or another member's price, so ``Σ_units |x − u| ≥ d``, the
      least distance from ``p`` to another member's price (the unit priced ``p`` when ``u ≠ p``,
      the other member's unit when ``u = p``): ``F ≤ (E − d)/3``. Alone in B2G1 with such a
      limit, a member never gets a free unit.

    When every member has a purchase limit, ``F ≤ Φ`` and ``E ≤ E₁`` (see
    :func:`_all_limited_b2g1`). So ``F/E ≤ β(E) = max(0, min(1/3, (E − p)/(2E), (E − d)/(3E),
    Φ/E))``. The eligible amount is at least ``E₀ = p + 2·(the cheapest member's price)`` and
    at most ``E₁``. The store sub-order ``S`` holds the
    eligible lines, so ``S ≥ max(E, B)`` with ``B`` the family's basket (the smallest reachable
    subtotal at or above the coupon threshold and ``E₀``). The coupon base ``S_c`` (lines the
    coupon covers, stacked rules only: under exclusive rules a B2G1 line bears no coupon, and the
    family's ``A`` is 0) is at least ``max(E, B)`` when every member is covered; otherwise only
    at least the smallest reachable subtotal at or above ``max(T, p)``. Each term is of the form
    ``a + b/E`` between the points where ``β`` changes piece (``p``, ``d``, ``3p − 2d``,
    ``3p``, ``3Φ``, ``p + 2Φ``, ``d + 3Φ``) or ``max(E, B)`` does (``B``), so it is monotone
    there and its maximum over ``E₀ ≤ E ≤ E₁`` is at one of those points, ``E₁``, or the limit
    ``E → ∞`` when ``E₁`` is infinite; the bound takes the largest.
    """
    rules = arrays.setup.rules
    price = arrays.prices.astype(np.float64)
    commission = float(rules.platform.commission_rate)
    shipping = float(rules.store.shipping_cost_fen)
    distance = _nearest_other_member_fen(arrays)
    never_free = np.isinf(distance)
    distance = np.where(never_free, 0.0, distance)
    most_eligible, most_free = _all_limited_b2g1(arrays)
    lowest = price + 2.0 * arrays.cheapest_eligible
    basket = baskets.astype(np.float64)
    coupon = np.where(arrays.coupon_ok, float(family.coupon_fen), 0.0)
    coupled = bool(arrays.coupon_ok[arrays.in_b2g1].all())
    if coupled or not family.coupon_fen:
        coupon_base: npt.NDArray[np.float64] | None = None
    else:
        coupon_base = _smallest_baskets(
            arrays, reach, np.maximum(arrays.prices, family.threshold_fen)
        ).astype(np.float64)

    def share(eligible: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        free = np.minimum.reduce([
            np.full_like(eligible, 1.0 / 3.0),
            (eligible - price) / (2.0 * eligible),
            (eligible - distance) / (3.0 * eligible),
            most_free / eligible,
        ])
        free = np.where(never_free, 0.0, np.maximum(free, 0.0))
        store = np.maximum(eligible, basket)
        base = store if coupon_base is None else coupon_base
        return (1.0 - commission) * (free + coupon / base) + shipping / store

    points = [lowest, basket, price, distance, 3.0 * price - 2.0 * distance, 3.0 * price]
    if np.isfinite(most_eligible):
        points += [np.full_like(price, most_eligible), 3.0 * np.full_like(price, most_free),
                   price + 2.0 * most_free, distance + 3.0 * most_free]
    worst = np.max(
        [share(np.clip(point, lowest, np.maximum(lowest, most_eligible))) for point in points],
        axis=0,
    )
    if not np.isfinite(most_eligible):
        beyond = (1.0 - commission) * (
            np.where(never_free, 0.0, 1.0 / 3.0)
            + (0.0 if coupon_base is None else coupon / coupon_base)
        )
        worst = np.maximum(worst, beyond)
    cross_store = np.where(arrays.bears, cross_store_rate(rules), 0.0)
    margin = (
        (1.0 - commission) * (price - arrays.official - price * cross_store)
        - arrays.costs
        - rules.store.handling_cost_fen
        - ROUNDING_ALLOWANCE_FEN
        - price * worst
    )
    return np.asarray(np.floor(margin), dtype=np.int64)


def _b2g1_starts(arrays: _StoreArrays, index: int) -> list[dict[int, int]]:
    """The buy-two-get-one triples a witness for product ``index`` starts from.

    As many of its own units as its purchase limit allows, up to three (the free unit is then
    its own), completed by the nearest-priced eligible partner; and one own unit with two of
    the nearest cheaper partner: the free unit is then the partner, and the product's line,
    the dearest, bears the largest share of it and of the coupon of a smaller subtotal.
    """
    own = min(3, int(arrays.limits[index]) or 3)
    price = int(arrays.prices[index])
    eligible = np.flatnonzero(arrays.in_b2g1)
    eligible = eligible[eligible != index]

    def with_nearest(own: int, cheaper_only: bool) -> dict[int, int] | None:
        needed = 3 - own
        if not needed:
            return {index: own}
        limits = arrays.limits[eligible]
        partners = eligible[(limits == 0) | (limits >= needed)]
        if cheaper_only:
            partners = partners[arrays.prices[partners] <= price]
        if not len(partners):
            return None
        nearest = int(partners[np.argmin(np.abs(arrays.prices[partners] - price))])
        return {index: own, nearest: needed}

    starts: list[dict[int, int]] = []
    for start in (with_nearest(own, cheaper_only=False), with_nearest(1, cheaper_only=True)):
        if start is not None and start not in starts:
            starts.append(start)
    return starts


def _pieces_starts(arrays: _StoreArrays, index: int, pieces: int) -> list[dict[int, int]]:
    """The carts of ``pieces`` units a pieces-offer witness for product ``index`` starts from:
    one own unit with the store's cheapest other units (the least subtotal: the largest share
    of a fixed saving and of the shipping), and as many own units as its limit allows."""
    starts: list[dict[int, int]] = []
    units = {index: 1}
    left = pieces - 1
    for i in np.argsort(arrays.prices, kind="stable").tolist():
        if left <= 0:
            break
        room = (int(arrays.limits[i]) or left + units.get(i, 0)) - units.get(i, 0)
        take = min(left, room)
        if take > 0:
            units[i] = units.get(i, 0) + take
            left -= take
    if left <= 0:
        starts.append(units)
    own = pieces if not arrays.limits[index] else min(pieces, int(arrays.limits[index]))
    if own == pieces and {index: own} not in starts:
        starts.append({index: own})
    return starts


def _fillers(
    arrays: _StoreArrays,
    reach: Reachability | None,
    units: dict[int, int],
    missing_fen: int,
) -> list[dict[int, int]]:
    """Baskets of further units worth at least ``missing_fen``: the smallest reachable one (or
    the cheapest unlimited product, repeated); and when that breaks the purchase limit of a
    product the cart already holds, the fewest units of one product with room that reach it
    with the least overshoot. Under exclusive store tools a filler of buy-two-get-one members
    may go to the offer instead of the coupon (the buyer's best assignment), so the fewest
    units of one product outside buy-two-get-one are tried too."""
    fillers: list[dict[int, int]] = []
    if reach is not None:
        reached = reach.smallest_at_least(missing_fen)
        if reached is not None:
            fillers.append(reach.basket(reached))
    else:
        greedy = _greedy_filler(arrays, missing_fen)
        if greedy is not None:
            fillers.append(greedy)
    outside_b2g1 = bool(arrays.in_b2g1.any()) and not coupon_stacks_with_offer(
        arrays.setup.rules)
    if fillers and _within_limits(arrays, _merged(units, fillers[0])) and not outside_b2g1:
        return fillers
    pool = arrays.filler_pool()
    if any(i in pool.shared and arrays.limits[i] for i in units):
        return _fillers_of_every_product(arrays, units, missing_fen, outside_b2g1, fillers)
    needed = -(-missing_fen // pool.prices)
    fits = pool.unlimited | (pool.limits >= needed)
    for i, q in units.items():  # the units the cart holds count against their limits
        position = pool.position.get(i)
        if position is not None:
            fits[position] = not pool.limits[position] or int(pool.limits[position]) >= q + int(
                needed[position])
    for allowed in ([fits & ~pool.in_b2g1] if outside_b2g1 else []) + [fits]:
        if allowed.any():
            totals = np.where(allowed, needed * pool.prices, _NO_TOTAL)
            position = int(np.argmin(totals))
            best = {int(pool.index[position]): int(needed[position])}
            if best not in fillers:
                fillers.append(best)
    return fillers


def _fillers_of_every_product(
    arrays: _StoreArrays, units: dict[int, int], missing_fen: int, outside_b2g1: bool,
    fillers: list[dict[int, int]],
) -> list[dict[int, int]]:
    """:func:`_fillers`' one-product fillers searched over the whole catalogue."""
    positive = arrays.positive
    needed = np.where(positive, -(-missing_fen // np.maximum(arrays.prices, 1)), 0)
    fits = positive & (arrays.unlimited | (arrays.limits >= needed))
    for i, q in units.items():  # the units the cart holds count against their limits
        fits[i] = bool(positive[i]) and (
            not arrays.limits[i] or int(arrays.limits[i]) >= q + int(needed[i]))
    for allowed in ([fits & ~arrays.in_b2g1] if outside_b2g1 else []) + [fits]:
        if allowed.any():
            totals = np.where(allowed, needed * arrays.prices, _NO_TOTAL)
            best = int(np.argmin(totals))
            if {best: int(needed[best])} not in fillers:
                fillers.append({best: int(needed[best])})
    return fillers


_NO_TOTAL = np.iinfo(np.int64).max


def _merged(units: dict[int, int], more: dict[int, int]) -> dict[int, int]:
    merged = dict(units)
    for i, q in more.items():
        merged[i] = merged.get(i, 0) + q
    return merged


def _within_limits(arrays: _StoreArrays, units: dict[int, int]) -> bool:
    return all(not arrays.limits[i] or q <= arrays.limits[i] for i, q in units.items())


def _witness_carts(
    arrays: _StoreArrays,
    reach: Reachability | None,
    index: int,
    scenario: _Scenario,
    cap_possible: bool,
) -> list[Cart]:
    """Real carts of this scenario's family for product ``index`` (none if none fits).

    Each start (the product alone, or a buy-two-get-one triple) is filled up to the scenario's
    least subtotal. When a line can be discounted to zero (``cap_possible``), the product is
    also put beside a buy-two-get-one triple of the cheapest other eligible product: that line
    is cut to zero first and what it cannot bear falls on the product's line.
    """
    if scenario.b2g1:
        if not arrays.in_b2g1[index]:
            return []
        starts = _b2g1_starts(arrays, index)
    elif scenario.pieces_tier is not None:
        starts = _pieces_starts(arrays, index, scenario.pieces_tier.pieces)
    else:
        starts = [{index: 1}]
    if cap_possible:
        others = [
            int(i) for i in np.flatnonzero(arrays.in_b2g1)
            if i != index and (arrays.limits[i] == 0 or arrays.limits[i] >= 3)
        ]
        if others:
            cheapest = min(others, key=lambda i: int(arrays.prices[i]))
            starts.extend([_merged(start, {cheapest: 3}) for start in starts])
    target = int(scenario.target_fen[index])
    # Under exclusive store tools a coupon cart's filler may hold members too, fewer than the
    # three units that fire buy-two-get-one (see _mixed_filler).
    mixed = (
        scenario.coupon_fen > 0 and not scenario.b2g1 and scenario.pieces_tier is None
        and bool(arrays.in_b2g1.any()) and not coupon_stacks_with_offer(arrays.setup.rules)
    )
    baskets: list[dict[int, int]] = []
    for start in starts:
        missing = target - sum(int(arrays.prices[i]) * q for i, q in start.items())
        candidates = (
            [_merged(start, filler) for filler in _fillers(arrays, reach, start, missing)]
            if missing > 0 else [start]
        )
        if mixed and missing > 0:
            filler = _mixed_filler(arrays, start, missing)
            # Only a smaller subtotal than the other candidates' that keep the coupon (fewer
            # than three member units) can make a worse cart here.
            if filler is not None and _subtotal(arrays, filler) + target - missing < min(
                    (_subtotal(arrays, units) for units in candidates
                     if sum(q for i, q in units.items() if arrays.in_b2g1[i]) < 3),
                    default=_NO_TOTAL):
                candidates.append(_merged(start, filler))
        baskets.extend(
            units for units in candidates
            if _within_limits(arrays, units) and units not in baskets
        )
    return [_cart_of(arrays, units) for units in baskets]


def _subtotal(arrays: _StoreArrays, units: dict[int, int]) -> int:
    return sum(int(arrays.prices[i]) * q for i, q in units.items())


def _mixed_filler(
    arrays: _StoreArrays, units: dict[int, int], missing_fen: int
) -> dict[int, int] | None:
    """Under exclusive store tools, a filler of one or two buy-two-get-one member units (with
    those the cart holds, fewer than the three that fire the offer, so the coupon is the
    buyer's best) and units of one product outside the offer, with the least total reaching
    ``missing_fen``: a smaller subtotal than the fillers outside the offer alone, so a larger
    share of the coupon and of the cross-store reduction on the witnessed line.

    The member part is one unit of the dearest member below ``missing_fen``, or two of it, or
    one unit of the cheapest member reaching it alone; the rest is the fewest units of one
    product outside the offer (searched among the first product of each kind, as
    :func:`_fillers`). The cart is quoted exactly, so a choice that is not the least is only a
    weaker witness, never a wrong one."""
    free = 2 - sum(q for i, q in units.items() if arrays.in_b2g1[i])
    pool = arrays.filler_pool()
    if free <= 0 or not len(pool.members):
        return None
    parts: list[tuple[int, int]] = []  # (position in the pool, units)
    split = int(np.searchsorted(pool.member_prices, missing_fen))  # members below, reaching
    if split:
        dearest = int(pool.members[split - 1])
        parts.append((dearest, 1))
        if free >= 2 and (not pool.limits[dearest] or pool.limits[dearest] >= 2):
            parts.append((dearest, 2))
    if split < len(pool.members):
        parts.append((int(pool.members[split]), 1))
    best: tuple[int, dict[int, int]] | None = None
    for position, quantity in parts:
        total = quantity * int(pool.prices[position])
        rest = missing_fen - total
        filler = {int(pool.index[position]): quantity}
        if rest > 0:
            if not len(pool.outside):
                continue
            needed = -(-rest // pool.outside_prices)
            totals = np.where(pool.outside_unlimited | (pool.outside_limits >= needed),
                              needed * pool.outside_prices, _NO_TOTAL)
            other = int(np.argmin(totals))
            if totals[other] == _NO_TOTAL:
                continue
            filler[int(pool.index[pool.outside[other]])] = int(needed[other])
            total += int(totals[other])
        if best is None or total < best[0]:
            best = (total, filler)
    return None if best is None else best[1]


def _cart_of(arrays: _StoreArrays, units: dict[int, int]) -> Cart:
    """The cart of these units (the witnessed product first), topped up in another store to
    the next multiple of the cross-store step when the platform runs one."""
    setup = arrays.setup
    lines = [
        CartLine(
            sku=setup.products[i].sku,
            store=STORE,
            unit_price_fen=int(arrays.prices[i]),
            quantity=q,
            b2g1=bool(arrays.in_b2g1[i]),
            event=bool(arrays.bears[i]),
            store_coupons=bool(arrays.coupon_ok[i]),
            super_instant=None if arrays.super_rates[i] is None
            else SuperInstant(rate=arrays.super_rates[i]),
        )
        for i, q in units.items()
    ]
    stores = {STORE: arrays.store_offer}
    every = setup.rules.platform.cross_store_every_fen
    if setup.rules.platform.mechanism is Mechanism.CROSS_STORE:
        store_subtotal = sum(int(arrays.prices[i]) * q for i, q in units.items())
        top_up = (-store_subtotal) % every
        if top_up:
            stores[OTHER_STORE] = arrays.other_store_offer
            lines.append(
                CartLine(sku=OTHER_SKU, store=OTHER_STORE, unit_price_fen=top_up, quantity=1)
            )
    platform = setup.rules.platform
    return Cart(
        stores=stores,
        lines=tuple(lines),
        store_tools=platform.store_tools,
        official_rounding=platform.official_rounding,
    )


def _greedy_filler(arrays: _StoreArrays, missing_fen: int) -> dict[int, int] | None:
    """Units of the cheapest product without a purchase limit that reach ``missing_fen``."""
    cheapest = arrays.cheapest_unlimited
    if cheapest is None:
        return None
    price = int(arrays.prices[cheapest])
    return {cheapest: -(-missing_fen // price)}


# The local search that refines a witness (see _refine_witness): at most this many improving
# steps, over a pool of at most this many products; on every product of a store up to
# LOCAL_SEARCH_ALL_UP_TO products, above that only on products the bound cannot prove safe.
LOCAL_SEARCH_STEPS = 12
LOCAL_SEARCH_POOL = 8
LOCAL_SEARCH_ALL_UP_TO = 60
LOCAL_SEARCH_MAX_UNITS = 12
LOCAL_SEARCH_STARTS = 3


def _search_pool(arrays: _StoreArrays, index: int, units: dict[int, int]) -> list[int]:
    """The products a local search may add or remove: those in the cart, and the few whose
    units shape a worst cart (the cheapest with room, the B2G1 members nearest in price and
    cheapest, the dearest, which reaches a higher coupon in one unit)."""
    pool = [index, *(i for i in units if i != index)]
    prices = arrays.prices
    candidates: list[int] = []
    members = np.flatnonzero(arrays.in_b2g1)
    if len(members):
        candidates.append(int(members[np.argmin(np.abs(prices[members] - prices[index]))]))
        candidates.append(int(members[np.argmin(prices[members])]))
        candidates.append(int(members[np.argmax(prices[members])]))
    candidates.append(int(np.argmin(prices)))
    candidates.append(int(np.argmax(prices)))
    by_distance = np.argsort(np.abs(prices - prices[index]), kind="stable")[:4]
    candidates.extend(int(i) for i in by_distance)
    for candidate in candidates:
        if candidate not in pool and len(pool) < LOCAL_SEARCH_POOL:
            pool.append(candidate)
    return pool


LOCAL_SEARCH_MOVES = ("unit", "swap", "pair", "triple")


def _moves(pool: list[int], kind: str) -> list[dict[int, int]]:
    """The moves of one kind a local-search step tries among the products of ``pool``.

    ``unit``: one unit more or fewer of a product; ``swap``: one unit of a product for one of
    another; ``pair``: two units more or fewer at once (of one product or two); ``triple``:
    three units more (of one, two or three products). A buy-two-get-one cart reaches its next
    free unit only two or three units on, through carts that are better for the product (one
    more unit dilutes the free units it already bears), so a walk of single units stops short of
    it. The wider moves are tried only when the narrower find nothing worse: a pool of ``P``
    products gives ``2P``, ``P(P − 1)``, ``P(P + 1)`` and ``P(P + 1)(P + 2)/6`` moves.
    """
    if kind == "unit":
        return [{product: delta} for product in pool for delta in (1, -1)]
    if kind == "swap":
        return [{a: -1, b: 1} for a in pool for b in pool if a != b]
    moves: list[dict[int, int]] = []
    if kind == "pair":
        for position, a in enumerate(pool):
            for b in pool[position:]:
                for delta in (1, -1):
                    moves.append({a: 2 * delta} if a == b else {a: delta, b: delta})
        return moves
    for position, a in enumerate(pool):
        for b in pool[position:]:
            for c in pool[pool.index(b):]:
                move: dict[int, int] = {}
                for product in (a, b, c):
                    move[product] = move.get(product, 0) + 1
                moves.append(move)
    return moves


def _refine_witness(
    arrays: _StoreArrays,
    index: int,
    witness: Cart,
    margin: Fraction,
    costs: dict[str, int],
    quoted: dict[tuple[tuple[int, int], ...], tuple[Fraction, Cart]] | None = None,
) -> tuple[Cart, Fraction]:
    """Walk from a witness to a worse cart, a few units at a time, while one is found.

    Each step quotes every cart one unit away (one more or one fewer unit of a product of the
    pool, within purchase limits, the witnessed product kept) and moves to the worst; when none
    is worse, the carts one swap, two units or three added units away (see :func:`_moves`); until
    no neighbour is worse or the step budget is spent. The carts of the shapes above start it;
    this finds the mixes they miss (a B2G1 triple of other members beside the product, a dearer
    unit that reaches a higher coupon). Every cart is quoted exactly, so the result is a real
    cart and its margin exact. ``quoted`` keeps the carts quoted (by units) across the walks
    of one product, which cross the same carts.
    """
    quoted = {} if quoted is None else quoted
    by_sku = {product.sku: i for i, product in enumerate(arrays.setup.products)}
    units: dict[int, int] = {}
    for line in witness.lines:
        if line.store == STORE:
            units[by_sku[line.sku]] = units.get(by_sku[line.sku], 0) + line.quantity
    rules = arrays.setup.rules
    pool = _search_pool(arrays, index, units)
    seen = {tuple(sorted(units.items()))}

    def neighbours(kind: str) -> Iterator[tuple[tuple[tuple[int, int], ...], dict[int, int]]]:
        for move in _moves(pool, kind):
            moved = dict(units)
            for product, delta in move.items():
                moved[product] = moved.get(product, 0) + delta
            if any(
                q < (1 if i == index else 0)
                or q > (int(arrays.limits[i]) or LOCAL_SEARCH_MAX_UNITS)
                for i, q in moved.items()
            ):
                continue
            moved = {i: q for i, q in moved.items() if q}
            key = tuple(sorted(moved.items()))
            if key not in seen:
                seen.add(key)
                yield key, {index: moved[index], **moved}  # the witnessed product's line first

    for _ in range(LOCAL_SEARCH_STEPS):
        best: tuple[Fraction, Cart, dict[int, int]] | None = None
        for kind in LOCAL_SEARCH_MOVES:  # the wider moves only when the narrower are stuck
            for key, moved in neighbours(kind):
                if key not in quoted:
                    cart = _cart_of(arrays, moved)
                    line_margins, _ = cart_margins(cart, quote(cart), costs, rules)
                    line_margin = line_margins[0]
                    assert line_margin is not None
                    quoted[key] = (Fraction(line_margin, moved[index]), cart)
                candidate, cart = quoted[key]
                if candidate < margin and (best is None or candidate < best[0]):
                    best = (candidate, cart, moved)
            if best is not None:
                break
        if best is None:
            break
        margin, witness, units = best
    return witness, margin


def check_store(
    setup: StoreSetup, witnesses_for: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckReport:
    """Check every product of a store; witness carts for all, or the ``witnesses_for`` worst.

    The bounds are always computed for every product (vectorized); quoting witness carts
    costs a few exact quotes per product, so on large catalogues only the worst products get
    one and the others carry an empty witness. ``progress`` is told how many more products
    are done, now and then (a progress bar).
    """
    arrays = _StoreArrays(setup)
    rules = setup.rules
    count = len(setup.products)
    reach = _build_reach(arrays)
    families = arrays.scenarios()
    bounds = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    cap_possible = False
    baskets_by_family = []
    for family in families:
        in_b2g1 = arrays.in_b2g1 if family.b2g1 else np.zeros(count, dtype=bool)
        applies = arrays.in_b2g1 if family.b2g1 else np.ones(count, dtype=bool)
        baskets = _smallest_baskets(arrays, reach, family.target_fen)
        baskets_by_family.append(baskets)
        coupon = np.where(arrays.coupon_ok, family.coupon_fen, 0)
        offer = (
            0.0 if family.pieces_tier is None
            else pieces_offer_fen(family.pieces_tier, arrays.prices, baskets)
        )
        bound = (
            _b2g1_member_bound_fen(arrays, reach, family, baskets) if family.b2g1
            else unit_margin_bound_fen(
                arrays.prices, arrays.official, arrays.costs, in_b2g1,
                coupon, baskets, rules, arrays.bears, offer,
            )
        )
        bounds = np.where(applies, np.minimum(bounds, bound), bounds)
        rates = worst_rate(
            arrays.prices, arrays.official, in_b2g1, coupon, baskets, rules, arrays.bears,
            offer,
        )
        cap_possible = cap_possible or bool((applies & (rates >= 1.0)).any())
    notes: list[str] = []
    if cap_possible:
        # Some line can be discounted to zero; its cut is then spread over the other lines of
        # the sub-order, so for them only "receives ≥ 0" is certain.
        floor_bound = -(arrays.costs + rules.store.handling_cost_fen
                        + rules.store.shipping_cost_fen + ROUNDING_ALLOWANCE_FEN)
        bounds = np.minimum(bounds, floor_bound)
        notes.append("a line can be discounted to zero, so every bound assumes only receives ≥ 0")
    if reach is None and count:
        notes.append(
            "every subtotal is assumed reachable (catalogue too large to enumerate baskets); "
            "the bounds are sound and slightly more cautious"
        )
    order = np.argsort(bounds - arrays.floors, kind="stable")
    chosen = (
        set(order[:witnesses_for].tolist()) if witnesses_for is not None else set(range(count))
    )
    costs = {p.sku: p.unit_cost_fen for p in setup.products}
    checks: list[ProductCheck] = []
    worst_order: tuple[int, Cart] | None = None
    # Python ints once for all: indexing numpy per product costs more than the verdict.
    prices, floors, bound_list = (
        arrays.prices.tolist(), arrays.floors.tolist(), bounds.tolist()
    )
    for index, product in enumerate(setup.products):
        if progress is not None and index % PROGRESS_EVERY == 0 and index:
            progress(PROGRESS_EVERY)
        witness: Cart | None = None
        witness_margin: Fraction | None = None
        lowest_paid: Fraction | None = None
        witness_quote: CartQuote | None = None
        if index in chosen:
            carts = (
                cart for family in families
                for cart in _witness_carts(arrays, reach, index, family, cap_possible)
            )
            quoted: list[tuple[Fraction, int, Cart]] = []
            # Families often build the same cart (a product dearer than every threshold is
            # alone in each): it is quoted once.
            known: dict[tuple[tuple[str, int, int], ...],
                        tuple[CartQuote, list[int | None], int]] = {}
            for number, cart in enumerate(carts):
                units = tuple((line.sku, line.quantity, line.unit_price_fen)
                              for line in cart.lines)
                if units in known:
                    result, margins, order_margin = known[units]
                else:
                    result = quote(cart)
                    margins, order_margin = cart_margins(cart, result, costs, rules)
                    known[units] = (result, margins, order_margin)
                line_margin = margins[0]
                assert line_margin is not None
                margin = Fraction(line_margin, cart.lines[0].quantity)
                quoted.append((margin, number, cart))
                paid = Fraction(result.lines[0].paid_fen, cart.lines[0].quantity)
                if lowest_paid is None or paid < lowest_paid:
                    lowest_paid = paid
                if witness_margin is None or margin < witness_margin:
                    witness, witness_margin, witness_quote = cart, margin, result
                if worst_order is None or order_margin < worst_order[0]:
                    worst_order = (order_margin, cart)
            if witness is not None and witness_margin is not None and (
                count <= LOCAL_SEARCH_ALL_UP_TO
                or (bounds[index] < arrays.floors[index] and witness_margin >= 0)
            ):
                # Walk from the worst few starting carts: one walk can stop in a local dip.
                walked: dict[tuple[tuple[int, int], ...], tuple[Fraction, Cart]] = {}
                for start_margin, _, start in sorted(quoted)[:LOCAL_SEARCH_STARTS]:
                    found, found_margin = _refine_witness(
                        arrays, index, start, start_margin, costs, walked
                    )
                    if found_margin < witness_margin:
                        witness, witness_margin = found, found_margin
                        witness_quote = quote(found)
                        found_paid = Fraction(witness_quote.lines[0].paid_fen,
                                              found.lines[0].quantity)
                        if lowest_paid is None or found_paid < lowest_paid:
                            lowest_paid = found_paid
        checks.append(
            _product_check(
                sku=product.sku,
                price_fen=prices[index],
                floor_fen=floors[index],
                bound_fen=bound_list[index],
                witness=witness,
                witness_margin=witness_margin,
                cap_possible=cap_possible,
                guaranteed=product.sku not in setup.known_losers,
                lowest_paid=lowest_paid,
                witness_quote=witness_quote,
            )
        )
    if progress is not None and count:
        progress(count - (count - 1) // PROGRESS_EVERY * PROGRESS_EVERY)
    return CheckReport(
        products=tuple(checks),
        worst_order_margin_fen=None if worst_order is None else worst_order[0],
        worst_order_witness=None if worst_order is None else worst_order[1],
        unchecked_witnesses=count - len(chosen),
        notes=tuple(notes),
    )
