"""What each command prints, in Chinese or English: rich tables and summaries, one place.

``cli.py`` calls the library (:mod:`pricing.commands`) and hands the result to the ``render_*``
function of the same name, with the console and the language. Text comes from the catalogue
(:mod:`pricing.outputs.i18n`); user text (titles, SKUs, paths) is never read as rich markup.

Tables never cut a number: amounts and counts are printed whole (no wrapping, no ellipsis); when
the terminal is too narrow, text columns wrap and optional columns (titles, then the less
important figures) are dropped, in a stated order, until the table fits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from models.money import discount_label, short_yuan
from models.rules import PiecesDiscountTier, PiecesOffer, mechanism_label
from pricing.errors import InputError, PriceOptError, Problem
from pricing.outputs.i18n import (
    discount_forms,
    level_forms,
    money,
    money_summary,
    share_text,
    step_text,
    tr,
    tr_message,
    units,
    yuan,
)
from pricing.progress import SILENT
from pricing.progress import Progress as StepProgress

if TYPE_CHECKING:
    from models.plan import Plan
    from models.rules import CouponTier, Rules
    from pricing.commands import CheckRun, ExportRun, PlanRun, ReportRun

ROW_CONVENTION = (
    "rows are numbered as in a spreadsheet: the header is row 1, the first product row 2"
)
TEXT_MIN_WIDTH = 16  # a text column wraps down to this width; below it, columns are dropped
CELL_PADDING = 2


# --- framing: warnings and errors -------------------------------------------------------------


def problem_text(problem: Problem, lang: str) -> str:
    """One problem, its place in the user's language (the detail stays as the library says)."""
    where = [problem.file]
    if problem.row is not None:
        where.append(tr("row {row}", lang, row=problem.row))
    if problem.column is not None:
        where.append(tr("column {column}", lang, column=repr(problem.column)))
    shown = ("" if problem.value is None
             else ("" if lang == "zh" else " ") + tr("(got {value})", lang,
                                                      value=repr(problem.value)))
    separator = "，" if lang == "zh" else ", "
    colon = "：" if lang == "zh" else ": "
    return f"{separator.join(where)}{colon}{tr_message(problem.message, lang)}{shown}"


def render_warnings(console: Console, warnings: Iterable[Problem | str], lang: str) -> None:
    """Print input warnings (they never stop a command)."""
    label = tr("warning:", lang)
    space = "" if lang == "zh" else " "
    for warning in warnings:
        text = (problem_text(warning, lang) if isinstance(warning, Problem)
                else tr_message(warning, lang))
        console.print(f"[yellow]{escape(label)}[/yellow]{space}{escape(text)}", highlight=False,
                      soft_wrap=True)


def render_error(console: Console, error: PriceOptError, lang: str) -> None:
    """``error: <message>`` (``错误：…``); an input error lists every problem."""
    label = tr("error:", lang)
    if isinstance(error, InputError):
        render_warnings(console, error.warnings, lang)
        if error.problems:
            count = len(error.problems)
            header = (tr("1 problem in the input:", lang) if count == 1
                      else tr("{count} problems in the input:", lang, count=count))
            lines = [problem_text(problem, lang) for problem in error.problems]
            if any(problem.row is not None for problem in error.problems):
                lines.append("(" + tr(ROW_CONVENTION, lang) + ")")
            text = header + "\n  " + "\n  ".join(lines)
        else:
            text = str(error)
    else:
        text = str(error)
    space = "" if lang == "zh" else " "
    console.print(f"[red]{escape(label)}[/red]{space}{escape(text)}", highlight=False,
                  soft_wrap=True)


def say(console: Console, style: str | None, text: str) -> None:
    """Print one line of plain text (never read as markup), in ``style``."""
    console.print(Text(text, style=style or ""), highlight=False, soft_wrap=True)


def render_replaced(console: Console, replaced: Iterable[Path], lang: str) -> None:
    """Say which files were kept as ``NAME.bak`` before being replaced (``--force``)."""
    from pricing.outputs.guard import backup_path

    for path in replaced:
        say(console, None, tr("kept the previous {path} as {backup}", lang, path=str(path),
                              backup=str(backup_path(path))))


