"""Check a store's margins at given activity prices: the worst cart for every product.

This is what ``price-opt check`` runs. It prices the catalogue (every product at
``list_price × (1 − discount)``, or at a plan's prices), states what a buyer may stack, asks the
exact checker (:func:`pricing.verify.checker.check_store`) for the worst cart of every product, and
reports per product the activity price, the worst unit margin a real cart gives (the witness
cart, quoted exactly), the proven lower bound next to it, and whether the price meets the
platform's sign-up rules.

What the check assumes (the defaults of ``price-opt check``):

* **At a discount** (``--discount 0.5``): every product joins at ``list × (1 − discount)``,
  rounded half up to the fen; the store offers *every* coupon candidate of the rules, since the
  buyer takes the best coupon the cart reaches and more tiers can only make the worst cart
  worse (``--coupons 299-20,599-50`` or ``--no-coupons`` narrow it); buy-two-get-one is off
  unless asked for (``--b2g1``: every B2G1-eligible product joins it).
* **Under a plan** (``--plan PLAN``): the plan's own activity prices, coupon tiers and B2G1
  members; products that do not join stay at their everyday price and still bear the store
  coupons and the platform mechanism (cross-store reduction or official discount).
* Always: the platform's mechanism, commission, shipping per order (the store ships free),
  handling per unit and purchase limits from the rules and the catalogue; any amount bought in
  other stores of the cross-store pool; no red packets (they are platform-funded and never
  change what the merchant receives).

A product **loses** when a real cart (its witness) sells one of its units below cost; it is
**proven safe** when the checker's bound, a lower bound over *every* cart, is at or above the
margin floor. A product can be neither: the bound is cautious (rounding allowance, a full
third for B2G1) and no losing cart was found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.cart import Cart
from models.money import fen_times_rate, format_yuan, fraction_floor_fen, super_instant_unit_fen
from models.product import Product
from models.rules import (
    CouponTier,
    Mechanism,
    PiecesOffer,
    Rules,
    SignupCheck,
    StoreTools,
    mechanism_label,
)
from pricing.engine.signup import cycle_coupon_fen, lowest_coupon_prices_fen, meets_signup
from pricing.errors import InputError, Problem
from pricing.formats.atomic import write_text_atomic
from pricing.formats.carts import cart_to_json
from pricing.formats.tiers import TierTextError, parse_tier
from pricing.verify.checker import CheckReport, StoreSetup, check_store

DEFAULT_DISCOUNT = Decimal("0.5")


# --- pricing the catalogue -------------------------------------------------------------------


_ZH_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6",
              "七": "7", "八": "8", "九": "9"}
_ZHE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*折$")


def parse_discount(text: str, source: str = "--discount") -> Decimal:
    """A discount as the share taken off the everyday price, in the merchandiser's words.

    ``"5折"`` (pay 5 tenths: 0.5 off), ``"8.5折"`` or ``"八五折"`` (0.15 off), ``"50%"`` or
    ``"50% off"`` (0.5 off), ``"0.5"`` (a share off: 0.5). The result is in [0, 1).
    """
    cleaned = text.strip().lower().replace("％", "%").replace(" ", "")
    cleaned = cleaned.removesuffix("off").removeprefix("减")
    value = Decimal("NaN")
    try:
        if cleaned.endswith("折"):
            digits = "".join(_ZH_DIGITS.get(char, char) for char in cleaned[:-1])
            if digits and all(char in _ZH_DIGITS for char in cleaned[:-1]) and len(digits) == 2:
                digits = f"{digits[0]}.{digits[1]}"  # 八五折 is 8.5折
            match = _ZHE.match(digits + "折")
            if match is not None:
                tenths = Decimal(match.group(1))
                value = Decimal(1) - tenths / 10 if 0 < tenths <= 10 else Decimal("NaN")
        elif re.fullmatch(r"[0-9]*\.?[0-9]+%", cleaned):
            value = Decimal(cleaned[:-1]) / 100
        elif re.fullmatch(r"[0-9]*\.?[0-9]+", cleaned):
            value = Decimal(cleaned)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not (0 <= value < 1):
        raise InputError(
            [
                Problem(
                    source,
                    "expected a discount such as 5折, 8.5折, 50% or 0.5 (the share off)",
                    value=text,
                )
            ]
        )
    return value


def discounted_price_fen(list_price_fen: int, discount: Decimal) -> int:
    """``list_price × (1 − discount)``, rounded half up to the fen."""
    if not (0 <= discount < 1):
        raise ValueError("the discount must be in [0, 1)")
    return fen_times_rate(list_price_fen, 1 - discount)


def discount_prices_fen(products: Sequence[Product], discount: Decimal) -> dict[str, int]:
    """Every product's activity price at ``discount`` off its everyday price."""
    return {p.sku: discounted_price_fen(p.list_price_fen, discount) for p in products}


