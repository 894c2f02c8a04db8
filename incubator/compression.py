"""gzip for large text responses, for the clients that ask for it (``Accept-Encoding: gzip``).

Register per blueprint with ``bp.after_request(gzip_large_responses)``. Server-drawn pages such as
the 2,000-space floor plan are ~600 KiB of very repetitive markup that gzip level 1 shrinks ~10x
in ~1-2 ms, so the workers spend their time computing pages, not writing bytes.

Only successful GET/HEAD responses are compressed. Compressed pages that carry a secret (the CSRF
token) and reflect attacker-chosen text are what the BREACH attack needs: the blueprints that
register this hook echo only validated query values (ids, dates, fixed choices) on GET, and POST
responses (which may echo submitted text) are never compressed.
"""
from __future__ import annotations

import gzip

from flask import Response, request

MIN_SIZE = 1400  # below one TCP segment there is nothing to gain
LEVEL = 1  # ~10x on generated markup at a fraction of the cost of level 6
TYPES = frozenset({"text/html", "text/plain", "text/csv", "text/css", "application/json", "image/svg+xml",
                   "application/javascript", "text/javascript"})


def gzip_large_responses(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    if (request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough
            or response.is_streamed or "Content-Encoding" in response.headers or response.mimetype not in TYPES
            or request.accept_encodings.quality("gzip") <= 0):
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(data, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response
