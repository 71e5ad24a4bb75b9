"""The ``price-opt`` command: a thin Typer edge over the ``pricing`` library.

Each command declares its options, calls one function of :mod:`pricing.commands` and hands the
result to :mod:`pricing.outputs.render`. Every command takes ``--lang zh|en`` (default:
``PRICE_OPT_LANG``, the locale, else zh); the help texts follow it too. Errors are caught in one
place (:func:`handles_errors`): a :class:`pricing.errors.PriceOptError` prints ``error: …``
(``错误：…``) and exits with its code; nothing here prints a traceback. Only this module knows
Typer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from pricing import commands, query_commands
from pricing.errors import InputError, PriceOptError, Problem
from pricing.outputs import render, render_queries
from pricing.outputs.i18n import LANGS, default_lang, is_lang, tr

P = ParamSpec("P")
console = Console()
err_console = Console(stderr=True)
_LANG_KEY = "price_opt.lang"
_PANEL_TITLES = {"ARGUMENTS_PANEL_TITLE": "参数", "OPTIONS_PANEL_TITLE": "选项",
                 "COMMANDS_PANEL_TITLE": "命令"}


def _lang_in(args: list[str]) -> str | None:
    """The ``--lang`` the user typed, if any, read before click parses (help is eager)."""
    for index, arg in enumerate(args):
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        elif arg == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        else:
            continue
        return value.strip().lower() if is_lang(value) else None
    return None


def _help_lang(ctx: Any) -> str:
    chosen = ctx.meta.get(_LANG_KEY)
    return chosen if isinstance(chosen, str) else default_lang()


def _translate_help(command: Any, lang: str) -> None:
    """Put ``command``'s help texts (and its options') in ``lang``; English is the source."""
    if lang == "en":
        return
    if command.help:
        command.help = "\n\n".join(tr(" ".join(part.split()), lang)
                                   for part in command.help.split("\n\n"))
    if command.short_help:
        command.short_help = tr(command.short_help, lang)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            param.help = tr(text, lang)


def _format_in(command: Any, ctx: Any, lang: str,
               formatter: Callable[[], None]) -> None:
    _translate_help(command, lang)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _translate_help(sub, lang)
    # Imported only to format help: it loads rich's Markdown renderer, which no command needs.
    from typer import rich_utils

    saved = {name: getattr(rich_utils, name) for name in _PANEL_TITLES}
    if lang == "zh":
        for name, title in _PANEL_TITLES.items():
            setattr(rich_utils, name, title)
    try:
        formatter()
    finally:
        for name, title in saved.items():
            setattr(rich_utils, name, title)


class LocalizedCommand(TyperCommand):
    """A command whose help speaks the language ``--lang`` (or the environment) asks for."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        chosen = _lang_in(args)
        if chosen is not None:
            ctx.meta[_LANG_KEY] = chosen
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_in(self, ctx, _help_lang(ctx),
                   lambda: TyperCommand.format_help(self, ctx, formatter))


class LocalizedGroup(TyperGroup):
    """The ``price-opt`` group, with the same language rule for its help."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        chosen = _lang_in(args)
        if chosen is not None:
            ctx.meta[_LANG_KEY] = chosen
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_in(self, ctx, _help_lang(ctx),
                   lambda: TyperGroup.format_help(self, ctx, formatter))


app = typer.Typer(
    name="price-opt",
    cls=LocalizedGroup,
    help="Promotion pricing and coupon-stacking optimizer for Taobao/Tmall stores, with a "
    "no-loss proof for every plan.",
    no_args_is_help=False,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"price-opt {commands.version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", "-V", help="Show the version and exit.",
                           callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """Promotion pricing and coupon-stacking optimizer for Taobao/Tmall stores, with a no-loss
    proof for every plan."""


def _lang_of(value: str | None) -> str:
    """The language a command speaks: ``--lang``, else the environment's (never an error)."""
    if value is not None and is_lang(value):
        return value.strip().lower()
    return default_lang()


