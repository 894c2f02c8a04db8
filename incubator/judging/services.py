"""Judging decisions: profiles and conflicts, assignment (manual and automatic), recusal, scoring,
rankings, advancement, awards, admission and publication.

Services check, write, audit and notify; they flush but never commit (the view or job commits).
The pure algorithms live in assign.py and ranking.py; this module only loads plain data for them
and writes their answers back.
"""
from __future__ import annotations

import functools
import gc
import hashlib
import json
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User, UserRole
from ..applications.models import Application, Team
from ..audit.services import audit_parameters, record, record_now, with_audit_row
from ..competitions.models import Round
from ..driver_sql import driver_statement
from ..enums import Role
from ..errors import Conflict, DomainError, NotAllowed
from ..extensions import db
from ..notifications.models import Notice
from ..notifications.services import both_languages, notify, queue_mail
from ..timeutils import utcnow
from ..urls import MAX_ID
from . import assign as assign_algo
from . import ranking as ranking_algo
from .models import (AWARD_LABELS, AWARD_LEVELS, CONFLICT_REASON, REVEAL_MODES, Assignment, JudgeConflict,
                     JudgeProfile, JudgeReminder, RoundResult, RoundState, Score, normalize_organization)
from .sheets import RoundSheets

STALE_SCORE = _l("Someone else saved this score in the meantime (another tab or device). Reload the page "
                 "to see the latest version; your changes were not saved.")
RUBRIC_CHANGED = _l("The organisers changed this round's scoring criteria while you were scoring, so this score "
                    "was not saved. Check your figures against the criteria below and save again.")
ENTRY_STATUSES_EXCLUDED = ("draft", "withdrawn", "ineligible")
AWARD_TO_ALGO = {"first": ranking_algo.AwardLevel.FIRST, "second": ranking_algo.AwardLevel.SECOND,
                 "third": ranking_algo.AwardLevel.THIRD, "honorable": ranking_algo.AwardLevel.HONORABLE}


def _public(path: str) -> str:
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/") + path


# --- rounds and entries --------------------------------------------------------------------------

def round_state(rnd: Round, create: bool = True) -> RoundState | None:
    state = db.session.get(RoundState, rnd.id)
    if state is None and create:
        state = RoundState(round_id=rnd.id, reveal="nothing")
        db.session.add(state)
        db.session.flush()
    return state


def previous_round(rnd: Round) -> Round | None:
    earlier = [r for r in rnd.competition.rounds if (r.position, r.id) < (rnd.position, rnd.id)]
    return earlier[-1] if earlier else None


def is_final(rnd: Round) -> bool:
    return rnd.competition.rounds[-1].id == rnd.id


def scoring_open(rnd: Round, moment: datetime | None = None) -> bool:
    return _window_open(rnd.scoring_opens_at, rnd.scoring_closes_at, moment)


def _window_open(opens_at: datetime | None, closes_at: datetime | None, moment: datetime | None = None) -> bool:
    moment = moment or utcnow()
    return bool(opens_at and closes_at and opens_at <= moment < closes_at)


def _in_round(q, rnd: Round):
    # A team that withdrew, or was found ineligible, leaves every round, the later ones included: it
    # may do so after the previous round's decisions were confirmed.
    prev = previous_round(rnd)
    q = q.where(Application.competition_id == rnd.competition_id, Application.status.not_in(ENTRY_STATUSES_EXCLUDED))
    if prev is None:
        return q.where(Application.submitted_at.is_not(None))
    return q.join(RoundResult, sa.and_(RoundResult.application_id == Application.id,
                                       RoundResult.round_id == prev.id)).where(RoundResult.decision == "advanced")


def round_entries(rnd: Round) -> list[Application]:
    """The entries of a round: every submitted, eligible application for the first round; for a later
    round the entries the previous round advanced (confirmed decisions, published or not), unless
    they withdrew or were found ineligible since."""
    q = (db.select(Application).options(selectinload(Application.team).selectinload(Team.members),
                                        selectinload(Application.track)).order_by(Application.id))
    return list(db.session.scalars(_in_round(q, rnd)))


class EntryRow(NamedTuple):
    """The few columns ranking pages and exports show, loaded without building ORM objects (a named
    tuple: a worker's first ranking makes 5,000, three times faster than a frozen dataclass)."""

    id: int
    project_name: str
    track_id: int | None
    track_name: str
    team_name: str
    team_id: int
    competition_id: int


def entry_rows(rnd: Round) -> dict[int, EntryRow]:
    from ..competitions.models import Track, _zh

    zh = _zh()
    q = (db.select(Application.id, Application.project_name, Application.track_id, Track.name_zh, Track.name_en,
                   Team.name, Application.team_id, Application.competition_id)
         .join(Team, Team.id == Application.team_id).outerjoin(Track, Track.id == Application.track_id)
         .order_by(Application.id))
    out = {}
    # Core rows: a round's 5,000 entries without the ORM's pass over them.
    for app_id, project, track_id, t_zh, t_en, team, team_id, comp_id in db.session.connection().execute(
            _in_round(q, rnd)).all():
        track = (t_zh or t_en or "") if zh else (t_en or t_zh or "")
        out[app_id] = EntryRow(app_id, project, track_id, track, team, team_id, comp_id)
    return out


def all_judges() -> list[User]:
    """The judges who can take assignments: a deactivated account gets none."""
    return list(db.session.scalars(
        db.select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.JUDGE, User.active.is_(True)).order_by(User.id)))


# --- profiles and conflicts ----------------------------------------------------------------------

def profile_of(user: User) -> JudgeProfile | None:
    return db.session.scalar(db.select(JudgeProfile).where(JudgeProfile.user_id == user.id))


def save_profile(judge: User, organization: str, tracks: list) -> JudgeProfile:
    profile = profile_of(judge)
    before = None
    if profile is None:
        profile = JudgeProfile(user_id=judge.id)
        db.session.add(profile)
    else:
        before = {"organization": profile.organization, "tracks": sorted(t.id for t in profile.expertise)}
    profile.organization = (organization or "").strip()[:160]
    profile.organization_key = normalize_organization(profile.organization)
    profile.expertise = list(tracks)
    db.session.flush()
    record(judge, "judging.profile", profile, before=before,
           after={"organization": profile.organization, "tracks": sorted(t.id for t in tracks)})
    withdraw_conflicted(judge_id=judge.id)  # a new organisation may be an assigned team's school
    return profile


def declare_conflict(judge: User, *, application: Application | None = None, organization: str = "",
                     reason: str = "") -> JudgeConflict:
    key = normalize_organization(organization)
    if application is None and not key:
        raise DomainError(_l("Name an entry or an organisation for the conflict."), field="organization")
    conflict = JudgeConflict(judge_id=judge.id, application_id=application.id if application else None,
                             organization=(organization or "").strip()[:160], organization_key=key,
                             reason=(reason or "").strip()[:300], source="declared")
    db.session.add(conflict)
    db.session.flush()
    record(judge, "judging.conflict.declare", conflict, after={"application_id": conflict.application_id,
                                                               "organization": conflict.organization,
                                                               "reason": conflict.reason})
    withdraw_conflicted(judge_id=judge.id)
    return conflict


def withdraw_conflicted(*, judge_id: int | None = None, application_ids=None) -> int:
    """Withdraw the active assignments (of one judge, or on some entries) that a conflict now forbids:
    one declared since, a judge's new organisation, a team member's new school or employer. Such an
    assignment is never judged: it is recused as by the judge (the managers are told, the entry shows
    as short of judges, automatic assignment fills it again); one whose score is submitted is kept for
    the organisers to decide (_report_conflict_on_submitted). Returns how many were withdrawn."""
    q = db.select(Assignment).where(Assignment.recused_at.is_(None))
    if judge_id is not None:
        q = q.where(Assignment.judge_id == judge_id)
    if application_ids is not None:
        q = q.where(Assignment.application_id.in_(list(application_ids) or [0]))
    withdrawn = 0
    for a in db.session.scalars(q):
        if is_conflicted(a.judge_id, a.application):
            if a.score is not None and a.score.submitted:
                _report_conflict_on_submitted(a)
                continue
            _recuse(a.judge, a, CONFLICT_REASON)
            withdrawn += 1
    return withdrawn


def _report_conflict_on_submitted(assignment: Assignment) -> None:
    """A conflict found after the judge submitted: the score stays and counts until the organisers
    decide. A judge cannot take back a submitted score alone (recuse refuses it), nor by declaring a
    conflict or changing their organisation, even after scoring closed or results were published:
    the managers are told once, and may reopen the score and remove the judge, or keep it."""
    link = f"/manage/judging/rounds/{assignment.round_id}/assignments#entry-{assignment.application_id}"
    if db.session.scalar(db.select(sa.literal(1)).where(Notice.kind == "judging_conflict_submitted",
                                                        Notice.link == link).limit(1)):
        return
    judge, entry = assignment.judge, f"#{assignment.application_id}"
    record(judge, "judging.conflict.on_submitted", assignment, after={"application_id": assignment.application_id})
    _notify_managers("judging_conflict_submitted",
                     f"评委 {judge.name} 与参赛项目 {entry} 存在利益冲突，但其评分已提交，仍计入排名。"
                     f"请核查：可重新开放该评分后移除这位评委，或保留评分。",
                     f"Judge {judge.name} is in conflict with entry {entry}, but their score is submitted and "
                     f"still counts. Review it: reopen the score and remove the judge, or keep it.", link)


def _notify_managers(kind: str, text_zh: str, text_en: str, link: str) -> None:
    for manager in db.session.scalars(db.select(User).join(UserRole, UserRole.user_id == User.id)
                                      .where(UserRole.role == Role.MANAGER)):
        notify(manager, kind, text_zh, text_en, link)


