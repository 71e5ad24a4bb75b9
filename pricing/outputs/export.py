"""The product submission sheet (商品报名表): what the merchandiser uploads to the platform.

:func:`prepare_sheet` judges the plan again before anything is written: the store under the plan
(joining SKUs at their activity price, the others at their everyday price, the plan's coupon
tiers and buy-two-get-one) goes through the exact checker, and every joining SKU through the
platform's sign-up rules, with the products and rules given now (not the plan's own verdicts).
A plan with a product that fails is refused (:class:`~pricing.errors.ExportRefusedError`, which
names each product and why) unless ``drop_failing`` is set: then the failing joining products
are taken out of the event (back to their everyday price, out of buy-two-get-one) and the store
is checked again, until it passes; the products removed are listed. A product that stays out of
the event and still fails (the store's coupons alone take it below its floor) cannot be removed
and always refuses the export.

One row per joining SKU; the columns (Chinese headers, or English with ``lang="en"``):

========================  =====================================================================
商品ID / SKU / 商品标题    from the products file (text cells)
日常价 / 活动价            everyday and activity price, yuan
折扣                       the activity price as a share of the everyday price (``7.5折``)
活动库存                   ``ceil(expected_units × stock_factor)``, never above the SKU's stock
每人限购                   the products file's purchase limit (empty: no limit)
买二送一                   是/否: the SKU is in the store's buy-two-get-one
最低到手价                 the least a buyer pays per unit of the SKU in the carts the exact
                           checker quotes for it (see :func:`lowest_paid_fen`): a real cart
                           reaches it
单件最低毛利               the checker's proven lower bound on one unit's margin in any cart
是否满足报名规则           是 (a row that does not is refused or removed)
========================  =====================================================================

The second sheet, ``店铺设置`` (``Store settings``), lists the coupon tiers, buy-two-get-one, the
platform mechanism, the rules used and where the plan came from; a CSV sheet carries the same
rows in its companion ``<name>.settings.csv`` (see :mod:`pricing.formats.sheets`). Files are
written atomically; text is neutralised against formula injection.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from models.money import format_yuan, short_yuan, yuan_cell
from models.plan import Plan
from models.rules import CouponTier, Rules, mechanism_label, store_now
from pricing.errors import InputError, Problem
from pricing.formats.atomic import write_atomic
from pricing.formats.plan_context import PlanContext
from pricing.formats.sheets import (
    NO,
    NONE,
    SETTING_KEYS,
    SETTINGS_HEADER,
    SETTINGS_SHEET,
    SHEET_COLUMNS,
    YES,
    PlanPrices,
    companion_settings_path,
    csv_safe_text,
    review_path,
    sheet_safe,
    starts_like_formula,
    tier_text,
    write_rows_csv,
    xlsx_text,
)
from pricing.outputs.i18n import level_forms
from pricing.outputs.judge import Failure, judge, lowest_paid_fen
from pricing.outputs.upload import (
    TEMPLATE_TMALL,
    UploadResult,
    UploadRow,
    csv_id,
    fill_template,
    write_tmall_csv,
    write_tmall_xlsx,
)
from pricing.progress import SILENT, Progress
from pricing.verify.checker import CheckReport
from pricing.verify.store import store_setup

LANGS = ("zh", "en")
SHEET_TITLE = {"zh": "核对表", "en": "Review"}  # the review workbook's table (never uploaded)
MONEY_COLUMNS = {"list_price", "activity_price", "lowest_paid", "worst_unit_margin"}
WHOLE_COLUMNS = {"activity_stock", "purchase_limit", "expected_units", "stock"}
TEXT_ID_COLUMNS = {"item_id", "sku_id", "sku"}
CENTRED_COLUMNS = {"discount", "b2g1", "meets_signup"}
WIDTH_SAMPLE_ROWS = 200
ROWS_PER_ADVANCE = 500  # rows written between two reports to a progress bar


@dataclass(frozen=True)
class ExportOptions:
    """How to export: sheet language, the activity-stock safety factor, removing failures."""

    lang: str = "zh"
    stock_factor: Decimal = Decimal(1)
    drop_failing: bool = False
    template: str = TEMPLATE_TMALL  # "tmall", or the path of the merchant's template .xlsx

    def __post_init__(self) -> None:
        problems = []
        if self.lang not in LANGS:
            problems.append(Problem("--lang", "expected zh or en", value=self.lang))
        if not self.stock_factor.is_finite() or self.stock_factor < 1:
            problems.append(Problem("--stock-factor", "expected a number of at least 1, e.g. 1.2",
                                    value=str(self.stock_factor)))
        if problems:
            raise InputError(problems)


@dataclass(frozen=True)
class SheetRow:
    """One row of the submission sheet (money in fen)."""

    item_id: str
    sku: str
    title: str
    list_price_fen: int
    activity_price_fen: int
    level: Decimal
    activity_stock: int
    purchase_limit: int | None
    b2g1: bool
    lowest_paid_fen: int | None  # None: no witness cart (large catalogues: the tightest only)
    worst_unit_margin_fen: int
    meets_signup: bool
    sku_id: str = ""
    expected_units: float = 0.0
    stock: int = 0
    super_instant_rate: Decimal | None = None  # 超级立减 rate, if the product runs one


@dataclass(frozen=True)
class SubmissionSheet:
    """The rows to submit and the store settings they were checked under."""

    plan: Plan
    rules: Rules
    rows: tuple[SheetRow, ...]
    prices: PlanPrices
    check: CheckReport
    stock_factor: Decimal
    dropped: tuple[Failure, ...] = ()
    exported_at: str = field(
        default_factory=lambda: dt.datetime.now().astimezone().isoformat(timespec="seconds")
    )


# --- judging the plan ---------------------------------------------------------------------------


# --- the figures of a row -------------------------------------------------------------------


def activity_stock(expected_units: float, stock: int, factor: Decimal) -> int:
    """The activity stock of a SKU: ``ceil(expected_units × factor)`` in exact decimals, never
    below the forecast ``ceil(expected_units)`` (a factor below 1 is refused by the options),
    and never above ``stock`` (what cannot be sold is not offered)."""
    if factor == 1:  # the default: the forecast rounded up (a float's ceiling is exact)
        return max(0, min(math.ceil(expected_units), stock))
    forecast = Decimal(repr(expected_units))
    wanted = (forecast * factor).to_integral_value(rounding=ROUND_CEILING)
    at_least = forecast.to_integral_value(rounding=ROUND_CEILING)
    return max(0, min(int(max(wanted, at_least)), stock))


def prepare_sheet(
    context: PlanContext, options: ExportOptions | None = None, progress: Progress = SILENT
) -> SubmissionSheet:
    """Judge the plan (refusing or removing failures) and compute every row of the sheet."""
    options = options or ExportOptions()
    prices, check, dropped = judge(context, options.drop_failing, progress)
    unsafe_text = [
        p.sku for p in context.products if p.sku in prices.joins and not sheet_safe(p.sku)
    ]
    if unsafe_text:
        raise InputError([Problem(
            "products", "a SKU holds control characters that no spreadsheet keeps; fix the SKU",
            value=sku,
        ) for sku in unsafe_text])
    setup = store_setup(prices, context.products, context.rules)
    lowest = lowest_paid_fen(setup, check, prices.joins)
    decisions = {d.sku: d for d in context.plan.products}
    verdicts = {v.sku: v for v in check.products}
    rows = []
    for product in context.products:
        if product.sku not in prices.joins:
            continue
        decision = decisions[product.sku]
        rows.append(SheetRow(
            item_id=product.item_id, sku=product.sku, title=product.title,
            list_price_fen=product.list_price_fen,
            activity_price_fen=prices.prices_fen[product.sku],
            level=decision.level,
            activity_stock=activity_stock(decision.expected_units, product.stock,
                                          options.stock_factor),
            purchase_limit=product.purchase_limit,
            b2g1=product.sku in prices.b2g1_members,
            lowest_paid_fen=lowest[product.sku],
            worst_unit_margin_fen=verdicts[product.sku].bound_fen,
            meets_signup=True,
            sku_id=product.sku_id,
            expected_units=decision.expected_units,
            stock=product.stock,
            super_instant_rate=prices.super_instant.get(product.sku),
        ))
    return SubmissionSheet(
        plan=context.plan, rules=context.rules, rows=tuple(rows), prices=prices, check=check,
        stock_factor=options.stock_factor, dropped=dropped,
        exported_at=store_now(context.rules),
    )


# --- writing ----------------------------------------------------------------------------------


def _yes_no(flag: bool, lang: str) -> str:
    return YES[lang] if flag else NO[lang]


_level_forms = functools.cache(level_forms)  # a handful of levels, thousands of rows


def sheet_values(row: SheetRow, lang: str) -> list[Any]:
    """A row's cells in column order: money as Decimal yuan, counts as int, the rest text."""
    values: dict[str, Any] = {
        "item_id": row.item_id,
        "sku_id": row.sku_id,
        "sku": row.sku,
        "title": row.title,
        "list_price": Decimal(format_yuan(row.list_price_fen)),
        "activity_price": Decimal(format_yuan(row.activity_price_fen)),
        "discount": _level_forms(row.level, lang),
        "activity_stock": row.activity_stock,
        "expected_units": round(row.expected_units),
        "stock": row.stock,
        "purchase_limit": row.purchase_limit,
        "b2g1": _yes_no(row.b2g1, lang),
        # The super-instant template's 让利比例: the number 10 for 10%.
        "super_instant": None if row.super_instant_rate is None
        else f"{(row.super_instant_rate * 100).normalize():f}",
        "lowest_paid": (None if row.lowest_paid_fen is None
                        else Decimal(format_yuan(row.lowest_paid_fen))),
        "worst_unit_margin": Decimal(format_yuan(row.worst_unit_margin_fen)),
        "meets_signup": _yes_no(row.meets_signup, lang),
    }
    return [values[column.key] for column in SHEET_COLUMNS]


