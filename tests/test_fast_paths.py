"""The vectorised fast paths of ``plan`` agree with the simple, obvious computation they replace.

Each test draws small inputs (the whole domain: ties, empty tables, invalid rows, classes) and
compares the fast path with a plain Python loop written from the definition.
"""

from __future__ import annotations

import codecs
import csv
import io
import subprocess
import sys
import tempfile
from dataclasses import FrozenInstanceError
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import rules as rules_strategy

import pricing.formats.tables as tables
from models.rules import Rules
from pricing.engine.bounds import unit_margin_bound_fen, worst_rate
from pricing.errors import InputError
from pricing.formats.products import load_products
from pricing.formats.samples import sample_products_path
from pricing.optimize.candidates import _drop_dominated, base_safe_rows, coupon_unsafe_bits
from pricing.optimize.demand import rounded_units
from pricing.outputs.charts import (
    Step,
    _axis,
    _waterfall_frame,
    _yuan,
    draw_waterfall,
    waterfall_chart,
)
from pricing.outputs.report import _templates
from pricing.verify.checker import _FAST_CHECKS, ProductCheck, _product_check


def _dominated_by_definition(
    valid: np.ndarray, profit: np.ndarray, spend: np.ndarray, unsafe: np.ndarray,
    with_budget: bool, classes: np.ndarray | None, at_most: list[np.ndarray],
) -> np.ndarray:
    """Row a is dropped when some other valid row b of the product has at least its profit, no
    more unsafe tiers, (with a budget) no more spend, the same class, no more of each ``at_most``
    attribute, and is strictly better in one of them or comes first."""
    keep = valid.copy()
    products, rows = valid.shape
    for j in range(products):
        for a in range(rows):
            for b in range(rows):
                if a == b or not valid[j, b]:
                    continue
                at_least = profit[j, b] >= profit[j, a] and (unsafe[j, b] & ~unsafe[j, a]) == 0
                strictly = profit[j, b] > profit[j, a] or unsafe[j, b] != unsafe[j, a]
                if with_budget:
                    at_least = at_least and spend[j, b] <= spend[j, a]
                    strictly = strictly or spend[j, b] < spend[j, a]
                if classes is not None:
                    at_least = at_least and classes[j, b] == classes[j, a]
                for attribute in at_most:
                    at_least = at_least and attribute[j, b] <= attribute[j, a]
                    strictly = strictly or attribute[j, b] < attribute[j, a]
                if at_least and (strictly or b < a):
                    keep[j, a] = False
    return keep


@st.composite
def dominance_tables(draw: st.DrawFn) -> tuple[Any, ...]:
    shape = (draw(st.integers(0, 4)), draw(st.integers(1, 6)))
    valid = draw(hnp.arrays(np.bool_, shape))
    # Few distinct values, so ties are common.
    profit = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.5, 3.0])))
    spend = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 4.0])))
    unsafe = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 7)))
    classes = draw(st.none() | hnp.arrays(np.int64, shape, elements=st.integers(0, 2)))
    at_most = draw(st.lists(
        hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.0])), max_size=2
    ))
    return valid, profit, spend, unsafe, classes, at_most


@given(dominance_tables(), st.booleans())
def test_dominance_one_row_at_a_time_is_the_definition(
    table: tuple[Any, ...], with_budget: bool
) -> None:
    valid, profit, spend, unsafe, classes, at_most = table
    fast = _drop_dominated(valid, profit, spend, unsafe, with_budget, classes, at_most)
    assert np.array_equal(fast, _dominated_by_definition(
        valid, profit, spend, unsafe, with_budget, classes, at_most
    ))


