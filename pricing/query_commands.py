"""The ``price-opt`` commands that answer without writing a plan (see :mod:`pricing.commands`).

==================  ==============================================================
``run_validate``    the products and rules files, or every problem in both
``run_quote``       a cart's exact quote, with margins per line given the products
``run_fit``         each SKU's demand fitted from the sales history
``run_forecast``    expected units for each row of a scenario
==================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.cart import Cart, CartQuote
from models.money import allocate_proportional, fen_times_rate
from models.product import Product
from models.rules import Rules
from pricing.commands import Inputs, Warn, _unheard, load_inputs
from pricing.errors import InputError, Problem

if TYPE_CHECKING:
    from pricing.demand.backtest import Backtest
    from pricing.demand.fit import FitResult
    from pricing.formats.history import History

LOSERS_SHOWN = 20


def run_validate(
    products_path: Path | None, rules_path: Path | None, sheet: str | None = None
) -> Inputs:
    """``price-opt validate``: both files read, or an error listing every problem; for an
    ``.xlsx`` products file, which sheet was read. The warnings include the products that lose
    money on a one-unit order at their everyday price (the first ``LOSERS_SHOWN``, then a
    count)."""
    import dataclasses

    from pricing.optimize.exclusions import everyday_loss_warnings

    inputs = load_inputs(products_path, rules_path, sheet)
    if inputs.products_path.suffix.casefold() in {".xlsx", ".xlsm"}:
        from pricing.formats.tables import open_workbook

        workbook = open_workbook(inputs.products_path)
        try:
            inputs = dataclasses.replace(inputs, sheet_name=sheet or workbook.sheetnames[0])
        finally:
            workbook.close()
    losers = everyday_loss_warnings(inputs.products, inputs.rules, str(inputs.products_path))
    if len(losers) > LOSERS_SHOWN:
        losers = [*losers[:LOSERS_SHOWN], Problem(
            str(inputs.products_path),
            f"… and {len(losers) - LOSERS_SHOWN} more products that lose money on a one-unit"
            " order at their everyday price", severity="warning",
        )]
    return dataclasses.replace(inputs, warnings=(*inputs.warnings, *losers))


@dataclass(frozen=True)
class LineEconomics:
    """What one line of the store leaves the merchant, in fen (``margin`` is the line's)."""

    receives_fen: int
    commission_fen: int
    cost_fen: int
    handling_fen: int
    shipping_share_fen: int
    margin_fen: int
    quantity: int

    @property
    def unit_margin_fen(self) -> int:
        """The line's margin per unit, rounded down to the fen (a cautious figure)."""
        return self.margin_fen // self.quantity


@dataclass(frozen=True)
class QuoteRun:
    """A cart's quote; with products, each line's economics (None: store or SKU unknown)."""

    cart: Cart
    quote: CartQuote
    economics: tuple[LineEconomics | None, ...] = ()
    unknown_skus: tuple[str, ...] = ()
    rules: Rules | None = None


def line_economics(
    cart: Cart, result: CartQuote, products: Sequence[Product], rules: Rules
) -> tuple[tuple[LineEconomics | None, ...], tuple[str, ...]]:
    """Commission, cost, handling, shipping share and margin of every line whose store sells
    only products of the file (the same arithmetic as the checker's
    :func:`~pricing.verify.checker.cart_margins`: shipping split by single-item amount, exactly).
    """
    costs = {product.sku: product.unit_cost_fen for product in products}
    unknown = tuple(dict.fromkeys(
        line.sku for line in cart.lines if line.sku not in costs
    ))
    economics: list[LineEconomics | None] = [None] * len(cart.lines)
    for store in cart.stores:
        own = [i for i, line in enumerate(cart.lines) if line.store == store]
        if not own or any(cart.lines[i].sku not in costs for i in own):
            continue
        shipping = allocate_proportional(
            rules.store.shipping_cost_fen, [result.lines[i].subtotal_fen for i in own]
        )
        for i, share in zip(own, shipping, strict=True):
            line = cart.lines[i]
            receives = result.lines[i].merchant_receives_fen
            commission = fen_times_rate(receives, rules.platform.commission_rate)
            cost = costs[line.sku] * line.quantity
            handling = rules.store.handling_cost_fen * line.quantity
            economics[i] = LineEconomics(
                receives_fen=receives, commission_fen=commission, cost_fen=cost,
                handling_fen=handling, shipping_share_fen=share,
                margin_fen=receives - commission - cost - handling - share,
                quantity=line.quantity,
            )
    return tuple(economics), unknown


def run_quote(
    cart_path: Path, products_path: Path | None = None, rules_path: Path | None = None
) -> QuoteRun:
    """``price-opt quote``: the cart's exact quote, and with ``--products`` each line's margin."""
    from pricing.engine.stacking import quote
    from pricing.formats.carts import load_cart

    cart = load_cart(cart_path)
    result = quote(cart)
    if products_path is None and rules_path is None:
        return QuoteRun(cart, result)
    if products_path is None:
        raise InputError([Problem("--rules", "goes with --products (the costs come from there)")])
    inputs = load_inputs(products_path, rules_path)
    economics, unknown = line_economics(cart, result, inputs.products, inputs.rules)
    return QuoteRun(cart, result, economics, unknown, inputs.rules)


def quote_json(run: QuoteRun) -> str:
    """``quote --json``: the public quote form; with products, each line's economics too."""
    import json

    from models.money import format_yuan
    from pricing.formats.carts import quote_to_json

    data = quote_to_json(run.quote)
    for line, economics in zip(data["lines"], run.economics, strict=False):
        if economics is not None:
            line.update(
                commission=format_yuan(economics.commission_fen),
                cost=format_yuan(economics.cost_fen),
                handling=format_yuan(economics.handling_fen),
                shipping_share=format_yuan(economics.shipping_share_fen),
                margin=format_yuan(economics.margin_fen),
            )
    return json.dumps(data, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class FitRun:
    """What ``fit`` read, the backtest when asked for, the fitted demand and where it went."""

    history_path: Path
    history: History
    missing_products: tuple[str, ...]
    backtest: Backtest | None
    fitted: FitResult
    out: Path
    warnings: tuple[Problem, ...] = ()


def run_fit(
    history_path: Path, products_path: Path | None, out: Path, holdout_last: int | None = None,
    warn: Warn = _unheard,
) -> FitRun:
    """``price-opt fit``: each SKU's demand from the sales history, written to ``out``."""
    from pricing.demand.backtest import run_backtest
    from pricing.demand.fit import fit_demand
    from pricing.formats.demand_file import write_demand
    from pricing.formats.history import load_history
    from pricing.formats.products import load_products

    if out.resolve() == history_path.resolve() or (
        products_path and out.resolve() == products_path.resolve()
    ):
        raise InputError([Problem(str(out), "--out names an input file; it is never overwritten")])
    loaded = load_history(history_path)
    categories = loaded.categories
    missing: list[str] = []
    warnings: list[Problem] = []
    if products_path is not None:
        catalogue, warnings = load_products(products_path)
        for warning in warnings:
            warn(warning)
        by_sku = {p.sku: p.category for p in catalogue}
        if not loaded.has_category:
            categories = tuple(by_sku.get(sku, "") for sku in loaded.skus)
        known = set(loaded.skus)
        missing = [p.sku for p in catalogue if p.sku not in known]
    backtest = None if holdout_last is None else run_backtest(loaded, holdout_last, categories)
    fitted = fit_demand(loaded, categories)
    write_demand(fitted.model, out)
    return FitRun(history_path, loaded, tuple(missing), backtest, fitted, out, tuple(warnings))


@dataclass(frozen=True)
class ForecastRun:
    """Expected units per scenario row (a forecast: floats), and where they were written."""

    rows: tuple[tuple[str, str, float], ...]
    total_units: float
    out: Path | None


def forecast_document(run: ForecastRun) -> str:
    """``forecast --json``: ``{"rows": [{"date", "sku", "units"}]}``."""
    import json

    return json.dumps({"rows": [{"date": d, "sku": s, "units": u} for d, s, u in run.rows]},
                      ensure_ascii=False, indent=1)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def run_forecast(demand_path: Path, scenario_path: Path, out: Path | None = None) -> ForecastRun:
    """``price-opt forecast``: expected units for each row of a scenario."""
    from pricing.demand.forecast import forecast_scenario
    from pricing.formats.atomic import write_bytes_atomic, write_text_atomic
    from pricing.formats.demand_file import load_demand
    from pricing.formats.history import load_scenario

    if out is not None and out.resolve() in {demand_path.resolve(), scenario_path.resolve()}:
        raise InputError([Problem(str(out), "--out names an input file; it is never overwritten")])
    model = load_demand(demand_path)
    loaded = load_scenario(scenario_path)
    units = forecast_scenario(model, loaded, str(demand_path))
    rows = tuple(
        (str(day), str(sku), round(float(value), 4))
        for day, sku, value in zip(loaded.dates.tolist(), loaded.skus.tolist(), units.tolist(),
                                   strict=True)
    )
    run = ForecastRun(rows, float(units.sum()), out)
    if out is not None:
        if out.suffix.casefold() == ".json":
            write_text_atomic(out, forecast_document(run) + "\n")
        else:
            lines = ["date,sku,units", *(f"{d},{_csv_cell(s)},{u}" for d, s, u in rows)]
            write_bytes_atomic(out, ("\n".join(lines) + "\n").encode("utf-8-sig"))
    return run

