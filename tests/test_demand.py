"""Demand from history: the fit recovers the simulation's parameters, the backtest beats the
naive forecast, the demand file round-trips, and ``fit``/``forecast`` work from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cli
from models.demand import Period
from pricing.demand.backtest import run_backtest
from pricing.demand.fit import FitResult, fit_demand
from pricing.demand.simulate import SimulationParameters, simulate_history
from pricing.formats.demand_file import load_demand, write_demand
from pricing.formats.history import load_history

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sample_fit() -> FitResult:
    return fit_demand(load_history(SAMPLES / "history.csv"))


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "history_truth.csv").set_index("sku")


def test_the_fit_recovers_the_simulated_elasticities_within_their_intervals(
    sample_fit: FitResult, truth: pd.DataFrame
) -> None:
    model = sample_fit.model
    true = truth.loc[list(model.skus), "elasticity"].to_numpy()
    inside = (model.elasticity_low <= true) & (true <= model.elasticity_high)
    assert inside.mean() >= 0.8  # 90 % intervals; 56 of 60 on the sample
    assert (model.elasticity < 0).all()
    assert np.corrcoef(model.elasticity, true)[0, 1] > 0.8


def test_the_fit_recovers_lifts_and_cannibalization(
    sample_fit: FitResult, truth: pd.DataFrame
) -> None:
    model = sample_fit.model
    rows = truth.loc[list(model.skus)]
    assert np.median(np.abs(np.log(model.promo_lift / rows["promo_lift"]))) < 0.1
    assert np.median(np.abs(np.log(model.feature_lift / rows["feature_lift"]))) < 0.1
    # the cross-elasticity is 0.5 for every SKU; each SKU's estimate is noisy, the mean is not
    assert abs(float(np.mean(model.cross_elasticity)) - 0.5) < 0.15


def test_flat_price_skus_borrow_their_category_and_say_so(
    sample_fit: FitResult, truth: pd.DataFrame
) -> None:
    model = sample_fit.model
    flat_skus = truth.index[truth["flat_price"]].tolist()
    assert flat_skus
    for sku in flat_skus:
        i = model.skus.index(sku)
        assert model.source[i] == "category"
        assert "price never moved" in model.flags[i]
        assert "never on promotion" in model.flags[i]


def test_the_backtest_beats_the_naive_forecast_clearly() -> None:
    result = run_backtest(load_history(SAMPLES / "history.csv"), 28)
    model, naive, log_log = result.scores
    assert model.wape < 0.85 * naive.wape
    assert model.wape < log_log.wape
    assert abs(model.bias) < 0.1
    assert result.rows == 60 * 28


def test_the_demand_file_round_trips(sample_fit: FitResult, tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    write_demand(sample_fit.model, path)
    read = load_demand(path)
    assert read.skus == sample_fit.model.skus
    assert read.period is Period.DAY
    np.testing.assert_allclose(read.elasticity, sample_fit.model.elasticity, atol=1e-4)
    np.testing.assert_allclose(read.dow, sample_fit.model.dow, atol=1e-4)
    assert read.flags == sample_fit.model.flags


def test_weekly_history_fits_without_day_of_week(tmp_path: Path) -> None:
    simulated = simulate_history(
        [f"S{i}" for i in range(12)], ["a"] * 6 + ["b"] * 6, [100.0] * 12, [20.0] * 12,
        SimulationParameters(days=364, seed=7),
    )
    daily = simulated.history
    daily["week"] = pd.to_datetime(daily["date"]).dt.to_period("W-SUN").dt.start_time
    weekly = daily.groupby(["sku", "week"], as_index=False).agg(
        units=("units", "sum"), price=("price", "mean"), promo=("promo", "max"),
        feature=("feature", "max"), category=("category", "first"))
    weekly["date"] = weekly["week"].dt.strftime("%Y-%m-%d")
    path = tmp_path / "weekly.csv"
    weekly[["date", "sku", "units", "price", "promo", "feature", "category"]].to_csv(path,
                                                                                     index=False)
    history = load_history(path)
    assert history.period is Period.WEEK
    model = fit_demand(history).model
    assert (model.dow == 1.0).all()
    assert (model.elasticity < 0).all()


def test_fit_and_forecast_from_the_command_line(tmp_path: Path) -> None:
    demand = tmp_path / "demand.csv"
    result = runner.invoke(
        cli.app,
        ["fit", str(SAMPLES / "history.csv"), "--out", str(demand), "--holdout-last", "28",
         "--products", str(SAMPLES / "products.csv")],
    )
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "period inferred: day" in output
    assert "naive (SKU mean)" in output and "WAPE" in output
    assert "M18-R34-BL: price never moved" in output
    header = demand.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:12] == ["sku", "base_units", "ref_price", "elasticity", "elasticity_low",
                           "elasticity_high", "promo_lift", "feature_lift", "cross_elasticity",
                           "period", "n_obs", "source"]
    scenario = tmp_path / "scenario.csv"
    scenario.write_text(
        "date,sku,price,promo\n2026-11-11,M64-AE86-WB,49.00,1\n2026-11-11,M64-R34-BL,69,\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli.app, ["forecast", str(demand), str(scenario), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [(r["date"], r["sku"]) for r in rows] == [
        ("2026-11-11", "M64-AE86-WB"), ("2026-11-11", "M64-R34-BL")]
    assert all(r["units"] > 0 for r in rows)
    out = tmp_path / "forecast.csv"
    result = runner.invoke(cli.app, ["forecast", str(demand), str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8-sig").startswith("date,sku,units\n2026-11-11,")


def test_forecast_names_unknown_skus_and_never_overwrites_inputs(tmp_path: Path) -> None:
    demand = tmp_path / "demand.csv"
    write_demand(fit_demand(load_history(SAMPLES / "history.csv")).model, demand)
    scenario = tmp_path / "scenario.csv"
    scenario.write_text("date,sku,price\n2026-11-11,NOPE,10\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["forecast", str(demand), str(scenario)])
    assert result.exit_code == 1
    assert "row 2, column 'sku': no fitted row for this SKU" in flat(result.output)
    result = runner.invoke(cli.app, ["forecast", str(demand), str(scenario), "--out",
                                     str(demand)])
    assert result.exit_code == 1
    assert "never overwritten" in flat(result.output)


def test_fit_reports_a_bad_history_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,sku,units,price\n2025-11-01,A,-2,0\nnot-a-date,A,1,5\n",
                   encoding="utf-8")
    result = runner.invoke(cli.app, ["fit", str(bad), "--out", str(tmp_path / "d.csv")])
    assert result.exit_code == 1
    output = flat(result.output)
    assert "row 2, column 'units': must not be negative" in output
    assert "row 2, column 'price': must be above 0" in output
    assert "row 3, column 'date': not a date" in output
    assert "Traceback" not in output
    assert not (tmp_path / "d.csv").exists()


def test_the_models_holdout_error_is_close_to_the_noise_floor() -> None:
    """GIVEN the sample's simulation re-run (same seed), WHEN the last 28 days are held out,
    THEN the model's WAPE is within 5 % of the WAPE of the true expected units."""
    products = pd.read_csv(SAMPLES / "products.csv", encoding="utf-8-sig", dtype={"sku": str})
    simulated = simulate_history(
        products["sku"].tolist(), products["category"].tolist(),
        products["list_price"].astype(float).tolist(),
        (products["base_units"].astype(float) / 40).tolist(),
    )
    dates = simulated.history["date"].to_numpy(dtype="datetime64[D]")
    held = dates > dates.max() - np.timedelta64(28, "D")
    actual = simulated.history["units"].to_numpy()[held]
    oracle = np.abs(simulated.expected[held] - actual).sum() / actual.sum()
    model = run_backtest(load_history(SAMPLES / "history.csv"), 28).scores[0]
    assert model.wape < 1.05 * oracle
