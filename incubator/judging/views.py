"""Judging pages: the judge's queue and scoring form, the managers' round pages, the live
leaderboard and the founder's result. Views parse, load, check access, call a service, commit once."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..accounts.permissions import judge_required, manager_required
from ..applications.models import Application
from ..competitions.models import Competition, Round, Track
from ..errors import DomainError
from ..extensions import db
from ..actions import commit_or_refuse
from ..pagecache import one_statement_post
from ..spreadsheets import csv_response, xlsx_response
from ..urls import page_number, record_id
from . import services, submit_lane
from .ranking import two_decimals
from .models import (AWARD_LABELS, AWARD_LEVELS, REVEAL_LABELS, REVEAL_MODES, Assignment, JudgeConflict, Score)

bp = Blueprint("judging", __name__)


def _me():
    return current_user._get_current_object()


def _get(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _ids(name: str) -> list[int]:
    """The record numbers posted under `name`; anything else is a bad request."""
    out = [record_id(v) for v in request.form.getlist(name)]
    if None in out:
        abort(400)
    return out


def _int_arg(name: str, default: int = 0) -> int:
    """A posted whole number (a version, a record number); anything else is a bad request."""
    value = record_id(request.form.get(name, str(default)))
    if value is None:
        abort(400)
    return value


def _count_arg(name: str, default: int) -> int:
    """A count typed in a form or query (award counts); the default when absent or not a count."""
    value = record_id(request.values.get(name))
    return default if value is None else min(value, 100_000)


# --- judge ---------------------------------------------------------------------------------------

@bp.get("/judging/")
@judge_required
def queue():
    return render_template("judging/queue.html", rounds=services.judge_queue(_me()))


@bp.route("/judging/profile", methods=["GET", "POST"])
@judge_required
def profile():
    me = _me()
    prof = services.profile_of(me)
    tracks = list(db.session.scalars(db.select(Track).join(Competition).where(Competition.status != "draft")
                                     .order_by(Track.competition_id, Track.position)))
    if request.method == "POST":
        chosen = set(_ids("track_id"))
        return commit_or_refuse(lambda: services.save_profile(me, request.form.get("organization", ""),
                                                   [t for t in tracks if t.id in chosen]),
                     _("Your judge profile is saved."), url_for(".profile"))
    conflicts = list(db.session.scalars(db.select(JudgeConflict).where(JudgeConflict.judge_id == me.id,
                                                                       JudgeConflict.source == "declared")))
    return render_template("judging/profile.html", profile=prof, tracks=tracks, conflicts=conflicts,
                           chosen={t.id for t in prof.expertise} if prof else set())


@bp.post("/judging/profile/conflicts")
@judge_required
def declare_conflict():
    me = _me()
    app = None
    raw = (request.form.get("application_id") or "").strip().lstrip("#")
    if raw:
        if record_id(raw) is None:
            flash(_("Enter the entry number, e.g. 12."), "danger")
            return redirect(url_for(".profile"))
        app = db.session.get(Application, record_id(raw))
        if app is None or app.submitted_at is None:
            flash(_("There is no entry with this number."), "danger")
            return redirect(url_for(".profile"))
    organization, reason = request.form.get("organization", ""), request.form.get("reason", "")
    return commit_or_refuse(lambda: services.declare_conflict(me, application=app, organization=organization, reason=reason),
                 _("The conflict is recorded; you will not be assigned such entries."), url_for(".profile"))


@bp.post("/judging/profile/conflicts/<int:conflict_id>/delete")
@judge_required
def delete_conflict(conflict_id: int):
    conflict = db.session.get(JudgeConflict, conflict_id)
    if conflict is None or conflict.judge_id != current_user.id or conflict.source != "declared":
        abort(404)
    services.remove_conflict(_me(), conflict)
    db.session.commit()
    return redirect(url_for(".profile"))


def _visible(assignment_id: int) -> Assignment:
    a = services.visible_assignment(_me(), assignment_id)
    if a is None:
        abort(404)
    return a


@bp.route("/judging/assignments/<int:assignment_id>", methods=["GET", "POST"])
@one_statement_post  # on PostgreSQL: no transaction; the score and its audit row are one statement
@judge_required
def score_entry(assignment_id: int):
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        # The POST reads plain columns (services.scoring_target: same access and conflict checks as the
        # page, 404 otherwise) and builds no ORM objects; the page below is only built on an error.
        target = services.scoring_target(_me(), assignment_id)
        if target is None:
            abort(404)
        fields = services.scoring_form(target, request.form)
        form_values, comment, feedback, submit = (fields[k] for k in ("values", "comment", "feedback", "submit"))
        try:
            refused = request.environ.get(submit_lane.REFUSAL)
            if refused is not None:  # the submit lane tried this save and was refused: not tried again
                raise refused
            services.save_score(_me(), target, version=_int_arg("version"), **fields)
        except DomainError as exc:
            db.session.rollback()
            if exc.field:
                errors[exc.field] = str(exc.message)
            else:
                flash(str(exc.message), "danger")
            status = exc.status_code
        else:
            # The confirmation is shown by the page we redirect to (?saved=...): the POST itself renders
            # nothing and translates nothing, which keeps the live-final submit cheap.
            target_url = url_for(".score_entry", assignment_id=assignment_id,
                                 saved="submitted" if submit else "draft")
            # (On PostgreSQL the request runs in autocommit and this commit has nothing to do.)
            # Nothing is read after this commit but the logged-in user (by the core after_request):
            # keeping the loaded rows saves reloading the user and roles on every submit.
            session = db.session()
            session.expire_on_commit = False
            try:
                session.commit()
            finally:
                session.expire_on_commit = True
            return redirect(target_url)
    a = _visible(assignment_id)
    rnd = a.round
    score = a.score
    if request.method != "POST":
        form_values = {str(k): v for k, v in (score.values if score else {}).items()}
        comment = score.comment_to_organizers if score else ""
        feedback = score.feedback_to_team if score else ""
    # A form shown again keeps the version it was built from: after "changed in another tab", saving
    # the same form again must be refused again, not overwrite the other tab's save unseen.
    version = _int_arg("version") if request.method == "POST" else (score.version if score else 0)
    return render_template("judging/score.html", a=a, rnd=rnd, app=a.application, score=score, values=form_values,
                           comment=comment, feedback=feedback, version=version, errors=errors,
                           open=services.scoring_open(rnd),
                           # (a refused POST goes to the page's own address, ?saved=... of the last save included)
                           saved=request.args.get("saved") if request.method != "POST" else None,
                           deck_allowed=services.can_view_deck(_me(), a.application),
                           text_max=services.SCORE_TEXT_MAX), status


@bp.post("/judging/assignments/<int:assignment_id>/recuse")
@judge_required
def recuse(assignment_id: int):
    a = _visible(assignment_id)
    return commit_or_refuse(lambda: services.recuse(_me(), a, request.form.get("reason", "")),
                 _("You have recused yourself from this entry; the organisers are informed."), url_for(".queue"),
                 url_for(".score_entry", assignment_id=a.id))


@bp.get("/judging/rounds/<int:round_id>/my-scores.<fmt>")
@judge_required
def my_scores(round_id: int, fmt: str):
    """The judge's own scores of a round, CSV or XLSX (identity hidden in blind rounds, as on every
    judge page)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    rnd = _get(Round, round_id)
    rows = [a for r in services.judge_queue(_me()) if r["round"].id == rnd.id for a in r["assignments"]]
    if not rows:
        abort(404)
    header = [_("Entry"), _("Track")] + [c.name for c in rnd.criteria] + [_("Total score"), _("Status")]
    lines = []
    for a in rows:
        app = a.application
        values = a.score.values if a.score else {}
        lines.append([_entry_label(rnd, app), app.track.name if app.track else ""]
                     + [values.get(str(c.id), "") for c in rnd.criteria]
                     + [two_decimals(a.score.total) if a.score and a.score.total is not None else "",
                        a.score_status_label])
    name = f"my-scores-round-{rnd.id}.{fmt}"
    return (csv_response(name, lines, header) if fmt == "csv"
            else xlsx_response(name, lines, header, sheet=str(SHEET_NAMES["mine"])))


