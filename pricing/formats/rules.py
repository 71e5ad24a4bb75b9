"""The rules file (TOML): the platform's rules, the store's limits, the optimizer's choices.

Every key is optional. Amounts of money are in yuan (numbers or strings, at most two decimals),
rates are shares (``0.05`` = 5 %), read through ``str`` into ``Decimal`` so that ``0.05`` means
exactly 0.05. Every problem of the file is reported at once, as one
:class:`~pricing.errors.InputError` naming the section, the key (and the list item), the value
and what was expected.

The schema is the rules models themselves (:mod:`models.rules`), seen through pydantic: each
section is a model, each key one of its fields, and the file's own spelling and units come from
the field's type:

* an ``int`` field named ``*_fen`` is the key without ``_fen``, an amount in yuan (a
  ``BeforeValidator`` turns it into fen, refusing anything finer than a fen);
* ``Decimal`` is a share, ``float`` a number, ``int`` a whole number, ``bool`` true/false, an
  enumeration a text (its values), ``tuple[Decimal, ...]`` a list of shares;
* ``tuple[CouponTier, ...]`` is a list of ``[threshold, amount]`` pairs in yuan and
  ``tuple[OrderBand, ...]`` a list of ``[up to yuan or "inf", share, typical yuan]``.

Reading a section is two pydantic validations: the file model (:func:`file_model`: the keys as
aliases, each with its ``BeforeValidator``) checks and converts what the file wrote, then the
rules model checks the rules themselves (ranges, cross-field rules). Both report by pydantic's
error ``loc``, turned into the file's ``section.key item N``. A new field in a rules model is a
new key of the file, with no table to update here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)

from models.money import (
    MAX_TOTAL_FEN,
    MAX_UNIT_FEN,
    MONEY_HINT,
    MoneyFormatError,
    format_yuan,
    to_fen,
)
from models.rules import (
    SUPER_INSTANT_CLASH,
    BudgetRule,
    CouponTier,
    Mechanism,
    OfferRules,
    OrderBand,
    PiecesDiscountActivity,
    PiecesSaveActivity,
    PlatformRules,
    Priority,
    QuotaRule,
    Rules,
    SuperInstantRules,
)
from pricing.errors import InputError, Problem
from pricing.formats.tables import check_file, fail, with_hints

__all__ = ["RULES_KEYS", "RulesKey", "file_model", "load_rules", "rules_from_document",
           "rules_to_dict"]

MAX_RULES_BYTES = 1024 * 1024
_OPEN_ENDED = "inf"


# --- what a key of the file holds -------------------------------------------------------------


def _expect(what: str) -> ValueError:
    return ValueError(f"expected {what}")


@dataclass(frozen=True)
class _Kind:
    """One kind of value in the file: what it is called, how it is read, how it is written."""

    expected: str
    read: Callable[[object], Any]  # the file's value → the model's (raises ValueError)
    write: Callable[[Any], Any]  # the model's value → the file's


def _read_money(value: object, maximum: int = MAX_UNIT_FEN) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _expect(MONEY_HINT)
    try:
        return to_fen(value, maximum)
    except MoneyFormatError as error:  # "'8.005' has more …": the value is shown on its own
        raise ValueError(f"{str(error).split(' ', 1)[1]}; expected {MONEY_HINT}") from None


_SHARE = "a share as a number, e.g. 0.05"


def _read_share(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _expect(_SHARE)
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        raise _expect(_SHARE) from None
    if not share.is_finite():
        raise _expect(_SHARE)
    return share


def _read_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _expect("a number")
    return float(value)


def _read_whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expect("a whole number")
    return value


def _read_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _expect("true or false")
    return value


def _read_text(value: object) -> str:
    if not isinstance(value, str):
        raise _expect("text in quotes")
    return value


def _rows(expected: str, width: int | None) -> Callable[[object], list[Any]]:
    """A list (of lists of ``width`` items): its shape is checked for the whole key at once."""

    def read(value: object) -> list[Any]:
        if not isinstance(value, list) or (
            width is not None and any(not isinstance(v, list) or len(v) != width for v in value)
        ):
            raise _expect(expected)
        return value

    return read


_COUPONS = "a list of [threshold, amount] pairs in yuan, e.g. [[0, 5], [99, 10]]"
_BANDS = 'a list of [up to yuan or "inf", share, typical yuan], e.g. [[100, 0.22, 79]]'


def _read_coupon(pair: object) -> dict[str, int]:
    threshold, amount = cast(list[object], pair)  # the list's shape was checked
    return {"threshold_fen": _read_money(threshold), "amount_fen": _read_money(amount)}


def _read_band(row: object) -> dict[str, Any]:
    upto, share, typical = cast(list[object], row)  # the list's shape was checked
    open_ended = isinstance(upto, str) and upto.strip().casefold() in {_OPEN_ENDED, "∞"}
    if isinstance(share, bool) or not isinstance(share, int | float):
        raise ValueError(f"a share must be a number; expected {_BANDS}")
    return {
        "upto_fen": None if open_ended else _read_money(upto),
        "share": float(share),
        "typical_fen": _read_money(typical),
    }


def _write_band(band: OrderBand) -> list[Any]:
    upto = _OPEN_ENDED if band.upto_fen is None else format_yuan(band.upto_fen)
    return [upto, band.share, format_yuan(band.typical_fen)]


def _same(value: Any) -> Any:
    return value


MONEY = _Kind(MONEY_HINT, _read_money, format_yuan)
# A total (the budget) may exceed what one unit or order holds (see models.limits).
TOTAL = _Kind(MONEY_HINT, lambda value: _read_money(value, MAX_TOTAL_FEN), format_yuan)
_TOTALS = {"budget_fen"}
SHARE = _Kind(_SHARE, _read_share, str)
NUMBER = _Kind("a number", _read_number, _same)
WHOLE = _Kind("a whole number", _read_whole, _same)
FLAG = _Kind("true or false", _read_flag, _same)
TEXT = _Kind("text in quotes", _read_text, lambda value: str(getattr(value, "value", value)))
_LEVELS = "a list of shares, e.g. [0.95, 0.90]"
SHARES = _Kind(_LEVELS, _rows(_LEVELS, None),
               lambda levels: [str(level) for level in levels])
COUPONS = _Kind(_COUPONS, _rows(_COUPONS, 2), lambda tiers: [
    [format_yuan(t.threshold_fen), format_yuan(t.amount_fen)] for t in tiers
])
BANDS = _Kind(_BANDS, _rows(_BANDS, 3), lambda bands: [_write_band(band) for band in bands])

_PRIORITY = '"hard" or a penalty in yuan, e.g. 5000'


def _read_priority(value: object) -> dict[str, Any]:
    if isinstance(value, str) and value.strip().casefold() == "hard":
        return {"hard": True, "penalty_fen": 0}
    try:
        return {"hard": False, "penalty_fen": _read_money(value, MAX_TOTAL_FEN)}
    except ValueError:
        raise _expect(_PRIORITY) from None


def _write_priority(priority: Priority) -> str:
    return "hard" if priority.hard else format_yuan(priority.penalty_fen)


def _read_optional_whole(value: object) -> int | None:
    return None if value is None else _read_whole(value)


def _read_table(
    expected: str, keys: dict[str, Callable[[object], Any]], required: set[str]
) -> Callable[[object], dict[str, Any]]:
    """One ``[[business.*]]`` table: known keys, each read by its own reader."""

    def read(value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _expect(expected)
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}; accepted keys: "
                             f"{', '.join(keys)}")
        missing = sorted(required - set(value))
        if missing:
            raise ValueError(f"missing key(s) {', '.join(missing)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            try:
                field = "amount_fen" if key == "amount" else key
                out[field] = keys[key](item)
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
        return out

    return read


_QUOTA = ("a [[business.quota]] table: category (optional), min_share, max_level, priority")
_BUDGET = "a [[business.budget]] table: category, amount (yuan), priority"
_read_quota = _read_table(_QUOTA, {
    "category": _read_text, "min_share": _read_share, "max_level": _read_share,
    "priority": _read_priority,
}, {"min_share", "max_level"})
_read_budget = _read_table(_BUDGET, {
    "category": _read_text, "amount": lambda v: _read_money(v, MAX_TOTAL_FEN),
    "priority": _read_priority,
}, {"category", "amount"})


def _write_quota(rule: QuotaRule) -> dict[str, Any]:
    written: dict[str, Any] = {} if rule.category is None else {"category": rule.category}
    return {**written, "min_share": str(rule.min_share), "max_level": str(rule.max_level),
            "priority": _write_priority(rule.priority)}


def _write_budget(rule: BudgetRule) -> dict[str, Any]:
    return {"category": rule.category, "amount": format_yuan(rule.amount_fen),
            "priority": _write_priority(rule.priority)}


_OFFER = ('a table {kind = "pieces_discount", tiers = [{pieces = 2, rate = 0.90}]} or '
          '{kind = "pieces_save", tiers = [{pieces = 2, amount = 20}]}')
_OFFER_TIER_KEYS = {"pieces_discount": "rate", "pieces_save": "amount"}


def _read_offer(value: object) -> dict[str, Any]:
    """One multi-piece offer candidate: its kind and its tiers, as the cart format writes it."""
    if not isinstance(value, dict) or set(value) != {"kind", "tiers"}:
        raise _expect(_OFFER)
    kind = value["kind"]
    if kind not in _OFFER_TIER_KEYS:
        raise ValueError(f"kind: expected pieces_discount or pieces_save (got {_shown(kind)})")
    tiers = value["tiers"]
    key = _OFFER_TIER_KEYS[kind]
    if not isinstance(tiers, list) or not tiers or any(
        not isinstance(tier, dict) or set(tier) != {"pieces", key} for tier in tiers
    ):
        raise ValueError(f"tiers: expected a list of {{pieces = N, {key} = …}} tables")
    read: list[dict[str, Any]] = []
    for number, tier in enumerate(tiers, start=1):
        try:
            pieces = _read_whole(tier["pieces"])
            amount: dict[str, Any] = (
                {"rate": _read_share(tier["rate"])} if key == "rate"
                else {"amount_fen": _read_money(tier["amount"])}
            )
        except ValueError as error:
            raise ValueError(f"tiers item {number}: {error}") from None
        read.append({"pieces": pieces, **amount})
    return {"kind": kind, "tiers": read}


def _write_offer(offer: PiecesDiscountActivity | PiecesSaveActivity) -> dict[str, Any]:
    if isinstance(offer, PiecesDiscountActivity):
        tiers = [{"pieces": t.pieces, "rate": str(t.rate)} for t in offer.tiers]
    else:
        tiers = [{"pieces": t.pieces, "amount": format_yuan(t.amount_fen)} for t in offer.tiers]
    return {"kind": offer.kind, "tiers": tiers}


PRIORITY = _Kind(_PRIORITY, _read_priority, _write_priority)
OFFERS = _Kind(f"a list of offers, each {_OFFER}", _rows("a list of offer tables", None),
               lambda offers: [_write_offer(offer) for offer in offers])
_OFFERS_ANNOTATION = OfferRules.model_fields["candidates"].annotation
OPTIONAL_WHOLE = _Kind("a whole number", _read_optional_whole, _same)
QUOTAS = _Kind("a list of [[business.quota]] tables", _rows("[[business.quota]] tables", None),
               lambda rules: [_write_quota(rule) for rule in rules])
BUDGETS = _Kind("a list of [[business.budget]] tables",
                _rows("[[business.budget]] tables", None),
                lambda rules: [_write_budget(rule) for rule in rules])

# How each kind validates in the file model: the whole value first, then each item of a list.
_ITEM_READERS: dict[int, Callable[[object], Any]] = {
    id(SHARES): _read_share, id(COUPONS): _read_coupon, id(BANDS): _read_band,
    id(QUOTAS): _read_quota, id(BUDGETS): _read_budget, id(OFFERS): _read_offer,
}


def _kind_of(name: str, annotation: object) -> _Kind:
    """The kind of a rules model's field, from its type (and ``_fen`` for money)."""
    if annotation is int:
        if name in _TOTALS:
            return TOTAL
        return MONEY if name.endswith("_fen") else WHOLE
    simple = {Decimal: SHARE, float: NUMBER, bool: FLAG, str: TEXT}
    if annotation in simple:
        return simple[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return TEXT
    if annotation is Priority:
        return PRIORITY
    if annotation == int | None:
        return OPTIONAL_WHOLE
    if annotation == _OFFERS_ANNOTATION:
        return OFFERS
    lists = {tuple[Decimal, ...]: SHARES, tuple[CouponTier, ...]: COUPONS,
             tuple[OrderBand, ...]: BANDS, tuple[QuotaRule, ...]: QUOTAS,
             tuple[BudgetRule, ...]: BUDGETS}
    if annotation in lists:
        return lists[annotation]
    raise TypeError(f"no rules-file kind for field {name!r} of type {annotation!r}")


# --- the schema, derived from the rules models -----------------------------------------------


@dataclass(frozen=True)
class RulesKey:
    """A key of the rules file: the model field it fills and the kind of value it holds."""

    field: str
    kind: _Kind


def _sections() -> dict[str, type[BaseModel]]:
    sections: dict[str, type[BaseModel]] = {}
    for name, info in Rules.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        sections[name] = model
    return sections


SECTION_MODELS: dict[str, type[BaseModel]] = _sections()
RULES_KEYS: dict[str, dict[str, RulesKey]] = {
    section: {
        name.removesuffix("_fen"): RulesKey(name, _kind_of(name, info.annotation))
        for name, info in model.model_fields.items()
    }
    for section, model in SECTION_MODELS.items()
}
_SECTION_NAMES = {name: name for name in RULES_KEYS}


def _file_type(kind: _Kind) -> Any:
    """The file model's type for a kind: the value read by a ``BeforeValidator``; a list's
    items each read by their own, so that a bad item is named by its place."""
    item = _ITEM_READERS.get(id(kind))
    if item is None:
        return Annotated[Any, BeforeValidator(kind.read)]
    return Annotated[list[Annotated[Any, BeforeValidator(item)]], BeforeValidator(kind.read)]


@cache
def file_model(section: str) -> type[BaseModel]:
    """The pydantic model of one section as the file writes it: keys as aliases, yuan, shares.

    Validating it converts the file's values into the rules model's (fen, ``Decimal``);
    ``model_dump(exclude_unset=True)`` then gives the rules model's fields.
    """
    fields: dict[str, Any] = {
        spec.field: (_file_type(spec.kind), Field(default=None, alias=key))
        for key, spec in RULES_KEYS[section].items()
    }
    return create_model(
        f"{SECTION_MODELS[section].__name__}File",
        __config__=ConfigDict(extra="forbid", frozen=True),
        **fields,
    )


# --- reading -------------------------------------------------------------------------------


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


def _problems(
    file: str, section: str, error: ValidationError, raw: Mapping[str, object]
) -> list[Problem]:
    """Validation errors as problems naming the section, the key (from the error's ``loc``:
    an alias of the file model, or a field of the rules model) and the list item."""
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


def _unknown_sections(document: Mapping[str, Any], file: str) -> list[Problem]:
    problems = []
    for name in (name for name in document if name not in RULES_KEYS):
        home = [section for section, keys in RULES_KEYS.items() if name in keys]
        if home and not isinstance(document[name], dict):
            message = f"key {name!r} outside any section; it belongs in section {home[0]}"
        else:
            message = (
                f"unknown section {with_hints([name], _SECTION_NAMES, cutoff=0.6)}; "
                f"accepted sections: {', '.join(RULES_KEYS)}"
            )
        problems.append(Problem(file, message))
    return problems


def _section(
    file: str, section: str, table: object, problems: list[Problem]
) -> BaseModel | None:
    """One section read and checked; None (with its problems added) when it is wrong."""
    keys = RULES_KEYS[section]
    if not isinstance(table, dict):
        problems.append(Problem(file, f"{section} must be a section (a table)",
                                value=_shown(table)))
        return None
    unknown = [key for key in table if key not in keys]
    if unknown:
        problems.append(Problem(
            file,
            f"section {section}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{with_hints(unknown, {k: k for k in keys}, cutoff=0.6)}; "
            f"accepted keys: {', '.join(keys)}",
        ))
    known = {key: value for key, value in table.items() if key in keys}
    try:
        written = file_model(section).model_validate(known)
    except ValidationError as error:
        problems.extend(_problems(file, section, error, table))
        return None
    try:
        return SECTION_MODELS[section].model_validate(written.model_dump(exclude_unset=True))
    except ValidationError as error:
        problems.extend(_problems(file, section, error, table))
        return None


def rules_from_document(document: Mapping[str, Any], file: str) -> Rules:
    """The rules of a parsed rules document (sections of keys, as in the rules file), checked
    like a rules file; problems name ``file``."""
    problems = _unknown_sections(document, file)
    sections = {
        section: _section(file, section, document.get(section, {}), problems)
        for section in RULES_KEYS
    }
    platform, super_instant = sections["platform"], sections["super_instant"]
    if (
        isinstance(platform, PlatformRules) and isinstance(super_instant, SuperInstantRules)
        and super_instant.rates and platform.mechanism is not Mechanism.NONE
    ):
        problems.append(Problem(file, SUPER_INSTANT_CLASH,
                                value=f"mechanism = {platform.mechanism.value!r}"))
    if problems:
        raise InputError(problems)
    return Rules.model_validate(sections)


# --- writing -------------------------------------------------------------------------------


def rules_to_dict(rules: Rules) -> dict[str, dict[str, Any]]:
    """The rules in the file's own keys and units: yuan and rates as strings, for the record.

    :func:`rules_from_document` (and ``load_rules``, written out as TOML) reads this back to the
    same rules.
    """
    written = {
        section: {
            key: spec.kind.write(getattr(getattr(rules, section), spec.field))
            for key, spec in keys.items()
        }
        for section, keys in RULES_KEYS.items()
    }
    # TOML has no null: an unset optional key (b2g1.max_products) is left out.
    return {
        section: {key: value for key, value in table.items() if value is not None}
        for section, table in written.items()
    }


# The file model is built once per section, at import, so that a rules model with a field of a
# kind the file cannot hold fails at once (a TypeError naming the field), not on first use.
for _name in RULES_KEYS:
    file_model(_name)
