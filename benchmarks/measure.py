"""One benchmark measurement, run in a fresh process so that its peak memory is its own.

``python benchmarks/measure.py price-opt PRODUCTS RULES [--solver cbc] [--time-limit S]`` reads
the files with :mod:`pricing.formats.products` and :mod:`pricing.formats.rules` and plans with
:func:`pricing.optimize.planner.make_plan`;
``python benchmarks/measure.py reference PRODUCTS RULES [--time-limit S]`` reads the same files
and solves the plain PuLP model of :mod:`reference`. Either prints one JSON object on stdout:
the timings in seconds, the status, objective (fen), proven gap, model size and the peak
resident memory of this process and of the solver processes it started (bytes).

``run.py`` starts these; they can also be run by hand to look at one case.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

KIB = 1024


def peak_memory() -> dict[str, int]:
    """Peak resident set size of this process and of its finished children (e.g. CBC), bytes.

    On Linux ``ru_maxrss`` is in KiB; for children it is the largest single child's peak.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * KIB
    return {"peak_rss": own, "solver_peak_rss": children}


def _read(products_path: Path, rules_path: Path) -> tuple[Any, Any, float]:
    from pricing.formats.products import load_products
    from pricing.formats.rules import load_rules

    started = time.perf_counter()
    products, _ = load_products(products_path)
    rules = load_rules(rules_path)
    return products, rules, time.perf_counter() - started


def measure_price_opt(
    products_path: Path, rules_path: Path, solver: str, time_limit: float | None
) -> dict[str, Any]:
    """Read and plan, as ``price-opt plan`` does; the planner's own timings per step."""
    from pricing.errors import PriceOptError
    from pricing.optimize.planner import PlanOptions, make_plan

    products, rules, read_seconds = _read(products_path, rules_path)
    try:
        result = make_plan(products, rules, PlanOptions(solver=solver, time_limit=time_limit))
    except PriceOptError as error:
        return {"status": "error", "message": f"{type(error).__name__}: {error}",
                "seconds": {"read": read_seconds}}
    timings = result.timings
    info = result.plan.solver
    # With the MILP the ladder decomposition runs first, to warm-start it and bound its gap.
    solve = timings.get("solve", 0.0)
    if info.method == "milp":
        solve += timings.get("decompose", 0.0)
    return {
        "status": info.status,
        "method": info.method,
        "solver": info.name,
        "objective_fen": result.plan.objective_fen,
        "spend_fen": result.plan.expected_discount_spend_fen,
        "budget_fen": rules.store.budget_fen,
        "gap": info.gap,
        "variables": info.variables,
        "constraints": info.constraints,
        "candidates_total": info.candidates_total,
        "candidates_pruned": info.candidates_pruned,
        "coupon_tiers": [tier.label for tier in result.plan.coupon_tiers],
        "verified": result.check.passes,
        "seconds": {
            "read": read_seconds,
            "candidates": timings.get("candidates", 0.0),
            "build": timings.get("build", 0.0),
            "solve": solve,
            "verify": timings.get("verify", 0.0),
            "end_to_end": read_seconds + timings.get("total", 0.0),
        },
    }


def measure_reference(
    products_path: Path, rules_path: Path, time_limit: float | None
) -> dict[str, Any]:
    """Read, then build and solve the plain PuLP model with CBC."""
    from reference import build_reference, solve_reference  # this script's own folder

    products, rules, read_seconds = _read(products_path, rules_path)
    model = build_reference(products, rules)
    result = solve_reference(model, time_limit=time_limit)
    seconds = dict(result.seconds)
    return {
        "status": result.status,
        "method": "plain-milp",
        "solver": "cbc",
        "cbc_status": result.cbc_status,
        "objective_fen": result.objective_fen,
        "budget_fen": rules.store.budget_fen,
        "gap": result.gap,
        "variables": result.variables,
        "constraints": result.constraints,
        "coupon_tiers": list(result.coupon_tiers),
        "safety_mismatches": result.safety_mismatches,
        "seconds": {
            "read": read_seconds,
            "candidates": seconds["coefficients"],
            "build": seconds["build"],
            "handoff": seconds["handoff"],
            "solve": seconds["handoff"] + seconds["solve"],
            "end_to_end": read_seconds + seconds["total"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["price-opt", "reference"])
    parser.add_argument("products", type=Path)
    parser.add_argument("rules", type=Path)
    parser.add_argument("--solver", default="cbc", choices=["cbc", "highs"])
    parser.add_argument("--time-limit", type=float, default=None)
    arguments = parser.parse_args()
    if arguments.engine == "price-opt":
        outcome = measure_price_opt(
            arguments.products, arguments.rules, arguments.solver, arguments.time_limit
        )
    else:
        outcome = measure_reference(arguments.products, arguments.rules, arguments.time_limit)
    outcome.update(peak_memory())
    json.dump(outcome, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
