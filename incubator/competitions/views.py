"""Managers set up competitions: the competition, its tracks, rounds with rubrics, custom questions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import manager_required
from ..actions import refuse, save_form
from ..errors import DomainError
from ..extensions import db
from ..timeutils import local_to_utc, to_local
from . import services
from .forms import CompetitionForm, CriterionForm, QuestionForm, RoundForm, TrackForm
from .models import Competition, Criterion, CustomQuestion, Round, Track

bp = Blueprint("competitions", __name__, url_prefix="/manage/competitions")


def _actor():
    return current_user._get_current_object()


def _get(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _local_naive(value):
    return to_local(value).replace(tzinfo=None) if value else None


def _utc(value):
    return local_to_utc(value) if value else None


def _render_form(form, title, back_url, status=200):
    return render_template("competitions/form.html", form=form, title=title, back_url=back_url), status


def _require_confirm():
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _form_page(form, title, back_url: str, save, success, done_url=None):
    """Every set-up form has one shape (actions.save_form): validate, call the service, commit once
    and go on; or show the form again with the service's message next to its field, nothing
    half-saved. `done_url` is a URL or a function of what `save` returned; the back URL by default."""
    saved, status = save_form(form, save, success, done_url or back_url)
    return saved or _render_form(form, title, back_url, status)


def _action(do, success, done_url: str):
    """A confirmed button (publish, close, remove): one commit, or the rule's message."""
    _require_confirm()
    try:
        do()
    except DomainError as exc:
        return refuse(exc, done_url), 303
    db.session.commit()
    flash(success, "success")
    return redirect(done_url)


@bp.get("/")
@manager_required
def index():
    rows = db.session.scalars(db.select(Competition).order_by(Competition.created_at.desc())).all()
    return render_template("competitions/index.html", competitions=rows)


def _competition_values(form: CompetitionForm) -> dict:
    return {
        "name_zh": form.name_zh.data, "name_en": form.name_en.data or None,
        "description_zh": form.description_zh.data or "", "description_en": form.description_en.data or "",
        "opens_at": _utc(form.opens_at.data), "closes_at": _utc(form.closes_at.data),
        "max_founder_age": form.max_founder_age.data, "graduated_within_years": form.graduated_within_years.data,
        "seats_offered": form.seats_offered.data, "deck_required": bool(form.deck_required.data),
    }


@bp.route("/new", methods=["GET", "POST"])
@manager_required
def create():
    form = CompetitionForm()
    if request.method == "GET":
        form.max_founder_age.data = 35
        form.deck_required.data = True
    return _form_page(form, _l("New competition"), url_for(".index"),
                      lambda: services.create_competition(_actor(), **_competition_values(form)),
                      _("Competition created as a draft. Add tracks, rounds and questions, then publish it."),
                      lambda comp: url_for(".detail", competition_id=comp.id))


@bp.get("/<int:competition_id>")
@manager_required
def detail(competition_id: int):
    comp = _get(Competition, competition_id)
    return render_template("competitions/detail.html", competition=comp, confirm_form=ConfirmForm(),
                           publish_problems=services.publish_problems(comp))


@bp.route("/<int:competition_id>/edit", methods=["GET", "POST"])
@manager_required
def edit(competition_id: int):
    comp = _get(Competition, competition_id)
    form = CompetitionForm(obj=comp)
    if request.method == "GET":
        form.opens_at.data = _local_naive(comp.opens_at)
        form.closes_at.data = _local_naive(comp.closes_at)
    return _form_page(form, _l("Edit competition"), url_for(".detail", competition_id=comp.id),
                      lambda: services.update_competition(_actor(), comp, **_competition_values(form)), _("Saved."))


@bp.post("/<int:competition_id>/publish")
@manager_required
def publish(competition_id: int):
    comp = _get(Competition, competition_id)
    return _action(lambda: services.publish_competition(_actor(), comp),
                   _("Published: founders can now see the competition and apply inside the window."),
                   url_for(".detail", competition_id=competition_id))


@bp.post("/<int:competition_id>/close")
@manager_required
def close(competition_id: int):
    comp = _get(Competition, competition_id)
    return _action(lambda: services.close_competition(_actor(), comp), _("Competition closed."),
                   url_for(".detail", competition_id=competition_id))


# --- tracks -----------------------------------------------------------------------------------

@bp.route("/<int:competition_id>/tracks/new", methods=["GET", "POST"])
@manager_required
def track_new(competition_id: int):
    comp = _get(Competition, competition_id)
    form = TrackForm()
    return _form_page(form, _l("Add a track"), url_for(".detail", competition_id=comp.id),
                      lambda: services.add_track(_actor(), comp, name_zh=form.name_zh.data,
                                                 name_en=form.name_en.data or None), _("Track added."))


def _child(model, competition_id: int, ident: int):
    obj = _get(model, ident)
    owner = obj.round.competition_id if isinstance(obj, Criterion) else obj.competition_id
    if owner != competition_id:
        abort(404)
    return obj


@bp.route("/<int:competition_id>/tracks/<int:track_id>/edit", methods=["GET", "POST"])
@manager_required
def track_edit(competition_id: int, track_id: int):
    track = _child(Track, competition_id, track_id)
    form = TrackForm(obj=track)
    return _form_page(form, _l("Edit track"), url_for(".detail", competition_id=competition_id),
                      lambda: services.update_track(_actor(), track, name_zh=form.name_zh.data,
                                                    name_en=form.name_en.data or None), _("Saved."))