_NOTES = {
    "lowest_paid": {
        "zh": "买家叠加所有可用优惠（店铺优惠券、买二送一、"
              "跨店满减/官方立减）后每件最少支付的金额："
              "取精确校验器为该商品报价的全部购物车（每档优惠券、无券、买二送一各取最小凑单），"
              "按每件实付向下取整到分。真实可达。"
              "商品超过 2,000 个时只为最紧的 200 个商品构造购物车，其余留空。",
        "en": "The least a buyer pays per unit after stacking every discount (store coupon, buy 2 "
              "get 1, cross-store reduction or official discount), over every cart the exact "
              "checker quotes for the SKU (each coupon tier, none, and buy 2 get 1, each at its "
              "smallest subtotal), paid ÷ units rounded down to the fen. A real cart reaches "
              "it. Above 2,000 products the carts are built for the 200 tightest products "
              "only; the others are left empty.",
    },
    "worst_unit_margin": {
        "zh": "任何购物车中一件商品至少保留的毛利"
              "（已扣佣金、成本、处理费、包邮运费分摊），精确校验器证明的下界。",
        "en": "The proven lower bound on what one unit keeps in any cart, after commission, cost, "
              "handling and its share of free shipping.",
    },
    "activity_stock": {
        "zh": "预计销量 × 库存系数（至少为 1），向上取整：不低于预计销量，不超过库存。",
        "en": "Expected units × the stock factor (at least 1), rounded up: never below the "
              "forecast, never above stock.",
    },
}


