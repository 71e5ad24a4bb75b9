"""Demand learned from the store's sales history: fit, forecast, backtest, simulate."""
