"""Benchmarks of issue 10: a messy catalogue gets a plan, and the business rules in the MILP.

Cases (figures printed, never asserted; run ``python benchmarks/business.py --skus 10000``):

* **messy**: the synthetic catalogue (:mod:`benchmarks.synthetic`) with 1.5% of the SKUs turned
  into cheap accessories (¥9.90–¥40, cost 45–60% of the price, free shipping) that lose money on
  a one-unit order at their everyday price (target: plan < 3 s and ≤ 5× validate at 10k).
  Measured twice, CPU and wall seconds each: the commands as a user runs them (``price-opt
  validate`` and ``price-opt plan`` in fresh processes: imports, reading, planning, the CBC
  process, writing ``plan.json``), and the library calls in this process (``run_validate``, and
  ``plan`` as ``run_plan`` does it, step by step: read, candidates, decompose, build, solve, verify,
  the rest of the plan, write). The ratio plan / validate is taken within each pair, of the
  medians and (library calls) of the least of the runs, which the other processes on a shared
  machine disturb least;
* **rules**: the same catalogue with every business rule on (items join together, price lines,
  heroes hard, a hard quota on one category and a soft store-wide one, a hard category budget,
  prices ending in 9, at most 50 products in B2G1), planned with a gap target of 0.1%
  (``--gap``) as a library call in this process: CPU seconds (every thread, plus CBC's
  subprocesses) and wall seconds of the whole plan (read, plan, verify) and by step, the proven
  gap, the method and how it found the plan, the model size, the rules that bind or are
  violated (target: < 10 s to gap ≤ 0.1% at 10k, < 90 s at 100k);
* **rules-reference**: the plain PuLP way to the same plan, in the same run: the same rule
  families (:func:`pricing.optimize.milp.build_model`) on the candidate table without dominance
  pruning (rows dropped only for sign-up, safety and heroes), handed to CBC in one solve with
  ``--reference-limit`` seconds (no staging, no warm start); run by default up to 10,000 SKUs;
* **plain**: the same messy catalogue without business rules through the plain PuLP reference
  (:mod:`benchmarks.reference`, every product × row a binary, no pruning or decomposition), in a
  fresh process (``measure.py reference``) with ``--reference-limit`` seconds for CBC (default
  120); case ``plain`` in ``--cases`` (run by default up to 10,000 SKUs).

The load average is printed with every case: the machine is shared, so judge CPU seconds and
the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import catalogue_csv, generate_catalogue, rules_toml

import pricing.commands
import pricing.formats.plans
import pricing.optimize.milp
import pricing.optimize.planner
from pricing.commands import load_inputs, run_plan
from pricing.optimize import candidates as candidate_module
from pricing.optimize.candidates import ProductArrays, build_candidates
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.planner import PlanOptions, make_plan, store_margin_rate
from pricing.query_commands import run_validate

BENCHMARKS = Path(__file__).resolve().parent

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


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and the processes they waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Seconds:
    """Wall and CPU seconds of one piece of work; ``cpu`` counts this process and the child
    processes it waited for (CBC)."""

    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: Seconds) -> Seconds:
        return Seconds(self.wall + other.wall, self.cpu + other.cpu)

    def __str__(self) -> str:
        return f"{self.cpu:.2f} s CPU / {self.wall:.2f} s wall"


@contextmanager
def stopwatch() -> Iterator[Seconds]:
    """Measure the ``with`` block: the yielded :class:`Seconds` is filled in on exit."""
    seconds = Seconds()
    wall, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    try:
        yield seconds
    finally:
        seconds.wall = time.perf_counter() - wall
        seconds.cpu = time.process_time() + _children_cpu() - cpu


# The steps of ``run_plan``, as (stage, module, function): each call is timed while patched.
PLAN_STAGES = (
    ("read", pricing.commands, "load_inputs"),
    ("candidates", pricing.optimize.planner, "build_candidates"),
    ("candidates", pricing.optimize.planner, "coupon_ladders"),
    ("decompose", pricing.optimize.planner, "solve_by_ladders"),
    ("build", pricing.optimize.milp, "build_model"),
    ("solve (CBC)", pricing.optimize.milp, "solve_model"),
    ("exclusions", pricing.optimize.planner, "product_exclusions"),
    ("verify", pricing.optimize.planner, "check_store"),
    ("rules", pricing.optimize.planner, "judge_rules"),
    ("decisions", pricing.optimize.planner, "_decisions"),
    ("write", pricing.formats.plans, "write_plan"),
)


@dataclass
class StageTimes:
    """Seconds per stage of one timed call; ``rest`` is what no stage covers."""

    stages: dict[str, Seconds] = field(default_factory=dict)

    def timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with stopwatch() as seconds:
                result = function(*args, **kwargs)
            self.stages[stage] = self.stages.get(stage, Seconds()) + seconds
            return result

        return wrapper


# The steps of ``make_plan`` with business rules (the MILP solved in stages).
RULE_STAGES = (
    ("read", pricing.commands, "load_inputs"),
    ("candidates", pricing.optimize.planner, "build_candidates"),
    ("candidates", pricing.optimize.planner, "coupon_ladders"),
    ("decompose", pricing.optimize.planner, "solve_by_ladders"),
    ("build", pricing.optimize.milp, "build_model"),
    ("solve", pricing.optimize.milp, "solve_staged"),
    ("solve", pricing.optimize.milp, "solve_model"),
    ("exclusions", pricing.optimize.planner, "product_exclusions"),
    ("verify", pricing.optimize.planner, "check_store"),
    ("rules", pricing.optimize.planner, "judge_rules"),
)


@contextmanager
def staged(
    plan_stages: tuple[tuple[str, Any, str], ...] = PLAN_STAGES,
) -> Iterator[StageTimes]:
    """Patch the steps of ``plan_stages`` to time each call; restored on exit."""
    times = StageTimes()
    saved = [(module, name, getattr(module, name)) for _, module, name in plan_stages]
    try:
        for (stage, module, name), (_, _, function) in zip(plan_stages, saved, strict=True):
            setattr(module, name, times.timed(stage, function))
        yield times
    finally:
        for module, name, function in saved:
            setattr(module, name, function)


def _median(runs: list[Seconds]) -> Seconds:
    return Seconds(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def _least(runs: list[Seconds]) -> Seconds:
    """The least of each: what the other processes on a shared machine disturbed least."""
    return Seconds(min(r.wall for r in runs), min(r.cpu for r in runs))


def _command(arguments: list[str]) -> tuple[Seconds, str]:
    """Run ``price-opt`` (this interpreter's) in a fresh process, as a user does."""
    executable = Path(sys.executable).parent / "price-opt"
    with stopwatch() as seconds:
        finished = subprocess.run([str(executable), *arguments], capture_output=True,
                                  text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"price-opt {arguments[0]} exited {finished.returncode}:"
                         f" {finished.stderr[-2000:]}")
    return seconds, finished.stdout


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} (2 cores)"


