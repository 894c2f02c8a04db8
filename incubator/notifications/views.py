from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from ..accounts.forms import ConfirmForm
from ..extensions import db
from ..timeutils import utcnow
from .models import Notice

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
    db.session.execute(
        db.update(Notice).where(Notice.user_id == current_user.id, Notice.read_at.is_(None)).values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("notifications.index"))
