"""The plan report: one self-contained HTML page a merchandiser can open anywhere, offline.

:func:`build_report` judges the plan with the exact checker (joining SKUs at their activity
price, the others at their everyday price, the plan's coupon tiers and buy-two-get-one) and
renders it as one HTML file that needs no network: charts as inline SVG drawn here
(:mod:`pricing.outputs.charts`), the table as one JSON array that a short script pages,
searches and sorts:

1. the headline: expected revenue and profit against the everyday baseline, the coupon ladder,
   how many products join or stay out, buy-two-get-one, the worst unit margin in the store;
2. each product's price waterfall per unit in its worst cart (the checker's witness, quoted
   exactly): everyday → activity price → official / store-activity / coupon / cross-store
   discounts → paid → commission → merchant net → cost, handling, shipping share → margin;
   a selector switches between products;
3. a searchable, sortable table of every product;
4. the margin each product would keep at 50% off (``list × 0.5``, rounded half up) under the
   assumptions of ``price-opt check --discount 5折`` (every coupon candidate, no
   buy-two-get-one), by the same checker, losers marked in red;
5. each product's worst cart, line by line, with the cart in the ``price-opt quote`` format.

A plan that fails the checker is still shown, under a red banner naming the products (the
export refuses it; the report explains it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from models.cart import Cart, CartQuote
from models.money import (
    discount_label,
    fen_times_rate,
    format_yuan,
    fraction_floor_fen,
    short_yuan,
)
from models.product import Product
from models.rules import Rules
from pricing.engine.signup import ladder_price_fen
from pricing.engine.stacking import quote
from pricing.formats.atomic import write_text_atomic
from pricing.formats.carts import cart_to_json
from pricing.formats.plan_context import PlanContext
from pricing.formats.sheets import PlanPrices
from pricing.outputs.charts import (
    LABELLED_BARS,
    MarginBar,
    Step,
    draw_waterfall,
    margin_bars,
    step_labels,
    waterfall_chart,
)
from pricing.progress import SILENT, Progress
from pricing.verify.checker import STORE, CheckReport, cart_margins, check_store
from pricing.verify.policy import WITNESSES
from pricing.verify.store import store_setup

WATERFALLS_AT_MOST = WITNESSES.drawn_products
FIFTY_PERCENT_OFF = Decimal("0.5")
_DRAWING_STEPS = 5  # the waterfalls, the table, the 50%-off chart, the carts, the page

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "双十一促销方案报告",
        "revenue": "预计销售额", "profit": "预计利润", "baseline": "日常价基线",
        "products": "个商品参加", "ladder": "店铺优惠券", "no_coupon": "不设店铺优惠券",
        "joining": "参加活动",
        "out": "不参加", "b2g1": "买二送一", "b2g1_off": "不开启", "worst": "单件最低毛利",
        "worst_note": "已证明：任何购物车都不会让一件商品低于此毛利",
        "status": "求解", "made": "方案生成", "products_file": "商品文件",
        "rules_file": "规则文件", "waterfall": "单件价格瀑布（该商品的最坏购物车）",
        "waterfall_note": "按精确叠加引擎计算该商品最坏购物车中每件的金额（元）。",
        "pick": "选择商品", "table": "商品明细（点击表头排序）",
        "fifty": "五折压力测试：日常价 × 0.5 时每件的最低毛利",
        "fifty_note": "假设与 price-opt check --discount 5折 相同："
                      "规则中的全部候选优惠券（最坏情况），不开买二送一，平台机制、佣金、运费和操作费照常；精确校验器计算。"
                      "红色为不能证明不亏本的商品（即 check 的“亏本”加“未证明”）。",
        "carts": "每个商品的最坏购物车", "fails": "本方案未通过精确校验，以下商品可能亏本：",
        "units": "件", "margin_axis": "单件最低毛利（元）",
        "sorted_axis": "全部商品，按毛利从低到高（悬停查看 SKU）",
        "list": "日常价", "activity": "活动价让利", "activity_total": "活动价",
        "official": "官方立减",
        "store_activity": "买二送一", "coupon": "店铺优惠券", "cross": "跨店满减",
        "paid": "到手价", "red": "平台红包", "commission": "佣金", "net": "商家净收入",
        "cost": "成本", "handling": "处理费", "shipping": "运费分摊", "margin": "毛利",
        "sku": "SKU", "name": "商品标题", "joins": "参加", "list_price": "日常价",
        "activity_price": "活动价", "discount": "折扣", "units_col": "预计销量",
        "revenue_col": "预计销售额", "profit_col": "预计利润", "bound": "单件最低毛利",
        "witness": "最坏购物车毛利", "fifty_col": "五折毛利", "yes": "是", "no": "否",
        "losers": "个商品五折会亏本", "none_lose": "五折时没有商品亏本",
        "store": "店铺", "qty": "数量", "unit_price": "单价", "subtotal": "小计",
        "paid_col": "实付", "receives": "商家实收", "cart_json": "购物车（price-opt quote 格式）",
        "no_witness": "（大目录：只为最差的商品构造了购物车）",
        "more_waterfalls": "只列出毛利最低的 {n} 个商品。",
        "cards_note": "预计销售额、预计利润：按方案的价格和需求预测算出的活动期间数字；"
                      "日常价基线：同样的预测下所有商品按日常价、不做活动的数字；两者之差是活动带来的变化。"
                      "单件最低毛利是精确校验器证明的下界，任何购物车都不会低于它。",
        "waterfall_pair": "瀑布最后一步的毛利是该商品最坏购物车"
                          "（一辆真实可下单的购物车）中每件的毛利；表格中的“单件最低毛利”是证明的下界，可能更低（不一定有购物车能达到），两者相等时下界可以达到。",
        "table_note": "单件最低毛利：按本方案，任何购物车中一件商品至少保留的毛利（证明的下界）；"
                      "最坏购物车毛利：找到的最坏真实购物车中每件的毛利，总是不低于下界，相等时下界可以达到；"
                      "五折毛利：全部商品五折、规则中全部候选优惠券、不开买二送一时的下界，与本方案的价格无关。"
                      "预计销量、销售额、利润是预测；日常价、活动价是标价。",
        "carts_note": "每个购物车并列两个数：最坏购物车毛利是这辆真实购物车中每件的毛利；"
                      "单件最低毛利是任何购物车都不会低于的证明下界。前者总是不低于后者。",
        "search": "搜索 SKU 或标题", "shown": "第 {first}–{last} 行，共 {count} 行",
        "previous": "上一页", "next": "下一页", "no_match": "没有匹配的商品",
    },
    "en": {
        "title": "Promotion plan report",
        "revenue": "Expected revenue", "profit": "Expected profit", "baseline": "everyday baseline",
        "products": "products", "ladder": "Store coupons", "no_coupon": "no store coupon",
        "joining": "Joining the event",
        "out": "stay out", "b2g1": "Buy 2 get 1", "b2g1_off": "not run",
        "worst": "Worst unit margin",
        "worst_note": "proven: no cart leaves any unit less",
        "status": "Solver", "made": "Plan made", "products_file": "Products file",
        "rules_file": "Rules file",
        "waterfall": "Price waterfall per unit (the product's worst cart)",
        "waterfall_note": "Each step per unit, in yuan, from the exact quote of the product's "
                          "worst cart.",
        "pick": "Product", "table": "Products (click a header to sort)",
        "fifty": "50% off stress test: the least margin per unit at list × 0.5",
        "fifty_note": "The assumptions of price-opt check --discount 5折: every coupon "
                      "candidate of the rules (the worst case), buy-2-get-1 off, the platform's "
                      "mechanism, commission, shipping and handling as always; by the exact "
                      "checker. Red bars are products not proven safe (check's LOSES plus "
                      "unproven).",
        "carts": "Each product's worst cart", "fails": "This plan fails the exact checker; these "
                 "products can lose money:",
        "units": "unit", "margin_axis": "least margin per unit (yuan)",
        "sorted_axis": "every product, by margin (hover for the SKU)",
        "list": "Everyday", "activity": "Activity cut", "activity_total": "Activity",
        "official": "Official",
        "store_activity": "Buy 2 get 1", "coupon": "Coupon", "cross": "Cross-store",
        "paid": "Paid", "red": "Red packet", "commission": "Commission", "net": "Merchant net",
        "cost": "Cost", "handling": "Handling", "shipping": "Shipping share", "margin": "Margin",
        "sku": "SKU", "name": "Title", "joins": "Joins", "list_price": "Everyday",
        "activity_price": "Activity", "discount": "Discount", "units_col": "Units",
        "revenue_col": "Revenue", "profit_col": "Profit", "bound": "Worst margin",
        "witness": "Worst-cart margin", "fifty_col": "Margin at 50% off", "yes": "yes", "no": "no",
        "losers": "products lose money at 50% off", "none_lose": "no product loses at 50% off",
        "store": "Store", "qty": "Qty", "unit_price": "Unit price", "subtotal": "Subtotal",
        "paid_col": "Paid", "receives": "Merchant receives",
        "cart_json": "Cart (price-opt quote format)",
        "no_witness": "(large catalogue: carts were built for the worst products only)",
        "more_waterfalls": "Only the {n} products with the least margin are listed.",
        "cards_note": "Expected revenue and profit: the event at the plan's prices, by the demand "
                      "forecast; everyday baseline: the same forecast with every product at its "
                      "everyday price and no event; the difference is what the event changes. "
                      "The worst unit margin is the exact checker's proven lower bound: no cart "
                      "goes below it.",
        "waterfall_pair": "The margin at the end of the waterfall is per unit in the product's "
                          "worst cart, a real cart a buyer can place; the table's worst margin is "
                          "the proven lower bound, which can be lower (no cart need reach it); "
                          "when both are equal the bound is reached.",
        "table_note": "Worst margin: what one unit keeps at least in any cart under this plan "
                      "(the proven bound). Worst-cart margin: per unit in the worst real cart "
                      "found, never below the bound, equal when the bound is reached. Margin at "
                      "50% off: the bound with every product at 5折, every coupon candidate and "
                      "no buy-2-get-1, whatever the plan's prices. Units, revenue and profit are "
                      "forecasts; everyday and activity are list prices.",
        "carts_note": "Each cart shows two figures: the worst-cart margin, per unit in this real "
                      "cart, and the worst margin, the proven bound no cart goes below; the first "
                      "is never below the second.",
        "search": "Search SKU or title", "shown": "rows {first}–{last} of {count}",
        "previous": "Previous", "next": "Next", "no_match": "no product matches",
    },
}


@dataclass(frozen=True)
class Waterfall:
    """One product's waterfall per unit: step names, kinds and exact values (fen)."""

    sku: str
    title: str
    quantity: int
    steps: tuple[tuple[str, str, Fraction], ...]  # (label key, measure, value per unit)

    @property
    def margin(self) -> Fraction:
        return self.steps[-1][2]


