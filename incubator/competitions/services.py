"""Every change to a competition's set-up: checks the rule, writes, records audit. Services flush;
the view (or CLI/job) commits."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError
from ..extensions import db
from ..timeutils import utcnow
from .models import Competition, Criterion, CustomQuestion, Round, Track

COMPETITION_FIELDS = ("name_zh", "name_en", "description_zh", "description_en", "opens_at", "closes_at",
                      "max_founder_age", "graduated_within_years", "seats_offered", "deck_required")
TRACK_FIELDS = ("name_zh", "name_en")
ROUND_FIELDS = ("name_zh", "name_en", "scoring_opens_at", "scoring_closes_at", "judges_per_entry", "blind",
                "aggregation", "advancement_kind", "advancement_value")
CRITERION_FIELDS = ("name_zh", "name_en", "description_zh", "description_en", "weight", "max_score", "step")
QUESTION_FIELDS = ("label_zh", "label_en", "kind", "choices", "required")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _snapshot(obj, fields) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def _apply(obj, fields, values: dict) -> None:
    for name in fields:
        if name in values:
            value = values[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(obj, name, value)


def _check_window(opens_at, closes_at, field: str = "closes_at") -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError(_l("The closing time must be after the opening time."), field=field)


# --- competitions -----------------------------------------------------------------------------

def create_competition(actor, **values) -> Competition:
    _check_window(values.get("opens_at"), values.get("closes_at"))
    comp = Competition(status="draft", created_by_id=getattr(actor, "id", None))
    _apply(comp, COMPETITION_FIELDS, values)
    db.session.add(comp)
    db.session.flush()
    record(actor, "competition.create", comp, after=_snapshot(comp, COMPETITION_FIELDS))
    return comp


def update_competition(actor, comp: Competition, **values) -> Competition:
    _check_window(values.get("opens_at", comp.opens_at), values.get("closes_at", comp.closes_at))
    if comp.status != "draft" and "opens_at" in values and values["opens_at"] is None:
        raise DomainError(_l("A published competition needs an application window."), field="opens_at")
    if comp.status != "draft" and "closes_at" in values and values["closes_at"] is None:
        raise DomainError(_l("A published competition needs an application window."), field="closes_at")
    before = _snapshot(comp, COMPETITION_FIELDS)
    _apply(comp, COMPETITION_FIELDS, values)
    db.session.flush()
    after = _snapshot(comp, COMPETITION_FIELDS)
    if before != after:
        record(actor, "competition.update", comp, before=before, after=after)
    return comp


def publish_problems(comp: Competition) -> list:
    problems = []
    if not comp.tracks:
        problems.append(_l("Add at least one track."))
    if not (comp.opens_at and comp.closes_at):
        problems.append(_l("Set the application window (opens and closes)."))
    return problems


def publish_competition(actor, comp: Competition) -> Competition:
    if comp.status != "draft":
        raise Conflict(_l("Only a draft competition can be published."))
    problems = publish_problems(comp)
    if problems:
        raise DomainError(_l("Cannot publish yet: %(problems)s", problems="; ".join(str(p) for p in problems)))
    comp.status = "published"
    comp.published_at = utcnow()
    db.session.flush()
    record(actor, "competition.publish", comp, before={"status": "draft"}, after={"status": "published"})
    return comp


def close_competition(actor, comp: Competition) -> Competition:
    if comp.status != "published":
        raise Conflict(_l("Only a published competition can be closed."))
    comp.status = "closed"
    db.session.flush()
    record(actor, "competition.close", comp, before={"status": "published"}, after={"status": "closed"})
    return comp


# --- ordered children -------------------------------------------------------------------------

def _next_position(items) -> int:
    return max((i.position for i in items), default=-1) + 1


def move(actor, item, siblings: list, direction: str) -> None:
    """Swap `item` with its neighbour (direction "up" or "down"); positions are renumbered 0..n-1."""
    ordered = sorted(siblings, key=lambda s: (s.position, s.id))
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or other < 0 or other >= len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for pos, sibling in enumerate(ordered):
        sibling.position = pos
    db.session.flush()
    record(actor, f"{item.__tablename__}.reorder", item, after={"order": [s.id for s in ordered]})
    if isinstance(item, Criterion):
        # A total sums its criteria in rubric order, and floats keep the order in their last bit:
        # every sheet is totalled again in the new order, so equal sheets keep equal totals.
        db.session.expire(item.round, ["criteria"])
        _retotal(item.round)


def add_track(actor, comp: Competition, **values) -> Track:
    name = (values.get("name_zh") or "").strip()
    if any(t.name_zh == name for t in comp.tracks):
        raise DomainError(_l("This competition already has a track with that name."), field="name_zh")
    track = Track(competition=comp, position=_next_position(comp.tracks))
    _apply(track, TRACK_FIELDS, values)
    db.session.add(track)
    db.session.flush()
    record(actor, "track.create", track, after=_snapshot(track, TRACK_FIELDS) | {"competition_id": comp.id})
    return track


def update_track(actor, track: Track, **values) -> Track:
    name = (values.get("name_zh") or track.name_zh).strip()
    if any(t.name_zh == name and t.id != track.id for t in track.competition.tracks):
        raise DomainError(_l("This competition already has a track with that name."), field="name_zh")
    before = _snapshot(track, TRACK_FIELDS)
    _apply(track, TRACK_FIELDS, values)
    db.session.flush()
    record(actor, "track.update", track, before=before, after=_snapshot(track, TRACK_FIELDS))
    return track


def add_round(actor, comp: Competition, **values) -> Round:
    _check_window(values.get("scoring_opens_at"), values.get("scoring_closes_at"), "scoring_closes_at")
    rnd = Round(competition=comp, position=_next_position(comp.rounds))
    _apply(rnd, ROUND_FIELDS, values)
    db.session.add(rnd)
    db.session.flush()
    record(actor, "round.create", rnd, after=_snapshot(rnd, ROUND_FIELDS) | {"competition_id": comp.id})
    return rnd


def update_round(actor, rnd: Round, **values) -> Round:
    _check_window(values.get("scoring_opens_at", rnd.scoring_opens_at),
                  values.get("scoring_closes_at", rnd.scoring_closes_at), "scoring_closes_at")
    before = _snapshot(rnd, ROUND_FIELDS)
    closes_before = rnd.scoring_closes_at
    _apply(rnd, ROUND_FIELDS, values)
    db.session.flush()
    record(actor, "round.update", rnd, before=before, after=_snapshot(rnd, ROUND_FIELDS))
    if rnd.scoring_closes_at != closes_before:
        # A new close: the judges still behind get their 48-hour reminder again, before it.
        from ..judging.services import forget_deadline_reminders

        forget_deadline_reminders(rnd.id)
    return rnd


def _check_criterion(values: dict) -> None:
    weight, max_score, step = values.get("weight"), values.get("max_score"), values.get("step")
    if weight is not None and weight <= 0:
        raise DomainError(_l("The weight must be greater than zero."), field="weight")
    if max_score is not None and max_score <= 0:
        raise DomainError(_l("The maximum score must be greater than zero."), field="max_score")
    if step is not None and (step <= 0 or (max_score is not None and step > max_score)):
        raise DomainError(_l("The step must be greater than zero and at most the maximum score."), field="step")


RUBRIC_FIXED = _l("Judges have already submitted scores in this round, so criteria can no longer be added "
                  "or removed, nor their maximum changed (that would rescale or invalidate the submitted "
                  "sheets). Weights, steps and wording can still change.")


def _refuse_if_scored(rnd: Round, field: str | None = None) -> None:
    """Once a score of the round is submitted its criteria and their maxima are fixed: a new
    criterion has no value in the submitted sheets (the ranking could not total them), a removed one
    or a new maximum would silently change every total. Drafts do not count: they are checked
    against the rubric of the moment when submitted."""
    from ..judging.models import Assignment, Score  # judging builds on competitions, not the reverse

    submitted = db.select(Score.id).join(Assignment, Assignment.id == Score.assignment_id).where(
        Assignment.round_id == rnd.id, Score.status == "submitted").limit(1)
    if db.session.scalar(submitted) is not None:
        raise Conflict(RUBRIC_FIXED, field=field)


def add_criterion(actor, rnd: Round, **values) -> Criterion:
    _check_criterion(values)
    _refuse_if_scored(rnd)
    crit = Criterion(round=rnd, position=_next_position(rnd.criteria))
    _apply(crit, CRITERION_FIELDS, values)
    db.session.add(crit)
    db.session.flush()
    record(actor, "criterion.create", crit, after=_snapshot(crit, CRITERION_FIELDS) | {"round_id": rnd.id})
    _retotal(rnd)
    return crit


def update_criterion(actor, crit: Criterion, **values) -> Criterion:
    _check_criterion({"weight": values.get("weight", crit.weight), "max_score": values.get("max_score", crit.max_score),
                      "step": values.get("step", crit.step)})
    if values.get("max_score") is not None and Decimal(values["max_score"]) != crit.max_score:
        _refuse_if_scored(crit.round, field="max_score")
    before = _snapshot(crit, CRITERION_FIELDS)
    _apply(crit, CRITERION_FIELDS, values)
    db.session.flush()
    record(actor, "criterion.update", crit, before=before, after=_snapshot(crit, CRITERION_FIELDS))
    if before["weight"] != _plain(crit.weight) or before["max_score"] != _plain(crit.max_score):
        _retotal(crit.round)
    return crit


def _retotal(rnd: Round) -> None:
    """The stored totals of the round's score sheets, again with its rubric as it now is."""
    from ..judging.services import retotal_scores  # judging builds on competitions, not the reverse

    retotal_scores(rnd)


