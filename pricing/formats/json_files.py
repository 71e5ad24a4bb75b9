"""JSON files from outside (carts, plans), read within stated limits.

A file over its size cap is refused before it is read (a 100 MB cart is not a cart, and parsing
it would take gigabytes); nesting deeper than Python's parser can follow is an input error, not
a ``RecursionError``; the text must be UTF-8 (a BOM allowed).
"""

from __future__ import annotations

import json
from pathlib import Path

from pricing.errors import InputError, Problem

MAX_CART_BYTES = 10 * 1024 * 1024
MAX_PLAN_JSON_BYTES = 256 * 1024 * 1024


def read_json_capped(
    path: Path, max_bytes: int, what: str, error: type[InputError] = InputError
) -> object:
    """The JSON value in ``path``; every failure is ``error`` naming the file (and the line)."""
    file = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise error([Problem(file, "not a file")])
        if size > max_bytes:
            raise error([Problem(
                file, f"the file is {size / 2**20:,.1f} MB; a {what} is at most "
                f"{max_bytes // 2**20} MB",
            )])
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error([Problem(file, "file not found")]) from None
    except UnicodeDecodeError as decode_error:
        raise error([Problem(file, f"not UTF-8 text (byte {decode_error.start:,})")]) from None
    except OSError as os_error:
        raise error([Problem(file, f"cannot read the file: {os_error.strerror or os_error}")]) \
            from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as decode_error:
        raise error(
            [Problem(file, f"not valid JSON: {decode_error.msg}", row=decode_error.lineno)]
        ) from None
    except RecursionError:
        raise error([Problem(file, f"not a {what}: the JSON is nested too deeply")]) from None
