"""What is inside an uploaded deck, judged from a few ranged reads, never from the whole file.

The web process never downloads a deck: it reads the first bytes (the signature) and, for a PPTX,
the zip's end-of-central-directory record and central directory from the tail, then the one
small entry `[Content_Types].xml`, inflated with a hard cap. No Flask, no database: `read(start,
end)` (inclusive, like an HTTP Range) is passed in, so tests can feed bytes directly.

A PPTX is refused when its central directory declares more than MAX_ENTRIES entries, more than
MAX_UNCOMPRESSED_BYTES in total, or an entry that inflates more than MAX_RATIO times (zip bombs
hurt whoever opens the file later: judges' laptops, a thumbnailer). The declared sizes are what
an unzip tool trusts, so checking them is checking what a reader would be made to allocate.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

PDF_SIGNATURE = b"%PDF-"
ZIP_LOCAL_SIGNATURE = b"PK\x03\x04"
EOCD_SIGNATURE = b"PK\x05\x06"
CD_SIGNATURE = b"PK\x01\x02"
EOCD_MIN = 22
EOCD_MAX_COMMENT = 65535

MAX_ENTRIES = 5000
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_RATIO = 200  # per entry, for entries that inflate to more than RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_CENTRAL_DIRECTORY_BYTES = 4 * 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

PRESENTATION_TYPES = (
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    b"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
)

Reader = Callable[[int, int], bytes]


class DeckRejected(Exception):
    """The file is not an acceptable deck; `reason` is a key of REASONS in services."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ZipEntry:
    name: str
    method: int
    flags: int
    compressed_size: int
    uncompressed_size: int
    local_header_offset: int


def check_pdf(read: Reader, size: int) -> None:
    if size < len(PDF_SIGNATURE) or read(0, len(PDF_SIGNATURE) - 1) != PDF_SIGNATURE:
        raise DeckRejected("not_pdf")


def check_pptx(read: Reader, size: int) -> list[ZipEntry]:
    """Raise DeckRejected unless the file is a zip within the limits whose [Content_Types].xml
    declares a presentation. Returns the central directory entries."""
    if size < EOCD_MIN + 4 or read(0, 3) != ZIP_LOCAL_SIGNATURE:
        raise DeckRejected("not_pptx")
    tail_len = min(size, EOCD_MIN + EOCD_MAX_COMMENT)
    tail_start = size - tail_len
    tail = read(tail_start, size - 1)
    at = tail.rfind(EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < EOCD_MIN:
        raise DeckRejected("not_pptx", "no end of central directory")
    (_sig, disk, cd_disk, _entries_here, entries, cd_size, cd_offset, _comment_len) = struct.unpack(
        "<4sHHHHIIH", tail[at:at + EOCD_MIN])
    if disk != 0 or cd_disk != 0:
        raise DeckRejected("not_pptx", "multi-disk zip")
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise DeckRejected("zip_limits", "zip64 (a deck never needs it)")
    if entries > MAX_ENTRIES:
        raise DeckRejected("zip_limits", f"{entries} entries")
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES or cd_offset + cd_size > tail_start + at:
        raise DeckRejected("not_pptx", "central directory out of bounds")
    if cd_offset >= tail_start:  # usually: the directory is already in the tail we read
        directory = tail[cd_offset - tail_start:cd_offset - tail_start + cd_size]
    else:
        directory = read(cd_offset, cd_offset + cd_size - 1) if cd_size else b""
    parsed = _parse_central_directory(directory, entries)

    total = 0
    for entry in parsed:
        total += entry.uncompressed_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise DeckRejected("zip_limits", f"more than {MAX_UNCOMPRESSED_BYTES} bytes uncompressed")
        if entry.uncompressed_size > RATIO_FLOOR_BYTES and (
                entry.uncompressed_size > MAX_RATIO * max(entry.compressed_size, 1)):
            raise DeckRejected("zip_limits", f"{entry.name!r} inflates {entry.uncompressed_size}/{entry.compressed_size}")
        if entry.local_header_offset + entry.compressed_size > size:
            raise DeckRejected("not_pptx", "entry out of bounds")

    content_types = next((e for e in parsed if e.name == "[Content_Types].xml"), None)
    if content_types is None:
        raise DeckRejected("not_pptx", "no [Content_Types].xml")
    xml = _read_entry(read, size, content_types)
    if not any(kind in xml for kind in PRESENTATION_TYPES):
        raise DeckRejected("not_pptx", "not a presentation")
    return parsed


def _parse_central_directory(directory: bytes, entries: int) -> list[ZipEntry]:
    parsed: list[ZipEntry] = []
    pos = 0
    for _ in range(entries):
        if directory[pos:pos + 4] != CD_SIGNATURE or len(directory) < pos + 46:
            raise DeckRejected("not_pptx", "broken central directory")
        (flags, method, _t, _d, _crc, csize, usize, name_len, extra_len, comment_len, _disk, _iattr, _eattr,
         offset) = struct.unpack("<HHHHIIIHHHHHII", directory[pos + 8:pos + 46])
        name = directory[pos + 46:pos + 46 + name_len].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if 0xFFFFFFFF in (csize, usize, offset):
            raise DeckRejected("zip_limits", "zip64 entry")
        parsed.append(ZipEntry(name, method, flags, csize, usize, offset))
        pos += 46 + name_len + extra_len + comment_len
    return parsed


def _read_entry(read: Reader, size: int, entry: ZipEntry) -> bytes:
    """The inflated bytes of one small entry, read with two ranged reads, capped in size."""
    if entry.flags & 0x1:
        raise DeckRejected("not_pptx", "encrypted")
    if entry.compressed_size > MAX_CONTENT_TYPES_BYTES or entry.uncompressed_size > MAX_CONTENT_TYPES_BYTES:
        raise DeckRejected("zip_limits", "[Content_Types].xml too large")
    header = read(entry.local_header_offset, entry.local_header_offset + 29)
    if len(header) < 30 or header[:4] != ZIP_LOCAL_SIGNATURE:
        raise DeckRejected("not_pptx", "broken local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = entry.local_header_offset + 30 + name_len + extra_len
    if start + entry.compressed_size > size:
        raise DeckRejected("not_pptx", "entry out of bounds")
    raw = read(start, start + entry.compressed_size - 1) if entry.compressed_size else b""
    if entry.method == 0:
        return raw[:MAX_CONTENT_TYPES_BYTES]
    if entry.method != 8:
        raise DeckRejected("not_pptx", f"compression method {entry.method}")
    inflater = zlib.decompressobj(-15)
    try:
        data = inflater.decompress(raw, MAX_CONTENT_TYPES_BYTES + 1)
    except zlib.error as exc:
        raise DeckRejected("not_pptx", f"inflate: {exc}") from exc
    if len(data) > MAX_CONTENT_TYPES_BYTES:
        raise DeckRejected("zip_limits", "[Content_Types].xml inflates too far")
    return data