def parse_coupon_tiers(text: str, source: str = "--coupons") -> tuple[CouponTier, ...]:
    """Coupon tiers written as the merchandiser says them: ``"0-5,299-20,599-50"`` (yuan),
    or ``"满299减20,满599减50"``.

    Each tier is ``threshold-amount`` ("spend T save A"; threshold 0 is a no-threshold coupon).
    Every bad tier is reported at once.
    """
    problems: list[Problem] = []
    tiers: dict[int, CouponTier] = {}
    for position, part in enumerate(p for p in text.split(",") if p.strip()):
        where = f"tier {position + 1}"
        try:
            tier = parse_tier(part)
        except TierTextError as error:
            problems.append(Problem(source, f"{where}: {error}", value=part.strip()))
            continue
        threshold = tier.threshold_fen
        if threshold in tiers:
            problems.append(
                Problem(source, f"{where}: two tiers share a threshold", value=part.strip())
            )
        tiers[threshold] = tier
    if not tiers and not problems:
        problems.append(Problem(source, "no coupon tiers given (use --no-coupons for none)"))
    if problems:
        raise InputError(problems)
    return tuple(sorted(tiers.values(), key=lambda tier: tier.threshold_fen))


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductMargin:
    """One product's verdict: its price, the worst real cart, the proven bound, sign-up."""

    sku: str
    title: str
    list_price_fen: int
    activity_price_fen: int
    joins: bool
    floor_fen: int
    proven_bound_fen: int
    witness: Cart | None
    witness_margin: Fraction | None
    meets_signup: bool | None  # None: the product does not join, so it does not sign up

    @property
    def worst_unit_margin_fen(self) -> int | None:
        """The witness cart's exact unit margin, rounded down to the fen (None: no witness)."""
        return None if self.witness_margin is None else fraction_floor_fen(self.witness_margin)

    @property
    def loses(self) -> bool:
        """A real cart (the witness) sells one of this product's units below cost."""
        return self.witness_margin is not None and self.witness_margin < 0

    @property
    def proven_safe(self) -> bool:
        """No cart at all can take a unit below its margin floor."""
        return self.proven_bound_fen >= self.floor_fen


@dataclass(frozen=True)
class MarginCheck:
    """The verdict on a whole catalogue, with what the check assumed."""

    products: tuple[ProductMargin, ...]
    coupon_tiers: tuple[CouponTier, ...]
    b2g1_members: frozenset[str]
    report: CheckReport
    notes: tuple[str, ...]
    # The 2026 platform rules the verdict rests on (store tools, what the sign-up check
    # counts), also in ``notes``; shown by ``check`` beside its assumptions.
    platform_notes: tuple[str, ...] = ()
    # Products that fail the 2026 sign-up check only because short coupons are not counted.
    signup_failing_short_coupons: int = 0
    # The store-wide multi-piece offer the prices run with (a plan's pieces offer), if any.
    pieces_offer: PiecesOffer | None = None

    @property
    def losers(self) -> tuple[ProductMargin, ...]:
        """Products a real cart sells below cost, worst first."""
        losing = [row for row in self.products if row.loses]
        return tuple(sorted(losing, key=lambda row: row.witness_margin or Fraction(0)))

    @property
    def unproven(self) -> tuple[ProductMargin, ...]:
        """Products neither proven safe nor shown to lose (the bound is cautious)."""
        return tuple(row for row in self.products if not row.proven_safe and not row.loses)

    @property
    def passes(self) -> bool:
        """Every product is proven to keep its margin floor in every cart."""
        return all(row.proven_safe for row in self.products)

    @property
    def worst_order_margin_fen(self) -> int | None:
        """The least order margin among the witness carts (a real order)."""
        return self.report.worst_order_margin_fen

    @property
    def order_bound_fen(self) -> int | None:
        """A proven lower bound on any order's margin (None when some unit bound is negative)."""
        return self.report.order_bound_fen


def _check_prices(
    products: Sequence[Product],
    prices_fen: Mapping[str, int],
    b2g1_members: Collection[str],
    source: str,
) -> None:
    known = {p.sku for p in products}
    problems = [
        Problem(source, "a SKU with an activity price is not in the products file",
                column="sku", value=sku)
        for sku in sorted(set(prices_fen) - known)
    ]
    problems += [
        Problem(source, "an activity price must be at least 0.01", column=sku,
                value=format_yuan(price))
        for sku, price in prices_fen.items()
        if price <= 0
    ]
    problems += [
        Problem(source, "a buy-two-get-one member is not in the products file",
                column="sku", value=sku)
        for sku in sorted(set(b2g1_members) - known)
    ]
    if problems:
        raise InputError(problems)