# Forecasts as a plan meets them, and the awkward ones: exact halves at the third decimal
# (0.0005, 2.5e-3 …), their neighbours one float away, zeros, huge and non-finite values.
_HALVES = st.integers(0, 10**7).map(lambda k: (2 * k + 1) / 2000)
_NEAR_HALVES = st.tuples(_HALVES, st.sampled_from([-1, 1])).map(
    lambda pair: float(np.nextafter(pair[0], pair[1] * np.inf))
)
_UNITS = st.one_of(
    st.floats(0, 1e6, allow_nan=False), _HALVES, _NEAR_HALVES,
    st.sampled_from([0.0, -0.0, 1e300, np.inf, np.nan, 2.0**53, 4503599627370.4995]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(st.lists(_UNITS, max_size=30), st.integers(0, 4))
def test_rounded_units_is_python_round_of_each(units: list[float], digits: int) -> None:
    """GIVEN forecasts WHEN rounded at once THEN each is the float ``round(u, digits)`` gives
    (the same bits: the sign of a zero, NaN where NaN)."""
    fast = rounded_units(np.asarray(units, dtype=np.float64), digits)
    slow = [round(u, digits) for u in units]
    assert [np.float64(x).tobytes() for x in fast] == [np.float64(x).tobytes() for x in slow]
    assert all(type(x) is float for x in fast)


@st.composite
def priced_rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """Prices × rows with what the bound takes: official discounts, costs, B2G1, floors and
    whether the mechanism reaches each row (prices from 1 fen, so cheap lines cut to zero)."""
    shape = (draw(st.integers(0, 4)), draw(st.integers(1, 5)))
    price = draw(hnp.arrays(np.int64, shape, elements=st.integers(1, 200_000)))
    official = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 5_000)))
    cost = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 150_000)))
    in_b2g1 = draw(hnp.arrays(np.bool_, shape))
    floors = draw(hnp.arrays(np.int64, shape, elements=st.integers(-100, 10_000)))
    bears = draw(hnp.arrays(np.bool_, shape))
    # Rows again (a buy-two-get-one row repeats its level's row): some wholly, some in part.
    again = draw(st.lists(st.integers(0, shape[1] - 1), max_size=3))
    table = [price, np.minimum(official, price), cost, in_b2g1, floors, bears]
    table = [np.concatenate([array, array[:, again]], axis=1) for array in table]
    if again and shape[0] and draw(st.booleans()):
        table[draw(st.integers(1, 5))][-1, -1] ^= 1  # differs in one input only
    return tuple(table)


def _bound_of_tier(table: tuple[Any, ...], rules: Rules, index: int) -> np.ndarray:
    price, official, cost, in_b2g1, _, bears = table
    tier = rules.coupons.candidates[index]
    basket = np.maximum(price, tier.threshold_fen)
    return unit_margin_bound_fen(
        price, official, cost, in_b2g1, tier.amount_fen, basket, rules, bears
    )


@given(priced_rows(), rules_strategy(), st.integers(0, 3), st.sampled_from([-1, 0, 1, None]))
def test_coupon_bits_at_once_are_the_bound_of_each_tier(
    table: tuple[Any, ...], rules: Rules, probed: int, offset: int | None
) -> None:
    """GIVEN a table and rules (floors drawn, or set one fen around a tier's bound to probe
    the edge) WHEN the coupon candidates' safety bits are worked out at once THEN they are the
    bits the bound and the worst rate give tier by tier."""
    if offset is not None and probed < len(rules.coupons.candidates):
        table = (*table[:4], _bound_of_tier(table, rules, probed) + offset, table[5])
    price, official, cost, in_b2g1, floors, bears = table
    unsafe, zeroes = coupon_unsafe_bits(price, official, cost, in_b2g1, floors, bears, rules)
    slow_unsafe = np.zeros(price.shape, dtype=np.int64)
    slow_zeroes = np.zeros(price.shape, dtype=np.int64)
    for index, tier in enumerate(rules.coupons.candidates):
        basket = np.maximum(price, tier.threshold_fen)
        bound = _bound_of_tier(table, rules, index)
        rate = worst_rate(price, official, in_b2g1, tier.amount_fen, basket, rules, bears)
        slow_unsafe |= np.where((bound < floors) | (rate >= 1.0), 1 << index, 0)
        slow_zeroes |= np.where(rate >= 1.0, 1 << index, 0)
    assert np.array_equal(unsafe, slow_unsafe)
    assert np.array_equal(zeroes, slow_zeroes)


@given(
    st.text(max_size=8), st.integers(), st.integers(), st.integers(),
    st.none() | st.fractions(), st.booleans(), st.booleans(),
)
def test_product_check_assembled_directly_is_the_dataclass(
    sku: str, price: int, floor: int, bound: int, margin: Fraction | None, cap: bool,
    guaranteed: bool,
) -> None:
    """GIVEN a verdict's values WHEN the checker assembles it directly THEN it is the frozen
    dataclass its constructor makes: equal, the same fields and hash, still frozen."""
    fast = _product_check(sku, price, floor, bound, None, margin, cap, guaranteed, margin)
    slow = ProductCheck(sku, price, floor, bound, None, margin, cap, guaranteed, margin)
    assert fast == slow and vars(fast) == vars(slow) and hash(fast) == hash(slow)
    assert _FAST_CHECKS  # the fast assembly is in use (update it when the fields change)
    with pytest.raises(FrozenInstanceError):
        fast.sku = "changed"  # type: ignore[misc]


