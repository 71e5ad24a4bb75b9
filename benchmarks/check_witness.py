"""Time ``check`` (the witness search and the bounds) on a synthetic catalogue.

The catalogue of :mod:`benchmarks.synthetic` at 50% off (5折), every coupon candidate of its
rules on offer and every B2G1-eligible product in buy-two-get-one: the checker's hardest
everyday case. Prints CPU seconds of this process, wall seconds and the load average (the
machine is shared), with the products proven safe, losing and unproven.

    python benchmarks/check_witness.py 2000
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import write_case
from pricing.formats.products import load_products
from pricing.formats.rules import load_rules
from pricing.verify.margin_check import discount_prices_fen, margin_check
from pricing.verify.policy import WITNESSES


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    with tempfile.TemporaryDirectory() as folder:
        case = write_case(Path(folder), count)
        products, _ = load_products(case.products)
        rules = load_rules(case.rules)
    prices = discount_prices_fen(products, Decimal("0.5"))
    members = [p.sku for p in products if p.b2g1_eligible]
    cpu, wall = time.process_time(), time.perf_counter()
    check = margin_check(products, rules, prices, rules.coupons.candidates, members,
                         witnesses_for=WITNESSES.for_check(len(products)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    safe = sum(row.proven_safe for row in check.products)
    print(f"{count} SKUs, 5折, {len(rules.coupons.candidates)} coupon tiers, "
          f"{len(members)} B2G1 members: check {cpu:.2f} s CPU, {wall:.2f} s wall "
          f"(load {os.getloadavg()[0]:.2f}); {safe} proven safe, {len(check.losers)} losing, "
          f"{len(check.unproven)} unproven")


if __name__ == "__main__":
    main()