def margin_check(
    products: Sequence[Product],
    rules: Rules,
    prices_fen: Mapping[str, int],
    coupon_tiers: Sequence[CouponTier],
    b2g1_members: Collection[str],
    witnesses_for: int | None = None,
    source: str = "prices",
    pieces_offer: PiecesOffer | None = None,
    super_instant: Mapping[str, Decimal] | None = None,
) -> MarginCheck:
    """Find every product's worst cart at the given prices (see the module docstring).

    ``prices_fen`` holds the activity price of each joining SKU; products not in it stay at
    their everyday price. ``witnesses_for`` limits witness carts to the worst products (None:
    every product gets one). A SKU priced or put in B2G1 that the catalogue lacks, or a price
    below a fen, is an :class:`InputError` naming ``source``.
    """
    _check_prices(products, prices_fen, b2g1_members, source)
    prices = [prices_fen.get(p.sku, p.list_price_fen) for p in products]
    tiers = tuple(sorted(coupon_tiers, key=lambda tier: tier.threshold_fen))
    members = frozenset(b2g1_members)
    setup = StoreSetup(
        products=tuple(products),
        prices_fen=tuple(prices),
        coupon_tiers=tiers,
        b2g1_members=members,
        rules=rules,
        pieces_offer=pieces_offer,
        super_instant={sku: rate for sku, rate in (super_instant or {}).items()
                       if sku in prices_fen},
    )
    report = check_store(setup, witnesses_for=witnesses_for)
    price_array = np.asarray(prices, dtype=np.int64)
    list_prices = np.asarray([p.list_price_fen for p in products], dtype=np.int64)
    lowest = np.asarray([p.lowest_price_fen for p in products], dtype=np.int64)
    lowest_coupon = lowest_coupon_prices_fen(products)
    super_fen = np.array(
        [super_instant_unit_fen(price, setup.super_instant[p.sku])
         if p.sku in setup.super_instant else 0
         for p, price in zip(products, prices, strict=True)],
        dtype=np.int64,
    )
    signup = meets_signup(
        price_array, list_prices, lowest, rules, lowest_coupon_price_fen=lowest_coupon,
        universal_offer_fen=cycle_coupon_fen(price_array, tiers, rules) + super_fen,
    )
    joins = np.asarray([p.sku in prices_fen for p in products], dtype=bool)
    checked = joins & (lowest_coupon > 0)
    failing_for_short = joins & ~signup & meets_signup(
            price_array, list_prices, lowest, rules, lowest_coupon_price_fen=lowest_coupon,
            universal_offer_fen=cycle_coupon_fen(
                price_array, tiers, rules.model_copy(update={"platform": rules.platform.model_copy(
                    update={"coupons_cover_cycle": True})})
            ) + super_fen,
        )
    cycle_notes = _cycle_notes(rules, tiers, checked)
    failing = int(failing_for_short.sum()) if cycle_notes else 0
    failing_note = (
        (f"{failing} product(s) fail the sign-up check only because the coupons are not "
         "counted; they would pass with coupons covering the cycle",)
        if failing and not rules.platform.coupons_cover_cycle else ()
    )
    rows = tuple(
        ProductMargin(
            sku=product.sku,
            title=product.title,
            list_price_fen=product.list_price_fen,
            activity_price_fen=price,
            joins=product.sku in prices_fen,
            floor_fen=check.floor_fen,
            proven_bound_fen=check.bound_fen,
            witness=check.witness,
            witness_margin=check.witness_margin,
            meets_signup=bool(ok) if product.sku in prices_fen else None,
        )
        for product, price, check, ok in zip(
            products, prices, report.products, signup.tolist(), strict=True
        )
    )
    return MarginCheck(
        products=rows,
        coupon_tiers=tiers,
        b2g1_members=members,
        report=report,
        notes=(*_notes(rules, tiers, members, report, pieces_offer), *cycle_notes,
               *failing_note),
        platform_notes=(_store_tools_note(rules), *cycle_notes),
        signup_failing_short_coupons=failing if failing_note else 0,
        pieces_offer=pieces_offer,
    )


def _store_tools_note(rules: Rules) -> str:
    return store_tools_note(rules)


def store_tools_note(rules: Rules) -> str:
    """The store-tools setting in force, as ``check`` and ``validate`` say it (English; the
    outputs translate it)."""
    if rules.platform.store_tools is StoreTools.EXCLUSIVE:
        return ("store tools: exclusive (since 2026-03-10: a line takes the coupon or the "
                "multi-piece offer, whichever saves the buyer more)")
    return ("store tools: stacked (before 2026-03-10: the coupon stacks with the multi-piece "
            "offer)")


