"""Deck uploads: hand out a presigned POST, confirm what arrived (size, signature, zip limits),
take the no-JavaScript upload through the server, and sign short downloads.

Services flush; the view commits. A refused upload is deleted from the bucket at once, its
ticket marked deleted and the refusal audited; DeckRefused carries the translated reason, and the
view commits those marks (nothing else was written) before showing it.
"""
from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..applications.models import Application
from ..audit.services import record
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..storage.client import ObjectInfo, PresignedPost, clean_filename, get_storage
from ..storage.models import UploadTicket
from ..storage.services import (discard_upload, drop_snapshot, issue_upload, keep_snapshot, receive_upload,
                                snapshot_upload)
from ..timeutils import utcnow
from .content import DeckRejected, check_pdf, check_pptx
from .models import CONTENT_TYPES, Deck, can_upload_deck

log = logging.getLogger("incubator.decks")

PURPOSE = "decks"
DOWNLOAD_SECONDS = 60
KIND_BY_CONTENT_TYPE = {v: k for k, v in CONTENT_TYPES.items()}

REASONS = {
    "not_pdf": _l("This file is not a PDF document (its content does not begin like a PDF), even if its name ends "
                  "in .pdf. Export your deck as PDF and upload it again."),
    "not_pptx": _l("This file is not a PowerPoint presentation (.pptx). Save it as .pptx or export it as PDF and "
                   "upload it again."),
    "zip_limits": _l("This presentation has too many parts or unpacks to far too much data, so it cannot be "
                     "accepted. Export it as PDF and upload that instead."),
}


class DeckRefused(DomainError):
    """The uploaded file was checked, refused and deleted; the message says why."""


def max_bytes() -> int:
    return int(current_app.config["DECK_MAX_BYTES"])


def max_megabytes() -> str:
    value = max_bytes() / (1024 * 1024)
    return f"{value:.0f}" if value >= 1 else f"{value:.2f}"


def kind_for(filename: str | None) -> str | None:
    """pdf or pptx from the file name the person chose (the content is checked after upload)."""
    ext = os.path.splitext((filename or "").strip().lower())[1]
    return {".pdf": "pdf", ".pptx": "pptx"}.get(ext)


def _wrong_type() -> DomainError:
    return DomainError(_l("Only PDF or PowerPoint (.pptx) files can be uploaded as a pitch deck."), field="file")


def _too_large() -> DomainError:
    return DomainError(_l("The file is larger than the limit of %(mb)s MB. Make it smaller (for example export it "
                          "as PDF with compressed images) and upload it again.", mb=max_megabytes()), field="file")


def key_part(application: Application) -> str:
    return f"a{application.id}"


def _ensure_can_upload(user, application: Application) -> None:
    if not application.is_owned_by(user):
        raise NotAllowed(_l("This application belongs to another team."))
    if not can_upload_deck(user, application):
        raise DomainError(_l("This application can no longer be changed, so no new deck can be uploaded."))


# --- reading ----------------------------------------------------------------------------------

def decks_of(application: Application) -> list[Deck]:
    """Every confirmed version, newest first (the first is the current deck)."""
    if application is None or application.id is None:
        return []
    return list(db.session.scalars(
        sa.select(Deck).where(Deck.application_id == application.id).order_by(Deck.version.desc())
    ))


def current_deck(application: Application) -> Deck | None:
    return db.session.scalar(
        sa.select(Deck).where(Deck.application_id == application.id).order_by(Deck.version.desc()).limit(1)
    )


# --- browser upload ----------------------------------------------------------------------------

def start_upload(user, application: Application, filename: str, size: int | None = None
                 ) -> tuple[UploadTicket, PresignedPost]:
    """A ticket and the presigned POST for one deck. The size the browser reports is checked
    for a quick answer; the store enforces the real limit (signed into the policy)."""
    _ensure_can_upload(user, application)
    kind = kind_for(filename)
    if kind is None:
        raise _wrong_type()
    if size is not None and size > max_bytes():
        raise _too_large()
    if size is not None and size < 1:
        raise DomainError(_l("The file is empty."), field="file")
    return issue_upload(user, PURPOSE, filename, CONTENT_TYPES[kind], max_bytes(), owner_part=key_part(application))


def ticket_for(user, application: Application, ticket_id) -> UploadTicket | None:
    """The deck ticket `ticket_id` if it was issued to `user` for this application, else None."""
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        return None
    ticket = db.session.get(UploadTicket, ticket_id) if 0 < ticket_id < 2**63 else None
    if (ticket is None or ticket.purpose != PURPOSE or not ticket.can_use(user)
            or not ticket.key.startswith(f"{PURPOSE}/{key_part(application)}/")):
        return None
    return ticket