def handles_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command, turning a :class:`PriceOptError` into ``error: …`` and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        raw = kwargs.get("lang")
        lang = _lang_of(raw if isinstance(raw, str) else None)
        try:
            if isinstance(raw, str) and not is_lang(raw):
                raise InputError([Problem("--lang", "expected zh or en", value=raw)])
            command(*args, **kwargs)
        except PriceOptError as error:
            render.render_error(err_console, error, lang)
            raise typer.Exit(_exit_code_of(error)) from None

    return run


USAGE_EXIT_CODE = 2


def _exit_code_of(error: PriceOptError) -> int:
    """Usage errors (every problem is about a command-line option, ``--solver`` …) exit 2."""
    if isinstance(error, InputError):
        about_options = error.problems and all(p.file.startswith("--") for p in error.problems)
        if about_options:
            return USAGE_EXIT_CODE
    return error.exit_code


def _warner(lang: str | None) -> Callable[[Problem | str], None]:
    """Print an input warning on stderr as soon as the library finds it."""
    language = _lang_of(lang)

    def warn(warning: Problem | str) -> None:
        render.render_warnings(err_console, [warning], language)

    return warn


def _command(**settings: Any) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """``@app.command`` with localized help and the error handling every command shares."""

    def register(function: Callable[P, None]) -> Callable[P, None]:
        wrapped = handles_errors(function)
        app.command(cls=LocalizedCommand, **settings)(wrapped)
        return wrapped

    return register


# --- options shared by several commands -------------------------------------------------------

ProductsArg = Annotated[
    Path | None,
    typer.Argument(help="Products file (.csv or .xlsx). Default: the bundled sample catalogue."),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", "-r", help="Rules file (.toml). Default: the bundled sample rules."),
]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of the output: zh or en (default: PRICE_OPT_LANG, "
                 "else the locale, else zh).", show_default=False),
]
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
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace an output file price-opt did not write (or that was "
                 "edited since); the current file is kept as NAME.bak."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON (money as strings).")
]


SHOW_HELP = "How many products the table lists (0: none; the summary always shows the totals)."


SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", help="The sheet of an .xlsx products file to read (default: the "
                 "first; the output says which was read)."),
]


# --- commands ---------------------------------------------------------------------------------


@_command()
def validate(
    products: ProductsArg = None, rules: RulesOpt = None, lang: LangOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """Check a products file and a rules file, reporting every problem in both at once.

    Exit 1 with every problem listed, or 0 with a short summary of what the files hold.
    """
    inputs = query_commands.run_validate(products, rules, sheet)
    render_queries.render_validate(console, inputs, _lang_of(lang))
    raise typer.Exit(0)


@_command()
def plan(
    products: ProductsArg = None,
    rules: RulesOpt = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the plan (.json or .xlsx).")
    ] = Path("plan.json"),
    solver: Annotated[
        str, typer.Option("--solver", help="MILP solver: cbc (bundled with PuLP) or highs.")
    ] = "cbc",
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Stop the solver after this many seconds.")
    ] = None,
    gap: Annotated[
        float, typer.Option("--gap", help="Relative optimality gap at which to stop.")
    ] = 1e-4,
    method: Annotated[
        str, typer.Option("--method", help="auto (the MILP where it is fast, else the ladder "
                          "decomposition), milp or decompose.")
    ] = "auto",
    show: Annotated[int, typer.Option("--show", min=0, help=SHOW_HELP)] = 30,
    force: ForceOpt = False,
    lang: LangOpt = None,
    demand: Annotated[
        Path | None,
        typer.Option("--demand", help="Demand file from `price-opt fit`: event units from the "
                     "fitted model (over [demand] event_days), cannibalization within a "
                     "category in the objective; products without a row use their columns."),
    ] = None,
    sheet: SheetOpt = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 (and write nothing) when a hero is excluded or a"
                     " soft rule is violated."),
    ] = False,
) -> None:
    """Plan the event: discount levels, coupon tiers and buy-two-get-one, proved loss-free.

    Picks each product's activity price, the store's coupon tiers and the buy-two-get-one
    members for the most expected profit that no cart can turn into a loss, verifies the plan
    with the exact checker and writes it.
    """
    language = _lang_of(lang)
    with render.working(err_console, tr("Planning…", language), language) as step:
        run = commands.run_plan(products, rules, out, solver, method, time_limit, gap,
                                progress=step, force=force, warn=_warner(lang),
                                demand_path=demand, sheet=sheet, strict=strict)
    render.render_replaced(err_console, run.replaced, language)
    render.render_plan(console, run, show, language)
    if run.demand_note:
        console.print(run.demand_note, highlight=False, soft_wrap=True)


