"""One library function per ``price-opt`` command: load the inputs, do the work, return a result.

``cli.py`` declares each command's options, calls the matching ``run_*`` function and hands
its result to :mod:`pricing.outputs.render`; nothing here prints or knows Typer. Option values
arrive as the user typed them and are checked here, every problem at once
(:class:`~pricing.errors.InputError`), before any file is read where that is possible.

==================  ==============================================================
``run_plan``        the verified plan, written to ``out``
``run_check``       every product's worst cart at a discount or under a plan
``run_export``      the submission sheet of a plan, judged again
``run_report``      the HTML report of a plan
==================  ==============================================================

``run_validate``, ``run_quote``, ``run_fit`` and ``run_forecast`` answer without writing a
plan: they are in :mod:`pricing.query_commands`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from models.plan import Plan
from models.product import Product
from models.rules import CouponTier, Rules
from pricing.errors import InputError, Problem
from pricing.progress import SILENT
from pricing.progress import Progress as StepProgress
from pricing.runtime import collector_paused

if TYPE_CHECKING:
    from pricing.outputs.export import ExportResult
    from pricing.verify.margin_check import MarginCheck

Progress = Callable[[str], None]
Warn = Callable[[Problem | str], None]


def _quiet(_: str) -> None:
    return None


def _unheard(_: Problem | str) -> None:
    return None


def version() -> str:
    """The installed price-opt version (``0+unknown`` in a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("price-opt")
    except PackageNotFoundError:
        return "0+unknown"


def check_show(show: int) -> None:
    """``--show N``: the same meaning for every command (N ≥ 0; 0 lists no table)."""
    if show < 0:
        raise InputError([Problem("--show", "expected a whole number ≥ 0 (0: none)",
                                  value=str(show))])


def guard_outputs(
    outputs: dict[str, Path], inputs: Mapping[str, Path | None], force: bool
) -> list[Path]:
    """Before any work: refuse outputs that are inputs, and files price-opt did not write
    unless ``force`` (returns those, to be kept as ``.bak`` just before writing)."""
    from pricing.outputs.guard import check_overwrites, refuse_inputs_as_outputs

    refuse_inputs_as_outputs(outputs, inputs)
    return check_overwrites(outputs, force)


def keep_backups(paths: Sequence[Path]) -> None:
    """Copy each file about to be replaced to ``NAME.bak`` (see :mod:`pricing.outputs.guard`)."""
    from pricing.outputs.guard import keep_backups as keep

    keep(paths)


def record_written(paths: Sequence[Path]) -> None:
    """Record the outputs as price-opt's own (so the next run may replace them)."""
    from pricing.outputs.guard import record_written as record

    record(paths)


def plan_inputs(
    plan_path: Path, plan: Plan, products: Path | None, rules: Path | None
) -> dict[str, Path | None]:
    """Every file a plan command reads or the plan records (an output must be none of them)."""
    inputs: dict[str, Path | None] = {
        "the plan": plan_path, "the products file": products, "the rules file": rules,
    }
    if plan.inputs is not None:
        for what, recorded in (("the products file the plan records", plan.inputs.products_file),
                               ("the rules file the plan records", plan.inputs.rules_file)):
            if recorded:
                inputs[what] = Path(recorded)
                inputs[what + " (beside it)"] = plan_path.parent / recorded
    return inputs


# --- validate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """A products file and a rules file, read, with the warnings reading them gave."""

    products_path: Path
    products: tuple[Product, ...]
    rules_path: Path
    rules: Rules
    warnings: tuple[Problem, ...] = ()
    sheet_name: str | None = None  # the worksheet read, for an .xlsx products file


def load_inputs(
    products_path: Path | None, rules_path: Path | None, sheet: str | None = None
) -> Inputs:
    """Read both files (the bundled samples by default), every problem in both at once;
    ``sheet`` picks the worksheet of an ``.xlsx`` products file."""
    from pricing.formats.products import load_products
    from pricing.formats.rules import load_rules
    from pricing.formats.samples import sample_products_path, sample_rules_path
    from pricing.formats.tables import input_error

    products_path = products_path or sample_products_path()
    rules_path = rules_path or sample_rules_path()
    problems: list[Problem] = []
    catalogue: tuple[Product, ...] | None = None
    rules: Rules | None = None
    try:
        catalogue, warnings = load_products(products_path, sheet)
        problems.extend(warnings)
    except InputError as error:
        problems.extend([*error.problems, *error.warnings])
    try:
        rules = load_rules(rules_path)
    except InputError as error:
        problems.extend([*error.problems, *error.warnings])
    if catalogue is None or rules is None:
        raise input_error(problems)
    return Inputs(products_path, catalogue, rules_path, rules, tuple(problems))


# --- plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRun:
    """A verified plan, where it was written, and what each step took."""

    plan: Plan
    out: Path
    timings: dict[str, float]
    warnings: tuple[Problem, ...] = ()
    replaced: tuple[Path, ...] = ()
    demand_note: str = ""  # plan --demand: how many products the fitted model covers


def run_plan(
    products_path: Path | None,
    rules_path: Path | None,
    out: Path,
    solver: str = "cbc",
    method: str = "auto",
    time_limit: float | None = None,
    gap: float = 1e-4,
    progress: Progress = _quiet,
    force: bool = False,
    warn: Warn = _unheard,
    demand_path: Path | None = None,
    sheet: str | None = None,
    strict: bool = False,
) -> PlanRun:
    """``price-opt plan``: plan the store, verify the plan and write it atomically to ``out``.

    With ``demand_path`` (a demand file from ``fit``), units come from the fitted model.
    ``strict``: a hero left out or a soft rule broken is a conflict (exit 3, nothing written).
    """
    from models.plan import PlanInputs
    from models.rules import store_now
    from pricing.formats.plans import write_plan
    from pricing.formats.rules import rules_to_dict
    from pricing.formats.samples import sample_products_path, sample_rules_path
    from pricing.formats.tables import file_sha256
    from pricing.optimize.planner import PlanOptions, make_plan, refuse_strict

    problems = []
    if solver not in ("cbc", "highs"):
        problems.append(Problem("--solver", "expected cbc or highs", value=solver))
    if method not in ("auto", "milp", "decompose"):
        problems.append(Problem("--method", "expected auto, milp or decompose", value=method))
    if not 0 <= gap < 1:
        problems.append(Problem("--gap", "expected a share in [0, 1)", value=str(gap)))
    if time_limit is not None and time_limit <= 0:
        problems.append(Problem("--time-limit", "expected seconds > 0", value=str(time_limit)))
    if problems:
        raise InputError(problems)
    replaced = guard_outputs(
        {"--out": out},
        {"the products file": products_path or sample_products_path(),
         "the rules file": rules_path or sample_rules_path(),
         "the demand file": demand_path},
        force,
    )
    inputs = load_inputs(products_path, rules_path, sheet)
    for warning in inputs.warnings:
        warn(warning)
    event_demand = None
    demand_note = ""
    if demand_path is not None:
        from pricing.demand.event import EventDemand
        from pricing.formats.demand_file import load_demand

        event_demand = EventDemand.of(load_demand(demand_path), inputs.products)
        demand_note = (
            f"demand {demand_path}: {int(event_demand.fitted.sum())} of {len(inputs.products)} "
            f"products use the fitted model over {inputs.rules.demand.event_days} event days; "
            "the others their base_units and elasticity columns"
        )
    recorded = PlanInputs(
        products_file=str(inputs.products_path.resolve()),
        products_sha256=file_sha256(inputs.products_path),
        rules_file=str(inputs.rules_path.resolve()),
        rules_sha256=file_sha256(inputs.rules_path),
        rules=rules_to_dict(inputs.rules),
        created_at=store_now(inputs.rules),
        price_opt_version=version(),
        demand_file=str(demand_path.resolve()) if demand_path else None,
        demand_sha256=file_sha256(demand_path) if demand_path else None,
    )
    options = PlanOptions(solver=solver, method=method, time_limit=time_limit, gap=gap)
    with collector_paused():
        result = make_plan(inputs.products, inputs.rules, options, recorded, progress=progress,
                           demand=event_demand)
        if strict:
            refuse_strict(result.plan)
        keep_backups(replaced)
        write_plan(result.plan, out)
    record_written([out])
    return PlanRun(result.plan, out, result.timings, inputs.warnings, tuple(replaced),
                   demand_note)


# --- quote ------------------------------------------------------------------------------------


# --- check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRun:
    """The check's verdict with what it assumed: a discount (share off) or a plan file."""

    result: MarginCheck
    rules: Rules
    discount: Decimal | None
    plan_path: Path | None
    coupons_given: bool = False
    written: tuple[Path, ...] = ()
    warnings: tuple[Problem | str, ...] = ()
    replaced: tuple[Path, ...] = ()


def run_check(
    products_path: Path | None,
    rules_path: Path | None,
    discount: str | None = None,
    plan_path: Path | None = None,
    coupons: str | None = None,
    no_coupons: bool = False,
    b2g1: bool = False,
    witness_dir: Path | None = None,
    force: bool = False,
    warn: Warn = _unheard,
    sheet: str | None = None,
) -> CheckRun:
    """``price-opt check``: every product's worst cart at ``discount`` or under a plan.

    With a discount (default 5折), the store offers every coupon candidate of the rules (the
    worst case: the buyer takes the best one the cart reaches) unless ``coupons`` narrows it,
    and buy-two-get-one is off unless ``b2g1``; a plan brings its own tiers and members.
    """
    from pricing.formats.plan_context import plan_context
    from pricing.formats.plans import load_plan_prices, read_plan_if_plan
    from pricing.formats.sheets import PlanPrices
    from pricing.verify.margin_check import (
        DEFAULT_DISCOUNT,
        discount_prices_fen,
        margin_check,
        parse_coupon_tiers,
        parse_discount,
        write_witnesses,
    )
    from pricing.verify.policy import WITNESSES

    # Parse the options before reading any file, so that a typo fails fast.
    share = DEFAULT_DISCOUNT if discount is None else parse_discount(discount)
    tiers: tuple[CouponTier, ...] = (
        () if no_coupons or coupons is None else parse_coupon_tiers(coupons)
    )
    if witness_dir is not None and witness_dir.exists() and not witness_dir.is_dir():
        raise InputError([Problem("--witness-dir", "expected a folder, not a file",
                                  value=str(witness_dir))])
    plan = read_plan_if_plan(plan_path) if plan_path is not None else None
    warnings: tuple[Problem | str, ...]
    if plan_path is not None and plan is not None:
        # A plan is judged by the products and rules files it records (read again now), or by
        # those given.
        context = plan_context(plan, plan_path, products_path, rules_path)
        catalogue, rules, warnings = context.products, context.rules, context.warnings
    else:
        inputs = load_inputs(products_path, rules_path, sheet)
        catalogue, rules, warnings = inputs.products, inputs.rules, inputs.warnings
    for warning in warnings:
        warn(warning)
    if plan_path is not None:
        plan_prices = (load_plan_prices(plan_path) if plan is None
                       else PlanPrices.of_plan(plan, str(plan_path)))
        prices, tiers = plan_prices.prices_fen, plan_prices.coupon_tiers
        members, source = plan_prices.b2g1_members, str(plan_path)
        pieces_offer = plan_prices.pieces_offer
        super_instant = plan_prices.super_instant
    else:
        prices = discount_prices_fen(catalogue, share)
        if coupons is None and not no_coupons:
            tiers = rules.coupons.candidates
        members = frozenset(p.sku for p in catalogue if b2g1 and p.b2g1_eligible)
        source = "--discount"
        pieces_offer = None
        super_instant = {}
    witnesses_for = WITNESSES.for_check(len(catalogue))
    result = margin_check(catalogue, rules, prices, tiers, members, witnesses_for, source,
                          pieces_offer, super_instant)
    written: list[Path] = []
    replaced: list[Path] = []
    if witness_dir is not None:

        def guard_witnesses(paths: list[Path]) -> None:
            inputs: Mapping[str, Path | None] = (
                {"the products file": products_path, "the rules file": rules_path,
                 "the plan": plan_path}
                if plan_path is None or plan is None
                else plan_inputs(plan_path, plan, products_path, rules_path)
            )
            replaced.extend(guard_outputs(
                {f"--witness-dir {path.name}": path for path in paths}, inputs, force
            ))
            keep_backups(replaced)

        written = write_witnesses(result, witness_dir, guard_witnesses)
        record_written(written)
    return CheckRun(result, rules, None if plan_path is not None else share, plan_path,
                    coupons is not None, tuple(written), warnings, tuple(replaced))


def check_json(run: CheckRun) -> str:
    """``check --json``: the verdict with its assumptions (see the README)."""
    import json

    from pricing.verify.margin_check import margin_check_to_json

    data = margin_check_to_json(run.result)
    data["discount"] = None if run.discount is None else str(run.discount)
    return json.dumps(data, ensure_ascii=False, indent=2)


# --- export and report ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRun:
    """What ``export`` wrote, with the sheet it judged and the warnings on the way."""

    result: ExportResult
    lang: str
    warnings: tuple[str, ...] = field(default=())
    replaced: tuple[Path, ...] = ()


def parse_stock_factor(text: str) -> Decimal:
    """``--stock-factor``: a number of at least 1 (activity stock never below the forecast)."""
    try:
        factor = Decimal(text.strip())
    except InvalidOperation:
        factor = Decimal("NaN")
    if not factor.is_finite() or factor < 1:
        raise InputError([Problem("--stock-factor", "expected a number of at least 1, e.g. 1.2",
                                  value=text)])
    return factor


@collector_paused()  # reading the plan, checking it, the rows: some 100,000 acyclic objects
def run_export(
    plan_path: Path,
    products_path: Path | None,
    rules_path: Path | None,
    out: Path | None,
    lang: str,
    stock_factor: str = "1",
    drop_failing: bool = False,
    force: bool = False,
    warn: Warn = _unheard,
    template: str = "tmall",
    progress: StepProgress = SILENT,
) -> ExportRun:
    """``price-opt export``: judge the plan again and write its submission sheet."""
    from pricing.formats.plan_context import plan_context
    from pricing.formats.plans import read_plan
    from pricing.outputs.export import ExportOptions, export_plan, output_paths
    from pricing.outputs.upload import TEMPLATE_TMALL

    factor = parse_stock_factor(stock_factor)
    template_path = None if template.strip().lower() == TEMPLATE_TMALL else Path(template)
    options = ExportOptions(lang=lang, stock_factor=factor, drop_failing=drop_failing,
                            template=TEMPLATE_TMALL if template_path is None else template)
    out = out or Path("报名表.xlsx" if lang == "zh" else "submission.xlsx")
    progress("Reading the plan and the products")
    plan = read_plan(plan_path)
    names = ("--out", "--out (its review)", "--out (its settings file)")
    outputs = dict(zip(names, output_paths(out), strict=False))
    inputs = plan_inputs(plan_path, plan, products_path, rules_path)
    inputs["the template"] = template_path
    replaced = guard_outputs(outputs, inputs, force)
    context = plan_context(plan, plan_path, products_path, rules_path)
    for warning in context.warnings:
        warn(warning)
    joining = {d.sku for d in plan.products if d.joins}
    without_id = [p.sku for p in context.products if p.sku in joining and not p.sku_id]
    if without_id:
        shown = ", ".join(without_id[:10]) + (" …" if len(without_id) > 10 else "")
        warn(f"{len(without_id)} joining product(s) have no sku_id (SKU ID) in the products "
             f"file, so their SKU ID cell in the upload sheet is empty: {shown}")
    keep_backups(replaced)
    result = export_plan(context, out, options, progress)
    record_written(list(result.paths))
    return ExportRun(result, lang, context.warnings, tuple(replaced))


@dataclass(frozen=True)
class ReportRun:
    """What ``report`` wrote, and the figures its summary line quotes."""

    out: Path
    products: int
    waterfalls: int
    failing: tuple[str, ...]
    losers_at_half: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    replaced: tuple[Path, ...] = ()


@collector_paused()  # as for export
def run_report(
    plan_path: Path, products_path: Path | None, rules_path: Path | None, out: Path, lang: str,
    force: bool = False,
    warn: Warn = _unheard,
    progress: StepProgress = SILENT,
) -> ReportRun:
    """``price-opt report``: the plan's one-page HTML report."""
    from pricing.formats.plan_context import plan_context
    from pricing.formats.plans import read_plan
    from pricing.outputs.report import write_report

    progress("Reading the plan and the products")
    plan = read_plan(plan_path)
    replaced = guard_outputs(
        {"--out": out}, plan_inputs(plan_path, plan, products_path, rules_path), force
    )
    context = plan_context(plan, plan_path, products_path, rules_path)
    for warning in context.warnings:
        warn(warning)
    keep_backups(replaced)
    data = write_report(context, out, lang, progress)
    record_written([out])
    return ReportRun(
        out=out, products=len(context.products), waterfalls=len(data.waterfalls),
        failing=tuple(v.sku for v in data.check.products if not v.proven_safe),
        losers_at_half=tuple(v.sku for v in data.fifty.products if not v.proven_safe),
        warnings=context.warnings, replaced=tuple(replaced),
    )


# --- demand: fit and forecast -----------------------------------------------------------------