def remove_conflict(judge: User, conflict: JudgeConflict) -> None:
    if conflict.judge_id != judge.id or conflict.source != "declared":
        raise NotAllowed(_l("Only your own declared conflicts can be removed."))
    record(judge, "judging.conflict.remove", conflict, before={"organization": conflict.organization,
                                                               "application_id": conflict.application_id})
    db.session.delete(conflict)
    db.session.flush()


def entry_organization_keys(app: Application) -> set[str]:
    keys = {normalize_organization(m.school_or_employer) for m in app.team.members}
    keys.add(normalize_organization(app.company_name))
    keys.discard("")
    return keys


def entry_member_ids(app: Application) -> set[int]:
    """The accounts on the entry's team (its creator, the members linked to an account): a judge who
    is one of them is in conflict with it, whatever the organisations say. One account may hold both
    roles (a founder invited to judge keeps the founder role)."""
    ids = {m.user_id for m in app.team.members if m.user_id is not None}
    ids.add(app.team.created_by_id)
    return ids


def conflict_pairs(entries: list[Application], judge_ids: list[int]) -> set[tuple[int, int]]:
    """(judge_id, application_id) pairs in conflict: the judge on the entry's team, declared on the
    entry, declared against an organisation of the entry, or automatic (the judge's organisation is a
    member's school/employer)."""
    pairs: set[tuple[int, int]] = set()
    if not entries or not judge_ids:
        return pairs
    judges = set(judge_ids)
    for a in entries:
        pairs.update((uid, a.id) for uid in entry_member_ids(a) & judges)
    entry_keys = {a.id: entry_organization_keys(a) for a in entries}
    by_key: dict[str, list[int]] = defaultdict(list)
    for app_id, keys in entry_keys.items():
        for k in keys:
            by_key[k].append(app_id)
    for pid, key in db.session.execute(db.select(JudgeProfile.user_id, JudgeProfile.organization_key)
                                       .where(JudgeProfile.user_id.in_(judge_ids))):
        for app_id in by_key.get(key, ()) if key else ():
            pairs.add((pid, app_id))
    ids = set(entry_keys)
    for c in db.session.scalars(db.select(JudgeConflict).where(JudgeConflict.judge_id.in_(judge_ids))):
        if c.application_id is not None and c.application_id in ids and c.source == "declared":
            pairs.add((c.judge_id, c.application_id))
        if c.organization_key:
            for app_id in by_key.get(c.organization_key, ()):
                pairs.add((c.judge_id, app_id))
    return pairs


def is_conflicted(judge_id: int, app: Application) -> bool:
    """The judge on the entry's team, or (one query) a declared conflict on the entry or on one of its
    organisations, or the judge's own organisation among them (the rules of conflict_pairs, for a
    single pair)."""
    return judge_id in entry_member_ids(app) or _conflicted(judge_id, app.id, entry_organization_keys(app))


def _conflicted(judge_id: int, application_id: int, org_keys: set[str]) -> bool:
    keys = sorted(org_keys) or [""]
    declared = db.select(sa.literal(1)).where(
        JudgeConflict.judge_id == judge_id,
        sa.or_(sa.and_(JudgeConflict.application_id == application_id, JudgeConflict.source == "declared"),
               sa.and_(JudgeConflict.organization_key != "", JudgeConflict.organization_key.in_(keys))))
    automatic = db.select(sa.literal(1)).where(JudgeProfile.user_id == judge_id, JudgeProfile.organization_key != "",
                                               JudgeProfile.organization_key.in_(keys))
    return db.session.execute(sa.union_all(declared, automatic).limit(1)).first() is not None


def record_automatic_conflicts(actor, rnd: Round) -> int:
    """Store the automatic conflicts of a round's entries as JudgeConflict rows (source 'automatic'),
    so managers see them and the audit trail keeps them. The checks themselves never depend on these
    rows (they read only declared ones): conflict_pairs/is_conflicted recompute them from the current
    organisations, so a judge or a team member who corrects an organisation is not barred by a row
    written before."""
    by_key: dict[str, list[int]] = defaultdict(list)
    entry_ids = []
    for app in round_entries(rnd):
        entry_ids.append(app.id)
        for key in entry_organization_keys(app):
            by_key[key].append(app.id)
    current = {(judge_id, app_id)
               for judge_id, key in db.session.execute(db.select(JudgeProfile.user_id, JudgeProfile.organization_key)
                                                       .where(JudgeProfile.organization_key != ""))
               for app_id in by_key.get(key, ())}
    rows = {(c.judge_id, c.application_id): c for c in db.session.scalars(db.select(JudgeConflict).where(
        JudgeConflict.source == "automatic", JudgeConflict.application_id.in_(entry_ids or [0])))}
    # Rows of this round's entries whose organisations no longer match (corrected since) go.
    stale = [c for pair, c in rows.items() if pair not in current]
    for c in stale:
        db.session.delete(c)
    added = 0
    for judge_id, app_id in sorted(current - rows.keys()):
        db.session.add(JudgeConflict(judge_id=judge_id, application_id=app_id, source="automatic",
                                     reason="organisation matches a team member's school or employer"))
        added += 1
    if added or stale:
        db.session.flush()
        record(actor, "judging.conflict.automatic", rnd, after={"added": added, "removed": len(stale)})
    return added


# --- assignment ----------------------------------------------------------------------------------

def active_assignments(rnd: Round) -> list[Assignment]:
    return list(db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id,
                                                               Assignment.recused_at.is_(None))))


def _notify_assigned(rnd: Round, counts: dict[int, int]) -> None:
    for judge_id, n in counts.items():
        judge = db.session.get(User, judge_id)
        if judge is None or n == 0:
            continue
        link = "/judging/"
        notify(judge, "judging_assigned", f"你在「{rnd.name_zh}」有 {n} 个新的评审项目。",
               f"You have {n} new entries to score in “{rnd.name_en or rnd.name_zh}”.", link)
        queue_mail(judge.email, "judging_assigned", _l("New entries to score"), locale=judge.locale or "zh_CN",
                   user=judge, judge=judge, round=rnd, count=n, link=_public(link))  # a mail needs the whole address


def assign_manual(actor, rnd: Round, judge: User, apps: list[Application]) -> dict:
    """Add `judge` to each entry. Conflicted entries and existing pairs are skipped (and counted)."""
    if not judge.has_role(Role.JUDGE):
        raise DomainError(_l("This person is not a judge."), field="judge_id")
    if not judge.active:
        raise DomainError(_l("This judge's account is deactivated."), field="judge_id")
    entry_ids = {a.id for a in round_entries(rnd)}
    conflicts = conflict_pairs(apps, [judge.id])
    existing = {aid: a for aid, a in ((a.application_id, a) for a in db.session.scalars(
        db.select(Assignment).where(Assignment.round_id == rnd.id, Assignment.judge_id == judge.id)))}
    result = {"added": 0, "conflicted": 0, "existing": 0, "not_in_round": 0}
    for app in apps:
        if app.id not in entry_ids:
            result["not_in_round"] += 1
        elif (judge.id, app.id) in conflicts:
            result["conflicted"] += 1
        elif app.id in existing:
            result["existing"] += 1
        else:
            db.session.add(Assignment(round_id=rnd.id, application_id=app.id, judge_id=judge.id, source="manual",
                                      created_by_id=getattr(actor, "id", None)))
            result["added"] += 1
    db.session.flush()
    if result["added"]:
        record(actor, "judging.assign.manual", rnd, after={"judge_id": judge.id, **result})
        _notify_assigned(rnd, {judge.id: result["added"]})
    return result


def unassign(actor, assignment: Assignment) -> None:
    if assignment.score is not None and assignment.score.submitted:
        raise Conflict(_l("This judge has already submitted a score for the entry; reopen or keep it."))
    record(actor, "judging.unassign", assignment, before={"judge_id": assignment.judge_id,
                                                          "application_id": assignment.application_id})
    db.session.delete(assignment)
    db.session.flush()


def unassign_bulk(actor, rnd: Round, judge: User, app_ids: set[int]) -> dict:
    """Remove `judge` from the chosen entries of the round; submitted scores are kept (skipped)."""
    rows = list(db.session.scalars(db.select(Assignment).options(selectinload(Assignment.score)).where(
        Assignment.round_id == rnd.id, Assignment.judge_id == judge.id, Assignment.application_id.in_(app_ids or {0}))))
    result = {"removed": 0, "kept_submitted": 0}
    for a in rows:
        if a.recused_at is not None:
            continue  # not an assignment any more: a recusal, which keeps the judge off the entry
        if a.score is not None and a.score.submitted:
            result["kept_submitted"] += 1
            continue
        db.session.delete(a)
        result["removed"] += 1
    db.session.flush()
    if result["removed"]:
        record(actor, "judging.unassign.bulk", rnd, after={"judge_id": judge.id, **result})
    return result


@dataclass
class AutoPreview:
    feasible: bool
    message: str = ""
    short_entries: list = field(default_factory=list)  # (Application, eligible, needed)
    new_pairs: list = field(default_factory=list)  # (User, Application)
    loads: dict = field(default_factory=dict)  # User -> load
    match_rate: float = 0.0
    load_spread: int = 0
    result: assign_algo.AssignmentResult | None = None

    @property
    def fingerprint(self) -> str:
        """Names the new pairs: the apply form carries the one the manager looked at."""
        pairs = sorted((judge.id, app.id) for judge, app in self.new_pairs)
        return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]