@_command()
def quote(
    cart: Annotated[Path, typer.Argument(help="Cart file (.json, the public cart format).")],
    products: Annotated[
        Path | None,
        typer.Option("--products", "-p", help="Products file: adds commission, cost, handling, "
                     "shipping share and margin per line."),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", "-r", help="Rules file (.toml) for commission, handling and "
                     "shipping. Default: the sample rules (with --products)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the quote as JSON (money as strings).")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Quote a cart to the fen: every discount a buyer stacks, what is paid and received.

    With --products, each line also shows commission, cost, shipping share and margin.
    """
    run = query_commands.run_quote(cart, products, rules)
    if as_json:
        typer.echo(query_commands.quote_json(run))
        return
    render_queries.render_quote(console, run, _lang_of(lang))


@_command()
def check(
    products: ProductsArg = None,
    rules: RulesOpt = None,
    discount: Annotated[
        str | None,
        typer.Option(help="Price every product at this discount: 5折, 50% or 0.5 (the share "
                     "off). Default: 5折 unless --plan is given."),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(help="Check a plan's prices, coupon tiers and buy-two-get-one instead (a "
                     "plan .json/.xlsx or a submission sheet)."),
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
    as_json: JsonOpt = False,
    witness_dir: Annotated[
        Path | None,
        typer.Option(help="Write each losing product's worst cart here, as a cart file for "
                     "`price-opt quote`."),
    ] = None,
    show: Annotated[
        int, typer.Option("--show", min=0, help="How many products the table lists, losers "
                          "first (0: none; the summary always shows the totals).")
    ] = 50,
    force: ForceOpt = False,
    lang: LangOpt = None,
    sheet: SheetOpt = None,
) -> None:
    """Find every product's worst cart at a discount or under a plan: can any unit lose money?

    Exits 1 when a cart sells a unit below cost, or when no proof shows every unit keeps its
    margin floor.
    """
    if discount is not None and plan is not None:
        raise typer.BadParameter("--discount and --plan are mutually exclusive: check one or "
                                 "the other", param_hint="'--discount' / '--plan'")
    if plan is not None and (coupons is not None or no_coupons or b2g1):
        raise typer.BadParameter("a plan sets its own coupon tiers and buy-two-get-one; "
                                 "--coupons, --no-coupons and --b2g1 go with --discount",
                                 param_hint="'--plan'")
    if coupons is not None and no_coupons:
        raise typer.BadParameter("--coupons and --no-coupons are mutually exclusive",
                                 param_hint="'--coupons'")
    run = commands.run_check(products, rules, discount, plan, coupons, no_coupons, b2g1,
                             witness_dir, force, _warner(lang), sheet=sheet)
    render.render_replaced(err_console, run.replaced, _lang_of(lang))
    if as_json:
        typer.echo(commands.check_json(run))
    else:
        render.render_check(console, run, show, _lang_of(lang))
    raise typer.Exit(0 if run.result.passes else 1)


@_command()
def export(
    plan: PlanArg,
    products: PlanProductsOpt = None,
    rules: PlanRulesOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The sheet: .xlsx, or .csv (plus a NAME.settings.csv "
                     "beside it). Default: 报名表.xlsx (submission.xlsx with --lang en)."),
    ] = None,
    lang: LangOpt = None,
    template: Annotated[
        str, typer.Option("--template", help="tmall (the platform's 商品报名表 columns: 商品ID, "
                          "SKU ID, 活动价, 活动库存, 每人限购), or your downloaded template .xlsx, "
                          "filled by header name.")
    ] = "tmall",
    stock_factor: Annotated[
        str, typer.Option("--stock-factor", help="Activity stock = expected units × this, "
                          "rounded up, never above the stock, never below the forecast (at "
                          "least 1).")
    ] = "1.5",
    drop_failing: Annotated[
        bool, typer.Option("--drop-failing", help="Leave products that would lose money or "
                           "break the sign-up rules out of the event instead of refusing.")
    ] = False,
    show: Annotated[int, typer.Option("--show", min=0, help=SHOW_HELP)] = 30,
    force: ForceOpt = False,
) -> None:
    """Write the product submission sheet (商品报名表) of a plan, after checking it again.

    Refuses (exit 6), naming the products, a plan in which a cart can sell a unit below its
    margin floor or a joining product breaks the sign-up rules, unless --drop-failing.
    """
    language = _lang_of(lang)
    with render.working(err_console, tr("Checking every cart and writing the sheet…", language),
                        language) as progress:
        run = commands.run_export(plan, products, rules, out, language, stock_factor,
                                  drop_failing, force, _warner(lang), template, progress)
    render.render_replaced(err_console, run.replaced, language)
    render.render_export(console, err_console, run, show, language)


@_command()
def report(
    plan: PlanArg,
    products: PlanProductsOpt = None,
    rules: PlanRulesOpt = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The report, one self-contained .html file.")
    ] = Path("report.html"),
    lang: LangOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write the plan's report: headline, price waterfalls, products, 50%-off test, worst carts.

    One HTML file with everything inlined: it opens in any browser without a network.
    """
    language = _lang_of(lang)
    with render.working(err_console, tr("Checking every cart and drawing the report…",
                                        language), language) as progress:
        run = commands.run_report(plan, products, rules, out, language, force,
                                  _warner(lang), progress)
    render.render_replaced(err_console, run.replaced, language)
    render.render_report(console, err_console, run, language)


# --- demand: fit and forecast -----------------------------------------------------------------


@_command()
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
        int, typer.Option("--show", min=0, help="How many flagged SKUs to list (0: none; the "
                          "summary always shows the totals).")
    ] = 20,
    lang: LangOpt = None,
) -> None:
    """Fit each SKU's demand (elasticity, promotion and feature lifts, cannibalization within
    its category, day of week) from the store's sales history, pooled toward its category."""
    run = query_commands.run_fit(history, products, out, holdout_last, _warner(lang))
    render_queries.render_fit(console, run, show, _lang_of(lang))
    raise typer.Exit(0)


