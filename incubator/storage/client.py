"""One small S3 client for every S3-compatible store: SeaweedFS, MinIO, Aliyun OSS, Tencent COS, AWS S3.

Everything a store needs is in six settings (S3_ENDPOINT_URL, S3_BUCKET, S3_REGION,
S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_ADDRESSING_STYLE); requests are signed with
signature v4, which all of them accept. Aliyun OSS wants "virtual" addressing, SeaweedFS and
MinIO usually "path".

The boto3 client is built once per process per configuration (clients are thread-safe, sessions
are not) and cached by the settings tuple. Short timeouts and two attempts make an unreachable
store fail in a few seconds: a person waiting on a page is better served by a clear "try again
later" than by a spinner for minutes.

Every failure of the store (connection refused, timeout, 5xx, access denied, missing bucket)
reaches callers as ONE exception, StorageUnavailable, logged here with the request id; no
boto3 traceback escapes this module.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

import boto3
import boto3.exceptions
import botocore.exceptions
from botocore.config import Config as BotoConfig
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..timeutils import local_today

log = logging.getLogger("incubator.storage")

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 2  # one retry: a blip is absorbed, a dead store fails fast
# put_stream: one 8 MiB part in memory at a time, whatever the file size.
STREAM_PART_BYTES = 8 * 1024 * 1024

# Error codes that mean "the object is not there", as opposed to "the store is not answering".
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class StorageUnavailable(DomainError):
    """The file store did not answer or refused: the person can only try again later."""

    status_code = 503

    def __init__(self, message=None):
        # Not DomainError.__init__: it renders the lazy message at once, which needs a request
        # (the locale selector reads it), and this error is also raised in jobs and commands.
        Exception.__init__(self, "file storage unavailable")
        self.message = message or _l("File storage is temporarily unavailable. Please try again later.")
        self.field = None

    def __str__(self) -> str:
        try:
            return str(self.message)  # translated, like other DomainErrors, inside a request
        except RuntimeError:  # a job or command: no request to choose a language from
            return "File storage is temporarily unavailable. Please try again later."


@dataclass(frozen=True)
class StorageSettings:
    endpoint_url: str | None
    bucket: str
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    addressing_style: str = "path"

    @classmethod
    def from_config(cls, config) -> StorageSettings:
        style = (config.get("S3_ADDRESSING_STYLE") or "path").lower()
        if style not in ("path", "virtual"):
            raise RuntimeError(f"S3_ADDRESSING_STYLE must be 'path' or 'virtual', not {style!r}")
        return cls(
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,  # None: AWS picks the regional endpoint
            bucket=config["S3_BUCKET"],
            region=config.get("S3_REGION") or "us-east-1",
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing_style=style,
        )


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None
    etag: str | None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class PresignedPost:
    """What a browser needs to upload one file: POST a multipart form with `fields` (in this
    order) and then the file as the last field, named "file", to `url`."""

    url: str
    fields: dict[str, str]


_clients: dict[StorageSettings, Any] = {}
_clients_lock = threading.Lock()


def _build_client(settings: StorageSettings):
    # A fresh Session per client: boto3's default session is shared and not thread-safe.
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        region_name=settings.region,
    )
    return session.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": settings.addressing_style},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            # Stores other than AWS do not all accept the newer default CRC checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def boto_client(settings: StorageSettings):
    """The process-wide boto3 client for these settings (created on first use)."""
    client = _clients.get(settings)
    if client is None:
        with _clients_lock:
            client = _clients.get(settings)
            if client is None:
                client = _clients[settings] = _build_client(settings)
    return client


def get_storage(app=None) -> Storage:
    """The Storage of the current app, for its current S3_* settings."""
    app = app or current_app._get_current_object()
    settings = StorageSettings.from_config(app.config)
    cache = app.extensions.setdefault("storage", {})
    storage = cache.get(settings)
    if storage is None:
        storage = cache[settings] = Storage(settings)
    return storage


def _error_code(exc: Exception) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or str(
            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        )
    return type(exc).__name__


def _is_missing(exc: Exception) -> bool:
    return isinstance(exc, botocore.exceptions.ClientError) and _error_code(exc) in _MISSING_CODES


@contextmanager
def _unavailable_on_failure(operation: str, key: str | None = None):
    try:
        yield
    except StorageUnavailable:
        raise
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
            boto3.exceptions.Boto3Error) as exc:
        log.warning("S3 %s failed for %r: %s (%s)", operation, key, _error_code(exc), exc)
        raise StorageUnavailable() from exc


# --- Content-Disposition ---------------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/]')
_RFC5987_SAFE = "!#$&+-.^_`|~"


def clean_filename(filename: str | None, default: str = "download") -> str:
    """A person's file name fit to show and to send back: no path, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("", unicodedata.normalize("NFC", name)).strip().strip(".")
    return name[:200] or default


