"""Benchmarks of issue 10: a messy catalogue gets a plan, and the business rules in the MILP.

Cases (figures printed, never asserted; run ``python benchmarks/business.py --skus 10000``):

* **messy**: the synthetic catalogue (:mod:`benchmarks.synthetic`) with 1.5% of the SKUs turned
  into cheap accessories (¥9.90–¥40, cost 45–60% of the price, free shipping) that lose money on
  a one-unit order at their everyday price. Measured: ``validate`` (read both files, every
  warning) and ``plan`` (read, plan, verify) on the same files, in the same process, and their
  ratio (target: plan < 3 s and ≤ 5× validate at 10k);
* **rules**: the same catalogue with every business rule on (items join together, price lines,
  heroes hard, a hard quota on one category and a soft store-wide one, a hard category budget,
  prices ending in 9, at most 50 products in B2G1). Measured: plan time, the proven gap, the
  model size, the rules that bind or are violated (target: < 10 s to gap ≤ 0.1% at 10k);
* **plain**: the same messy catalogue without business rules through the plain PuLP reference
  (:mod:`benchmarks.reference`, every product × row a binary, no pruning or decomposition),
  when ``--reference`` is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import catalogue_csv, generate_catalogue, rules_toml

from pricing.commands import load_inputs
from pricing.optimize.planner import PlanOptions, make_plan
from pricing.query_commands import run_validate

BUSINESS = """
[business]
item_joins_together = true
keep_price_order = true
heroes = "hard"

[[business.quota]]
category = "{category}"
min_share = 0.3
max_level = 0.6
priority = "hard"

[[business.quota]]
min_share = 0.2
max_level = 0.7
priority = 500

[[business.budget]]
category = "{budget_category}"
amount = {budget}
priority = "hard"
"""


def messy_catalogue(skus: int, share: float, seed: int = 7) -> str:
    """The synthetic catalogue with ``share`` of its SKUs made cheap losers, price lines set."""
    catalogue = generate_catalogue(skus)
    rng = np.random.default_rng(seed)
    losers = rng.choice(skus, size=max(1, int(skus * share)), replace=False)
    price = rng.uniform(9.9, 40.0, size=len(losers)).round(1)
    catalogue.loc[losers, "list_price"] = price
    catalogue.loc[losers, "lowest_price"] = price
    catalogue.loc[losers, "unit_cost"] = (price * rng.uniform(0.45, 0.6, len(losers))).round(2)
    catalogue.loc[losers, "role"] = "regular"
    # A price line per category and item group of ten items: dearer stays dearer.
    catalogue["price_line"] = (catalogue["category"].astype(str) + "-"
                               + (np.arange(skus) // 40).astype(str))
    return catalogue_csv(catalogue)


def _case(name: str, products: Path, rules: Path, time_limit: float | None) -> None:
    started = time.perf_counter()
    validated = run_validate(products, rules)
    validate_seconds = time.perf_counter() - started
    losers = sum("one-unit order" in w.message for w in validated.warnings)
    started = time.perf_counter()
    inputs = load_inputs(products, rules)
    result = make_plan(inputs.products, inputs.rules, PlanOptions(time_limit=time_limit))
    plan_seconds = time.perf_counter() - started
    plan = result.plan
    gap = "n/a" if plan.solver.gap is None else f"{plan.solver.gap:.4%}"
    print(f"{name}: {len(inputs.products):,} SKUs; validate {validate_seconds:.2f} s"
          f" ({losers} warned about); plan {plan_seconds:.2f} s"
          f" ({plan_seconds / validate_seconds:.1f}× validate): {plan.status.value},"
          f" {plan.solver.method}/{plan.solver.name}, gap {gap},"
          f" {plan.solver.variables:,} variables, {plan.solver.constraints:,} constraints;"
          f" {sum(d.joins for d in plan.products):,} join, {len(plan.excluded)} excluded,"
          f" {len(plan.coupon_excluded)} off the coupons; violations"
          f" {[v.rule for v in plan.violations]}, binding {list(plan.binding_rules)};"
          f" steps {', '.join(f'{k} {v:.2f}' for k, v in result.timings.items())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--share", type=float, default=0.015)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--cases", default="messy,rules")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="price-opt-bench-") as folder:
        base = Path(folder)
        products = base / "products.csv"
        products.write_text(messy_catalogue(options.skus, options.share), encoding="utf-8")
        plain = base / "rules.toml"
        plain.write_text(rules_toml(), encoding="utf-8")
        inputs = load_inputs(products, plain)
        categories = sorted({p.category for p in inputs.products})
        with_rules = base / "rules_business.toml"
        with_rules.write_text(
            rules_toml().replace("[b2g1]", '[b2g1]\nmax_products = 50', 1)
            .replace("[ladder]", '[ladder]\nprice_ending = "9"', 1)
            + BUSINESS.format(category=categories[0], budget_category=categories[-1],
                              budget=options.skus * 100),
            encoding="utf-8",
        )
        cases = options.cases.split(",")
        if "messy" in cases:
            _case("messy", products, plain, options.time_limit)
        if "rules" in cases:
            _case("every rule", products, with_rules, options.time_limit)


if __name__ == "__main__":
    main()