@_command()
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
    lang: LangOpt = None,
) -> None:
    """Expected units for each row of a scenario (prices, promotions, features by date)."""
    run = query_commands.run_forecast(demand, scenario, out)
    if as_json:
        typer.echo(query_commands.forecast_document(run))
    else:
        render_queries.render_forecast(console, run, _lang_of(lang))
    raise typer.Exit(0)


# --- end of commands ---------------------------------------------------------------------------

__all__ = ["LANGS", "app", "main"]


def main() -> None:
    """Entry point of the ``price-opt`` command: Ctrl-C and SIGTERM end it with one line, and
    no temporary file is left behind (:mod:`pricing.runtime`)."""
    import gc
    import sys

    from pricing.runtime import Interrupted, guarded_run

    # One command, then the process ends: what is loaded by now (the modules, some 80,000
    # objects) lives as long as it, so the cycle collector stops rescanning it (about 60 ms of
    # CPU in a 10,000-SKU plan).
    gc.freeze()
    try:
        guarded_run(app)
    except Interrupted as stop:
        language = default_lang()
        err_console.print(f"[red]{tr('interrupted:', language)}[/red] {stop}; no output was "
                          "left half-written", highlight=False)
        sys.exit(stop.exit_code)


if __name__ == "__main__":
    main()
