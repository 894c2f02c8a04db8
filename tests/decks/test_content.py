"""The content checks on bytes alone (no store): PDF signature, PPTX zip structure and limits."""
from __future__ import annotations

import pytest

from incubator.decks.content import DeckRejected, check_pdf, check_pptx

from .conftest import (elf_bytes, pdf_bytes, pptx_bytes, zip_bomb_declared_size, zip_bomb_many_entries,
                       zip_bomb_ratio)


def reader(data: bytes):
    calls = []

    def read(start, end):
        calls.append((start, end))
        return data[start:end + 1]

    read.calls = calls
    return read


def test_check_pdf_accepts_a_pdf():
    data = pdf_bytes()
    check_pdf(reader(data), len(data))


@pytest.mark.parametrize("data", [elf_bytes(), b"", b"%PD", pptx_bytes(), b"<html>%PDF-"])
def test_check_pdf_refuses_other_content(data):
    with pytest.raises(DeckRejected) as caught:
        check_pdf(reader(data), len(data))
    assert caught.value.reason == "not_pdf"


def test_check_pptx_accepts_a_presentation_with_few_ranged_reads():
    data = pptx_bytes()
    read = reader(data)
    entries = check_pptx(read, len(data))
    assert "[Content_Types].xml" in [e.name for e in entries]
    assert len(read.calls) <= 4  # signature, tail, local header, entry


@pytest.mark.parametrize("data, reason", [
    (elf_bytes(), "not_pptx"),
    (pdf_bytes(), "not_pptx"),
    (pptx_bytes(content_types='<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
                              'wordprocessingml.document.main+xml"/></Types>'), "not_pptx"),
    (zip_bomb_many_entries(), "zip_limits"),
    (zip_bomb_ratio(), "zip_limits"),
    (zip_bomb_declared_size(), "zip_limits"),
    (pptx_bytes()[:-30], "not_pptx"),  # cut off: no end of central directory
])
def test_check_pptx_refuses_bad_and_bomb_zips(data, reason):
    with pytest.raises(DeckRejected) as caught:
        check_pptx(reader(data), len(data))
    assert caught.value.reason == reason


def test_zip_bombs_are_small_on_disk():
    assert len(zip_bomb_ratio()) < 200_000
    assert len(zip_bomb_declared_size()) < 5_000
