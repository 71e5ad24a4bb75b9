"""Benchmark ``price-opt fit``: a simulated daily history of N SKUs × D days, read and fitted.

``python benchmarks/fit_demand.py --skus 10000 --days 365`` simulates the history with
:func:`pricing.demand.simulate.simulate_history` (seeded; categories of 50 SKUs; list prices
from ¥20 to ¥1,000; a SKU's daily units at list price log-normal around 2), writes it as CSV
in a temporary folder, then measures, each in a fresh process so that its peak memory is its
own: reading the history, the fit (unpooled pass, hyper-parameters, pooled pass), writing the
demand file, and with ``--holdout-last`` the backtest. It prints one line per measurement and
the elasticity recovery (share of true elasticities inside their 90 % interval).
``--out FILE`` appends the table, as markdown, to FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def simulate(skus: int, days: int, folder: Path, holdout: int) -> tuple[Path, Path, float]:
    """Write the history and the true parameters; return the held-out WAPE of the true
    expected units (the noise floor no forecast can beat on average)."""
    import numpy as np

    from pricing.demand.simulate import SimulationParameters, simulate_history

    rng = np.random.default_rng(12)
    categories = [f"C{i // 50:04d}" for i in range(skus)]
    simulated = simulate_history(
        skus=[f"SKU{i:06d}" for i in range(skus)],
        categories=categories,
        list_prices=np.round(np.exp(rng.uniform(np.log(20), np.log(1000), skus)), 0).tolist(),
        daily_base=np.exp(rng.normal(np.log(2.0), 0.8, skus)).tolist(),
        parameters=SimulationParameters(
            days=days, seed=34, category_elasticity={}, flat_price_skus=skus // 100,
            new_skus=skus // 100,
        ),
    )
    history = folder / "history.csv"
    truth = folder / "truth.csv"
    simulated.history.to_csv(history, index=False)
    simulated.truth.to_csv(truth, index=False)
    dates = simulated.history["date"].to_numpy(dtype="datetime64[D]")
    held = dates > dates.max() - np.timedelta64(holdout, "D")
    actual = simulated.history["units"].to_numpy()[held]
    oracle = float(np.abs(simulated.expected[held] - actual).sum() / actual.sum())
    return history, truth, oracle


def measure(history: Path, truth: Path, holdout: int | None) -> dict[str, Any]:
    """Read, fit, write (and backtest): seconds per step and the peak memory."""
    import numpy as np
    import pandas as pd

    from pricing.demand.backtest import run_backtest
    from pricing.demand.fit import fit_demand
    from pricing.formats.demand_file import write_demand
    from pricing.formats.history import load_history

    seconds: dict[str, float] = {}
    cpu_started = time.process_time()
    started = time.perf_counter()
    loaded = load_history(history)
    seconds["read"] = time.perf_counter() - started
    started = time.perf_counter()
    result = fit_demand(loaded)
    seconds["fit"] = time.perf_counter() - started
    started = time.perf_counter()
    write_demand(result.model, history.with_name("demand.csv"))
    seconds["write"] = time.perf_counter() - started
    seconds["cpu"] = time.process_time() - cpu_started
    scores = None
    if holdout:
        started = time.perf_counter()
        backtest = run_backtest(loaded, holdout)
        seconds["backtest"] = time.perf_counter() - started
        scores = {s.name: round(s.wape, 4) for s in backtest.scores}
    true = pd.read_csv(truth).set_index("sku").loc[list(result.model.skus), "elasticity"]
    inside = (result.model.elasticity_low <= true.to_numpy()) & (
        true.to_numpy() <= result.model.elasticity_high
    )
    return {
        "rows": loaded.rows,
        "skus": len(loaded.skus),
        "seconds": seconds,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "coverage": float(np.mean(inside)),
        "wape": scores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--holdout-last", type=int, default=28)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure(*arguments.measure, arguments.holdout_last)))
        return
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        history, truth, oracle = simulate(
            arguments.skus, arguments.days, Path(folder), arguments.holdout_last
        )
        simulate_seconds = time.perf_counter() - started
        size = history.stat().st_size
        completed = subprocess.run(
            [sys.executable, __file__, "--measure", str(history), str(truth),
             "--holdout-last", str(arguments.holdout_last)],
            check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    load = f"{os.getloadavg()[0]:.1f}"
    wapes = ", ".join(f"{name} {value:.1%}" for name, value in (figures["wape"] or {}).items())
    s = figures["seconds"]
    fit_command = s["read"] + s["fit"] + s["write"]
    line = (
        f"| {figures['skus']:,} | {arguments.days} | {figures['rows']:,} | {size / 2**20:,.0f} MiB "
        f"| {s['read']:.1f} | {s['fit']:.1f} | {s['write']:.2f} | {fit_command:.1f} "
        f"| {s['cpu']:.1f} | {load} "
        f"| {s.get('backtest', 0):.1f} | {figures['peak_rss'] / 2**30:.2f} GiB "
        f"| {figures['coverage']:.0%} | {wapes}; true parameters {oracle:.1%} |"
    )
    header = (
        "| SKUs | days | rows | CSV | read s | fit s | write s | `fit` total s | its CPU s "
        "| load | backtest s | peak RSS | elasticity in 90 % interval | holdout WAPE |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    print(f"simulated in {simulate_seconds:.1f} s")
    print(header)
    print(line)
    if arguments.out:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with arguments.out.open("a", encoding="utf-8") as out:
            out.write(
                f"\n## Demand fit (`price-opt fit`)\n\nMeasured {stamp} on {os.cpu_count()} cores, "
                f"Python {platform.python_version()}. Command: `python benchmarks/fit_demand.py "
                f"--skus {arguments.skus} --days {arguments.days} --holdout-last "
                f"{arguments.holdout_last}`. *`fit` total* = read + fit + write (what "
                "`price-opt fit` does without `--holdout-last`); *backtest* is the extra fit "
                "and forecast that `--holdout-last` adds; *its CPU s*: CPU seconds of read + fit + "
                "write (all threads); *load*: the machine's 1-minute load average at the end "
                "(other jobs share the 2 cores, so wall seconds above ~2 mean waiting); "
                "*peak RSS* is the measuring process's, all steps included.\n\n"
                f"{header}\n{line}\n"
            )


if __name__ == "__main__":
    main()