def unit_waterfall(
    product: Product, price_fen: int, witness: Cart, rules: Rules,
    result: CartQuote | None = None,
) -> Waterfall | None:
    """The per-unit waterfall of ``product``'s first line in ``witness``, quoted exactly
    (``result``: the checker's quote of ``witness``, when it kept one)."""
    result = result or quote(witness)
    costs = {p.sku: p.unit_cost_fen for p in (product,)}
    for line in witness.lines:
        if line.store == STORE and line.sku not in costs:
            costs[line.sku] = 0  # other products' costs do not enter this line's margin
    margins, _ = cart_margins(witness, result, costs, rules)
    for position, (line, line_quote) in enumerate(zip(witness.lines, result.lines, strict=True)):
        if line.store != STORE or line.sku != product.sku:
            continue
        margin = margins[position]
        assert margin is not None
        units = line.quantity
        receives = line_quote.merchant_receives_fen
        commission = fen_times_rate(receives, rules.platform.commission_rate)
        handling = units * rules.store.handling_cost_fen
        shipping = receives - commission - units * product.unit_cost_fen - handling - margin

        def per_unit(value: int, units: int = units) -> Fraction:
            return Fraction(value, units)

        steps: list[tuple[str, str, Fraction]] = [
            ("list", "absolute", Fraction(product.list_price_fen)),
            ("activity", "relative", Fraction(price_fen - product.list_price_fen)),
            ("activity_total", "total", Fraction(price_fen)),
            ("official", "relative", -per_unit(line_quote.official_discount_fen)),
            ("store_activity", "relative", -per_unit(line_quote.activity_discount_fen)),
            ("coupon", "relative", -per_unit(line_quote.coupon_discount_fen)),
            ("cross", "relative", -per_unit(line_quote.cross_store_discount_fen)),
            ("paid", "total", per_unit(line_quote.paid_fen)),
        ]
        if line_quote.red_packet_fen:
            steps.append(("red", "relative", per_unit(line_quote.red_packet_fen)))
        steps += [
            ("commission", "relative", -per_unit(commission)),
            ("net", "total", per_unit(receives - commission)),
            ("cost", "relative", Fraction(-product.unit_cost_fen)),
            ("handling", "relative", -per_unit(handling)),
            ("shipping", "relative", -per_unit(shipping)),
            ("margin", "total", per_unit(margin)),
        ]
        return Waterfall(product.sku, product.title, units, tuple(steps))
    return None