@bp.app_template_filter("score2")
def score2(value: float) -> str:
    """A score as pages show it: 2 decimals, as ranked (ranking.two_decimals)."""
    return f"{two_decimals(value):.2f}"


def _entry_label(rnd: Round, app: Application) -> str:
    if rnd.blind:
        return _("Entry #%(id)s", id=app.id)
    return f"#{app.id} {app.project_name}"


# --- manager -------------------------------------------------------------------------------------

@bp.get("/manage/judging/")
@manager_required
def manage_index():
    comps = list(db.session.scalars(db.select(Competition).options(selectinload(Competition.rounds))
                                    .order_by(Competition.created_at.desc())))
    return render_template("judging/manage_index.html", competitions=comps)


def _round(round_id: int) -> Round:
    return _get(Round, round_id)


@bp.get("/manage/judging/rounds/<int:round_id>")
@manager_required
def dashboard(round_id: int):
    rnd = _round(round_id)
    entries = services.round_entries(rnd)
    prog = services.progress(rnd)
    judges = services.users_by_id(prog["per_judge"])
    return render_template("judging/dashboard.html", rnd=rnd, entries=entries, prog=prog, judges=judges,
                           short=services.entries_short_of_judges(rnd, entries),
                           distribution=services.judge_distribution(rnd), state=services.round_state(rnd, create=False),
                           open=services.scoring_open(rnd), saved=request.args.get("saved"), final=services.is_final(rnd))


