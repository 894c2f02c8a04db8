"""The deck step of the application (founders) and deck downloads (team, managers, judges).

Routes:
  GET  /applications/<id>/deck            the deck page: versions, upload form (works without JS)
  POST /applications/<id>/deck            no-JS upload through the server (streamed to S3)
  POST /applications/<id>/deck/ticket     JSON: a presigned POST for the browser to upload directly
  POST /applications/<id>/deck/confirm    check what arrived and keep it (JSON or redirect)
  GET  /decks/<deck_id>/download          302 to a 60-second presigned GET

Another team's application or deck, or a ticket not issued to this person, is a 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import founder_required
from ..applications.models import Application
from ..applications.services import STEP_LABELS, STEPS
from ..errors import DomainError
from ..extensions import db, limiter
from . import services
from .models import Deck, can_download_deck, can_upload_deck, sees_deck_file_name

bp = Blueprint("decks", __name__)


def _actor():
    return current_user._get_current_object()


def _own(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or not application.is_owned_by(current_user):
        abort(404)
    return application


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _render_page(application: Application, status: int = 200, error: str | None = None):
    return render_template(
        "decks/page.html", application=application, competition=application.competition,
        decks=services.decks_of(application), can_upload=can_upload_deck(current_user, application),
        max_mb=services.max_megabytes(), max_bytes=services.max_bytes(), form=ConfirmForm(),
        steps=STEPS, step_labels=STEP_LABELS, step="deck", error=error,
    ), status


def _fail(application: Application, exc: DomainError):
    """A refusal: keep the marks of a deleted upload (DeckRefused), drop anything else."""
    if isinstance(exc, services.DeckRefused):
        db.session.commit()
    else:
        db.session.rollback()
    status = exc.status_code
    if _wants_json():
        return jsonify(error=str(exc.message)), status
    return _render_page(db.session.get(Application, application.id), status, str(exc.message))


@bp.get("/applications/<int:application_id>/deck")
@founder_required
def page(application_id: int):
    return _render_page(_own(application_id))


@bp.post("/applications/<int:application_id>/deck")
@founder_required
def upload(application_id: int):
    """Without JavaScript the file comes here in the form and is streamed on to the store."""
    application = _own(application_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _render_page(application, 400, _("Choose a PDF or PPTX file first."))
    try:
        deck = services.upload_through_server(_actor(), application, file.filename, file.stream)
    except DomainError as exc:
        return _fail(application, exc)
    db.session.commit()
    flash(_("Deck version %(n)s uploaded: %(name)s.", n=deck.version, name=deck.original_filename), "success")
    return redirect(url_for(".page", application_id=application.id))


@bp.post("/applications/<int:application_id>/deck/ticket")
@limiter.limit("30 per minute")  # each ticket is a row and a signed form; a person needs a few
@founder_required
def ticket(application_id: int):
    application = _own(application_id)
    try:
        size = int(request.form.get("size", ""))
    except ValueError:
        size = None
    try:
        upload_ticket, post = services.start_upload(_actor(), application, request.form.get("filename", ""), size)
    except DomainError as exc:
        db.session.rollback()
        return jsonify(error=str(exc.message)), exc.status_code
    db.session.commit()
    return jsonify(url=post.url, fields=post.fields, ticket_id=upload_ticket.id,
                   confirm_url=url_for(".confirm", application_id=application.id))


@bp.post("/applications/<int:application_id>/deck/confirm")
@founder_required
def confirm(application_id: int):
    application = _own(application_id)
    upload_ticket = services.ticket_for(_actor(), application, request.form.get("ticket_id"))
    if upload_ticket is None:
        abort(404)
    try:
        deck = services.confirm_deck(_actor(), application, upload_ticket)
    except DomainError as exc:
        return _fail(application, exc)
    db.session.commit()
    message = _("Deck version %(n)s uploaded: %(name)s.", n=deck.version, name=deck.original_filename)
    target = url_for(".page", application_id=application.id)
    flash(message, "success")
    if _wants_json():
        return jsonify(ok=True, version=deck.version, message=message, redirect=target)
    return redirect(target)


@bp.get("/decks/<int:deck_id>/download")
@login_required
def download(deck_id: int):
    deck = db.session.get(Deck, deck_id)
    if deck is None or not can_download_deck(current_user, deck.application):
        abort(404)
    try:
        url = services.download_url(deck, neutral_name=not sees_deck_file_name(current_user, deck.application))
    except DomainError as exc:
        return render_template("errors/error.html", code=exc.status_code, message=exc.message), exc.status_code
    return redirect(url, code=302)
