"""The ``price-opt`` command: a thin Typer edge over the ``pricing`` library.

Each command loads its inputs, calls the library and renders the result. Errors are caught in
one place (:func:`main`): a :class:`pricing.errors.PriceOptError` prints ``error: <message>``
and exits with its code; nothing here prints a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.money import format_yuan, short_yuan
from models.plan import Plan
from models.product import Product
from models.rules import Rules
from pricing.errors import InputError, PriceOptError, Problem

if TYPE_CHECKING:
    from pricing.demand.backtest import Backtest
    from pricing.demand.fit import FitResult

app = typer.Typer(
    name="price-opt",
    help="Promotion pricing and coupon-stacking optimizer for Taobao/Tmall stores, "
    "with a no-loss proof for every plan.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")

ProductsArg = Annotated[
    Path | None,
    typer.Argument(help="Products file (.csv or .xlsx). Default: the bundled sample catalogue."),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", "-r", help="Rules file (.toml). Default: the bundled sample rules."),
]


def report_warnings(error_or_warnings: InputError | list[str]) -> None:
    """Print input warnings (they never stop a command)."""
    lines = (
        [w.render() for w in error_or_warnings.warnings]
        if isinstance(error_or_warnings, InputError)
        else error_or_warnings
    )
    for line in lines:
        err_console.print(
            f"[yellow]warning:[/yellow] {escape(line)}", highlight=False, soft_wrap=True
        )


def handles_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command, turning a :class:`PriceOptError` into ``error: …`` and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except InputError as error:
            report_warnings(error)
            err_console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(_exit_code_of(error)) from None
        except PriceOptError as error:
            err_console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return run


USAGE_EXIT_CODE = 2


def _exit_code_of(error: InputError) -> int:
    """Usage errors (every problem is about a command-line option, ``--solver`` …) exit 2."""
    about_options = error.problems and all(p.file.startswith("--") for p in error.problems)
    return USAGE_EXIT_CODE if about_options else error.exit_code


ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace an output file price-opt did not write (or that was "
                 "edited since); the current file is kept as NAME.bak."),
]


def _guard_outputs(
    outputs: dict[str, Path], inputs: dict[str, Path | None], force: bool
) -> list[Path]:
    """Before any work: refuse outputs that are inputs, and files price-opt did not write
    unless ``force`` (returns those, to be kept as ``.bak`` just before writing)."""
    from pricing.outputs.guard import check_overwrites, refuse_inputs_as_outputs

    refuse_inputs_as_outputs(outputs, inputs)
    return check_overwrites(outputs, force)


def _written(paths: list[Path], replaced: list[Path]) -> None:
    """Record the outputs as price-opt's own; say which files were kept as ``.bak``."""
    from pricing.outputs.guard import backup_path, record_written

    record_written(paths)
    for path in replaced:
        err_console.print(f"kept the previous {escape(str(path))} as "
                          f"{escape(str(backup_path(path)))}", highlight=False, soft_wrap=True)


# --- commands ---------------------------------------------------------------------------------


def _load_inputs(
    products_path: Path | None, rules_path: Path | None
) -> tuple[Path, Path, tuple[Product, ...], Rules]:
    """Load the products and rules files (the bundled samples by default), printing warnings."""
    from pricing.formats.products import load_products
    from pricing.formats.rules import load_rules
    from pricing.formats.samples import sample_products_path, sample_rules_path

    products_path = products_path or sample_products_path()
    rules_path = rules_path or sample_rules_path()
    products, warnings = load_products(products_path)
    report_warnings([w.render() for w in warnings])
    return products_path, rules_path, products, load_rules(rules_path)


SolverOpt = Annotated[
    str,
    typer.Option("--solver", help="MILP solver: cbc (bundled with PuLP) or highs."),
]
MethodOpt = Annotated[
    str,
    typer.Option(
        "--method",
        help="auto (the MILP where it is fast, else the ladder decomposition), milp or decompose.",
    ),
]


