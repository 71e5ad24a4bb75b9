"""The data rows of a large ``.xlsx`` sheet, written as XML directly.

XlsxWriter costs about ten microseconds a cell, most of a second for a 10,000-row review. Here
XlsxWriter still writes the workbook (styles, header, widths, comments, frozen panes, filter,
the other sheets); the data rows of one sheet are formatted here as sheet XML (strings inline,
numbers as their decimal text, each cell with the style XlsxWriter gave its format) and put in
place of the sheet's empty data area, in a copy of the package. Readers (Excel, WPS, openpyxl)
see the same cells XlsxWriter would have written, except that text is stored inline rather than
in the shared-strings table, which the format allows.

    rows = SheetRows(first_row=1)                      # 0-based, as XlsxWriter counts
    rows.add([rows.text("A-1", style), rows.number("12.50", money), None])
    finish(buffer.getvalue(), path, 1, rows, columns=3)   # after workbook.close()
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SHEET_DATA_END = re.compile(rb"</sheetData>|<sheetData/>")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def style_of(cell_format: Any) -> int:
    """The style index XlsxWriter gives ``cell_format`` (registering it as used); 0: none."""
    return 0 if cell_format is None else int(cell_format._get_xf_index())


class SheetRows:
    """Rows of cells as sheet XML; a cell is made by :meth:`text` or :meth:`number`."""

    def __init__(self, first_row: int) -> None:
        self.first_row = first_row
        self.next_row = first_row
        self._parts: list[str] = []
        self._names: list[str] = []
        self._short_texts: dict[tuple[str, int], str] = {}

    def text(self, value: str, style: int) -> str:
        """A text cell (``value`` already safe for XML 1.0, see ``sheets.xlsx_text``)."""
        if len(value) <= 16:  # yes/no, discounts: the same few cells on every row
            key = (value, style)
            cell = self._short_texts.get(key)
            if cell is None:
                cell = self._short_texts[key] = self._text(value, style)
            return cell
        return self._text(value, style)

    @staticmethod
    def _text(value: str, style: int) -> str:
        escaped = value.translate(_ESCAPE)
        space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
        return f' s="{style}" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'

    @staticmethod
    def number(value: str, style: int) -> str:
        """A number cell from its decimal text (``"12.50"``, ``"3"``)."""
        return f' s="{style}"><v>{value}</v></c>'

    def add(self, cells: Sequence[str | None]) -> None:
        """Append one row; ``None`` leaves a cell empty."""
        while len(self._names) < len(cells):
            self._names.append(xl_col_to_name(len(self._names)))
        excel_row = self.next_row + 1
        names = self._names
        self._parts.append(f'<row r="{excel_row}">' + "".join([
            f'<c r="{names[position]}{excel_row}"{cell}'
            for position, cell in enumerate(cells) if cell is not None
        ]) + "</row>")
        self.next_row += 1

    def xml(self) -> str:
        return "".join(self._parts)


def finish(workbook_bytes: bytes, path: Path, sheet_number: int, rows: SheetRows,
           columns: int) -> None:
    """Write the workbook XlsxWriter made (``workbook_bytes``) to ``path`` with ``rows`` put
    at the end of sheet ``sheet_number``'s data (1-based) and its dimension covering them."""
    name = f"xl/worksheets/sheet{sheet_number}.xml"
    with zipfile.ZipFile(io.BytesIO(workbook_bytes)) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == name:
                data = _with_rows(data, rows, columns)
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)


def _with_rows(sheet: bytes, rows: SheetRows, columns: int) -> bytes:
    end = _SHEET_DATA_END.search(sheet)
    if end is None:
        raise ValueError("the worksheet has no data area")
    body = rows.xml().encode()
    if end.group() == b"<sheetData/>":
        sheet = sheet[:end.start()] + b"<sheetData>" + body + b"</sheetData>" + sheet[end.end():]
    else:
        sheet = sheet[:end.start()] + body + sheet[end.start():]
    last_row = max(rows.next_row - 1, 0)
    reference = f"A1:{xl_rowcol_to_cell(last_row, max(columns - 1, 0))}".encode()
    return _DIMENSION.sub(b'<dimension ref="' + reference + b'"/>', sheet, count=1)


__all__ = ["SheetRows", "finish", "style_of"]
