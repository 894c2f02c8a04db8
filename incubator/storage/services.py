"""Upload tickets and the sweep of abandoned uploads.

The flow for a browser upload (the decks feature drives it):

1. issue_upload(owner, purpose, filename, content_type, max_bytes) → (ticket, presigned POST);
   the view commits, the browser POSTs the file straight to the store.
2. snapshot_upload(ticket) → ObjectInfo: a server-side copy of the object under a fresh key
   that no presigned form names; the copy exists, its size and type are within the ticket (the
   store enforces both already; this is the second lock), else it is deleted.
3. the feature checks the content OF THE COPY (e.g. storage.read_range(copy.key, 0, 7) starts
   with %PDF-), then keep_snapshot(ticket, copy) → a confirmed ticket for the copy, and commits
   with its own rows (which name the copy's key). drop_snapshot(copy) when the content is refused.

Why a copy: the presigned POST stays valid until it expires (an hour), so whoever holds the form
can replace the object at ticket.key after it was checked. The copy's key was never signed into
any form, so what was checked is what is kept; the upload object is deleted and its ticket
closed (confirmed and deleted), and anything POSTed there later is an orphan for the sweep.
verify_upload/confirm_upload check and keep the object at ticket.key itself: only for uploads no
one else can write to any more.

Services flush; the request (or the job) commits. remove_unconfirmed_uploads is the exception:
it is a job of its own and commits each small batch.
"""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import IO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..errors import Conflict, DomainError
from ..extensions import db
from ..timeutils import utcnow
from .client import ObjectInfo, PresignedPost, StorageUnavailable, clean_filename, get_storage, new_key
from .models import UploadTicket

log = logging.getLogger("incubator.storage")

DEFAULT_UPLOAD_EXPIRES_SECONDS = 3600
CLEANUP_BATCH = 50

# Key prefixes (purposes) whose objects all come from tickets: the sweep removes objects there
# that have no ticket at all. Purposes seen in the tickets table are swept as well.
UPLOAD_PURPOSES: set[str] = {"decks"}


def register_upload_purpose(purpose: str) -> None:
    UPLOAD_PURPOSES.add(purpose)


def issue_upload(owner, purpose: str, filename: str, content_type: str, max_bytes: int, *,
                 owner_part: str | int | None = None,
                 expires_seconds: int = DEFAULT_UPLOAD_EXPIRES_SECONDS) -> tuple[UploadTicket, PresignedPost]:
    """Hand out a server-chosen key and the signed form that lets `owner`'s browser upload one
    file of `content_type` and at most `max_bytes` there. Checks that the store answers first,
    so a person does not pick a 50 MB file only to see the upload fail; raises
    StorageUnavailable (after the ticket was flushed: the request's rollback discards it)."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    storage = get_storage()
    ticket = UploadTicket(
        key=new_key(purpose, owner_part),
        purpose=purpose,
        owner_id=owner.id if owner is not None else None,
        content_type=content_type,
        max_bytes=int(max_bytes),
        original_filename=clean_filename(filename)[:255],
    )
    db.session.add(ticket)
    db.session.flush()
    storage.check()
    return ticket, storage.presigned_post(ticket.key, content_type, max_bytes, expires_seconds)


class _LimitedReader:
    """Reads a request body for put_stream and stops the upload once it passes `limit` bytes."""

    def __init__(self, stream: IO[bytes], limit: int):
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size if size is not None and size >= 0 else self.limit + 1)
        self.count += len(chunk)
        if self.count > self.limit:
            raise _TooLarge()
        return chunk


class _TooLarge(Exception):
    pass


def receive_upload(owner, purpose: str, filename: str, content_type: str, max_bytes: int,
                   stream: IO[bytes], *, owner_part: str | int | None = None) -> UploadTicket:
    """The no-JavaScript fallback: the file came to the platform in a form POST and is streamed
    on to the store (one part in memory at a time) under a new ticket. Refuses an empty file or
    one over `max_bytes` (DomainError, nothing kept). The ticket is pending like a browser upload:
    the caller runs verify_upload, checks the content and confirms."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    storage = get_storage()
    ticket = UploadTicket(
        key=new_key(purpose, owner_part),
        purpose=purpose,
        owner_id=owner.id if owner is not None else None,
        content_type=content_type,
        max_bytes=int(max_bytes),
        original_filename=clean_filename(filename)[:255],
    )
    db.session.add(ticket)
    db.session.flush()
    reader = _LimitedReader(stream, int(max_bytes))
    try:
        storage.put_stream(ticket.key, reader, content_type)
    except _TooLarge:
        storage.delete(ticket.key)  # a multipart upload is aborted by boto3; a small one never landed
        raise DomainError(_l("The uploaded file is empty, too large or not of the expected type. Please upload it again."))
    if reader.count == 0:
        storage.delete(ticket.key)
        raise DomainError(_l("The uploaded file is empty, too large or not of the expected type. Please upload it again."))
    ticket.size_bytes = reader.count
    return ticket


