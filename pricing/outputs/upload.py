"""The upload sheet: what goes to the platform, and nothing else.

``price-opt export`` writes two things: the **upload sheet** (this module), which the merchant
uploads to the platform, and the **review** (``<name>.review.xlsx`` or ``.review.csv``, written
by :mod:`pricing.outputs.export`) with the internal figures (everyday price, discount, forecast,
lowest paid price, worst unit margin, sign-up verdict) and the store settings. Internal figures
never go into the upload sheet: uploading a file hands it to the platform.

Templates
    ``tmall`` (the default): one sheet ``商品报名表`` with the columns of the platform's product
    submission sheet, :data:`TMALL_COLUMNS`: 商品ID, SKU ID, 活动价, 活动库存, 每人限购.

    A merchant's own downloaded template (``--template FILE.xlsx``): its columns are found by
    header name (:data:`UPLOAD_FIELDS`: e.g. 商品ID, SKUID / SKU ID, 活动价, 活动库存, 每人限购 /
    限购数量, 商家编码; case, spaces, ``*`` and a ``(元)`` suffix ignored) on the sheet
    ``商品SKU导入列表`` when there is one (the official big-promotion template: headers in row 2,
    data from row 4), else on the first sheet, in the first of its top ten rows that names at
    least two known columns. Rows already in the template (a downloaded template lists the
    store's SKUs) are matched to products by SKU ID, else by 商品ID when that item has a single
    SKU, and filled; joining products the template lacks are appended after its last row. Every
    other cell, sheet, format and column is kept as the template had it; columns price-opt does
    not know (商品状态, 官方立减报名折扣 …) are left for the merchant. The template file itself is
    never changed: the filled copy is written to ``--out``.

IDs are text
    In ``.xlsx``, 商品ID and SKU ID are text cells (format ``@``): a 13-digit ID stays
    ``5012345600001``, never ``5.01235E+12``. In ``.csv``, an ID of digits is written as
    ``="5012345600001"``, the convention Excel (and Taobao's own order exports) use to keep a
    long number as text; reading the file back with price-opt strips it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from models.money import format_yuan, yuan_cell
from pricing.errors import InputError, Problem
from pricing.formats.atomic import save_workbook_atomic, write_atomic
from pricing.formats.sheets import csv_safe_text, starts_like_formula, write_rows_csv, xlsx_text

TEMPLATE_TMALL = "tmall"
TEMPLATE_SHEET = "商品SKU导入列表"  # the official big-promotion template's sheet
UPLOAD_SHEET = "商品报名表"
HEADER_SEARCH_ROWS = 10
ID_FIELDS = ("item_id", "sku_id", "sku")

# The upload fields price-opt fills, with the headers a template may call them by.
UPLOAD_FIELDS: dict[str, tuple[str, ...]] = {
    "item_id": ("商品ID", "商品id", "宝贝ID", "item_id", "itemid"),
    "sku_id": ("SKU ID", "SKUID", "SKU_ID", "sku_id", "skuid"),
    "sku": ("商家编码", "商家SKU编码", "SKU商家编码", "商家货号"),
    "activity_price": ("活动价", "活动价格", "大促价", "报名价", "活动价(元)"),
    "activity_stock": ("活动库存", "报名库存", "活动库存(件)"),
    "purchase_limit": ("每人限购", "限购数量", "每人限购数量", "限购"),
}
TMALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("商品ID", "item_id"),
    ("SKU ID", "sku_id"),
    ("活动价", "activity_price"),
    ("活动库存", "activity_stock"),
    ("每人限购", "purchase_limit"),
)


@dataclass(frozen=True)
class UploadRow:
    """What the platform needs of one joining SKU (money in fen)."""

    item_id: str
    sku_id: str
    sku: str
    activity_price_fen: int
    activity_stock: int
    purchase_limit: int | None

    def value(self, key: str) -> str | Decimal | int | None:
        """The cell of field ``key``: IDs as text, money as Decimal yuan, counts as int."""
        if key == "activity_price":
            return Decimal(format_yuan(self.activity_price_fen))
        values: dict[str, str | int | None] = {
            "item_id": self.item_id, "sku_id": self.sku_id, "sku": self.sku,
            "activity_stock": self.activity_stock, "purchase_limit": self.purchase_limit,
        }
        return values[key]


@dataclass(frozen=True)
class UploadResult:
    """How the upload sheet was filled: rows matched in a template, appended, left alone."""

    path: Path
    template: str
    sheet: str
    filled: int
    appended: int
    untouched: int = 0
    notes: tuple[str, ...] = field(default=())


def _normal(header: object) -> str:
    text = "" if header is None else str(header)
    text = re.sub(r"[\s*＊]", "", text).casefold()
    return re.sub(r"[(（](元|件)[)）]$", "", text)


_FIELD_BY_HEADER = {_normal(name): key for key, names in UPLOAD_FIELDS.items() for name in names}


def _id_text(value: object) -> str:
    """An ID cell as text: ``5012345600001.0`` (a number cell) → ``5012345600001``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    match = re.fullmatch(r'="(.*)"', text)
    return match.group(1) if match else text


