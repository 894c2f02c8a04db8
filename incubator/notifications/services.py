"""Queueing mail and notices. Services never talk SMTP; the send job does (see mailer.py)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale

from ..audit.services import record
from ..extensions import db
from ..timeutils import utcnow
from .models import Notice, OutboxMessage


def _domain() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER", "noreply@localhost")
    return sender.rsplit("@", 1)[-1].strip(">") or "localhost"


def queue_mail(recipient: str, template: str, subject: str, *, locale: str = "zh_CN",
               user=None, **context: Any) -> OutboxMessage:
    """Render `templates/notifications/mail/<template>.txt` (and `.html` when present) in the
    recipient's language and add it to the outbox of the current transaction.

    `subject` is a lazy_gettext string: it is evaluated here, in the recipient's language.
    """
    with force_locale(locale):
        translated_subject = str(subject)
        body_text = render_template(f"notifications/mail/{template}.txt", **context)
        try:
            body_html = render_template(f"notifications/mail/{template}.html", **context)
        except Exception:  # a text-only template is fine
            body_html = None
    message = OutboxMessage(
        recipient=recipient,
        recipient_user_id=getattr(user, "id", None),
        subject=translated_subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        message_id=f"<{uuid.uuid4()}@{_domain()}>",
    )
    db.session.add(message)
    return message


def both_languages(label) -> tuple[str, str]:
    """A translatable label (lazy_gettext) in Chinese and in English, for a notice's two texts."""
    with force_locale("zh_CN"):
        zh = str(label)
    with force_locale("en"):
        en = str(label)
    return zh, en


def notify(user, kind: str, text_zh: str, text_en: str, link: str | None = None) -> Notice:
    notice = Notice(user_id=user.id, kind=kind, text_zh=text_zh[:500], text_en=text_en[:500], link=link)
    db.session.add(notice)
    _forget_unread(user)  # the count read with the logged-in user no longer holds
    return notice


def unread_count(user) -> int:
    """One COUNT query (served by ix_notices_user_unread), at most once per request: every page
    shows it in the navigation."""
    cache = g.setdefault("_unread_notices", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = db.session.scalar(
            db.select(db.func.count(Notice.id)).where(Notice.user_id == user.id, Notice.read_at.is_(None))
        ) or 0
    return cache[user.id]


def unread_count_column():
    """The unread count as a scalar subquery on the User of an enclosing query: the login query
    reads it with the user, so the navigation costs no query of its own."""
    from ..accounts.models import User

    return (db.select(db.func.count(Notice.id)).where(Notice.user_id == User.id, Notice.read_at.is_(None))
            .correlate(User).scalar_subquery())


def remember_unread_count(user, count: int | None) -> None:
    if has_request_context():
        g.setdefault("_unread_notices", {})[user.id] = count or 0


def _forget_unread(user) -> None:
    if has_request_context():
        g.get("_unread_notices", {}).pop(user.id, None)


def notice_of(user, notice_id: int) -> Notice | None:
    """The notice if it belongs to `user`; another person's notice is as good as absent (404)."""
    return db.session.scalar(db.select(Notice).where(Notice.id == notice_id, Notice.user_id == user.id))


def mark_read(user, notice: Notice) -> None:
    if notice.user_id != user.id:
        raise ValueError("not this user's notice")
    if notice.read_at is None:
        notice.read_at = utcnow()
    _forget_unread(user)


def mark_all_read(user) -> int:
    result = db.session.execute(
        db.update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None)).values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _forget_unread(user)
    return result.rowcount


def retry_failed_mail(actor, message_id: int) -> bool:
    """A manager's "retry now" on a message that gave up: back in the queue with fresh attempts."""
    from .mailer import requeue

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return False
    before = {"state": message.state, "attempts": message.attempts, "last_error": message.last_error}
    if not requeue(message_id):
        return False
    record(actor, "mail.retry", ("outbox_messages", message_id, message.recipient), before=before,
           after={"state": "pending"})
    return True
