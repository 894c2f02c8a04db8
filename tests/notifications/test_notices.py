from __future__ import annotations

from incubator.enums import Role
from tests.conftest import post_form
from tests.sql_statements import recorded_statements


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, db, make_user, login_as):
    from incubator.notifications.services import notify

    user = make_user(Role.FOUNDER)
    first = notify(user, "result", "你的申请已通过初赛", "Your application passed the preliminary round", "/dashboard")
    second = notify(user, "other", "第二条", "Second")
    db.session.commit()
    login_as(user)
    html = client.get("/notices/").get_data(as_text=True)
    assert '<span class="badge rounded-pill text-bg-warning" id="unread-count">2</span>' in html

    response = post_form(client, f"/notices/{first.id}/open", {}, csrf_page="/notices/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    db.session.expire_all()
    assert first.read_at is not None and second.read_at is None
    html = client.get("/notices/").get_data(as_text=True)
    assert 'id="unread-count">1</span>' in html


def test_opening_another_persons_notice_is_404(client, db, make_user, login_as):
    from incubator.notifications.services import notify

    owner, other = make_user(Role.FOUNDER), make_user(Role.FOUNDER)
    notice = notify(owner, "x", "私人通知", "Private")
    db.session.commit()
    login_as(other)
    response = post_form(client, f"/notices/{notice.id}/open", {}, csrf_page="/notices/")
    assert response.status_code == 404
    db.session.expire_all()
    assert notice.read_at is None


def test_notice_with_external_link_redirects_to_notices_page(client, db, make_user, login_as):
    from incubator.notifications.services import notify

    user = make_user(Role.FOUNDER)
    notice = notify(user, "x", "外链", "External", "https://evil.example/")
    db.session.commit()
    login_as(user)
    response = post_form(client, f"/notices/{notice.id}/open", {}, csrf_page="/notices/")
    assert response.headers["Location"] == "/notices/"


def test_open_notice_without_csrf_is_rejected(client, db, make_user, login_as):
    from incubator.notifications.services import notify

    user = make_user(Role.FOUNDER)
    notice = notify(user, "x", "通知", "Notice")
    db.session.commit()
    login_as(user)
    assert client.post(f"/notices/{notice.id}/open").status_code == 400


def test_unread_count_is_one_query_per_request(app, db, make_user):
    from incubator.notifications.services import notify, unread_count

    user = make_user(Role.FOUNDER)
    for i in range(5):
        notify(user, "x", f"通知{i}", f"Notice {i}")
    db.session.commit()
    user.id  # load the user now so only the notice queries are counted
    with recorded_statements(db) as statements, app.test_request_context():
        assert unread_count(user) == 5
        assert unread_count(user) == 5  # the navigation may ask twice; one query
    on_notices = [s for s in statements if "notices" in s]
    assert len(on_notices) == 1 and "count(notices.id)" in on_notices[0].lower()