def _text_id_cell(cell: Any, text: str) -> None:
    cell.value = xlsx_text(text)
    cell.data_type = "s"
    cell.number_format = "@"
    if starts_like_formula(cell.value):
        cell.quotePrefix = True


def _set(cell: Any, key: str, value: str | Decimal | int | None) -> None:
    if value is None or value == "":
        cell.value = None
        return
    if key in ID_FIELDS:
        _text_id_cell(cell, str(value))
    elif isinstance(value, Decimal):
        cell.value = float(value)  # exact to the fen when read back
        cell.number_format = "0.00"
    else:
        cell.value = value
        cell.number_format = "0"


def write_tmall_xlsx(rows: Sequence[UploadRow], path: Path) -> UploadResult:
    """The built-in ``tmall`` upload sheet: one sheet, the platform's columns, IDs as text
    (XlsxWriter writes the workbook, the data rows go in as sheet XML: fast at any size)."""
    import io

    import xlsxwriter

    from pricing.outputs.xlsx_rows import SheetRows, finish, style_of

    def build(temp_path: Path) -> None:
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"strings_to_numbers": False,
                                                "strings_to_formulas": False,
                                                "strings_to_urls": False})
        bold = workbook.add_format({"bold": True})
        text_id = style_of(workbook.add_format({"num_format": "@"}))
        text_id_quoted = style_of(workbook.add_format({"num_format": "@", "quote_prefix": True}))
        money_format = style_of(workbook.add_format({"num_format": "0.00"}))
        whole = style_of(workbook.add_format({"num_format": "0"}))
        sheet = workbook.add_worksheet(UPLOAD_SHEET)
        for position, (header, _) in enumerate(TMALL_COLUMNS):
            sheet.write_string(0, position, header, bold)
        sheet.set_column(0, len(TMALL_COLUMNS) - 1, 18)
        data = SheetRows(first_row=1)
        for row in rows:
            cells: list[str | None] = []
            for _, key in TMALL_COLUMNS:
                value = row.value(key)
                if value is None or value == "":
                    cells.append(None)
                elif key in ID_FIELDS:
                    text = xlsx_text(str(value))
                    cells.append(data.text(
                        text, text_id_quoted if starts_like_formula(text) else text_id))
                elif isinstance(value, Decimal):
                    cells.append(data.number(str(value), money_format))
                else:
                    cells.append(data.number(str(int(value)), whole))
            data.add(cells)
        sheet.freeze_panes(1, 0)
        workbook.close()
        finish(buffer.getvalue(), temp_path, 1, data, columns=len(TMALL_COLUMNS))

    write_atomic(path, build)
    return UploadResult(path, TEMPLATE_TMALL, UPLOAD_SHEET, 0, len(rows))


def csv_id(text: str) -> str:
    """An ID for a CSV cell: digits as ``="…"`` (Excel keeps them as text), else safe text."""
    return f'="{text}"' if text.isdigit() else csv_safe_text(text)


def csv_value(key: str, value: str | Decimal | int | None) -> str:
    """A field's CSV cell: IDs as :func:`csv_id`, money with two decimals."""
    if value is None:
        return ""
    if key in ID_FIELDS:
        return csv_id(str(value))
    if isinstance(value, Decimal):
        return yuan_cell(value)
    return csv_safe_text(str(value))


def write_tmall_csv(rows: Sequence[UploadRow], path: Path) -> UploadResult:
    """The ``tmall`` upload sheet as CSV (UTF-8 with BOM), IDs kept as text for Excel."""
    table = [[header for header, _ in TMALL_COLUMNS]]
    table.extend([csv_value(key, row.value(key)) for _, key in TMALL_COLUMNS] for row in rows)
    write_rows_csv(path, table)
    return UploadResult(path, TEMPLATE_TMALL, UPLOAD_SHEET, 0, len(rows))


