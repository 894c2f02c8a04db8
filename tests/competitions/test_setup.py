from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.audit.models import AuditRecord
from incubator.competitions.models import Competition, Criterion, Round, Track
from incubator.enums import Role
from tests.conftest import post_form

BASE = "/manage/competitions"


@pytest.fixture
def manager(make_user, login_as):
    user = make_user(Role.MANAGER, email="boss@example.cn")
    login_as(user)
    return user


def test_competition_setup_through_views_then_publish(client, db, manager):
    r = post_form(client, f"{BASE}/new", {"name_zh": "2026 青聚南湖·创赢未来", "name_en": "Youth 2026",
                                         "opens_at": "2026-03-01T09:00", "closes_at": "2026-04-30T17:00",
                                         "max_founder_age": "35"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    comp = db.session.scalar(db.select(Competition))
    # typed in Beijing time, stored in UTC
    assert comp.opens_at.hour == 1 and comp.closes_at.hour == 9
    cid = comp.id
    # publishing without a track is refused with a reason
    r = post_form(client, f"{BASE}/{cid}/publish", {}, csrf_page=f"{BASE}/{cid}", follow_redirects=True)
    assert "赛道" in r.get_data(as_text=True) or "track" in r.get_data(as_text=True)
    assert db.session.get(Competition, cid).status == "draft"

    for name in ("生物技术", "人工智能"):
        assert post_form(client, f"{BASE}/{cid}/tracks/new", {"name_zh": name}).status_code == 302
    r = post_form(client, f"{BASE}/{cid}/tracks/new", {"name_zh": "生物技术"})
    assert r.status_code == 400  # duplicate name, shown next to the field
    tracks = db.session.scalars(db.select(Track).order_by(Track.position)).all()
    assert [t.name_zh for t in tracks] == ["生物技术", "人工智能"]
    post_form(client, f"{BASE}/{cid}/tracks/{tracks[1].id}/move/up", {}, csrf_page=f"{BASE}/{cid}")
    db.session.expire_all()
    assert [t.name_zh for t in db.session.scalars(db.select(Track).order_by(Track.position))] == ["人工智能", "生物技术"]

    r = post_form(client, f"{BASE}/{cid}/rounds/new", {"name_zh": "初赛", "judges_per_entry": "3",
                                                      "aggregation": "trimmed_mean",
                                                      "advancement_kind": "top_n_per_track",
                                                      "advancement_value": "10"})
    assert r.status_code == 302
    rnd = db.session.scalar(db.select(Round))
    for name, weight in (("技术创新性", "30"), ("市场前景", "25"), ("团队能力", "25")):
        r = post_form(client, f"{BASE}/{cid}/rounds/{rnd.id}/criteria/new",
                      {"name_zh": name, "weight": weight, "max_score": "10", "step": "0.5"})
        assert r.status_code == 302
    page = client.get(f"{BASE}/{cid}/rounds/{rnd.id}").get_data(as_text=True)
    assert 'id="weight-warning"' in page  # 80, not 100
    post_form(client, f"{BASE}/{cid}/rounds/{rnd.id}/criteria/new",
              {"name_zh": "商业模式", "weight": "20", "max_score": "10", "step": "1"})
    assert 'id="weight-warning"' not in client.get(f"{BASE}/{cid}/rounds/{rnd.id}").get_data(as_text=True)
    r = post_form(client, f"{BASE}/{cid}/rounds/{rnd.id}/criteria/new",
                  {"name_zh": "零权重", "weight": "0", "max_score": "10", "step": "1"})
    assert r.status_code == 400
    assert db.session.scalar(db.select(db.func.sum(Criterion.weight))) == Decimal(100)

    r = post_form(client, f"{BASE}/{cid}/questions/new", {"label_zh": "是否愿意落户？", "kind": "choice",
                                                         "choices": "愿意\n不愿意", "required": "y"})
    assert r.status_code == 302
    r = post_form(client, f"{BASE}/{cid}/questions/new", {"label_zh": "只有一个选项", "kind": "choice",
                                                         "choices": "唯一"})
    assert r.status_code == 400

    r = post_form(client, f"{BASE}/{cid}/publish", {}, csrf_page=f"{BASE}/{cid}")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Competition, cid).status == "published"
    actions = set(db.session.scalars(db.select(AuditRecord.action)))
    assert {"competition.create", "track.create", "round.create", "criterion.create", "question.create",
            "competition.publish", "tracks.reorder"} <= actions


def test_competition_window_closing_before_opening_refused(client, db, manager):
    r = post_form(client, f"{BASE}/new", {"name_zh": "反了", "opens_at": "2026-04-30T17:00",
                                         "closes_at": "2026-03-01T09:00"})
    assert r.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Competition.id))) == 0


@pytest.mark.parametrize("role", [Role.FOUNDER, Role.JUDGE])
def test_competition_views_refused_for_non_managers(client, db, make_user, login_as, role):
    from incubator.competitions.demo import seed

    comp = seed()
    db.session.commit()
    login_as(make_user(role))
    for url in (f"{BASE}/", f"{BASE}/new", f"{BASE}/{comp.id}", f"{BASE}/{comp.id}/edit",
                f"{BASE}/{comp.id}/tracks/new", f"{BASE}/{comp.id}/rounds/{comp.rounds[0].id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{BASE}/{comp.id}/close", data={}).status_code in (400, 403)