def _tier_note(tier: CouponTier, lang: str) -> str:
    amount = short_yuan(tier.amount_fen)
    if tier.threshold_fen == 0:
        return f"无门槛减{amount}" if lang == "zh" else f"no threshold, save {amount}"
    threshold = short_yuan(tier.threshold_fen)
    return f"满{threshold}减{amount}" if lang == "zh" else f"spend {threshold} save {amount}"


def settings_rows(sheet: SubmissionSheet, lang: str) -> list[list[str]]:
    """The 店铺设置 rows: key, value, note (the same rows in .xlsx and the CSV companion)."""
    from pricing.formats.rules import rules_to_dict

    zh = lang == "zh"
    plan, inputs = sheet.plan, sheet.plan.inputs
    rows: list[list[str]] = [list(SETTINGS_HEADER[lang])]
    coupon = SETTING_KEYS["coupon"][lang]
    tiers = sheet.prices.coupon_tiers
    excluded = sorted(sheet.prices.coupon_excluded)
    scope_note = ""
    if excluded:
        scope_note = (f"；不含 {len(excluded)} 个商品（见“店铺券不含”）" if zh
                      else f"; excludes {len(excluded)} products (see 'Coupons exclude')")
    if tiers:
        rows.extend(
            [coupon, tier_text(tier), _tier_note(tier, lang) + scope_note] for tier in tiers
        )
        rows.extend(
            [SETTING_KEYS["coupon_excluded"][lang], sku,
             "每张店铺券都不含此商品（设为指定商品券，或创建时排除）" if zh
             else "no store coupon covers it (limit the coupons to the other products)"]
            for sku in excluded
        )
    else:
        rows.append([coupon, NONE[lang], "不设店铺优惠券" if zh else "no store coupon"])
    members = len(sheet.prices.b2g1_members)
    rows.append([
        SETTING_KEYS["b2g1"][lang], _yes_no(bool(members), lang),
        (f"{members} 个商品参加，每三件最便宜的一件免费" if zh
         else f"{members} products; of every three eligible units the cheapest is free"),
    ])
    offer = sheet.prices.pieces_offer
    if offer is not None:
        rows.append([
            SETTING_KEYS["pieces_offer"][lang], offer.label,
            "全店多件优惠（店铺宝），覆盖所有商品" if zh
            else "store-wide multi-piece offer, on every product",
        ])
    rows.extend(
        [SETTING_KEYS["official_opt_out"][lang], sku,
         "加入不生效官方立减名单（未参加活动）" if zh
         else "put on the official-discount opt-out list (not in the event)"]
        for sku in sheet.plan.official_opt_out
    )
    rows.extend(
        [SETTING_KEYS["known_loser"][lang], sku,
         "日常价单件订单即亏本（包邮），未参加；不在保证范围内" if zh
         else "loses on a one-unit order at its everyday price; outside the guarantee"]
        for sku in sorted(sheet.prices.known_losers)
    )
    rows.append(["平台机制" if zh else "Platform mechanism",
                 sheet.rules.platform.mechanism.value, mechanism_label(sheet.rules.platform, lang)])
    rows.append(["活动库存系数" if zh else "Stock factor", str(sheet.stock_factor),
                 _NOTES["activity_stock"][lang]])
    rows.append(["报名商品数" if zh else "Products submitted", str(len(sheet.rows)), ""])
    for failure in sheet.dropped:
        rows.append(["已移除商品" if zh else "Removed product", failure.sku, failure.reason])
    rows.append(["方案状态" if zh else "Plan status", plan.status.value,
                 f"{plan.solver.name} ({plan.solver.method}), gap {plan.solver.gap}"])
    rows.append(["预计销售额" if zh else "Expected revenue", format_yuan(plan.expected_revenue_fen),
                 ("日常价基线 " if zh else "everyday baseline ")
                 + format_yuan(plan.baseline_revenue_fen)])
    rows.append(["预计利润" if zh else "Expected profit", format_yuan(plan.objective_fen),
                 ("日常价基线 " if zh else "everyday baseline ")
                 + format_yuan(plan.baseline_profit_fen)])
    if inputs is not None:
        rows.append(["方案生成时间" if zh else "Plan made at", inputs.created_at,
                     f"price-opt {inputs.price_opt_version}"])
        rows.append(["商品文件" if zh else "Products file", inputs.products_file,
                     f"SHA-256 {inputs.products_sha256}"])
        rows.append(["规则文件" if zh else "Rules file", inputs.rules_file or "",
                     f"SHA-256 {inputs.rules_sha256}" if inputs.rules_sha256 else ""])
    rows.append(["导出时间" if zh else "Exported at", sheet.exported_at, ""])
    for column in SHEET_COLUMNS:
        if column.key in ("lowest_paid", "worst_unit_margin"):
            rows.append([column.header(lang), "", _NOTES[column.key][lang]])
    for section, table in rules_to_dict(sheet.rules).items():
        for key, value in table.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append([f"rules.{section}.{key}", shown, "所用规则" if zh else "rules used"])
    return rows


