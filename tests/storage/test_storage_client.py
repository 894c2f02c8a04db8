"""The S3 client against the session's SeaweedFS (signature checking on): what the store enforces
for a presigned POST, downloads with Chinese names, and the plain object operations."""
from __future__ import annotations

import base64
import io
import json
import re
import time
from urllib.parse import unquote

import pytest

from s3_helpers import http, multipart_post

PDF = b"%PDF-1.7\n" + b"0" * 200


def post_form(storage, key, content, *, max_bytes=1000, content_type="application/pdf", expires=60,
              override=None, file_type="application/pdf"):
    post = storage.presigned_post(key, content_type, max_bytes, expires)
    fields = {**post.fields, **(override or {})}
    return multipart_post(post.url, fields, content, file_type=file_type)


def test_presigned_post_within_limits_stores_the_object(storage):
    response = post_form(storage, "decks/2026/within-limits", PDF)
    assert response.status in (200, 201, 204), response.body
    info = storage.head("decks/2026/within-limits")
    assert info.size == len(PDF)
    assert info.content_type == "application/pdf"
    assert info.etag


def test_presigned_post_at_exact_size_limit_is_accepted(storage):
    response = post_form(storage, "decks/2026/exact-limit", b"x" * 100, max_bytes=100)
    assert response.status in (200, 201, 204), response.body


@pytest.mark.parametrize(("case", "kwargs", "expected_code"), [
    ("over the size limit", {"content": b"x" * 1001}, "EntityTooLarge"),
    ("empty file", {"content": b""}, "EntityTooSmall"),
    ("another content type", {"override": {"Content-Type": "text/html"}}, "AccessDenied"),
    ("another key", {"override": {"key": "decks/2026/someone-elses"}}, "AccessDenied"),
])
def test_presigned_post_is_refused_outside_its_conditions(storage, case, kwargs, expected_code):
    key = "decks/2026/refused-" + re.sub(r"\W", "-", case)
    kwargs.setdefault("content", PDF)
    response = post_form(storage, key, **kwargs)
    assert response.status in (400, 403), (case, response.status, response.body)
    assert f"<Code>{expected_code}</Code>" in response.body
    assert storage.head(key) is None
    assert storage.head("decks/2026/someone-elses") is None


def test_presigned_post_is_refused_with_a_tampered_policy(storage):
    key = "decks/2026/tampered"
    post = storage.presigned_post(key, "application/pdf", 100, 60)
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = multipart_post(post.url, {**post.fields, "policy": forged}, b"x" * 5000)
    assert response.status == 403
    assert "SignatureDoesNotMatch" in response.body
    assert storage.head(key) is None


def content_disposition_filename(header: str) -> str:
    match = re.search(r"filename\*=UTF-8''([^;]+)", header)
    assert match, header
    return unquote(match.group(1), encoding="utf-8")


def test_presigned_get_returns_the_file_with_its_chinese_name(storage):
    storage.put_stream("decks/2026/get-me", io.BytesIO(PDF), "application/pdf")
    url = storage.presigned_get("decks/2026/get-me", "青创城·路演 商业计划书（终版）.pdf", expires_seconds=60)
    response = http(url)
    assert response.status == 200
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    assert content_disposition_filename(header) == "青创城·路演 商业计划书（终版）.pdf"
    assert 'filename="download.pdf"' in header  # the ASCII fallback for old clients
    assert header.isascii()


def test_presigned_post_and_get_stop_working_after_expiry(storage):
    storage.put_stream("decks/2026/short-lived", io.BytesIO(PDF), "application/pdf")
    get_url = storage.presigned_get("decks/2026/short-lived", "deck.pdf", expires_seconds=1)
    post = storage.presigned_post("decks/2026/expired", "application/pdf", 1000, expires_seconds=1)
    assert http(get_url).status == 200
    time.sleep(2.1)
    assert http(get_url).status == 403
    response = multipart_post(post.url, post.fields, PDF)
    assert response.status == 403
    assert "Policy expired" in response.body
    assert storage.head("decks/2026/expired") is None


