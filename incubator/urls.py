"""Values taken from requests: redirect targets must stay on this site (no open redirects), and
record numbers must be numbers the database can hold (else a lookup fails with an overflow)."""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest INTEGER primary key


def record_id(raw: str | None) -> int | None:
    """The record number typed or posted as `raw` ("12"), or None when it is not one: not ASCII
    digits ("²" passes str.isdigit), or beyond any key the database can hold."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def page_number(raw: str | None) -> int:
    """A list's page asked for in the query (`?page=3`): 1 unless it is a number a query's OFFSET
    can hold (`?page=99999999999999999999` is page 1, not an overflow)."""
    return record_id(raw) or 1


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route: a number beyond any key answers 404, not a database overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def safe_next(target: str | None, fallback: str) -> str:
    """Return `target` if it is a local path such as `/apply?step=2`, else `fallback`."""
    if not target or len(target) > 2000:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
