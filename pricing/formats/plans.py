"""The plan file, by its suffix: JSON (:mod:`pricing.formats.plan_json`) or a workbook
(:mod:`pricing.formats.plan_workbook`); and a plan's prices, read from a plan or from a
submission sheet (:mod:`pricing.formats.sheets`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from models.plan import Plan
from pricing.errors import InputError, Problem
from pricing.formats.atomic import write_bytes_atomic
from pricing.formats.plan_json import plan_from_json, plan_json_bytes, read_json_file

# The workbook and sheet readers are imported where a workbook or a sheet is met: a JSON plan
# (what ``plan`` writes by default) needs neither.
if TYPE_CHECKING:
    from pricing.formats.sheets import PlanPrices


def write_plan(plan: Plan, path: Path) -> None:
    """Write the plan atomically: JSON for ``.json``, a workbook for ``.xlsx``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_bytes_atomic(path, plan_json_bytes(plan))
    elif suffix == ".xlsx":
        from pricing.formats.plan_workbook import write_plan_workbook

        write_plan_workbook(plan, path)
    else:
        raise InputError(
            [Problem(str(path), "a plan file ends in .json or .xlsx", value=path.suffix)]
        )


def read_plan(path: Path) -> Plan:
    """Read a plan file written by :func:`write_plan` (``.json`` or plan ``.xlsx``)."""
    if path.suffix.lower() == ".xlsx":
        from pricing.formats.plan_workbook import read_plan_workbook

        return read_plan_workbook(path)
    return plan_from_json(read_json_file(path), str(path))


def read_plan_if_plan(path: Path) -> Plan | None:
    """The plan in ``path`` when it is a plan (``.json`` or a plan ``.xlsx``); ``None`` for a
    submission sheet (read those with :func:`load_plan_prices`)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_plan(path)
    if suffix == ".xlsx":
        from pricing.formats.plan_workbook import is_plan_workbook, plan_from_workbook
        from pricing.formats.tables import open_workbook

        workbook = open_workbook(path)
        try:
            return plan_from_workbook(workbook, path) if is_plan_workbook(workbook) else None
        finally:
            workbook.close()
    return None


def load_plan_prices(path: Path) -> PlanPrices:
    """The prices a plan sets, from a plan (``.json``, plan ``.xlsx``) or a submission sheet.

    A sheet gives the joining SKUs (its rows), their activity prices and B2G1 flags; the coupon
    tiers and B2G1 come from its settings (the ``店铺设置`` sheet of an ``.xlsx``, or the
    ``<name>.settings.csv`` companion of a ``.csv``). An upload sheet written by ``export`` is
    read through its review beside it (``<name>.review.xlsx`` / ``.review.csv``), which names
    the SKUs. Every bad value is reported at once.
    """
    from pricing.formats.plan_workbook import is_plan_workbook, plan_from_workbook
    from pricing.formats.sheets import (
        PlanPrices,
        plan_prices_of_csv,
        plan_prices_of_workbook,
        review_path,
    )
    from pricing.formats.tables import open_workbook

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".csv") and review_path(path).is_file():
        path = review_path(path)
    if suffix == ".json":
        return PlanPrices.of_plan(read_plan(path), str(path))
    if suffix == ".xlsx":
        workbook = open_workbook(path)
        try:
            if is_plan_workbook(workbook):
                return PlanPrices.of_plan(plan_from_workbook(workbook, path), str(path))
            return plan_prices_of_workbook(workbook, path)
        finally:
            workbook.close()
    if suffix == ".csv":
        return plan_prices_of_csv(path)
    raise InputError([Problem(
        str(path), "expected a plan (.json, .xlsx) or a submission sheet (.xlsx, .csv)",
        value=path.suffix,
    )])