@bp.post("/<int:competition_id>/<kind>/<int:item_id>/move/<direction>")
@manager_required
def move(competition_id: int, kind: str, item_id: int, direction: str):
    _require_confirm()
    model = {"tracks": Track, "rounds": Round, "questions": CustomQuestion, "criteria": Criterion}.get(kind)
    if model is None or direction not in ("up", "down"):
        abort(404)
    item = _child(model, competition_id, item_id)
    if isinstance(item, Criterion):
        siblings = item.round.criteria
    else:
        siblings = getattr(item.competition, kind)
    services.move(_actor(), item, siblings, direction)
    db.session.commit()
    if isinstance(item, Criterion):
        return redirect(url_for(".round_detail", competition_id=competition_id, round_id=item.round_id))
    return redirect(url_for(".detail", competition_id=competition_id))


# --- rounds and criteria ----------------------------------------------------------------------

def _round_values(form: RoundForm) -> dict:
    return {
        "name_zh": form.name_zh.data, "name_en": form.name_en.data or None,
        "scoring_opens_at": _utc(form.scoring_opens_at.data), "scoring_closes_at": _utc(form.scoring_closes_at.data),
        "judges_per_entry": form.judges_per_entry.data, "blind": bool(form.blind.data),
        "aggregation": form.aggregation.data, "advancement_kind": form.advancement_kind.data,
        "advancement_value": form.advancement_value.data,
    }


@bp.route("/<int:competition_id>/rounds/new", methods=["GET", "POST"])
@manager_required
def round_new(competition_id: int):
    comp = _get(Competition, competition_id)
    form = RoundForm()
    return _form_page(form, _l("Add a round"), url_for(".detail", competition_id=comp.id),
                      lambda: services.add_round(_actor(), comp, **_round_values(form)),
                      _("Round added. Now add its scoring criteria."),
                      lambda rnd: url_for(".round_detail", competition_id=comp.id, round_id=rnd.id))


@bp.get("/<int:competition_id>/rounds/<int:round_id>")
@manager_required
def round_detail(competition_id: int, round_id: int):
    rnd = _child(Round, competition_id, round_id)
    return render_template("competitions/round.html", round=rnd, competition=rnd.competition,
                           confirm_form=ConfirmForm())


@bp.route("/<int:competition_id>/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@manager_required
def round_edit(competition_id: int, round_id: int):
    rnd = _child(Round, competition_id, round_id)
    form = RoundForm(obj=rnd)
    if request.method == "GET":
        form.scoring_opens_at.data = _local_naive(rnd.scoring_opens_at)
        form.scoring_closes_at.data = _local_naive(rnd.scoring_closes_at)
    return _form_page(form, _l("Edit round"), url_for(".round_detail", competition_id=competition_id, round_id=rnd.id),
                      lambda: services.update_round(_actor(), rnd, **_round_values(form)), _("Saved."))


def _criterion_values(form: CriterionForm) -> dict:
    return {"name_zh": form.name_zh.data, "name_en": form.name_en.data or None,
            "description_zh": form.description_zh.data or "", "description_en": form.description_en.data or "",
            "weight": form.weight.data, "max_score": form.max_score.data, "step": form.step.data}


@bp.route("/<int:competition_id>/rounds/<int:round_id>/criteria/new", methods=["GET", "POST"])
@manager_required
def criterion_new(competition_id: int, round_id: int):
    rnd = _child(Round, competition_id, round_id)
    form = CriterionForm()
    back = url_for(".round_detail", competition_id=competition_id, round_id=rnd.id)
    return _form_page(form, _l("Add a scoring criterion"), back,
                      lambda: services.add_criterion(_actor(), rnd, **_criterion_values(form)), _("Criterion added."))


@bp.route("/<int:competition_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@manager_required
def criterion_edit(competition_id: int, criterion_id: int):
    crit = _child(Criterion, competition_id, criterion_id)
    form = CriterionForm(obj=crit)
    back = url_for(".round_detail", competition_id=competition_id, round_id=crit.round_id)
    return _form_page(form, _l("Edit scoring criterion"), back,
                      lambda: services.update_criterion(_actor(), crit, **_criterion_values(form)), _("Saved."))


# --- custom questions -------------------------------------------------------------------------

def _question_values(form: QuestionForm) -> dict:
    return {"label_zh": form.label_zh.data, "label_en": form.label_en.data or None, "kind": form.kind.data,
            "choices": form.choice_list(), "required": bool(form.required.data)}


@bp.route("/<int:competition_id>/questions/new", methods=["GET", "POST"])
@manager_required
def question_new(competition_id: int):
    comp = _get(Competition, competition_id)
    form = QuestionForm()
    return _form_page(form, _l("Add a question for applicants"), url_for(".detail", competition_id=comp.id),
                      lambda: services.add_question(_actor(), comp, **_question_values(form)), _("Question added."))


@bp.route("/<int:competition_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@manager_required
def question_edit(competition_id: int, question_id: int):
    question = _child(CustomQuestion, competition_id, question_id)
    form = QuestionForm(obj=question)
    if request.method == "GET":
        form.choices.data = "\n".join(question.choices or [])
    return _form_page(form, _l("Edit question"), url_for(".detail", competition_id=competition_id),
                      lambda: services.update_question(_actor(), question, **_question_values(form)), _("Saved."))


@bp.post("/<int:competition_id>/<kind>/<int:item_id>/delete")
@manager_required
def delete(competition_id: int, kind: str, item_id: int):
    _require_confirm()
    model = {"tracks": Track, "rounds": Round, "questions": CustomQuestion, "criteria": Criterion}.get(kind)
    if model is None:
        abort(404)
    item = _child(model, competition_id, item_id)
    round_id = item.round_id if isinstance(item, Criterion) else None
    try:
        services.delete_item(_actor(), item)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Removed."), "success")
    if round_id is not None:
        return redirect(url_for(".round_detail", competition_id=competition_id, round_id=round_id))
    return redirect(url_for(".detail", competition_id=competition_id))
