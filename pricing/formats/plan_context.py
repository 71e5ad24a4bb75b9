"""A plan's context: the products and rules to judge it by, found from what the plan records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.plan import Plan
from models.product import Product, Role
from models.rules import Rules
from pricing.errors import InputError, Problem
from pricing.formats.products import load_products
from pricing.formats.rules import load_rules, rules_from_document, rules_to_dict
from pricing.formats.tables import file_sha256


@dataclass(frozen=True)
class PlanContext:
    """A plan with the products and rules to judge it by, and warnings for the user."""

    plan: Plan
    products: tuple[Product, ...]
    rules: Rules
    warnings: tuple[str, ...] = ()


def rules_from_record(record: Mapping[str, Any], source: str) -> Rules:
    """The rules a plan recorded (``inputs.rules``, in the rules file's keys), read back.

    Checked exactly like a rules file (:func:`pricing.formats.rules.rules_from_document`);
    problems name ``<plan> inputs.rules``.
    """
    return rules_from_document(record, f"{source} inputs.rules")


def _find_recorded(recorded: str, plan_path: Path | None) -> Path | None:
    candidate = Path(recorded)
    if candidate.is_file():
        return candidate
    if plan_path is not None and not candidate.is_absolute():
        beside = plan_path.parent / candidate
        if beside.is_file():
            return beside
    return None


def rules_differences(recorded: Rules, current: Rules, limit: int = 6) -> list[str]:
    """The rules keys whose values differ, as ``section.key: recorded → current``."""
    before, after = rules_to_dict(recorded), rules_to_dict(current)
    differences = [
        f"{section}.{key}: {before.get(section, {}).get(key)!r} → "
        f"{after.get(section, {}).get(key)!r}"
        for section in sorted(set(before) | set(after))
        for key in sorted(set(before.get(section, {})) | set(after.get(section, {})))
        if before.get(section, {}).get(key) != after.get(section, {}).get(key)
    ]
    if len(differences) > limit:
        differences = [*differences[:limit], f"… and {len(differences) - limit} more"]
    return differences


def _recorded_file(
    recorded: str | None,
    sha256: str | None,
    what: str,
    plan_path: Path | None,
    source: str,
    warnings: list[str],
) -> Path:
    """The input file the plan records (as given, or beside the plan file); a file whose
    SHA-256 differs from the recorded one is a warning. ``what`` names it in the messages."""
    option = "--products" if what == "products" else "--rules"
    if not recorded:
        raise InputError([Problem(
            source, f"the plan does not record its {what} file; pass {option}",
        )])
    found = _find_recorded(recorded, plan_path)
    if found is None:
        made = "made from" if what == "products" else "made with the rules in"
        raise InputError([Problem(
            source, f"the plan was {made} {recorded}, which is not there any more; pass {option}",
        )])
    if sha256 and file_sha256(found) != sha256:
        warnings.append(f"{found} has changed since the plan was made (its SHA-256 differs)")
    return found


def _judged_rules(
    plan: Plan, rules_path: Path, explicit: bool, source: str, warnings: list[str]
) -> Rules:
    """The rules file read now; the rules the plan records must match it unless ``explicit``
    (``--rules`` given: then a difference is a warning)."""
    rules = load_rules(rules_path)
    if plan.inputs is None or not plan.inputs.rules:
        return rules
    differences = rules_differences(rules_from_record(plan.inputs.rules, source), rules)
    if differences and not explicit:
        raise InputError([Problem(
            source,
            f"the rules the plan records differ from {rules_path} ("
            + "; ".join(differences) + "); pass --rules to judge the plan by a rules file",
        )])
    if differences:
        warnings.append(
            f"the plan was made with other rules than {rules_path}, which it is judged by: "
            + "; ".join(differences)
        )
    return rules


def _check_plan_products(
    plan: Plan, products: Sequence[Product], products_path: Path, source: str,
    warnings: list[str],
) -> None:
    """Every joining SKU must be in the products and the plan must list some; products the
    plan leaves out and changed everyday prices are warnings."""
    by_sku = {product.sku: product for product in products}
    missing = [d.sku for d in plan.products if d.joins and d.sku not in by_sku]
    if missing:
        shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
        raise InputError([Problem(
            source,
            f"{len(missing)} joining SKU(s) of the plan are not in {products_path}: {shown}",
        )])
    if not plan.products:
        raise InputError([Problem(
            source, "the plan lists no products (products: []); expected one entry per product"
            f" of {products_path}, joining or not (re-plan with price-opt plan)",
        )])
    planned = {d.sku for d in plan.products}
    absent = [product for product in products if product.sku not in planned]
    if absent:
        heroes = [product.sku for product in absent if product.role is Role.HERO]
        warnings.append(
            f"{len(absent)} product(s) of {products_path} are not in the plan and stay out of"
            " the event at their everyday price: "
            + ", ".join(product.sku for product in absent[:10])
            + (" …" if len(absent) > 10 else "")
            + (f" (hero products among them: {', '.join(heroes[:10])})" if heroes else "")
        )
    changed = [
        d.sku for d in plan.products
        if d.sku in by_sku and by_sku[d.sku].list_price_fen != d.list_price_fen
    ]
    if changed:
        warnings.append(
            f"the everyday price of {len(changed)} SKU(s) differs from the plan's: "
            + ", ".join(changed[:10]) + (" …" if len(changed) > 10 else "")
        )


def plan_context(
    plan: Plan,
    plan_path: Path | None = None,
    products_path: Path | None = None,
    rules_path: Path | None = None,
) -> PlanContext:
    """The products and rules to judge a plan by: always files read from disk now.

    Products: ``products_path`` if given, else the file the plan records
    (``inputs.products_file``, as given or beside the plan file); a changed file (its SHA-256
    differs) is a warning. Rules: ``rules_path`` if given, else the rules file the plan records,
    read again. The rules the plan records (``inputs.rules``) are never used to judge it; they
    are compared with the file's: when they differ, the plan is refused unless ``rules_path``
    was given explicitly (then the difference is a warning). A hand-edited plan cannot loosen
    the rules it is judged by. Every joining SKU must be in the products; a changed everyday
    price is a warning.
    """
    source = str(plan_path) if plan_path is not None else "plan"
    warnings: list[str] = []
    inputs = plan.inputs
    if products_path is None:
        products_path = _recorded_file(
            inputs.products_file if inputs else None, inputs.products_sha256 if inputs else None,
            "products", plan_path, source, warnings,
        )
    products, problems = load_products(products_path)
    warnings.extend(problem.render() for problem in problems)
    explicit_rules = rules_path is not None
    if rules_path is None:
        rules_path = _recorded_file(
            inputs.rules_file if inputs else None, inputs.rules_sha256 if inputs else None,
            "rules", plan_path, source, warnings,
        )
    rules = _judged_rules(plan, rules_path, explicit_rules, source, warnings)
    _check_plan_products(plan, products, products_path, source, warnings)
    return PlanContext(plan=plan, products=tuple(products), rules=rules,
                       warnings=tuple(warnings))