@app.command()
@handles_errors
def plan(
    products: ProductsArg = None,
    rules: RulesOpt = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the plan (.json or .xlsx).")
    ] = Path("plan.json"),
    solver: SolverOpt = "cbc",
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Stop the solver after this many seconds.")
    ] = None,
    gap: Annotated[
        float, typer.Option("--gap", help="Relative optimality gap at which to stop.")
    ] = 1e-4,
    method: MethodOpt = "auto",
    show: Annotated[
        int, typer.Option("--show", help="How many products to list in the table (0: none).")
    ] = 30,
    force: ForceOpt = False,
) -> None:
    """Plan the event: discount levels, coupon tiers and buy-two-get-one, proved loss-free.

    Picks each product's activity price, the store's coupon tiers and the buy-two-get-one
    members for the most expected profit that no cart can turn into a loss, verifies the plan
    with the exact checker and writes it.
    """
    from datetime import UTC, datetime

    from models.plan import PlanInputs
    from pricing.formats.plans import write_plan
    from pricing.formats.rules import rules_to_dict
    from pricing.formats.tables import file_sha256
    from pricing.optimize.planner import PlanOptions, make_plan

    if solver not in ("cbc", "highs"):
        raise InputError([Problem("--solver", "expected cbc or highs", value=solver)])
    if method not in ("auto", "milp", "decompose"):
        raise InputError([Problem("--method", "expected auto, milp or decompose", value=method)])
    if not 0 <= gap < 1:
        raise InputError([Problem("--gap", "expected a share in [0, 1)", value=str(gap))])
    if time_limit is not None and time_limit <= 0:
        raise InputError([Problem("--time-limit", "expected seconds > 0", value=str(time_limit))])
    from pricing.formats.samples import sample_products_path, sample_rules_path
    from pricing.outputs.guard import keep_backups

    replaced = _guard_outputs(
        {"--out": out},
        {"the products file": products or sample_products_path(),
         "the rules file": rules or sample_rules_path()},
        force,
    )
    products_path, rules_path, catalogue, rule_set = _load_inputs(products, rules)
    inputs = PlanInputs(
        products_file=str(products_path.resolve()),
        products_sha256=file_sha256(products_path),
        rules_file=str(rules_path.resolve()),
        rules_sha256=file_sha256(rules_path),
        rules=rules_to_dict(rule_set),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        price_opt_version=_version(),
    )
    options = PlanOptions(solver=solver, method=method, time_limit=time_limit, gap=gap)
    with err_console.status("Planning…") as status:
        result = make_plan(catalogue, rule_set, options, inputs, progress=status.update)
    keep_backups(replaced)
    write_plan(result.plan, out)
    _written([out], replaced)
    render_plan(result.plan, result.timings, show)
    console.print(f"Plan written to [bold]{out}[/bold] (verified: no cart loses money).")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("price-opt")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def render_plan(result: Plan, timings: dict[str, float], show: int) -> None:
    """Print the plan's summary and the table of its products."""
    from pricing.optimize.planner import level_label

    solver = result.solver
    joining = [d for d in result.products if d.joins]
    tiers = ", ".join(f"满{short_yuan(t.threshold_fen)}减{short_yuan(t.amount_fen)}"
                      for t in result.coupon_tiers) or "none"
    members = sum(d.b2g1 for d in result.products)
    gap = "n/a" if solver.gap is None else f"{solver.gap:.4%}"
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("Status", f"{result.status.value} ({solver.method}, {solver.name}, gap {gap},"
                    f" {solver.seconds:.2f} s to solve, {timings.get('total', 0):.2f} s in all)")
    summary.add_row("Model", f"{solver.variables} variables, {solver.constraints} constraints;"
                    f" {solver.candidates_pruned} of {solver.candidates_total} candidates pruned")
    summary.add_row("Coupon tiers", tiers)
    summary.add_row("Buy two get one", f"{members} products" if members else "not run")
    summary.add_row("Products", f"{len(joining)} join the event, "
                    f"{len(result.products) - len(joining)} stay out")
    summary.add_row("Expected revenue", f"¥{format_yuan(result.expected_revenue_fen)}"
                    f" (everyday baseline ¥{format_yuan(result.baseline_revenue_fen)})")
    summary.add_row("Expected profit", f"¥{format_yuan(result.objective_fen)}"
                    f" (everyday baseline ¥{format_yuan(result.baseline_profit_fen)})")
    summary.add_row("Discount spend", f"¥{format_yuan(result.expected_discount_spend_fen)}")
    summary.add_row("Worst unit margin", f"¥{format_yuan(result.worst_unit_margin_fen)}"
                    " (proven: no cart leaves a unit less)")
    console.print(summary)
    if show <= 0:
        return
    ranked = sorted(result.products, key=lambda d: -d.expected_profit_fen)
    table = Table(title=f"Products (top {min(show, len(ranked))} of {len(ranked)} by profit)"
                  if len(ranked) > show else "Products", box=box.SIMPLE_HEAD,
                  caption="Price: activity price; Worst: the least margin a unit keeps in any cart")
    wide = console.width >= 110  # titles only where they fit beside the numbers
    table.add_column("SKU", no_wrap=True)
    if wide:
        table.add_column("Title", no_wrap=True, max_width=18, overflow="ellipsis")
    for column in ("List", "Price", "Level", "B2G1", "Units", "Profit", "Worst"):
        table.add_column(column, justify="right", no_wrap=True)
    for decision in ranked[:show]:
        table.add_row(
            decision.sku, *([decision.title] if wide else []), format_yuan(decision.list_price_fen),
            format_yuan(decision.activity_price_fen) if decision.joins else "out",
            level_label(decision.level) if decision.joins else "—",
            "yes" if decision.b2g1 else "", f"{decision.expected_units:.0f}",
            format_yuan(decision.expected_profit_fen), format_yuan(decision.worst_unit_margin_fen),
        )
    console.print(table)


