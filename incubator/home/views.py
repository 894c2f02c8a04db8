"""The landing page, one dashboard per role, and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import founder_required, judge_required, manager_required
from ..enums import Role
from ..extensions import db
from ..urls import safe_next

bp = Blueprint("home", __name__)

LANG_COOKIE = "lang"


@bp.get("/")
def index():
    return render_template("home/index.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    """Send each person to the dashboard of their most specific role."""
    if current_user.has_role(Role.MANAGER):
        return redirect(url_for("home.manager_dashboard"))
    if current_user.has_role(Role.JUDGE):
        return redirect(url_for("home.judge_dashboard"))
    if current_user.has_role(Role.FOUNDER):
        return redirect(url_for("home.founder_dashboard"))
    abort(403)


@bp.get("/founder")
@founder_required
def founder_dashboard():
    return render_template("home/founder_dashboard.html")


@bp.get("/judge")
@judge_required
def judge_dashboard():
    """A judge's dashboard is the judging queue."""
    from ..judging.views import queue

    return queue()


@bp.get("/manage")
@manager_required
def manager_dashboard():
    from .services import manager_overview

    return render_template("home/manager_dashboard.html", overview=manager_overview())


def _back_to_the_page() -> str:
    """The page the switch was pressed on, with its query. The form names only the path: every page
    carries the form, and echoing the query into it would put text of anyone's choosing beside the
    page's private data in a compressed response (a BREACH length oracle). The query comes from the
    Referer instead (same-origin referrer policy: sent for this site only)."""
    target = request.form.get("next") or ""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path == target and referrer.query:
        target = f"{referrer.path}?{referrer.query}"
    return safe_next(target, url_for("home.index"))


@bp.post("/language")
def set_language():
    """Persist the choice in a cookie, and on the account when logged in."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    response = make_response(redirect(_back_to_the_page()))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
