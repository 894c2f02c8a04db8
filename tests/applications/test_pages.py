"""Every page of the two features renders for the role it is for, in Chinese and in English."""
from __future__ import annotations

import pytest

from incubator.applications.models import Application
from tests.conftest import login


@pytest.fixture
def demo(app, db, make_user):
    from incubator.applications.demo import seed as seed_applications
    from incubator.competitions.demo import seed as seed_competition
    from incubator.demo import seed as seed_users

    seed_users()
    comp = seed_competition()
    assert seed_applications(comp) == 3
    db.session.commit()
    return comp


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_pages_render_for_their_roles(app, client, db, demo, lang):
    from incubator.accounts.services import find_user_by_email
    from incubator.demo import DEMO_PASSWORD

    comp = demo
    client.set_cookie("lang", lang)
    login(client, "manager@qcc.demo", DEMO_PASSWORD)
    rnd, crit = comp.rounds[0], comp.rounds[0].criteria[0]
    urls = ["/manage/competitions/", "/manage/competitions/new", f"/manage/competitions/{comp.id}",
            f"/manage/competitions/{comp.id}/edit", f"/manage/competitions/{comp.id}/tracks/new",
            f"/manage/competitions/{comp.id}/tracks/{comp.tracks[0].id}/edit",
            f"/manage/competitions/{comp.id}/rounds/new", f"/manage/competitions/{comp.id}/rounds/{rnd.id}",
            f"/manage/competitions/{comp.id}/rounds/{rnd.id}/edit",
            f"/manage/competitions/{comp.id}/rounds/{rnd.id}/criteria/new",
            f"/manage/competitions/{comp.id}/criteria/{crit.id}/edit",
            f"/manage/competitions/{comp.id}/questions/new",
            f"/manage/competitions/{comp.id}/questions/{comp.questions[1].id}/edit",
            "/manage/applications", f"/manage/applications?competition_id={comp.id}&sort=team"]
    urls += [f"/manage/applications/{a.id}" for a in db.session.scalars(db.select(Application))]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
    page = client.get("/manage/applications").get_data(as_text=True)
    assert ("参赛申请" in page) == (lang == "zh_CN")

    founder_client = app.test_client()
    founder_client.set_cookie("lang", lang)
    login(founder_client, "founder.he@qcc.demo", DEMO_PASSWORD)
    draft = db.session.scalar(db.select(Application).where(Application.status == "draft"))
    assert draft.team.created_by_id == find_user_by_email("founder.he@qcc.demo").id
    for url in ("/apply", "/founder", f"/applications/{draft.id}", f"/applications/{draft.id}/project",
                f"/applications/{draft.id}/team", f"/applications/{draft.id}/company",
                f"/applications/{draft.id}/questions", f"/applications/{draft.id}/withdraw"):
        assert founder_client.get(url).status_code == 200, url
    review = founder_client.get(f"/applications/{draft.id}").get_data(as_text=True)
    assert 'id="missing-items"' in review  # the team name is still empty


def test_application_link_matches_the_review_route(app, db, demo):
    from flask import url_for

    from incubator.applications.services import application_link

    application = db.session.scalar(db.select(Application))
    with app.test_request_context():
        assert application_link(application) == url_for("applications.review", application_id=application.id)
