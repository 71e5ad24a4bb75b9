"""The plan file, and reading a plan's prices back from a plan or an exported sheet.

Plan JSON (the public format ``price-opt plan`` writes; see the README)
    One object; money as yuan strings with two decimals (``"199.90"``, negative where a margin
    or profit is negative), rates and levels as decimal strings, forecasts as JSON numbers.
    :func:`plan_to_json` and :func:`plan_from_json` are inverse: plan → JSON → plan is the
    identity. :func:`plan_from_json` reports every bad field at once, by its JSON path
    (``products[3].activity_price``), as one :class:`~pricing.errors.InputError`.

Plan workbook (``.xlsx``)
    The same plan for people: a ``summary`` sheet, a ``products`` sheet with the JSON's
    product fields, and a hidden ``plan.json`` sheet holding the JSON itself (split in cells),
    which is what :func:`read_plan` reads back.

Prices of a plan (:class:`PlanPrices`)
    What the exact checker needs from a plan: each joining SKU's activity price, the buy-two-
    get-one members and the store's coupon tiers. :func:`load_plan_prices` reads them from a plan
    (``.json``/plan ``.xlsx``) or from a submission sheet written by ``price-opt export``:

    * ``.xlsx``: the first sheet (one row per joining SKU; Chinese or English headers) and the
      settings sheet ``店铺设置`` / ``Store settings`` (coupon tiers, buy-two-get-one);
    * ``.csv``: the sheet, plus its **companion** ``<name>.settings.csv`` beside it, which holds
      the same settings rows as the ``.xlsx`` settings sheet. The companion is required: the
      sheet itself stays a plain one-table CSV that any importer reads, and the coupon tiers
      live in one place. A missing companion is an input error that names the file expected.

Spreadsheet text
    Text cells are written as text. A value that a spreadsheet could take for a formula (one
    starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: in
    ``.xlsx`` it is a string cell with Excel's quote prefix (shown as typed, never evaluated, the
    value itself unchanged); in ``.csv`` it gets a leading apostrophe ``'``, and so does any value
    that already starts with one, so that reading strips exactly one apostrophe and gets the
    original back (:func:`csv_safe_text`, :func:`csv_text_back`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.money import MoneyFormatError, format_yuan, to_fen
from models.plan import Plan, PlanInputs, PlanStatus, ProductDecision, SolverInfo
from models.product import Product
from models.rules import CouponTier, Rules
from pricing.errors import InputError, Problem
from pricing.formats.atomic import save_workbook_atomic, write_text_atomic
from pricing.verify.checker import StoreSetup

PLAN_FORMAT_VERSION = 1
_Model = TypeVar("_Model", bound=BaseModel)
_MONEY_HINT = 'an amount in yuan with at most two decimals, e.g. "199.00"'

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
    SheetColumn("sku", "SKU", "SKU"),
    SheetColumn("title", "商品标题", "Title"),
    SheetColumn("list_price", "日常价", "List price"),
    SheetColumn("activity_price", "活动价", "Activity price"),
    SheetColumn("discount", "折扣", "Discount"),
    SheetColumn("activity_stock", "活动库存", "Activity stock"),
    SheetColumn("purchase_limit", "每人限购", "Limit per buyer"),
    SheetColumn("b2g1", "买二送一", "Buy 2 get 1"),
    SheetColumn("lowest_paid", "最低到手价", "Lowest paid price"),
    SheetColumn("worst_unit_margin", "单件最低毛利", "Worst unit margin"),
    SheetColumn("meets_signup", "是否满足报名规则", "Meets sign-up rules"),
)
SETTINGS_SHEET = {"zh": "店铺设置", "en": "Store settings"}
SETTINGS_HEADER = {"zh": ("项目", "值", "说明"), "en": ("Setting", "Value", "Note")}
SETTING_KEYS: dict[str, dict[str, str]] = {
    "coupon": {"zh": "店铺优惠券", "en": "Store coupon"},
    "b2g1": {"zh": "买二送一", "en": "Buy 2 get 1"},
}
YES = {"zh": "是", "en": "yes"}
NO = {"zh": "否", "en": "no"}
NONE = {"zh": "无", "en": "none"}
_YES_NO = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False,
           "true": True, "false": False, "1": True, "0": False}
_TIER_TEXT = re.compile(
    r"^\s*满?\s*(\d{1,9}(?:\.\d{1,2})?)\s*[-减]\s*(\d{1,9}(?:\.\d{1,2})?)\s*(?:元)?\s*$"
)


def companion_settings_path(sheet_path: Path) -> Path:
    """Where a CSV sheet's settings live: ``报名表.csv`` → ``报名表.settings.csv``."""
    return sheet_path.with_name(f"{sheet_path.stem}.settings.csv")