def content_disposition(filename: str | None, *, inline: bool = False) -> str:
    """RFC 6266 header with an ASCII fallback and the exact UTF-8 name (RFC 5987), so that
    "商业计划书.pdf" arrives as 商业计划书.pdf in every current browser."""
    name = clean_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+\-]", "_", ascii_name).strip()
    stem = ascii_name.rpartition(".")[0] if "." in ascii_name else ascii_name
    if not re.search(r"[A-Za-z0-9]", stem):
        # Nothing readable survives (a Chinese name): "download.pdf" keeps at least the type.
        ext = name.rpartition(".")[2] if "." in name else ""
        ascii_name = "download" + (f".{ext}" if ext.isascii() and ext.isalnum() else "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe=_RFC5987_SAFE)}"


# --- keys ------------------------------------------------------------------------------------

_KEY_PART = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def new_key(purpose: str, owner_part: str | int | None = None) -> str:
    """A server-chosen object key such as "decks/2026/3f2a…": never the person's file name, so
    names cannot collide, traverse or leak. `owner_part` defaults to the current (local) year."""
    part = str(owner_part) if owner_part is not None else str(local_today().year)
    for value in (purpose, part):
        if not _KEY_PART.match(value):
            raise ValueError(f"key parts are lowercase letters, digits, - and _: {value!r}")
    return f"{purpose}/{part}/{uuid.uuid4()}"


# --- the client ------------------------------------------------------------------------------

class Storage:
    """The bucket of one configuration. Cheap to construct; the boto3 client is shared."""

    def __init__(self, settings: StorageSettings):
        self.settings = settings
        self.bucket = settings.bucket

    @property
    def client(self):
        return boto_client(self.settings)

    def check(self) -> None:
        """Raise StorageUnavailable unless the bucket answers."""
        with _unavailable_on_failure("head_bucket"):
            self.client.head_bucket(Bucket=self.bucket)

    def presigned_post(self, key: str, content_type: str, max_bytes: int, expires_seconds: int = 3600) -> PresignedPost:
        """A browser upload to exactly `key`: the store refuses another key, an empty file or one
        over `max_bytes`, another Content-Type, a changed policy, and anything after expiry."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        with _unavailable_on_failure("presign_post", key):
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"key": key},
                    ["content-length-range", 1, int(max_bytes)],
                    {"Content-Type": content_type},
                ],
                ExpiresIn=int(expires_seconds),
            )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    def head(self, key: str) -> ObjectInfo | None:
        """Size, type and ETag of an object, or None if there is none."""
        with _unavailable_on_failure("head_object", key):
            try:
                meta = self.client.head_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as exc:
                if _is_missing(exc):
                    return None
                raise
        return ObjectInfo(
            key=key,
            size=int(meta.get("ContentLength", 0)),
            content_type=meta.get("ContentType"),
            etag=(meta.get("ETag") or "").strip('"') or None,
            last_modified=meta.get("LastModified"),
        )

    def read_range(self, key: str, start: int, end: int) -> bytes | None:
        """Bytes start..end INCLUSIVE (as in an HTTP Range header), fewer if the object is shorter;
        None if there is no such object. For checking the first bytes of an upload."""
        if start < 0 or end < start:
            raise ValueError("need 0 <= start <= end")
        with _unavailable_on_failure("get_object(range)", key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
            except botocore.exceptions.ClientError as exc:
                if _is_missing(exc):
                    return None
                if _error_code(exc) == "InvalidRange":
                    return b""
                raise
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def presigned_get(self, key: str, filename: str | None, expires_seconds: int = 60, *,
                      inline: bool = False, content_type: str | None = None) -> str:
        """A short-lived download link that makes the browser save the file as `filename`."""
        params = {"Bucket": self.bucket, "Key": key,
                  "ResponseContentDisposition": content_disposition(filename, inline=inline)}
        if content_type:
            params["ResponseContentType"] = content_type
        with _unavailable_on_failure("presign_get", key):
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_seconds))

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object is not an error."""
        with _unavailable_on_failure("delete_object", key):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as exc:
                if not _is_missing(exc):
                    raise

    def list_prefix(self, prefix: str) -> Iterator[ListedObject]:
        """Every object whose key starts with `prefix`, page by page (1000 per request)."""
        with _unavailable_on_failure("list_objects_v2", prefix):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ListedObject(key=item["Key"], size=int(item["Size"]), last_modified=item["LastModified"])

    def put_stream(self, key: str, fileobj: IO[bytes], content_type: str) -> None:
        """Upload from a file object with bounded memory (one part at a time): the no-JavaScript
        fallback streams the request body here instead of reading it whole."""
        from boto3.s3.transfer import TransferConfig

        transfer = TransferConfig(multipart_threshold=STREAM_PART_BYTES, multipart_chunksize=STREAM_PART_BYTES,
                                  use_threads=False)
        with _unavailable_on_failure("upload_fileobj", key):
            self.client.upload_fileobj(fileobj, self.bucket, key, ExtraArgs={"ContentType": content_type},
                                       Config=transfer)

    def abort_multipart_uploads(self, prefix: str, initiated_before: datetime) -> int:
        """Abort unfinished multipart uploads (a put_stream cut off by a killed worker leaves
        parts that take space but are listed nowhere else). Returns how many were aborted."""
        aborted = 0
        with _unavailable_on_failure("abort_multipart_upload", prefix):
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for upload in page.get("Uploads", []) or []:
                    if upload["Initiated"] < initiated_before:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                           UploadId=upload["UploadId"])
                        aborted += 1
        return aborted

    def copy(self, source_key: str, target_key: str) -> bool:
        """Server-side copy within the bucket (objects up to 5 GB), keeping the source's
        Content-Type. False if there is no object at `source_key`."""
        with _unavailable_on_failure("copy_object", target_key):
            try:
                self.client.copy_object(Bucket=self.bucket, Key=target_key,
                                        CopySource={"Bucket": self.bucket, "Key": source_key})
            except botocore.exceptions.ClientError as exc:
                if _is_missing(exc):
                    return False
                raise
        return True