def preview_auto_assign(rnd: Round) -> AutoPreview:
    """Run the min-cost-flow assignment for the round without writing anything."""
    entries = round_entries(rnd)
    judges = all_judges()
    by_app = {a.id: a for a in entries}
    by_judge = {j.id: j for j in judges}
    profiles = {p.user_id: p for p in db.session.scalars(
        db.select(JudgeProfile).options(selectinload(JudgeProfile.expertise))
        .where(JudgeProfile.user_id.in_(list(by_judge) or [0])))}
    manual = [(a.judge_id, a.application_id) for a in active_assignments(rnd)
              if a.application_id in by_app and a.judge_id in by_judge]
    conflicts = conflict_pairs(entries, list(by_judge))
    # A judge who recused from an entry must not get it back.
    recused = {(a.judge_id, a.application_id) for a in db.session.scalars(
        db.select(Assignment).where(Assignment.round_id == rnd.id, Assignment.recused_at.is_not(None)))}
    conflicts |= recused
    conflicts -= set(manual)
    result = assign_algo.assign_judges(
        [assign_algo.Entry(a.id, a.track_id or 0) for a in entries],
        [assign_algo.Judge(j.id, frozenset(t.id for t in profiles[j.id].expertise) if j.id in profiles
                           else frozenset()) for j in judges],
        rnd.judges_per_entry, conflicts=conflicts, manual=manual)
    if not result.feasible:
        info = result.infeasibility
        short = [(by_app[s.entry_id], s.eligible, s.needed) for s in info.shortfalls]
        from ..competitions.models import _zh

        sep = "、" if _zh() else ", "  # the list separator of the reader's language
        if short:
            names = sep.join(f"#{a.id} {a.project_name}" for a, _, _ in short)
            message = _l("These entries have fewer eligible (non-conflicted) judges than the %(k)s needed: "
                         "%(names)s. Add judges or lower the judges per entry.", k=rnd.judges_per_entry, names=names)
        else:
            names = sep.join(f"#{i}" for i in info.deficient_entries)
            message = _l("Not enough judge capacity for entries %(names)s.", names=names)
        return AutoPreview(False, message, short, result=result)
    return AutoPreview(
        True, "", [], [(by_judge[p.judge_id], by_app[p.entry_id]) for p in result.assignments],
        {by_judge[j]: n for j, n in result.loads.items()}, result.expertise_match_rate, result.load_spread, result)


def apply_auto_assign(actor, rnd: Round, previewed: str | None = None) -> tuple[str, int]:
    """Compute and write the automatic assignment in the current transaction; returns (batch id, pairs).
    `previewed` is the fingerprint of the preview the manager saw: if entries, judges or conflicts
    changed since, the assignment differs and is refused rather than applied unseen."""
    preview = preview_auto_assign(rnd)
    if not preview.feasible:
        raise Conflict(preview.message)
    if previewed is not None and previewed != preview.fingerprint:
        raise Conflict(_l("The assignment changed since you previewed it (entries, judges or conflicts changed). "
                          "Review the new preview and apply it again."))
    record_automatic_conflicts(actor, rnd)
    batch = str(uuid.uuid4())
    counts: dict[int, int] = defaultdict(int)
    for judge, app in preview.new_pairs:
        db.session.add(Assignment(round_id=rnd.id, application_id=app.id, judge_id=judge.id, source="auto",
                                  batch_id=batch, created_by_id=getattr(actor, "id", None)))
        counts[judge.id] += 1
    db.session.flush()
    record(actor, "judging.assign.auto", rnd, after={"batch_id": batch, "pairs": len(preview.new_pairs),
                                                     "match_rate": round(preview.match_rate, 4)})
    _notify_assigned(rnd, counts)
    return batch, len(preview.new_pairs)


def last_batch(rnd: Round) -> str | None:
    return db.session.scalar(db.select(Assignment.batch_id).where(Assignment.round_id == rnd.id,
                                                                  Assignment.batch_id.is_not(None))
                             .order_by(Assignment.created_at.desc(), Assignment.id.desc()).limit(1))


def undo_last_auto_assign(actor, rnd: Round) -> int:
    batch = last_batch(rnd)
    if batch is None:
        raise Conflict(_l("There is no automatic assignment to undo."))
    rows = list(db.session.scalars(db.select(Assignment).options(selectinload(Assignment.score))
                                   .where(Assignment.batch_id == batch)))
    if any(a.score is not None for a in rows):
        raise Conflict(_l("Judges have started scoring entries of the last automatic assignment; it can no longer "
                          "be undone as a whole. Remove single assignments instead."))
    # A recusal is the record that keeps that judge off the entry (preview_auto_assign): it stays,
    # out of the batch, and the next automatic assignment still gives the entry to someone else.
    removed = 0
    for a in rows:
        if a.recused_at is not None:
            a.batch_id = None
        else:
            db.session.delete(a)
            removed += 1
    db.session.flush()
    record(actor, "judging.assign.undo", rnd, before={"batch_id": batch, "pairs": removed})
    return removed


def _recuse(judge: User, assignment: Assignment, reason: str) -> None:
    assignment.recused_at = utcnow()
    assignment.recusal_reason = reason[:500]
    db.session.flush()
    record(judge, "judging.recuse", assignment, after={"reason": assignment.recusal_reason})
    link = f"/manage/judging/rounds/{assignment.round_id}/assignments"
    entry = f"#{assignment.application_id}"
    zh, en = ("利益冲突", CONFLICT_REASON) if reason == CONFLICT_REASON else (reason, reason)
    _notify_managers("judging_recusal", f"评委 {judge.name} 回避了参赛项目 {entry}：{zh}",
                     f"Judge {judge.name} recused from entry {entry}: {en}", link)