def verify_upload(ticket: UploadTicket) -> ObjectInfo:
    """The uploaded object is there and within the ticket's limits; otherwise it is deleted and a
    DomainError tells the person to upload again. SeaweedFS, MinIO and S3 already refuse a
    POST outside the signed conditions; this check does not depend on the store getting it right."""
    if not ticket.is_pending:
        raise Conflict(_l("This upload was already completed or has expired. Please upload the file again."))
    storage = get_storage()
    info = storage.head(ticket.key)
    if info is None:
        raise DomainError(_l("The file did not arrive. Please upload it again."))
    if not 1 <= info.size <= ticket.max_bytes or (info.content_type or "") != ticket.content_type:
        log.warning("upload %s refused: size %s (max %s), type %r (expected %r)", ticket.key, info.size,
                    ticket.max_bytes, info.content_type, ticket.content_type)
        storage.delete(ticket.key)
        raise DomainError(_l("The uploaded file is empty, too large or not of the expected type. Please upload it again."))
    return info


def _refused_upload() -> DomainError:
    return DomainError(_l("The uploaded file is empty, too large or not of the expected type. Please upload it again."))


def snapshot_key(ticket: UploadTicket) -> str:
    """A fresh key beside the ticket's ("decks/a12/<uuid>"): same prefix, so the same sweep and
    listing cover it, but never signed into any presigned form."""
    return f"{ticket.key.rsplit('/', 1)[0]}/{uuid.uuid4()}"


def snapshot_upload(ticket: UploadTicket) -> ObjectInfo:
    """Copy what arrived under a pending ticket to a key of its own (server-side) and return the
    copy's size and type, checked against the ticket's limits. The caller checks the content of
    `info.key` and then calls keep_snapshot (or drop_snapshot when refusing it). A copy outside
    the limits is deleted with the upload, and the ticket stays pending (the sweep marks it).
    Raises Conflict for a ticket already used or swept, DomainError when nothing arrived."""
    if not ticket.is_pending:
        raise Conflict(_l("This upload was already completed or has expired. Please upload the file again."))
    storage = get_storage()
    key = snapshot_key(ticket)
    if not storage.copy(ticket.key, key):
        raise DomainError(_l("The file did not arrive. Please upload it again."))
    info = storage.head(key)
    if info is None:  # deleted under us between copy and head: as if it never arrived
        raise DomainError(_l("The file did not arrive. Please upload it again."))
    if not 1 <= info.size <= ticket.max_bytes or (info.content_type or "") != ticket.content_type:
        log.warning("upload %s refused: size %s (max %s), type %r (expected %r)", ticket.key, info.size,
                    ticket.max_bytes, info.content_type, ticket.content_type)
        storage.delete(key)
        storage.delete(ticket.key)
        raise _refused_upload()
    return info


def drop_snapshot(info: ObjectInfo) -> None:
    get_storage().delete(info.key)


