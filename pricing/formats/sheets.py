"""The platform's submission sheet (商品报名表): its columns, safe text, and reading it back.

Columns and settings
    :data:`SHEET_COLUMNS` (key, Chinese and English header) and the settings sheet's rows
    (:data:`SETTING_KEYS`) are shared by the writer (:mod:`pricing.outputs.export`) and the
    reader here.

Spreadsheet text
    Text cells are written as text. A value that a spreadsheet could take for a formula (one
    starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: in
    ``.xlsx`` it is a string cell with Excel's quote prefix (shown as typed, never evaluated, the
    value itself unchanged); in ``.csv`` it gets a leading apostrophe ``'``, and so does any value
    that already starts with one, so that reading strips exactly one apostrophe and gets the
    original back (:func:`csv_safe_text`, :func:`csv_text_back`).

Prices of a plan (:class:`PlanPrices`)
    What the exact checker needs from a plan: each joining SKU's activity price, the buy-two-
    get-one members and the store's coupon tiers, from a plan (:meth:`PlanPrices.of_plan`) or
    read back from a sheet written by ``price-opt export``:

    * ``.xlsx``: the first sheet (one row per joining SKU; Chinese or English headers) and the
      settings sheet ``店铺设置`` / ``Store settings`` (coupon tiers, buy-two-get-one);
    * ``.csv``: the sheet, plus its **companion** ``<name>.settings.csv`` beside it, which holds
      the same settings rows as the ``.xlsx`` settings sheet. The companion is required: the
      sheet itself stays a plain one-table CSV that any importer reads, and the coupon tiers
      live in one place. A missing companion is an input error that names the file expected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from models.money import MONEY_HINT, MoneyFormatError, to_fen
from models.plan import Plan
from models.rules import CouponTier, PiecesOffer
from pricing.errors import InputError, Problem
from pricing.formats.atomic import write_text_atomic
from pricing.formats.tables import read_csv_rows, workbook_rows, yes_no
from pricing.formats.tiers import TierTextError, parse_offer, parse_tier

# --- spreadsheet text ---------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (or a DDE call)."""
    return text.startswith(FORMULA_STARTS)


def csv_safe_text(text: str) -> str:
    """``text`` for a CSV cell: a leading ``'`` if it could run as a formula or starts with one."""
    return "'" + text if starts_like_formula(text) or text.startswith("'") else text


def csv_text_back(text: str) -> str:
    """The original of a :func:`csv_safe_text` cell: one leading apostrophe removed."""
    return text[1:] if text.startswith("'") else text