def recuse(judge: User, assignment: Assignment, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason for the recusal."), field="reason")
    if assignment.judge_id != judge.id or not assignment.active:
        raise NotAllowed(_l("This is not your assignment."))
    if assignment.score is not None and assignment.score.submitted:
        raise Conflict(_l("You have already submitted this score; ask the organisers to reopen it first."))
    _recuse(judge, assignment, reason)


def tell_managers_entry_withdrew(app: Application) -> int:
    """A team withdrew an entry that judges are assigned to in a round whose results are not
    published yet: the managers are told, once per round, with a link to the round (its judges'
    queues, the progress and the rankings leave the entry out by its status). Returns how many
    rounds were named."""
    rounds = db.session.execute(
        db.select(Round.id, Round.name_zh, Round.name_en)
        .join(Assignment, Assignment.round_id == Round.id)
        .outerjoin(RoundState, RoundState.round_id == Round.id)
        .where(Assignment.application_id == app.id, Assignment.recused_at.is_(None),
               RoundState.results_published_at.is_(None))
        .group_by(Round.id, Round.name_zh, Round.name_en).order_by(Round.id)).all()
    name = app.project_name or f"#{app.id}"
    for round_id, name_zh, name_en in rounds:
        _notify_managers("judging_entry_withdrawn", f"参赛项目「{name}」已撤回申请，退出「{name_zh}」的评审",
                         f"The entry “{name}” was withdrawn and leaves the judging of “{name_en or name_zh}”",
                         f"/manage/judging/rounds/{round_id}")
    return len(rounds)


def entries_short_of_judges(rnd: Round, entries: list[Application] | None = None) -> list[tuple[Application, int]]:
    """The entries with fewer judges than the round asks, and how many they have: a judge whose
    account was deactivated does not count (automatic assignment gives the entry another one)."""
    entries = entries if entries is not None else round_entries(rnd)
    counts: dict[int, int] = defaultdict(int)
    for app_id in db.session.scalars(db.select(Assignment.application_id).join(User, User.id == Assignment.judge_id)
                                     .where(Assignment.round_id == rnd.id, Assignment.recused_at.is_(None),
                                            User.active.is_(True))):
        counts[app_id] += 1
    return [(app, counts[app.id]) for app in entries if counts[app.id] < rnd.judges_per_entry]


# --- what a judge may see ------------------------------------------------------------------------

def visible_assignment(judge: User, assignment_id: int) -> Assignment | None:
    """The judge's own active assignment on a non-conflicted entry, or None (the view answers 404)."""
    # Everything the scoring page and save_score read, in three queries.
    a = db.session.scalar(
        db.select(Assignment).where(Assignment.id == assignment_id, Assignment.judge_id == judge.id)
        .options(joinedload(Assignment.score),
                 joinedload(Assignment.round).selectinload(Round.criteria),
                 joinedload(Assignment.application).joinedload(Application.team).selectinload(Team.members)))
    if a is None or not a.active or is_conflicted(judge.id, a.application):
        return None
    return a


def can_view_deck(judge: User, application: Application) -> bool:
    """Hook for the pitch-deck feature: a judge may download an entry's deck when they hold an
    active assignment on it in a round of its competition and have no conflict with it. Managers
    always may; founders through their own application (decided by the decks feature)."""
    if judge is None or not getattr(judge, "is_authenticated", False):
        return False
    if judge.has_role(Role.MANAGER):
        return True
    if not judge.has_role(Role.JUDGE):
        return False
    has = db.session.scalar(db.select(sa.func.count(Assignment.id)).where(
        Assignment.judge_id == judge.id, Assignment.application_id == application.id,
        Assignment.recused_at.is_(None)))
    return bool(has) and not is_conflicted(judge.id, application)


def judge_queue(judge: User, moment: datetime | None = None) -> list[dict]:
    """Per round with an assignment of this judge: the round, whether scoring is open, the visible
    assignments with their scores, and progress (n of m submitted)."""
    rows = list(db.session.scalars(
        db.select(Assignment).options(selectinload(Assignment.score), selectinload(Assignment.round),
                                      selectinload(Assignment.application).selectinload(Application.team)
                                      .selectinload(Team.members))
        .where(Assignment.judge_id == judge.id, Assignment.recused_at.is_(None)).order_by(Assignment.id)))
    conflicts = conflict_pairs([a.application for a in rows], [judge.id])
    by_round: dict[int, dict] = {}
    for a in rows:
        if (judge.id, a.application_id) in conflicts or a.application.status in ENTRY_STATUSES_EXCLUDED:
            continue  # (an entry that withdrew or was found ineligible is no longer judged)
        entry = by_round.setdefault(a.round_id, {"round": a.round, "open": scoring_open(a.round, moment),
                                                 "assignments": [], "submitted": 0})
        entry["assignments"].append(a)
        if a.score is not None and a.score.submitted:
            entry["submitted"] += 1
    return sorted(by_round.values(), key=lambda r: (not r["open"], r["round"].position))


# --- scoring -------------------------------------------------------------------------------------

def _clean_values(criteria, raw: dict, require_all: bool) -> tuple[dict, bool]:
    """`criteria`: Criterion rows or RubricLines (id, name, max_score, step)."""
    clean: dict[str, float] = {}
    for crit in criteria:
        value = raw.get(str(crit.id))
        if value is None or str(value).strip() == "":
            if require_all:
                raise DomainError(_l("Score every criterion before submitting: %(name)s is empty.", name=crit.name),
                                  field=f"c{crit.id}")
            continue
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation:
            raise DomainError(_l("%(name)s: enter a number.", name=crit.name), field=f"c{crit.id}") from None
        if not dec.is_finite() or dec < 0 or dec > crit.max_score:
            raise DomainError(_l("%(name)s must be between 0 and %(max)s.", name=crit.name, max=crit.max_score),
                              field=f"c{crit.id}")
        if dec % crit.step != 0:
            raise DomainError(_l("%(name)s goes in steps of %(step)s.", name=crit.name, step=crit.step),
                              field=f"c{crit.id}")
        clean[str(crit.id)] = float(dec)
    complete = len(clean) == len(criteria) and bool(criteria)
    return clean, complete


def retotal_scores(rnd: Round) -> int:
    """Each score sheet's stored total, computed again with the round's rubric as it now is (after a
    weight changed, or a criterion came or went while no score was submitted): the rankings
    (judging/sheets.py), the exports, the per-judge figures and the leniency chart read it.
    A sheet missing a value of the rubric has no total, as when it was saved. Returns how many changed.

    On PostgreSQL the scores table is first locked against writes until this transaction ends (SHARE
    ROW EXCLUSIVE: two rubric changes take turns): a score write in flight commits first and is
    re-totalled here; one that comes later waits, then finds the rubric version changed and is
    refused (_score_writes), instead of keeping a total of the old weights."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE scores IN SHARE ROW EXCLUSIVE MODE"))
    rubric = rubric_of(rnd)
    changed = 0
    for score in db.session.scalars(db.select(Score).join(Assignment, Assignment.id == Score.assignment_id)
                                    .where(Assignment.round_id == rnd.id)):
        try:
            total = ranking_algo.weighted_total(rubric, score.values or {})
        except ValueError:  # incomplete, or no rubric at all
            total = None
        if total != score.total:
            score.total = total
            changed += 1
    db.session.flush()
    return changed


def rubric_of(rnd: Round) -> list[ranking_algo.Criterion]:
    return _rubric(rnd.criteria)


def _rubric(criteria) -> list[ranking_algo.Criterion]:
    return [ranking_algo.Criterion(str(c.id), float(c.weight), float(c.max_score)) for c in criteria]


@dataclass(frozen=True)
class RubricLine:
    """The columns of a criterion that validating and totalling a score sheet need."""

    id: int
    name_zh: str
    name_en: str | None
    weight: Decimal
    max_score: Decimal
    step: Decimal

    @property
    def name(self) -> str:  # as Criterion.name: only read for an error message
        from ..competitions.models import _zh

        if _zh():
            return self.name_zh or self.name_en or ""
        return self.name_en or self.name_zh or ""


@dataclass(frozen=True)
class ScoringTarget:
    """Everything save_score reads about an assignment, as plain values: built from the ORM objects
    (ScoringTarget.of) or, for the scoring POST, from two column queries (scoring_target). The
    criteria are those of the `rubrics` data version `rubric_version` (or of a later one)."""

    assignment_id: int
    judge_id: int
    active: bool
    scoring_opens_at: datetime | None
    scoring_closes_at: datetime | None
    criteria: tuple
    score_id: int | None
    score_version: int | None
    score_status: str | None
    rubric_version: int | None = None

    @classmethod
    def of(cls, assignment: Assignment) -> ScoringTarget:
        rnd, score = assignment.round, assignment.score
        rubric_version, criteria = _scoring_rubric(rnd.id, fresh=True)
        return cls(assignment.id, assignment.judge_id, assignment.active, rnd.scoring_opens_at, rnd.scoring_closes_at,
                   criteria, score.id if score else None, score.version if score else None,
                   score.status if score else None, rubric_version)


@functools.cache
def _scoring_target_queries():
    """The target and rubric statements of scoring_target, and the target statement of
    scoring_target_of_login, built once per process (with bind parameters): building them costs
    more Python than running them."""
    from ..accounts.services import session_login
    from ..competitions.models import Criterion
    from ..pagecache import version_columns

    rubric = (sa.select(Criterion.id, Criterion.name_zh, Criterion.name_en, Criterion.weight, Criterion.max_score,
                        Criterion.step).where(Criterion.round_id == sa.bindparam("round_id", type_=sa.Integer))
              .order_by(Criterion.position, Criterion.id))
    login = session_login(Role.JUDGE)
    of_login = _target_query(login.c.user_id, login.c.user_id, version_columns()["dv_rubrics"],
                             start=login.join(Assignment, Assignment.judge_id == login.c.user_id))
    return _target_query(sa.bindparam("judge_id", type_=sa.Integer)), rubric, of_login


def _target_query(judge_id, *leading_columns, start=Assignment):
    """One row per team member (see scoring_target) of the assignment `assignment_id` of the judge
    `judge_id` (a parameter, or the column of the logged-in judge's subquery, which `start` then
    joins to the assignments), after `leading_columns`."""
    from ..applications.models import TeamMember

    on_entry = sa.exists().where(JudgeConflict.judge_id == judge_id, JudgeConflict.source == "declared",
                                 JudgeConflict.application_id == Assignment.application_id)
    own_key = sa.select(JudgeProfile.organization_key).where(JudgeProfile.user_id == judge_id).scalar_subquery()
    # Normalised keys hold no punctuation (normalize_organization drops it), so "," separates them
    # safely. (Written into the SQL: a separator given as a string is rendered at each execution.)
    declared_keys = (sa.select(sa.func.aggregate_strings(JudgeConflict.organization_key, sa.literal_column("','")))
                     .where(JudgeConflict.judge_id == judge_id, JudgeConflict.organization_key != "")
                     .scalar_subquery())
    return (sa.select(*leading_columns, Assignment.round_id, Assignment.recused_at, Round.scoring_opens_at,
                      Round.scoring_closes_at, Score.id, Score.version, Score.status, on_entry, own_key, declared_keys,
                      Application.company_name, Team.created_by_id, TeamMember.user_id, TeamMember.school_or_employer)
            .select_from(start)
            .join(Round, Round.id == Assignment.round_id)
            .join(Application, Application.id == Assignment.application_id)
            .join(Team, Team.id == Application.team_id)
            .outerjoin(Score, Score.assignment_id == Assignment.id)
            .outerjoin(TeamMember, TeamMember.team_id == Application.team_id)
            .where(Assignment.id == sa.bindparam("assignment_id", type_=sa.Integer), Assignment.judge_id == judge_id))


# The scoring POST's rubric per process, keyed by the round and the rubrics data version (read with
# the logged-in user, see incubator/pagecache), which changes in the transaction of any write to
# criteria (migration 0010): a changed rubric is never used.
_RUBRIC_CACHE: dict[tuple, tuple] = {}


def _scoring_rubric(round_id: int, fresh: bool = False) -> tuple[int | None, tuple]:
    """The `rubrics` data version and the round's rubric lines, read at that version or later
    (save_score's write checks that the version is still the current one). The scoring POST takes
    the version its request read with the login; `fresh` reads it now (an app context that lives
    longer than a request: a script, a job)."""
    from ..pagecache import current_versions, read_versions

    versions = read_versions(("rubrics",)) if fresh else current_versions(("rubrics",))
    return versions[0], _cached(_RUBRIC_CACHE, (round_id, versions), versions, lambda: tuple(
        RubricLine(*r) for r in db.session.connection().execute(_scoring_target_queries()[1], {"round_id": round_id})))


def scoring_target(judge: User, assignment_id: int) -> ScoringTarget | None:
    """The scoring POST's load: the same checks as visible_assignment (the judge's own, active,
    non-conflicted assignment, else None for a 404) in one column query, no ORM objects.

    The query gives one row per team member (their account and their school or employer: the
    entry's organisation keys) with the team's creator, the assignment, its round's scoring window,
    the current score's version, and the judge's side of the conflict rules of is_conflicted: a
    conflict row on this entry, the judge's
    organisation, the organisations the judge declared. The keys are compared here in Python (they
    are normalised in Python). The rubric comes from the per-process cache (_scoring_rubric)."""
    target_q = _scoring_target_queries()[0]
    rows = db.session.connection().execute(target_q, {"assignment_id": assignment_id, "judge_id": judge.id}).all()
    return _scoring_target_of(judge.id, assignment_id, rows)


def scoring_target_of_login(token: str, assignment_id: int, dbapi_connection=None) -> ScoringTarget | None:
    """scoring_target for the judge of the login session `token`, who is checked in the same query:
    a live session of an active account holding the judge role (accounts.services.session_login),
    else None. The query also reads the `rubrics` data version, which the user loader reads for
    scoring_target. For the judges' submit lane (submit_lane.py), which loads no User; it passes
    its `dbapi_connection` on PostgreSQL (run_write)."""
    from ..accounts.services import live_login_parameters
    from ..pagecache import remember_versions

    rows = _rows(_scoring_target_queries()[2], {"assignment_id": assignment_id, **live_login_parameters(token)},
                 dbapi_connection)
    if not rows:
        return None
    remember_versions({"dv_rubrics": rows[0][1]})
    return _scoring_target_of(rows[0][0], assignment_id, [row[2:] for row in rows])


def _scoring_target_of(judge_id: int, assignment_id: int, rows: list) -> ScoringTarget | None:
    """The target of scoring_target's rows, or None when the judge may not score the entry."""
    if not rows:
        return None
    (round_id, recused_at, opens, closes, score_id, score_version, score_status, conflict_on_entry, judge_key,
     declared, company, team_creator, _member_user, _member_school) = rows[0]
    if recused_at is not None or conflict_on_entry:
        return None
    if team_creator == judge_id or any(r[-2] == judge_id for r in rows):  # the judge is on the team
        return None
    entry_keys = {normalize_organization(r[-1]) for r in rows if r[-1] is not None}
    entry_keys.add(normalize_organization(company))
    entry_keys.discard("")
    judge_keys = set(declared.split(",")) if declared else set()
    if judge_key:
        judge_keys.add(judge_key)
    if judge_keys & entry_keys:
        return None
    rubric_version, criteria = _scoring_rubric(round_id)
    return ScoringTarget(assignment_id, judge_id, True, opens, closes, criteria, score_id, score_version, score_status,
                         rubric_version)


def scoring_form(target: ScoringTarget, form) -> dict:
    """The scoring form's fields as save_score takes them (values by criterion, comment, feedback,
    submit or draft), read from the posted `form` (a mapping of field names to text)."""
    return {"values": {str(c.id): form.get(f"c{c.id}", "") for c in target.criteria},
            "comment": form.get("comment_to_organizers", ""), "feedback": form.get("feedback_to_team", ""),
            "submit": form.get("action") == "submit"}


SCORE_TEXT_MAX = 5000  # the comment to the organisers, the feedback to the team (also the form fields' maxlength)
SCORE_FIELDS = ("values", "total", "comment_to_organizers", "feedback_to_team", "status", "submitted_at", "updated_at")


@functools.cache
def _score_writes(dialect: str):
    """The score INSERT (first save) and UPDATE (later saves), built once per process with their
    values as parameters (p_<column>), each returning the score's id when it wrote. On PostgreSQL
    each carries its audit row in the same statement (audit.with_audit_row), so the submit request
    writes with one statement and runs without a transaction (views: one_statement_post).

    Each writes only while the `rubrics` data version is the one the total was computed under
    (parameter rubric_version): the rankings read the stored total, and a rubric change re-totals
    the sheets in its own transaction (retotal_scores), which cannot see a sheet written alongside
    it with the old weights. retotal_scores locks the scores table against writes first (PostgreSQL;
    on SQLite writers take turns): a write already running commits before it and is re-totalled,
    a later one waits for the change to commit and then finds the new version."""
    from ..pagecache.models import DataVersion

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Score.__table__
    current = sa.select(DataVersion.version).where(DataVersion.name == "rubrics")
    rubric_unchanged = current.scalar_subquery().is_not_distinct_from(
        sa.bindparam("rubric_version", type_=sa.BigInteger))
    names = ("version", *SCORE_FIELDS)
    values = {name: sa.bindparam(f"p_{name}", type_=table.c[name].type) for name in names}
    # INSERT .. ON CONFLICT DO NOTHING: a concurrent first save of the same sheet (another tab)
    # inserts nothing here instead of failing, and is told to reload.
    first = (insert(table).from_select(["assignment_id", *names], sa.select(
        sa.bindparam("p_assignment_id", type_=sa.Integer), *values.values()).where(rubric_unchanged))
             .on_conflict_do_nothing(index_elements=["assignment_id"]).returning(table.c.id))
    # The version and status repeated in the WHERE clause: of two concurrent saves only one passes
    # (row lock on PostgreSQL, one writer on SQLite).
    later = (sa.update(table).where(table.c.id == sa.bindparam("score_id"),
                                    table.c.version == sa.bindparam("seen_version"), table.c.status == "draft",
                                    rubric_unchanged)
             .values(**values).returning(table.c.id))
    if dialect == "postgresql":
        return with_audit_row(first, "scores"), with_audit_row(later, "scores"), True
    return first, later, False


def save_score(judge: User, assignment: Assignment | ScoringTarget, *, values: dict, version: int,
               submit: bool = False, comment: str = "", feedback: str = "", moment: datetime | None = None,
               dbapi_connection=None) -> int:
    """Save a draft or submit. `version` is the version the judge's page was built from (0 when there
    was no score yet): a different current version means someone else saved in between, and the
    save is refused with STALE_SCORE instead of overwriting. The UPDATE repeats the version in its
    WHERE clause, so two concurrent saves cannot both pass (row lock on PostgreSQL, one writer on SQLite).
    `assignment` is an Assignment or the ScoringTarget the scoring POST loads with column queries.
    The write runs on the session's connection, or on `dbapi_connection` (run_write)."""
    orm_score = assignment.score if isinstance(assignment, Assignment) else None
    t = ScoringTarget.of(assignment) if isinstance(assignment, Assignment) else assignment
    if not (t.judge_id == judge.id and t.active and _window_open(t.scoring_opens_at, t.scoring_closes_at, moment)):
        if t.judge_id != judge.id or not t.active:
            raise NotAllowed(_l("This is not your assignment."))
        raise NotAllowed(_l("Scoring for this round is closed; the score is read-only."))
    if not t.criteria:
        raise Conflict(_l("This round has no scoring criteria yet: the organisers have to set up its rubric first."))
    clean, complete = _clean_values(t.criteria, values, require_all=submit)
    total = ranking_algo.weighted_total(_rubric(t.criteria), clean) if complete else None
    now = utcnow()
    # Browsers send a textarea's line breaks as CRLF, and count them as one character for maxlength.
    comment, feedback = ((text or "").replace("\r\n", "\n") for text in (comment, feedback))
    for text, name in ((comment, "comment_to_organizers"), (feedback, "feedback_to_team")):
        if len(text or "") > SCORE_TEXT_MAX:  # refused, not cut: the judge's last sentences would be lost
            raise DomainError(_l("At most %(n)s characters here (you wrote %(m)s): shorten it and save again.",
                                 n=SCORE_TEXT_MAX, m=len(text)), field=name)
    fields = dict(values=clean, total=total, comment_to_organizers=comment or "",
                  feedback_to_team=feedback or "", status="submitted" if submit else "draft",
                  submitted_at=now if submit else None, updated_at=now)
    first, later, audited = _score_writes(db.session.get_bind().dialect.name)
    action = "judging.score.submit" if submit else "judging.score.draft"
    audit_after = {"assignment_id": t.assignment_id, "values": clean, "total": total}
    params = {f"p_{name}": value for name, value in fields.items()}
    params["rubric_version"] = t.rubric_version
    if audited:
        params.update(audit_parameters(judge, action, audit_after))
    if t.score_id is None:
        if version != 0:
            raise Conflict(STALE_SCORE)
        score_id = run_write(first, {**params, "p_assignment_id": t.assignment_id, "p_version": 1},
                             dbapi_connection)
    else:
        if t.score_version != version:
            raise Conflict(STALE_SCORE)
        if t.score_status == "submitted":
            raise Conflict(_l("This score has been submitted and is locked; the organisers can reopen it."))
        score_id = run_write(later, {**params, "score_id": t.score_id, "seen_version": version,
                                     "p_version": version + 1}, dbapi_connection)
        if orm_score is not None:
            db.session.expire(orm_score)
    if score_id is None:  # the rubric changed meanwhile, or another tab or device saved first
        from ..pagecache import read_versions

        raise Conflict(RUBRIC_CHANGED if read_versions(("rubrics",))[0] != t.rubric_version else STALE_SCORE)
    if not audited:
        record_now(judge, action, ("scores", score_id), after=audit_after)
    return score_id


def run_write(statement, params: dict, dbapi_connection=None):
    """The first value the write `statement` returns (the written id), or None when it wrote nothing.
    A statement run on the lane's connection is not seen by the one-write guard
    (pagecache.guard_writes): the lane writes this statement alone."""
    rows = _rows(statement, params, dbapi_connection)
    return rows[0][0] if rows else None


def _rows(statement, params: dict, dbapi_connection=None) -> list:
    """The rows of `statement`, run on the session's connection or, given a `dbapi_connection` (the
    submit lane's, PostgreSQL, in autocommit), on that connection through driver_sql: the same SQL
    and values without SQLAlchemy's execution work, which is a fifth of the lane's request."""
    if dbapi_connection is None:
        return db.session.connection().execute(statement, params).all()
    return driver_statement(statement, db.engine.dialect).rows(dbapi_connection, params)


def can_score_now(judge: User, assignment: Assignment, moment: datetime | None = None) -> bool:
    return (assignment.judge_id == judge.id and assignment.active and scoring_open(assignment.round, moment))


def reopen_score(manager: User, score: Score) -> None:
    if not score.submitted:
        raise Conflict(_l("This score is not submitted."))
    # Reopened after the window closed, the sheet would leave the rankings and could never be submitted again.
    if not scoring_open(score.assignment.round):
        raise Conflict(_l("The scoring window of this round is closed: extend it before reopening a score."))
    score.status = "draft"
    score.submitted_at = None
    score.version += 1
    db.session.flush()
    record(manager, "judging.score.reopen", ("scores", score.id), after={"assignment_id": score.assignment_id})
    judge = score.assignment.judge
    forget_deadline_reminders(score.assignment.round_id, judge.id)  # behind again: reminded again before the close
    notify(judge, "judging_reopened", f"组织方重新开放了你对项目 #{score.assignment.application_id} 的评分。",
           f"The organisers reopened your score of entry #{score.assignment.application_id}.",
           f"/judging/assignments/{score.assignment_id}")


# --- rankings ------------------------------------------------------------------------------------

@dataclass
class RoundRanking:
    entries: dict  # application id -> Application
    reports: dict  # application id -> EntryReport
    overall: ranking_algo.RankingResult
    per_track: dict  # track id -> RankingResult
    track_rank: dict  # application id -> rank within its track


# Process-local caches of rankings and of the rows of a round's entries, keyed by the round, the
# language (track names), the ranking method and the versions of the data scopes they are computed
# from (incubator/pagecache: database triggers change a scope's version in the writing transaction):
# entries (applications; results: earlier rounds' decisions), score sheets and assignments (judging)
# and the rubric (rubrics). A hit costs one small query, so a live leaderboard polled every second
# by several screens neither reloads nor re-ranks. Any saved, reopened, recused or removed score
# misses, and then only the changed sheets are read and re-aggregated (judging/sheets.py: the round's
# sheets and their Tally are kept per round, method and rubric, for one list of entries and their
# tracks); a changed rubric or list of entries starts that over.
_RANKING_CACHE: dict[tuple, tuple] = {}
_ENTRY_ROWS_CACHE: dict[tuple, dict] = {}
_SHEETS_CACHE: dict[tuple, RoundSheets] = {}
_CACHE_SIZE = 16
RANKING_SCOPES = ("applications", "results", "judging", "rubrics")


def clear_ranking_caches() -> None:
    """Forget every ranking this process keeps (rankings, entry rows, kept sheets, leaderboards):
    the state of a worker that has just started, for tests and benches."""
    for cache in (_RANKING_CACHE, _ENTRY_ROWS_CACHE, _SHEETS_CACHE, _LEADERBOARD_CACHE, _FROZEN):
        cache.clear()


def _cached(cache: dict, key: tuple, versions: tuple, compute):
    """The value under `key` (which holds `versions`), computed and kept on a miss. Nothing is kept
    under a missing version: the tables were emptied since their last write (tests)."""
    value = cache.get(key)
    if value is None:
        value = compute()
        if None not in versions:
            _keep(cache, key, value)
    return value


def _keep(cache: dict, key: tuple, value, size: int = _CACHE_SIZE) -> None:
    """Store `value` under `key`, dropping the oldest entry when the cache is full."""
    cache.pop(key, None)
    if len(cache) >= size:
        cache.pop(next(iter(cache)))
    cache[key] = value


def compute_ranking(rnd: Round) -> RoundRanking:
    """The round's entries (one column query) and the pure ranking of its submitted scores, each
    from its cache when nothing it depends on changed; after a new score, only changed sheets are read."""
    from ..competitions.models import _zh
    from ..pagecache import read_versions

    # Read now, not as the request began: a request may rank right after writing (confirming results).
    versions = read_versions(RANKING_SCOPES)
    zh = _zh()
    def rank_round():
        by_id = _cached(_ENTRY_ROWS_CACHE, (rnd.id, zh, versions[:2]), versions[:2], lambda: entry_rows(rnd))
        return _rank_round(rnd, by_id, versions)

    return RoundRanking(*_cached(_RANKING_CACHE, (rnd.id, rnd.aggregation, zh, versions), versions, rank_round))


def _round_sheets(rnd: Round, by_id: dict, key: tuple) -> RoundSheets:
    """The round's kept sheets under `key` (round, method, rubric version), if they were totalled
    for these entries and tracks. Not keyed by the entries' data versions: an edit to some
    application (a founder's description, another competition) changes those without changing who
    is ranked, and should not cost a ranking from nothing."""
    entry_tracks = {a.id: a.track_id or 0 for a in by_id.values()}
    sheets = _SHEETS_CACHE.get(key)
    if sheets is None or sheets.tally.entries != entry_tracks:
        sheets = RoundSheets(rubric_of(rnd), entry_tracks, rnd.aggregation)
    # Kept, and moved to the end on every use: the `judging` data version is one for all rounds, so
    # a score in any round sends every round's ranking here, and a round dropped by the others'
    # turns would be ranked from nothing again.
    if None not in key:
        _keep(_SHEETS_CACHE, key, sheets)
    return sheets


def _rank_round(rnd: Round, by_id: dict, versions: tuple) -> tuple:
    key = (rnd.id, rnd.aggregation, versions[3])
    sheets = _round_sheets(rnd, by_id, key)
    # Tens of thousands of small objects are built and all stay alive: the cyclic garbage collector
    # would walk them again and again (about a third of the time) and find nothing to free.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with sheets.lock:
            from_nothing = not sheets.synced
            try:
                sheets.sync(rnd.id, versions[2])
            except Exception:
                _SHEETS_CACHE.pop(key, None)
                raise
            reports = sheets.tally.reports()
        overall, per_track = ranking_algo.rank(reports)
        track_rank = {r.entry_id: r.rank for res in per_track.values() for r in res.ranked}
        if from_nothing and key not in _FROZEN and current_app.config.get("GC_FREEZE_RANKINGS"):
            _FROZEN.add(key)
            _out_of_collector()
    finally:
        if gc_was_enabled:
            gc.enable()
    return by_id, reports, overall, per_track, track_rank


# The kept sheets' keys whose ranking from nothing was frozen (_out_of_collector): at most once
# each per process, whatever drops and rebuilds the kept sheets.
_FROZEN: set[tuple] = set()


def _out_of_collector() -> None:
    """Move every object now tracked by the cyclic garbage collector out of its generations
    (gc.freeze), as wsgi.py does with what the app loads and warm_at_start with the rankings it builds.

    A ranking from nothing (the round's 15,000 sheets held, their Tally, 5,000 reports, the
    rankings) leaves some 100,000 new objects in the youngest generation when the collector is
    enabled again: each of the next young, middle and full collections would walk them all, in
    this request and the next ones (20 to 30 ms in the request that ranked). None of them is in a
    reference cycle, so refcounting still frees them when the ranking is replaced. What else is
    alive at this moment is frozen too: the request's own objects, of which those in a reference
    cycle (the database session's) are then never freed: about 90 objects, some tens of kilobytes,
    per ranking from nothing (41 leaderboard requests from nothing: 3,911 such objects found on
    unfreezing, against 162 without; RSS +2 MiB), which a worker does once per round and rubric,
    not per score. The tests, which build an app per test, leave it off (GC_FREEZE_RANKINGS)."""
    gc.freeze()


WARM_DAYS_AFTER_CLOSE = 14


def rounds_to_warm(moment: datetime | None = None) -> list[Round]:
    """The rounds whose rankings are watched: scoring open now, or closed within the last
    WARM_DAYS_AFTER_CLOSE days (advancement, awards, results)."""
    now = moment or utcnow()
    return list(db.session.scalars(db.select(Round).where(
        Round.scoring_opens_at.is_not(None), Round.scoring_opens_at <= now,
        sa.or_(Round.scoring_closes_at.is_(None),
               Round.scoring_closes_at >= now - timedelta(days=WARM_DAYS_AFTER_CLOSE))).order_by(Round.id)))


def warm_rankings(moment: datetime | None = None) -> int:
    """Rank the rounds_to_warm into this process's caches; returns how many. A worker runs it as it
    starts (wsgi.py): its first ranking request then reads only the sheets changed since, as after
    a new score, instead of ranking the round from nothing (about 150 ms for 15,000 sheets)."""
    warmed = 0
    for rnd in rounds_to_warm(moment):
        try:
            compute_ranking(rnd)
        except ValueError:  # a sheet the rubric refuses: that round is ranked on request, as before
            current_app.logger.exception("round %s could not be ranked at start", rnd.id)
            continue
        warmed += 1
    return warmed


def warm_at_start(app) -> None:
    """warm_rankings in a worker that has just started (gunicorn.conf.py), if WARM_RANKINGS is set.
    A failure (no database yet, migrations not applied) is logged and the worker serves anyway:
    its rankings are then computed on first request."""
    if not app.config.get("WARM_RANKINGS"):
        return
    with app.app_context():
        try:
            app.logger.info("rankings of %d round(s) warmed", warm_rankings())
        except Exception:
            app.logger.exception("warming the rankings failed; they are computed on first request")
        finally:
            db.session.remove()
    # As wsgi.py does with what the app loads: the rankings just built (some 100,000 objects, none
    # in a reference cycle, so refcounting still frees them when replaced) leave the collector's
    # generations instead of being walked again by every full collection.
    gc.collect()
    gc.freeze()


def users_by_id(ids) -> dict[int, User]:
    """The users with these ids, in one query."""
    return {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(list(ids) or [0])))}


