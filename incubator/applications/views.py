"""Founders fill in applications over several visits; managers list, filter, export and move them.

A founder sees only their own team's applications: any other id is a 404, never a 403, so ids of
other teams cannot be probed."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import founder_required, manager_required
from ..competitions.models import Competition
from ..competitions.services import open_competitions
from ..errors import DomainError
from ..extensions import db
from ..timeutils import local_to_utc, utcnow
from ..urls import record_id
from . import services
from .forms import CompanyForm, ExtensionForm, ProjectForm, TeamForm, WithdrawForm, questions_form
from .models import STATUS_LABELS, Application
from .services import STEP_LABELS, STEPS

bp = Blueprint("applications", __name__)


def _actor():
    return current_user._get_current_object()


def _own(application_id: int) -> Application:
    app = db.session.get(Application, application_id)
    if app is None or not app.is_owned_by(current_user):
        abort(404)
    return app


def _next_step(step: str) -> str:
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def _prev_step(step: str) -> str:
    return STEPS[max(STEPS.index(step) - 1, 0)]


def _step_url(app: Application, step: str) -> str:
    if step == "review":
        return url_for(".review", application_id=app.id)
    if step == "deck":
        return url_for("decks.page", application_id=app.id)
    return url_for(".step", application_id=app.id, step=step)


@bp.get("/apply")
@founder_required
def index():
    mine = services.applications_of(_actor())
    applied = {a.competition_id for a in mine}
    competitions = [c for c in open_competitions() if c.id not in applied]
    return render_template("applications/index.html", applications=mine, competitions=competitions, now=utcnow())


# --- the steps ----------------------------------------------------------------------------------

def _project_form(comp: Competition, app: Application | None):
    if request.method == "POST":
        return ProjectForm(tracks=comp.tracks)
    return ProjectForm(obj=app, tracks=comp.tracks)


def _team_form(app: Application):
    if request.method == "POST":
        form = TeamForm()
    else:
        members = [{"member_id": m.id, **{f: getattr(m, f) for f in services.MEMBER_FIELDS}}
                   for m in app.team.members]
        if len(members) < services.MAX_MEMBERS:
            members.append({})  # one empty row to add a member without JavaScript
        form = TeamForm(data={"team_name": app.team.name, "members": members})
    return form


def _questions_form(app: Application):
    questions = app.competition.questions
    if request.method == "POST":
        return questions_form(questions, formdata=request.form)
    return questions_form(questions, data={f"q_{q.id}": app.answer_for(q.id) for q in questions})


def _render_step(comp, app, step, form, status=200):
    return render_template("applications/step.html", competition=comp, application=app, step=step, form=form,
                           steps=STEPS, step_labels=STEP_LABELS), status


def _save_step(app: Application, step: str, form) -> None:
    """Save whatever passed validation (even when other fields failed): nothing typed is lost."""
    user = _actor()
    if step == "project":
        services.save_fields(user, app, "project", form.valid_data(services.PROJECT_FIELDS, request.form))
    elif step == "company":
        services.save_fields(user, app, "company", form.valid_data(services.COMPANY_FIELDS, request.form))
    elif step == "team":
        rows = []
        for entry in form.members.entries:
            sub = entry.form
            # A field that failed validation (say a name over 80 characters) is left out: the
            # member keeps what was saved, and the page shows the typed value with its error.
            row = {n: sub[n].data for n in services.MEMBER_FIELDS
                   if not sub[n].errors and sub[n].name in request.form}
            row["id"] = record_id(str(sub.member_id.data or ""))
            row["remove"] = bool(sub.remove.data)
            rows.append(row)
        team_name = None if form.team_name.errors or "team_name" not in request.form else form.team_name.data
        saved = services.save_team(user, app, team_name, rows)
        for entry, member in zip(form.members.entries, saved):
            if member is not None:  # shown again after an error: a new row now edits its new member
                entry.form.member_id.data = member.id
    elif step == "questions":
        answers = {}
        for q in app.competition.questions:
            f = form[f"q_{q.id}"]
            if not f.errors and (f.name in request.form or q.kind == "yes_no"):
                answers[q.id] = "" if f.data is None else str(f.data)
        services.save_answers(user, app, answers)


def _field_named(form, name: str):
    """The field posted as `name`, also inside the team's member rows ("members-1-name")."""
    for f in form:
        if f.name == name:
            return f
        if f.type in ("FieldList", "FormField"):
            found = _field_named(f, name)
            if found is not None:
                return found
    return None