def tier_text(tier: CouponTier) -> str:
    """A coupon tier as the settings sheet writes it: ``299-20`` (spend 299 save 20)."""
    return tier.label


# --- plan JSON: writing ----------------------------------------------------------------------


def _tier_json(tier: CouponTier) -> dict[str, str]:
    return {"threshold": format_yuan(tier.threshold_fen), "amount": format_yuan(tier.amount_fen)}


def _finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: an unknown or unbounded gap is written as null."""
    return value if value is not None and math.isfinite(value) else None


def _decision_json(decision: ProductDecision) -> dict[str, Any]:
    return {
        "sku": decision.sku,
        "item_id": decision.item_id,
        "title": decision.title,
        "joins": decision.joins,
        "list_price": format_yuan(decision.list_price_fen),
        "activity_price": format_yuan(decision.activity_price_fen),
        "discount": str(decision.discount),
        "level": str(decision.level),
        "b2g1": decision.b2g1,
        "expected_units": decision.expected_units,
        "expected_revenue": format_yuan(decision.expected_revenue_fen),
        "expected_profit": format_yuan(decision.expected_profit_fen),
        "worst_unit_margin": format_yuan(decision.worst_unit_margin_fen),
        "meets_signup": decision.meets_signup,
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The public JSON form of a plan (what :func:`plan_from_json` reads back)."""
    solver = plan.solver
    inputs = plan.inputs
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "status": plan.status.value,
        "objective": format_yuan(plan.objective_fen),
        "expected_revenue": format_yuan(plan.expected_revenue_fen),
        "baseline_profit": format_yuan(plan.baseline_profit_fen),
        "baseline_revenue": format_yuan(plan.baseline_revenue_fen),
        "expected_discount_spend": format_yuan(plan.expected_discount_spend_fen),
        "solver": {
            "name": solver.name,
            "method": solver.method,
            "status": solver.status,
            "gap": _finite_or_none(solver.gap),
            "seconds": solver.seconds,
            "variables": solver.variables,
            "constraints": solver.constraints,
            "time_limit": _finite_or_none(solver.time_limit),
            "gap_limit": _finite_or_none(solver.gap_limit),
            "candidates_total": solver.candidates_total,
            "candidates_pruned": solver.candidates_pruned,
        },
        "coupon_tiers": [_tier_json(tier) for tier in plan.coupon_tiers],
        "b2g1": plan.b2g1,
        "worst_unit_margin": format_yuan(plan.worst_unit_margin_fen),
        "products": [_decision_json(decision) for decision in plan.products],
        "inputs": None
        if inputs is None
        else {
            "products_file": inputs.products_file,
            "products_sha256": inputs.products_sha256,
            "rules_file": inputs.rules_file,
            "rules_sha256": inputs.rules_sha256,
            "rules": inputs.rules,
            "created_at": inputs.created_at,
            "price_opt_version": inputs.price_opt_version,
        },
    }