def messy_case(products: Path, rules: Path, folder: Path, repeats: int) -> tuple[int, Seconds]:
    """validate and plan on the messy catalogue: fresh processes, then library calls by stage."""
    print(f"messy, {_load()}")
    out = folder / "plan.json"
    validate_runs, plan_runs = [], []
    for _ in range(repeats):
        validate_runs.append(_command(["validate", str(products), "--rules", str(rules)])[0])
        plan_runs.append(_command(["plan", str(products), "--rules", str(rules), "--out",
                                   str(out), "--show", "0", "--force"])[0])
    validate_command, plan_command = _median(validate_runs), _median(plan_runs)
    print(f"  commands (fresh processes, median of {repeats}): validate {validate_command};"
          f" plan {plan_command}; plan / validate {plan_command.cpu / validate_command.cpu:.1f}×"
          f" CPU, {plan_command.wall / validate_command.wall:.1f}× wall")
    validate_runs, plan_runs = [], []
    stage_runs: list[StageTimes] = []
    for _ in range(repeats):
        with stopwatch() as seconds:
            validated = run_validate(products, rules)
        validate_runs.append(seconds)
        with staged() as times, stopwatch() as seconds:
            planned = run_plan(products, rules, out, force=True)
        plan_runs.append(seconds)
        stage_runs.append(times)
    validate_call, plan_call = _median(validate_runs), _median(plan_runs)
    plan = planned.plan
    losers = sum("one-unit order" in w.message for w in validated.warnings)
    print(f"  library calls (this process, median of {repeats}): validate {validate_call};"
          f" plan {plan_call}; plan / validate {plan_call.cpu / validate_call.cpu:.1f}× CPU,"
          f" {plan_call.wall / validate_call.wall:.1f}× wall")
    validate_least, plan_least = _least(validate_runs), _least(plan_runs)
    print(f"  library calls (least of {repeats}): validate {validate_least}; plan {plan_least};"
          f" plan / validate {plan_least.cpu / validate_least.cpu:.1f}× CPU,"
          f" {plan_least.wall / validate_least.wall:.1f}× wall")
    stages = {name: _median([run.stages.get(name, Seconds()) for run in stage_runs])
              for name in dict.fromkeys(stage for stage, _, _ in PLAN_STAGES)}
    covered = Seconds()
    for seconds in stages.values():
        covered = covered + seconds
    stages["rest"] = Seconds(plan_call.wall - covered.wall, plan_call.cpu - covered.cpu)
    print("  plan by stage (CPU / wall s): "
          + ", ".join(f"{name} {s.cpu:.2f}/{s.wall:.2f}" for name, s in stages.items()))
    gap = "n/a" if plan.solver.gap is None else f"{plan.solver.gap:.4%}"
    print(f"  plan: {plan.status.value}, {plan.solver.method}/{plan.solver.name}, gap {gap},"
          f" objective ¥{plan.objective_fen / 100:,.2f}, {plan.solver.variables:,} variables,"
          f" {plan.solver.constraints:,} constraints; {sum(d.joins for d in plan.products):,}"
          f" join, {len(plan.excluded)} excluded ({losers} warned about by validate),"
          f" {len(plan.coupon_excluded)} off the coupons")
    return plan.objective_fen, plan_command


