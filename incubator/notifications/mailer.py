"""Delivering the outbox over SMTP.

Each message is claimed with a conditional UPDATE (state pending → sending) that only one sender
can win, sent, then marked sent, so two send jobs running at once never deliver a message twice.
A failure puts the message back to pending with an exponential backoff; after MAX_ATTEMPTS it is
marked failed and stays visible to managers.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

from ..enums import OutboxState
from ..extensions import db
from ..timeutils import utcnow
from .models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4, … capped at 6 h."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def build_email(message: OutboxMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    mail["To"] = message.recipient
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message.message_id
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    return mail


def _smtp():
    cfg = current_app.config
    cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    conn = cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT_SECONDS"])
    if cfg["MAIL_USE_TLS"]:
        conn.starttls()
    if cfg.get("MAIL_USERNAME"):
        conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    return conn


def _claim(message_id: int) -> bool:
    """Take the message for this sender. The WHERE repeats the due condition, so a message that
    another sender has meanwhile sent, or failed and rescheduled, is not taken again."""
    now = utcnow()
    result = db.session.execute(
        db.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            db.or_(
                db.and_(OutboxMessage.state == OutboxState.PENDING.value, OutboxMessage.next_attempt_at <= now),
                # a sender that died mid-send left its claim; it expires
                db.and_(OutboxMessage.state == OutboxState.SENDING.value, OutboxMessage.claimed_until < now),
            ),
        )
        .values(state=OutboxState.SENDING.value, claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _record_failure(message_id: int, exc: BaseException) -> None:
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    log.warning("mail %s to %s failed (attempt %s): %s", message.id, message.recipient, message.attempts, exc)
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    message.claimed_until = None
    if message.attempts >= MAX_ATTEMPTS:
        message.state = OutboxState.FAILED.value
    else:
        message.state = OutboxState.PENDING.value
        message.next_attempt_at = utcnow() + backoff(message.attempts)
    db.session.commit()


def _close(conn) -> None:
    if conn is not None:
        try:
            conn.quit()
        except Exception:
            pass


def deliver_pending(limit: int = 100) -> dict:
    """Send what is due. Commits per message: each send is its own unit of work."""
    now = utcnow()
    due_ids = db.session.scalars(
        db.select(OutboxMessage.id)
        .where(
            db.or_(
                db.and_(OutboxMessage.state == OutboxState.PENDING.value, OutboxMessage.next_attempt_at <= now),
                db.and_(OutboxMessage.state == OutboxState.SENDING.value, OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    stats = {"sent": 0, "failed": 0, "skipped": 0}
    if not due_ids:
        return stats
    conn = None
    for message_id in due_ids:
        if not _claim(message_id):
            stats["skipped"] += 1
            continue
        try:
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            email = build_email(message)
            # Release the transaction (on SQLite, the write lock) while talking to the SMTP server.
            db.session.commit()
        except Exception as exc:  # a message that cannot even be built must not block the others
            db.session.rollback()
            log.exception("mail %s could not be built", message_id)
            _record_failure(message_id, exc)
            stats["failed"] += 1
            continue
        try:
            if conn is None:
                try:
                    conn = _smtp()
                except (smtplib.SMTPException, OSError) as exc:
                    # The server is down or refuses us: this message waits its backoff, the rest
                    # stay pending untouched (no attempt spent) for the next run.
                    _record_failure(message_id, exc)
                    stats["failed"] += 1
                    break
            conn.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            _record_failure(message_id, exc)
            stats["failed"] += 1
            _close(conn)
            conn = None
            continue
        db.session.execute(
            db.update(OutboxMessage).where(OutboxMessage.id == message_id)
            .values(state=OutboxState.SENT.value, sent_at=utcnow(), claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        stats["sent"] += 1
    _close(conn)
    return stats


def requeue(message_id: int) -> bool:
    """A manager's "retry now" for a failed message: back to pending, due at once, with a fresh
    set of attempts. Only a failed message can be requeued (conditional UPDATE)."""
    result = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.FAILED.value)
        .values(state=OutboxState.PENDING.value, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