def _yuan(value: Fraction | int) -> str:
    """A per-unit amount for display: yuan with two decimals (fractions of a fen rounded down)."""
    return format_yuan(fraction_floor_fen(Fraction(value)))


def _money(fen: int) -> str:
    """A large amount for people: ``¥7,190,669.14``."""
    return f"¥{Decimal(fen) / 100:,.2f}"


def _optional_yuan(value: Fraction | None) -> str:
    return "—" if value is None else _yuan(value)


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, computed before any HTML is written."""

    context: PlanContext
    check: CheckReport
    fifty: CheckReport
    waterfalls: tuple[Waterfall, ...]
    waterfalls_limited: bool


def _fifty_percent_off(
    context: PlanContext, prices: PlanPrices, progress: Progress = SILENT
) -> CheckReport:
    """The store with every product at 5折 under the assumptions of ``price-opt check
    --discount 5折`` (one story across commands): every coupon candidate of the rules on offer
    (the worst case, since the buyer takes the best coupon the cart reaches), buy-two-get-one
    off, the platform's mechanism, commission, shipping and handling. ``prices`` (the plan's)
    is not used: a stress test does not depend on the plan's choices."""
    del prices
    products = context.products
    list_prices = np.array([p.list_price_fen for p in products], dtype=np.int64)
    half = ladder_price_fen(list_prices, FIFTY_PERCENT_OFF) if len(products) else list_prices
    everyone = PlanPrices(
        prices_fen={p.sku: int(half[i]) for i, p in enumerate(products)},
        joins=frozenset(p.sku for p in products),
        b2g1_members=frozenset(),
        coupon_tiers=tuple(sorted(context.rules.coupons.candidates,
                                  key=lambda tier: tier.threshold_fen)),
    )
    setup = store_setup(everyone, products, context.rules)
    progress("The 50%-off stress test", total=len(products))
    return check_store(setup, witnesses_for=WITNESSES.for_stress_test(len(products)),
                       progress=progress.advance)


