"""Every change to an application: drafts, submission, edits, withdrawal, extensions and status
changes. Each status change writes a StatusChange row, an audit record, an in-app notice and a mail
to the team lead. Services flush; the view commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..competitions.models import Competition
from ..errors import Conflict, DomainError, NotAllowed
from ..extensions import db
from ..notifications.services import notify, queue_mail
from ..timeutils import local_today, to_local, utcnow
from .creditcode import is_valid_credit_code
from .models import (APPLICATION_STATUSES, MANAGER_TARGET_STATUSES, STAGES, Application, ApplicationAnswer,
                     StatusChange, Team, TeamMember)

# "deck" is served by the decks feature (decks.views.page); the other steps by this package.
STEPS = ("project", "team", "company", "questions", "deck", "review")
STEP_LABELS = {"project": _l("Project"), "team": _l("Team members"), "company": _l("Company & needs"),
               "questions": _l("Questions"), "deck": _l("Pitch deck"), "review": _l("Review & submit")}
PROJECT_FIELDS = ("track_id", "project_name", "one_line_pitch", "description", "stage")
COMPANY_FIELDS = ("company_name", "credit_code", "funding_sought", "desks_wanted")
MEMBER_FIELDS = ("name", "role_in_team", "school_or_employer", "birth_year", "graduation_year", "contact")
MAX_MEMBERS = 10
FIELD_LABELS = {
    "project_name": _l("Project name"), "track_id": _l("Track"), "one_line_pitch": _l("One-line pitch"),
    "description": _l("Project description"), "stage": _l("Stage"), "team_name": _l("Team name"),
    "members-0-name": _l("Name of the team lead"), "members-0-school_or_employer": _l("School or employer of the team lead"),
    "members-0-birth_year": _l("Year of birth of the team lead"), "members-0-contact": _l("Contact of the team lead"),
    "credit_code": _l("Unified social credit code"), "desks_wanted": _l("Desks wanted in the incubator"),
}

STATUS_TEXT_ZH = {"draft": "草稿", "submitted": "已提交", "withdrawn": "已撤回", "ineligible": "不符合参赛条件",
                  "in_review": "评审中", "advanced": "晋级", "eliminated": "未晋级"}
STATUS_TEXT_EN = {"draft": "draft", "submitted": "submitted", "withdrawn": "withdrawn", "ineligible": "not eligible",
                  "in_review": "in review", "advanced": "advanced", "eliminated": "not advanced"}


@dataclass(frozen=True)
class Problem:
    step: str
    field: str | None
    message: object  # a lazy string
    label: object = ""


def _local_text(moment: datetime | None) -> str:
    return format_datetime(to_local(moment), "yyyy-MM-dd HH:mm") if moment else ""


# --- reading ----------------------------------------------------------------------------------

def applications_of(user) -> list[Application]:
    return list(db.session.scalars(
        db.select(Application).join(Team).where(Team.created_by_id == user.id)
        .options(db.joinedload(Application.competition), db.joinedload(Application.track))
        .order_by(Application.created_at.desc())
    ))


def application_of(user, competition_id: int) -> Application | None:
    return db.session.scalar(
        db.select(Application).join(Team)
        .where(Team.created_by_id == user.id, Application.competition_id == competition_id)
    )


def missing_items(app: Application) -> list[Problem]:
    """What must be filled in before the application can be submitted, step by step."""
    problems: list[Problem] = []
    req = _l("This field is required.")
    for name in ("project_name", "track_id", "one_line_pitch", "description", "stage"):
        if not getattr(app, name):
            problems.append(Problem("project", name, req))
    team = app.team
    if not team.name:
        problems.append(Problem("team", "team_name", req))
    lead = team.lead
    if lead is None:
        problems.append(Problem("team", None, _l("The team needs a lead.")))
    else:
        for name in ("name", "school_or_employer", "birth_year", "contact"):
            if not getattr(lead, name):
                problems.append(Problem("team", f"members-0-{name}", req))
    if app.company_name and not app.credit_code:
        problems.append(Problem("company", "credit_code",
                                _l("Enter the unified social credit code of the company.")))
    if app.desks_wanted is None:
        problems.append(Problem("company", "desks_wanted", req))
    if app.competition.deck_required and not _has_confirmed_deck(app):
        problems.append(Problem("deck", None, _l("Upload your pitch deck (PDF or PPTX) before submitting.")))
    answered = {a.question_id: a.value for a in app.answers}
    for question in app.competition.questions:
        if question.required and not (answered.get(question.id) or "").strip():
            problems.append(Problem("questions", f"q_{question.id}", req, question.label))
    return [p if p.label else Problem(p.step, p.field, p.message, FIELD_LABELS.get(p.field, "")) for p in problems]


def _has_confirmed_deck(app: Application) -> bool:
    from ..decks.models import Deck  # decks build on applications, not the other way round

    return app.id is not None and db.session.scalar(
        db.select(db.func.count(Deck.id)).where(Deck.application_id == app.id)) > 0


def eligibility_problems(app: Application, year: int | None = None) -> list:
    """The team lead must meet the competition's rule: age at most N this year, or graduated
    within M years (either one is enough when both are set). Ages come from birth years, so they
    are the age reached during the current year (Asia/Shanghai)."""
    comp = app.competition
    lead = app.team.lead
    year = year or local_today().year
    rules = []
    if comp.max_founder_age:
        rules.append(bool(lead and lead.birth_year and year - lead.birth_year <= comp.max_founder_age))
    if comp.graduated_within_years is not None:
        rules.append(bool(lead and lead.graduation_year and year - lead.graduation_year <= comp.graduated_within_years))
    if not rules or any(rules):
        return []
    if comp.max_founder_age and comp.graduated_within_years is not None:
        return [_l("The team lead must be at most %(age)s years old this year or have graduated within the last "
                   "%(years)s years.", age=comp.max_founder_age, years=comp.graduated_within_years)]
    if comp.max_founder_age:
        return [_l("The team lead must be at most %(age)s years old this year.", age=comp.max_founder_age)]
    return [_l("The team lead must have graduated within the last %(years)s years.",
               years=comp.graduated_within_years)]


def submission_blockers(app: Application, moment: datetime | None = None) -> list:
    """Why the application cannot be submitted now (empty list: it can). Times are compared as
    instants and shown in Beijing time."""
    moment = moment or utcnow()
    comp = app.competition
    blockers = []
    if app.status != "draft":
        blockers.append(_l("Only a draft can be submitted."))
        return blockers
    if comp.opens_at and moment < comp.opens_at and comp.status == "published":
        blockers.append(_l("Applications open on %(when)s (Beijing time).", when=_local_text(comp.opens_at)))
    elif not app.window_open(moment):
        deadline = app.deadline
        if deadline:
            blockers.append(_l("The deadline (%(when)s Beijing time) has passed, so this application can no longer "
                               "be submitted. Your draft is kept. If you believe you should get more time, contact "
                               "the organisers.", when=_local_text(deadline)))
        else:
            blockers.append(_l("This competition is not accepting applications."))
    if missing_items(app):
        blockers.append(_l("Some required information is missing (see the list above)."))
    blockers.extend(eligibility_problems(app))
    return blockers


# --- writing ----------------------------------------------------------------------------------

def _ensure_owner(user, app: Application) -> None:
    if not app.is_owned_by(user):
        raise NotAllowed(_l("This application belongs to another team."))


def _ensure_editable(user, app: Application) -> None:
    _ensure_owner(user, app)
    if not app.can_edit(user):
        if app.status == "submitted":
            raise Conflict(_l("The deadline has passed: the submitted application can no longer be changed."))
        raise Conflict(_l("This application can no longer be changed."))


def start_application(founder, comp: Competition) -> Application:
    """A new draft with its team; the founder is the team lead."""
    if comp.status != "published":
        raise Conflict(_l("This competition is not accepting applications."))
    existing = application_of(founder, comp.id)
    if existing is not None:
        return existing
    team = Team(name="", created_by_id=founder.id)
    team.members.append(TeamMember(is_lead=True, user_id=founder.id, name=founder.name or "",
                                   contact=founder.mobile or founder.email, position=0))
    app = Application(competition=comp, team=team, status="draft", version=0)
    db.session.add(app)
    db.session.flush()
    db.session.add(StatusChange(application=app, from_status=None, to_status="draft", by_id=founder.id))
    record(founder, "application.create", app, after={"competition_id": comp.id})
    return app


class SubmittedChangeRefused(Conflict):
    """An edit of a submitted application would leave it incomplete or not eligible: nothing of it
    is saved (the view rolls back) and the submitted data stays as it was. `problems` are the
    Problems the edit would add, to mark their fields."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


