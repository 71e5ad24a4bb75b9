"""The stated range of every number price-opt reads, in one place.

Every reader (products, rules, carts, plans, sheets) and ``validate`` refuse a value outside its
range with the usual message (file, row, column, value, what was expected); the models state the
same ranges so that no path around a reader can build an object outside them. The ranges keep
every sum the engine, numpy and the solver compute far inside a 64-bit integer and exact as a
double: at most a million products × ¥10¹³ of stock value each is still below 2⁶³ fen.

==========================  ==================================================================
money per unit or order     ≤ ¥100,000,000 (:data:`models.money.MAX_UNIT_FEN`): prices, costs,
                            coupon thresholds and amounts, shipping, handling, cross-store
                            steps, order bands, cart prices and red packets
totals                      ≤ ¥10,000,000,000,000 (:data:`models.money.MAX_TOTAL_FEN`): the
                            budget, a plan's forecasts; and a catalogue's stock value
                            ``Σ max(list price, cost) × stock``
units                       stock, expected units (``base_units``), a plan's forecast units:
                            ≤ 1,000,000,000 (:data:`MAX_UNITS`)
purchase limit              1 to 1,000,000 (:data:`MAX_PURCHASE_LIMIT`)
cart quantity               1 to 1,000,000 per line (:data:`MAX_CART_QUANTITY`); at most
                            10,000 lines (:data:`MAX_CART_LINES`), 100 stores
elasticity                  −50 to below 0 (:data:`MIN_ELASTICITY`)
rates                       shares in [0, 1) (commission, discounts, official rate, margin
                            floor); ``lowest_price_factor`` in (0, 10]
ladder levels               0.01 to 1, at most 100 levels, four decimals at most
uplifts, responses          ``uplift``, ``event_uplift`` ≤ 100; ``coupon_response`` ≤ 1,000;
                            ``units_per_order`` 1 to 1,000
coupon candidates           at most 12 (a rule of :class:`models.rules.CouponRules`),
                            ``max_tiers`` at most 6 (the ladders enumerated stay below 2,400)
==========================  ==================================================================
"""

from __future__ import annotations

MAX_UNITS = 1_000_000_000
MAX_PURCHASE_LIMIT = 1_000_000
MAX_CART_QUANTITY = 1_000_000
MAX_CART_LINES = 10_000
MAX_CART_STORES = 100
MIN_ELASTICITY = -50.0
MAX_LOWEST_PRICE_FACTOR = 10
MAX_LADDER_LEVELS = 100
MAX_UPLIFT = 100.0
MAX_COUPON_RESPONSE = 1_000.0
MAX_UNITS_PER_ORDER = 1_000.0
MAX_COUPON_TIERS = 6
MAX_TEXT_CHARACTERS = 1_000