def report_data(context: PlanContext, progress: Progress = SILENT) -> ReportData:
    """Check the plan and the 50%-off store, and build every product's waterfall."""
    prices = PlanPrices.of_plan(context.plan)
    setup = store_setup(prices, context.products, context.rules)
    progress("Checking every cart", total=len(context.products))
    check = check_store(setup, witnesses_for=WITNESSES.for_report(len(context.products)),
                        progress=progress.advance)
    order = sorted(
        range(len(context.products)),
        key=lambda i: (check.products[i].bound_fen, context.products[i].sku),
    )
    waterfalls: list[Waterfall] = []
    for i in order:
        verdict = check.products[i]
        if verdict.witness is None or len(waterfalls) >= WATERFALLS_AT_MOST:
            continue
        waterfall = unit_waterfall(
            context.products[i], verdict.price_fen, verdict.witness, context.rules,
            verdict.witness_quote,
        )
        if waterfall is not None:
            waterfalls.append(waterfall)
    return ReportData(
        context=context, check=check, fifty=_fifty_percent_off(context, prices, progress),
        waterfalls=tuple(waterfalls),
        waterfalls_limited=len(waterfalls) < len(context.products),
    )


# --- charts --------------------------------------------------------------------------------


_FONT = ("-apple-system, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', "
         "'Noto Sans CJK SC', 'Noto Sans', sans-serif")


