"""CSV and XLSX downloads, one way for every feature (applications, judging, spaces, audit).

* Every text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a
  carriage return; OWASP "CSV injection") is written with a leading quote, so a team called
  "=HYPERLINK(...)" stays text in Excel and WPS.
* CSV is UTF-8 with a BOM (Excel then reads Chinese correctly). Rows from a generator over the
  database are streamed in chunks (inside the request context): an export of tens of thousands of
  rows never sits whole in memory.
* XLSX comes from openpyxl's write-only workbook (rows are not kept); the finished file, a zip that
  cannot be written front to back, is spooled to a temporary file and streamed from there.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from flask import Response, stream_with_context

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 64 * 1024
_BATCH = 500  # rows written between two looks at the buffer's size


# Control characters no spreadsheet cell may hold (openpyxl refuses them and the XLSX export would
# fail for one stray byte in a judge's comment); tab, line feed and carriage return stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    """The value to write: control characters dropped, formula-looking text with a leading quote;
    anything else unchanged."""
    if isinstance(value, str):
        if not value.isprintable():  # (a C scan: most cells hold no control character at all)
            value = _CONTROL.sub("", value)
        if value[:1] in FORMULA_STARTS:
            return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(v) for v in row]


def _disposition(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_chunks(rows: Iterable[Sequence], header: Sequence | None = None) -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks of about 64 KiB: the BOM, the header (if any), the rows."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    if header is not None:
        writer.writerow(safe_row(header))
    rows = iter(rows)
    while batch := list(islice(rows, _BATCH)):
        writer.writerows(map(safe_row, batch))
        if buffer.tell() > _CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_response(filename: str, rows: Iterable[Sequence], header: Sequence | None = None) -> Response:
    """Rows already in memory (a list) make one body, which a blueprint's gzip hook may compress;
    rows from a generator (the database) are streamed as they come."""
    if isinstance(rows, list):
        body = b"".join(csv_chunks(rows, header))
    else:
        body = stream_with_context(csv_chunks(rows, header))
    return Response(body, mimetype="text/csv; charset=utf-8", headers=_disposition(filename))


def xlsx_response(filename: str, rows: Iterable[Sequence], header: Sequence | None = None,
                  sheet: str = "data") -> Response:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet[:31])  # Excel's limit on a sheet name
    if header is not None:
        ws.append(safe_row(header))
    for row in rows:
        ws.append(safe_row(row))
    spool = tempfile.TemporaryFile()
    try:
        workbook.save(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def generate():
        try:
            while chunk := spool.read(_CHUNK):
                yield chunk
        finally:
            spool.close()

    return Response(generate(), mimetype=XLSX_MIME, headers=_disposition(filename))