# --- quote and check (issue 3) ----------------------------------------------------------------


def _print_table(
    title: str,
    columns: list[str],
    rows: list[tuple[list[str], str | None]],
    caption: str | None = None,
    left: int = 1,
    section_before: int | None = None,
) -> None:
    """Print a table: the first ``left`` columns are text, the rest right-aligned amounts;
    each row comes with its style (None: plain); a rule is drawn above ``section_before``."""
    from rich.text import Text

    table = Table(title=Text(title), caption=None if caption is None else Text(caption))
    for position, column in enumerate(columns):
        # The first column and the amounts are always shown whole; a narrow terminal cuts
        # other text short.
        whole = position == 0 or position >= left
        table.add_column(
            Text(column), justify="left" if position < left else "right", no_wrap=whole,
            max_width=None if whole else 24,
        )
    for index, (cells, style) in enumerate(rows):
        if index == section_before:
            table.add_section()
        # Cells are plain text: a title like "[限量]" is not rich markup.
        table.add_row(
            *(Text(cell) if position == 0 or position >= left
              else Text(cell, no_wrap=True, overflow="ellipsis")
              for position, cell in enumerate(cells)),
            style=style,
        )
    console.print(table)


QUOTE_LINES_PER_TABLE = 4  # a waterfall table stays within 80 columns


@app.command()
@handles_errors
def quote(
    cart: Annotated[Path, typer.Argument(help="Cart file (.json, the public cart format).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the quote as JSON (money as strings).")
    ] = False,
) -> None:
    """Quote a cart to the fen: every discount a buyer stacks, what is paid and received."""
    import json

    from pricing.engine.stacking import quote as quote_cart
    from pricing.formats.carts import load_cart, quote_to_json

    result = quote_cart(load_cart(cart))
    if as_json:
        typer.echo(json.dumps(quote_to_json(result), ensure_ascii=False, indent=2))
        return
    # The waterfall runs down the table: one column per line, the store's total last.
    steps = (
        ("Subtotal", "subtotal_fen", 1), ("Official discount", "official_discount_fen", -1),
        ("Instant discount", "instant_discount_fen", -1),
        ("Store activity", "activity_discount_fen", -1), ("Coupon", "coupon_discount_fen", -1),
        ("Cross-store", "cross_store_discount_fen", -1), ("Red packet", "red_packet_fen", -1),
        ("Paid", "paid_fen", 1), ("Merchant receives", "merchant_receives_fen", 1),
    )
    for store in result.stores:
        lines = [line for line in result.lines if line.store == store.store]
        chunks = [lines[i:i + QUOTE_LINES_PER_TABLE]
                  for i in range(0, len(lines), QUOTE_LINES_PER_TABLE)]
        for number, chunk in enumerate(chunks, start=1):
            last = number == len(chunks)
            rows: list[tuple[list[str], str | None]] = []
            for label, name, sign in steps:
                amounts = [int(getattr(line, name)) for line in chunk]
                if last:
                    amounts.append(sum(int(getattr(line, name)) for line in lines))
                if sign < 0 and not any(amounts):
                    continue
                rows.append((
                    [label, *(format_yuan(sign * fen) if fen or sign > 0 else ""
                              for fen in amounts)],
                    "bold" if name == "paid_fen" else None,
                ))
            _print_table(
                f"Store {store.store}"
                + (f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""),
                ["", *(f"{line.sku} ×{line.quantity}" for line in chunk),
                 *(["Store total"] if last else [])],
                rows,
                caption=f"coupon used: {store.coupon_used or 'none'}" if last else None,
                section_before=len(rows) - 2,
            )
    received = sum(store.merchant_receives_fen for store in result.stores)
    console.print(
        f"Buyer pays [bold]¥{format_yuan(result.paid_fen)}[/bold]; merchants receive"
        f" ¥{format_yuan(received)} (red packets are platform-funded).", highlight=False,
    )