def _check_question(values: dict) -> None:
    if values.get("kind") == "choice" and len(values.get("choices") or []) < 2:
        raise DomainError(_l("A choice question needs at least two options, one per line."), field="choices")


def add_question(actor, comp: Competition, **values) -> CustomQuestion:
    _check_question(values)
    if values.get("kind") != "choice":
        values["choices"] = []
    question = CustomQuestion(competition=comp, position=_next_position(comp.questions))
    _apply(question, QUESTION_FIELDS, values)
    db.session.add(question)
    db.session.flush()
    record(actor, "question.create", question, after=_snapshot(question, QUESTION_FIELDS))
    return question


def update_question(actor, question: CustomQuestion, **values) -> CustomQuestion:
    """Once the competition is published, founders may have answered: its wording and whether it
    is required may change, but not what an answer is (the kind, or an option someone chose)."""
    _check_question(values)
    if question.competition.status != "draft":
        if values.get("kind", question.kind) != question.kind:
            raise Conflict(_l("Once the competition is published a question keeps its kind: answers may "
                              "already follow it. Add a new question instead."), field="kind")
        dropped = [c for c in question.choices or [] if c not in (values.get("choices") or [])]
        if question.kind == "choice" and dropped:
            raise Conflict(_l("Once the competition is published a question keeps its options (founders may have "
                              "chosen them); new ones can be added. Missing: %(options)s",
                              options="、".join(dropped)), field="choices")
    if values.get("kind", question.kind) != "choice":
        values["choices"] = []
    before = _snapshot(question, QUESTION_FIELDS)
    _apply(question, QUESTION_FIELDS, values)
    db.session.flush()
    record(actor, "question.update", question, before=before, after=_snapshot(question, QUESTION_FIELDS))
    return question