@given(priced_rows(), rules_strategy(), st.sampled_from([-1, 0, 1, None]))
def test_base_safety_in_place_is_the_bound_without_a_coupon(
    table: tuple[Any, ...], rules: Rules, offset: int | None
) -> None:
    """GIVEN a table and rules (floors drawn, or one fen around the bound to probe the edge)
    WHEN the rows safe without a coupon are worked out in place THEN they are the rows the
    bound and the worst rate at ``S = price`` call safe."""
    price, official, cost, in_b2g1, floors, bears = table
    bound = unit_margin_bound_fen(price, official, cost, in_b2g1, 0, price, rules, bears)
    if offset is not None:
        floors = bound + offset
    rate = worst_rate(price, official, in_b2g1, 0, price, rules, bears)
    fast = base_safe_rows(price, official, cost, in_b2g1, floors, bears, rules)
    assert np.array_equal(fast, (bound >= floors) & (rate < 1.0))


@st.composite
def _library_messages(draw: st.DrawFn) -> str:
    """A message as the library writes it: catalogue keys with their placeholders filled (by
    plain text, a number, or another key), one or several pieces between ``"; "``, or any
    text."""
    from pricing.outputs import i18n

    keys = sorted(key for key in {**i18n.ZH, **i18n.MESSAGES_ZH, **i18n._pydantic_messages()}
                  if i18n._PLACEHOLDER.search(key))
    values = st.one_of(st.text(max_size=6), st.sampled_from(["0", "12.5", "¥3.00", "a; b"]),
                       st.sampled_from(keys))
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            key = draw(st.sampled_from(keys))
            pieces.append(i18n._PLACEHOLDER.sub(lambda _: draw(values), key))
        else:
            pieces.append(draw(st.text(max_size=20)))
    return "; ".join(pieces)


_KEY_WITH_A_FORMAT_SPEC = (
    "Input should be a multiple of {status} ({method}, {solver}, gap {gap}, {solve:.2f} s to "
    "solve, {total:.2f} s in all)"
)


@given(_library_messages())
@example(_KEY_WITH_A_FORMAT_SPEC)
def test_translating_a_message_compiles_only_the_patterns_it_can_match(text: str) -> None:
    """The catalogue's patterns are compiled when a message begins with their key's literal
    start; trying every pattern on every message (the obvious way) gives the same Chinese."""
    from pricing.outputs import i18n

    fast = i18n.tr_message(text, "zh")
    everything = tuple(("", regex, chinese) for _, regex, chinese in i18n._message_templates())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(i18n, "_message_templates", lambda: everything)
        assert i18n.tr_message(text, "zh") == fast


# --- the products CSV without pandas --------------------------------------------------------

_CSV_HEADERS = [
    "sku", "SKU编码", " SKU ", "item_id", "title", "category", "role", "角色", "list_price",
    "List_Price", "日常价（元）", "lowest_price", "unit_cost", "成本", "stock", "库存",
    "base_units", "预估销量", "elasticity", "purchase_limit", "b2g1", "买二送一", "sku_id",
    "titel", "", "备注",
]
_CSV_CELLS = st.one_of(
    st.sampled_from([
        "", " ", "SYN1", "SYN1", "SYN2", "12.5", "0", "100", "99.90", " 7 ", "-3", "1e3",
        "12.345", "abc", "１２", "+5", "12.0", "nan", "inf", "-1.8", "yes", "no", "是", "Y",
        "hero", "主推", "regular", "12345678901234567", "A,B", "x;y", "t\tab", '"q"', 'a"b',
        '"a,b"', "line\nbreak", "cr\rcr", "\x00", "\x07", "\ufeff", "#1", "N/A", "NULL",
    ]),
    st.text(alphabet=",;\t\"\r\n 0123456789.-a是\x00", max_size=4),
)


_CSV_REQUIRED = ["sku", "list_price", "unit_cost", "stock", "base_units"]
_CSV_GOOD_CELLS = st.sampled_from(["1", "3", "12", "20"])  # good in every numeric column


