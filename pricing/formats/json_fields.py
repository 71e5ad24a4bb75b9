"""One reader for the JSON files price-opt takes (carts, plans): every bad field at once.

Problems name the field by its JSON path (``products[3].activity_price``) in the ``column`` of a
:class:`~pricing.errors.Problem`; values are shown as JSON, cut at 80 characters.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.money import MAX_UNIT_FEN, MONEY_HINT, MoneyFormatError, to_fen
from pricing.errors import Problem

Model = TypeVar("Model", bound=BaseModel)


# The amounts price-opt itself writes ("-12.30"): read without the general parser, which gives
# the same fen for them (and is still used for every other form, and for the messages).
_PLAIN_YUAN = re.compile(r"-?[0-9]{1,16}\.[0-9]{2}")

# What no sheet cell or terminal line should hold (a tab or a line break is text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@functools.cache
def _key_sets(
    known: tuple[str, ...], required: tuple[str, ...]
) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(required), frozenset(known) | frozenset(required)


class JsonReader:
    """Converts a JSON document into model arguments, collecting every problem on the way.

    Each method reads one field of an object (``data[key]`` at ``path``), records a problem
    naming its JSON path if the value is wrong, and returns a harmless stand-in so that reading
    goes on; the caller raises once, with every problem, when :attr:`problems` is not empty.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str, value: object = None) -> None:
        shown = None if value is None else json.dumps(value, ensure_ascii=False)[:80]
        self.problems.append(Problem(self.source, message, column=path, value=shown))

    def obj(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "expected an object", value)
            return {}
        return value

    def keys(
        self, data: Mapping[str, Any], path: str, known: Iterable[str], required: Iterable[str] = ()
    ) -> None:
        """Report the ``required`` keys ``data`` lacks and the keys that are not ``known``."""
        if isinstance(known, tuple) and isinstance(required, tuple):
            wanted, allowed = _key_sets(known, required)
            if wanted <= data.keys() and data.keys() <= allowed:
                return  # the usual object: nothing missing, nothing unknown
        required, known = set(required), set(known) | set(required)
        for key in sorted(required - set(data)):
            self.fail(join_path(path, key), "missing")
        for key in sorted(set(data) - known):
            self.fail(join_path(path, key), f"unknown field (known: {', '.join(sorted(known))})")

    def money(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: int | None = None,
        minimum: int | None = 0,
        maximum: int = MAX_UNIT_FEN,
    ) -> int:
        """An amount in yuan (a string or a number, at most two decimals) as fen.

        A missing key gives ``default``, or a problem when there is none; ``minimum`` (None: no
        limit) is 0 for "not negative", 1 for "positive"; ``maximum`` bounds the size (a unit's
        money by default, ¥100,000,000; totals pass :data:`models.money.MAX_TOTAL_FEN`).
        """
        where = join_path(path, key)
        if key not in data:
            if default is None:
                self.fail(where, f"missing; expected {MONEY_HINT}")
            return default or 0
        value = data[key]
        if type(value) is str and _PLAIN_YUAN.fullmatch(value):
            fen = int(value.replace(".", ""))
            if abs(fen) <= maximum and (minimum is None or fen >= minimum):
                return fen
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(where, f"expected {MONEY_HINT}", value)
            return 0
        try:
            fen = to_fen(value, maximum)
        except MoneyFormatError as error:
            self.fail(where, f"{error}; expected {MONEY_HINT}", value)
            return 0
        if minimum is not None and fen < minimum:
            self.fail(where, "must be positive" if minimum > 0 else "must not be negative", value)
        return fen

    def text(self, data: Mapping[str, Any], key: str, path: str, nullable: bool = False) -> Any:
        value = data.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            if key in data:
                self.fail(join_path(path, key), "expected text", value)
            return ""
        if _CONTROL.search(value):
            self.fail(join_path(path, key), "holds a control character; expected plain text",
                      value)
            return ""
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(join_path(path, key), "expected true or false", value)
            return False
        return value

    def number(
        self, data: Mapping[str, Any], key: str, path: str, nullable: bool = False
    ) -> float | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            if key in data or not nullable:
                self.fail(join_path(path, key), "expected a number", value)
            return 0.0
        return float(value)

    def whole(self, data: Mapping[str, Any], key: str, path: str) -> int:
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(join_path(path, key), "expected a whole number ≥ 0", value)
            return 0
        return value

    def share(self, data: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        """A decimal share (``"0.75"``), exact; absent: None."""
        value = data.get(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidOperation
            rate = Decimal(str(value).strip())
            if not rate.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.fail(join_path(path, key), 'expected a decimal share, e.g. "0.75"', value)
            return None
        return rate

    def build(self, model: type[Model], fields: dict[str, Any], path: str) -> Model | None:
        """``model(**fields)``, or None with the model's complaints recorded under ``path``."""
        try:
            return model(**fields)
        except ValidationError as error:
            for issue in error.errors():
                where = ".".join([path, *(str(part) for part in issue["loc"])]).strip(".")
                message = str(issue["msg"]).removeprefix("Value error, ")
                self.problems.append(Problem(self.source, message, column=where or None))
            return None

    def tier(self, value: object, path: str) -> dict[str, int]:
        """A coupon tier ``{"threshold", "amount"}`` in yuan (no threshold: 0) as fen."""
        data = self.obj(value, path)
        self.keys(data, path, ("threshold", "amount"))
        return {
            "threshold_fen": self.money(data, "threshold", path, default=0),
            "amount_fen": self.money(data, "amount", path, minimum=1),
        }


def join_path(path: str, key: str) -> str:
    """``path.key`` (just ``key`` at the root)."""
    return f"{path}.{key}" if path else key
