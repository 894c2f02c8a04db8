"""compression.splice_gzip: fixed parts deflated once, holes stored per request, one valid gzip."""
from __future__ import annotations

import gzip
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.compression import DeflatedPart, splice_gzip

texts = st.one_of(st.binary(max_size=300),
                  st.text(max_size=200).map(lambda t: t.encode("utf-8")),
                  st.integers(0, 200_000).map(lambda n: (b"<rect class='fp'/>" * (n // 18 + 1))[:n]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), texts), max_size=8))
def test_spliced_gzip_decodes_to_the_parts_in_order(parts):
    pieces = [DeflatedPart(data) if fixed else data for fixed, data in parts]
    body = splice_gzip(pieces)
    expected = b"".join(data for _, data in parts)
    assert gzip.decompress(body) == expected  # checks the CRC-32 and the length in the trailer too
    # a browser inflates it as a stream
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body) == expected


def test_a_large_hole_is_cut_into_stored_blocks_and_a_part_is_reusable():
    page = DeflatedPart(b"<svg>" + b"<rect/>" * 50_000 + b"</svg>")
    for hole in (b"", b"x" * 70_000, "令牌".encode() * 3):
        body = splice_gzip([b"<html>", page, hole, page])
        assert gzip.decompress(body) == b"<html>" + page.data + hole + page.data
    assert len(splice_gzip([page])) < len(page.data) / 20  # the fixed part is really compressed


def test_the_secret_hole_is_stored_not_compressed():
    """BREACH needs the secret inside a compression context; a stored block has none."""
    token = b"IjA4ZmQ1YzU2MTFiZGIwY2Y5In0.Zz1.secret"
    body = splice_gzip([DeflatedPart(b"echo: " + token[:10] * 20), token, DeflatedPart(b"tail")])
    assert token in body  # verbatim on the wire, no back-reference into or out of it
