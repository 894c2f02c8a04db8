"""The whole-page cache (incubator/pagecache) on the managers' application list: a repeated view
costs one query, every manager gets their own name, badge and a working CSRF token, and no write
— ORM, bulk or raw SQL — leaves a stale page behind."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from incubator.applications.models import Application, Team, TeamMember
from incubator.enums import Role
from incubator.notifications.services import notify
from incubator.timeutils import utcnow
from tests.applications.helpers import open_competition
from tests.conftest import BACKEND, CSRF_RE, login
from tests.sql_statements import recorded_statements

LIST = "/manage/applications"


def _statements(db, fn):
    with recorded_statements(db) as seen:
        response = fn()
    # SQLite's BEGIN IMMEDIATE is no query of the page
    return response, [s for s in seen if not s.startswith("BEGIN")]


def _without_tokens(html: str) -> str:
    return CSRF_RE.sub('name="csrf_token" value="-"', html)


@pytest.fixture
def comp(db, make_user):
    comp = open_competition(db, questions=False)
    founder = make_user(Role.FOUNDER, email="founder@example.cn")
    for i in range(3):
        team = Team(name=f"南湖团队{i}", created_by_id=founder.id)
        team.members.append(TeamMember(is_lead=True, name=f"队长{i}"))
        db.session.add(Application(competition=comp, team=team, track=comp.tracks[0], project_name=f"项目{i}",
                                   status="submitted", submitted_at=utcnow(), version=1))
    db.session.commit()
    return comp


@pytest.fixture
def boss(client, make_user):
    user = make_user(Role.MANAGER, email="boss@example.cn", name="王主任")
    login(client, user)
    return user


def test_a_repeated_view_is_one_query_and_the_same_page(db, comp, boss, client):
    first = client.get(LIST)
    assert first.status_code == 200
    again, statements = _statements(db, lambda: client.get(LIST))
    assert again.status_code == 200
    assert len(statements) == 1, statements  # the login query, which also brings the data versions
    assert _without_tokens(again.get_data(as_text=True)) == _without_tokens(first.get_data(as_text=True))
    assert "南湖团队2" in again.get_data(as_text=True)


def test_the_cached_page_equals_a_fresh_render(app, db, comp, boss, client):
    client.get(LIST)
    cached = client.get(LIST).get_data(as_text=True)
    app.config["PAGE_CACHE"] = False
    fresh = client.get(LIST).get_data(as_text=True)
    assert _without_tokens(cached) == _without_tokens(fresh)


def test_each_manager_gets_their_own_name_badge_and_token(app, db, comp, boss, client, make_user):
    client.get(LIST)  # stored by the first manager
    other = make_user(Role.MANAGER, email="li@example.cn", name="李<b>经理</b>")
    notify(other, "test", "一条通知", "A notice")
    notify(other, "test", "两条通知", "Another notice")
    db.session.commit()
    second = app.test_client()  # a browser of its own
    login(second, other)
    page, statements = _statements(db, lambda: second.get(LIST))
    html = page.get_data(as_text=True)
    assert len(statements) == 1  # served from what the first manager's view stored
    assert '<span class="navbar-text px-md-2 small" id="current-user">李&lt;b&gt;经理&lt;/b&gt;</span>' in html
    assert "王主任" not in html
    assert 'id="unread-count">2</span>' in html
    # the form on the cached page carries this manager's token, and it works
    token = CSRF_RE.search(html).group(1)
    app_id = db.session.scalar(db.select(Application.id).limit(1))
    done = second.post("/manage/applications/bulk-status",
                       data={"csrf_token": token, "ids": [str(app_id)], "to_status": "in_review", "note": ""})
    assert done.status_code == 302
    # and the first manager's page still shows their name, no badge
    html = client.get(LIST).get_data(as_text=True)
    assert 'id="current-user">王主任</span>' in html and 'id="unread-count"' not in html


@pytest.mark.parametrize("how", ["orm", "raw sql"])
def test_any_write_to_a_shown_table_changes_the_page(db, comp, boss, client, how):
    assert "南湖团队1" in client.get(LIST).get_data(as_text=True)
    team = db.session.scalar(db.select(Team).where(Team.name == "南湖团队1"))
    if how == "orm":
        team.name = "嘉兴新名字"
        team.members[0].name = "新队长"
    else:  # a bulk statement or a data fix in psql: no ORM event fires, the trigger still does
        db.session.execute(text("UPDATE teams SET name = '嘉兴新名字' WHERE id = :id"), {"id": team.id})
        db.session.execute(text("UPDATE team_members SET name = '新队长' WHERE team_id = :id"), {"id": team.id})
    db.session.commit()
    html = client.get(LIST).get_data(as_text=True)
    assert "嘉兴新名字" in html and "新队长" in html and "南湖团队1" not in html


def test_deleted_rows_and_new_tracks_show_at_once(db, comp, boss, client):
    client.get(LIST)
    db.session.execute(text("DELETE FROM applications WHERE project_name = '项目0'"))
    db.session.commit()
    html = client.get(LIST).get_data(as_text=True)
    assert "项目0" not in html and "项目1" in html


def test_a_page_with_a_message_is_not_stored(db, comp, boss, client):
    client.get(LIST)
    app_id = db.session.scalar(db.select(Application.id).limit(1))
    token = CSRF_RE.search(client.get(LIST).get_data(as_text=True)).group(1)
    client.post("/manage/applications/bulk-status",
                data={"csrf_token": token, "ids": [str(app_id)], "to_status": "in_review", "note": ""})
    with_message = client.get(LIST).get_data(as_text=True)
    assert 'class="alert alert-success' in with_message
    after = client.get(LIST).get_data(as_text=True)
    assert 'class="alert' not in after  # the message was this one request's, never replayed


def test_languages_and_queries_are_kept_apart(db, comp, boss, client):
    zh = client.get(LIST).get_data(as_text=True)
    client.set_cookie("lang", "en")
    en = client.get(LIST).get_data(as_text=True)
    assert 'lang="zh-CN"' in zh and 'lang="en"' in en
    filtered = client.get(LIST + "?q=%E9%A1%B9%E7%9B%AE2").get_data(as_text=True)  # q=项目2
    assert filtered.count('name="ids"') == 1


def test_text_that_looks_like_a_hole_is_shown_as_typed(db, comp, boss, client):
    from incubator import pagecache

    fake = "\ue000csrf-0000\ue001" + pagecache.HOLE_NAME.split("-")[0]
    db.session.execute(text("UPDATE applications SET project_name = :p WHERE project_name = '项目2'"), {"p": fake})
    db.session.commit()
    client.get(LIST)
    html = client.get(LIST).get_data(as_text=True)
    assert fake in html
    assert not re.search(r"\ue000(csrf|name|badge)-[0-9a-f]{16}\ue001", html)  # no real hole ever leaks


def test_gzip_clients_get_the_same_page_compressed_with_their_own_holes(app, db, comp, boss, client, make_user):
    import gzip

    plain = client.get(LIST).get_data(as_text=True)
    zipped = client.get(LIST, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    html = gzip.decompress(zipped.data).decode()
    assert _without_tokens(html) == _without_tokens(plain)
    other = make_user(Role.MANAGER, email="zhao@example.cn", name="赵科长")
    second = app.test_client()
    login(second, other)
    theirs = gzip.decompress(second.get(LIST, headers={"Accept-Encoding": "gzip"}).data).decode()
    assert 'id="current-user">赵科长</span>' in theirs and "王主任" not in theirs
    token = CSRF_RE.search(theirs).group(1)
    app_id = db.session.scalar(db.select(Application.id).limit(1))
    assert second.post("/manage/applications/bulk-status", data={
        "csrf_token": token, "ids": [str(app_id)], "to_status": "in_review", "note": ""}).status_code == 302


@pytest.mark.skipif(BACKEND != "postgresql", reason="read-only requests run in autocommit on PostgreSQL only")
def test_a_read_only_page_that_tried_to_write_fails_and_writes_nothing(app, db, comp, boss, client, monkeypatch):
    import logging

    from incubator.applications import manage

    def sneaky_render():
        db.session.execute(text("UPDATE teams SET name = 'changed by a GET'"))
        return "never"

    monkeypatch.setattr(manage, "_render_list", sneaky_render)
    logging.disable(logging.ERROR)  # the 500 is logged on purpose
    try:
        response = client.get(LIST)
    finally:
        logging.disable(logging.NOTSET)
    assert response.status_code == 500
    assert db.session.scalar(text("SELECT count(*) FROM teams WHERE name = 'changed by a GET'")) == 0


@pytest.mark.skipif(BACKEND != "postgresql", reason="read-only requests run in autocommit on PostgreSQL only")
def test_a_read_only_page_runs_in_autocommit_and_leaves_the_pool_transactional(app, db, comp, boss, client,
                                                                               monkeypatch):
    from incubator.applications import manage

    modes = []
    original = manage._render_list

    def spying_render():
        modes.append(db.session.connection().connection.dbapi_connection.autocommit)
        return original()

    monkeypatch.setattr(manage, "_render_list", spying_render)
    assert client.get(LIST).status_code == 200
    assert modes == [True]  # no BEGIN, no ROLLBACK: psycopg sends neither in autocommit
    # the next ordinary request gets a normal transaction from the same pool
    client.get("/")
    with db.engine.connect() as conn:
        assert conn.connection.dbapi_connection.autocommit is False
    notify(boss, "test", "新通知", "New notice")
    db.session.commit()
    assert 'id="unread-count">1</span>' in client.get("/").get_data(as_text=True)


def test_every_table_of_every_scope_has_its_trigger(db):
    """pagecache/models.py SCOPES and the migrations' triggers must agree, or a cached page would
    miss that table's changes."""
    from incubator.pagecache.models import SCOPES

    if BACKEND == "postgresql":
        rows = db.session.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal")).all()
        have = {(table, name) for table, name in rows}
        for scope, tables in SCOPES.items():
            for table in tables:
                assert (table, f"{table}_bumps_{scope}") in have, (scope, table)
    else:
        names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        for scope, tables in SCOPES.items():
            for table in tables:
                for operation in ("insert", "update", "delete"):
                    assert f"{table}_{operation}_bumps_{scope}" in names, (scope, table, operation)


@pytest.mark.parametrize("statement, writes", [
    ("SELECT 1", False),
    ("  select updated_at from scores", False),
    ("WITH t AS (SELECT 1) SELECT * FROM t", False),
    ("INSERT INTO teams VALUES (1)", True),
    ("\n update teams set name = 'x'", True),
    ("DELETE FROM teams", True),
    ("WITH w AS (INSERT INTO scores DEFAULT VALUES RETURNING id) SELECT id FROM w", True),
    ("with w as (update scores set total = 1 returning id) select id from w", True),
    ("TRUNCATE teams", True),
])
def test_writes_are_told_from_reads_for_the_autocommit_guard(statement, writes):
    from incubator.pagecache import is_write

    assert is_write(statement) is writes