@app.command()
@handles_errors
def check(
    products: ProductsArg = None,
    rules: RulesOpt = None,
    discount: Annotated[
        str | None,
        typer.Option(help="Price every product at this share off its everyday price "
                     "(0.5 or 50% is 50% off). The default, 0.5, unless --plan is given."),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(help="Check a plan's prices, coupon tiers and buy-two-get-one instead "
                     "(a plan .json/.xlsx or a submission sheet)."),
    ] = None,
    coupons: Annotated[
        str | None,
        typer.Option(help="With --discount: the coupon tiers the store offers, e.g. "
                     "0-5,299-20,599-50 (default: every candidate of the rules)."),
    ] = None,
    no_coupons: Annotated[
        bool, typer.Option("--no-coupons", help="With --discount: the store offers no coupon.")
    ] = False,
    b2g1: Annotated[
        bool, typer.Option("--b2g1", help="With --discount: every eligible product runs "
                           "buy-two-get-one (default: off).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (money as strings).")
    ] = False,
    witness_dir: Annotated[
        Path | None,
        typer.Option(help="Write each losing product's worst cart here, as a cart file for "
                     "`price-opt quote`."),
    ] = None,
    show: Annotated[
        int, typer.Option(help="How many products the table lists, losers first (0: all).")
    ] = 50,
    force: ForceOpt = False,
) -> None:
    """Find every product's worst cart at a discount or under a plan: can any unit lose money?

    Exits 1 when a cart sells a unit below cost, or when no proof shows every unit keeps its
    margin floor. Worst margin: the worst cart found (per unit, quoted exactly); bound: the
    proven least margin over every cart.
    """
    import json

    from pricing.formats.plans import load_plan_prices, read_plan_if_plan
    from pricing.formats.sheets import PlanPrices
    from pricing.verify.margin_check import (
        DEFAULT_DISCOUNT,
        discount_prices_fen,
        margin_check,
        margin_check_to_json,
        parse_coupon_tiers,
        parse_discount,
        write_witnesses,
    )
    from pricing.verify.policy import WITNESSES

    if discount is not None and plan is not None:
        raise typer.BadParameter(
            "--discount and --plan are mutually exclusive: check one or the other",
            param_hint="'--discount' / '--plan'",
        )
    if plan is not None and (coupons is not None or no_coupons or b2g1):
        raise typer.BadParameter(
            "a plan sets its own coupon tiers and buy-two-get-one; "
            "--coupons, --no-coupons and --b2g1 go with --discount",
            param_hint="'--plan'",
        )
    if coupons is not None and no_coupons:
        raise typer.BadParameter(
            "--coupons and --no-coupons are mutually exclusive", param_hint="'--coupons'"
        )
    # Parse the options before reading any file, so that a typo fails fast.
    share = DEFAULT_DISCOUNT if discount is None else parse_discount(discount)
    tiers = () if no_coupons or coupons is None else parse_coupon_tiers(coupons)
    if witness_dir is not None and witness_dir.exists() and not witness_dir.is_dir():
        raise InputError([Problem("--witness-dir", "expected a folder, not a file",
                                  value=str(witness_dir))])
    plan_read = read_plan_if_plan(plan) if plan is not None else None
    if plan is not None and plan_read is not None:
        # A plan is judged by the products and rules files it records (read again now),
        # or by those given.
        from pricing.formats.plan_context import plan_context

        context = plan_context(plan_read, plan, products, rules)
        report_warnings(list(context.warnings))
        catalogue, rule_set = context.products, context.rules
    else:
        _, _, catalogue, rule_set = _load_inputs(products, rules)
    if plan is not None:
        plan_prices = (load_plan_prices(plan) if plan_read is None
                       else PlanPrices.of_plan(plan_read, str(plan)))
        prices, tiers = plan_prices.prices_fen, plan_prices.coupon_tiers
        members, source = plan_prices.b2g1_members, str(plan)
        basis = f"the prices of the plan {plan}"
    else:
        prices = discount_prices_fen(catalogue, share)
        if coupons is None and not no_coupons:
            tiers = rule_set.coupons.candidates
        members = frozenset(p.sku for p in catalogue if b2g1 and p.b2g1_eligible)
        source = "--discount"
        basis = f"every product {(share * 100).normalize():f}% off its everyday price"
    witnesses_for = WITNESSES.for_check(len(catalogue))
    result = margin_check(catalogue, rule_set, prices, tiers, members, witnesses_for, source)
    written: list[Path] = []
    if witness_dir is not None:
        from pricing.outputs.guard import keep_backups

        replaced: list[Path] = []

        def guard_witnesses(paths: list[Path]) -> None:
            replaced.extend(_guard_outputs(
                {f"--witness-dir {path.name}": path for path in paths},
                {"the products file": products, "the rules file": rules, "the plan": plan}
                if plan is None or plan_read is None
                else _plan_inputs(plan, plan_read, products, rules),
                force,
            ))
            keep_backups(replaced)

        written = write_witnesses(result, witness_dir, guard_witnesses)
        _written(written, replaced)
    if as_json:
        typer.echo(json.dumps(margin_check_to_json(result), ensure_ascii=False, indent=2))
        raise typer.Exit(0 if result.passes else 1)

    from rich.markup import escape

    console.print(f"[bold]Checking[/bold] {escape(basis)}, assuming:", highlight=False)
    for note in result.notes:
        console.print(f"  · {escape(note)}", highlight=False)
    losers, unproven = result.losers, result.unproven
    safe = [row for row in result.products if row.proven_safe and not row.loses]
    ordered = [*losers, *unproven, *safe]
    listed = ordered if show <= 0 else ordered[:show]
    _print_table(
        "Worst cart per product"
        + (f" ({len(listed)} of {len(ordered)}, losers first)" if len(listed) < len(ordered)
           else ""),
        ["SKU", "Title", "Activity", "Worst margin", "Bound", "Verdict", "Sign-up"],
        [
            (
                [row.sku, row.title, format_yuan(row.activity_price_fen),
                 "—" if row.worst_unit_margin_fen is None
                 else format_yuan(row.worst_unit_margin_fen),
                 format_yuan(row.proven_bound_fen),
                 "LOSES" if row.loses else "safe" if row.proven_safe else "unproven",
                 "—" if row.meets_signup is None else "yes" if row.meets_signup else "no"],
                "bold red" if row.loses else None if row.proven_safe else "yellow",
            )
            for row in listed
        ],
        left=2,
    )
    if losers:
        named = ", ".join(
            f"{escape(row.sku)} ({format_yuan(row.worst_unit_margin_fen or 0)} a unit)"
            for row in losers[:10]
        )
        more = f" and {len(losers) - 10} more" if len(losers) > 10 else ""
        console.print(f"[bold red]{len(losers)} of {len(ordered)} products lose money:"
                      f"[/bold red] {named}{more}.", highlight=False)
    if unproven:
        console.print(f"[yellow]{len(unproven)} not proven safe[/yellow] (no losing cart"
                      " found, but the proven bound is below the margin floor): "
                      f"{escape(', '.join(row.sku for row in unproven[:10]))}.",
                      highlight=False)
    if result.worst_order_margin_fen is not None:
        console.print("Worst order among the witness carts: margin"
                      f" {format_yuan(result.worst_order_margin_fen)}.", highlight=False)
    if written:
        console.print(f"{len(written)} witness cart(s) written to {escape(str(witness_dir))};"
                      " `price-opt quote <file>` shows each loss to the fen.", highlight=False)
    if result.passes:
        console.print(f"[green]All {len(ordered)} products are proven safe:[/green] no cart "
                      "sells a unit below its margin floor.", highlight=False)
    raise typer.Exit(0 if result.passes else 1)