def _standing(app: Application) -> frozenset | None:
    """What keeps a submitted application from being complete and eligible now (usually nothing),
    to compare after an edit; None for any other status (drafts may be saved half-done)."""
    if app.status != "submitted":
        return None
    held = {(p.step, p.field) for p in missing_items(app)}
    if eligibility_problems(app):
        held.add(("eligibility", None))
    return frozenset(held)


def _check_still_submittable(app: Application, held: frozenset | None) -> None:
    """A submitted application was complete and eligible when it was submitted, and the managers
    and judges read it as such: an edit may change it, not undo that. Only what the edit itself
    breaks is refused; a problem that was there before (say a question the organisers added after
    submission) does not block other changes."""
    if held is None:
        return
    added = [p for p in missing_items(app) if (p.step, p.field) not in held]
    if added:
        names = str(_l(", ")).join(str(p.label or p.message) for p in added)
        raise SubmittedChangeRefused(
            _l("This application has already been submitted, so it must stay complete. Your change was not "
               "saved, because it would leave this empty: %(fields)s. The submitted version is kept.",
               fields=names), added)
    if ("eligibility", None) not in held:
        reasons = eligibility_problems(app)
        if reasons:
            raise SubmittedChangeRefused(
                _l("This application has already been submitted, so it must still meet the competition's "
                   "conditions. Your change was not saved: %(reason)s The submitted version is kept.",
                   reason=str(reasons[0])))


