"""Proof of no loss: the worst cart per product and order, margins and witness carts."""
