"""Managers can see whether the file store answers (GET /manage/storage)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from ..accounts.permissions import manager_required
from ..extensions import db
from .client import get_storage
from .models import UploadTicket

bp = Blueprint("storage", __name__, url_prefix="/manage/storage")


@bp.get("/")
@manager_required
def status():
    storage = get_storage()
    counts = dict(db.session.execute(
        sa.select(
            sa.case((UploadTicket.deleted_at.is_not(None), "deleted"),
                    (UploadTicket.confirmed_at.is_not(None), "confirmed"), else_="pending"),
            sa.func.count(),
        ).group_by(sa.text("1"))
    ).all())
    # Lets StorageUnavailable escape on purpose: the 503 page is the answer "not reachable".
    storage.check()
    return render_template("storage/status.html", settings=storage.settings, counts=counts)
