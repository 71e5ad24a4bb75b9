"""A coupon tier as people write it: ``299-20``, ``满299减20``, ``满299减20元`` (yuan).

One reader for every place a tier is typed rather than stored as JSON: ``check --coupons`` and
the settings rows of a submission sheet. The threshold may be 0 (a no-threshold coupon).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from models.money import MoneyFormatError, to_fen
from models.rules import (
    CouponTier,
    PiecesDiscountActivity,
    PiecesDiscountTier,
    PiecesOffer,
    PiecesSaveActivity,
    PiecesSaveTier,
)

TIER_EXPECTED = "expected threshold-amount in yuan, e.g. 299-20 or 满299减20"
_TIER_TEXT = re.compile(r"^\s*满?\s*([0-9.]+)\s*(?:[-:/]|减)\s*([0-9.]+)\s*元?\s*$")


class TierTextError(ValueError):
    """A tier's text that is not a coupon tier; the message says what was expected."""


def parse_tier(text: str) -> CouponTier:
    """The coupon tier ``text`` names; :class:`TierTextError` says what is wrong with it
    (its shape, an amount finer than a fen, or a tier that saves its whole threshold)."""
    match = _TIER_TEXT.match(text)
    if match is None:
        raise TierTextError(TIER_EXPECTED)
    try:
        return CouponTier(threshold_fen=to_fen(match.group(1)), amount_fen=to_fen(match.group(2)))
    except MoneyFormatError as error:
        raise TierTextError(str(error)) from None
    except ValidationError as error:
        raise TierTextError("; ".join(
            issue["msg"].removeprefix("Value error, ") for issue in error.errors()
        )) from None


OFFER_EXPECTED = "expected a pieces offer as its label, e.g. 2pcs×0.9/3pcs×0.8 or 2pcs-20"
_DISCOUNT_TIER = re.compile(r"^\s*(\d+)\s*pcs\s*[×x*]\s*([0-9.]+)\s*$")
_SAVE_TIER = re.compile(r"^\s*(\d+)\s*pcs\s*-\s*([0-9.]+)\s*$")


def parse_offer(text: str) -> PiecesOffer:
    """The pieces offer its label names (``PiecesDiscountActivity.label``: ``2pcs×0.9``, tiers
    joined by ``/``; ``PiecesSaveActivity.label``: ``2pcs-20``); :class:`TierTextError` says
    what is wrong."""
    parts = text.split("/")
    try:
        discounts = [_DISCOUNT_TIER.match(part) for part in parts]
        if all(discounts):
            return PiecesDiscountActivity(tiers=tuple(
                PiecesDiscountTier(pieces=int(m.group(1)), rate=Decimal(m.group(2)))
                for m in discounts if m is not None
            ))
        saves = [_SAVE_TIER.match(part) for part in parts]
        if all(saves):
            return PiecesSaveActivity(tiers=tuple(
                PiecesSaveTier(pieces=int(m.group(1)), amount_fen=to_fen(m.group(2)))
                for m in saves if m is not None
            ))
    except (MoneyFormatError, InvalidOperation):
        raise TierTextError(OFFER_EXPECTED) from None
    except ValidationError as error:
        raise TierTextError("; ".join(
            issue["msg"].removeprefix("Value error, ") for issue in error.errors()
        )) from None
    raise TierTextError(OFFER_EXPECTED)
