"""No traceback from any input, through ``plan``, ``export`` and ``report`` too.

The companion of ``test_fuzz_inputs.py`` (readers, ``validate`` and ``check``): hostile
products and rules files are planned, and plan files given as generated JSON trees (a real plan
with one part replaced, or any tree) are exported and reported, all through the CLI. Each run
must end with one of the documented exit codes and no exception escaping; never exit 5 (a plan
that failed the exact checker). The default suite runs a few examples of each (planning solves
a MILP); the slow variants run many more.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_examples import plan_with_files
from strategies import examples
from test_fuzz_inputs import (
    NASTY_TEXT,
    RULE_KEYS,
    _paths,
    _replaced,
    json_tree,
    mutated,
    toml_value,
)
from typer.testing import CliRunner

import cli

runner = CliRunner()
EXIT_CODES = {0, 1, 2, 3, 4, 6}  # documented; 5 (a plan the checker refuses) is a bug


def _fuzz(share: float) -> Callable[[Any], Any]:
    return settings(deadline=None, max_examples=examples(share),
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def _invoke(args: list[str]) -> None:
    result = runner.invoke(cli.app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, result.exception)
    assert result.exit_code in EXIT_CODES, (args, result.exit_code, result.output)


# --- hostile products and rules through `plan` ---------------------------------------------------

PRODUCTS_HEADER = ["sku", "list_price", "unit_cost", "stock", "base_units", "purchase_limit",
                   "b2g1", "role", "lowest_price", "title"]
PRODUCTS_ROWS = [
    ["A1", "199.00", "60.00", "100", "20", "", "yes", "hero", "199.00", "连衣裙"],
    ["A2", "99.90", "30.00", "50", "10", "2", "yes", "", "", "T恤"],
    ["A3", "39.90", "15.00", "500", "40", "", "no", "traffic", "35.00", "袜子"],
    ["A4", "599.00", "310.00", "20", "3", "1", "yes", "profit", "", "1:18 模型"],
]
cell_value = st.sampled_from(NASTY_TEXT) | st.text(max_size=10) | st.integers().map(str) \
    | st.floats().map(repr)


def _csv(rows: list[list[str]]) -> str:
    return "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in row)
                     for row in [PRODUCTS_HEADER, *rows]) + "\n"


@st.composite
def hostile_products(draw: st.DrawFn) -> str:
    """The valid catalogue with a few cells (or a whole row) replaced by hostile values."""
    rows = [list(row) for row in PRODUCTS_ROWS]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(PRODUCTS_HEADER) - 1))
        rows[row][column] = draw(cell_value)
    if draw(st.booleans()):
        rows.append(draw(st.lists(cell_value, min_size=len(PRODUCTS_HEADER),
                                  max_size=len(PRODUCTS_HEADER))))
    return _csv(rows)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


@st.composite
def hostile_rules(draw: st.DrawFn) -> str:
    """A rules file with a few keys set to generated values (TOML text)."""
    lines: list[str] = []
    for section in draw(st.lists(st.sampled_from(sorted(RULE_KEYS)), max_size=3, unique=True)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(RULE_KEYS[section]), min_size=1, max_size=3,
                                 unique=True)):
            lines.append(f"{key} = {_toml_value(draw(toml_value))}")
    return "\n".join(lines) + "\n"


def _plan_run(products_text: str, rules_text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        products = Path(folder) / "products.csv"
        rules = Path(folder) / "rules.toml"
        products.write_text(products_text, encoding="utf-8")
        rules.write_text(rules_text, encoding="utf-8")
        out = Path(folder) / "plan.json"
        _invoke(["plan", str(products), "--rules", str(rules), "--out", str(out), "--show", "0"])
        if out.exists():
            _invoke(["export", str(out), "--out", str(Path(folder) / "sheet.xlsx")])


@_fuzz(0.1)
@given(hostile_products())
def test_plan_of_a_hostile_catalogue_never_escapes_with_an_exception(products: str) -> None:
    _plan_run(products, "")


@_fuzz(0.1)
@given(hostile_rules())
def test_plan_under_hostile_rules_never_escapes_with_an_exception(rules: str) -> None:
    _plan_run(_csv(PRODUCTS_ROWS), rules)


@pytest.mark.slow
@_fuzz(1.0)
@given(hostile_products(), hostile_rules())
def test_plan_of_hostile_files_never_escapes_with_an_exception_many(
    products: str, rules: str
) -> None:
    _plan_run(products, rules)


# --- fuzzed plan files through `export` and `report` ---------------------------------------------


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A real plan (its products and rules files beside it) and its JSON document."""
    directory = tmp_path_factory.mktemp("plan")
    _, _, plan_path = plan_with_files(directory)
    return directory, json.loads(plan_path.read_text(encoding="utf-8"))


MONEY_TEXT = ["0.00", "0.01", "1.00", "99.90", "100000000.00", "100000000.01", "-1.00",
              "1e3", "199.999", "0.5", "999999999999.00"]


def _leaf_at(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


@st.composite
def tweaked(draw: st.DrawFn, document: Any) -> Any:
    """The plan with a few leaves replaced by values of the same kind (a money string by another
    amount, a SKU by another text, a flag flipped, a list shortened or doubled): plans that
    still read, so that the judging and writing behind the reader run on odd values."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        leaf = _leaf_at(document, path)
        if isinstance(leaf, bool):
            value: Any = not leaf
        elif isinstance(leaf, str):
            value = draw(st.sampled_from(MONEY_TEXT + NASTY_TEXT) | st.text(max_size=6))
        elif isinstance(leaf, int | float):
            value = draw(st.integers(-(2**64), 2**64) | st.floats())
        elif isinstance(leaf, list) and leaf:
            value = draw(st.sampled_from([leaf[:-1], leaf + leaf[-1:], []]))
        else:
            continue
        document = _replaced(document, path, value)
    return document


def _export_and_report(directory: Path, document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "fuzzed.json"
        plan.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        given_files = ["--products", str(directory / "products.csv"),
                       "--rules", str(directory / "rules.toml")]
        _invoke(["export", str(plan), *given_files, "--out", str(Path(folder) / "sheet.xlsx")])
        _invoke(["export", str(plan), "--out", str(Path(folder) / "sheet.csv")])
        _invoke(["report", str(plan), *given_files, "--out", str(Path(folder) / "r.html")])


@_fuzz(0.2)
@given(st.data())
def test_export_and_report_of_a_fuzzed_plan_never_escape_with_an_exception(
    plan_files: tuple[Path, Any], data: st.DataObject
) -> None:
    directory, document = plan_files
    _export_and_report(directory, data.draw(tweaked(document) | mutated(document) | json_tree))


@pytest.mark.slow
@_fuzz(2.0)
@given(st.data())
def test_export_and_report_of_a_fuzzed_plan_never_escape_with_an_exception_many(
    plan_files: tuple[Path, Any], data: st.DataObject
) -> None:
    directory, document = plan_files
    _export_and_report(directory, data.draw(tweaked(document) | mutated(document) | json_tree))