def _waterfall_view(data: ReportData, text: dict[str, str]) -> dict[str, Any] | None:
    """Every drawn product's waterfall as SVG geometry (the first shown, the others hidden
    until picked)."""
    if not data.waterfalls:
        return None
    limited = data.waterfalls_limited and len(data.waterfalls) >= WATERFALLS_AT_MOST
    charts = [
        waterfall_chart([Step(key, measure, value) for key, measure, value in w.steps],
                        text, _waterfall_title(w))
        for w in data.waterfalls
    ]
    label_sets: dict[tuple[str, ...], int] = {}
    for chart in charts:
        label_sets.setdefault(chart["label_keys"], len(label_sets))  # type: ignore[arg-type]
    unit = "¥ / " + text["units"]
    return {
        # Drawn here, not by the template's ``waterfall`` macro: the same text, joined as strings.
        "drawn": Markup("").join(
            draw_waterfall(chart, index, label_sets[chart["label_keys"]], unit)  # type: ignore[index]
            for index, chart in enumerate(charts)
        ),
        "label_sets": [step_labels(keys, text) for keys in label_sets],
        "options": [
            f"{w.sku} — {w.title[:40]} ({text['margin']} ¥{_yuan(w.margin)})"
            for w in data.waterfalls
        ],
        "unit": unit,
        "limited": text["more_waterfalls"].format(n=len(data.waterfalls)) if limited else None,
    }


def _waterfall_title(waterfall: Waterfall) -> str:
    units = f" ×{waterfall.quantity}" if waterfall.quantity > 1 else ""
    return f"{waterfall.sku}{units} · {waterfall.title[:40]}"


def _fifty_view(data: ReportData, text: dict[str, str]) -> dict[str, Any] | None:
    """The 50%-off margins, sorted, red where not proven safe."""
    products = data.context.products
    verdicts = data.fifty.products
    if not verdicts:
        return None
    labelled = len(verdicts) <= LABELLED_BARS
    bars = [
        MarginBar(
            sku=verdict.sku, margin_fen=verdict.bound_fen, bad=not verdict.proven_safe,
            hover=(f"{verdict.sku} {products[i].title[:40]} · ¥{format_yuan(verdict.price_fen)}"
                   f" → {text['bound']} ¥{format_yuan(verdict.bound_fen)} · {text['witness']} "
                   f"¥{_optional_yuan(verdict.witness_margin)}") if labelled else "",
        )
        for i, verdict in enumerate(verdicts)
    ]
    losers = sum(bar.bad for bar in bars)
    return {
        "chart": margin_bars(bars, text["sorted_axis"]),
        "unit": text["margin_axis"],
        "summary": f"{losers} / {len(verdicts)} {text['losers']}" if losers
        else text["none_lose"],
        "badge": "bad" if losers else "good",
    }


# --- the page ------------------------------------------------------------------------------------


def _delta(value: int, baseline: int) -> str:
    change = value - baseline
    sign = "+" if change >= 0 else "−"
    share = f" ({sign}{abs(change) / abs(baseline):.1%})" if baseline else ""
    return f"{sign}{_money(abs(change))}{share}"


def _headline_view(data: ReportData, text: dict[str, str]) -> dict[str, Any]:
    """The banner (failing products), the four cards and the plan's particulars."""
    plan = data.context.plan
    joining = sum(d.joins for d in plan.products)
    members = sum(d.b2g1 for d in plan.products)
    worst = min((v.bound_fen for v in data.check.products), default=0)
    cards = [
        (text["revenue"], _money(plan.expected_revenue_fen),
         [f"{text['baseline']} {_money(plan.baseline_revenue_fen)}",
          _delta(plan.expected_revenue_fen, plan.baseline_revenue_fen)]),
        (text["profit"], _money(plan.objective_fen),
         [f"{text['baseline']} {_money(plan.baseline_profit_fen)}",
          _delta(plan.objective_fen, plan.baseline_profit_fen)]),
        (text["joining"], f"{joining} / {len(plan.products)}",
         [f"{len(plan.products) - joining} {text['out']}"]),
        (text["worst"], f"¥{format_yuan(worst)}", [text["worst_note"]]),
    ]
    failing = [v.sku for v in data.check.products if not v.proven_safe and v.guaranteed]
    solver = plan.solver
    gap = "—" if solver.gap is None else f"{solver.gap:.3%}"
    meta: list[dict[str, Any]] = [
        {"key": text["ladder"], "chips": [
            _tier_label(t.threshold_fen, t.amount_fen, text) for t in plan.coupon_tiers
        ]},
        {"key": text["b2g1"], "value": f"{members} {text['products']}" if members
         else text["b2g1_off"]},
        {"key": text["status"], "value": f"{plan.status.value} · {solver.name} "
         f"({solver.method}) · gap {gap} · {solver.seconds:.2f} s"},
    ]
    inputs = plan.inputs
    if inputs is not None:
        meta += [
            {"key": text["made"], "value": f"{inputs.created_at} · price-opt "
             f"{inputs.price_opt_version}"},
            {"key": text["products_file"],
             "value": f"{inputs.products_file} ({inputs.products_sha256[:12]})"},
            {"key": text["rules_file"],
             "value": f"{inputs.rules_file or '—'} ({(inputs.rules_sha256 or '')[:12]})"},
        ]
    for item in meta:
        item.setdefault("chips", None)
    return {
        "failing": ", ".join(failing[:30]),
        "cards": [{"label": label, "value": value, "sub": sub} for label, value, sub in cards],
        "meta": meta,
    }