# --- tables that never cut a number -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column. ``number`` columns (amounts, counts, also short codes such as SKUs and
    discounts) are printed whole: never wrapped, never cut; the others wrap. ``drop`` is the
    order in which an optional column goes when the terminal is too narrow (1 goes first; 0:
    always kept)."""

    header: str
    number: bool = True
    drop: int = 0
    header_wraps: bool = True  # False: the header names a thing (a SKU) and is shown whole


def _width_of(column: Column, cells: Sequence[str]) -> int:
    widest = max((cell_len(cell) for cell in cells), default=0)
    if column.number:  # the header may wrap, down to 8 cells
        header = cell_len(column.header)
        return max(widest, min(header, 8) if column.header_wraps else header, 1)
    return min(max(widest, cell_len(column.header)), TEXT_MIN_WIDTH)


def _needed(columns: Sequence[Column], rows: Sequence[Sequence[str]], kept: list[int]) -> int:
    # Each column: its cells, a cell of padding each side and a separator; the edges.
    return sum(_width_of(columns[i], [row[i] for row in rows]) + CELL_PADDING + 1
               for i in kept) + 1


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> list[int]:
    """The positions of the columns kept so the table fits ``width`` with every number whole
    (optional columns dropped in their order); the kept columns may still not fit."""
    kept = list(range(len(columns)))
    droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop > 0)
    while _needed(columns, rows, kept) > width and droppable:
        kept.remove(droppable.pop(0)[1])
    return kept


def print_table(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[tuple[Sequence[str], str | None]],
    caption: str | None = None,
    section_before: int | None = None,
    lines: box.Box = box.SIMPLE_HEAD,
) -> None:
    """Print a table (each row with its style, None: plain); numbers whole, text wraps."""
    kept = fit_columns(columns, [cells for cells, _ in rows], console.width)
    if _needed(columns, [cells for cells, _ in rows], kept) > console.width:
        # Too narrow for any table: one record per line, every figure whole.
        say(console, "bold", title)
        for cells, style in rows:
            say(console, style, "; ".join(
                f"{column.header}: {cell}" if column.header else cell
                for column, cell in zip(columns, cells, strict=True) if cell))
        if caption:
            say(console, "dim", caption)
        return
    table = Table(title=Text(title), box=lines)
    for position in kept:
        column = columns[position]
        if column.number:
            width = _width_of(column, [cells[position] for cells, _ in rows])
            table.add_column(Text(column.header, no_wrap=False, overflow="fold"),
                             justify="right", no_wrap=True, width=width)
        else:
            table.add_column(Text(column.header), justify="left", overflow="fold",
                             min_width=TEXT_MIN_WIDTH)
    for index, (cells, style) in enumerate(rows):
        if index == section_before:
            table.add_section()
        table.add_row(*(Text(cells[position]) for position in kept), style=style)
    console.print(table)
    if caption:
        say(console, "dim", caption)


def _show_caption(shown: int, total: int, lang: str) -> str:
    return tr("first {shown} of {total}; ", lang, shown=shown, total=total) if shown < total \
        else ""


# --- validate ---------------------------------------------------------------------------------


def _mechanism(rules: Rules, lang: str) -> str:
    return mechanism_label(rules.platform, lang)


def tier_label(tier: CouponTier, lang: str) -> str:
    """A coupon tier as the merchandiser says it: ``满299减20`` (zh) or ``299-20`` (en)."""
    if lang == "zh":
        if tier.threshold_fen == 0:
            return f"无门槛减{short_yuan(tier.amount_fen)}"
        return f"满{short_yuan(tier.threshold_fen)}减{short_yuan(tier.amount_fen)}"
    return tier.label


def offer_label(offer: PiecesOffer, lang: str) -> str:
    """A multi-piece offer as the merchandiser says it: ``满2件9折 / 满3件减30`` (zh) or
    ``2 pieces 10% off / 3 pieces save ¥30`` (en), one tier after another."""
    parts = []
    for tier in offer.tiers:
        if isinstance(tier, PiecesDiscountTier):
            parts.append(f"满{tier.pieces}件{discount_label(tier.rate)}" if lang == "zh"
                         else f"{tier.pieces} pieces {discount_label(tier.rate, 'en')}")
        else:
            parts.append(f"满{tier.pieces}件减{short_yuan(tier.amount_fen)}" if lang == "zh"
                         else f"{tier.pieces} pieces save ¥{short_yuan(tier.amount_fen)}")
    return " / ".join(parts)


def tiers_text(tiers: Sequence[CouponTier], lang: str) -> str:
    """Coupon tiers, comma-separated, or none."""
    joiner = "、" if lang == "zh" else ", "
    return joiner.join(tier_label(tier, lang) for tier in tiers) or tr("none", lang)


# --- plan -------------------------------------------------------------------------------------


def render_plan_summary(console: Console, plan: Plan, timings: dict[str, float], lang: str
                        ) -> None:
    """The plan's summary: how it was solved, the store's choices, the forecast."""
    solver = plan.solver
    joining = sum(d.joins for d in plan.products)
    members = sum(d.b2g1 for d in plan.products)
    super_instant = sum(d.super_instant_rate is not None for d in plan.products)
    gap = "n/a" if solver.gap is None else f"{solver.gap:.4%}"
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column()
    rows = [
        ("Status", tr("{status} ({method}, {solver}, gap {gap}, {solve:.2f} s to solve, "
                      "{total:.2f} s in all)", lang, status=plan.status.value,
                      method=solver.method, solver=solver.name, gap=gap, solve=solver.seconds,
                      total=timings.get("total", 0))),
        ("Model", tr("{variables} variables, {constraints} constraints; {pruned} of {total} "
                     "candidates pruned", lang, variables=f"{solver.variables:,}",
                     constraints=f"{solver.constraints:,}",
                     pruned=f"{solver.candidates_pruned:,}",
                     total=f"{solver.candidates_total:,}")),
        ("Coupon tiers", tiers_text(plan.coupon_tiers, lang)),
        ("Buy two get one", tr("{count} products", lang, count=members) if members
         else tr("not run", lang)),
        *([("Multi-piece offer", offer_label(plan.pieces_offer, lang))]
          if plan.pieces_offer is not None else []),
        *([("Super instant", tr("{count} products", lang, count=super_instant))]
          if super_instant else []),
        ("Products", tr("{joining} join the event, {out} stay out", lang,
                        joining=f"{joining:,}", out=f"{len(plan.products) - joining:,}")),
        ("Expected revenue", tr("{amount} (everyday baseline {baseline})", lang,
                                amount=money_summary(plan.expected_revenue_fen, lang),
                                baseline=money_summary(plan.baseline_revenue_fen, lang))),
        ("Expected profit", tr("{amount} (everyday baseline {baseline})", lang,
                               amount=money_summary(plan.objective_fen, lang),
                               baseline=money_summary(plan.baseline_profit_fen, lang))),
        ("Discount spend", money_summary(plan.expected_discount_spend_fen, lang)),
        ("Worst unit margin", tr("{amount} (proven: no cart leaves a unit less)", lang,
                                 amount=money(plan.worst_unit_margin_fen))),
    ]
    for label, value in rows:
        summary.add_row(Text(tr(label, lang)), Text(value))
    console.print(summary)


def render_plan(console: Console, run: PlanRun, show: int, lang: str) -> None:
    """``plan``: the summary, the top ``show`` products by profit, where it went."""
    plan = run.plan
    render_plan_summary(console, plan, run.timings, lang)
    render_exclusions(console, plan, lang)
    if show > 0:
        ranked = sorted(plan.products, key=lambda d: -d.expected_profit_fen)
        listed = ranked[:show]
        title = tr("Products", lang)
        if len(listed) < len(ranked):
            title = tr("Products (top {shown} of {total} by profit)", lang, shown=len(listed),
                       total=f"{len(ranked):,}")
        columns = [
            Column(tr("SKU", lang)),
            Column(tr("Title", lang), number=False, drop=1),
            Column(tr("List", lang), drop=4),
            Column(tr("Price", lang)),
            Column(tr("Discount", lang), drop=3),
            Column(tr("B2G1", lang), drop=2),
            Column(tr("Units", lang)),
            Column(tr("Profit", lang)),
            Column(tr("Worst", lang)),
        ]
        rows = [
            ([decision.sku, decision.title, yuan(decision.list_price_fen),
              yuan(decision.activity_price_fen) if decision.joins else tr("out", lang),
              level_forms(decision.level, lang).split(" / ")[0] if decision.joins else "—",
              tr("yes", lang) if decision.b2g1 else "", units(decision.expected_units),
              yuan(decision.expected_profit_fen), yuan(decision.worst_unit_margin_fen)], None)
            for decision in listed
        ]
        print_table(console, title, columns, rows, caption=tr(
            "Price: activity price; Units: forecast; Worst: the least margin a unit keeps in "
            "any cart", lang))
    losers = sum(e.reason.value == "loses_at_everyday_price" for e in plan.excluded)
    written = tr("Plan written to {path} (verified: no cart loses money).", lang,
                 path=str(run.out))
    if losers:
        written += " " + tr("{count} excluded product(s) lose money at their everyday price "
                            "whatever the plan.", lang, count=losers)
    console.print(escape(written), highlight=False, soft_wrap=True)


def render_exclusions(console: Console, plan: Plan, lang: str, shown: int = 20) -> None:
    """Who stays out and why, the coupon and official-discount scopes, broken or binding
    rules."""
    lines: list[str] = []
    if plan.excluded:
        losers = sum(e.reason.value == "loses_at_everyday_price" for e in plan.excluded)
        lines.append(tr("Excluded: {count} product(s) cannot join safely ({losers} lose money on "
                        "a one-unit order even at their everyday price)", lang,
                        count=f"{len(plan.excluded):,}", losers=losers))
        lines += [f"  {e.sku}: {e.message}" for e in plan.excluded[:shown]]
        if len(plan.excluded) > shown:
            lines.append(tr("  … and {count} more (see the plan's `excluded`)", lang,
                            count=len(plan.excluded) - shown))
    if plan.coupon_excluded:
        names = ", ".join(plan.coupon_excluded[:shown])
        more = " …" if len(plan.coupon_excluded) > shown else ""
        lines.append(tr("Coupons limited: the store coupons must not cover {count} product(s): "
                        "{names}", lang, count=len(plan.coupon_excluded), names=names) + more)
    if plan.official_opt_out:
        lines.append(tr("Official discount: put {count} product(s) outside the event on the "
                        "opt-out list (不生效官方立减); see `official_opt_out`", lang,
                        count=len(plan.official_opt_out)))
    for violation in plan.violations:
        lines.append(tr("Violated: {rule} by {by} (penalty {penalty})", lang,
                        rule=violation.rule, by=violation.by,
                        penalty=money(violation.penalty_fen)))
    if plan.binding_rules:
        lines.append(tr("Binding rules: {rules}", lang, rules=", ".join(plan.binding_rules)))
    for line in lines:
        console.print(escape(line), highlight=False, soft_wrap=True)


# --- quote ------------------------------------------------------------------------------------


# --- check ------------------------------------------------------------------------------------


def render_check(console: Console, run: CheckRun, show: int, lang: str) -> None:
    """``check``: what was assumed, the table (losers first), and the verdict in words."""
    result = run.result
    basis = (tr("every product at {discount}", lang, discount=discount_forms(run.discount, lang))
             if run.discount is not None
             else tr("the prices of the plan {plan}", lang, plan=str(run.plan_path)))
    console.print(f"[bold]{escape(tr('Checking {basis}, assuming:', lang, basis=basis))}"
                  "[/bold]", highlight=False, soft_wrap=True)
    for note in check_notes(run, lang):
        console.print(f"  · {escape(note)}", highlight=False, soft_wrap=True)
    losers, unproven = result.losers, result.unproven
    safe = [row for row in result.products if row.proven_safe and not row.loses]
    ordered = [*losers, *unproven, *safe]
    listed = ordered[:show]
    if listed:
        title = (tr("Worst cart per product ({shown} of {total}, losers first)", lang,
                    shown=len(listed), total=f"{len(ordered):,}")
                 if len(listed) < len(ordered) else tr("Worst cart per product", lang))
        columns = [
            Column(tr("SKU", lang)), Column(tr("Title", lang), number=False, drop=1),
            Column(tr("Activity", lang)), Column(tr("Worst margin", lang)),
            Column(tr("Bound", lang), drop=3), Column(tr("Verdict", lang)),
            Column(tr("Sign-up", lang), drop=2),
        ]
        rows = [
            ([row.sku, row.title, yuan(row.activity_price_fen),
              "—" if row.worst_unit_margin_fen is None else yuan(row.worst_unit_margin_fen),
              yuan(row.proven_bound_fen),
              tr("LOSES" if row.loses else "safe" if row.proven_safe else "unproven", lang),
              "—" if row.meets_signup is None else tr("yes" if row.meets_signup else "no", lang)],
             "bold red" if row.loses else None if row.proven_safe else "yellow")
            for row in listed
        ]
        print_table(console, title, columns, rows, caption=tr(
            "Verdict: LOSES, a cart sells a unit below cost; safe, proven to keep the margin "
            "floor in every cart; unproven, neither.", lang))
    if losers:
        named = ("、" if lang == "zh" else ", ").join(
            tr("{sku} ({margin} a unit)", lang, sku=row.sku,
               margin=money(row.worst_unit_margin_fen or 0))
            for row in losers[:10])
        more = tr(" and {count} more", lang, count=len(losers) - 10) if len(losers) > 10 else ""
        say(console, "bold red", tr("{losers} of {total} products lose money: {named}{more}.",
                                    lang, losers=len(losers), total=f"{len(ordered):,}",
                                    named=named, more=more))
    if unproven:
        say(console, "yellow", tr("{count} not proven safe (no losing cart found, but the proven "
                                  "bound is below the margin floor): {skus}.", lang,
                                  count=len(unproven),
                                  skus=", ".join(r.sku for r in unproven[:10])))
    if result.worst_order_margin_fen is not None:
        console.print(escape(tr("Worst order among the witness carts: margin {margin}.", lang,
                                margin=money(result.worst_order_margin_fen))), highlight=False)
    if run.written:
        directory = str(run.written[0].parent)
        console.print(escape(tr("{count} witness cart(s) written to {path}; `price-opt quote "
                                "<file>` shows each loss to the fen.", lang,
                                count=len(run.written), path=directory)), highlight=False,
                      soft_wrap=True)
    if result.passes:
        say(console, "green", tr("All {total} products are proven safe: no cart sells a unit "
                                 "below its margin floor.", lang, total=f"{len(ordered):,}"))


def assumption_notes(
    rules: Rules, tiers: Sequence[CouponTier], tiers_source: str, members: int, lang: str,
    extra: Sequence[str] = (),
) -> list[str]:
    """What a check assumed, in the same words wherever a check is shown (check, report)."""
    platform, store = rules.platform, rules.store
    notes = [
        tr("coupons: {tiers} ({source}; the buyer uses the best one the cart reaches)", lang,
           tiers=tiers_text(tiers, lang), source=tr(tiers_source, lang)),
        tr("buy two get one: {b2g1}", lang,
           b2g1=tr("{count} products", lang, count=members) if members else tr("off", lang)),
        tr("platform: {mechanism}; commission {commission}", lang,
           mechanism=_mechanism(rules, lang), commission=share_text(platform.commission_rate)),
        tr("costs: shipping {shipping} per order (free shipping), handling {handling} per unit",
           lang, shipping=money(store.shipping_cost_fen), handling=money(store.handling_cost_fen)),
    ]
    notes.extend(tr_message(note, lang) for note in extra)
    return notes


def check_notes(run: CheckRun, lang: str) -> list[str]:
    """The check's assumptions: the coupon tiers and where they come from, B2G1, the platform."""
    result = run.result
    if run.plan_path is not None:
        source = "the plan's tiers"
    elif run.coupons_given:
        source = "as given by --coupons"
    elif result.coupon_tiers:
        source = "every candidate of the rules, the worst case"
    else:
        source = "--no-coupons"
    notes = assumption_notes(run.rules, result.coupon_tiers, source, len(result.b2g1_members),
                             lang, result.report.notes)
    if result.pieces_offer is not None:
        notes.insert(2, tr("multi-piece offer: {offer}", lang,
                           offer=offer_label(result.pieces_offer, lang)))
    notes.extend(tr_message(note, lang) for note in result.platform_notes)
    if result.signup_failing_short_coupons:
        notes.append(tr("{count} product(s) fail the sign-up check only because the coupons "
                        "are not counted; they would pass with coupons covering the cycle", lang,
                        count=result.signup_failing_short_coupons))
    if result.report.unchecked_witnesses:
        notes.append(tr("{count} product(s) far from their floor got no witness cart", lang,
                        count=result.report.unchecked_witnesses))
    return notes


