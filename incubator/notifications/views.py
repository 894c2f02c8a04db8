from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import manager_required
from ..enums import OutboxState
from ..extensions import db
from ..urls import page_number, safe_next
from . import services
from .mailer import MAX_ATTEMPTS
from .models import Notice, OutboxMessage

bp = Blueprint("notifications", __name__, url_prefix="/notices")


@bp.get("/")
@login_required
def index():
    notices = db.session.scalars(
        db.select(Notice).where(Notice.user_id == current_user.id).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(100)
    ).all()
    return render_template("notifications/index.html", notices=notices, locale=str(get_locale()), form=ConfirmForm())


@bp.post("/read")
@login_required
def mark_all_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notice_id>/open")
@login_required
def open_notice(notice_id: int):
    """Clicking a notice marks it read, then follows its link (only ever a path on this site)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notice = services.notice_of(current_user, notice_id)
    if notice is None:
        abort(404)
    services.mark_read(current_user, notice)
    db.session.commit()
    return redirect(safe_next(notice.link, url_for("notifications.index")))


# --- the outbox, for managers ----------------------------------------------------------------

outbox_bp = Blueprint("outbox", __name__, url_prefix="/manage/outbox")

OUTBOX_PAGE_SIZE = 50


@outbox_bp.get("/")
@manager_required
def outbox():
    state = request.args.get("state", "")
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if state in {s.value for s in OutboxState}:
        query = query.where(OutboxMessage.state == state)
    else:
        state = ""
    page = db.paginate(query, page=page_number(request.args.get("page")), per_page=OUTBOX_PAGE_SIZE, error_out=False)
    counts = dict(db.session.execute(
        db.select(OutboxMessage.state, db.func.count(OutboxMessage.id)).group_by(OutboxMessage.state)
    ).all())
    return render_template("notifications/outbox.html", page=page, state=state, counts=counts,
                           states=list(OutboxState), form=ConfirmForm(), max_attempts=MAX_ATTEMPTS)


@outbox_bp.post("/<int:message_id>/retry")
@manager_required
def retry(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    message = db.get_or_404(OutboxMessage, message_id)
    if services.retry_failed_mail(current_user._get_current_object(), message.id):
        db.session.commit()
        flash(_("The message to %(email)s is queued again; the send job delivers it within a minute.",
                email=message.recipient), "success")
    else:
        db.session.rollback()
        flash(_("Only a message that failed can be retried."), "warning")
    return redirect(url_for("outbox.outbox", state=request.args.get("state") or None))
