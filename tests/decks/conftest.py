"""Fixtures for the deck tests: a founder with a draft application, files good and bad."""
from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "storage"))  # s3_helpers

PPTX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/ppt/presentation.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>'
    '</Types>'
)


def pdf_bytes(size: int = 2000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    return head + b"%" * max(0, size - len(head) - 6) + b"\n%%EOF"


def pptx_bytes(extra: dict[str, bytes] | None = None, content_types: str = PPTX_CONTENT_TYPES) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("ppt/presentation.xml", "<p:presentation/>")
        zf.writestr("ppt/slides/slide1.xml", "<p:sld>南湖</p:sld>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x90" * 600


def zip_bomb_many_entries(n: int = 5001) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", PPTX_CONTENT_TYPES)
        for i in range(n):
            zf.writestr(f"ppt/media/{i}", b"")
    return buf.getvalue()


def zip_bomb_ratio(megabytes: int = 20) -> bytes:
    """A few KB on disk, `megabytes` of zeros when inflated."""
    return pptx_bytes({"ppt/media/zeros.bin": b"\x00" * (megabytes * 1024 * 1024)})


def zip_bomb_declared_size() -> bytes:
    """A small zip whose central directory declares a 3 GB entry (what unzip tools trust)."""
    data = bytearray(pptx_bytes({"ppt/media/big.bin": b"x" * 100}))
    cd = data.rfind(b"PK\x01\x02")  # the last central directory record is big.bin's
    struct.pack_into("<I", data, cd + 24, 3_000_000_000)
    return bytes(data)


@pytest.fixture
def founder(make_user):
    return make_user("founder", email="founder@example.cn")


@pytest.fixture
def application(db, founder):
    from incubator.applications.services import start_application
    from tests.applications.helpers import open_competition

    comp = open_competition(db, questions=False)
    app_row = start_application(founder, comp)
    app_row.project_name = "柔性电子皮肤传感器"
    db.session.commit()
    return app_row


@pytest.fixture
def in_request(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def storage(app):
    from incubator.storage import get_storage

    return get_storage()