# --- export and report ------------------------------------------------------------------------

EXPORT_ROWS_SHOWN = 30


def render_export(console: Console, err_console: Console, run: ExportRun, show: int,
                  lang: str) -> None:
    """``export``: what was removed, the first rows, and what was written."""
    sheet = run.result.sheet
    for failure in sheet.dropped:
        err_console.print(f"[yellow]{escape(tr('removed:', lang))}[/yellow] "
                          f"{escape(failure.render())}", highlight=False, soft_wrap=True)
    listed = sheet.rows[:show]
    if listed:
        columns = [
            Column(tr("SKU", lang)), Column(tr("Price", lang)),
            Column(tr("Discount", lang), drop=2), Column(tr("Stock", lang)),
            Column(tr("B2G1", lang), drop=1), Column(tr("Lowest", lang), drop=3),
            Column(tr("Worst", lang)),
        ]
        rows = [
            ([row.sku, yuan(row.activity_price_fen),
              level_forms(row.level, lang).split(" / ")[0], f"{row.activity_stock:,}",
              tr("yes", lang) if row.b2g1 else "",
              "—" if row.lowest_paid_fen is None else yuan(row.lowest_paid_fen),
              yuan(row.worst_unit_margin_fen)], None)
            for row in listed
        ]
        print_table(
            console, tr("Submission sheet ({count} products)", lang, count=f"{len(sheet.rows):,}"),
            columns, rows,
            caption=_show_caption(len(listed), len(sheet.rows), lang)
            + tr("Price: activity price; Lowest: least paid per unit; Worst: least unit margin",
                 lang),
        )
    upload = run.result.upload
    if upload is not None:
        say(console, None, tr(
            "Upload sheet {path} ({template}, sheet {sheet}): {filled} rows filled in the "
            "template, {appended} added; review (internal figures, never uploaded): {review}",
            lang, path=str(upload.path), template=upload.template, sheet=upload.sheet,
            filled=upload.filled, appended=upload.appended,
            review=", ".join(str(p) for p in run.result.paths[1:])))
        for note in upload.notes:
            say(console, "yellow", f"  · {tr_message(note, lang)}")
    members = len(sheet.prices.b2g1_members)
    removed = (tr("; {count} removed", lang, count=len({f.sku for f in sheet.dropped}))
               if sheet.dropped else "")
    console.print(escape(tr(
        "Wrote {paths}: {count} products{removed}; coupon tiers {tiers}; buy-two-get-one {b2g1}. "
        "Every cart checked: no unit sells below its margin floor.", lang,
        paths=", ".join(str(p) for p in run.result.paths), count=f"{len(sheet.rows):,}",
        removed=removed, tiers=tiers_text(sheet.prices.coupon_tiers, lang),
        b2g1=tr("{count} products", lang, count=members) if members else tr("off", lang),
    )), highlight=False, soft_wrap=True)