@bp.post("/manage/judging/rounds/<int:round_id>/remind")
@manager_required
def remind(round_id: int):
    rnd = _round(round_id)
    ids = _ids("judge_id") or None
    n = services.remind_judges(_me(), rnd, ids)
    db.session.commit()
    flash(_("Reminders sent to %(n)s judges.", n=n), "success")
    return redirect(url_for(".dashboard", round_id=rnd.id))


@bp.get("/manage/judging/rounds/<int:round_id>/assignments")
@manager_required
def assignments_page(round_id: int):
    rnd = _round(round_id)
    entries = services.round_entries(rnd)
    rows = list(db.session.scalars(db.select(Assignment).options(selectinload(Assignment.score),
                                                                 selectinload(Assignment.judge))
                                   .where(Assignment.round_id == rnd.id).order_by(Assignment.id)))
    by_entry: dict[int, list] = {}
    for a in rows:
        by_entry.setdefault(a.application_id, []).append(a)
    return render_template("judging/assignments.html", rnd=rnd, entries=entries, by_entry=by_entry,
                           judges=services.all_judges(), tracks=rnd.competition.tracks,
                           last_batch=services.last_batch(rnd))


@bp.post("/manage/judging/rounds/<int:round_id>/assignments/add")
@manager_required
def assign_add(round_id: int):
    rnd = _round(round_id)
    judge = db.session.get(User, _int_arg("judge_id"))
    if judge is None:
        abort(404)
    entries = services.round_entries(rnd)
    ids = set(_ids("application_id"))
    track_id = record_id(request.form.get("track_id"))
    if track_id is not None:
        ids |= {a.id for a in entries if a.track_id == track_id}
    chosen = [a for a in entries if a.id in ids]
    if not chosen:
        flash(_("Choose entries or a track."), "warning")
        return redirect(url_for(".assignments_page", round_id=rnd.id))
    return commit_or_refuse(lambda: services.assign_manual(_me(), rnd, judge, chosen),
                 lambda result: _("%(added)s assignments added; %(conflicted)s skipped for conflicts, "
                                  "%(existing)s already there.", **result),
                 url_for(".assignments_page", round_id=rnd.id))


@bp.post("/manage/judging/rounds/<int:round_id>/assignments/remove")
@manager_required
def assign_remove_bulk(round_id: int):
    rnd = _round(round_id)
    judge = db.session.get(User, _int_arg("judge_id"))
    if judge is None:
        abort(404)
    ids = set(_ids("application_id"))
    track_id = record_id(request.form.get("track_id"))
    if track_id is not None:
        ids |= {a.id for a in services.round_entries(rnd) if a.track_id == track_id}
    result = services.unassign_bulk(_me(), rnd, judge, ids)
    db.session.commit()
    flash(_("%(removed)s assignments removed; %(kept_submitted)s kept because the score is submitted.", **result),
          "success")
    return redirect(url_for(".assignments_page", round_id=rnd.id))


