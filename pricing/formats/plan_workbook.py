"""The plan as a workbook (``.xlsx``): the same plan for people.

A ``summary`` sheet, a ``products`` sheet with the JSON's product fields, and a hidden
``plan.json`` sheet holding the plan's JSON itself (split in cells), which is what
:func:`plan_from_workbook` reads back. Text cells are written as text, neutralised where a
spreadsheet could take them for a formula (:mod:`pricing.formats.sheets`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.plan import Plan
from pricing.errors import InputError, Problem
from pricing.formats.atomic import save_workbook_atomic
from pricing.formats.plan_json import decision_json, plan_from_json, plan_to_json
from pricing.formats.sheets import starts_like_formula, xlsx_text
from pricing.formats.tables import open_workbook

PLAN_JSON_SHEET = "plan.json"
_CELL_CHARS = 30_000  # below Excel's 32,767 characters per cell


def write_plan_workbook(plan: Plan, path: Path) -> None:
    """Write the plan as a workbook, atomically."""
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
        if isinstance(value, list):  # exclusions, violations and scopes: one cell of JSON
            value = json.dumps(value, ensure_ascii=False) if value else ""
        summary.append([key, value])
    summary.append(["coupon_tiers", ", ".join(t.label for t in plan.coupon_tiers) or "none"])
    for key, value in document["solver"].items():
        summary.append([f"solver.{key}", value])
    for key, value in (document["inputs"] or {}).items():
        summary.append(
            [f"inputs.{key}", json.dumps(value, ensure_ascii=False) if key == "rules" else value]
        )
    products = workbook.create_sheet("products")
    columns = list(decision_json(plan.products[0]) if plan.products else {})
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


def is_plan_workbook(workbook: Any) -> bool:
    """Whether an open workbook is a plan (it has the hidden ``plan.json`` sheet)."""
    return PLAN_JSON_SHEET in workbook.sheetnames


def plan_from_workbook(workbook: Any, path: Path) -> Plan:
    """The plan held by an open plan workbook's ``plan.json`` sheet."""
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
    except RecursionError:
        raise InputError([Problem(
            str(path), f"the {PLAN_JSON_SHEET} sheet is not a plan: its JSON is nested too deeply"
        )]) from None
    return plan_from_json(data, str(path))


def read_plan_workbook(path: Path) -> Plan:
    """Read a plan workbook written by :func:`write_plan_workbook`."""
    workbook = open_workbook(path)
    try:
        if not is_plan_workbook(workbook):
            raise InputError([Problem(
                str(path),
                "not a plan workbook (it has no 'plan.json' sheet); a submission sheet is"
                " read by `check --plan`, a plan by `export`/`report`",
            )])
        return plan_from_workbook(workbook, path)
    finally:
        workbook.close()