def test_presigned_get_with_a_changed_key_is_refused(storage):
    storage.put_stream("decks/2026/mine", io.BytesIO(PDF), "application/pdf")
    storage.put_stream("decks/2026/theirs", io.BytesIO(PDF), "application/pdf")
    url = storage.presigned_get("decks/2026/mine", "deck.pdf")
    assert http(url.replace("/mine?", "/theirs?")).status == 403


def test_head_of_a_missing_object_is_none(storage):
    assert storage.head("decks/2026/never-uploaded") is None
    assert storage.read_range("decks/2026/never-uploaded", 0, 3) is None


def test_read_range_returns_the_first_bytes(storage):
    storage.put_stream("decks/2026/ranged", io.BytesIO(PDF), "application/pdf")
    assert storage.read_range("decks/2026/ranged", 0, 4) == b"%PDF-"
    assert storage.read_range("decks/2026/ranged", 0, 10_000) == PDF  # shorter than asked


def test_put_stream_uploads_a_file_larger_than_one_part(storage):
    from incubator.storage.client import STREAM_PART_BYTES

    size = STREAM_PART_BYTES + 123
    storage.put_stream("decks/2026/big", io.BytesIO(b"\0" * size), "application/pdf")
    info = storage.head("decks/2026/big")
    assert info.size == size
    assert info.content_type == "application/pdf"
    storage.delete("decks/2026/big")


def test_list_copy_and_delete(storage):
    storage.put_stream("listing/2026/a", io.BytesIO(b"aaa"), "text/plain")
    storage.copy("listing/2026/a", "listing/2026/b")
    listed = {item.key: item for item in storage.list_prefix("listing/")}
    assert set(listed) == {"listing/2026/a", "listing/2026/b"}
    assert listed["listing/2026/b"].size == 3
    assert listed["listing/2026/b"].last_modified.tzinfo is not None
    storage.delete("listing/2026/a")
    storage.delete("listing/2026/a")  # deleting twice is not an error
    storage.delete("listing/2026/b")
    assert list(storage.list_prefix("listing/")) == []


def test_new_key_is_server_chosen_and_never_the_file_name():
    from incubator.storage import new_key

    first, second = new_key("decks", 2026), new_key("decks", 2026)
    assert re.fullmatch(r"decks/2026/[0-9a-f-]{36}", first)
    assert first != second
    for bad in ("../etc", "Decks", "商业计划书", "a/b", ""):
        with pytest.raises(ValueError):
            new_key(bad, 2026)


@pytest.mark.parametrize(("name", "fallback"), [
    ("商业计划书.pdf", "download.pdf"),
    ("Pitch Deck v2.pptx", "Pitch Deck v2.pptx"),
    ('../../evil"\r\nSet-Cookie: x.pdf', "evilSet-Cookie_ x.pdf"),
    ("Café.pdf", "Cafe.pdf"),
])
def test_content_disposition_has_ascii_fallback_and_exact_utf8_name(name, fallback):
    from incubator.storage.client import clean_filename, content_disposition

    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert f'filename="{fallback}"' in header
    assert content_disposition_filename(header) == clean_filename(name)


def test_boto3_client_is_shared_per_configuration(app):
    from incubator import create_app
    from incubator.storage import get_storage
    from incubator.storage.client import CONNECT_TIMEOUT_SECONDS, MAX_ATTEMPTS

    other_app = create_app("testing", dict(app.config))
    client = get_storage(app).client
    assert get_storage(other_app).client is client
    other_app.config["S3_BUCKET"] = "another-bucket"
    assert get_storage(other_app).client is not client
    # Fail fast: short connect timeout, one retry (an unreachable store answers in seconds).
    assert client.meta.config.connect_timeout == CONNECT_TIMEOUT_SECONDS
    assert client.meta.config.retries["total_max_attempts"] == MAX_ATTEMPTS
    assert client.meta.config.signature_version == "s3v4"