def _handle_step(comp: Competition, app: Application | None, step: str):
    forms = {"project": lambda: _project_form(comp, app), "team": lambda: _team_form(app),
             "company": lambda: CompanyForm() if request.method == "POST" else CompanyForm(obj=app),
             "questions": lambda: _questions_form(app)}
    form = forms[step]()
    if request.method == "GET":
        return _render_step(comp, app, step, form)

    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)  # the CSRF handler explains; the previous page still holds the typed values
    action = request.form.get("action", "next")
    if app is None:
        try:
            app = services.start_application(_actor(), comp)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return _render_step(comp, None, step, form, exc.status_code)
    if app is not None and not app.can_edit(current_user):
        flash(_("This application can no longer be changed. What you typed is shown below but was not saved."),
              "danger")
        return _render_step(comp, app, step, form, 409)
    has_errors = bool(form.errors)
    if action == "next" and form.add_required_errors():
        has_errors = True
    try:
        _save_step(app, step, form)
    except DomainError as exc:
        # E.g. an edit that would make a submitted application incomplete: nothing is saved, the
        # typed values are shown again with the reason.
        db.session.rollback()
        for problem in getattr(exc, "problems", ()):
            target = _field_named(form, problem.field) if problem.field else None
            if target is not None:
                target.errors = list(target.errors) + [problem.message]
        flash(str(exc.message), "danger")
        return _render_step(comp, db.session.get(Application, app.id), step, form, exc.status_code)
    db.session.commit()
    if has_errors:
        flash(_("Your draft is saved, apart from the fields marked below. Correct them to continue."), "warning")
        return _render_step(comp, app, step, form, 400)
    if action == "save":
        flash(_("Draft saved."), "success")
        return redirect(_step_url(app, step))
    if action == "back":
        return redirect(_step_url(app, _prev_step(step)))
    return redirect(_step_url(app, _next_step(step)))


@bp.route("/apply/<int:competition_id>/new", methods=["GET", "POST"])
@founder_required
def new(competition_id: int):
    comp = db.session.get(Competition, competition_id)
    if comp is None or comp.status != "published":
        abort(404)
    existing = services.application_of(_actor(), comp.id)
    if existing is not None:
        return redirect(_step_url(existing, existing.last_step if existing.last_step in STEPS else "project"))
    return _handle_step(comp, None, "project")


@bp.route("/applications/<int:application_id>/<any(project, team, company, questions):step>",
          methods=["GET", "POST"])
@founder_required
def step(application_id: int, step: str):
    app = _own(application_id)
    if request.method == "GET" and not app.can_edit(current_user):
        flash(_("This application can no longer be changed."), "info")
        return redirect(url_for(".review", application_id=app.id))
    return _handle_step(app.competition, app, step)


@bp.get("/applications/<int:application_id>")
@founder_required
def review(application_id: int):
    app = _own(application_id)
    return _render_review(app)


def _render_review(app: Application, status: int = 200):
    from ..accounts.forms import ConfirmForm

    missing = services.missing_items(app)
    return render_template(
        "applications/review.html", application=app, competition=app.competition, steps=STEPS,
        step_labels=STEP_LABELS, step="review", missing=missing, eligibility=services.eligibility_problems(app),
        blockers=services.submission_blockers(app) if app.status == "draft" else [],
        can_edit=app.can_edit(current_user), confirm_form=ConfirmForm(),
    ), status


@bp.post("/applications/<int:application_id>/submit")
@founder_required
def submit(application_id: int):
    from ..accounts.forms import ConfirmForm

    app = _own(application_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.submit(_actor(), app)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return _render_review(db.session.get(Application, application_id), exc.status_code)
    db.session.commit()
    flash(_("Submitted. You can still change it until the deadline."), "success")
    return redirect(url_for(".review", application_id=app.id))


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@founder_required
def withdraw(application_id: int):
    app = _own(application_id)
    if not app.can_withdraw(current_user):
        flash(_("This application cannot be withdrawn."), "info")
        return redirect(url_for(".review", application_id=app.id))
    form = WithdrawForm()
    if form.validate_on_submit():
        services.withdraw(_actor(), app, form.reason.data or "")
        db.session.commit()
        flash(_("The application has been withdrawn."), "info")
        return redirect(url_for(".index"))
    return render_template("applications/withdraw.html", application=app, form=form), (400 if form.errors else 200)


# --- managers -----------------------------------------------------------------------------------

@bp.get("/manage/applications/<int:application_id>")
@manager_required
def manage_detail(application_id: int):
    app = db.session.get(Application, application_id)
    if app is None:
        abort(404)
    form = ExtensionForm()
    return render_template("applications/manage_detail.html", application=app, competition=app.competition,
                           form=form, missing=services.missing_items(app), status_labels=STATUS_LABELS)


@bp.post("/manage/applications/<int:application_id>/extension")
@manager_required
def grant_extension(application_id: int):
    app = db.session.get(Application, application_id)
    if app is None:
        abort(404)
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            services.grant_extension(_actor(), app, local_to_utc(form.until.data))
        except DomainError as exc:
            db.session.rollback()
            form.until.errors = list(form.until.errors) + [exc.message]
        else:
            db.session.commit()
            flash(_("Extension granted."), "success")
            return redirect(url_for(".manage_detail", application_id=app.id))
    if "csrf_token" in form.errors:
        abort(400)
    return render_template("applications/manage_detail.html", application=app, competition=app.competition,
                           form=form, missing=services.missing_items(app), status_labels=STATUS_LABELS), 400


from . import manage  # noqa: E402,F401  (registers the managers' list routes on bp)