@st.composite
def products_csv_bytes(draw: st.DrawFn) -> bytes:
    """A products CSV as a person or a program might write it: plain, or with quotes, other
    separators, a BOM, CRLF or lone CR breaks, blank lines, ragged lines, bad numbers,
    synonyms for the headers, unknown and unnamed columns, in UTF-8 or GBK."""
    separator = draw(st.sampled_from([",", ",", "\t", ";"]))
    tidy = draw(st.booleans())  # a catalogue that reads: the required columns, good cells
    header = draw(st.lists(st.sampled_from(_CSV_HEADERS), min_size=1, max_size=8))
    if tidy:
        header = [*draw(st.permutations(_CSV_REQUIRED)), *header[:2]]
    rows = [header]
    for number in range(draw(st.integers(0, 6))):
        width = len(header) + (0 if tidy else draw(st.sampled_from([0, 0, 0, 0, -1, 1])))
        rows.append([
            f"SKU{number}" if tidy and name == "sku" else
            draw(_CSV_GOOD_CELLS if tidy and draw(st.integers(0, 29)) else _CSV_CELLS)
            for name in [*header, ""][:max(width, 0)]
        ])
        if not tidy and draw(st.integers(0, 9)) == 0:
            rows.append([])
    if draw(st.booleans()):
        stream = io.StringIO()
        csv.writer(stream, delimiter=separator, lineterminator="\n").writerows(rows)
        text = stream.getvalue()
    else:
        text = "\n".join(separator.join(row) for row in rows)
        text += draw(st.sampled_from(["", "\n"] if tidy else ["", "\n", "\n\n", "\n \n"]))
    text = text.replace("\n", draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])))
    prefix = draw(st.sampled_from(["", "", "\ufeff"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "gb18030"]))
    return (prefix + text).encode(encoding) if encoding == "utf-8" else text.encode(encoding)


def _products_outcome(path: Path) -> tuple[Any, ...]:
    """What the products reader makes of a file: its products and problems, or its error."""
    try:
        products, problems = load_products(path)
    except InputError as error:
        return ("error", str(error), error.problems, error.warnings)
    return ("products", products, problems)


def _table_outcome(path: Path) -> tuple[Any, ...]:
    try:
        table = tables.read_csv_table(path, str(path))
    except InputError as error:
        return ("error", str(error))
    return ("table", table.header, [column.tolist() for column in table.columns],
            table.rows.tolist())


