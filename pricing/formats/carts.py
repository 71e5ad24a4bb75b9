"""The public JSON form of carts and quotes (money as yuan strings with two decimals).

A cart file (see the README) is read into :class:`models.Cart`; every bad field is reported at
once by its JSON path (``lines[2].unit_price``), never as a raw validation error.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.cart import MAX_EXCLUSIVE_LINES, Activity, Cart, CartQuote, SuperInstant
from models.limits import MAX_CART_LINES, MAX_CART_QUANTITY, MAX_CART_STORES
from models.money import format_yuan
from models.rules import CouponTier, OfficialRounding, StoreTools
from pricing.errors import CartError, Problem
from pricing.formats.json_fields import JsonReader
from pricing.formats.json_files import MAX_CART_BYTES, read_json_capped

_ACTIVITY_KINDS = ("spend_save", "b2g1", "pieces_discount", "pieces_save")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Reader(JsonReader):
    """The shared JSON reader, plus a cart's rates (a share in [0, 1))."""

    def rate(
        self,
        value: object,
        path: str,
        low: Decimal = Decimal(0),
        high: Decimal = Decimal(1),
        example: str = "0.15",
    ) -> Decimal | None:
        """A rate in ``[low, high)`` (``(0, 1)`` when ``low`` is above 0 only by strictness)."""
        expected = f"expected a rate from {low} to below {high}, e.g. \"{example}\""
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidOperation
            rate = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, expected, value)
            return None
        if not rate.is_finite() or not (low <= rate < high):
            self.fail(path, expected, value)
            return None
        return rate

    def at_least_one(self, data: dict[str, Any], key: str, path: str) -> int:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(f"{path}.{key}", "expected a whole number, at least 1", value)
            return 1
        return value

    def choice(self, data: dict[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str:
        value = data.get(key, allowed[0])
        if value not in allowed:
            self.fail(
                f"{path}.{key}",
                f"expected one of {', '.join(json.dumps(a) for a in allowed)}",
                value,
            )
            return allowed[0]
        return str(value)

    def tier_list(self, data: dict[str, Any], path: str) -> list[Any]:
        tiers = data.get("tiers", [])
        if not isinstance(tiers, list) or not tiers:
            self.fail(f"{path}.tiers", "expected a non-empty list of tiers", tiers)
            return []
        return tiers


def _activity(reader: _Reader, value: object, path: str) -> dict[str, Any] | None:
    activity = reader.obj(value, path)
    kind = activity.get("kind")
    if kind == "b2g1":
        reader.keys(activity, path, {"kind"})
        return {"kind": "b2g1"}
    if kind not in _ACTIVITY_KINDS:
        reader.fail(
            f"{path}.kind", f"expected one of {', '.join(map(json.dumps, _ACTIVITY_KINDS))}", kind
        )
        return None
    reader.keys(activity, path, {"kind", "tiers"})
    tiers: list[dict[str, Any]] = []
    for i, raw in enumerate(reader.tier_list(activity, path)):
        where = f"{path}.tiers[{i}]"
        if kind == "spend_save":
            tiers.append(reader.tier(raw, where))
            continue
        tier = reader.obj(raw, where)
        if kind == "pieces_discount":
            reader.keys(tier, where, {"pieces", "rate"})
            rate = reader.rate(tier.get("rate"), f"{where}.rate", example="0.90")
            if rate is not None and rate == 0:
                reader.fail(f"{where}.rate", "expected a rate above 0, e.g. \"0.90\"", "0")
            tiers.append({"pieces": reader.at_least_one(tier, "pieces", where), "rate": rate})
        else:
            reader.keys(tier, where, {"pieces", "amount"})
            tiers.append({
                "pieces": reader.at_least_one(tier, "pieces", where),
                "amount_fen": reader.money(tier, "amount", where),
            })
    return {"kind": kind, "tiers": tiers}


def read_pieces_offer(reader: JsonReader, value: object, path: str) -> dict[str, Any] | None:
    """A pieces offer (``pieces_discount`` or ``pieces_save``) in the cart format's JSON, its
    problems recorded by ``reader`` (a plan's ``pieces_offer``)."""
    inner = _Reader(reader.source)
    offer = _activity(inner, value, path)
    reader.problems.extend(inner.problems)
    if offer is not None and offer.get("kind") not in ("pieces_discount", "pieces_save"):
        reader.fail(f"{path}.kind", 'expected "pieces_discount" or "pieces_save"',
                    offer.get("kind"))
        return None
    return offer


def _super_instant(reader: _Reader, value: object, path: str) -> dict[str, Any]:
    data = reader.obj(value, path)
    reader.keys(data, path, {"rate", "amount"})
    if ("rate" in data) == ("amount" in data):
        reader.fail(path, "expected either {\"rate\": \"0.10\"} or {\"amount\": \"29.00\"}")
        return {}
    if "rate" in data:
        rate = reader.rate(data["rate"], f"{path}.rate", Decimal("0.10"), Decimal("0.50"), "0.10")
        return {"rate": rate}
    return {"amount_fen": reader.money(data, "amount", path)}


def _store(reader: _Reader, value: object, path: str) -> dict[str, Any]:
    data = reader.obj(value, path)
    reader.keys(data, path, {"coupons", "activity", "cross_store", "official_rate"})
    store: dict[str, Any] = {}
    coupons = data.get("coupons", [])
    if not isinstance(coupons, list):
        reader.fail(f"{path}.coupons", "expected a list of {threshold, amount}", coupons)
        coupons = []
    store["coupons"] = [reader.tier(c, f"{path}.coupons[{i}]") for i, c in enumerate(coupons)]
    if data.get("activity") is not None:
        store["activity"] = _activity(reader, data["activity"], f"{path}.activity")
    if data.get("cross_store") is not None:
        cross = reader.obj(data["cross_store"], f"{path}.cross_store")
        reader.keys(cross, f"{path}.cross_store", {"every", "save"})
        store["cross_store"] = {
            "every_fen": reader.money(cross, "every", f"{path}.cross_store"),
            "save_fen": reader.money(cross, "save", f"{path}.cross_store"),
        }
    if data.get("official_rate") is not None:
        store["official_rate"] = reader.rate(data["official_rate"], f"{path}.official_rate")
    if "cross_store" in store and "official_rate" in store:
        reader.fail(path, "a store has either cross_store or official_rate, never both")
    return store


def _line(reader: _Reader, value: object, path: str, stores: set[str]) -> dict[str, Any]:
    data = reader.obj(value, path)
    reader.keys(
        data,
        path,
        {
            "sku", "store", "unit_price", "quantity", "item_coupon", "b2g1", "item_instant",
            "super_instant", "event", "store_coupons",
        },
    )
    for key in ("sku", "store"):
        given = data.get(key)
        if given is not None and not isinstance(given, str):
            reader.fail(f"{path}.{key}", "expected text", given)
        elif isinstance(given, str) and _CONTROL.search(given):
            reader.fail(f"{path}.{key}", "holds a control character; expected plain text",
                        given)
    line: dict[str, Any] = {
        "sku": str(data.get("sku", "")),
        "store": str(data.get("store", "")),
        "unit_price_fen": reader.money(data, "unit_price", path),
        "b2g1": bool(data.get("b2g1", False)),
        "event": bool(data.get("event", True)),
        "store_coupons": bool(data.get("store_coupons", True)),
    }
    if not line["sku"]:
        reader.fail(f"{path}.sku", "missing; expected the SKU code")
    if line["store"] not in stores:
        reader.fail(f"{path}.store", f"unknown store (known: {', '.join(sorted(stores))})",
                    data.get("store"))
    quantity = data.get("quantity")
    if (isinstance(quantity, bool) or not isinstance(quantity, int)
            or not 1 <= quantity <= MAX_CART_QUANTITY):
        reader.fail(f"{path}.quantity",
                    f"expected a whole number of units, 1 to {MAX_CART_QUANTITY:,}", quantity)
        quantity = 1
    line["quantity"] = quantity
    if data.get("item_coupon") is not None:
        line["item_coupon"] = reader.tier(data["item_coupon"], f"{path}.item_coupon")
    if data.get("item_instant") is not None:
        line["item_instant_fen"] = reader.money(data, "item_instant", path)
        if line["item_instant_fen"] and line["item_instant_fen"] >= line["unit_price_fen"]:
            reader.fail(f"{path}.item_instant", "must be below the unit price",
                        data["item_instant"])
    if data.get("super_instant") is not None:
        line["super_instant"] = _super_instant(reader, data["super_instant"],
                                               f"{path}.super_instant")
    return line


def cart_from_json(data: object, source: str = "cart") -> Cart:
    """Build a cart from its JSON form, reporting every bad field at once."""
    reader = _Reader(source)
    root = reader.obj(data, "cart")
    reader.keys(
        root, "cart", {"stores", "lines", "red_packet", "store_tools", "official_rounding"}
    )
    store_tools = reader.choice(root, "store_tools", "cart", tuple(StoreTools))
    official_rounding = reader.choice(root, "official_rounding", "cart", tuple(OfficialRounding))
    raw_stores = reader.obj(root.get("stores", {}), "stores")
    if not raw_stores:
        reader.fail("stores", "expected at least one store")
    if len(raw_stores) > MAX_CART_STORES:
        reader.fail("stores", f"{len(raw_stores):,} stores; a cart has at most "
                    f"{MAX_CART_STORES}")
        raw_stores = {}
    for name in raw_stores:
        if _CONTROL.search(name):
            reader.fail(f"stores.{name!r}", "a store name holds a control character")
    stores = {name: _store(reader, offer, f"stores.{name}") for name, offer in raw_stores.items()}
    raw_lines = root.get("lines", [])
    if not isinstance(raw_lines, list) or not raw_lines:
        reader.fail("lines", "expected a non-empty list of lines", raw_lines)
        raw_lines = []
    if len(raw_lines) > MAX_CART_LINES:
        reader.fail("lines", f"{len(raw_lines):,} lines; a cart has at most {MAX_CART_LINES:,}")
        raw_lines = []
    lines = [_line(reader, line, f"lines[{i}]", set(stores)) for i, line in enumerate(raw_lines)]
    if store_tools == StoreTools.EXCLUSIVE.value:
        for name, offer in sorted(stores.items()):
            own = [line for line in lines if line["store"] == name]
            with_coupon = bool(offer.get("coupons")) or any("item_coupon" in line for line in own)
            if offer.get("activity") and with_coupon and len(own) > MAX_EXCLUSIVE_LINES:
                reader.fail(
                    f"stores.{name}",
                    f"store {name} has {len(own)} lines, a coupon and a multi-piece offer; "
                    f"under exclusive store tools at most {MAX_EXCLUSIVE_LINES} such lines are "
                    "quoted (merge lines of the same SKU and price)",
                )
    for name in sorted({line["store"] for line in lines if "super_instant" in line}):
        offer = stores.get(name, {})
        if "cross_store" in offer or "official_rate" in offer:
            reader.fail(
                f"stores.{name}",
                f"store {name} runs the cross-store reduction or the official discount, which "
                "does not combine with a line's super_instant",
            )
    red_packet = reader.money(root, "red_packet", "cart", default=0)
    if reader.problems:
        raise CartError(reader.problems)
    try:
        return Cart(
            stores=stores,
            lines=tuple(lines),
            red_packet_fen=red_packet,
            store_tools=StoreTools(store_tools),
            official_rounding=OfficialRounding(official_rounding),
        )
    except ValidationError as error:
        problems = [
            Problem(source, issue["msg"], column=".".join(str(part) for part in issue["loc"]))
            for issue in error.errors()
        ]
        raise CartError(problems) from None


def load_cart(path: Path) -> Cart:
    """Read a cart file (JSON, at most :data:`~pricing.formats.json_files.MAX_CART_BYTES`)."""
    data = read_json_capped(path, MAX_CART_BYTES, "cart file", CartError)
    return cart_from_json(data, str(path))


def _tier_json(tier: CouponTier) -> dict[str, str]:
    return {"threshold": format_yuan(tier.threshold_fen), "amount": format_yuan(tier.amount_fen)}


def activity_to_json(activity: Activity) -> dict[str, Any]:
    """The public JSON form of a store's multi-piece offer."""
    if activity.kind == "b2g1":
        return {"kind": "b2g1"}
    if activity.kind == "spend_save":
        return {"kind": "spend_save", "tiers": [_tier_json(tier) for tier in activity.tiers]}
    if activity.kind == "pieces_discount":
        return {
            "kind": "pieces_discount",
            "tiers": [{"pieces": t.pieces, "rate": str(t.rate)} for t in activity.tiers],
        }
    return {
        "kind": "pieces_save",
        "tiers": [
            {"pieces": t.pieces, "amount": format_yuan(t.amount_fen)} for t in activity.tiers
        ],
    }


def _super_instant_json(super_instant: SuperInstant) -> dict[str, str]:
    if super_instant.rate is not None:
        return {"rate": str(super_instant.rate)}
    assert super_instant.amount_fen is not None
    return {"amount": format_yuan(super_instant.amount_fen)}


def cart_to_json(cart: Cart) -> dict[str, Any]:
    """The public JSON form of a cart (what ``quote`` reads back)."""
    stores: dict[str, Any] = {}
    for name, offer in cart.stores.items():
        store: dict[str, Any] = {}
        if offer.coupons:
            store["coupons"] = [_tier_json(tier) for tier in offer.coupons]
        if offer.activity is not None:
            store["activity"] = activity_to_json(offer.activity)
        if offer.cross_store is not None:
            store["cross_store"] = {
                "every": format_yuan(offer.cross_store.every_fen),
                "save": format_yuan(offer.cross_store.save_fen),
            }
        if offer.official_rate is not None:
            store["official_rate"] = str(offer.official_rate)
        stores[name] = store
    lines = []
    for line in cart.lines:
        entry: dict[str, Any] = {
            "sku": line.sku,
            "store": line.store,
            "unit_price": format_yuan(line.unit_price_fen),
            "quantity": line.quantity,
        }
        if line.item_coupon is not None:
            entry["item_coupon"] = _tier_json(line.item_coupon)
        if line.b2g1:
            entry["b2g1"] = True
        if line.item_instant_fen:
            entry["item_instant"] = format_yuan(line.item_instant_fen)
        if line.super_instant is not None:
            entry["super_instant"] = _super_instant_json(line.super_instant)
        if not line.event:
            entry["event"] = False
        if not line.store_coupons:
            entry["store_coupons"] = False
        lines.append(entry)
    result: dict[str, Any] = {
        "store_tools": cart.store_tools.value,
        "official_rounding": cart.official_rounding.value,
        "stores": stores,
        "lines": lines,
    }
    if cart.red_packet_fen:
        result["red_packet"] = format_yuan(cart.red_packet_fen)
    return result


def quote_to_json(result: CartQuote) -> dict[str, Any]:
    """The public JSON form of a quote: money as two-decimal strings."""
    return {
        "paid": format_yuan(result.paid_fen),
        "lines": [
            {
                "sku": line.sku,
                "store": line.store,
                "quantity": line.quantity,
                "subtotal": format_yuan(line.subtotal_fen),
                "official_discount": format_yuan(line.official_discount_fen),
                "instant_discount": format_yuan(line.instant_discount_fen),
                "activity_discount": format_yuan(line.activity_discount_fen),
                "coupon_discount": format_yuan(line.coupon_discount_fen),
                "cross_store_discount": format_yuan(line.cross_store_discount_fen),
                "red_packet": format_yuan(line.red_packet_fen),
                "paid": format_yuan(line.paid_fen),
                "merchant_receives": format_yuan(line.merchant_receives_fen),
            }
            for line in result.lines
        ],
        "stores": [
            {
                "store": store.store,
                "subtotal": format_yuan(store.subtotal_fen),
                "paid": format_yuan(store.paid_fen),
                "merchant_receives": format_yuan(store.merchant_receives_fen),
                "coupon_used": store.coupon_used,
            }
            for store in result.stores
        ],
    }
