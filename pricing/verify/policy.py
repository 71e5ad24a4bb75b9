"""How many witness carts the checker builds, for every command in one place.

The checker always bounds every product (vectorized, cheap); quoting a witness cart (the real
worst cart found) costs about a millisecond a product. Small catalogues get a witness for every
product; above a size, only the products closest to their floor get one, so that a 300,000-SKU
plan is checked in seconds. The tightest products always get theirs: a product that loses money
always has a witness.

=====================  ==========================  ==================================
caller                 witness for every product   above that, witnesses for the …
=====================  ==========================  ==================================
``plan``               up to 500 products          20 tightest (planning runs often)
``check``, ``export``  up to 2,000 products        200 tightest
``report``             up to 2,000 products        400 tightest (its waterfalls and carts)
report's 50%-off test  up to 150 products          none (the chart shows the bounds)
=====================  ==========================  ==================================

The 50%-off test's witnesses are shown only where its chart names each bar (up to
``pricing.outputs.charts.LABELLED_BARS`` products, whose hovers quote the witness margin);
above that the page shows its bounds alone, so no witness is built for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WitnessPolicy:
    """Witness-cart limits; each method gives ``check_store``'s ``witnesses_for`` (None: all)."""

    every_product_up_to: int = 2_000
    worst_products: int = 200
    drawn_products: int = 400
    plan_every_product_up_to: int = 500
    plan_worst_products: int = 20
    stress_test_every_product_up_to: int = 150

    def for_plan(self, product_count: int) -> int | None:
        """The check of every plan ``plan`` writes."""
        if product_count <= self.plan_every_product_up_to:
            return None
        return self.plan_worst_products

    def for_check(self, product_count: int) -> int | None:
        """``check`` and the check ``export`` runs before writing the sheet."""
        return None if product_count <= self.every_product_up_to else self.worst_products

    def for_report(self, product_count: int) -> int | None:
        """The report's check: a waterfall and a cart for each product that has a witness."""
        return None if product_count <= self.every_product_up_to else self.drawn_products

    def for_stress_test(self, product_count: int) -> int | None:
        """The report's 50%-off test: bounds only, above the products its chart labels."""
        return None if product_count <= self.stress_test_every_product_up_to else 0


WITNESSES = WitnessPolicy()