def xlsx_text(text: str) -> str:
    """``text`` as an ``.xlsx`` cell can hold it: XML-illegal control characters become U+FFFD,
    and a carriage return becomes a line feed (XML readers normalise it so anyway)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _XLSX_ILLEGAL.sub("\ufffd", text)


def sheet_safe(text: str) -> bool:
    """Whether ``text`` survives a sheet unchanged (no control character but tab and newline)."""
    return xlsx_text(text) == text


# --- the submission sheet's columns and settings (shared with pricing.outputs.export) -------------


@dataclass(frozen=True)
class SheetColumn:
    """A column of the submission sheet: its key and its Chinese and English headers."""

    key: str
    zh: str
    en: str

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


SHEET_COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("item_id", "商品ID", "Item ID"),
    SheetColumn("sku_id", "SKU ID", "SKU ID"),
    SheetColumn("sku", "SKU", "SKU"),
    SheetColumn("title", "商品标题", "Title"),
    SheetColumn("list_price", "日常价", "List price"),
    SheetColumn("activity_price", "活动价", "Activity price"),
    SheetColumn("discount", "折扣", "Discount"),
    SheetColumn("activity_stock", "活动库存", "Activity stock"),
    SheetColumn("expected_units", "预计销量", "Expected units"),
    SheetColumn("stock", "库存", "Stock"),
    SheetColumn("purchase_limit", "每人限购", "Limit per buyer"),
    SheetColumn("b2g1", "买二送一", "Buy 2 get 1"),
    SheetColumn("super_instant", "超级立减让利比例", "Super instant %"),
    SheetColumn("lowest_paid", "最低到手价", "Lowest paid price"),
    SheetColumn("worst_unit_margin", "单件最低毛利", "Worst unit margin"),
    SheetColumn("meets_signup", "是否满足报名规则", "Meets sign-up rules"),
)
SETTINGS_SHEET = {"zh": "店铺设置", "en": "Store settings"}
SETTINGS_HEADER = {"zh": ("项目", "值", "说明"), "en": ("Setting", "Value", "Note")}
SETTING_KEYS: dict[str, dict[str, str]] = {
    "coupon": {"zh": "店铺优惠券", "en": "Store coupon"},
    "b2g1": {"zh": "买二送一", "en": "Buy 2 get 1"},
    "coupon_excluded": {"zh": "店铺券不含", "en": "Coupons exclude"},
    "official_opt_out": {"zh": "不生效官方立减", "en": "Official discount opt-out"},
    "known_loser": {"zh": "日常价亏本商品", "en": "Loses at everyday price"},
    "pieces_offer": {"zh": "多件优惠", "en": "Multi-piece offer"},
}
YES = {"zh": "是", "en": "yes"}
NO = {"zh": "否", "en": "no"}
NONE = {"zh": "无", "en": "none"}


def companion_settings_path(sheet_path: Path) -> Path:
    """Where a CSV sheet's settings live: ``报名表.csv`` (or its review ``报名表.review.csv``)
    → ``报名表.settings.csv``."""
    return sheet_path.with_name(f"{sheet_path.stem.removesuffix(REVIEW_SUFFIX)}.settings.csv")


REVIEW_SUFFIX = ".review"


def review_path(upload_path: Path) -> Path:
    """Where the review of an upload sheet lives: ``报名表.xlsx`` → ``报名表.review.xlsx``
    (the internal figures and the store settings, never uploaded)."""
    return upload_path.with_name(f"{upload_path.stem}{REVIEW_SUFFIX}{upload_path.suffix}")


def tier_text(tier: CouponTier) -> str:
    """A coupon tier as the settings sheet writes it: ``299-20`` (spend 299 save 20)."""
    return tier.label


# --- a plan's prices, and reading them back from a sheet ------------------------------------


@dataclass(frozen=True)
class PlanPrices:
    """What the checker needs from a plan: joining SKUs' prices, B2G1 members, coupon tiers."""

    prices_fen: dict[str, int]  # activity price of every joining SKU
    joins: frozenset[str]
    b2g1_members: frozenset[str]
    coupon_tiers: tuple[CouponTier, ...]
    source: str = field(default="", compare=False)
    coupon_excluded: frozenset[str] = frozenset()  # products the store coupons do not cover
    known_losers: frozenset[str] = frozenset()  # lose at their everyday price (the plan says)
    pieces_offer: PiecesOffer | None = None  # the store-wide multi-piece offer, if any
    # 超级立减: the rate of each joining SKU that runs one.
    super_instant: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of_plan(cls, plan: Plan, source: str = "") -> PlanPrices:
        """The prices a plan sets (joining products only)."""
        joining = [d for d in plan.products if d.joins]
        return cls(
            prices_fen={d.sku: d.activity_price_fen for d in joining},
            joins=frozenset(d.sku for d in joining),
            b2g1_members=frozenset(d.sku for d in joining if d.b2g1),
            coupon_tiers=tuple(sorted(plan.coupon_tiers, key=lambda t: t.threshold_fen)),
            source=source,
            coupon_excluded=frozenset(plan.coupon_excluded),
            known_losers=frozenset(
                e.sku for e in plan.excluded if e.reason.value == "loses_at_everyday_price"
            ),
            pieces_offer=plan.pieces_offer,
            super_instant={d.sku: d.super_instant_rate for d in joining
                           if d.super_instant_rate is not None},
        )


def _header_key(text: str) -> str | None:
    wanted = text.strip().casefold()
    for column in SHEET_COLUMNS:
        if wanted in {column.zh.casefold(), column.en.casefold(), column.key}:
            return column.key
    return None


def _cell_text(value: object, from_csv: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if from_csv and text.startswith('="') and text.endswith('"'):
        return text[2:-1]  # an ID kept as text for Excel (="5012345600001")
    return csv_text_back(text) if from_csv else text


SUPER_INSTANT_EXPECTED = "expected a percentage from 10 to below 50 (10 for 10%), or empty"


def _super_instant_rate(text: str) -> Decimal | None:
    """A 让利比例 cell: the percentage as the super-instant template writes it (10 for 10%)."""
    try:
        rate = Decimal(text.strip().removesuffix("%")) / 100
    except InvalidOperation:
        raise ValueError(SUPER_INSTANT_EXPECTED) from None
    if not rate.is_finite() or not (Decimal("0.10") <= rate < Decimal("0.50")):
        raise ValueError(SUPER_INSTANT_EXPECTED)
    return rate.normalize()


def _parse_super_instant(
    rows: list[list[object]], source: str, from_csv: bool
) -> tuple[dict[str, Decimal], list[Problem]]:
    """The sheet's 超级立减让利比例 column (absent in older sheets: no super instant)."""
    if not rows:
        return {}, []
    columns = {_header_key(_cell_text(h, from_csv)): i for i, h in enumerate(rows[0])}
    if "super_instant" not in columns or "sku" not in columns:
        return {}, []
    rates: dict[str, Decimal] = {}
    problems: list[Problem] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(value, from_csv) for value in row] + [""] * len(rows[0])
        text = cells[columns["super_instant"]].strip()
        if not text:
            continue
        try:
            rate = _super_instant_rate(text)
        except ValueError as error:
            problems.append(Problem(source, str(error), row=number,
                                    column=str(rows[0][columns["super_instant"]]), value=text))
            continue
        if rate is not None:
            rates[cells[columns["sku"]]] = rate
    return rates, problems


