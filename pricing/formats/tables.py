"""Tables from outside: the raw cells of a CSV or ``.xlsx`` file, read safely, and the
problems every table reader reports the same way.

Every table price-opt reads (the products file, a submission sheet and its settings) comes
through here, so a file is refused for the same reasons and in the same words whichever
command reads it:

* :func:`check_file` refuses what is missing, not a file, or over :data:`MAX_FILE_BYTES`;
* :func:`csv_encoding` is the one CSV decoder: UTF-8 (with or without a BOM), else GB18030 (a
  superset of GBK, what Excel writes on Chinese Windows); UTF-16 is refused with a hint;
* :func:`read_csv_table` / :func:`read_xlsx_table` give a :class:`Table` of text cells, column
  by column, for large files (openpyxl read-only with defusedxml for a workbook). A plain CSV
  (no quotes, every line as wide as the header) is split by :func:`_plain_csv_cells` without
  importing pandas (~0.3 s of a command's start); anything else goes to pandas' C reader,
  which also words every complaint about a CSV's structure;
* :func:`read_csv_rows` / :func:`workbook_rows` give small tables as lists of rows.

Rows are numbered as in a spreadsheet: the header is row 1 (:data:`ROW_CONVENTION`).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pricing.errors import InputError, Problem

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
# An .xlsx is a zip of XML; more than this once unpacked is a zip bomb or not a product list.
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024

ROW_CONVENTION = (
    "rows are numbered as in a spreadsheet: the header is row 1, the first product row 2"
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

_EMPTY = "the file is empty; expected a header row and one row per product"


@dataclass
class Table:
    """A file's cells as text: the header, each column's body cells, their row numbers."""

    header: list[str]
    columns: list[ObjectArray]  # the body's cells (str), column by column
    rows: IntArray  # the spreadsheet row number of each body row
    # Number cells of an .xlsx whose value a double cannot hold exactly (an ID typed as a
    # number beyond 15 significant digits): (spreadsheet row, column position).
    inexact: frozenset[tuple[int, int]] = frozenset()
    sheet_name: str | None = None  # the worksheet read, for an .xlsx
    other_sheets: tuple[str, ...] = ()  # the workbook's other worksheets


def check_file(
    path: Path, file: str, max_bytes: int | None = None, limit_note: str | None = None
) -> int:
    """The file's size, after refusing what is missing, not a file, or over ``max_bytes``
    (the products file's limit when not given); ``limit_note`` names that limit."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise fail(file, "file not found") from None
    except OSError as error:
        raise fail(file, f"cannot read the file: {error.strerror or error}") from None
    if not path.is_file():
        raise fail(file, "not a file")
    if size > (MAX_FILE_BYTES if max_bytes is None else max_bytes):
        note = limit_note or f"{MAX_FILE_BYTES // 2**20} MB (about {MAX_ROWS:,} products)"
        raise fail(file, f"the file is {size / 2**20:,.0f} MB; price-opt reads at most {note}")
    return size


def csv_encoding(raw: bytes, file: str) -> str:
    """The encoding of a CSV file: UTF-8 (BOM or not), else GB18030 (a superset of GBK)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise fail(
            file,
            'the file is UTF-16 text (Excel\'s "Unicode text"); save it as "CSV UTF-8" or as .xlsx',
        )
    try:
        raw.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError as utf8_error:
        before = raw[: utf8_error.start]
        if raw.startswith(codecs.BOM_UTF8) or any(byte >= 0x80 for byte in before):
            # UTF-8 text (a BOM, or valid multi-byte characters) up to a byte that is not:
            # rows pasted from a GBK file into a UTF-8 one. Reading it all as GBK would turn
            # the UTF-8 part into nonsense (the header "sku" into "锘縮ku").
            line = raw.count(b"\n", 0, utf8_error.start) + 1
            raise fail(
                file,
                f"mixed encodings: the file starts as UTF-8 text"
                f"{' (with a BOM)' if raw.startswith(codecs.BOM_UTF8) else ''} but line {line}"
                " is not UTF-8 (GBK rows pasted in?); save the whole file again from Excel as"
                ' "CSV UTF-8"',
            ) from None
        try:
            raw.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            line = raw.count(b"\n", 0, utf8_error.start) + 1
            raise fail(
                file,
                f"cannot read the text: it is neither UTF-8 nor GBK (byte "
                f"0x{raw[utf8_error.start]:02x} on line {line} is not valid in either); "
                'save it from Excel as "CSV UTF-8" or as .xlsx',
            ) from None


def _separator(first_line: str) -> str:
    """Commas, unless the header line is plainly tab- or semicolon-separated."""
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


# Bytes the plain split leaves to pandas: quotes, and controls other than tab, line feed and
# carriage return (pandas' C reader has rules of its own for a NUL and the like). Neither UTF-8
# nor GB18030 uses these bytes inside a multi-byte character, so the raw bytes can be screened.
_NOT_PLAIN_CSV_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, ord('"')])


def _plain_csv_cells(raw: bytes, encoding: str, separator: str) -> ObjectArray | None:
    """The cells of a plain CSV text, exactly as :func:`read_csv_table`'s pandas reading
    gives them; None when the text is not plain: a quote or a control character, a lone CR,
    an empty line before the end, a line not as wide as the header, or too many lines."""
    if len(raw.translate(None, _NOT_PLAIN_CSV_BYTES)) != len(raw):
        return None
    text = raw.decode(encoding)
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None  # a lone CR
        text = text.replace("\r\n", "\n")
    text = text.removesuffix("\n")  # the line break that ends the last line
    lines = text.split("\n")
    if len(lines) > MAX_ROWS + 2 or "" in lines:
        return None
    width = lines[0].count(separator) + 1
    if set(map(methodcaller("count", separator), lines)) != {width - 1}:
        return None
    # Every line holds width - 1 separators: the cells, row after row, are the text split at
    # both line breaks and separators.
    flat = text.replace("\n", separator).split(separator) if width > 1 else lines
    # Column-major, as pandas gives it: the checks read a column at a time.
    cells: ObjectArray = np.asfortranarray(np.array(flat, dtype=object).reshape(len(lines), width))
    return cells


def read_csv_table(path: Path, file: str) -> Table:
    raw = path.read_bytes()
    encoding = csv_encoding(raw, file)
    if not raw.strip().strip(codecs.BOM_UTF8).strip():
        raise fail(file, _EMPTY)
    first_line = raw[: raw.find(b"\n") if b"\n" in raw else len(raw)].decode(
        encoding, errors="replace"
    )
    separator = _separator(first_line)
    plain = _plain_csv_cells(raw, encoding, separator)
    if plain is not None:
        return _split_header(plain, file)
    return _split_header(_pandas_csv_cells(raw, encoding, separator, file), file)


def _pandas_csv_cells(raw: bytes, encoding: str, separator: str, file: str) -> ObjectArray:
    """The cells of any CSV text, by pandas' C reader (quotes, ragged lines, odd breaks)."""
    import pandas as pd

    try:
        table = pd.read_csv(
            io.BytesIO(raw),
            encoding=encoding,
            sep=separator,
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            nrows=MAX_ROWS + 2,
        )
    except pd.errors.EmptyDataError:
        raise fail(file, _EMPTY) from None
    except pd.errors.ParserError as error:
        raise fail(file, _csv_structure_message(str(error))) from None
    # With na_filter off, every cell (a missing trailing one too) is a str.
    cells: ObjectArray = table.to_numpy(dtype=object)
    return cells


def _csv_structure_message(detail: str) -> str:
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if ragged:
        expected, line, seen = ragged.groups()
        return (
            f"line {line} has {seen} cells but the first row has {expected}; "
            "a stray separator, or a value with a comma that needs quotes?"
        )
    return f"not a readable CSV table: {detail.removeprefix('Error tokenizing data. C error: ')}"


EXACT_DIGITS = 15  # what Excel keeps of a number typed into a cell


def number_is_exact(value: float) -> bool:
    """Whether a number cell surely holds what was typed: at most 15 significant digits."""
    if not value or not np.isfinite(value):
        return True
    digits = repr(abs(value)).split("e")[0].replace(".", "").strip("0")
    return len(digits) <= EXACT_DIGITS and abs(value) < 2**53


def _xlsx_cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would hold (whole numbers without ``.0``, in full:
    ``10000000000000000``, never ``1e+16``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


MAX_FORMULAS_SHOWN = 20


def _cell_name(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column + 1)}{row}"


def _check_workbook_archive(path: Path, file: str) -> None:
    """Refuse what is not a zip archive, or unpacks to more than the limit (a zip bomb)."""
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise fail(file, "cannot read .xlsx safely: the defusedxml package is not installed")
    if not zipfile.is_zipfile(path):
        raise fail(file, "not an .xlsx workbook (not a zip archive); an old .xls? Save as .xlsx")
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise fail(
            file,
            f"the workbook unpacks to {unpacked / 2**30:,.1f} GB; price-opt reads at most "
            f"{MAX_XLSX_UNPACKED_BYTES // 2**30} GB",
        )


def _pick_sheet(workbook: Any, file: str, sheet_name: str | None) -> Any:
    """The sheet named (or the first), refused when its declared size is absurd."""
    if not workbook.worksheets:
        raise fail(file, "the workbook has no sheet")
    names = [str(ws.title) for ws in workbook.worksheets]
    if sheet_name is None:
        sheet = workbook.worksheets[0]
    elif sheet_name in names:
        sheet = workbook.worksheets[names.index(sheet_name)]
    else:
        raise fail(file, f"no sheet named {sheet_name!r}; the workbook has: "
                   + ", ".join(repr(name) for name in names), column="--sheet")
    declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
    if declared_rows > MAX_ROWS + 1 or declared_columns > MAX_COLUMNS:
        raise fail(
            file,
            f"sheet {sheet.title!r} declares {declared_rows:,} rows × {declared_columns:,} "
            f"columns; price-opt reads at most {MAX_ROWS:,} products and {MAX_COLUMNS} "
            "columns",
        )
    return sheet


def _sheet_texts(
    sheet: Any, file: str
) -> tuple[list[list[str]], list[tuple[str, str]], set[tuple[int, int]]]:
    """The sheet's cells as text; its formula cells (name, formula); its inexact numbers."""
    formulas: list[tuple[str, str]] = []
    inexact: set[tuple[int, int]] = set()
    # The declared size can also be wrong the other way (too small): read what is there.
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    try:
        for cells in sheet.iter_rows():
            if len(rows) > MAX_ROWS + 1 or len(cells) > MAX_COLUMNS:
                raise fail(
                    file,
                    f"sheet {sheet.title!r} has more than {MAX_ROWS:,} rows or "
                    f"{MAX_COLUMNS} columns",
                )
            texts = []
            for position, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f":
                    formulas.append((_cell_name(len(rows) + 1, position), str(value)))
                    value = None
                elif isinstance(value, float) and not number_is_exact(value):
                    inexact.add((len(rows) + 1, position))
                texts.append(_xlsx_cell_text(value))
            rows.append(texts)
    except InputError:
        raise
    except Exception as error:  # a damaged or hostile sheet: report, never crash
        raise fail(file, f"not a readable .xlsx workbook: {error}") from None
    return rows, formulas, inexact


def read_xlsx_table(path: Path, file: str, sheet_name: str | None = None) -> Table:
    """The cells of one worksheet (``sheet_name``, or the first), as text.

    Formula cells are refused, every one named (``C5``): price-opt reads the values a person
    sees, and a workbook written by a program holds no computed value for a formula. Number
    cells that cannot be exact (beyond 15 significant digits) are listed in ``inexact``.
    """
    import openpyxl

    _check_workbook_archive(path, file)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged or hostile file
        raise fail(file, f"not a readable .xlsx workbook: {error}") from None
    try:
        sheet = _pick_sheet(workbook, file, sheet_name)
        other_sheets = tuple(str(ws.title) for ws in workbook.worksheets if ws is not sheet)
        rows, formulas, inexact = _sheet_texts(sheet, file)
    finally:
        workbook.close()
    if formulas:
        shown = "; ".join(f"{cell} {formula[:40]!r}" for cell, formula in
                          formulas[:MAX_FORMULAS_SHOWN])
        more = (f" and {len(formulas) - MAX_FORMULAS_SHOWN:,} more"
                if len(formulas) > MAX_FORMULAS_SHOWN else "")
        raise fail(
            file,
            f"sheet {sheet.title!r} holds {len(formulas):,} formula cell(s): {shown}{more}; "
            "price-opt reads values, not formulas: copy the sheet and paste it as values "
            "(选择性粘贴 → 数值), then save",
        )
    width = max((len(row) for row in rows), default=0)
    table = np.empty((len(rows), width), dtype=object)
    for index, row in enumerate(rows):
        table[index] = row + [""] * (width - len(row))
    read = _split_header(table, file)
    read.inexact = frozenset(inexact)
    read.sheet_name = str(sheet.title)
    read.other_sheets = other_sheets
    return read


def _split_header(table: ObjectArray, file: str) -> Table:
    """Find the header (the first non-empty row) and drop rows with nothing in them."""
    if table.ndim != 2 or not table.size:
        raise fail(file, _EMPTY)
    filled = np.asarray(table[:, 0] != "", dtype=np.bool_)
    doubtful = np.flatnonzero(~filled)
    if len(doubtful):
        filled[doubtful] = (table[doubtful] != "").any(axis=1)
    non_empty = np.flatnonzero(filled)
    if not len(non_empty):
        raise fail(file, _EMPTY)
    header_index = int(non_empty[0])
    body_index = non_empty[non_empty > header_index]
    if len(body_index) > MAX_ROWS:
        raise fail(file, f"more than {MAX_ROWS:,} products; split the catalogue")
    header = [str(cell).strip() for cell in table[header_index].tolist()]
    contiguous = len(body_index) == table.shape[0] - header_index - 1
    body = table[header_index + 1 :] if contiguous else table[body_index]
    return Table(
        header=header,
        columns=[body[:, position] for position in range(table.shape[1])],
        rows=(body_index + 1).astype(np.int64),
    )


# --- small tables as rows ------------------------------------------------------------------


def read_csv_rows(path: Path) -> list[list[object]]:
    """A small CSV file's rows (a submission sheet, its settings), decoded by
    :func:`csv_encoding`."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail(file, "file not found") from None
    except OSError as error:
        raise fail(file, f"cannot read the file: {error}") from None
    text = raw.decode(csv_encoding(raw, file))
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def open_workbook(path: Path) -> Any:
    """An ``.xlsx`` workbook opened read-only (values, not formulas); close it when done."""
    from openpyxl import load_workbook

    if not path.is_file():
        raise InputError([Problem(str(path), "file not found")])
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(
            [Problem(str(path), f"not a readable .xlsx workbook: {error}")]
        ) from None


def workbook_rows(sheet: Any) -> list[list[object]]:
    """A worksheet's rows as lists of cell values."""
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- the cell vocabulary -------------------------------------------------------------------

# Yes/no as merchandisers write it, in either language; an empty cell means yes (a product may
# join buy-two-get-one unless the file says otherwise). One vocabulary for the products file
# and the submission sheet.
YES_NO: dict[str, bool] = {
    "": True,
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "是": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
    "否": False,
}


def yes_no(text: str) -> bool | None:
    """What a yes/no cell says (:data:`YES_NO`, any case, spaces ignored); None: neither."""
    return YES_NO.get(text.strip().casefold())


# --- problems ------------------------------------------------------------------------------


def fail(file: str, message: str, **where: Any) -> InputError:
    """One :class:`InputError` with one problem: the file is refused outright."""
    return InputError([Problem(file, message, **where)])


def input_error(problems: Sequence[Problem]) -> InputError:
    """One :class:`InputError` for these problems, saying how rows are numbered if it names any.

    For callers that gather the problems of several files (``price-opt validate``) into one.
    """
    error = InputError(problems)
    if any(p.row is not None and p.column is not None for p in error.problems):
        error.args = (f"{error.args[0]}\n  ({ROW_CONVENTION})",)
    return error


def with_hints(names: Sequence[str], accepted: Mapping[str, str], cutoff: float) -> str:
    """Quoted names, each with a "did you mean" when one accepted name is close.

    ``accepted`` maps what may be written (case-folded) to the name to suggest.
    """
    shown = []
    for name in names:
        close = difflib.get_close_matches(name.casefold(), list(accepted), n=1, cutoff=cutoff)
        hint = f" (did you mean {accepted[close[0]]!r}?)" if close else ""
        shown.append(f"{name!r}{hint}")
    return ", ".join(shown)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex: records exactly which input a plan was made from."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