@app.command()
@handles_errors
def validate(products: ProductsArg = None, rules: RulesOpt = None) -> None:
    """Check a products file and a rules file, reporting every problem in both at once.

    Exit 1 with every problem listed, or 0 with a short summary of what the files hold.
    """
    from pricing.formats.products import load_products
    from pricing.formats.rules import load_rules
    from pricing.formats.samples import sample_products_path, sample_rules_path
    from pricing.formats.tables import input_error

    products_path = products or sample_products_path()
    rules_path = rules or sample_rules_path()
    problems: list[Problem] = []
    catalogue: tuple[Product, ...] | None = None
    loaded_rules: Rules | None = None
    try:
        catalogue, warnings = load_products(products_path)
        problems.extend(warnings)
    except InputError as error:
        problems.extend([*error.problems, *error.warnings])
    try:
        loaded_rules = load_rules(rules_path)
    except InputError as error:
        problems.extend([*error.problems, *error.warnings])
    if catalogue is None or loaded_rules is None:
        raise input_error(problems)
    report_warnings([problem.render() for problem in problems])
    for line in _validate_summary(products_path, catalogue, rules_path, loaded_rules):
        console.print(line, highlight=False, soft_wrap=True)
    console.print("[green]ok:[/green] both files are valid.", highlight=False)
    raise typer.Exit(0)


def _validate_summary(
    products_path: Path, catalogue: tuple[Product, ...], rules_path: Path, rules: Rules
) -> list[str]:
    """What ``validate`` says about valid inputs: the catalogue's make-up and the rules."""
    from collections import Counter
    from decimal import Decimal

    from models.money import discount_label
    from models.product import Role
    from models.rules import mechanism_label

    def percent(rate: Decimal) -> str:
        return f"{(rate * 100).normalize():f}%"

    roles = Counter(product.role for product in catalogue)
    zh = {Role.HERO: "主推", Role.TRAFFIC: "引流", Role.PROFIT: "利润", Role.REGULAR: "常规"}
    role_text = ", ".join(f"{roles[role]} {role.value} {zh[role]}" for role in Role)
    platform, store = rules.platform, rules.store
    mechanism = mechanism_label(platform)
    levels = rules.ladder.levels
    coupons = ", ".join(tier.label for tier in rules.coupons.candidates) or "none"
    budget = f"¥{short_yuan(store.budget_fen)}" if store.budget_fen else "none"
    return [
        f"[bold]products[/bold] {products_path}: {len(catalogue)} products ({role_text}); "
        f"{sum(not p.b2g1_eligible for p in catalogue)} kept out of buy-two-get-one, "
        f"{sum(p.purchase_limit is not None for p in catalogue)} with a purchase limit",
        f"[bold]rules[/bold] {rules_path}:",
        f"  mechanism: {mechanism}; commission {percent(platform.commission_rate)}; "
        f"sign-up at least {percent(platform.min_discount)} off",
        f"  store: shipping ¥{format_yuan(store.shipping_cost_fen)} per order, handling "
        f"¥{format_yuan(store.handling_cost_fen)} per unit, budget {budget}",
        f"  coupon candidates: {coupons} (at most {rules.coupons.max_tiers} tiers)",
        f"  ladder: {len(levels)} levels, {levels[0]:.2f} ({discount_label(levels[0])}) to "
        f"{levels[-1]:.2f} ({discount_label(levels[-1])}); buy-two-get-one "
        f"{'allowed' if rules.b2g1.enabled else 'off'}",
    ]