def _display_width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


CellMaker = Callable[[SheetRow], "str | None"]


def _general_maker(
    cell: Callable[[str, Any], str | None], key: str, position: int, lang: str
) -> CellMaker:
    return lambda row: cell(key, sheet_values(row, lang)[position])


def _cell_makers(
    cell: Callable[[str, Any], str | None], text_cell: Callable[[str, str], str], lang: str
) -> dict[str, CellMaker]:
    """Per column of the review, the cell of a row: what ``cell(key, sheet_values(row)[…])``
    gives, without building every row's values (the money as ``format_yuan`` text is the
    ``Decimal``'s text; the few texts of flag and discount columns made once)."""
    known: dict[tuple[str, str], str] = {}

    def few(key: str, value: str) -> str:
        made = known.get((key, value))
        if made is None:
            made = known[key, value] = text_cell(key, value)
        return made

    def money(fen: int | None) -> str | None:
        return None if fen is None else cell("list_price", Decimal(format_yuan(fen)))

    def count(value: int | None) -> str | None:
        return None if value is None else cell("stock", value)

    def super_instant(rate: Decimal | None) -> str | None:
        return None if rate is None else few("super_instant", f"{(rate * 100).normalize():f}")

    makers: dict[str, CellMaker] = {
        "item_id": lambda row: text_cell("item_id", row.item_id),
        "sku_id": lambda row: text_cell("sku_id", row.sku_id),
        "sku": lambda row: text_cell("sku", row.sku),
        "title": lambda row: text_cell("title", row.title),
        "list_price": lambda row: money(row.list_price_fen),
        "activity_price": lambda row: money(row.activity_price_fen),
        "discount": lambda row: few("discount", _level_forms(row.level, lang)),
        "activity_stock": lambda row: count(row.activity_stock),
        "expected_units": lambda row: count(round(row.expected_units)),
        "stock": lambda row: count(row.stock),
        "purchase_limit": lambda row: count(row.purchase_limit),
        "b2g1": lambda row: few("b2g1", _yes_no(row.b2g1, lang)),
        "super_instant": lambda row: super_instant(row.super_instant_rate),
        "lowest_paid": lambda row: money(row.lowest_paid_fen),
        "worst_unit_margin": lambda row: money(row.worst_unit_margin_fen),
        "meets_signup": lambda row: few("meets_signup", _yes_no(row.meets_signup, lang)),
    }
    return {column.key: makers[column.key] for column in SHEET_COLUMNS if column.key in makers}