def open_competitions() -> list[Competition]:
    """Competitions founders can see: published ones (open or not yet) and closed ones, newest first."""
    return list(db.session.scalars(
        db.select(Competition).where(Competition.status.in_(("published", "closed")))
        .order_by(Competition.opens_at.desc())
    ))


def delete_item(actor, item) -> None:
    """Remove a track, round, criterion or question. Tracks, rounds and questions only while the
    competition is a draft (once published, applications may point at them); criteria while no
    score of their round is submitted."""
    comp = item.round.competition if isinstance(item, Criterion) else item.competition
    if not isinstance(item, Criterion) and comp.status != "draft":
        raise Conflict(_l("Tracks, rounds and questions can only be removed while the competition is a draft."))
    rnd = item.round if isinstance(item, Criterion) else None
    if rnd is not None:
        _refuse_if_scored(rnd)
    snapshot = {"id": item.id, "label": getattr(item, "audit_label", None)}
    siblings = item.round.criteria if isinstance(item, Criterion) else getattr(comp, {
        Track: "tracks", Round: "rounds", CustomQuestion: "questions"}[type(item)])
    siblings.remove(item)
    for pos, sibling in enumerate(sorted(siblings, key=lambda s: (s.position, s.id))):
        sibling.position = pos
    db.session.flush()
    if rnd is not None:
        _retotal(rnd)
    record(actor, f"{item.__tablename__}.delete", (item.__tablename__, snapshot["id"], snapshot["label"]),
           before=snapshot)
