"""Rendering the results of the commands that answer without writing a plan: validate, quote, fit
and forecast (:mod:`pricing.query_commands`), with the tables of :mod:`pricing.outputs.render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape

from pricing.outputs.i18n import (
    level_forms,
    money,
    share_text,
    tr,
    tr_message,
    units,
    yuan,
)
from pricing.outputs.render import (
    Column,
    _mechanism,
    offer_label,
    print_table,
    render_warnings,
    say,
    tiers_text,
)

if TYPE_CHECKING:
    from pricing.commands import Inputs
    from pricing.query_commands import FitRun, ForecastRun, QuoteRun


def render_validate(console: Console, inputs: Inputs, lang: str) -> None:
    """``validate``: warnings, then what the valid files hold."""
    from collections import Counter

    from models.product import Role

    # Imported here, not for every command: the margin check's module holds this note.
    from pricing.verify.margin_check import store_tools_note

    render_warnings(console, inputs.warnings, lang)
    catalogue, rules = inputs.products, inputs.rules
    roles = Counter(product.role for product in catalogue)
    zh_role = {Role.HERO: "主推", Role.TRAFFIC: "引流", Role.PROFIT: "利润", Role.REGULAR: "常规"}
    role_text = ("、" if lang == "zh" else ", ").join(
        f"{zh_role[role]} {roles[role]}" if lang == "zh"
        else f"{roles[role]} {role.value} {zh_role[role]}"
        for role in Role
    )
    platform, store = rules.platform, rules.store
    levels = rules.ladder.levels
    budget = money(store.budget_fen) if store.budget_fen else tr("none", lang)
    colon = "：" if lang == "zh" else ": "
    offers_text = ("；" if lang == "zh" else "; ").join(
        offer_label(offer, lang) for offer in rules.offers.candidates
    )
    lines = [
        f"[bold]{tr('products', lang)}[/bold] {escape(str(inputs.products_path))}"
        + ("" if inputs.sheet_name is None else escape(f" (sheet {inputs.sheet_name!r})"))
        + f"{colon}"
        + escape(tr("{count} products ({roles}); {no_b2g1} kept out of buy-two-get-one, "
                    "{limited} with a purchase limit", lang, count=f"{len(catalogue):,}",
                    roles=role_text, no_b2g1=sum(not p.b2g1_eligible for p in catalogue),
                    limited=sum(p.purchase_limit is not None for p in catalogue))),
        f"[bold]{tr('rules', lang)}[/bold] {escape(str(inputs.rules_path))}{colon}",
        "  " + escape(tr("mechanism: {mechanism}; commission {commission}; sign-up at least "
                         "{min_discount} off", lang, mechanism=_mechanism(rules, lang),
                         commission=share_text(platform.commission_rate),
                         min_discount=share_text(platform.min_discount))),
        "  " + escape(tr("store: shipping {shipping} per order, handling {handling} per unit, "
                         "budget {budget}", lang, shipping=money(store.shipping_cost_fen),
                         handling=money(store.handling_cost_fen), budget=budget)),
        "  " + escape(tr("coupon candidates: {coupons} (at most {max_tiers} tiers)", lang,
                         coupons=tiers_text(rules.coupons.candidates, lang),
                         max_tiers=rules.coupons.max_tiers)),
        "  " + escape(tr("ladder: {count} levels, {first} to {last}; buy-two-get-one {b2g1}",
                         lang, count=len(levels), first=level_forms(levels[0], lang),
                         last=level_forms(levels[-1], lang),
                         b2g1=tr("allowed" if rules.b2g1.enabled else "off", lang))),
        *(["  " + escape(tr("offer candidates: {offers}", lang, offers=offers_text))]
          if rules.offers.candidates else []),
        "  " + escape(tr(store_tools_note(rules), lang)),
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    console.print(f"[green]{escape(tr('ok: both files are valid.', lang))}[/green]",
                  highlight=False)


QUOTE_LINES_PER_TABLE = 4  # a waterfall table stays within 80 columns


def render_quote(console: Console, run: QuoteRun, lang: str) -> None:
    """``quote``: each store's waterfall down the table, one column per line, the total last;
    with products, commission, cost, handling, shipping share and margin below it."""
    result = run.quote
    steps: list[tuple[str, str, int]] = [
        ("Subtotal", "subtotal_fen", 1), ("Official discount", "official_discount_fen", -1),
        ("Instant discount", "instant_discount_fen", -1),
        ("Store activity", "activity_discount_fen", -1), ("Coupon", "coupon_discount_fen", -1),
        ("Cross-store", "cross_store_discount_fen", -1), ("Red packet", "red_packet_fen", -1),
        ("Paid", "paid_fen", 1), ("Merchant receives", "merchant_receives_fen", 1),
    ]
    economics = dict(enumerate(run.economics))
    margin_steps = [("Commission", "commission_fen", -1), ("Cost", "cost_fen", -1),
                    ("Handling", "handling_fen", -1), ("Shipping share", "shipping_share_fen", -1),
                    ("Margin", "margin_fen", 1)]
    for store in result.stores:
        indices = [i for i, line in enumerate(result.lines) if line.store == store.store]
        known = bool(run.economics) and all(economics.get(i) is not None for i in indices)
        chunks = [indices[i:i + QUOTE_LINES_PER_TABLE]
                  for i in range(0, len(indices), QUOTE_LINES_PER_TABLE)]
        for number, chunk in enumerate(chunks, start=1):
            last = number == len(chunks)
            rows: list[tuple[Sequence[str], str | None]] = []

            def add(label: str, amounts: list[int], sign: int, style: str | None = None,
                    rows: list[tuple[Sequence[str], str | None]] = rows) -> None:
                if sign < 0 and not any(amounts):
                    return
                rows.append(([tr(label, lang), *(yuan(sign * fen) if fen or sign > 0 else ""
                                                  for fen in amounts)], style))

            for label, name, sign in steps:
                amounts = [int(getattr(result.lines[i], name)) for i in chunk]
                if last:
                    amounts.append(sum(int(getattr(result.lines[i], name)) for i in indices))
                add(label, amounts, sign, "bold" if name == "paid_fen" else None)
            received_at = len(rows) - 1
            if known:
                for label, name, sign in margin_steps:
                    amounts = [int(getattr(economics[i], name)) for i in chunk]
                    if last:
                        amounts.append(sum(int(getattr(economics[i], name)) for i in indices))
                    add(label, amounts, sign, "bold" if name == "margin_fen" else None)
                unit = [economics[i].unit_margin_fen for i in chunk]  # type: ignore[union-attr]
                rows.append(([tr("Margin per unit", lang), *(yuan(fen) for fen in unit),
                              *([""] if last else [])], None))
            columns = [Column("", number=False)] + [
                Column(f"{result.lines[i].sku} ×{result.lines[i].quantity}", header_wraps=False)
                for i in chunk
            ] + ([Column(tr("Store total", lang))] if last else [])
            print_table(
                console,
                tr("Store {store}", lang, store=store.store)
                + (f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""),
                columns, rows,
                caption=tr("coupon used: {coupon}", lang,
                           coupon=store.coupon_used or tr("none", lang)) if last else None,
                section_before=received_at - 1, lines=box.ROUNDED,
            )
    received = sum(store.merchant_receives_fen for store in result.stores)
    console.print(escape(tr("Buyer pays {paid}; merchants receive {received} (red packets are "
                            "platform-funded).", lang, paid=money(result.paid_fen),
                            received=money(received))), highlight=False, soft_wrap=True)
    for sku in run.unknown_skus:
        console.print(escape(tr("{sku}: not in the products file; its cost is unknown, so no "
                                "margin is shown.", lang, sku=sku)), highlight=False,
                      soft_wrap=True)


FORECAST_ROWS_SHOWN = 200


def forecast_units(value: float) -> str:
    """A forecast of units for one row: whole units from 10, one decimal below (a daily rate
    of 0.4 units is a forecast, not zero)."""
    return units(value) if abs(value) >= 10 else f"{value:.1f}"


def render_fit(console: Console, run: FitRun, show: int, lang: str) -> None:
    """``fit``: the history read, the backtest, the fit and where it was written."""
    import numpy as np

    loaded = run.history
    say(console, None, tr("history {path}: {summary}", lang, path=str(run.history_path),
                          summary=loaded.describe()))
    if loaded.price_filled:
        say(console, None, "  " + tr("{count} zero-unit rows without a price: the SKU's nearest "
                                     "price carried", lang, count=f"{loaded.price_filled:,}"))
    if run.missing_products:
        shown = ", ".join(run.missing_products[:10]) + (
            " …" if len(run.missing_products) > 10 else "")
        say(console, None, "  " + tr("{count} products have no history ({skus}): a plan uses "
                                     "their base_units and elasticity columns", lang,
                                     count=len(run.missing_products), skus=shown))
    if run.backtest is not None:
        result = run.backtest
        unit = tr("days" if result.fit.model.period.value == "day" else "weeks", lang)
        say(console, None, tr("backtest: last {periods} {unit} held out ({first} to {last}, "
                              "{rows} rows, {units} units):", lang, periods=result.periods,
                              unit=unit, first=result.first, last=result.last,
                              rows=f"{result.rows:,}", units=units(result.units)))
        naive = result.scores[1].wape
        print_table(console, "", [Column(tr("forecast", lang), number=False),
                                  Column("WAPE"), Column(tr("bias", lang)),
                                  Column(tr("vs naive WAPE", lang))],
                    [([score.name, f"{score.wape:.1%}", f"{score.bias:+.1%}",
                       "" if score is result.scores[1] else f"{(score.wape / naive - 1):+.0%}"],
                      None) for score in result.scores])
        if result.unseen_rows:
            say(console, None, "  " + tr("{count} held-out rows of SKUs with no earlier history "
                                         "are not scored", lang,
                                         count=f"{result.unseen_rows:,}"))
    model = run.fitted.model
    count = len(model.skus)
    sources: dict[str, int] = {}
    for source in model.source:
        sources[source] = sources.get(source, 0) + 1
    negative = int((model.elasticity < 0).sum())
    median = float(np.median(model.elasticity)) if count else float("nan")
    say(console, None, tr(
        "fitted {count} SKUs ({period}: one row per {period}): elasticity median {median}, "
        "negative for {negative} of {count}; elasticity from {sources}", lang,
        count=f"{count:,}", period=model.period.value, median=f"{median:+.2f}",
        negative=f"{negative:,}",
        sources=", ".join(f"{source} {n:,}" for source, n in sorted(sources.items()))))
    for note in run.fitted.notes:
        say(console, None, f"  {tr_message(note, lang)}")
    flagged = [(sku, flags) for sku, flags in zip(model.skus, model.flags, strict=True) if flags]
    if flagged:
        say(console, None, tr("{count} SKUs flagged (fallbacks in the demand file's source and "
                              "flags columns):", lang, count=f"{len(flagged):,}"))
        for sku, flags in flagged[:show]:
            say(console, None, f"  {sku}: {flags}")
        if len(flagged) > show:
            say(console, None, "  " + tr("… and {count} more", lang,
                                         count=f"{len(flagged) - show:,}"))
    say(console, None, tr("wrote {path} ({count} SKUs{refit})", lang, path=str(run.out),
                          count=f"{count:,}",
                          refit=tr(", refitted on the whole history", lang)
                          if run.backtest is not None else ""))


def render_forecast(console: Console, run: ForecastRun, lang: str) -> None:
    """``forecast``: the first rows (units as forecasts) and the total."""
    listed = run.rows[:FORECAST_ROWS_SHOWN]
    if listed:
        print_table(console, "", [Column(tr("date", lang)), Column(tr("sku", lang)),
                                  Column(tr("units", lang))],
                    [([day, sku, forecast_units(value)], None) for day, sku, value in listed])
    more = ""
    if len(run.rows) > len(listed):
        more = tr(" (first {shown} shown{where})", lang, shown=len(listed),
                  where=tr("; all in {path}", lang, path=str(run.out)) if run.out else "")
    say(console, None, tr("{rows} rows, {units} units in all{more}", lang,
                          rows=f"{len(run.rows):,}", units=units(run.total_units), more=more))

