"""A unit's results as CSV and XLSX, in the columns an e-Kinerja user expects: NIP, nama, jabatan, rating hasil
kerja, rating perilaku, predikat.

NIPs are 18 digits: written as text in both formats, since a spreadsheet would turn them into a rounded number.
The CSV starts with a UTF-8 byte order mark so that spreadsheet programs read names with non-ASCII letters right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from services.scoring.app.read import ExportRow

HEADERS = ("NIP", "Nama", "Jabatan", "Rating Hasil Kerja", "Rating Perilaku", "Predikat")
_WIDTHS = (22, 32, 28, 24, 24, 20)


def _cells(row: ExportRow) -> tuple[str, ...]:
    return (
        row.nip,
        row.nama or "",
        row.jabatan or "",
        row.rating_hasil_kerja or "",
        row.rating_perilaku or "",
        row.predikat or "",
    )


def to_csv(rows: Sequence[ExportRow]) -> bytes:
    """The rows as CSV (comma-separated, quoted where needed, CRLF line ends as RFC 4180), UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(_cells(r) for r in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def to_xlsx(rows: Sequence[ExportRow], title: str) -> bytes:
    """The rows as one XLSX sheet named after the unit and period (at most 31 characters, as Excel allows)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Hasil"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_cells(row))
    for line in sheet.iter_rows(min_row=2, max_col=1):
        line[0].number_format = "@"  # text: an 18-digit NIP must not become 1.98E+17
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
