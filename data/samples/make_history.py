"""Make the sample sales history ``history.csv`` (and ``history_truth.csv``) from the catalogue.

Run from the project folder: ``.venv/bin/python data/samples/make_history.py``. The simulation
is seeded and its parameters are stated in :class:`pricing.demand.simulate.SimulationParameters`
(defaults): 365 days from 2025-11-01 (Double 11 on 1–11 November 2025, 618 in June 2026),
a SKU's daily units at its list price = its ``base_units`` / 40.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pricing.demand.simulate import simulate_history

HERE = Path(__file__).resolve().parent
DAILY_SHARE_OF_EVENT_UNITS = 1 / 40


def main() -> None:
    products = pd.read_csv(HERE / "products.csv", encoding="utf-8-sig", dtype={"sku": str})
    simulated = simulate_history(
        skus=products["sku"].tolist(),
        categories=products["category"].tolist(),
        list_prices=products["list_price"].astype(float).tolist(),
        daily_base=(products["base_units"].astype(float) * DAILY_SHARE_OF_EVENT_UNITS).tolist(),
    )
    simulated.history.to_csv(HERE / "history.csv", index=False, encoding="utf-8")
    simulated.truth.round(4).to_csv(HERE / "history_truth.csv", index=False, encoding="utf-8")


if __name__ == "__main__":
    main()