def _write_xlsx(
    sheet: SubmissionSheet, path: Path, lang: str, progress: Progress = SILENT
) -> None:
    """The review workbook (核对表 + 店铺设置): XlsxWriter writes the workbook, and the
    核对表's data rows are written as sheet XML (:mod:`pricing.outputs.xlsx_rows`), about ten
    times faster for 10,000 rows. Text cells are strings (IDs formatted ``@``; a value a
    spreadsheet could take for a formula gets Excel's quote prefix), money two decimals."""
    import xlsxwriter

    from pricing.outputs.xlsx_rows import SheetRows, finish, style_of

    def build(temp_path: Path) -> None:
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"strings_to_numbers": False,
                                                "strings_to_formulas": False,
                                                "strings_to_urls": False})
        header = workbook.add_format({"bold": True, "font_color": "#FFFFFF",
                                      "bg_color": "#C0392B", "align": "center",
                                      "valign": "vcenter", "text_wrap": True, "bottom": 1,
                                      "bottom_color": "#B7B7B7"})
        text_id = style_of(workbook.add_format({"num_format": "@"}))
        text_id_quoted = style_of(workbook.add_format({"num_format": "@", "quote_prefix": True}))
        quoted = style_of(workbook.add_format({"quote_prefix": True}))
        centred = style_of(workbook.add_format({"align": "center"}))
        money_format = style_of(workbook.add_format({"num_format": "0.00"}))
        whole = style_of(workbook.add_format({"num_format": "0"}))
        main = workbook.add_worksheet(SHEET_TITLE[lang])
        headers = [column.header(lang) for column in SHEET_COLUMNS]
        widths = [_display_width(text) + 4 for text in headers]
        main.set_row(0, 30)
        for position, text in enumerate(headers):
            main.write_string(0, position, text, header)
        rows = SheetRows(first_row=1)
        keys = [column.key for column in SHEET_COLUMNS]

        def text_cell(key: str, value: str) -> str:
            text = xlsx_text(value)
            formula_like = starts_like_formula(text)
            if key in TEXT_ID_COLUMNS:
                style = text_id_quoted if formula_like else text_id
            elif formula_like:
                style = quoted
            else:
                style = centred if key in CENTRED_COLUMNS else 0
            return rows.text(text, style)

        def cell(key: str, value: Any) -> str | None:
            """One cell of :func:`sheet_values`: text, money (two decimals) or a count."""
            if value is None:
                return None
            if isinstance(value, str):
                return text_cell(key, value)
            if key in MONEY_COLUMNS:
                return rows.number(str(value), money_format)
            return rows.number(str(int(value)), whole)

        for values in (sheet_values(row, lang) for row in sheet.rows[:WIDTH_SAMPLE_ROWS]):
            for position, value in enumerate(values):  # column widths from the first rows
                if isinstance(value, str):
                    widths[position] = max(widths[position],
                                           _display_width(xlsx_text(value)) + 2)
        progress("Writing the review sheet", total=len(sheet.rows))
        makers = _cell_makers(cell, text_cell, lang)
        if list(makers) != keys:  # a column without a fast maker: every cell the general way
            makers = {key: _general_maker(cell, key, position, lang)
                      for position, key in enumerate(keys)}
        row_cells = list(makers.values())
        for number, row in enumerate(sheet.rows, start=1):
            if number % ROWS_PER_ADVANCE == 0:
                progress.advance(ROWS_PER_ADVANCE)
            rows.add([make(row) for make in row_cells])
        main.freeze_panes(1, 0)
        for position, width in enumerate(widths):
            main.set_column(position, position, max(8, min(width, 60)))
        if sheet.rows:
            main.autofilter(0, 0, len(sheet.rows), len(SHEET_COLUMNS) - 1)
        for position, column in enumerate(SHEET_COLUMNS):
            if column.key in _NOTES:
                main.write_comment(0, position, _NOTES[column.key][lang],
                                   {"author": "price-opt", "x_scale": 3, "y_scale": 2})
        settings = workbook.add_worksheet(SETTINGS_SHEET[lang])
        settings_header = workbook.add_format({"bold": True, "font_color": "#FFFFFF",
                                               "bg_color": "#34495E", "align": "center",
                                               "valign": "vcenter"})
        top = workbook.add_format({"valign": "top", "text_wrap": True})
        top_quoted = workbook.add_format({"valign": "top", "text_wrap": True,
                                          "quote_prefix": True})
        column_widths = [10, 10, 10]
        for number, values_row in enumerate(settings_rows(sheet, lang)):
            for position, value in enumerate(values_row):
                text = xlsx_text(value)
                style = settings_header if number == 0 else (
                    top_quoted if starts_like_formula(text) else top)
                settings.write_string(number, position, text, style)
                column_widths[position] = max(column_widths[position], _display_width(text) + 2)
        settings.freeze_panes(1, 0)
        for position, width in enumerate([min(column_widths[0], 36),
                                          min(column_widths[1], 40), 70]):
            settings.set_column(position, position, width)
        workbook.close()
        finish(buffer.getvalue(), temp_path, 1, rows, columns=len(SHEET_COLUMNS))

    write_atomic(path, build)


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in TEXT_ID_COLUMNS:
        return csv_id(str(value))
    if isinstance(value, Decimal):
        return yuan_cell(value)
    if isinstance(value, int):
        return str(value)
    return csv_safe_text(str(value))