def _cycle_notes(
    rules: Rules,
    tiers: Sequence[CouponTier],
    checked: npt.NDArray[np.bool_],
) -> tuple[str, ...]:
    """What the 2026 sign-up check counts, said where it changes a verdict or a proof."""
    if rules.platform.signup_check is not SignupCheck.RULES_2026 or not tiers:
        return ()
    if not checked.any():
        return ()
    if rules.platform.coupons_cover_cycle:
        return (
            "sign-up (2026): the store coupon one unit reaches counts in the price after "
            "universal offers, as the coupons cover the whole activity cycle",
        )
    return (
        "sign-up (2026): the store coupons do not cover the whole activity cycle "
        "(coupons_cover_cycle = false), so the sign-up check does not count them; buyers still "
        "stack them, and the no-loss proof above counts them",
    )


def _notes(
    rules: Rules, tiers: Sequence[CouponTier], members: frozenset[str], report: CheckReport,
    pieces_offer: PiecesOffer | None = None,
) -> tuple[str, ...]:
    platform, store = rules.platform, rules.store
    mechanism = mechanism_label(platform) + (
        ", topped up in other stores" if platform.mechanism is Mechanism.CROSS_STORE else ""
    )
    notes = [
        "coupons: " + (", ".join(tier.label for tier in tiers) if tiers else "none")
        + " (the buyer uses the best one the cart reaches)",
        "buy two get one: "
        + (f"{len(members)} product(s)" if members else "off"),
        f"platform: {mechanism}; commission {platform.commission_rate}",
        _store_tools_note(rules),
        f"costs: shipping {format_yuan(store.shipping_cost_fen)} per order,"
        f" handling {format_yuan(store.handling_cost_fen)} per unit",
    ]
    if pieces_offer is not None:
        notes.insert(2, f"multi-piece offer: {pieces_offer.label} (store-wide)")
    notes.extend(report.notes)
    if report.unchecked_witnesses:
        notes.append(
            f"{report.unchecked_witnesses} product(s) far from their floor got no witness cart"
        )
    return tuple(notes)


# --- output ----------------------------------------------------------------------------------


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def margin_check_to_json(check: MarginCheck) -> dict[str, Any]:
    """The public JSON form: money as two-decimal strings, witnesses as cart files."""
    return {
        "products": [
            {
                "sku": row.sku,
                "title": row.title,
                "activity_price": format_yuan(row.activity_price_fen),
                "joins": row.joins,
                "worst_unit_margin": _yuan(row.worst_unit_margin_fen),
                "proven_bound": format_yuan(row.proven_bound_fen),
                "loses": row.loses,
                "proven_safe": row.proven_safe,
                "meets_signup": row.meets_signup,
                "witness": None if row.witness is None else cart_to_json(row.witness),
            }
            for row in check.products
        ],
        "coupon_tiers": [
            {"threshold": format_yuan(t.threshold_fen), "amount": format_yuan(t.amount_fen)}
            for t in check.coupon_tiers
        ],
        "b2g1_members": sorted(check.b2g1_members),
        "worst_order_margin": _yuan(check.worst_order_margin_fen),
        "order_bound": _yuan(check.order_bound_fen),
        "passes": check.passes,
        "loses": bool(check.losers),
        "notes": list(check.notes),
    }


_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def witness_file_name(sku: str) -> str:
    """A file name for a SKU's witness cart: ``<sku>.json`` with unsafe characters replaced."""
    stem = _UNSAFE_NAME.sub("_", sku).strip("._") or "product"
    return f"{stem}.json"


def write_witnesses(
    check: MarginCheck,
    directory: Path,
    before_writing: Callable[[list[Path]], None] | None = None,
) -> list[Path]:
    """Write each losing product's witness cart to ``directory`` (atomically), one file each.

    The files are cart files ``price-opt quote`` reads. ``before_writing`` sees every path
    first (and may refuse by raising) before anything is written. Returns the paths, losers
    worst first.
    """
    if directory.exists() and not directory.is_dir():
        raise InputError([Problem("--witness-dir", "expected a folder, not a file",
                                  value=str(directory))])
    planned: list[tuple[Path, Cart]] = []
    used: set[str] = set()
    for row in check.losers:
        if row.witness is None:
            continue
        name = witness_file_name(row.sku)
        stem, count = name.removesuffix(".json"), 1
        while name.casefold() in used:
            count += 1
            name = f"{stem}-{count}.json"
        used.add(name.casefold())
        planned.append((directory / name, row.witness))
    if before_writing is not None:
        before_writing([path for path, _ in planned])
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError([Problem("--witness-dir", f"cannot create the folder: "
                                  f"{error.strerror or error}", value=str(directory))]) from None
    written: list[Path] = []
    for path, witness in planned:
        text = json.dumps(cart_to_json(witness), ensure_ascii=False, indent=2) + "\n"
        write_text_atomic(path, text)
        written.append(path)
    return written
