"""A seeded synthetic Tmall catalogue and rules file for the benchmarks.

The catalogue reads like a Double 11 store that sells women's clothing and die-cast model cars:

* everyday prices log-normal between ¥19.90 and ¥1999, ending in ``.00`` or ``.90``;
* unit costs 25–60% of the everyday price (median about 31%, a tenth above 40%); a few (about
  0.6%) cost more than half the everyday price, so 50% off sells them below cost outright, and
  with commission, free shipping and the cross-store reduction about a third cannot go to 50% off
  safely (the optimizer must keep them shallow or out). Cheap SKUs get their cost capped so that
  every SKU keeps 5% of its everyday price in a one-unit order: a store does not lose money every
  day, and a product that loses at its everyday price makes any plan infeasible;
* the 30-day lowest price is below the everyday price for about a quarter of the SKUs;
* base units heavy-tailed (log-normal, a few best sellers sell a hundred times the median), stock
  about three times the forecast (the seeds' rule of thumb), a tenth of the SKUs short of stock;
* elasticity around −1.8 (a fifth left blank: the rules' default applies);
* roles: about 1% hero (主推), 5% traffic (引流), 15% profit (利润), the rest regular. Heroes must
  join the event, so they get list prices of at least ¥99 and costs of 18–28% of list: safe at
  9折 with the cross-store reduction and free shipping, without coupons or buy-two-get-one;
* purchase limits on about half the heroes and traffic items and 3% of the others;
* about 85% of the SKUs eligible for buy-two-get-one.

Everything is vectorized (numpy → pandas → one ``to_csv``): 300k SKUs take about a second.
Files are written atomically (:func:`pricing.formats.atomic.write_text_atomic`).

Run ``python benchmarks/synthetic.py 10000 --out /tmp/bench`` to write a catalogue and its two
rules files (without and with a budget).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from pricing.formats.atomic import write_text_atomic

DEFAULT_SEED = 20241111
COLUMNS = (
    "sku", "item_id", "title", "category", "role", "list_price", "lowest_price", "unit_cost",
    "stock", "base_units", "elasticity", "purchase_limit", "b2g1",
)
# (category, median everyday price in yuan): the two kinds of store the seeds describe.
CATEGORIES = (
    ("连衣裙", 259.0), ("针织衫", 189.0), ("外套", 399.0), ("半身裙", 159.0), ("T恤", 79.0),
    ("牛仔裤", 169.0), ("1:18车模", 699.0), ("1:24车模", 229.0), ("1:64车模", 39.0),
    ("车模展示盒", 89.0),
)
COLOURS = ("黑色", "白色", "红色", "蓝色", "灰色", "米色", "绿色", "银色")
LADDER_LEVELS = (0.95, 0.90, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50)
COUPON_CANDIDATES_YUAN = (
    (0, 5), (99, 10), (199, 15), (299, 20), (399, 30), (599, 50), (899, 80), (1299, 120),
)
# The store and platform figures of the rules file, also used to keep the catalogue sane.
COMMISSION_RATE = 0.05
CROSS_STORE_EVERY_YUAN, CROSS_STORE_SAVE_YUAN = 300, 50
SHIPPING_FEN, HANDLING_FEN = 800, 150
# Every SKU keeps at least this share of its everyday price as margin in a one-unit order with
# free shipping and the cross-store reduction: a store does not sell at a loss every day.
EVERYDAY_CUSHION = 0.05
# The budget variant allows this share of the catalogue's everyday revenue (Σ base units × list
# price) as expected discount spend. The spend counts the cross-store reduction every sale
# bears, so the least any plan spends is about 53–55% of that revenue and the best plan without
# a budget spends about 59–60%: 0.57 binds at every size.
DEFAULT_BUDGET_SHARE = 0.57

IntArray = npt.NDArray[np.int64]


def _shop_price_fen(yuan: npt.NDArray[np.float64], rng: np.random.Generator) -> IntArray:
    """Whole yuan, half of them as ``x9.90``-style prices (``199 → 198.90``)."""
    whole = np.maximum(np.rint(yuan).astype(np.int64), 1) * 100
    return whole - np.where(rng.random(len(yuan)) < 0.5, 10, 0)


def _digits(numbers: IntArray, width: int) -> npt.NDArray[np.str_]:
    """Whole numbers as zero-padded text (numpy string ops: no Python loop per row)."""
    return np.strings.zfill(numbers.astype(np.str_), width)


def everyday_cost_cap_fen(list_fen: IntArray) -> IntArray:
    """The highest unit cost that still leaves ``EVERYDAY_CUSHION`` at the everyday price.

    A one-unit order at price ``p`` keeps ``(1 − c)·p·(1 − Y/X) − handling − shipping`` before
    cost (the bound of :mod:`pricing.engine.bounds` without coupons, plus a few fen of rounding).
    """
    keeps = (1 - COMMISSION_RATE) * (1 - CROSS_STORE_SAVE_YUAN / CROSS_STORE_EVERY_YUAN)
    cap = list_fen * (keeps - EVERYDAY_CUSHION) - SHIPPING_FEN - HANDLING_FEN - 10
    return np.asarray(np.maximum(np.floor(cap), 1), dtype=np.int64)


def generate_catalogue(count: int, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """``count`` SKUs as the products file states them.

    Money columns are yuan floats (``fen / 100``); :func:`catalogue_csv` writes them with two
    decimals, which prints the exact fen amount. Blank optional cells are ``NaN`` / ``<NA>``.
    """
    if count < 1:
        raise ValueError("the catalogue needs at least one SKU")
    rng = np.random.default_rng(seed)
    index = np.arange(count)
    # SKUs of one item (colours of one model) sit next to each other, 1–4 per item, and share
    # its category and everyday price.
    starts_item = rng.random(count) < 0.45
    starts_item[0] = True
    item_number = np.cumsum(starts_item) - 1
    items = int(item_number[-1]) + 1

    roles = rng.choice(
        np.array(["hero", "traffic", "profit", "regular"]), size=count, p=[0.01, 0.05, 0.15, 0.79]
    )
    hero = roles == "hero"
    traffic = roles == "traffic"

    item_category = rng.integers(0, len(CATEGORIES), size=items)
    medians = np.array([median for _, median in CATEGORIES])[item_category]
    item_list_yuan = np.clip(medians * rng.lognormal(0.0, 0.6, size=items), 19.9, 1999.0)
    category_index = item_category[item_number]
    list_fen = _shop_price_fen(item_list_yuan, rng)[item_number]
    list_fen = np.where(hero, np.maximum(list_fen, 9900), list_fen)

    cost_share = 0.25 + 0.35 * rng.beta(1.3, 4.5, size=count)
    cost_share = np.where(hero, rng.uniform(0.18, 0.28, size=count), cost_share)
    cost_fen = np.rint(list_fen * cost_share).astype(np.int64)
    cost_fen = np.minimum(cost_fen, everyday_cost_cap_fen(list_fen))

    # A quarter sold cheaper in the last 30 days (an earlier sale): 3–20% below everyday.
    discounted_before = rng.random(count) < 0.25
    lowest_fen = np.where(
        discounted_before,
        np.minimum(_shop_price_fen(list_fen / 100 * rng.uniform(0.80, 0.97, count), rng), list_fen),
        list_fen,
    )

    base_units = np.round(rng.lognormal(np.log(12.0), 1.1, size=count), 1)
    base_units = np.where(hero, base_units * 8 + 50, base_units)
    base_units = np.where(traffic, base_units * 3, base_units)
    stock_cover = np.where(rng.random(count) < 0.10, rng.uniform(0.6, 1.5, count), 3.0)
    stock = np.ceil(base_units * stock_cover * rng.uniform(0.9, 1.3, count)).astype(np.int64) + 5

    elasticity = np.round(np.clip(rng.normal(-1.8, 0.45, size=count), -4.0, -0.4), 2)
    elasticity = np.where(rng.random(count) < 0.20, np.nan, elasticity)

    limited = np.where(hero | traffic, rng.random(count) < 0.5, rng.random(count) < 0.03)
    limits = pd.array(rng.integers(1, 6, size=count), dtype="Int64")
    limits[~limited] = pd.NA

    b2g1 = np.where(rng.random(count) < 0.85, "yes", "no")

    category_names = np.array([name for name, _ in CATEGORIES])[category_index]
    colour = np.array(COLOURS)[index % len(COLOURS)]
    add = np.strings.add
    titles = add(add(add(add("双11 ", category_names), " 款"), _digits(item_number, 6)), " ")
    return pd.DataFrame(
        {
            "sku": add("SYN", _digits(index, 7)),
            "item_id": add("68", _digits(item_number, 10)),
            "title": add(titles, colour),
            "category": category_names,
            "role": roles,
            "list_price": list_fen / 100,
            "lowest_price": lowest_fen / 100,
            "unit_cost": cost_fen / 100,
            "stock": stock,
            "base_units": base_units,
            "elasticity": elasticity,
            "purchase_limit": limits,
            "b2g1": b2g1,
        },
        columns=list(COLUMNS),
    )


def catalogue_csv(catalogue: pd.DataFrame) -> str:
    """The catalogue as products-file text: money with two decimals, blanks for missing."""
    return str(catalogue.to_csv(index=False, float_format="%.2f", na_rep=""))


def everyday_revenue_fen(catalogue: pd.DataFrame) -> int:
    """Σ base units × everyday price: the scale a budget is set against."""
    list_fen = np.rint(catalogue["list_price"].to_numpy() * 100)
    return int((catalogue["base_units"].to_numpy() * list_fen).sum())


def rules_toml(budget_fen: int = 0) -> str:
    """The benchmark rules: the sample store's rules, 10 ladder levels, 8 coupon candidates."""
    budget = f"{budget_fen // 100}.{budget_fen % 100:02d}"
    levels = ", ".join(f"{level:.2f}" for level in LADDER_LEVELS)
    candidates = ",\n".join(f"    [{t}, {a}]" for t, a in COUPON_CANDIDATES_YUAN)
    return f"""\
# Benchmark rules (benchmarks/synthetic.py): the sample store's rules, 10 levels, 8 coupons.

[platform]
commission_rate = {COMMISSION_RATE}
min_discount = 0.10
lowest_price_factor = 1.0
mechanism = "cross_store"
cross_store_every = {CROSS_STORE_EVERY_YUAN}
cross_store_save = {CROSS_STORE_SAVE_YUAN}

[store]
shipping_cost = {SHIPPING_FEN / 100:.2f}
handling_cost = {HANDLING_FEN / 100:.2f}
margin_floor_rate = 0.0
budget = {budget}

[ladder]
levels = [{levels}]

[coupons]
candidates = [
{candidates},
]
max_tiers = 3

[b2g1]
enabled = true
uplift = 0.30
free_share = 0.15

[demand]
default_elasticity = -1.8
event_uplift = 0.5
cross_store_take_rate = 0.6
units_per_order = 1.6
coupon_redemption = 0.7
coupon_response = 3.0
order_bands = [
    [100, 0.22, 79],
    [300, 0.38, 199],
    [600, 0.27, 399],
    ["inf", 0.13, 799],
]
"""