def _write_csv(sheet: SubmissionSheet, path: Path, lang: str) -> Path:
    header = [csv_safe_text(column.header(lang)) for column in SHEET_COLUMNS]
    rows = [header] + [[_csv_cell(column.key, value) for column, value
                        in zip(SHEET_COLUMNS, sheet_values(row, lang), strict=True)]
                       for row in sheet.rows]
    companion = companion_settings_path(path)
    write_rows_csv(companion, [[csv_safe_text(value) for value in row]
                               for row in settings_rows(sheet, lang)])
    write_rows_csv(path, rows)
    return companion


def upload_rows(sheet: SubmissionSheet) -> list[UploadRow]:
    """What the upload sheet says of each joining SKU."""
    return [UploadRow(item_id=row.item_id, sku_id=row.sku_id, sku=row.sku,
                      activity_price_fen=row.activity_price_fen,
                      activity_stock=row.activity_stock, purchase_limit=row.purchase_limit)
            for row in sheet.rows]


def output_paths(path: Path) -> tuple[Path, ...]:
    """Every file ``export`` writes for ``--out path``: the upload sheet, its review, and for a
    CSV the settings companion."""
    review = review_path(path)
    if path.suffix.lower() == ".csv":
        return (path, review, companion_settings_path(review))
    return (path, review)