def _refuse(user, application: Application, ticket: UploadTicket, reason: str, detail: str = "",
            snapshot: ObjectInfo | None = None) -> DeckRefused:
    log.info("deck upload %s for application %s refused: %s %s", ticket.key, application.id, reason, detail)
    if snapshot is not None:
        drop_snapshot(snapshot)
    discard_upload(ticket)
    record(user, "deck.refused", application,
           after={"file": ticket.original_filename, "reason": reason, "detail": detail[:200]})
    return DeckRefused(REASONS[reason])


def confirm_deck(user, application: Application, ticket: UploadTicket) -> Deck:
    """Check what arrived under the ticket and keep it as the application's next deck version.
    Raises DeckRefused (object deleted) or DomainError (e.g. the file did not arrive).

    The presigned POST for ticket.key stays valid for an hour, so the object there can be
    replaced at any time. What is checked and kept is therefore a server-side copy under a key
    no form can write (snapshot_upload): the deck names the copy, the upload object is deleted,
    and a later POST to ticket.key changes nothing a judge downloads (the sweep removes it)."""
    _ensure_can_upload(user, application)
    # Copies, then checks the copy's size and type; deletes both when outside the ticket's limits
    # (the ticket stays pending and the hourly sweep marks it).
    snapshot = snapshot_upload(ticket)
    kind = KIND_BY_CONTENT_TYPE.get(ticket.content_type)
    storage = get_storage()

    def read(start: int, end: int) -> bytes:
        data = storage.read_range(snapshot.key, start, end)
        if data is None:
            raise DomainError(_l("The file did not arrive. Please upload it again."))
        return data

    try:
        if kind == "pdf":
            check_pdf(read, snapshot.size)
        elif kind == "pptx":
            check_pptx(read, snapshot.size)
        else:
            raise DeckRejected("not_pdf", f"content type {ticket.content_type}")
    except DeckRejected as exc:
        raise _refuse(user, application, ticket, exc.reason, exc.detail, snapshot) from exc

    kept = keep_snapshot(ticket, snapshot)
    # Serialise versions per application (PostgreSQL row lock; SQLite transactions are IMMEDIATE).
    db.session.execute(sa.select(Application.id).where(Application.id == application.id).with_for_update())
    version = (db.session.scalar(sa.select(sa.func.max(Deck.version)).where(Deck.application_id == application.id))
               or 0) + 1
    deck = Deck(application_id=application.id, version=version, ticket_id=kept.id, key=kept.key,
                original_filename=clean_filename(ticket.original_filename, default=f"deck.{kind}")[:255],
                size_bytes=snapshot.size, kind=kind, uploaded_by_id=user.id, confirmed_at=utcnow())
    db.session.add(deck)
    application.updated_at = utcnow()
    if application.status == "submitted":
        application.version += 1  # judges and managers see which version they read
    db.session.flush()
    record(user, "deck.upload", application,
           after={"deck_version": version, "file": deck.original_filename, "size": deck.size_bytes, "kind": kind,
                  "application_version": application.version})
    return deck


# --- the no-JavaScript fallback -----------------------------------------------------------------

def upload_through_server(user, application: Application, filename: str, stream) -> Deck:
    """A plain form upload: werkzeug has already spooled the file part to a temporary file on
    disk (it keeps at most 500 KB of a file part in memory), and receive_upload streams it to the
    store one 8 MiB part at a time, so memory stays bounded whatever the file size."""
    _ensure_can_upload(user, application)
    kind = kind_for(filename)
    if kind is None:
        raise _wrong_type()
    size = _stream_size(stream)
    if size is not None and size > max_bytes():
        raise _too_large()
    if size == 0:
        raise DomainError(_l("The file is empty."), field="file")
    ticket = receive_upload(user, PURPOSE, filename, CONTENT_TYPES[kind], max_bytes(), stream,
                            owner_part=key_part(application))
    return confirm_deck(user, application, ticket)


def _stream_size(stream) -> int | None:
    try:
        position = stream.tell()
        stream.seek(0, os.SEEK_END)
        size = stream.tell() - position
        stream.seek(position)
        return size
    except (AttributeError, OSError, ValueError):
        return None


# --- download ---------------------------------------------------------------------------------

class DeckMissing(DomainError):
    status_code = 404


def neutral_file_name(deck: Deck) -> str:
    return f"entry-{deck.application_id}-deck-v{deck.version}.{deck.kind}"


def download_url(deck: Deck, *, neutral_name: bool = False) -> str:
    """A link valid for DOWNLOAD_SECONDS that saves the file under its original name. The caller
    has checked can_download_deck. Signing needs no network, so the store is asked first (one
    HEAD): a person gets our "try again later" page, not the browser's connection error."""
    storage = get_storage()
    if storage.head(deck.key) is None:
        log.error("deck %s (application %s) has no object %s", deck.id, deck.application_id, deck.key)
        raise DeckMissing(_l("The file of this deck is missing from the file store. Ask the team to upload it again."))
    filename = neutral_file_name(deck) if neutral_name else deck.original_filename
    return storage.presigned_get(deck.key, filename, DOWNLOAD_SECONDS, content_type=deck.content_type)
