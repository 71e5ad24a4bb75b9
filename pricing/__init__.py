"""The price-opt engine: input, exact stacking, the worst-basket checker, the optimizer."""