def keep_snapshot(ticket: UploadTicket, info: ObjectInfo) -> UploadTicket:
    """Keep the checked copy: a confirmed ticket names its key (so the sweep leaves it alone), the
    upload ticket is closed (confirmed and deleted) and its object deleted. The conditional
    UPDATE makes a race with the sweep, or with a second confirm of the same ticket, safe: the
    loser gets Conflict and its copy is deleted."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(UploadTicket)
        .where(UploadTicket.id == ticket.id, UploadTicket.confirmed_at.is_(None), UploadTicket.deleted_at.is_(None))
        .values(confirmed_at=now, deleted_at=now, size_bytes=info.size)
        .execution_options(synchronize_session=False)
    ).rowcount
    storage = get_storage()
    if claimed != 1:
        storage.delete(info.key)
        raise Conflict(_l("This upload was already completed or has expired. Please upload the file again."))
    db.session.refresh(ticket)
    kept = UploadTicket(key=info.key, purpose=ticket.purpose, owner_id=ticket.owner_id,
                        content_type=ticket.content_type, max_bytes=ticket.max_bytes,
                        original_filename=ticket.original_filename, size_bytes=info.size,
                        created_at=now, confirmed_at=now)
    db.session.add(kept)
    db.session.flush()
    storage.delete(ticket.key)
    return kept


def confirm_upload(ticket: UploadTicket, size_bytes: int | None = None) -> UploadTicket:
    """Mark the upload as kept (the caller has checked its content). Refuses a ticket the sweep
    has already removed: the conditional UPDATE makes a race with the sweep safe."""
    now = utcnow()
    result = db.session.execute(
        sa.update(UploadTicket)
        .where(UploadTicket.id == ticket.id, UploadTicket.deleted_at.is_(None))
        .values(confirmed_at=sa.func.coalesce(UploadTicket.confirmed_at, now),
                size_bytes=size_bytes if size_bytes is not None else UploadTicket.size_bytes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This upload has expired. Please upload the file again."))
    db.session.refresh(ticket)
    return ticket


def discard_upload(ticket: UploadTicket) -> None:
    """Delete the object of a ticket (e.g. a deck replaced by a newer one) and mark it deleted."""
    get_storage().delete(ticket.key)
    if ticket.deleted_at is None:
        ticket.deleted_at = utcnow()
    db.session.flush()


def remove_unconfirmed_uploads(older_than_hours: float = 24) -> dict:
    """Scheduled job: delete what was uploaded but never confirmed.

    1. Tickets unconfirmed for longer than `older_than_hours`: object deleted, ticket marked.
    2. Objects under the upload prefixes that no live ticket names (older than the same age): no
       ticket at all, or a deleted one (e.g. a form POSTed again after its upload was kept).
    3. Multipart uploads under those prefixes started before that age and never finished.

    Commits each batch of CLEANUP_BATCH. Idempotent and safe to run twice at once: each ticket
    is claimed with a conditional UPDATE inside the batch's transaction (the second run waits
    for the row lock and then finds it taken), and deleting a missing object is not an error.
    If the store fails, the current batch rolls back (its tickets are retried next run) and
    StorageUnavailable propagates to the scheduler.
    Returns {"tickets_removed": n, "orphans_removed": m, "multipart_uploads_aborted": k}.
    """
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    storage = get_storage()
    tickets_removed = 0
    orphans_removed = 0
    parts_aborted = 0
    last_id = 0
    try:
        while True:
            rows = db.session.execute(
                sa.select(UploadTicket.id, UploadTicket.key)
                .where(UploadTicket.confirmed_at.is_(None), UploadTicket.deleted_at.is_(None),
                       UploadTicket.created_at < cutoff, UploadTicket.id > last_id)
                .order_by(UploadTicket.id).limit(CLEANUP_BATCH)
            ).all()
            if not rows:
                db.session.rollback()
                break
            last_id = rows[-1].id
            now = utcnow()
            for ticket_id, key in rows:
                claimed = db.session.execute(
                    sa.update(UploadTicket)
                    .where(UploadTicket.id == ticket_id, UploadTicket.confirmed_at.is_(None),
                           UploadTicket.deleted_at.is_(None))
                    .values(deleted_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed:
                    storage.delete(key)
                    tickets_removed += 1
            db.session.commit()

        purposes = set(UPLOAD_PURPOSES) | set(db.session.scalars(sa.select(UploadTicket.purpose).distinct()))
        db.session.rollback()
        for purpose in sorted(purposes):
            batch: list[str] = []
            for item in storage.list_prefix(f"{purpose}/"):
                if item.last_modified < cutoff:
                    batch.append(item.key)
                if len(batch) >= CLEANUP_BATCH:
                    orphans_removed += _remove_orphans(storage, batch)
                    batch = []
            if batch:
                orphans_removed += _remove_orphans(storage, batch)
            parts_aborted += storage.abort_multipart_uploads(f"{purpose}/", cutoff)
    except StorageUnavailable:
        db.session.rollback()
        raise
    log.info("upload cleanup: %d unconfirmed tickets, %d orphan objects, %d unfinished multipart uploads removed",
             tickets_removed, orphans_removed, parts_aborted)
    return {"tickets_removed": tickets_removed, "orphans_removed": orphans_removed,
            "multipart_uploads_aborted": parts_aborted}


def _remove_orphans(storage, keys: list[str]) -> int:
    # A deleted ticket's key names no object we keep: whatever is there arrived after it was
    # closed (a form POSTed again after its copy was kept, or after a refusal) and goes.
    known = set(db.session.scalars(sa.select(UploadTicket.key)
                                   .where(UploadTicket.key.in_(keys), UploadTicket.deleted_at.is_(None))))
    db.session.rollback()
    removed = 0
    for key in keys:
        if key not in known:
            storage.delete(key)
            removed += 1
    return removed