def plain_reference(
    products: Path, rules: Path, time_limit: float, price_opt: tuple[int, Seconds] | None
) -> None:
    """The plain PuLP model of :mod:`reference` on the same files, in a fresh process."""
    print(f"plain PuLP reference (CBC limit {time_limit:.0f} s), {_load()}")
    with stopwatch() as seconds:
        try:
            finished = subprocess.run(
                [sys.executable, str(BENCHMARKS / "measure.py"), "reference", str(products),
                 str(rules), "--time-limit", str(time_limit)],
                capture_output=True, text=True, check=False, timeout=time_limit * 3 + 120,
            )
        except subprocess.TimeoutExpired:
            print(f"  no result: the process did not finish in {time_limit * 3 + 120:.0f} s")
            return
    if finished.returncode != 0:
        print(f"  no result: exit {finished.returncode}: {finished.stderr[-500:]}")
        return
    outcome = json.loads(finished.stdout)
    steps = outcome["seconds"]
    objective = outcome.get("objective_fen")
    print(f"  {seconds} (fresh process); {outcome['status']} ({outcome['cbc_status']}),"
          f" objective {'none' if objective is None else f'¥{objective / 100:,.2f}'},"
          f" gap {outcome['gap']}, {outcome['variables']:,} variables,"
          f" {outcome['constraints']:,} constraints, {outcome['safety_mismatches']} safety"
          " mismatches with the optimizer; steps (wall s) "
          + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))
    if price_opt is not None and objective is not None:
        objective_fen, plan_seconds = price_opt
        print(f"  price-opt plan vs the reference: objective {objective_fen - objective:+,} fen;"
              f" time {seconds.cpu / plan_seconds.cpu:.1f}× CPU,"
              f" {seconds.wall / plan_seconds.wall:.1f}× wall (the plan command's)")