@bp.post("/manage/judging/assignments/<int:assignment_id>/remove")
@manager_required
def assign_remove(assignment_id: int):
    a = _get(Assignment, assignment_id)
    round_id = a.round_id
    return commit_or_refuse(lambda: services.unassign(_me(), a), _("Assignment removed."),
                 url_for(".assignments_page", round_id=round_id))


@bp.get("/manage/judging/rounds/<int:round_id>/auto")
@manager_required
def auto_preview(round_id: int):
    rnd = _round(round_id)
    preview = services.preview_auto_assign(rnd)
    by_judge: dict = {}
    for judge, app in preview.new_pairs:
        by_judge.setdefault(judge, []).append(app)
    return render_template("judging/auto.html", rnd=rnd, preview=preview, by_judge=by_judge)


@bp.post("/manage/judging/rounds/<int:round_id>/auto/apply")
@manager_required
def auto_apply(round_id: int):
    rnd = _round(round_id)
    previewed = request.form.get("preview") or None
    return commit_or_refuse(lambda: services.apply_auto_assign(_me(), rnd, previewed)[1],
                 lambda n: _("%(n)s assignments created.", n=n), url_for(".assignments_page", round_id=rnd.id),
                 url_for(".auto_preview", round_id=rnd.id))


@bp.post("/manage/judging/rounds/<int:round_id>/auto/undo")
@manager_required
def auto_undo(round_id: int):
    rnd = _round(round_id)
    return commit_or_refuse(lambda: services.undo_last_auto_assign(_me(), rnd),
                 lambda n: _("The last automatic assignment was undone (%(n)s assignments removed).", n=n),
                 url_for(".assignments_page", round_id=rnd.id))


@bp.post("/manage/judging/scores/<int:score_id>/reopen")
@manager_required
def reopen(score_id: int):
    score = _get(Score, score_id)
    return commit_or_refuse(lambda: services.reopen_score(_me(), score), _("The score is open for the judge again."),
                 url_for(".assignments_page", round_id=score.assignment.round_id))


