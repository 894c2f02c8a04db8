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


# --- gzip of a cached page whose holes change per request -----------------------------------------
#
# A cached page (incubator/pagecache) is fixed text with a few small holes (the CSRF token, the
# user's name). Compressing the whole page per request would cost more than serving it, so each
# fixed part is deflated once, on its own, ending on a byte boundary (Z_SYNC_FLUSH, never the
# final block); per request the holes go in as tiny stored blocks between them and one empty final
# block closes the stream. A raw deflate stream may be cut into blocks anywhere, and each fixed
# part only refers back into itself, so the pieces decode as one stream.
#
# The gzip trailer needs the CRC-32 of the whole text. Running zlib.crc32 over 600 KiB per request
# costs ~0.3 ms; instead each fixed part keeps the linear map "the CRC register after n more
# bytes" (the same algebra as zlib's crc32_combine), as four 256-entry byte tables, so its CRC is
# combined with what precedes it in four lookups.

import struct
import zlib

_MASK = 0xFFFFFFFF
_FINAL_EMPTY_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -15).flush()  # b"\x03\x00"
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, mtime 0, unknown OS


class DeflatedPart:
    """One fixed part of a page: its deflate blocks, length and CRC algebra."""

    __slots__ = ("data", "deflated", "tables", "register_from_zero")

    def __init__(self, data: bytes, level: int = 6):
        self.data = data
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.deflated = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        n = len(data)
        zeros = bytes(n)
        # the register after n zero bytes, for each one-bit starting register (linear in it)
        basis = [zlib.crc32(zeros, (1 << bit) ^ _MASK) ^ _MASK for bit in range(32)]
        tables = []
        for k in range(4):
            table = [0] * 256
            for b in range(1, 256):
                low = (b & -b).bit_length() - 1
                table[b] = table[b & (b - 1)] ^ basis[8 * k + low]
            tables.append(table)
        self.tables = tables
        # the register after this data from a zero register: from zlib's own CRC (register
        # 0xFFFFFFFF at the start) minus what the all-ones start contributes
        self.register_from_zero = (zlib.crc32(data) ^ _MASK) ^ self._shift(_MASK)

    def _shift(self, register: int) -> int:
        t0, t1, t2, t3 = self.tables
        return t0[register & 255] ^ t1[(register >> 8) & 255] ^ t2[(register >> 16) & 255] ^ t3[register >> 24]

    def advance(self, register: int) -> int:
        return self._shift(register) ^ self.register_from_zero


def _stored_blocks(data: bytes) -> bytes:
    out = bytearray()
    for start in range(0, len(data), 65535):
        chunk = data[start:start + 65535]
        out += b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk
    return bytes(out)


def splice_gzip(parts) -> bytes:
    """A gzip member of the parts in order: DeflatedPart for fixed text, bytes for holes."""
    register, size, out = _MASK, 0, [_GZIP_HEADER]
    for part in parts:
        if isinstance(part, DeflatedPart):
            register = part.advance(register)
            size += len(part.data)
            out.append(part.deflated)
        elif part:
            register = zlib.crc32(part, register ^ _MASK) ^ _MASK
            size += len(part)
            out.append(_stored_blocks(part))
    out.append(_FINAL_EMPTY_BLOCK)
    out.append(struct.pack("<II", register ^ _MASK, size & _MASK))
    return b"".join(out)