def rules_case(products: Path, rules: Path, gap: float, time_limit: float | None,
               solver: str) -> None:
    """Plan with every business rule on, in this process, by step."""
    print(f"every rule, {_load()}")
    with staged(RULE_STAGES) as times, stopwatch() as seconds:
        inputs = pricing.commands.load_inputs(products, rules)
        result = make_plan(inputs.products, inputs.rules,
                           PlanOptions(solver=solver, gap=gap, time_limit=time_limit))
    plan, info = result.plan, result.plan.solver
    shown = "none" if info.gap is None else f"{info.gap:.4%}"
    stages = dict(times.stages)
    covered = Seconds()
    for step in stages.values():
        covered = covered + step
    stages["rest"] = Seconds(seconds.wall - covered.wall, seconds.cpu - covered.cpu)
    print(f"  {len(inputs.products):,} SKUs: plan {seconds}; {plan.status.value}, proven gap"
          f" {shown} (target {gap:.2%}), method {info.method} by {info.name},"
          f" objective ¥{plan.objective_fen / 100:,.2f}; {info.variables:,} variables,"
          f" {info.constraints:,} constraints; {sum(d.joins for d in plan.products):,} join,"
          f" {len(plan.excluded)} excluded")
    print(f"  how: {info.detail or info.method}")
    print("  by stage (CPU / wall s): "
          + ", ".join(f"{name} {s.cpu:.2f}/{s.wall:.2f}" for name, s in stages.items()))
    print(f"  violations {[v.rule for v in plan.violations]}, binding {list(plan.binding_rules)}")


def rules_reference(products: Path, rules: Path, gap: float, time_limit: float) -> None:
    """The same rule families on the unpruned table, one CBC solve with a time limit."""
    from pricing.optimize.milp import build_model, solve_model

    print(f"every rule, plain PuLP reference (no pruning, one CBC solve, limit"
          f" {time_limit:.0f} s), {_load()}")
    with stopwatch() as seconds:
        inputs = load_inputs(products, rules)
        arrays = ProductArrays.of(inputs.products, inputs.rules)
        pruning = candidate_module._drop_dominated
        candidate_module._drop_dominated = lambda valid, *args, **kwargs: valid  # no pruning
        try:
            table = build_candidates(arrays, inputs.rules)
        finally:
            candidate_module._drop_dominated = pruning
        ladders = coupon_ladders(inputs.rules, store_orders(arrays.base_units, inputs.rules),
                                 store_margin_rate(arrays, inputs.rules))
        model = build_model(table, ladders, inputs.rules.coupons.candidates,
                            [p.sku for p in inputs.products], inputs.rules.store.budget_fen,
                            inputs.products, inputs.rules)
        result = solve_model(model, table, ladders, solver="cbc", time_limit=time_limit, gap=gap)
    if result.selection is None:
        outcome = f"no plan within the {time_limit:.0f} s limit ({result.solver_status})"
    else:
        shown = "none" if result.gap is None else f"{result.gap:.4%}"
        outcome = (f"{result.status.value}, proven gap {shown},"
                   f" objective ¥{result.selection.objective / 100:,.2f}")
    print(f"  {seconds} (build {model.seconds:.2f} s wall); {model.variables:,} variables,"
          f" {model.constraints:,} constraints; {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--share", type=float, default=0.015)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--cases", default=None,
                        help="comma-separated: messy, plain, rules, rules-reference (default:"
                        " messy,rules, and plain and rules-reference up to 10,000 SKUs)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each messy measurement (the median is printed)")
    parser.add_argument("--reference-limit", type=float, default=120.0)
    parser.add_argument("--gap", type=float, default=1e-3,
                        help="the rules case's gap target (0.001: 0.1%%)")
    parser.add_argument("--solver", default="cbc", help="the rules case's solver: cbc or highs")
    options = parser.parse_args()
    if options.cases is None:
        options.cases = ("messy,plain,rules,rules-reference" if options.skus <= 10_000
                         else "messy,rules")
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
        messy = None
        if "messy" in cases:
            messy = messy_case(products, plain, base, options.repeats)
        if "plain" in cases:
            plain_reference(products, plain, options.reference_limit, messy)
        if "rules" in cases:
            rules_case(products, with_rules, options.gap, options.time_limit, options.solver)
        if "rules-reference" in cases:
            rules_reference(products, with_rules, options.gap, options.reference_limit)


if __name__ == "__main__":
    main()