def plan_json_text(plan: Plan) -> str:
    """The plan file's text: indented JSON, Chinese kept readable, one trailing newline."""
    return json.dumps(plan_to_json(plan), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# --- plan JSON: reading ----------------------------------------------------------------------


class _Reader:
    """Converts the JSON form into model arguments, collecting every problem on the way."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str, value: object = None) -> None:
        shown = None if value is None else json.dumps(value, ensure_ascii=False)[:80]
        self.problems.append(Problem(self.source, message, column=path, value=shown))

    def obj(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "expected an object", value)
            return {}
        return value

    def keys(
        self, data: Mapping[str, Any], path: str, required: Iterable[str], optional: Iterable[str]
    ) -> None:
        required, optional = set(required), set(optional)
        for key in sorted(required - set(data)):
            self.fail(_join(path, key), "missing")
        for key in sorted(set(data) - required - optional):
            known = ", ".join(sorted(required | optional))
            self.fail(_join(path, key), f"unknown field (known: {known})")

    def money(self, data: Mapping[str, Any], key: str, path: str, minimum: int | None) -> int:
        if key not in data:
            return 0  # reported by keys()
        value = data[key]
        where = _join(path, key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(where, f"expected {_MONEY_HINT}", value)
            return 0
        try:
            fen = to_fen(value)
        except MoneyFormatError as error:
            self.fail(where, f"{error}; expected {_MONEY_HINT}", value)
            return 0
        if minimum is not None and fen < minimum:
            self.fail(where, "must be positive" if minimum > 0 else "must not be negative", value)
        return fen

    def text(self, data: Mapping[str, Any], key: str, path: str, nullable: bool = False) -> Any:
        value = data.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            if key in data:
                self.fail(_join(path, key), "expected text", value)
            return ""
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(_join(path, key), "expected true or false", value)
            return False
        return value

    def number(
        self, data: Mapping[str, Any], key: str, path: str, nullable: bool = False
    ) -> float | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            if key in data or not nullable:
                self.fail(_join(path, key), "expected a number", value)
            return 0.0
        return float(value)

    def whole(self, data: Mapping[str, Any], key: str, path: str) -> int:
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(_join(path, key), "expected a whole number ≥ 0", value)
            return 0
        return value

    def rate(self, data: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidOperation
            rate = Decimal(str(value).strip())
            if not rate.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.fail(_join(path, key), 'expected a decimal share, e.g. "0.75"', value)
            return None
        return rate

    def build(self, model: type[_Model], fields: dict[str, Any], path: str) -> _Model | None:
        """``model(**fields)``, or None with the model's complaints recorded under ``path``."""
        try:
            return model(**fields)
        except ValidationError as error:
            for issue in error.errors():
                where = ".".join([path, *(str(part) for part in issue["loc"])]).strip(".")
                message = str(issue["msg"]).removeprefix("Value error, ")
                self.problems.append(Problem(self.source, message, column=where or None))
            return None

    def tier(self, value: object, path: str) -> dict[str, int]:
        data = self.obj(value, path)
        self.keys(data, path, ("threshold", "amount"), ())
        return {
            "threshold_fen": self.money(data, "threshold", path, minimum=0),
            "amount_fen": self.money(data, "amount", path, minimum=1),
        }


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_PLAN_KEYS = (
    "status", "objective", "expected_revenue", "baseline_profit", "baseline_revenue",
    "expected_discount_spend", "solver", "coupon_tiers", "b2g1", "worst_unit_margin", "products",
)
_SOLVER_KEYS = ("name", "method", "status", "gap", "seconds")
_SOLVER_OPTIONAL = (
    "variables", "constraints", "time_limit", "gap_limit", "candidates_total", "candidates_pruned",
)
_PRODUCT_KEYS = (
    "sku", "joins", "list_price", "activity_price", "level", "expected_units",
    "expected_revenue", "expected_profit", "worst_unit_margin",
)
_PRODUCT_OPTIONAL = ("item_id", "title", "discount", "b2g1", "meets_signup")
_INPUT_KEYS = (
    "products_file", "products_sha256", "rules_file", "rules_sha256", "rules", "created_at",
    "price_opt_version",
)


def _solver(reader: _Reader, value: object) -> dict[str, Any]:
    data = reader.obj(value, "solver")
    reader.keys(data, "solver", _SOLVER_KEYS, _SOLVER_OPTIONAL)
    return {
        "name": reader.text(data, "name", "solver"),
        "method": reader.text(data, "method", "solver"),
        "status": reader.text(data, "status", "solver"),
        "gap": reader.number(data, "gap", "solver", nullable=True),
        "seconds": reader.number(data, "seconds", "solver"),
        "variables": reader.whole(data, "variables", "solver"),
        "constraints": reader.whole(data, "constraints", "solver"),
        "time_limit": reader.number(data, "time_limit", "solver", nullable=True),
        "gap_limit": reader.number(data, "gap_limit", "solver", nullable=True),
        "candidates_total": reader.whole(data, "candidates_total", "solver"),
        "candidates_pruned": reader.whole(data, "candidates_pruned", "solver"),
    }


def _decision(reader: _Reader, value: object, path: str) -> dict[str, Any]:
    data = reader.obj(value, path)
    reader.keys(data, path, _PRODUCT_KEYS, _PRODUCT_OPTIONAL)
    sku = reader.text(data, "sku", path)
    if "sku" in data and not sku:
        reader.fail(_join(path, "sku"), "must not be empty")
    level = reader.rate(data, "level", path)
    if level is not None and not (0 < level <= 1):
        reader.fail(_join(path, "level"), "expected a share of the everyday price in (0, 1]",
                    data["level"])
        level = None
    discount = reader.rate(data, "discount", path)
    if discount is not None and level is not None and discount != 1 - level:
        reader.fail(_join(path, "discount"), f"must be 1 − level = {1 - level}", data["discount"])
    units = reader.number(data, "expected_units", path)
    if units is not None and units < 0:
        reader.fail(_join(path, "expected_units"), "must not be negative", units)
    return {
        "sku": sku,
        "item_id": reader.text(data, "item_id", path),
        "title": reader.text(data, "title", path),
        "joins": reader.flag(data, "joins", path),
        "list_price_fen": reader.money(data, "list_price", path, minimum=1),
        "activity_price_fen": reader.money(data, "activity_price", path, minimum=0),
        "level": level if level is not None else Decimal(1),
        "b2g1": reader.flag(data, "b2g1", path),
        "expected_units": max(units or 0.0, 0.0),
        "expected_revenue_fen": reader.money(data, "expected_revenue", path, minimum=None),
        "expected_profit_fen": reader.money(data, "expected_profit", path, minimum=None),
        "worst_unit_margin_fen": reader.money(data, "worst_unit_margin", path, minimum=None),
        "meets_signup": reader.flag(data, "meets_signup", path) if "meets_signup" in data
        else True,
    }


def _inputs(reader: _Reader, value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    data = reader.obj(value, "inputs")
    reader.keys(data, "inputs", _INPUT_KEYS, ())
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        reader.fail("inputs.rules", "expected an object (the rules file's sections)", rules)
        rules = {}
    return {
        "products_file": reader.text(data, "products_file", "inputs"),
        "products_sha256": reader.text(data, "products_sha256", "inputs"),
        "rules_file": reader.text(data, "rules_file", "inputs", nullable=True),
        "rules_sha256": reader.text(data, "rules_sha256", "inputs", nullable=True),
        "rules": rules,
        "created_at": reader.text(data, "created_at", "inputs"),
        "price_opt_version": reader.text(data, "price_opt_version", "inputs"),
    }


def plan_from_json(data: object, source: str = "plan") -> Plan:
    """Build a plan from its JSON form, reporting every bad field at once (by JSON path)."""
    reader = _Reader(source)
    root = reader.obj(data, "")
    reader.keys(root, "", _PLAN_KEYS, ("format_version", "inputs"))
    version = root.get("format_version", PLAN_FORMAT_VERSION)
    if version != PLAN_FORMAT_VERSION:
        reader.fail("format_version", f"this price-opt reads plan format {PLAN_FORMAT_VERSION}",
                    version)
    status = root.get("status")
    if "status" in root and status not in {s.value for s in PlanStatus}:
        reader.fail("status", f"expected one of {', '.join(s.value for s in PlanStatus)}", status)
    tiers_raw = root.get("coupon_tiers", [])
    if not isinstance(tiers_raw, list):
        reader.fail("coupon_tiers", "expected a list of {threshold, amount}", tiers_raw)
        tiers_raw = []
    tiers = [reader.tier(t, f"coupon_tiers[{i}]") for i, t in enumerate(tiers_raw)]
    products_raw = root.get("products", [])
    if not isinstance(products_raw, list):
        reader.fail("products", "expected a list of products", products_raw)
        products_raw = []
    decisions = [_decision(reader, p, f"products[{i}]") for i, p in enumerate(products_raw)]
    seen: set[str] = set()
    for i, decision in enumerate(decisions):
        if decision["sku"] in seen:
            reader.fail(f"products[{i}].sku", "the same SKU appears twice", decision["sku"])
        seen.add(decision["sku"])
    fields: dict[str, Any] = {
        "status": PlanStatus(status) if status in {s.value for s in PlanStatus}
        else PlanStatus.OPTIMAL,
        "objective_fen": reader.money(root, "objective", "", minimum=None),
        "expected_revenue_fen": reader.money(root, "expected_revenue", "", minimum=None),
        "baseline_profit_fen": reader.money(root, "baseline_profit", "", minimum=None),
        "baseline_revenue_fen": reader.money(root, "baseline_revenue", "", minimum=None),
        "expected_discount_spend_fen": reader.money(
            root, "expected_discount_spend", "", minimum=None
        ),
        "solver": _solver(reader, root.get("solver", {})),
        "coupon_tiers": tiers,
        "b2g1": reader.flag(root, "b2g1", ""),
        "worst_unit_margin_fen": reader.money(root, "worst_unit_margin", "", minimum=None),
        "products": decisions,
        "inputs": _inputs(reader, root.get("inputs")),
    }
    if reader.problems:
        raise InputError(reader.problems)
    solver = reader.build(SolverInfo, fields["solver"], "solver")
    tiers_built = [
        reader.build(CouponTier, tier, f"coupon_tiers[{i}]")
        for i, tier in enumerate(fields["coupon_tiers"])
    ]
    products_built = [
        reader.build(ProductDecision, d, f"products[{i}]") for i, d in enumerate(decisions)
    ]
    inputs_built = (
        None if fields["inputs"] is None else reader.build(PlanInputs, fields["inputs"], "inputs")
    )
    if reader.problems:
        raise InputError(reader.problems)
    plan = reader.build(Plan, {
        **fields, "solver": solver, "coupon_tiers": tuple(tiers_built),
        "products": tuple(products_built), "inputs": inputs_built,
    }, "")
    if reader.problems or not isinstance(plan, Plan):
        raise InputError(reader.problems)
    return plan


# --- plan files ------------------------------------------------------------------------------

PLAN_JSON_SHEET = "plan.json"
_CELL_CHARS = 30_000  # below Excel's 32,767 characters per cell


def _write_plan_workbook(plan: Plan, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    document = plan_to_json(plan)
    workbook = Workbook()
    summary = workbook.active
    summary.title = "summary"
    summary.append(["field", "value"])
    for key, value in document.items():
        if key in {"products", "inputs", "solver", "coupon_tiers"}:
            continue
        summary.append([key, value])
    summary.append(["coupon_tiers", ", ".join(t.label for t in plan.coupon_tiers) or "none"])
    for key, value in document["solver"].items():
        summary.append([f"solver.{key}", value])
    for key, value in (document["inputs"] or {}).items():
        summary.append(
            [f"inputs.{key}", json.dumps(value, ensure_ascii=False) if key == "rules" else value]
        )
    products = workbook.create_sheet("products")
    columns = list(_decision_json(plan.products[0]) if plan.products else {})
    products.append(columns)
    for decision in document["products"]:
        products.append([decision[column] for column in columns])
    for sheet in (summary, products):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = xlsx_text(cell.value)
                    cell.data_type = "s"
                    cell.quotePrefix = starts_like_formula(cell.value)
        sheet.freeze_panes = "A2"
    raw = workbook.create_sheet(PLAN_JSON_SHEET)
    raw.sheet_state = "hidden"
    text = json.dumps(document, ensure_ascii=True, allow_nan=False)  # ASCII: no control chars
    for number, start in enumerate(range(0, len(text), _CELL_CHARS), start=1):
        raw.cell(row=number, column=1, value=text[start:start + _CELL_CHARS]).data_type = "s"
    save_workbook_atomic(workbook, path)


def write_plan(plan: Plan, path: Path) -> None:
    """Write the plan atomically: JSON for ``.json``, a workbook for ``.xlsx``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_text_atomic(path, plan_json_text(plan))
    elif suffix == ".xlsx":
        _write_plan_workbook(plan, path)
    else:
        raise InputError(
            [Problem(str(path), "a plan file ends in .json or .xlsx", value=path.suffix)]
        )


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(path), f"cannot read the file: {error}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            [Problem(str(path), f"not valid JSON: {error.msg}", row=error.lineno)]
        ) from None


def _open_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    if not path.is_file():
        raise InputError([Problem(str(path), "file not found")])
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(
            [Problem(str(path), f"not a readable .xlsx workbook: {error}")]
        ) from None


def _plan_from_workbook(workbook: Any, path: Path) -> Plan:
    sheet = workbook[PLAN_JSON_SHEET]
    text = "".join(
        str(row[0]) for row in sheet.iter_rows(values_only=True) if row and row[0] is not None
    )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            [Problem(str(path), f"the {PLAN_JSON_SHEET} sheet is not valid JSON: {error.msg}")]
        ) from None
    return plan_from_json(data, str(path))


def read_plan(path: Path) -> Plan:
    """Read a plan file written by :func:`write_plan` (``.json`` or plan ``.xlsx``)."""
    if path.suffix.lower() == ".xlsx":
        workbook = _open_workbook(path)
        try:
            if PLAN_JSON_SHEET not in workbook.sheetnames:
                raise InputError([Problem(
                    str(path),
                    "not a plan workbook (it has no 'plan.json' sheet); a submission sheet is"
                    " read by `check --plan`, a plan by `export`/`report`",
                )])
            return _plan_from_workbook(workbook, path)
        finally:
            workbook.close()
    return plan_from_json(_read_json(path), str(path))


# --- a plan's prices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPrices:
    """What the checker needs from a plan: joining SKUs' prices, B2G1 members, coupon tiers."""

    prices_fen: dict[str, int]  # activity price of every joining SKU
    joins: frozenset[str]
    b2g1_members: frozenset[str]
    coupon_tiers: tuple[CouponTier, ...]
    source: str = field(default="", compare=False)

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
        )


def store_setup(plan_prices: PlanPrices, products: Sequence[Product], rules: Rules) -> StoreSetup:
    """The store under the plan: joining SKUs at their activity price, the rest at list price.

    Every SKU the plan names must be in ``products``; an unknown one is an input error.
    """
    known = {product.sku for product in products}
    unknown = sorted((plan_prices.joins | plan_prices.b2g1_members) - known)
    if unknown:
        shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
        raise InputError([Problem(
            plan_prices.source or "plan",
            f"{len(unknown)} SKU(s) of the plan are not in the products file: {shown}",
        )])
    return StoreSetup(
        products=tuple(products),
        prices_fen=tuple(
            plan_prices.prices_fen.get(product.sku, product.list_price_fen)
            for product in products
        ),
        coupon_tiers=plan_prices.coupon_tiers,
        b2g1_members=plan_prices.b2g1_members & known,
        rules=rules,
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
    return csv_text_back(text) if from_csv else text


def _yes_no(text: str) -> bool | None:
    return _YES_NO.get(text.strip().casefold())


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
            problems.append(Problem(source, f"{error}; expected {_MONEY_HINT}", row=number,
                                    column=str(header), value=price_text))
            continue
        flag = _yes_no(cell("b2g1"))
        if flag is None:
            problems.append(Problem(source, "expected 是/否 (yes/no)", row=number,
                                    column=str(rows[0][columns["b2g1"]]), value=cell("b2g1")))
            continue
        prices[sku] = price
        if flag:
            members.add(sku)
    return prices, frozenset(members), problems


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
            match = _TIER_TEXT.match(value)
            try:
                if match is None:
                    raise ValueError("expected a tier like 299-20 (spend 299 save 20)")
                tiers.append(CouponTier(threshold_fen=to_fen(match.group(1)),
                                        amount_fen=to_fen(match.group(2))))
            except (ValueError, MoneyFormatError) as error:
                message = (error.errors()[0]["msg"] if isinstance(error, ValidationError)
                           else str(error))
                problems.append(Problem(source, message, row=number, column=cells[0],
                                        value=value))
        elif key in b2g1_names:
            store_b2g1 = _yes_no(value)
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


def _read_csv_rows(path: Path) -> list[list[object]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(str(path), "file not found")]) from None
    except OSError as error:
        raise InputError([Problem(str(path), f"cannot read the file: {error}")]) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InputError([Problem(str(path), "neither UTF-8 nor GBK text")])
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _settings_sheet_name(sheetnames: Sequence[str]) -> str | None:
    for name in SETTINGS_SHEET.values():
        if name in sheetnames:
            return name
    return None


def _rows_of(sheet: Any) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _plan_prices_of_sheet(
    sheet_rows: list[list[object]],
    settings_rows: list[list[object]],
    sheet_source: str,
    settings_source: str,
    from_csv: bool,
) -> PlanPrices:
    prices, members, problems = _parse_sheet(sheet_rows, sheet_source, from_csv)
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
    return PlanPrices(prices_fen=prices, joins=frozenset(prices), b2g1_members=members,
                      coupon_tiers=tiers, source=sheet_source)


def load_plan_prices(path: Path) -> PlanPrices:
    """The prices a plan sets, from a plan (``.json``, plan ``.xlsx``) or a submission sheet.

    A sheet gives the joining SKUs (its rows), their activity prices and B2G1 flags; the coupon
    tiers and B2G1 come from its settings (the ``店铺设置`` sheet of an ``.xlsx``, or the
    ``<name>.settings.csv`` companion of a ``.csv``). Every bad value is reported at once.
    """
    suffix = path.suffix.lower()
    if suffix == ".json":
        return PlanPrices.of_plan(read_plan(path), str(path))
    if suffix == ".xlsx":
        workbook = _open_workbook(path)
        try:
            if PLAN_JSON_SHEET in workbook.sheetnames:
                return PlanPrices.of_plan(_plan_from_workbook(workbook, path), str(path))
            settings_name = _settings_sheet_name(workbook.sheetnames)
            if settings_name is None:
                raise InputError([Problem(
                    str(path),
                    "no 店铺设置 (Store settings) sheet: the coupon tiers and buy-two-get-one "
                    "are unknown; use a sheet written by `price-opt export`",
                )])
            first = workbook[workbook.sheetnames[0]]
            return _plan_prices_of_sheet(
                _rows_of(first), _rows_of(workbook[settings_name]),
                str(path), f"{path} [{settings_name}]", from_csv=False,
            )
        finally:
            workbook.close()
    if suffix == ".csv":
        companion = companion_settings_path(path)
        sheet_rows = _read_csv_rows(path)
        if not companion.is_file():
            raise InputError([Problem(
                str(path),
                f"the coupon tiers and buy-two-get-one of a CSV sheet live in its companion "
                f"{companion.name}, which is missing; keep it beside the sheet (export writes "
                "both), or pass the plan JSON or the .xlsx sheet",
            )])
        return _plan_prices_of_sheet(
            sheet_rows, _read_csv_rows(companion), str(path), str(companion), from_csv=True
        )
    raise InputError([Problem(
        str(path), "expected a plan (.json, .xlsx) or a submission sheet (.xlsx, .csv)",
        value=path.suffix,
    )])


# --- the inputs a plan was made from ------------------------------------------------------


@dataclass(frozen=True)
class PlanContext:
    """A plan with the products and rules to judge it by, and warnings for the user."""

    plan: Plan
    products: tuple[Product, ...]
    rules: Rules
    warnings: tuple[str, ...] = ()


def rules_from_record(record: Mapping[str, Any], source: str) -> Rules:
    """The rules a plan recorded (``inputs.rules``, in the rules file's keys), read back.

    Checked exactly like a rules file (:func:`pricing.formats.inputs.rules_from_document`);
    problems name
    ``<plan> inputs.rules``.
    """
    from pricing.formats.inputs import rules_from_document

    return rules_from_document(record, f"{source} inputs.rules")


def _find_recorded(recorded: str, plan_path: Path | None) -> Path | None:
    candidate = Path(recorded)
    if candidate.is_file():
        return candidate
    if plan_path is not None and not candidate.is_absolute():
        beside = plan_path.parent / candidate
        if beside.is_file():
            return beside
    return None


def plan_context(
    plan: Plan,
    plan_path: Path | None = None,
    products_path: Path | None = None,
    rules_path: Path | None = None,
) -> PlanContext:
    """The products and rules to judge a plan by.

    Products: ``products_path`` if given, else the file the plan records
    (``inputs.products_file``, as given or beside the plan file); a changed file (its SHA-256
    differs) is a warning. Rules: ``rules_path`` if given, else the rules the plan records.
    Every joining SKU must be in the products; a changed everyday price is a warning.
    """
    from pricing.formats.inputs import file_sha256, load_products, load_rules

    source = str(plan_path) if plan_path is not None else "plan"
    warnings: list[str] = []
    inputs = plan.inputs
    if products_path is None:
        if inputs is None or not inputs.products_file:
            raise InputError([Problem(
                source, "the plan does not record its products file; pass --products",
            )])
        found = _find_recorded(inputs.products_file, plan_path)
        if found is None:
            raise InputError([Problem(
                source,
                f"the plan was made from {inputs.products_file}, which is not there any more;"
                " pass --products",
            )])
        products_path = found
        if inputs.products_sha256 and file_sha256(found) != inputs.products_sha256:
            warnings.append(
                f"{found} has changed since the plan was made (its SHA-256 differs)"
            )
    products, problems = load_products(products_path)
    warnings.extend(problem.render() for problem in problems)
    if rules_path is not None:
        rules = load_rules(rules_path)
    elif inputs is not None and inputs.rules:
        rules = rules_from_record(inputs.rules, source)
    else:
        raise InputError([Problem(source, "the plan does not record its rules; pass --rules")])
    by_sku = {product.sku: product for product in products}
    missing = [d.sku for d in plan.products if d.joins and d.sku not in by_sku]
    if missing:
        shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
        raise InputError([Problem(
            source,
            f"{len(missing)} joining SKU(s) of the plan are not in {products_path}: {shown}",
        )])
    changed = [
        d.sku for d in plan.products
        if d.sku in by_sku and by_sku[d.sku].list_price_fen != d.list_price_fen
    ]
    if changed:
        warnings.append(
            f"the everyday price of {len(changed)} SKU(s) differs from the plan's: "
            + ", ".join(changed[:10]) + (" …" if len(changed) > 10 else "")
        )
    return PlanContext(plan=plan, products=tuple(products), rules=rules,
                       warnings=tuple(warnings))


def write_rows_csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """Write rows as CSV, UTF-8 with a BOM (so Excel reads Chinese), atomically."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue(), encoding="utf-8-sig")