def _parse_sheet(
    rows: list[list[object]], source: str, from_csv: bool
) -> tuple[dict[str, int], frozenset[str], list[Problem]]:
    problems: list[Problem] = []
    if not rows:
        return {}, frozenset(), [Problem(source, "the sheet is empty; expected a header row")]
    columns: dict[str, int] = {}
    for position, header in enumerate(rows[0]):
        key = _header_key(_cell_text(header, from_csv))
        if key is not None and key not in columns:
            columns[key] = position
    missing = [c for c in SHEET_COLUMNS if c.key in {"sku", "activity_price", "b2g1"}
               and c.key not in columns]
    if missing:
        names = ", ".join(f"{c.zh} ({c.en})" for c in missing)
        return {}, frozenset(), [Problem(source, f"missing column(s) {names}", row=1)]
    prices: dict[str, int] = {}
    members: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(value, from_csv) for value in row]
        if not any(cell.strip() for cell in cells):
            continue

        def cell(key: str, cells: list[str] = cells) -> str:
            position = columns[key]
            return cells[position] if position < len(cells) else ""

        sku = cell("sku")
        if not sku:
            problems.append(Problem(source, "missing SKU", row=number, column="SKU"))
            continue
        if sku in prices:
            problems.append(Problem(source, "the same SKU appears twice", row=number,
                                    column="SKU", value=sku))
            continue
        header = rows[0][columns["activity_price"]]
        price_text = cell("activity_price")
        try:
            price = to_fen(price_text)
            if price <= 0:
                raise MoneyFormatError("must be positive")
        except MoneyFormatError as error:
            problems.append(Problem(source, f"{error}; expected {MONEY_HINT}", row=number,
                                    column=str(header), value=price_text))
            continue
        flag = yes_no(cell("b2g1"))
        if flag is None:
            problems.append(Problem(source, "expected 是/否 (yes/no)", row=number,
                                    column=str(rows[0][columns["b2g1"]]), value=cell("b2g1")))
            continue
        prices[sku] = price
        if flag:
            members.add(sku)
    return prices, frozenset(members), problems


def _parse_scopes(
    rows: list[list[object]], from_csv: bool
) -> tuple[frozenset[str], frozenset[str]]:
    """The settings' 店铺券不含 (coupon-excluded) and 日常价亏本商品 (known loser) SKUs."""
    wanted = {
        key: {name.casefold() for name in SETTING_KEYS[key].values()}
        for key in ("coupon_excluded", "known_loser")
    }
    found: dict[str, set[str]] = {key: set() for key in wanted}
    for row in rows[1:]:
        cells = [_cell_text(value, from_csv).strip() for value in row] + ["", ""]
        for key, names in wanted.items():
            if cells[0].casefold() in names and cells[1]:
                found[key].add(cells[1])
    return frozenset(found["coupon_excluded"]), frozenset(found["known_loser"])


def _parse_settings(
    rows: list[list[object]], source: str, from_csv: bool
) -> tuple[tuple[CouponTier, ...], bool | None, list[Problem]]:
    coupon_names = {name.casefold() for name in SETTING_KEYS["coupon"].values()}
    b2g1_names = {name.casefold() for name in SETTING_KEYS["b2g1"].values()}
    nones = {name.casefold() for name in NONE.values()} | {""}
    problems: list[Problem] = []
    tiers: list[CouponTier] = []
    coupon_rows = 0
    store_b2g1: bool | None = None
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(value, from_csv).strip() for value in row] + ["", ""]
        key, value = cells[0].casefold(), cells[1]
        if key in coupon_names:
            coupon_rows += 1
            if value.casefold() in nones:
                continue
            try:
                tiers.append(parse_tier(value))
            except TierTextError as error:
                problems.append(Problem(source, str(error), row=number, column=cells[0],
                                        value=value))
        elif key in b2g1_names:
            store_b2g1 = yes_no(value)
            if store_b2g1 is None:
                problems.append(Problem(source, "expected 是/否 (yes/no)", row=number,
                                        column=cells[0], value=value))
    if not coupon_rows:
        problems.append(Problem(
            source, "no 店铺优惠券 (Store coupon) row; the settings must list the coupon tiers, "
            "or 无 (none)",
        ))
    if store_b2g1 is None and not problems:
        problems.append(Problem(source, "no 买二送一 (Buy 2 get 1) row saying 是/否 (yes/no)"))
    thresholds = [tier.threshold_fen for tier in tiers]
    if len(set(thresholds)) != len(thresholds):
        problems.append(Problem(source, "two coupon tiers share a threshold"))
    return tuple(sorted(tiers, key=lambda t: t.threshold_fen)), store_b2g1, problems


