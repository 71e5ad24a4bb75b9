"""Every file format price-opt reads or writes: products, rules, carts, plans, atomic writes.

Formats never import the checker or the optimizer; they turn bytes into models and back.
"""
