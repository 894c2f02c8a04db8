"""The judges' submit lane (incubator/judging/submit_lane.py) answers only the plain success of the
scoring form and hands every other request to the application. Each case runs both ways, through
the lane and through the application alone, and must give the same answer and leave the same rows;
through the lane, the application must have dispatched exactly the requests the lane passed on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from tests.conftest import csrf_from, login
from tests.judging.pages import client_for

pytestmark = pytest.mark.usefixtures("client")  # the committing test client class


@pytest.fixture(params=["lane", "application"])
def way(request, app, monkeypatch):
    """'lane' (as configured) or 'application' (the lane taken out); counts the POSTs the
    application itself dispatched."""
    from flask import request as flask_request

    dispatched = {"posts": 0}
    original = app.full_dispatch_request

    def counting():
        if flask_request.method == "POST" and flask_request.endpoint == "judging.score_entry":
            dispatched["posts"] += 1
        return original()

    monkeypatch.setattr(app, "full_dispatch_request", counting)
    if request.param == "application":
        monkeypatch.setattr(app, "wsgi_app", Flask.wsgi_app.__get__(app))
    else:
        assert app.wsgi_app.__name__ == "lane_or_app"  # the lane is on in the tested configuration
    return request.param, dispatched


class Case:
    def __init__(self, world, db, **entry):
        comp = world.competition()
        self.rnd = comp.rounds[0]
        self.judge = world.judge()
        self.app_entry = world.entry(comp, **entry)
        self.a = world.assign(self.rnd, self.judge, self.app_entry)
        db.session.commit()
        self.c1, self.c2 = (c.id for c in self.rnd.criteria)
        self.url = f"/judging/assignments/{self.a.id}"

    def form(self, **changes):
        data = {"version": "0", "action": "submit", f"c{self.c1}": "8.5", f"c{self.c2}": "7",
                "comment_to_organizers": "", "feedback_to_team": "路演清晰"}
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    def post(self, c, token_page=None, headers=None, **changes):
        token = csrf_from(c, token_page or self.url)
        return c.post(self.url, data={"csrf_token": token, **self.form(**changes)}, headers=headers or {})


def _score(db, assignment_id):
    from incubator.judging.models import Score

    db.session.expire_all()
    return db.session.scalar(db.select(Score).where(Score.assignment_id == assignment_id))


def _audit_actions(db):
    from incubator.audit.models import AuditRecord as AuditEvent

    db.session.expire_all()
    return [(e.action, e.actor_id, e.request_id is not None)
            for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.like("judging.score.%"))
                                        .order_by(AuditEvent.id))]


def test_a_draft_and_a_submit_are_saved_alike_both_ways(app, db, world, way):
    name, dispatched = way
    case = Case(world, db)
    c = client_for(app, case.judge)
    draft = case.post(c, action="draft", **{f"c{case.c2}": None})
    assert draft.status_code == 302
    assert draft.headers["Location"] == f"{case.url}?saved=draft"
    assert draft.headers["X-Request-ID"] and draft.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in draft.headers["Content-Security-Policy"]
    score = _score(db, case.a.id)
    assert (score.status, score.version, score.values, score.total) == ("draft", 1, {str(case.c1): 8.5}, None)

    submitted = case.post(c, version="1")
    assert submitted.headers["Location"] == f"{case.url}?saved=submitted"
    score = _score(db, case.a.id)
    assert (score.status, score.version, score.total) == ("submitted", 2, 79.0)  # 8.5*6 + 7*4
    assert score.feedback_to_team == "路演清晰"
    assert _audit_actions(db) == [("judging.score.draft", case.judge.id, True),
                                  ("judging.score.submit", case.judge.id, True)]
    # The judge is still logged in and the page says it is submitted.
    page = c.get(submitted.headers["Location"])
    assert page.status_code == 200 and "已提交" in page.get_data(as_text=True)
    assert dispatched["posts"] == (0 if name == "lane" else 2)


def _revoke(db, case):
    from incubator.accounts.services import revoke_all_sessions

    revoke_all_sessions(case.judge)
    db.session.commit()


def _deactivate(db, case):
    case.judge.active = False
    db.session.commit()


def _recuse(db, case):
    from incubator.timeutils import utcnow

    case.a.recused_at = utcnow()
    case.a.recusal_reason = "临时有事"
    db.session.commit()


def _close(db, case):
    from incubator.timeutils import utcnow

    case.rnd.scoring_closes_at = utcnow() - timedelta(hours=1)
    db.session.commit()


def _declare(db, case):
    from incubator.judging import services

    services.declare_conflict(case.judge, application=case.app_entry, organization="", reason="亲属")
    db.session.commit()


def _submit_first(db, case):
    from incubator.judging import services

    services.save_score(case.judge, case.a, values={str(case.c1): "5", str(case.c2): "5"}, version=0, submit=True)
    db.session.commit()


# name: (set-up before the POST, the form's changes, what the answer must be, a score row left?)
REFUSED = {
    "revoked login": (_revoke, {}, (302, "/login"), False),
    "account deactivated": (_deactivate, {}, (302, "/login"), False),
    "recused": (_recuse, {}, (404, None), False),
    "declared conflict": (_declare, {}, (404, None), False),
    "window closed": (_close, {}, (403, "本轮评分未开放"), False),
    "CSRF token forged": (None, {"csrf_token": "forged"}, (400, None), False),
    "value missing on submit": (None, {"c{c2}": ""}, (400, "提交前请为每一项打分"), False),
    "value out of range": (None, {"c{c1}": "11"}, (400, None), False),
    "value typed wrong": (None, {"c{c1}": "8-5"}, (400, None), False),
    "stale version": (None, {"version": "3"}, (409, "你本次的修改未保存"), False),
    "version not a number": (None, {"version": "x"}, (400, None), False),
    "NUL in the feedback": (None, {"feedback_to_team": "好\x00"}, (400, "NUL"), False),
    "already submitted": (_submit_first, {"version": "1", "action": "draft"}, (409, "已提交"), True),
}


@pytest.mark.parametrize("case_name", list(REFUSED))
def test_every_refusal_is_the_applications_answer(app, db, world, way, case_name):
    _, dispatched = way
    setup, changes, (status, expected), kept = REFUSED[case_name]
    case = Case(world, db)
    c = client_for(app, case.judge)
    token = csrf_from(c, case.url)
    if setup:
        setup(db, case)
    changes = {k.format(c1=case.c1, c2=case.c2): v for k, v in changes.items()}
    response = c.post(case.url, data={"csrf_token": token, **case.form(**changes)})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    if status == 302:
        assert response.headers["Location"].startswith(expected)
    elif expected:
        assert expected in response.get_data(as_text=True)
    score = _score(db, case.a.id)
    assert (score is not None) == kept
    if kept:
        assert score.values == {str(case.c1): 5.0, str(case.c2): 5.0}  # what was saved is unchanged
    assert dispatched["posts"] == 1  # the application answered, through the lane too


def test_a_body_over_the_applications_limit_gets_its_413(app, db, world, way, monkeypatch, caplog):
    """Under the lane's own limit but over MAX_CONTENT_LENGTH: the application's answer, and the
    lane does not read the body first (nor log a warning about it)."""
    _, dispatched = way
    case = Case(world, db)
    c = client_for(app, case.judge)
    token = csrf_from(c, case.url)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = c.post(case.url, data={"csrf_token": token, **case.form(feedback_to_team="好" * 400)})
    assert response.status_code == 413
    assert _score(db, case.a.id) is None and dispatched["posts"] == 1
    assert not [r for r in caplog.records if "submit lane" in r.getMessage()]


def test_people_other_than_the_assigned_judge_get_the_applications_answer(app, db, world, make_user, way):
    from incubator.enums import Role

    _, dispatched = way
    case = Case(world, db)
    anonymous = app.test_client()
    response = anonymous.post(case.url, data={"csrf_token": csrf_from(anonymous, "/login"), **case.form()})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    founder = client_for(app, make_user(Role.FOUNDER))
    assert case.post(founder, token_page="/").status_code == 403
    other = client_for(app, world.judge())
    assert case.post(other, token_page="/judging/").status_code == 404
    assert _score(db, case.a.id) is None
    assert dispatched["posts"] == 3


def test_a_judge_on_the_entrys_own_team_gets_the_applications_404(app, db, world, make_user, way):
    from incubator.enums import Role

    _, dispatched = way
    judge_and_founder = make_user(Role.JUDGE, Role.FOUNDER)
    comp = world.competition()
    entry = world.entry(comp, founder=judge_and_founder)
    a = world.assign(comp.rounds[0], judge_and_founder, entry)
    db.session.commit()
    c = client_for(app, judge_and_founder)
    c1, c2 = (x.id for x in comp.rounds[0].criteria)
    response = c.post(f"/judging/assignments/{a.id}", data={
        "csrf_token": csrf_from(c, "/judging/"), "version": "0", "action": "submit", f"c{c1}": "9", f"c{c2}": "9"})
    assert response.status_code == 404 and _score(db, a.id) is None
    assert dispatched["posts"] == 1


def test_logins_the_lane_does_not_read_are_the_applications_and_still_save(app, db, world, way):
    """A session from another browser (Flask-Login marks it not fresh) and a login kept only by the
    remember-me cookie: the application loads the user, and the save goes through as before."""
    _, dispatched = way
    case = Case(world, db)
    c = client_for(app, case.judge)
    moved = case.post(c, action="draft", headers={"User-Agent": "another browser"})
    assert moved.status_code == 302 and _score(db, case.a.id).version == 1

    remembered = app.test_client()
    login(remembered, case.judge, remember=True)
    token = csrf_from(remembered, case.url)
    remembered.delete_cookie("session")  # the browser was closed: only the remember-me cookie is left
    response = remembered.post(case.url, data={"csrf_token": token, **case.form(version="1")})
    # (the CSRF token lived in the closed session: refused, as before the lane)
    assert response.status_code == 400
    response = case.post(remembered, version="1")
    assert response.status_code == 302 and _score(db, case.a.id).status == "submitted"
    assert dispatched["posts"] == 3


def test_a_refusal_seen_by_the_lane_is_not_tried_again_by_the_view(app, db, world, monkeypatch, way):
    """The lane's save was refused at the write (here: the rubric changed in between); the view,
    which would read the new rubric and could save, shows that refusal instead."""
    from incubator.errors import Conflict
    from incubator.judging import services

    _, dispatched = way
    case = Case(world, db)
    c = client_for(app, case.judge)
    token = csrf_from(c, case.url)
    calls = []
    real = services.save_score

    def refused_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict(services.RUBRIC_CHANGED)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_score", refused_once)
    response = c.post(case.url, data={"csrf_token": token, **case.form()})
    assert response.status_code == 409 and "组织方修改了本轮的评分标准" in response.get_data(as_text=True)
    assert _score(db, case.a.id) is None and len(calls) == 1
    assert dispatched["posts"] == 1


@pytest.mark.postgres_only
def test_a_connection_broken_in_the_lane_is_invalidated_and_the_application_answers(app, db, world, monkeypatch,
                                                                                    caplog):
    """PostgreSQL: the lane's statements run on psycopg's connection (driver_sql). Lost before the
    write, the connection is invalidated by the lane, not handed back to the pool to fail there, and
    the application serves the request with a connection of its own; the next submit goes through
    the lane again."""
    import psycopg
    from flask import request
    from sqlalchemy import event

    from incubator.judging import services

    first, second = Case(world, db), Case(world, db)
    invalidated, dispatched = [], []
    dispatch = app.full_dispatch_request
    monkeypatch.setattr(app, "full_dispatch_request",
                        lambda: dispatched.append((request.method, request.endpoint)) or dispatch())
    real = services.scoring_target_of_login

    def lost(token, assignment_id, dbapi_connection=None):
        if dbapi_connection is not None and not invalidated:
            dbapi_connection.close()  # as when the server went away
            raise psycopg.OperationalError("the connection is lost")
        return real(token, assignment_id, dbapi_connection)

    def on_invalidate(dbapi_connection, _record, _exc):
        invalidated.append(dbapi_connection.closed)

    monkeypatch.setattr(services, "scoring_target_of_login", lost)
    event.listen(db.engine, "invalidate", on_invalidate)
    try:
        for case in (first, second):
            c = client_for(app, case.judge)
            assert case.post(c).status_code == 302
    finally:
        event.remove(db.engine, "invalidate", on_invalidate)
    assert invalidated == [True]
    assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]  # (the pool's reset failing)
    assert dispatched.count(("POST", "judging.score_entry")) == 1  # the first: the second went through the lane
    assert _score(db, first.a.id).status == "submitted" and _score(db, second.a.id).status == "submitted"