@bp.get("/manage/judging/rounds/<int:round_id>/rankings")
@manager_required
def rankings(round_id: int):
    """One ranking at a time (overall, or one track's), 100 rows a page: a round of 5,000 entries
    has 10,000 ranking rows, a page nobody reads and the browser is slow to draw; the exports hold
    every row."""
    rnd = _round(round_id)
    ranking = services.compute_ranking(rnd)
    tracks = [t for t in rnd.competition.tracks if t.id in ranking.per_track]
    track = next((t for t in tracks if str(t.id) == request.args.get("track")), None)
    result = ranking.per_track[track.id] if track else ranking.overall
    pages = max(1, -(-len(result.ranked) // RANKING_PAGE_SIZE))
    page = min(page_number(request.args.get("page")), pages)
    rows = result.ranked[(page - 1) * RANKING_PAGE_SIZE:page * RANKING_PAGE_SIZE]
    return render_template("judging/rankings.html", rnd=rnd, ranking=ranking, tracks=tracks, track=track,
                           result=result, rows=rows, page=page, pages=pages)


RANKING_PAGE_SIZE = 100


def _score_rows(rnd: Round):
    q = (db.select(Assignment).options(selectinload(Assignment.score), selectinload(Assignment.judge),
                                       selectinload(Assignment.application).selectinload(Application.team))
         .where(Assignment.round_id == rnd.id).order_by(Assignment.application_id, Assignment.judge_id))
    header = [_("Entry"), _("Project"), _("Team"), _("Track"), _("Judge")] + [c.name for c in rnd.criteria] + [
        _("Total score"), _("Status"), _("Comment to organisers"), _("Feedback to the team"), _("Recused")]
    rows = []
    for a in db.session.scalars(q):
        s = a.score
        values = s.values if s else {}
        app = a.application
        rows.append([app.id, app.project_name, app.team.name, app.track.name if app.track else "", a.judge.name]
                    + [values.get(str(c.id), "") for c in rnd.criteria]
                    + [two_decimals(s.total) if s and s.total is not None else "", a.score_status_label,
                       s.comment_to_organizers if s else "", s.feedback_to_team if s else "",
                       a.recusal_text])
    return header, rows


def _ranking_rows(rnd: Round):
    ranking = services.compute_ranking(rnd)
    header = [_("Rank"), _("Track rank"), _("Entry"), _("Project"), _("Team"), _("Track"), _("Scores"),
              _("Aggregated"), _("Raw mean"), _("Normalised"), _("Spread"), _("Judges disagree")]
    rows, yes = [], _("Yes")
    for r in ranking.overall.ranked:
        app, rep = ranking.entries[r.entry_id], r.report
        rows.append([r.rank, ranking.track_rank.get(r.entry_id), app.id, app.project_name, app.team_name,
                     app.track_name, rep.n_scores, two_decimals(rep.aggregated),
                     two_decimals(rep.raw_mean), two_decimals(rep.normalized), two_decimals(rep.spread_range),
                     yes if rep.disagreement else ""])
    for app_id in ranking.overall.unscored:
        app = ranking.entries[app_id]
        rows.append(["", "", app.id, app.project_name, app.team_name, app.track_name, 0,
                     "", "", "", "", ""])
    return header, rows


def _judge_rows(rnd: Round):
    header = [_("Judge"), _("Email"), _("Assigned"), _("Submitted"), _("Mean total"), _("Std"), _("Lowest"),
              _("Highest")]

    def num(value):
        return "" if value is None else two_decimals(value)

    rows = [[d["judge"].name, d["judge"].email, d["assigned"], d["submitted"], num(d["mean"]), num(d["std"]),
             num(d["min"]), num(d["max"])] for d in services.judge_summary(rnd)]
    return header, rows


EXPORTS = {"scores": _score_rows, "rankings": _ranking_rows, "judges": _judge_rows}
# The XLSX sheet's name, in the reader's language (the file names stay ASCII).
SHEET_NAMES = {"scores": _l("Scores"), "rankings": _l("Rankings"), "judges": _l("Judges"), "mine": _l("My scores")}


@bp.get("/manage/judging/rounds/<int:round_id>/export/<kind>.<fmt>")
@manager_required
def export(round_id: int, kind: str, fmt: str):
    """Every score (a row per judge and entry), the ranking (a row per entry), or a row per judge
    (their load and how they score: the leniency behind the dashboard's chart); CSV or XLSX."""
    rnd = _round(round_id)
    if kind not in EXPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    header, rows = EXPORTS[kind](rnd)
    name = f"round-{rnd.id}-{kind}.{fmt}"
    return (csv_response(name, rows, header) if fmt == "csv"
            else xlsx_response(name, rows, header, sheet=str(SHEET_NAMES[kind])))


@bp.route("/manage/judging/rounds/<int:round_id>/advancement", methods=["GET", "POST"])
@manager_required
def advancement(round_id: int):
    rnd = _round(round_id)
    if request.method == "POST":
        return commit_or_refuse(lambda: services.confirm_advancement(_me(), rnd, set(_ids("advance"))),
                     lambda counts: _("Decisions confirmed: %(advanced)s advance, %(eliminated)s do not. Teams see "
                                      "them when you publish.", **counts),
                     url_for(".advancement", round_id=rnd.id))
    ranking = services.compute_ranking(rnd)
    results = services.results_of(rnd)
    state = services.round_state(rnd, create=False)
    if state and state.decisions_confirmed_at:
        chosen = {i for i, r in results.items() if r.decision == "advanced"}
    else:
        chosen = services.advancement_proposal(rnd, ranking)
    return render_template("judging/advancement.html", rnd=rnd, ranking=ranking, chosen=chosen, state=state,
                           final=services.is_final(rnd))


@bp.route("/manage/judging/rounds/<int:round_id>/awards", methods=["GET", "POST"])
@manager_required
def awards(round_id: int):
    rnd = _round(round_id)
    if not services.is_final(rnd):
        abort(404)
    counts = {level: _count_arg(f"count_{level}", default) for level, default in zip(AWARD_LEVELS, (1, 2, 3, 5))}
    asked = any(f"count_{level}" in request.args for level in AWARD_LEVELS)  # the "Propose" button
    if request.method == "POST":
        chosen = {}
        for key, value in request.form.items():
            if key.startswith("award_") and record_id(key[6:]) is not None:
                if value and value not in AWARD_LEVELS:
                    abort(400)
                chosen[record_id(key[6:])] = value or None
        return commit_or_refuse(lambda: services.confirm_awards(_me(), rnd, chosen, set(_ids("admit"))),
                     _("Awards and admissions saved. Teams see them when you publish."),
                     url_for(".awards", round_id=rnd.id))
    ranking = services.compute_ranking(rnd)
    results = services.results_of(rnd)
    state = services.round_state(rnd, create=False)
    saved = {i: r.award_level for i, r in results.items() if r.award_level}
    # The awards saved, until the manager asks for a new proposal (confirming advancement saves none).
    proposal = saved if saved and not asked else services.award_proposal(rnd, counts, ranking)
    admitted = services.admitted_ids(rnd.competition_id)
    return render_template("judging/awards.html", rnd=rnd, ranking=ranking, proposal=proposal, counts=counts,
                           levels=AWARD_LEVELS, labels=AWARD_LABELS, admitted=admitted, state=state)


@bp.post("/manage/judging/rounds/<int:round_id>/publish")
@manager_required
def publish(round_id: int):
    rnd = _round(round_id)
    return commit_or_refuse(lambda: services.publish_results(_me(), rnd), lambda n: _("Results published to %(n)s teams.", n=n),
                 url_for(".dashboard", round_id=rnd.id))


@bp.post("/manage/judging/rounds/<int:round_id>/reveal")
@manager_required
def reveal(round_id: int):
    rnd = _round(round_id)
    return commit_or_refuse(lambda: services.set_reveal(_me(), rnd, request.form.get("reveal", "")), None,
                 url_for(".leaderboard_page", round_id=rnd.id))


@bp.get("/manage/judging/rounds/<int:round_id>/leaderboard")
@manager_required
def leaderboard_page(round_id: int):
    rnd = _round(round_id)
    return render_template("judging/leaderboard.html", rnd=rnd, data=services.leaderboard(rnd),
                           labels=REVEAL_LABELS, modes=REVEAL_MODES, hours=services.SCREEN_LINK_HOURS,
                           screen_url=url_for(".screen", token=services.screen_token(rnd), _external=True))


@bp.post("/manage/judging/rounds/<int:round_id>/screen-links/revoke")
@manager_required
def revoke_screen_links(round_id: int):
    rnd = _round(round_id)
    return commit_or_refuse(lambda: services.revoke_screen_links(_me(), rnd),
                            _("The screen links given out so far no longer work. Open the new link below on the hall's screen."),
                            url_for(".leaderboard_page", round_id=rnd.id))


def _screen_round(token: str) -> Round:
    rnd = services.round_for_screen(token)
    if rnd is None:
        abort(404)
    return rnd


@bp.get("/screen/<token>")
def screen(token: str):
    """The hall's big screen: the leaderboard alone, no login, no menu (services.screen_token)."""
    rnd = _screen_round(token)
    return render_template("judging/screen.html", rnd=rnd, data=services.leaderboard(rnd),
                           data_url=url_for(".screen_json", token=token))


@bp.get("/screen/<token>/data.json")
def screen_json(token: str):
    return Response(services.leaderboard_json(_screen_round(token)), mimetype="application/json")


@bp.get("/manage/judging/rounds/<int:round_id>/leaderboard.json")
@manager_required
def leaderboard_json(round_id: int):
    rnd = _round(round_id)
    return Response(services.leaderboard_json(rnd), mimetype="application/json")


# --- founder -------------------------------------------------------------------------------------

@bp.get("/results/<int:application_id>")
@login_required
def founder_result(application_id: int):
    app = db.session.get(Application, application_id)
    if app is None or not app.is_owned_by(current_user):
        abort(404)
    return render_template("judging/result.html", app=app, results=services.founder_results(_me(), app),
                           labels=AWARD_LABELS)