# --- export and report (issue 5) --------------------------------------------------------------

PlanArg = Annotated[
    Path, typer.Argument(help="The plan written by `price-opt plan` (.json or plan .xlsx).")
]
PlanProductsOpt = Annotated[
    Path | None,
    typer.Option("--products", "-p", help="Products file. Default: the one the plan records."),
]
PlanRulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", "-r", help="Rules file (.toml). Default: the rules the plan records."),
]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of the output: zh or en.")]


def _plan_inputs(
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


@app.command()
@handles_errors
def export(
    plan: PlanArg,
    products: PlanProductsOpt = None,
    rules: PlanRulesOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The sheet: .xlsx, or .csv (plus a NAME.settings.csv "
                     "beside it). Default: 报名表.xlsx (submission.xlsx with --lang en)."),
    ] = None,
    lang: LangOpt = "zh",
    stock_factor: Annotated[
        str, typer.Option("--stock-factor", help="Activity stock = expected units × this, "
                          "rounded up, at most the stock.")
    ] = "1",
    drop_failing: Annotated[
        bool, typer.Option("--drop-failing", help="Leave products that would lose money or "
                           "break the sign-up rules out of the event instead of refusing.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Write the product submission sheet (商品报名表) of a plan, after checking it again.

    Refuses (exit 6), naming the products, a plan in which a cart can sell a unit below its
    margin floor or a joining product breaks the sign-up rules, unless --drop-failing.
    """
    from decimal import Decimal, InvalidOperation

    from models.money import discount_label
    from pricing.formats.plan_context import plan_context
    from pricing.formats.plans import read_plan
    from pricing.outputs.export import ExportOptions, export_plan

    try:
        factor = Decimal(stock_factor.strip())
    except InvalidOperation:
        raise InputError([Problem("--stock-factor", "expected a number above 0, e.g. 1.2",
                                  value=stock_factor)]) from None
    options = ExportOptions(lang=lang, stock_factor=factor, drop_failing=drop_failing)
    from pricing.formats.sheets import companion_settings_path
    from pricing.outputs.guard import keep_backups

    out = out or Path("报名表.xlsx" if lang == "zh" else "submission.xlsx")
    plan_read = read_plan(plan)
    outputs = {"--out": out}
    if out.suffix.lower() == ".csv":
        outputs["--out (its settings file)"] = companion_settings_path(out)
    replaced = _guard_outputs(outputs, _plan_inputs(plan, plan_read, products, rules), force)
    context = plan_context(plan_read, plan, products, rules)
    report_warnings(list(context.warnings))
    keep_backups(replaced)
    with err_console.status("Checking every cart and writing the sheet…"):
        result = export_plan(context, out, options)
    _written(list(result.paths), replaced)
    sheet = result.sheet
    for failure in sheet.dropped:
        err_console.print(f"[yellow]removed:[/yellow] {failure.render()}", highlight=False,
                          soft_wrap=True)
    _print_table(
        f"Submission sheet ({len(sheet.rows)} products)",
        ["SKU", "Price", "Level", "Stock", "B2G1", "Lowest", "Worst"],
        [
            ([row.sku, format_yuan(row.activity_price_fen),
              discount_label(row.level, lang), str(row.activity_stock),
              "yes" if row.b2g1 else "", format_yuan(row.lowest_paid_fen),
              format_yuan(row.worst_unit_margin_fen)], None)
            for row in sheet.rows[:30]
        ],
        caption=(f"first 30 of {len(sheet.rows)}; " if len(sheet.rows) > 30 else "")
        + "Price: activity price; Lowest: least paid per unit; Worst: least unit margin",
    )
    tiers = ", ".join(tier.label for tier in sheet.prices.coupon_tiers) or "none"
    members = len(sheet.prices.b2g1_members)
    removed = f"; {len({f.sku for f in sheet.dropped})} removed" if sheet.dropped else ""
    console.print(
        f"Wrote [bold]{', '.join(str(p) for p in result.paths)}[/bold]: {len(sheet.rows)}"
        f" products{removed}; coupon tiers {tiers}; buy-two-get-one"
        f" {f'{members} products' if members else 'off'}. Every cart checked: no unit sells"
        " below its margin floor.", highlight=False, soft_wrap=True,
    )


@app.command()
@handles_errors
def report(
    plan: PlanArg,
    products: PlanProductsOpt = None,
    rules: PlanRulesOpt = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The report, one self-contained .html file.")
    ] = Path("report.html"),
    lang: LangOpt = "zh",
    force: ForceOpt = False,
) -> None:
    """Write the plan's report: headline, price waterfalls, products, 50%-off test, worst carts.

    One HTML file with everything inlined: it opens in any browser without a network.
    """
    from pricing.formats.plan_context import plan_context
    from pricing.formats.plans import read_plan
    from pricing.outputs.report import write_report

    if lang not in ("zh", "en"):
        raise InputError([Problem("--lang", "expected zh or en", value=lang)])
    from pricing.outputs.guard import keep_backups

    plan_read = read_plan(plan)
    replaced = _guard_outputs(
        {"--out": out}, _plan_inputs(plan, plan_read, products, rules), force
    )
    context = plan_context(plan_read, plan, products, rules)
    report_warnings(list(context.warnings))
    keep_backups(replaced)
    with err_console.status("Checking every cart and drawing the report…"):
        data = write_report(context, out, lang)
    _written([out], replaced)
    failing = [v.sku for v in data.check.products if not v.proven_safe]
    losers = [v.sku for v in data.fifty.products if not v.proven_safe]
    console.print(
        f"Wrote [bold]{out}[/bold]: {len(context.products)} products,"
        f" {len(data.waterfalls)} price waterfalls;"
        f" {len(losers)} would lose money at 50% off.", highlight=False, soft_wrap=True,
    )
    if failing:
        err_console.print(
            f"[yellow]warning:[/yellow] the plan fails the exact checker for {len(failing)}"
            f" product(s): {', '.join(failing[:10])} (the report shows why; export refuses it)",
            highlight=False, soft_wrap=True,
        )


# --- demand: fit and forecast -----------------------------------------------------------------


@app.command()
@handles_errors
def fit(
    history: Annotated[
        Path, typer.Argument(help="Sales history (.csv or .xlsx): date, sku, units, price, "
                             "optional promo, feature, category, visitors.")
    ],
    products: Annotated[
        Path | None,
        typer.Option("--products", "-p", help="Products file: categories for a history "
                     "without them, and the products that have no history."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the demand file (.csv).")
    ] = Path("demand.csv"),
    holdout_last: Annotated[
        int | None,
        typer.Option("--holdout-last", help="Backtest: fit without the last N periods and "
                     "score the forecast of them against naive and log-log baselines."),
    ] = None,
    show: Annotated[
        int, typer.Option("--show", help="How many flagged SKUs to list (0: all).")
    ] = 20,
) -> None:
    """Fit each SKU's demand (elasticity, promotion and feature lifts, cannibalization within
    its category, day of week) from the store's sales history, pooled toward its category."""
    from pricing.demand.backtest import run_backtest
    from pricing.demand.fit import fit_demand
    from pricing.formats.demand_file import write_demand
    from pricing.formats.history import load_history
    from pricing.formats.products import load_products

    if out.resolve() == history.resolve() or (products and out.resolve() == products.resolve()):
        raise InputError([Problem(str(out), "--out names an input file; it is never overwritten")])
    loaded = load_history(history)
    console.print(f"history {history}: {loaded.describe()}", highlight=False, soft_wrap=True)
    if loaded.price_filled:
        console.print(f"  {loaded.price_filled:,} zero-unit rows without a price: the SKU's "
                      "nearest price carried", highlight=False)
    categories = loaded.categories
    if products is not None:
        catalogue, warnings = load_products(products)
        report_warnings([w.render() for w in warnings])
        by_sku = {p.sku: p.category for p in catalogue}
        if not loaded.has_category:
            categories = tuple(by_sku.get(sku, "") for sku in loaded.skus)
        missing = [p.sku for p in catalogue if p.sku not in set(loaded.skus)]
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            console.print(f"  {len(missing)} products have no history ({shown}): a plan uses "
                          "their base_units and elasticity columns", highlight=False)
    if holdout_last is not None:
        result = run_backtest(loaded, holdout_last, categories)
        _render_backtest(result)
    fitted = fit_demand(loaded, categories)
    _render_fit(fitted, show)
    write_demand(fitted.model, out)
    console.print(f"wrote {out} ({len(fitted.model.skus):,} SKUs"
                  f"{', refitted on the whole history' if holdout_last else ''})",
                  highlight=False)
    raise typer.Exit(0)


def _render_backtest(result: Backtest) -> None:
    unit = "days" if result.fit.model.period.value == "day" else "weeks"
    console.print(f"backtest: last {result.periods} {unit} held out ({result.first} to "
                  f"{result.last}, {result.rows:,} rows, {result.units:,.0f} units):",
                  highlight=False, soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("forecast")
    table.add_column("WAPE", justify="right")
    table.add_column("bias", justify="right")
    table.add_column("vs naive WAPE", justify="right")
    naive = result.scores[1].wape
    for score in result.scores:
        ratio = "" if score is result.scores[1] else f"{(score.wape / naive - 1):+.0%}"
        table.add_row(score.name, f"{score.wape:.1%}", f"{score.bias:+.1%}", ratio)
    console.print(table)
    if result.unseen_rows:
        console.print(f"  {result.unseen_rows:,} held-out rows of SKUs with no earlier history "
                      "are not scored", highlight=False)


def _render_fit(fitted: FitResult, show: int) -> None:
    model = fitted.model
    count = len(model.skus)
    sources: dict[str, int] = {}
    for source in model.source:
        sources[source] = sources.get(source, 0) + 1
    negative = int((model.elasticity < 0).sum())
    median = float(np.median(model.elasticity)) if count else float("nan")
    console.print(
        f"fitted {count:,} SKUs ({model.period.value}: one row per {model.period.value}): "
        f"elasticity median {median:+.2f}, "
        f"negative for {negative:,} of {count:,}; elasticity from "
        + ", ".join(f"{source} {n:,}" for source, n in sorted(sources.items())),
        highlight=False, soft_wrap=True,
    )
    for note in fitted.notes:
        console.print(f"  {escape(note)}", highlight=False, soft_wrap=True)
    flagged = [(sku, flags) for sku, flags in zip(model.skus, model.flags, strict=True) if flags]
    if flagged:
        console.print(f"{len(flagged):,} SKUs flagged (fallbacks in the demand file's "
                      "source and flags columns):", highlight=False)
        for sku, flags in flagged[: show or None]:
            console.print(f"  {escape(sku)}: {escape(flags)}", highlight=False, soft_wrap=True)
        if show and len(flagged) > show:
            console.print(f"  … and {len(flagged) - show:,} more", highlight=False)


@app.command()
@handles_errors
def forecast(
    demand: Annotated[Path, typer.Argument(help="Demand file written by `price-opt fit`.")],
    scenario: Annotated[
        Path, typer.Argument(help="Scenario (.csv or .xlsx): date, sku, price, optional "
                             "promo, feature.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"rows": [{"date", "sku", "units"}]}.')
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write the forecast: .json as with --json, "
                     "else CSV (date, sku, units)."),
    ] = None,
) -> None:
    """Expected units for each row of a scenario (prices, promotions, features by date)."""
    import json

    from pricing.demand.forecast import forecast_scenario
    from pricing.formats.atomic import write_bytes_atomic, write_text_atomic
    from pricing.formats.demand_file import load_demand
    from pricing.formats.history import load_scenario

    if out is not None and out.resolve() in {demand.resolve(), scenario.resolve()}:
        raise InputError([Problem(str(out), "--out names an input file; it is never overwritten")])
    model = load_demand(demand)
    loaded = load_scenario(scenario)
    units = forecast_scenario(model, loaded, str(demand))
    rows = [
        {"date": str(day), "sku": str(sku), "units": round(float(value), 4)}
        for day, sku, value in zip(loaded.dates.tolist(), loaded.skus.tolist(), units.tolist(),
                                   strict=True)
    ]
    document = json.dumps({"rows": rows}, ensure_ascii=False, indent=1)
    if out is not None:
        if out.suffix.casefold() == ".json":
            write_text_atomic(out, document + "\n")
        else:
            lines = ["date,sku,units", *(f"{r['date']},{_csv_cell(str(r['sku']))},{r['units']}"
                                         for r in rows)]
            write_bytes_atomic(out, ("\n".join(lines) + "\n").encode("utf-8-sig"))
    if as_json:
        typer.echo(document)
    else:
        table = Table(box=box.SIMPLE_HEAD)
        for name in ("date", "sku", "units"):
            table.add_column(name, justify="right" if name == "units" else "left")
        for row in rows[:200]:
            table.add_row(str(row["date"]), escape(str(row["sku"])), f"{row['units']:.2f}")
        console.print(table)
        where = f"; all in {out}" if out else ""
        more = f" (first 200 shown{where})" if len(rows) > 200 else ""
        console.print(f"{len(rows):,} rows, {float(units.sum()):,.1f} units in all{more}",
                      highlight=False)
    raise typer.Exit(0)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --- end of commands ---------------------------------------------------------------------------


def main() -> None:
    """Entry point of the ``price-opt`` command: Ctrl-C and SIGTERM end it with one line, and
    no temporary file is left behind (:mod:`pricing.runtime`)."""
    import sys

    from pricing.runtime import Interrupted, guarded_run

    try:
        guarded_run(app)
    except Interrupted as stop:
        err_console.print(f"[red]interrupted:[/red] {stop}; no output was left half-written",
                          highlight=False)
        sys.exit(stop.exit_code)


if __name__ == "__main__":
    main()