def _after_edit(user, app: Application, step: str, before: dict, after: dict, held: frozenset | None = None) -> None:
    """Edits of a submitted application bump its version (judges and managers see which one they
    read), and are refused (SubmittedChangeRefused) if they would make it incomplete or ineligible."""
    if before != after:
        _check_still_submittable(app, held)
    app.last_step = step
    app.updated_at = utcnow()
    if app.status == "submitted" and before != after:
        app.version += 1
        record(user, "application.edit", app, before=before | {"version": app.version - 1},
               after=after | {"version": app.version})
    db.session.flush()
    if step in ("team", "company") and before != after:
        # A member's new school or employer, or the company, may put an assigned judge in conflict.
        from ..judging.services import withdraw_conflicted

        withdraw_conflicted(application_ids=db.session.scalars(
            db.select(Application.id).where(Application.team_id == app.team_id)).all())


def save_fields(user, app: Application, step: str, values: dict) -> None:
    """Save the given (already validated) fields of one step. Unknown names are ignored."""
    _ensure_editable(user, app)
    held = _standing(app)
    allowed = {"project": PROJECT_FIELDS, "company": COMPANY_FIELDS}[step]
    if "track_id" in values and values["track_id"] is not None:
        if values["track_id"] not in {t.id for t in app.competition.tracks}:
            values = {k: v for k, v in values.items() if k != "track_id"}
    if "stage" in values and values["stage"] not in STAGES:
        values["stage"] = None
    if "credit_code" in values and values["credit_code"] and not is_valid_credit_code(values["credit_code"]):
        values = {k: v for k, v in values.items() if k != "credit_code"}
    before = {k: getattr(app, k) for k in allowed if k in values}
    for name, value in values.items():
        if name in allowed:
            setattr(app, name, value)
    after = {k: getattr(app, k) for k in allowed if k in values}
    _after_edit(user, app, step, before, after, held)


def _member_snapshot(team: Team) -> list:
    return [[getattr(m, f) for f in MEMBER_FIELDS] for m in team.members]


def save_team(user, app: Application, team_name: str | None, rows: list[dict]) -> list[TeamMember | None]:
    """`rows` are the members in order, the lead first: row 0 is always the lead, who always stays.
    Every other row names the member it edits by "id" (a row without a known id adds a member),
    so each person keeps their own data whatever rows are removed around them. A row with
    "remove", or whose "name" is sent blank, takes its member off the team; so does leaving an
    existing member out (the rows are the whole team). Only the fields present in a row are
    written: a row without "name" (say it failed validation) keeps its member's name and adds no
    one. Returns, per row, the member it was saved to (None when it added or kept no one)."""
    _ensure_editable(user, app)
    held = _standing(app)
    team = app.team
    before = {"team_name": team.name, "members": _member_snapshot(team)}
    if team_name is not None:
        team.name = team_name
    lead = team.lead
    others = {m.id: m for m in team.members if not m.is_lead}
    kept: set[int] = set()
    saved: list[TeamMember | None] = []
    for index, row in enumerate(rows[:MAX_MEMBERS]):
        saved.append(None)
        if index == 0 and lead is not None:
            member = lead
        else:
            member = others.get(row.get("id")) if row.get("id") not in kept else None
            if row.get("remove") or ("name" in row and not (row["name"] or "").strip()):
                continue
            if member is None:
                if not (row.get("name") or "").strip():
                    continue
                member = TeamMember()
                team.members.append(member)
            else:
                kept.add(member.id)
        for name in MEMBER_FIELDS:
            if name in row:
                setattr(member, name, row[name])
        member.position = index
        saved[index] = member
    for member_id, gone in others.items():
        if member_id not in kept:
            team.members.remove(gone)
    db.session.flush()
    after = {"team_name": team.name, "members": _member_snapshot(team)}
    _after_edit(user, app, "team", before, after, held)
    return saved


