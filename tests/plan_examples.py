"""Small hand-made catalogues and plans for the plan file, export and report tests.

A plan here is built the way the planner builds one, without solving: each product's level and
B2G1 are given, prices come from the ladder, and the worst unit margin from the exact checker.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from models.money import format_yuan
from models.plan import Plan, PlanInputs, PlanStatus, ProductDecision, SolverInfo
from models.product import Product, Role
from models.rules import CouponTier, PlatformRules, Rules, StoreRules
from pricing.engine.signup import ladder_price_fen, meets_signup
from pricing.formats.rules import rules_to_dict
from pricing.formats.tables import file_sha256
from pricing.optimize.candidates import ProductArrays, build_candidates
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.planner import store_margin_rate
from pricing.verify.checker import CheckReport, StoreSetup, check_store

RULES = Rules(
    platform=PlatformRules(commission_rate=Decimal("0.05")),
    store=StoreRules(shipping_cost_fen=800, handling_cost_fen=150),
)
TIERS = (
    CouponTier(threshold_fen=19900, amount_fen=1500),
    CouponTier(threshold_fen=39900, amount_fen=3000),
)


def catalogue() -> tuple[Product, ...]:
    """Five model cars; one title and one item ID look like formulas, as a hostile file might."""
    return (
        Product(sku="M18-911-WH", item_id="680123450001",
                title="1:18 保时捷911 GT3 RS 合金车模 白色", role=Role.HERO,
                list_price_fen=89900, lowest_price_fen=89900,
                unit_cost_fen=30000, stock=600, base_units=420.0, purchase_limit=2),
        Product(sku="M18-GTR-BK", item_id="680123450003", title="=HYPERLINK(\"http://x\",\"点我\")",
                list_price_fen=79900, lowest_price_fen=79900, unit_cost_fen=27000, stock=500,
                base_units=380.0, purchase_limit=3),
        Product(sku="M24-AE86", item_id="-680123450018", title="1:24 丰田AE86 头文字D",
                list_price_fen=25900, lowest_price_fen=25900, unit_cost_fen=8500, stock=2000,
                base_units=900.0),
        Product(sku="M24-BTL-YL", item_id="680123450021", title="@大众甲壳虫 经典款",
                list_price_fen=19900, lowest_price_fen=19900, unit_cost_fen=6400, stock=40,
                base_units=650.0),
        Product(sku="M64-MINI", item_id="680123450040", title="1:64 Mini Cooper 小比例",
                list_price_fen=5900, lowest_price_fen=5900, unit_cost_fen=1800, stock=3000,
                base_units=1500.0, b2g1_eligible=False),
    )


DEFAULT_CHOICES: dict[str, tuple[Decimal | None, bool]] = {
    "M18-911-WH": (Decimal("0.85"), False),
    "M18-GTR-BK": (Decimal("0.80"), True),
    "M24-AE86": (Decimal("0.85"), True),
    "M24-BTL-YL": (Decimal("0.90"), False),
    "M64-MINI": (None, False),  # stays out at its everyday price
}


def build_plan(
    products: Sequence[Product] | None = None,
    rules: Rules = RULES,
    choices: Mapping[str, tuple[Decimal | None, bool]] | None = None,
    tiers: tuple[CouponTier, ...] = TIERS,
    inputs: PlanInputs | None = None,
) -> tuple[Plan, CheckReport]:
    """A plan with the given levels (``None``: stays out) and B2G1, checked exactly."""
    products = tuple(products if products is not None else catalogue())
    choices = choices if choices is not None else DEFAULT_CHOICES
    levels = [choices.get(p.sku, (None, False))[0] or Decimal(1) for p in products]
    joins = [choices.get(p.sku, (None, False))[0] is not None for p in products]
    prices = [
        int(ladder_price_fen(np.array([p.list_price_fen], dtype=np.int64), level)[0])
        for p, level in zip(products, levels, strict=True)
    ]
    members = frozenset(
        p.sku for p, j in zip(products, joins, strict=True)
        if j and choices.get(p.sku, (None, False))[1]
    )
    setup = StoreSetup(products=products, prices_fen=tuple(prices), coupon_tiers=tiers,
                       b2g1_members=members, rules=rules,
                       event_members=frozenset(
                           p.sku for p, j in zip(products, joins, strict=True) if j))
    check = check_store(setup)
    signup = meets_signup(
        np.array(prices, dtype=np.int64),
        np.array([p.list_price_fen for p in products], dtype=np.int64),
        np.array([p.lowest_price_fen for p in products], dtype=np.int64),
        rules,
    )
    decisions = []
    for j, product in enumerate(products):
        units = round(product.base_units * (1.4 if joins[j] else 1.0), 3)
        revenue = round(units * prices[j])
        decisions.append(ProductDecision(
            sku=product.sku, item_id=product.item_id, title=product.title, joins=joins[j],
            list_price_fen=product.list_price_fen, activity_price_fen=prices[j],
            level=levels[j], b2g1=product.sku in members, expected_units=units,
            expected_revenue_fen=revenue,
            expected_profit_fen=round(units * (prices[j] - product.unit_cost_fen)),
            worst_unit_margin_fen=check.products[j].bound_fen,
            meets_signup=bool(signup[j]) or not joins[j],
        ))
    plan = Plan(
        status=PlanStatus.OPTIMAL,
        objective_fen=sum(d.expected_profit_fen for d in decisions),
        expected_revenue_fen=sum(d.expected_revenue_fen for d in decisions),
        baseline_profit_fen=sum(round(p.base_units * (p.list_price_fen - p.unit_cost_fen))
                                for p in products),
        baseline_revenue_fen=sum(round(p.base_units * p.list_price_fen) for p in products),
        expected_discount_spend_fen=123456,
        solver=SolverInfo(name="hand", method="test", status="optimal", gap=0.0, seconds=0.01),
        coupon_tiers=tiers,
        b2g1=bool(members),
        worst_unit_margin_fen=min(d.worst_unit_margin_fen for d in decisions),
        products=tuple(decisions),
        inputs=inputs,
    )
    return plan, check


def write_products_csv(path: Path, products: Sequence[Product]) -> Path:
    """The products as a products file (UTF-8 with BOM, English headers)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "item_id", "title", "role", "list_price", "lowest_price",
                         "unit_cost", "stock", "base_units", "purchase_limit", "b2g1"])
        for p in products:
            writer.writerow([
                p.sku, p.item_id, p.title, p.role.value, format_yuan(p.list_price_fen),
                format_yuan(p.lowest_price_fen), format_yuan(p.unit_cost_fen), p.stock,
                p.base_units, p.purchase_limit or "", "yes" if p.b2g1_eligible else "no",
            ])
    return path