def _submitted_totals(rnd: Round) -> dict[int, list[float]]:
    """Judge id -> the totals of their submitted scores in the round (active assignments)."""
    per: dict[int, list[float]] = defaultdict(list)
    for judge_id, total in db.session.execute(
            db.select(Assignment.judge_id, Score.total).join(Score, Score.assignment_id == Assignment.id)
            .where(Assignment.round_id == rnd.id, Assignment.recused_at.is_(None), Score.status == "submitted",
                   Score.total.is_not(None))):
        per[judge_id].append(total)
    return per


def judge_distribution(rnd: Round) -> list[dict]:
    """Per judge: count, mean and a 10-bucket histogram of their submitted totals (leniency chart)."""
    per = _submitted_totals(rnd)
    out = []
    users = users_by_id(per)
    for judge_id, totals in sorted(per.items()):
        buckets = [0] * 10
        for t in totals:
            buckets[min(int(t // 10), 9)] += 1
        peak = max(buckets) or 1
        out.append({"judge": users[judge_id], "count": len(totals), "mean": sum(totals) / len(totals),
                    "buckets": buckets, "heights": [round(b / peak * 100) for b in buckets]})
    return out


def judge_summary(rnd: Round) -> list[dict]:
    """Per judge of the round (active assignments): assigned, submitted, and the mean, population std,
    lowest and highest of their submitted totals (None before any), by judge name."""
    per_judge = progress(rnd)["per_judge"]
    totals = _submitted_totals(rnd)
    users = users_by_id(per_judge)
    out = []
    for judge_id, (done, assigned) in per_judge.items():
        ts = totals.get(judge_id, [])
        out.append({"judge": users[judge_id], "assigned": assigned, "submitted": done,
                    "mean": statistics.fmean(ts) if ts else None, "std": statistics.pstdev(ts) if ts else None,
                    "min": min(ts) if ts else None, "max": max(ts) if ts else None})
    out.sort(key=lambda d: (d["judge"].name, d["judge"].id))
    return out


def progress(rnd: Round) -> dict:
    """Submitted and assigned sheets per judge and per entry (and in all), the reminders' count: the
    entries that withdrew or were found ineligible are no longer judged, so they count for nobody."""
    rows = db.session.execute(
        db.select(Assignment.judge_id, Assignment.application_id, Score.status)
        .join(Application, Application.id == Assignment.application_id)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == rnd.id, Assignment.recused_at.is_(None),
               Application.status.not_in(ENTRY_STATUSES_EXCLUDED))).all()
    per_judge: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_entry: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for judge_id, app_id, status in rows:
        for d, k in ((per_judge, judge_id), (per_entry, app_id)):
            d[k][1] += 1
            if status == "submitted":
                d[k][0] += 1
    return {"per_judge": per_judge, "per_entry": per_entry,
            "submitted": sum(1 for r in rows if r[2] == "submitted"), "total": len(rows)}


def unsubmitted_judges(rnd: Round) -> dict[int, int]:
    """Judge id -> sheets still to submit, for the reminders: judges whose account is deactivated are
    not reminded."""
    pending = {judge_id: total - done for judge_id, (done, total) in progress(rnd)["per_judge"].items()
               if done < total}
    inactive = set(db.session.scalars(db.select(User.id).where(User.id.in_(list(pending) or [0]),
                                                              User.active.is_(False))))
    return {judge_id: n for judge_id, n in pending.items() if judge_id not in inactive}


def forget_deadline_reminders(round_id: int, judge_id: int | None = None) -> int:
    """Forget which judges (or which one) got the round's 48-hour reminder, because its close moved
    or a score was reopened: the job reminds those still behind again before the close. Returns how
    many were forgotten."""
    q = db.delete(JudgeReminder).where(JudgeReminder.round_id == round_id)
    if judge_id is not None:
        q = q.where(JudgeReminder.judge_id == judge_id)
    return db.session.execute(q).rowcount


def remind_judges(actor, rnd: Round, judge_ids: list[int] | None = None, *, automatic: bool = False) -> int:
    """Mail every judge with unsubmitted scores in the round (or the given ones). The 48-hour job
    passes automatic=True: then a judge reminded before for this round is skipped (JudgeReminder)."""
    pending = unsubmitted_judges(rnd)
    if judge_ids is not None:
        pending = {j: n for j, n in pending.items() if j in set(judge_ids)}
    sent = 0
    already = set()
    if automatic:
        already = set(db.session.scalars(db.select(JudgeReminder.judge_id).where(JudgeReminder.round_id == rnd.id)))
    for judge_id, n in pending.items():
        if judge_id in already:
            continue
        judge = db.session.get(User, judge_id)
        if automatic:
            try:
                with db.session.begin_nested():
                    db.session.add(JudgeReminder(round_id=rnd.id, judge_id=judge_id))
                    db.session.flush()
            except IntegrityError:
                continue
        queue_mail(judge.email, "judging_reminder", _l("Reminder: scores to submit"), locale=judge.locale or "zh_CN",
                   user=judge, judge=judge, round=rnd, count=n, link=_public("/judging/"))
        notify(judge, "judging_reminder", f"「{rnd.name_zh}」还有 {n} 个评分未提交。",
               f"{n} scores still to submit in “{rnd.name_en or rnd.name_zh}”.", "/judging/")
        sent += 1
    if sent:
        record(actor, "judging.remind", rnd, after={"judges": sent, "automatic": automatic})
    return sent


# --- advancement, awards, admission, publication -------------------------------------------------

def results_of(rnd: Round) -> dict[int, RoundResult]:
    return {r.application_id: r for r in db.session.scalars(db.select(RoundResult).where(RoundResult.round_id == rnd.id))}


def advancement_proposal(rnd: Round, ranking: RoundRanking | None = None) -> set[int]:
    ranking = ranking or compute_ranking(rnd)
    if rnd.advancement_kind == "top_percent_overall":
        return set(ranking_algo.top_percent_overall(ranking.overall, rnd.advancement_value))
    return set(ranking_algo.top_n_per_track(ranking.per_track, rnd.advancement_value))


def _store_figures(actor, rnd: Round, ranking: RoundRanking) -> dict[int, RoundResult]:
    existing = results_of(rnd)
    overall_rank = {r.entry_id: r.rank for r in ranking.overall.ranked}
    now = utcnow()
    for app_id, report in ranking.reports.items():
        res = existing.get(app_id)
        if res is None:
            res = RoundResult(round_id=rnd.id, application_id=app_id)
            db.session.add(res)
            existing[app_id] = res
        res.aggregated, res.raw_mean, res.normalized = report.aggregated, report.raw_mean, report.normalized
        res.rank, res.track_rank = overall_rank.get(app_id), ranking.track_rank.get(app_id)
        res.decided_at, res.decided_by_id = now, getattr(actor, "id", None)
    return existing


def confirm_advancement(actor, rnd: Round, advanced_ids: set[int]) -> dict:
    """Record the decisions (the manager may have adjusted the proposal). Founders learn them only
    when the results are published."""
    state = round_state(rnd)
    if state.results_published_at is not None:
        raise Conflict(_l("The results of this round are already published."))
    ranking = compute_ranking(rnd)
    unknown = set(advanced_ids) - set(ranking.entries)
    if unknown:
        raise DomainError(_l("Some selected entries are not in this round."))
    proposal = advancement_proposal(rnd, ranking)
    results = _store_figures(actor, rnd, ranking)
    for app_id, res in results.items():
        res.decision = "advanced" if app_id in advanced_ids else "eliminated"
    state.decisions_confirmed_at = utcnow()
    db.session.flush()
    record(actor, "judging.advancement", rnd, before={"proposal": sorted(proposal)},
           after={"advanced": sorted(advanced_ids), "adjusted": sorted(set(advanced_ids) ^ proposal)})
    return {"advanced": len(advanced_ids), "eliminated": len(results) - len(advanced_ids)}


def award_proposal(rnd: Round, counts: dict[str, int], ranking: RoundRanking | None = None) -> dict[int, str]:
    ranking = ranking or compute_ranking(rnd)
    levels = ranking_algo.assign_awards(ranking.overall, {AWARD_TO_ALGO[k]: v for k, v in counts.items()})
    back = {v: k for k, v in AWARD_TO_ALGO.items()}
    return {app_id: back[level] for app_id, level in levels.items()}


def confirm_awards(actor, rnd: Round, awards: dict[int, str | None], admitted_ids: set[int]) -> None:
    """Final round: award level per entry and admission (入驻) of the chosen teams."""
    if not is_final(rnd):
        raise Conflict(_l("Awards are given in the final round."))
    state = round_state(rnd)
    if state.results_published_at is not None:
        raise Conflict(_l("The results of this round are already published."))
    ranking = compute_ranking(rnd)
    if (set(awards) | set(admitted_ids)) - set(ranking.entries):
        raise DomainError(_l("Some selected entries are not in this round."))
    results = _store_figures(actor, rnd, ranking)
    for app_id, res in results.items():
        level = awards.get(app_id)
        if level is not None and level not in AWARD_LEVELS:
            raise DomainError(_l("Unknown award level."))
        res.award_level = level
        # The last round may have had its advancement confirmed too (a next round not created yet):
        # a team given an award or admission is not also told it was eliminated.
        if res.decision == "eliminated" and (level is not None or app_id in admitted_ids):
            res.decision = None
    admit(actor, rnd, [ranking.entries[i] for i in admitted_ids], replace=True)
    state.decisions_confirmed_at = utcnow()
    db.session.flush()
    record(actor, "judging.awards", rnd, after={"awards": {str(k): v for k, v in awards.items() if v},
                                                "admitted": sorted(admitted_ids)})


def admit(actor, rnd: Round, apps: list[Application], replace: bool = False) -> int:
    """Mark the teams of `apps` for admission in this final round (the rest unmarked when
    `replace`). The admission itself happens when the results are published."""
    wanted = {a.id for a in apps}
    results = results_of(rnd)
    added = 0
    for app_id, res in results.items():
        if app_id in wanted and not res.admitted:
            res.admitted = True
            added += 1
        elif replace and app_id not in wanted:
            res.admitted = False
    db.session.flush()
    return added


def admitted_ids(competition_id: int) -> set[int]:
    """Applications marked for admission in the competition's final-round results."""
    return set(db.session.scalars(
        db.select(RoundResult.application_id).join(Round, Round.id == RoundResult.round_id)
        .where(Round.competition_id == competition_id, RoundResult.admitted.is_(True))))


def is_admitted(app: Application) -> bool:
    return app.id in admitted_ids(app.competition_id)


AWARD_RANKS = {level: i + 1 for i, level in enumerate(AWARD_LEVELS)}  # first prize = 1, as spaces orders


def _admit_to_incubator(actor, rnd: Round, results: dict, apps: dict) -> int:
    from ..spaces.services import admit_team

    count = 0
    for app_id, res in results.items():
        if res.admitted:
            admit_team(actor, apps[app_id].team, f"{rnd.name}: {res.award_label or ''}".strip(" :"),
                       award_level_rank=AWARD_RANKS.get(res.award_level), source="judging")
            count += 1
    return count


def _tell_results_published(rnd: Round, app: Application, res: RoundResult) -> None:
    """A notice to the team lead that the round's results are out, with the award if there is one
    (a changed status tells the team through the applications service instead)."""
    lead = app.team.created_by
    if lead is None:
        return
    name = app.project_name or f"#{app.id}"
    award_zh, award_en = both_languages(AWARD_LABELS[res.award_level]) if res.award_level else (None, None)
    notify(lead, "judging_result",
           f"「{rnd.name_zh}」的结果已公布" + (f"：「{name}」获得{award_zh}。" if award_zh else f"，请查看「{name}」。"),
           f"The results of “{rnd.name_en or rnd.name_zh}” are published" +
           (f": “{name}” won the {award_en}." if award_en else f"; see “{name}”."), f"/results/{app.id}")


def publish_results(actor, rnd: Round) -> int:
    """Make the round's results visible to the teams now: status advanced/eliminated through the
    applications service (timeline, notice and mail to each team)."""
    state = round_state(rnd)
    if state.results_published_at is not None:
        raise Conflict(_l("The results of this round are already published."))
    if state.decisions_confirmed_at is None:
        raise Conflict(_l("Confirm the decisions before publishing."))
    from ..applications.services import change_status

    results = results_of(rnd)
    apps = {a.id: a for a in db.session.scalars(db.select(Application).where(Application.id.in_(list(results) or [0])))}
    # A team that withdrew, or was found ineligible, after the decisions were confirmed keeps that
    # status: it is neither advanced nor eliminated, told, awarded nor admitted.
    results = {app_id: res for app_id, res in results.items() if apps[app_id].status not in ENTRY_STATUSES_EXCLUDED}
    told = set()
    for app_id, res in results.items():
        if res.decision == "eliminated" and (res.award_level or res.admitted):
            continue  # (advancement confirmed after the awards) the award or admission is what it hears
        if res.decision in ("advanced", "eliminated") and apps[app_id].status != res.decision:
            change_status(actor, apps[app_id], res.decision, action="judging.result")
            told.add(app_id)
    # Every other team of the round (a final's awards, a status that did not change) hears it too.
    for app_id in results.keys() - told:
        _tell_results_published(rnd, apps[app_id], results[app_id])
    if is_final(rnd):
        _admit_to_incubator(actor, rnd, results, apps)
    state.results_published_at = utcnow()
    db.session.flush()
    record(actor, "judging.publish", rnd, after={"entries": len(results)})
    return len(results)


def set_reveal(actor, rnd: Round, mode: str) -> None:
    if mode not in REVEAL_MODES:
        raise DomainError(_l("Unknown reveal setting."))
    state = round_state(rnd)
    before = state.reveal
    state.reveal = mode
    db.session.flush()
    record(actor, "judging.reveal", rnd, before={"reveal": before}, after={"reveal": mode})


_LEADERBOARD_CACHE: dict[tuple, tuple[dict, str]] = {}


# --- the big screen's own link ----------------------------------------------------------------------
# The screen in the hall shows the leaderboard without anyone's login: a manager's session on a public
# display would put the whole management menu one click away from the audience. The link is signed
# (nothing to store) and lasts a day; it shows only what the manager chose to reveal, which is what
# the hall sees anyway. A link that went further than the hall (a photo of the screen, a forwarded
# message) is withdrawn by revoke_screen_links: the round's screen_link_version is signed into each
# link, and raising it refuses every link given out before.
SCREEN_LINK_HOURS = 24


def _screen_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leaderboard-screen")


def _screen_link_version(rnd: Round) -> int:
    state = round_state(rnd, create=False)
    return state.screen_link_version if state is not None else 0


def screen_token(rnd: Round) -> str:
    """The token of the round's screen link, valid SCREEN_LINK_HOURS from now, until revoked."""
    return _screen_serializer().dumps([rnd.id, _screen_link_version(rnd)])


def round_for_screen(token: str) -> Round | None:
    """The round a screen link shows, or None for a link that is altered, expired, revoked or of no round."""
    try:
        payload = _screen_serializer().loads(token, max_age=SCREEN_LINK_HOURS * 3600)
    except BadSignature:  # (SignatureExpired included)
        return None
    if not (isinstance(payload, list) and len(payload) == 2
            and all(type(x) is int and 0 <= x <= MAX_ID for x in payload) and payload[0] > 0):
        return None
    round_id, version = payload
    rnd = db.session.get(Round, round_id)
    if rnd is None or _screen_link_version(rnd) != version:
        return None
    return rnd


def revoke_screen_links(actor, rnd: Round) -> None:
    """Withdraw every screen link of the round given out so far: the screens showing one stop
    updating and say so; the leaderboard page then shows a new link."""
    state = round_state(rnd)
    state.screen_link_version += 1
    db.session.flush()
    record(actor, "judging.screen_links.revoke", rnd, after={"screen_link_version": state.screen_link_version})


def leaderboard(rnd: Round) -> dict:
    """What the big screen shows, limited by the round's reveal setting."""
    return _leaderboard(rnd)[0]


def leaderboard_json(rnd: Round) -> str:
    """leaderboard() as JSON text. Several screens poll it every second during the final: the text
    is kept per process under the data versions the ranking is keyed by (and the reveal setting,
    the round's name and the language), so a poll when nothing changed serialises nothing."""
    return _leaderboard(rnd)[1]


def _leaderboard(rnd: Round) -> tuple[dict, str]:
    from ..competitions.models import _zh
    from ..pagecache import read_versions

    state = round_state(rnd, create=False)
    reveal = state.reveal if state else "nothing"
    versions = read_versions(RANKING_SCOPES)
    key = (rnd.id, rnd.name, rnd.aggregation, reveal, _zh(), versions)
    return _cached(_LEADERBOARD_CACHE, key, versions, lambda: _build_leaderboard(rnd, reveal))


def _build_leaderboard(rnd: Round, reveal: str) -> tuple[dict, str]:
    total, submitted = db.session.execute(
        db.select(sa.func.count(Assignment.id), sa.func.count(Score.submitted_at))
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == rnd.id, Assignment.recused_at.is_(None))).one()
    data = {"round": rnd.name, "reveal": reveal, "submitted": submitted, "total": total, "rows": []}
    if reveal != "nothing":
        ranking = compute_ranking(rnd)
        for r in ranking.overall.ranked:
            app = ranking.entries[r.entry_id]
            row = {"rank": r.rank, "project": app.project_name, "track": app.track_name}
            if reveal == "scores":
                row["score"] = ranking_algo.two_decimals(r.report.aggregated)
            data["rows"].append(row)
    return data, json.dumps(data, ensure_ascii=False)


def founder_results(user: User, app: Application) -> list[dict]:
    """Published results of the founder's own application, with the judges' feedback to the team.
    Nothing before publication; never scores of other teams."""
    if not app.is_owned_by(user):
        raise NotAllowed(_l("This is not your application."))
    out = []
    rows = db.session.execute(
        db.select(RoundResult, RoundState).join(RoundState, RoundState.round_id == RoundResult.round_id)
        .where(RoundResult.application_id == app.id, RoundState.results_published_at.is_not(None))).all()
    for res, state in rows:
        rnd = db.session.get(Round, res.round_id)
        feedback = [s.feedback_to_team for s in db.session.scalars(
            db.select(Score).join(Assignment, Assignment.id == Score.assignment_id)
            .where(Assignment.round_id == rnd.id, Assignment.application_id == app.id,
                   Assignment.recused_at.is_(None), Score.status == "submitted", Score.feedback_to_team != ""))]
        out.append({"round": rnd, "result": res, "feedback": feedback, "published_at": state.results_published_at,
                    "admitted": is_admitted(app) if is_final(rnd) else False})
    out.sort(key=lambda d: d["round"].position)
    return out


def reminder_due_rounds(moment: datetime | None = None) -> list[Round]:
    """Rounds whose scoring window closes within the next 48 hours and is open now."""
    moment = moment or utcnow()
    return list(db.session.scalars(db.select(Round).where(
        Round.scoring_closes_at.is_not(None), Round.scoring_closes_at > moment,
        Round.scoring_closes_at <= moment + timedelta(hours=48),
        Round.scoring_opens_at.is_not(None), Round.scoring_opens_at <= moment)))