def save_answers(user, app: Application, answers: dict[int, str]) -> None:
    _ensure_editable(user, app)
    held = _standing(app)
    known = {q.id for q in app.competition.questions}
    existing = {a.question_id: a for a in app.answers}
    before = {str(k): a.value for k, a in existing.items()}
    for question_id, value in answers.items():
        if question_id not in known:
            continue
        row = existing.get(question_id)
        if row is None:
            row = ApplicationAnswer(question_id=question_id, value=value)
            app.answers.append(row)
        else:
            row.value = value
    db.session.flush()
    after = {str(a.question_id): a.value for a in app.answers}
    _after_edit(user, app, "questions", before, after, held)


def application_link(app: Application) -> str:
    """The founder's page of the application, as a path; built by hand (not url_for) so jobs and CLI
    commands, which have no request, can notify too. Keep in step with views.review."""
    return f"/applications/{app.id}"


def _notify_status(app: Application, to_status: str, note: str = "") -> None:
    lead_user = app.team.created_by
    if lead_user is None:
        return
    link = application_link(app)
    name = app.project_name or f"#{app.id}"
    notify(lead_user, "application_status",
           f"你的参赛申请「{name}」状态已更新为：{STATUS_TEXT_ZH.get(to_status, to_status)}。",
           f"Your application “{name}” is now: {STATUS_TEXT_EN.get(to_status, to_status)}.", link)
    queue_mail(lead_user.email, "application_status", _l("Your application status has changed"),
               locale=lead_user.locale or "zh_CN", user=lead_user, application=app, to_status=to_status,
               note=note, link=link)


def change_status(actor, app: Application, to_status: str, note: str = "", *, action: str | None = None) -> StatusChange:
    """The one place a status changes: timeline row, audit record, notice, mail."""
    if to_status not in APPLICATION_STATUSES:
        raise DomainError(_l("Unknown status."))
    from_status = app.status
    app.status = to_status
    app.updated_at = utcnow()
    change = StatusChange(application=app, from_status=from_status, to_status=to_status,
                          by_id=getattr(actor, "id", None), note=(note or "")[:500])
    db.session.add(change)
    db.session.flush()
    record(actor, action or "application.status", app, before={"status": from_status},
           after={"status": to_status, "note": note or ""})
    _notify_status(app, to_status, note)
    return change


def submit(user, app: Application, moment: datetime | None = None) -> Application:
    _ensure_owner(user, app)
    blockers = submission_blockers(app, moment)
    if blockers:
        raise Conflict(blockers[0])
    app.submitted_at = moment or utcnow()
    app.version = max(app.version, 0) + 1
    change_status(user, app, "submitted", action="application.submit")
    return app


def withdraw(user, app: Application, note: str = "") -> Application:
    from ..judging.services import tell_managers_entry_withdrew

    _ensure_owner(user, app)
    if not app.can_withdraw(user):
        raise Conflict(_l("This application cannot be withdrawn."))
    change_status(user, app, "withdrawn", note, action="application.withdraw")
    tell_managers_entry_withdrew(app)  # judges may be scoring it
    return app


def grant_extension(manager, app: Application, until: datetime) -> Application:
    """Let one application be submitted or edited until `until` (aware UTC), past the competition's close."""
    if app.status not in ("draft", "submitted"):
        raise Conflict(_l("Only a draft or submitted application can get more time."))
    if until <= utcnow():
        raise DomainError(_l("The extension must end in the future."), field="until")
    before = {"late_deadline": app.late_deadline.isoformat() if app.late_deadline else None}
    app.late_deadline = until
    db.session.flush()
    record(manager, "application.extension", app, before=before, after={"late_deadline": until.isoformat()})
    lead_user = app.team.created_by
    if lead_user is not None:
        when = _local_text(until)
        name = app.project_name or f"#{app.id}"
        notify(lead_user, "application_extension", f"你的参赛申请「{name}」已获准延期至 {when}（北京时间）。",
               f"Your application “{name}” may be completed until {when} (Beijing time).",
               application_link(app))
    return app


def bulk_change_status(manager, apps: list[Application], to_status: str, note: str = "") -> tuple[int, int]:
    """Managers move submitted applications between review states. Drafts and withdrawn ones are
    the founders' and are skipped. Returns (changed, skipped)."""
    if to_status not in MANAGER_TARGET_STATUSES:
        raise DomainError(_l("This status cannot be set here."), field="to_status")
    changed = skipped = 0
    for app in apps:
        if app.status in ("draft", "withdrawn") or app.status == to_status:
            skipped += 1
            continue
        change_status(manager, app, to_status, note, action="application.bulk_status")
        changed += 1
    return changed, skipped
