"""Queueing mail and notices. Services never talk SMTP; the send job does (see mailer.py)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from ..extensions import db
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


def notify(user, kind: str, text_zh: str, text_en: str, link: str | None = None) -> Notice:
    notice = Notice(user_id=user.id, kind=kind, text_zh=text_zh[:500], text_en=text_en[:500], link=link)
    db.session.add(notice)
    return notice


def unread_count(user) -> int:
    return db.session.scalar(
        db.select(db.func.count(Notice.id)).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    ) or 0