def toml_text(document: dict[str, dict[str, Any]]) -> str:
    """A minimal TOML writer for what rules_to_dict returns (strings, numbers, lists)."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, str):
            return json.dumps(item)
        if isinstance(item, list):
            return "[" + ", ".join(value(part) for part in item) + "]"
        return repr(item)

    return "".join(
        f"[{section}]\n" + "".join(f"{key} = {value(item)}\n" for key, item in entries.items())
        for section, entries in document.items()
    )


def write_rules_toml(path: Path, rules: Rules) -> Path:
    """The rules as a rules file."""
    path.write_text(toml_text(rules_to_dict(rules)), encoding="utf-8")
    return path


def plan_with_files(
    directory: Path,
    products: Sequence[Product] | None = None,
    rules: Rules = RULES,
    choices: Mapping[str, tuple[Decimal | None, bool]] | None = None,
    tiers: tuple[CouponTier, ...] = TIERS,
) -> tuple[Plan, CheckReport, Path]:
    """A plan whose inputs are real files in ``directory``; returns the plan file's path too."""
    from pricing.formats.plans import write_plan

    products = tuple(products if products is not None else catalogue())
    products_path = write_products_csv(directory / "products.csv", products)
    rules_path = write_rules_toml(directory / "rules.toml", rules)
    inputs = PlanInputs(
        products_file=str(products_path), products_sha256=file_sha256(products_path),
        rules_file=str(rules_path), rules_sha256=file_sha256(rules_path),
        rules=rules_to_dict(rules), created_at="2025-10-20T09:30:00+08:00",
        price_opt_version="0.1.0",
    )
    plan, check = build_plan(products, rules, choices, tiers, inputs)
    plan_path = directory / "plan.json"
    write_plan(plan, plan_path)
    return plan, check, plan_path


LOSING_CHOICES = {**DEFAULT_CHOICES, "M24-AE86": (Decimal("0.55"), True)}  # a cart loses
SIGNUP_FAILING_CHOICES = {**DEFAULT_CHOICES, "M24-BTL-YL": (Decimal("0.95"), False)}  # 5% off


def table_brute_force(products: list[Product], rules: Rules) -> float:
    """The best profit over every ladder and every product's valid rows the safety bits allow."""
    table = build_candidates(products, rules)
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    best = -np.inf
    for index, mask in enumerate(ladders.masks.tolist()):
        allowed = table.valid & ((table.unsafe & mask) == 0)
        if not allowed.any(axis=1).all():
            continue
        profit = np.where(allowed, np.rint(table.profit), -np.inf).max(axis=1).sum()
        best = max(best, float(profit) + round(float(ladders.value[index])))
    return best