@given(products_csv_bytes())
def test_plain_csv_split_is_what_pandas_reads(raw: bytes) -> None:
    """GIVEN any products CSV WHEN it is read by the plain split (pandas only when the text is
    not plain) THEN the cells, products, problems and error messages are those of reading
    every file with pandas' C reader."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "products.csv"
        path.write_bytes(raw)
        fast = _table_outcome(path), _products_outcome(path)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tables, "_plain_csv_cells", lambda *_: None)
            slow = _table_outcome(path), _products_outcome(path)
    assert fast == slow


def test_plain_csv_split_takes_the_usual_catalogue() -> None:
    """The sample catalogue, with a BOM and CRLF breaks as Excel writes it, is plain."""
    raw = sample_products_path().read_bytes()
    excel = codecs.BOM_UTF8 + raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert tables._plain_csv_cells(excel, "utf-8-sig", ",") is not None


def test_plan_export_and_report_of_a_csv_do_not_import_pandas(tmp_path: Path) -> None:
    """GIVEN the sample products CSV WHEN plan, export and report run in a fresh process THEN
    pandas is never imported (it costs ~0.3 s of each command's start)."""
    plan, sheet, report = tmp_path / "plan.json", tmp_path / "up.xlsx", tmp_path / "r.html"
    script = (
        "import sys\n"
        "from typer.main import get_command\n"
        "from cli import app\n"
        "command = get_command(app)\n"
        f"for arguments in (['plan', '-o', {str(plan)!r}, '--show', '0'],\n"
        f"                  ['export', {str(plan)!r}, '--out', {str(sheet)!r}],\n"
        f"                  ['report', {str(plan)!r}, '--out', {str(report)!r}]):\n"
        "    try:\n"
        "        command.main(arguments, standalone_mode=False)\n"
        "    except SystemExit as leaving:\n"
        "        assert not leaving.code, arguments\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert plan.exists() and sheet.exists() and report.exists()


@given(_library_messages())
@example(_KEY_WITH_A_FORMAT_SPEC)
def test_translating_a_message_never_fails(text: str) -> None:
    """Any text, catalogue keys with format specs such as ``{solve:.2f}`` inside included, comes
    back as a string: a key that is a format string for tr() is never used as a pattern."""
    from pricing.outputs import i18n

    assert isinstance(i18n.tr_message(text, "zh"), str)


@st.composite
def _waterfall_charts(draw: st.DrawFn) -> tuple[dict[str, object], int, int, str]:
    steps = draw(st.lists(st.builds(
        Step, st.sampled_from(["list", "coupon", "margin"]),
        st.sampled_from(["absolute", "total", "relative"]),
        st.fractions(min_value=-10**6, max_value=10**6, max_denominator=7),
    ), min_size=1, max_size=7))
    text = st.text(st.sampled_from("ab<>&\"'¥ 品×·"), max_size=8)
    return (waterfall_chart(steps, {}, draw(text)), draw(st.integers(0, 3)),
            draw(st.integers(0, 3)), draw(text))


@given(_waterfall_charts())
def test_waterfall_drawn_as_strings_is_the_template_macro(
    case: tuple[dict[str, object], int, int, str],
) -> None:
    """The report joins its waterfalls as strings; the text is the template macro's that drew
    them before, escaping included."""
    chart, index, names, unit = case
    reference = (Path(__file__).parent / "data" / "waterfall_macro.html.j2").read_text("utf-8")
    macro = _templates().from_string(reference).module.waterfall  # type: ignore[attr-defined]
    assert draw_waterfall(chart, index, names, unit) == macro(chart, index, names, unit)


def _waterfall_by_definition(steps: list[Any], title: str, height: int = 400) -> dict[str, Any]:
    """The waterfall's geometry as first written: every level exact, each turned into a float
    where it is drawn."""
    levels: list[tuple[Fraction, Fraction]] = []
    level = Fraction(0)
    for step in steps:
        if step.measure == "relative":
            levels.append((level, level + step.value))
            level += step.value
        else:
            levels.append((Fraction(0), step.value))
            level = step.value
    low = float(min([Fraction(0), *(min(pair) for pair in levels)]))
    high = float(max([Fraction(0), *(max(pair) for pair in levels)]))
    pad = 0.12 * ((high - low) or 100.0)
    frame = _waterfall_frame(height, low - (pad if low < 0 else 0), high + pad)
    band = frame.width / max(1, len(steps))
    bar = round(band * 0.62)
    bars = []
    connector = []
    for position, (step, (start, end)) in enumerate(zip(steps, levels, strict=True)):
        x = round(frame.left + position * band + (band - bar) / 2)
        top, bottom = round(frame.y(float(max(start, end)))), round(frame.y(float(min(start, end))))
        kind = "t" if step.measure != "relative" else "u" if end >= start else "d"
        rising = end >= start if step.measure == "relative" else end >= 0
        bars.append({
            "x": x, "y": top, "w": bar, "h": max(bottom - top, 1), "kind": kind,
            "text": _yuan(step.value), "cx": x + bar // 2,
            "ty": top - 5 if rising else bottom + 13,
        })
        if position + 1 < len(steps):
            connector.append(f"M{x + bar} {round(frame.y(float(end)))}h{round(band - bar)}")
    return {
        "height": height, "title": title, "frame": frame, "bars": bars,
        "connector": "".join(connector), "axis": _axis(frame),
        "label_keys": tuple(step.key for step in steps),
    }


_WATERFALL_STEPS = st.lists(st.builds(
    Step,
    st.sampled_from(["list", "coupon", "margin"]),
    st.sampled_from(["absolute", "total", "relative"]),
    st.fractions(min_value=-10**7, max_value=10**7, max_denominator=12)
    | st.integers(-10**7, 10**7).map(Fraction),
), min_size=1, max_size=15)


@given(_WATERFALL_STEPS)
def test_waterfall_geometry_is_the_exact_definition(steps: list[Any]) -> None:
    """The waterfall turns each level into a float once; its geometry is that of the exact
    levels turned into floats where drawn."""
    assert waterfall_chart(steps, {}, "t") == _waterfall_by_definition(steps, "t")