def _tier_label(threshold: int, amount: int, text: dict[str, str]) -> str:
    if text is LABELS["zh"]:
        return (f"满{short_yuan(threshold)}减{short_yuan(amount)}" if threshold
                else f"无门槛减{short_yuan(amount)}")
    return (f"spend ¥{short_yuan(threshold)} save ¥{short_yuan(amount)}" if threshold
            else f"¥{short_yuan(amount)} off, no threshold")


# The table's columns: label key and kind ("num" sorts by number, "text" by collation). The
# page receives the rows as one JSON array (see _table_view) and draws one page of rows at a
# time, so a 100,000-row table stays a few megabytes and opens at once.
_TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sku", "text"), ("name", "text"), ("joins", "text"), ("list_price", "num"),
    ("activity_price", "num"), ("discount", "num"), ("b2g1", "text"), ("units_col", "num"),
    ("revenue_col", "num"), ("profit_col", "num"), ("bound", "num"), ("witness", "num"),
    ("fifty_col", "num"),
)
_TABLE_TEXT = ("yes", "no", "search", "shown", "previous", "next", "no_match")


def _script_json(value: object) -> Markup:
    """``value`` as JSON that is safe inside a ``<script type="application/json">`` element:
    ``<``, ``>`` and ``&`` (only ever inside strings) are written as ``\\u`` escapes."""
    encoded = orjson.dumps(value).decode()
    return Markup(encoded.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def _table_view(data: ReportData, text: dict[str, str], lang: str) -> dict[str, Any]:
    """Every product's row as compact JSON: money in integer fen, flags as 0/1, the discount
    as an index into the list of its labels; the page formats, searches and sorts it.

    A row is ``[sku, title, joins, list, activity, level, b2g1, units, revenue, profit,
    bound, bound red, worst-cart margin (fen, rounded down) or null, 50%-off bound or null,
    50%-off red]``."""
    verdicts = {v.sku: v for v in data.check.products}
    fifty = {v.sku: v for v in data.fifty.products}
    levels = sorted({decision.level for decision in data.context.plan.products})
    level_index = {level: position for position, level in enumerate(levels)}
    rows: list[list[Any]] = []
    for decision in data.context.plan.products:
        verdict = verdicts.get(decision.sku)
        at_half = fifty.get(decision.sku)
        witness_margin = None if verdict is None else verdict.witness_margin
        rows.append([
            decision.sku, decision.title, int(decision.joins), decision.list_price_fen,
            decision.activity_price_fen,
            level_index[decision.level] if decision.joins else -1,
            int(decision.b2g1), round(decision.expected_units),
            decision.expected_revenue_fen, decision.expected_profit_fen,
            None if verdict is None else verdict.bound_fen,
            int(verdict is not None and not verdict.proven_safe),
            None if witness_margin is None else fraction_floor_fen(witness_margin),
            None if at_half is None else at_half.bound_fen,
            int(at_half is not None and not at_half.proven_safe),
        ])
    return {
        "columns": [{"label": text[key], "kind": kind} for key, kind in _TABLE_COLUMNS],
        "payload": _script_json({
            "rows": rows,
            "levels": [discount_label(level, lang) for level in levels],
            "text": {key: text[key] for key in _TABLE_TEXT},
        }),
        "count": len(rows),
    }


_CART_COLUMNS = ("sku", "store", "qty", "unit_price", "subtotal", "official", "store_activity",
                 "coupon", "cross", "paid_col", "receives")


def _carts_view(data: ReportData, text: dict[str, str]) -> dict[str, Any]:
    """Each product's worst cart, tightest first: its lines quoted, and the cart file."""
    products = data.context.products
    order = sorted(range(len(products)), key=lambda i: data.check.products[i].bound_fen)
    items = []
    for i in order:
        verdict = data.check.products[i]
        cart = verdict.witness
        if cart is None:
            continue
        result = verdict.witness_quote or quote(cart)
        items.append({
            "sku": products[i].sku,
            "title": products[i].title[:40],
            "margin": "—" if verdict.witness_margin is None else _yuan(verdict.witness_margin),
            "css": "bad" if verdict.witness_margin is not None and verdict.witness_margin < 0
            else "",
            "bound": format_yuan(verdict.bound_fen),
            "lines": [
                (line.sku, line.store, line.quantity, format_yuan(line.unit_price_fen),
                 format_yuan(q.subtotal_fen), format_yuan(q.official_discount_fen),
                 format_yuan(q.activity_discount_fen), format_yuan(q.coupon_discount_fen),
                 format_yuan(q.cross_store_discount_fen), format_yuan(q.paid_fen),
                 format_yuan(q.merchant_receives_fen))
                for line, q in zip(cart.lines, result.lines, strict=True)
            ],
            "json": _cart_json(cart),
        })
    return {
        "header": [text[key] for key in _CART_COLUMNS],
        "entries": items,
        "limited": bool(data.check.unchecked_witnesses),
    }


def _cart_json(cart: Cart) -> Markup:
    """The cart file, short: one line per top-level key and per cart line, escaped for HTML
    text (quotes need no escaping there, which keeps hundreds of carts light)."""
    data = cart_to_json(cart)
    parts = []
    for key, value in data.items():
        if key == "lines":
            lines = ",\n    ".join(json.dumps(line, ensure_ascii=False) for line in value)
            parts.append(f'  "lines": [\n    {lines}\n  ]')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    text = "{\n" + ",\n".join(parts) + "\n}"
    return Markup(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


@cache
def _templates() -> Environment:
    """The report's templates (package data beside this module), HTML-escaped by default."""
    return Environment(
        loader=PackageLoader("pricing.outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def build_report(
    context: PlanContext, lang: str = "zh", data: ReportData | None = None,
    progress: Progress = SILENT,
) -> str:
    """The report page as one HTML string (inline SVG charts, the table as JSON drawn by a
    short script), from the Jinja2 template ``templates/report.html.j2``, its chart macros
    ``templates/charts.html.j2`` and its style sheet ``templates/report.css``."""
    text = LABELS["zh" if lang == "zh" else "en"]
    data = data or report_data(context, progress)
    progress("Drawing the report", total=_DRAWING_STEPS)
    plan = context.plan
    subtitle = " · ".join([
        f"{len(plan.products)} SKU", plan.status.value,
        *([plan.inputs.created_at] if plan.inputs is not None else []),
    ])
    environment = _templates()
    css = environment.loader.get_source(environment, "report.css")[0]  # type: ignore[union-attr]
    views: dict[str, Any] = {**_headline_view(data, text)}
    views["waterfall"] = _waterfall_view(data, text)
    progress.advance()
    views["table"] = _table_view(data, text, lang)
    progress.advance()
    views["fifty"] = _fifty_view(data, text)
    progress.advance()
    views["carts"] = _carts_view(data, text)
    progress.advance()
    page = environment.get_template("report.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        text=text,
        subtitle=subtitle,
        # Trusted, not escaped: the package's own style sheet.
        css=Markup(css.replace("FONT", _FONT)),
        **views,
    )
    progress.advance()
    return page


def write_report(
    context: PlanContext, path: Path, lang: str = "zh", progress: Progress = SILENT
) -> ReportData:
    """Write the report to ``path`` atomically (UTF-8); return what it shows."""
    data = report_data(context, progress)
    write_text_atomic(path, build_report(context, lang, data, progress))
    return data


__all__ = [
    "LABELS",
    "ReportData",
    "Waterfall",
    "build_report",
    "report_data",
    "unit_waterfall",
    "write_report",
]