# --- a merchant's template --------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    sheet: Any
    header_row: int
    columns: dict[str, int]  # field key → column number
    first_data_row: int


def _find_layout(workbook: Any, source: str) -> _Layout:
    names = workbook.sheetnames
    sheet = workbook[TEMPLATE_SHEET] if TEMPLATE_SHEET in names else workbook[names[0]]
    for number in range(1, min(sheet.max_row, HEADER_SEARCH_ROWS) + 1):
        columns: dict[str, int] = {}
        for cell in sheet[number]:
            key = _FIELD_BY_HEADER.get(_normal(cell.value))
            if key is not None and key not in columns:
                columns[key] = cell.column
        if len(columns) >= 2 and ("item_id" in columns or "sku_id" in columns):
            if "activity_price" not in columns:
                raise InputError([Problem(
                    source, f"sheet {sheet.title!r}, row {number}: no 活动价 (activity price) "
                    "column; expected one of " + ", ".join(UPLOAD_FIELDS["activity_price"]),
                )])
            first = number + 1
            if sheet.title == TEMPLATE_SHEET:
                first = number + 2  # the official template: a row of instructions, then data
            else:
                id_column = columns.get("sku_id", columns.get("item_id"))
                while first <= sheet.max_row:
                    text = _id_text(sheet.cell(row=first, column=id_column).value)
                    if not text or text.isdigit():
                        break
                    first += 1  # a row of instructions or examples
            return _Layout(sheet, number, columns, first)
    raise InputError([Problem(
        source, f"sheet {sheet.title!r}: no header row found in the first {HEADER_SEARCH_ROWS} "
        "rows naming 商品ID or SKU ID and 活动价; expected headers such as "
        + ", ".join(name for _, name in TMALL_COLUMNS[:3]),
    )])


def fill_template(rows: Sequence[UploadRow], template: Path, path: Path) -> UploadResult:
    """Fill a merchant's template (see the module docstring) and write it to ``path``."""
    from openpyxl import load_workbook

    from pricing.formats.tables import check_file

    source = str(template)
    if template.suffix.lower() != ".xlsx":
        raise InputError([Problem(source, "a template is an .xlsx workbook (save an .xls as "
                                  ".xlsx in Excel first)", value=template.suffix)])
    check_file(template, source)
    try:
        workbook = load_workbook(template)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError([Problem(source, f"not a readable .xlsx workbook: {error}")]) from None
    layout = _find_layout(workbook, source)
    sheet, columns = layout.sheet, layout.columns
    by_sku_id = {row.sku_id: row for row in rows if row.sku_id}
    items: dict[str, list[UploadRow]] = {}
    for row in rows:
        items.setdefault(row.item_id, []).append(row)
    placed: set[str] = set()
    filled = untouched = 0
    last = layout.first_data_row - 1
    for number in range(layout.first_data_row, sheet.max_row + 1):
        ids = {key: _id_text(sheet.cell(row=number, column=columns[key]).value)
               for key in ("sku_id", "item_id") if key in columns}
        if not any(ids.values()):
            continue
        last = number
        match = by_sku_id.get(ids.get("sku_id", ""))
        if match is None and not ids.get("sku_id"):
            candidates = items.get(ids.get("item_id", ""), [])
            match = candidates[0] if len(candidates) == 1 else None
        if match is None or match.sku in placed:
            untouched += 1
            continue
        placed.add(match.sku)
        filled += 1
        for key, column in columns.items():
            if key in ("activity_price", "activity_stock", "purchase_limit") or (
                key in ID_FIELDS and not _id_text(sheet.cell(row=number, column=column).value)
            ):
                _set(sheet.cell(row=number, column=column), key, match.value(key))
    appended = 0
    for row in rows:
        if row.sku in placed:
            continue
        last += 1
        appended += 1
        for key, column in columns.items():
            _set(sheet.cell(row=last, column=column), key, row.value(key))
    notes = []
    if untouched:
        notes.append(f"{untouched} template row(s) name SKUs that do not join the event (or "
                     "are not in the products file); left as they were")
    missing = sorted(key for key in ("sku_id", "activity_stock", "purchase_limit")
                     if key not in columns)
    if missing:
        notes.append("the template has no column for " + ", ".join(missing))
    save_workbook_atomic(workbook, path)
    return UploadResult(path, str(template), sheet.title, filled, appended, untouched,
                        tuple(notes))