def render_report(console: Console, err_console: Console, run: ReportRun, lang: str) -> None:
    """``report``: what was written, and a warning when the plan fails the checker."""
    console.print(escape(tr(
        "Wrote {path}: {count} products, {waterfalls} price waterfalls; {losers} not proven "
        "safe at {discount} (as `price-opt check --discount 5折` counts them: LOSES plus "
        "unproven).", lang, path=str(run.out), count=f"{run.products:,}",
        waterfalls=f"{run.waterfalls:,}", losers=f"{len(run.losers_at_half):,}",
        discount=discount_forms(Decimal("0.5"), lang),
    )), highlight=False, soft_wrap=True)
    if run.failing:
        err_console.print(f"[yellow]{escape(tr('warning:', lang))}[/yellow] " + escape(tr(
            "the plan fails the exact checker for {count} product(s): {skus} (the report shows "
            "why; export refuses it)", lang, count=len(run.failing),
            skus=", ".join(run.failing[:10]))), highlight=False, soft_wrap=True)


# --- demand: fit and forecast -----------------------------------------------------------------


# --- progress ---------------------------------------------------------------------------------


class _Bar:
    """A :class:`pricing.progress.Progress` drawn by rich: one task whose description, total
    and count follow the library's steps (a pulsing bar while a step has no count)."""

    def __init__(self, progress: Any, first: str, lang: str) -> None:
        self._progress = progress
        self._lang = lang
        self._task = progress.add_task(first, total=None)

    def __call__(self, description: str, total: int | None = None) -> None:
        self._progress.update(self._task, description=step_text(description, self._lang),
                              total=total, completed=0)

    def advance(self, done: int = 1) -> None:
        self._progress.advance(self._task, done)


@contextlib.contextmanager
def working(console: Console, text: str, lang: str = "zh") -> Iterator[StepProgress]:
    """A transient progress bar on stderr for the commands that can take seconds (plan,
    export, report): the step being done (translated), a bar for the counted steps (every
    product checked, every row written), the share done and the seconds elapsed. Drawn only
    on an interactive terminal: piped or captured output gets nothing."""
    if not console.is_terminal or console.is_dumb_terminal:
        yield SILENT
        return
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TaskProgressColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        yield _Bar(progress, text, lang)