def test_competition_views_send_anonymous_to_login(client, db):
    r = client.get(f"{BASE}/new")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_demo_seed_builds_published_competition_with_rubrics(db):
    from incubator.competitions.demo import seed

    comp = seed()
    db.session.commit()
    assert comp.status == "published"
    assert [t.name_zh for t in comp.tracks] == ["生物技术", "人工智能", "高端装备制造", "微电子"]
    assert [r.name_zh for r in comp.rounds] == ["初赛", "复赛", "决赛"]
    assert all(r.total_weight == 100 and not r.weight_warning for r in comp.rounds)
    assert seed() is comp  # idempotent


def test_competition_items_removed_only_while_draft(client, db, manager):
    from incubator.competitions import services

    comp = services.create_competition(manager, name_zh="测试赛")
    t1 = services.add_track(manager, comp, name_zh="甲")
    services.add_track(manager, comp, name_zh="乙")
    rnd = services.add_round(manager, comp, name_zh="初赛")
    crit = services.add_criterion(manager, rnd, name_zh="创新", weight=Decimal(30), max_score=Decimal(10), step=Decimal(1))
    db.session.commit()
    cid, t1_id, crit_id, rnd_id = comp.id, t1.id, crit.id, rnd.id
    r = post_form(client, f"{BASE}/{cid}/tracks/{t1_id}/delete", {}, csrf_page=f"{BASE}/{cid}")
    assert r.status_code == 302
    db.session.expire_all()
    assert [(t.name_zh, t.position) for t in db.session.get(Competition, cid).tracks] == [("乙", 0)]
    comp = db.session.get(Competition, cid)
    comp.status = "published"
    db.session.commit()
    tid = comp.tracks[0].id
    post_form(client, f"{BASE}/{cid}/tracks/{tid}/delete", {}, csrf_page=f"{BASE}/{cid}")
    db.session.expire_all()
    assert len(db.session.get(Competition, cid).tracks) == 1  # published: kept
    r = post_form(client, f"{BASE}/{cid}/criteria/{crit_id}/delete", {}, csrf_page=f"{BASE}/{cid}/rounds/{rnd_id}")
    assert r.status_code == 302
    assert db.session.get(Criterion, crit_id) is None
    assert db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "criteria.delete"))


@pytest.mark.parametrize("field,value", [("opens_at", "0001-01-01T00:00"), ("closes_at", "9999-12-31T23:59")])
def test_a_date_beyond_any_competition_gets_a_message_not_an_error(client, db, manager, field, value):
    data = {"name_zh": "2026 青聚南湖", "opens_at": "2026-03-01T09:00", "closes_at": "2026-04-30T17:00", field: value}
    r = post_form(client, f"{BASE}/new", data)
    assert r.status_code == 400
    assert "请输入 2000 年至 2100 年之间的日期" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Competition.id))) == 0


@pytest.mark.parametrize("value", ["sNaN", "NaN", "-Infinity", "1e400"])
def test_a_weight_that_is_no_number_gets_a_message_not_an_error(client, db, manager, value):
    comp = Competition(name_zh="大赛")
    comp.rounds.append(Round(name_zh="初赛", position=0))
    db.session.add(comp)
    db.session.commit()
    url = f"{BASE}/{comp.id}/rounds/{comp.rounds[0].id}/criteria/new"
    for field in ("weight", "max_score", "step"):
        data = {"name_zh": "技术创新性", "weight": "30", "max_score": "10", "step": "0.5", field: value}
        r = post_form(client, url, data)
        assert r.status_code == 400, field
        assert "请输入数字" in r.get_data(as_text=True) or "请输入介于" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Criterion.id))) == 0


def test_a_published_question_keeps_what_an_answer_is(client, db, manager):
    """Founders may have answered: the wording may change, options may be added; the kind may not
    change and no option may go."""
    from incubator.competitions.models import CustomQuestion

    comp = Competition(name_zh="大赛", status="published")
    comp.questions.append(CustomQuestion(label_zh="是否愿意落户？", kind="choice", choices=["愿意", "不愿意"],
                                         position=0))
    db.session.add(comp)
    db.session.commit()
    q = comp.questions[0]
    url = f"{BASE}/{comp.id}/questions/{q.id}/edit"
    for data, message in (({"kind": "text", "choices": ""}, "题型"), ({"kind": "choice", "choices": "愿意\n考虑中"}, "缺少的选项：不愿意")):
        r = post_form(client, url, {"label_zh": "是否愿意落户？", **data})
        assert r.status_code == 409 and message in r.get_data(as_text=True)
    db.session.expire_all()
    assert (q.kind, q.choices) == ("choice", ["愿意", "不愿意"])
    r = post_form(client, url, {"label_zh": "是否愿意落户南湖？", "kind": "choice", "choices": "愿意\n不愿意\n考虑中"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (q.label_zh, q.choices) == ("是否愿意落户南湖？", ["愿意", "不愿意", "考虑中"])
