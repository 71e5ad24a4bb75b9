"""The exact stacking engine: quote a cart to the fen, sign-up rules, margin bounds,
reachability."""