def _settings_sheet_name(sheetnames: Sequence[str]) -> str | None:
    for name in SETTINGS_SHEET.values():
        if name in sheetnames:
            return name
    return None


def _plan_prices_of_sheet(
    sheet_rows: list[list[object]],
    settings_rows: list[list[object]],
    sheet_source: str,
    settings_source: str,
    from_csv: bool,
) -> PlanPrices:
    prices, members, problems = _parse_sheet(sheet_rows, sheet_source, from_csv)
    super_instant, super_problems = _parse_super_instant(sheet_rows, sheet_source, from_csv)
    problems += super_problems
    tiers, store_b2g1, setting_problems = _parse_settings(
        settings_rows, settings_source, from_csv
    )
    problems += setting_problems
    if not problems and store_b2g1 is not None and store_b2g1 != bool(members):
        problems.append(Problem(
            settings_source,
            f"says buy-two-get-one is {'on' if store_b2g1 else 'off'}, but "
            f"{len(members)} product(s) of the sheet are marked 买二送一",
        ))
    if problems:
        raise InputError(problems)
    coupon_excluded, known_losers = _parse_scopes(settings_rows, from_csv)
    offer = _parse_offer(settings_rows, settings_source, from_csv)
    if members and offer is not None:
        raise InputError([Problem(settings_source, "runs a multi-piece offer and "
                                  "buy-two-get-one; a store runs one multi-piece offer")])
    return PlanPrices(prices_fen=prices, joins=frozenset(prices), b2g1_members=members,
                      coupon_tiers=tiers, source=sheet_source, coupon_excluded=coupon_excluded,
                      known_losers=known_losers, pieces_offer=offer,
                      super_instant={sku: rate for sku, rate in super_instant.items()
                                     if sku in prices})


def _parse_offer(
    rows: list[list[object]], source: str, from_csv: bool
) -> PiecesOffer | None:
    """The settings' 多件优惠 row (none: no offer; older sheets have no such row)."""
    names = {name.casefold() for name in SETTING_KEYS["pieces_offer"].values()}
    nones = {name.casefold() for name in NONE.values()} | {""}
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(value, from_csv).strip() for value in row] + ["", ""]
        if cells[0].casefold() not in names or cells[1].casefold() in nones:
            continue
        try:
            return parse_offer(cells[1])
        except TierTextError as error:
            raise InputError([Problem(source, str(error), row=number, column=cells[0],
                                      value=cells[1])]) from None
    return None


def plan_prices_of_workbook(workbook: Any, path: Path) -> PlanPrices:
    """The prices of an open ``.xlsx`` submission sheet: its first sheet and its settings."""
    settings_name = _settings_sheet_name(workbook.sheetnames)
    if settings_name is None:
        raise InputError([Problem(
            str(path),
            "no 店铺设置 (Store settings) sheet: the coupon tiers and buy-two-get-one "
            "are unknown; use a sheet written by `price-opt export`",
        )])
    first = workbook[workbook.sheetnames[0]]
    return _plan_prices_of_sheet(
        workbook_rows(first), workbook_rows(workbook[settings_name]),
        str(path), f"{path} [{settings_name}]", from_csv=False,
    )


def plan_prices_of_csv(path: Path) -> PlanPrices:
    """The prices of a ``.csv`` submission sheet and its companion settings file."""
    companion = companion_settings_path(path)
    sheet_rows = read_csv_rows(path)
    if not companion.is_file():
        raise InputError([Problem(
            str(path),
            f"the coupon tiers and buy-two-get-one of a CSV sheet live in its companion "
            f"{companion.name}, which is missing; keep it beside the sheet (export writes "
            "both), or pass the plan JSON or the .xlsx sheet",
        )])
    return _plan_prices_of_sheet(
        sheet_rows, read_csv_rows(companion), str(path), str(companion), from_csv=True
    )


def write_rows_csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """Write rows as CSV, UTF-8 with a BOM (so Excel reads Chinese), atomically."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue(), encoding="utf-8-sig")