def write_sheet(
    sheet: SubmissionSheet, path: Path, lang: str = "zh", template: str = TEMPLATE_TMALL,
    progress: Progress = SILENT,
) -> tuple[tuple[Path, ...], UploadResult]:
    """Write the upload sheet to ``path`` and the review beside it (``<name>.review.xlsx``, or
    for ``.csv`` the review and the settings companion).

    The review (with the settings) is written first, so an upload sheet never appears without
    the review that reading it back needs. Each file is written atomically.
    """
    suffix = path.suffix.lower()
    review = review_path(path)
    if suffix == ".xlsx":
        _write_xlsx(sheet, review, lang, progress)
        rows = upload_rows(sheet)
        progress("Writing the upload sheet")
        if template == TEMPLATE_TMALL:
            upload = write_tmall_xlsx(rows, path)
        else:
            upload = fill_template(rows, Path(template), path)
        return (path, review), upload
    if suffix == ".csv":
        if template != TEMPLATE_TMALL:
            raise InputError([Problem("--template", "a template .xlsx is filled into an .xlsx "
                                      "--out; a .csv sheet has the tmall columns",
                                      value=template)])
        companion = _write_csv(sheet, review, lang)
        upload = write_tmall_csv(upload_rows(sheet), path)
        return (path, review, companion), upload
    raise InputError([Problem(str(path), "a submission sheet ends in .xlsx or .csv",
                              value=path.suffix)])


@dataclass(frozen=True)
class ExportResult:
    """What was written, and what was removed on the way."""

    sheet: SubmissionSheet
    paths: tuple[Path, ...]
    upload: UploadResult | None = None


def export_plan(
    context: PlanContext, out: Path, options: ExportOptions | None = None,
    progress: Progress = SILENT,
) -> ExportResult:
    """Judge the plan, then write its submission sheet to ``out`` (nothing written on refusal)."""
    options = options or ExportOptions()
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError([Problem(str(out), "a submission sheet ends in .xlsx or .csv",
                                  value=out.suffix)])
    sheet = prepare_sheet(context, options, progress)
    paths, upload = write_sheet(sheet, out, options.lang, options.template, progress)
    return ExportResult(sheet=sheet, paths=paths, upload=upload)
