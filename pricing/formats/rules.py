"""The rules file (TOML): the platform's rules, the store's limits, the optimizer's choices.

TOML with the sections and keys of :data:`RULES_KEYS`; amounts of money in yuan (numbers or
strings, at most two decimals), rates as shares (``0.05`` = 5 %), read through ``str`` into
``Decimal`` so that ``0.05`` means exactly 0.05. Every key is optional. Unknown sections and keys
are errors that name them; the models' own checks come back as problems naming the section and
key. Every problem of the file is reported at once, as one :class:`~pricing.errors.InputError`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.money import MoneyFormatError, format_yuan, to_fen
from models.rules import (
    B2G1Rules,
    CouponRules,
    DemandRules,
    DiscountLadder,
    PlatformRules,
    Rules,
    StoreRules,
)
from pricing.errors import InputError, Problem
from pricing.formats.tables import check_file, fail, with_hints

__all__ = ["RULES_KEYS", "load_rules", "rules_from_document", "rules_to_dict"]

MAX_RULES_BYTES = 1024 * 1024


class _Kind(Enum):
    MONEY = "an amount in yuan with at most two decimals, e.g. 8 or 8.50"
    RATE = "a share as a number, e.g. 0.05"
    RATES = "a list of shares, e.g. [0.95, 0.90]"
    NUMBER = "a number"
    WHOLE = "a whole number"
    BOOL = "true or false"
    TEXT = "text in quotes"
    COUPONS = "a list of [threshold, amount] pairs in yuan, e.g. [[0, 5], [99, 10]]"
    BANDS = 'a list of [up to yuan or "inf", share, typical yuan], e.g. [[100, 0.22, 79]]'


@dataclass(frozen=True)
class RulesKey:
    """A key of the rules file: the model field it fills and how its value is read."""

    field: str
    kind: _Kind


_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "platform": PlatformRules,
    "store": StoreRules,
    "ladder": DiscountLadder,
    "coupons": CouponRules,
    "b2g1": B2G1Rules,
    "demand": DemandRules,
}
RULES_KEYS: dict[str, dict[str, RulesKey]] = {
    "platform": {
        "commission_rate": RulesKey("commission_rate", _Kind.RATE),
        "min_discount": RulesKey("min_discount", _Kind.RATE),
        "lowest_price_factor": RulesKey("lowest_price_factor", _Kind.RATE),
        "mechanism": RulesKey("mechanism", _Kind.TEXT),
        "cross_store_every": RulesKey("cross_store_every_fen", _Kind.MONEY),
        "cross_store_save": RulesKey("cross_store_save_fen", _Kind.MONEY),
        "official_rate": RulesKey("official_rate", _Kind.RATE),
        "store_tools": RulesKey("store_tools", _Kind.TEXT),
        "official_rounding": RulesKey("official_rounding", _Kind.TEXT),
    },
    "store": {
        "shipping_cost": RulesKey("shipping_cost_fen", _Kind.MONEY),
        "handling_cost": RulesKey("handling_cost_fen", _Kind.MONEY),
        "margin_floor_rate": RulesKey("margin_floor_rate", _Kind.RATE),
        "budget": RulesKey("budget_fen", _Kind.MONEY),
    },
    "ladder": {"levels": RulesKey("levels", _Kind.RATES)},
    "coupons": {
        "candidates": RulesKey("candidates", _Kind.COUPONS),
        "max_tiers": RulesKey("max_tiers", _Kind.WHOLE),
    },
    "b2g1": {
        "enabled": RulesKey("enabled", _Kind.BOOL),
        "uplift": RulesKey("uplift", _Kind.NUMBER),
        "free_share": RulesKey("free_share", _Kind.NUMBER),
    },
    "demand": {
        "default_elasticity": RulesKey("default_elasticity", _Kind.NUMBER),
        "event_uplift": RulesKey("event_uplift", _Kind.NUMBER),
        "cross_store_take_rate": RulesKey("cross_store_take_rate", _Kind.NUMBER),
        "units_per_order": RulesKey("units_per_order", _Kind.NUMBER),
        "coupon_redemption": RulesKey("coupon_redemption", _Kind.NUMBER),
        "coupon_response": RulesKey("coupon_response", _Kind.NUMBER),
        "order_bands": RulesKey("order_bands", _Kind.BANDS),
    },
}
_SECTION_NAMES = {name: name for name in RULES_KEYS}
_OPEN_ENDED = "inf"


class _BadValue(ValueError):
    """A value of the rules file that cannot be read as its kind."""


def _read_money(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadValue(f"expected {_Kind.MONEY.value}")
    try:
        return to_fen(value)
    except MoneyFormatError as error:
        raise _BadValue(f"{str(error).split(' ', 1)[1]}; expected {_Kind.MONEY.value}") from None


def _read_rate(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadValue(f"expected {_Kind.RATE.value}")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise _BadValue(f"expected {_Kind.RATE.value}") from None
    if not rate.is_finite():
        raise _BadValue(f"expected {_Kind.RATE.value}")
    return rate


def _read_list(value: object, kind: _Kind, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise _BadValue(f"expected {kind.value}")
    if length is not None and any(not isinstance(v, list) or len(v) != length for v in value):
        raise _BadValue(f"expected {kind.value}")
    return value


def _read_value(value: object, kind: _Kind) -> Any:
    """The value of a key converted to what the model takes (money in fen, rates Decimal)."""
    if kind is _Kind.MONEY:
        return _read_money(value)
    if kind is _Kind.RATE:
        return _read_rate(value)
    if kind is _Kind.RATES:
        return [_read_rate(level) for level in _read_list(value, kind)]
    if kind is _Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _BadValue(f"expected {kind.value}")
        return float(value)
    if kind is _Kind.WHOLE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.BOOL:
        if not isinstance(value, bool):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.TEXT:
        if not isinstance(value, str):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.COUPONS:
        return [
            {"threshold_fen": _read_money(threshold), "amount_fen": _read_money(amount)}
            for threshold, amount in _read_list(value, kind, length=2)
        ]
    # _Kind.BANDS
    bands = []
    for upto, share, typical in _read_list(value, kind, length=3):
        open_ended = isinstance(upto, str) and upto.strip().casefold() in {_OPEN_ENDED, "∞"}
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise _BadValue(f"a share must be a number; expected {kind.value}")
        bands.append(
            {
                "upto_fen": None if open_ended else _read_money(upto),
                "share": float(share),
                "typical_fen": _read_money(typical),
            }
        )
    return bands


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return _toml_inline(value)
    return str(value)


def _toml_inline(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    return _shown(value)


def _validation_problems(
    file: str, section: str, error: ValidationError, raw: Mapping[str, object]
) -> list[Problem]:
    """A model's validation errors as problems naming the section and the key of the file."""
    key_of_field = {spec.field: key for key, spec in RULES_KEYS[section].items()}
    problems = []
    for issue in error.errors():
        location = issue["loc"]
        message = issue["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if not location:
            problems.append(Problem(file, f"section {section}: {message}"))
            continue
        key = key_of_field.get(str(location[0]), str(location[0]))
        where = f"{section}.{key}"
        value: object = raw.get(key)
        if len(location) > 1 and isinstance(location[1], int) and isinstance(value, list):
            where += f" item {location[1] + 1}"
            value = value[location[1]] if location[1] < len(value) else None
        problems.append(
            Problem(file, f"{where}: {message}", value=None if value is None else _shown(value))
        )
    return problems


def _read_toml(path: Path, file: str) -> dict[str, Any]:
    size = check_file(path, file)
    if size > MAX_RULES_BYTES:
        raise fail(file, f"the rules file is {size:,} bytes; a rules file is a few kilobytes")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise fail(file, f"not UTF-8 text (TOML files are UTF-8): line {line}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        place = re.search(r"\(at line (\d+), column (\d+)\)", detail)
        reason = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", detail)
        reason = reason[:1].lower() + reason[1:]
        where = f"line {place.group(1)}, column {place.group(2)}: " if place else ""
        raise fail(file, f"not valid TOML: {where}{reason}") from None


def load_rules(path: Path) -> Rules:
    """Read a rules file (TOML): every key optional, every problem reported at once."""
    file = str(path)
    return rules_from_document(_read_toml(path, file), file)


def rules_from_document(document: Mapping[str, Any], file: str) -> Rules:
    """The rules of a parsed rules document (sections of keys, as in the rules file), checked
    like a rules file; problems name ``file``."""
    problems: list[Problem] = []
    sections: dict[str, BaseModel] = {}
    unknown_sections = [name for name in document if name not in RULES_KEYS]
    for name in unknown_sections:
        home = [section for section, keys in RULES_KEYS.items() if name in keys]
        if home and not isinstance(document[name], dict):
            message = f"key {name!r} outside any section; it belongs in section {home[0]}"
        else:
            message = (
                f"unknown section {with_hints([name], _SECTION_NAMES, cutoff=0.6)}; "
                f"accepted sections: {', '.join(RULES_KEYS)}"
            )
        problems.append(Problem(file, message))
    for section, keys in RULES_KEYS.items():
        table = document.get(section, {})
        if not isinstance(table, dict):
            problems.append(
                Problem(file, f"{section} must be a section (a table)", value=_shown(table))
            )
            continue
        unknown = [key for key in table if key not in keys]
        if unknown:
            problems.append(
                Problem(
                    file,
                    f"section {section}: unknown key{'s' if len(unknown) > 1 else ''} "
                    f"{with_hints(unknown, {k: k for k in keys}, cutoff=0.6)}; "
                    f"accepted keys: {', '.join(keys)}",
                )
            )
        fields: dict[str, Any] = {}
        converted = True
        for key, spec in keys.items():
            if key not in table:
                continue
            try:
                fields[spec.field] = _read_value(table[key], spec.kind)
            except (_BadValue, TypeError, ValueError) as error:
                message = (
                    str(error) if isinstance(error, _BadValue) else f"expected {spec.kind.value}"
                )
                problems.append(
                    Problem(file, f"{section}.{key}: {message}", value=_shown(table[key]))
                )
                converted = False
        if not converted:
            continue
        try:
            sections[section] = _SECTION_MODELS[section].model_validate(fields)
        except ValidationError as error:
            problems.extend(_validation_problems(file, section, error, table))
    if problems:
        raise InputError(problems)
    return Rules.model_validate({name: model for name, model in sections.items()})


def rules_to_dict(rules: Rules) -> dict[str, dict[str, Any]]:
    """The rules in the file's own keys and units: yuan and rates as strings, for the record.

    :func:`rules_from_document` (and ``load_rules``, written out as TOML) reads this back to the
    same rules.
    """
    document: dict[str, dict[str, Any]] = {}
    for section, keys in RULES_KEYS.items():
        model = getattr(rules, section)
        entries: dict[str, Any] = {}
        for key, spec in keys.items():
            entries[key] = _file_value(getattr(model, spec.field), spec.kind)
        document[section] = entries
    return document


def _file_value(value: Any, kind: _Kind) -> Any:
    if kind is _Kind.MONEY:
        return format_yuan(value)
    if kind is _Kind.RATE:
        return str(value)
    if kind is _Kind.RATES:
        return [str(level) for level in value]
    if kind is _Kind.TEXT:
        return str(value.value if isinstance(value, Enum) else value)
    if kind is _Kind.COUPONS:
        return [[format_yuan(t.threshold_fen), format_yuan(t.amount_fen)] for t in value]
    if kind is _Kind.BANDS:
        return [
            [
                _OPEN_ENDED if band.upto_fen is None else format_yuan(band.upto_fen),
                band.share,
                format_yuan(band.typical_fen),
            ]
            for band in value
        ]
    return value
