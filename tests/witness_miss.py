"""How often the witness search misses the worst cart, measured against a brute force.

Seeded generated stores of three or four products (B2G1 run by most stores, purchase limits
on many products, every mechanism and both store-tool settings); for each product the brute
force quotes every cart of up to three units of each product (and cross-store top-ups), and
the witness "misses" when it leaves a unit more than the splits' rounding (3 fen) above the
brute-force worst. Products are counted by kind: B2G1 members, products with a purchase
limit (and not in B2G1), and the rest. Run ``python tests/witness_miss.py 300`` to print the
rates (the README's figures are ``python tests/witness_miss.py 500``); ``tests/test_checker.py``
runs it on 500 stores as a slow test.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.product import Product
from models.rules import (
    CouponRules,
    CouponTier,
    Mechanism,
    PlatformRules,
    Rules,
    StoreRules,
    StoreTools,
)
from pricing.verify.checker import StoreSetup, check_store

SPLIT_ROUNDING_FEN = 3
CANDIDATES = ((0, 500), (9_900, 1_000), (19_900, 1_500), (29_900, 2_000), (59_900, 5_000),
              (99_900, 12_300))


def random_store(rng: random.Random) -> StoreSetup:
    count = rng.choice((3, 3, 4))
    products = []
    for index in range(count):
        list_price = rng.randint(1_000, 120_000)
        products.append(Product(
            sku=f"P{index + 1}", list_price_fen=list_price, lowest_price_fen=list_price,
            unit_cost_fen=rng.randint(0, list_price * 3 // 4), stock=100, base_units=10.0,
            purchase_limit=rng.choice((None, None, 1, 2, 3, 4)),
            b2g1_eligible=rng.random() < 0.8,
        ))
    rules = Rules(
        platform=PlatformRules(
            commission_rate=Decimal(rng.randint(0, 100)) / 1000,
            mechanism=rng.choice(list(Mechanism)),
            cross_store_every_fen=rng.choice((20_000, 30_000, 40_000)),
            cross_store_save_fen=rng.choice((3_000, 5_000)),
            official_rate=Decimal(rng.randint(0, 20)) / 100,
            store_tools=rng.choice(list(StoreTools)),
        ),
        store=StoreRules(shipping_cost_fen=rng.choice((0, 600, 800, 1_000)),
                         handling_cost_fen=rng.choice((0, 150))),
        coupons=CouponRules(candidates=tuple(
            CouponTier(threshold_fen=t, amount_fen=a) for t, a in CANDIDATES)),
    )
    prices = tuple(rng.randint(max(1, p.list_price_fen // 3), p.list_price_fen)
                   for p in products)
    tiers = tuple(t for t in rules.coupons.candidates if rng.random() < 0.5)
    run_b2g1 = rng.random() < 0.8
    members = frozenset(p.sku for p in products
                        if run_b2g1 and p.b2g1_eligible and rng.random() < 0.8)
    return StoreSetup(products=tuple(products), prices_fen=prices, coupon_tiers=tiers,
                      b2g1_members=members, rules=rules)


@dataclass
class MissRate:
    """Products checked and witnesses missed, by kind."""

    checked: dict[str, int] = field(default_factory=lambda: {"b2g1": 0, "limited": 0,
                                                             "other": 0})
    missed: dict[str, int] = field(default_factory=lambda: {"b2g1": 0, "limited": 0,
                                                            "other": 0})
    # B2G1 members with a limit: the bound below the brute-force worst, and below the worst
    # cart known (the brute force's or the witness, which may hold more units).
    bound_gap_fen: list[int] = field(default_factory=list)
    bound_gap_known_fen: list[int] = field(default_factory=list)

    def rate(self, kind: str) -> float:
        return self.missed[kind] / self.checked[kind] if self.checked[kind] else 0.0

    def render(self) -> str:
        return ", ".join(
            f"{kind}: {self.missed[kind]}/{self.checked[kind]} ({self.rate(kind):.1%})"
            for kind in self.checked
        )


def measure(stores: int, seed: int = 20261111) -> MissRate:
    from test_checker import brute_force  # the brute force of the checker's tests

    rng = random.Random(seed)
    result = MissRate()
    for _ in range(stores):
        setup = random_store(rng)
        report = check_store(setup)
        brute = brute_force(setup)
        for product, check in zip(setup.products, report.products, strict=True):
            least, _ = brute.unit[check.sku]
            assert least >= check.bound_fen, (setup, check.sku)
            kind = ("b2g1" if product.sku in setup.b2g1_members
                    else "limited" if product.purchase_limit is not None else "other")
            result.checked[kind] += 1
            assert check.witness_margin is not None
            if check.witness_margin > least + SPLIT_ROUNDING_FEN:
                result.missed[kind] += 1
            if kind == "b2g1" and product.purchase_limit is not None:
                result.bound_gap_fen.append(int(least) - check.bound_fen)
                known = min(least, check.witness_margin)
                result.bound_gap_known_fen.append(int(known) - check.bound_fen)
    return result


if __name__ == "__main__":
    measured = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print(measured.render())
    for label, measured_gaps in (("the brute-force worst", measured.bound_gap_fen),
                                 ("the worst cart known", measured.bound_gap_known_fen)):
        gaps = sorted(measured_gaps)
        if gaps:
            print(f"bound below {label}, B2G1 members with a limit ({len(gaps)}): median "
                  f"{gaps[len(gaps) // 2] / 100:.2f}, max {gaps[-1] / 100:.2f} yuan")