@dataclass(frozen=True)
class BenchmarkCase:
    """The files of one benchmark size: a catalogue and its rules without and with a budget."""

    count: int
    products: Path
    rules: Path
    rules_with_budget: Path
    budget_fen: int


def write_case(
    directory: Path,
    count: int,
    seed: int = DEFAULT_SEED,
    budget_share: float = DEFAULT_BUDGET_SHARE,
) -> BenchmarkCase:
    """Generate the catalogue of ``count`` SKUs and write it with both rules files."""
    catalogue = generate_catalogue(count, seed)
    directory.mkdir(parents=True, exist_ok=True)
    products = directory / f"products_{count}.csv"
    write_text_atomic(products, catalogue_csv(catalogue))
    budget_fen = int(everyday_revenue_fen(catalogue) * budget_share)
    rules = directory / "rules.toml"
    write_text_atomic(rules, rules_toml())
    rules_with_budget = directory / f"rules_budget_{count}.toml"
    write_text_atomic(rules_with_budget, rules_toml(budget_fen))
    return BenchmarkCase(count, products, rules, rules_with_budget, budget_fen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of SKUs")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--budget-share", type=float, default=DEFAULT_BUDGET_SHARE)
    arguments = parser.parse_args()
    case = write_case(arguments.out, arguments.count, arguments.seed, arguments.budget_share)
    print(f"wrote {case.products}, {case.rules} and {case.rules_with_budget}")


if __name__ == "__main__":
    main()
