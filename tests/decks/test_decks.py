"""Deck uploads end to end over HTTP on real SeaweedFS: presigned POST, confirm, versions,
refusals (ELF renamed .pdf, zip bombs, over the limit, tampered policy), the no-JS fallback,
downloads, access (404 for others), CSRF, the store going down, and the sweep."""
from __future__ import annotations

import base64
import re
import io
import json
import urllib.parse
from datetime import timedelta

import pytest
import sqlalchemy as sa

from s3_helpers import http, multipart_post
from tests.conftest import csrf_from, login, post_form

from .conftest import elf_bytes, pdf_bytes, pptx_bytes, zip_bomb_many_entries, zip_bomb_ratio

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
JSON = {"Accept": "application/json"}


def logout(client):
    post_form(client, "/logout", {}, csrf_page="/")


def deck_page(application) -> str:
    return f"/applications/{application.id}/deck"


def ask_ticket(client, application, filename="商业计划书.pdf", size=2000):
    token = csrf_from(client, deck_page(application))
    return client.post(f"{deck_page(application)}/ticket", data={"filename": filename, "size": str(size)},
                       headers={**JSON, "X-CSRFToken": token})


def confirm(client, application, ticket_id, *, with_csrf=True, json_answer=True):
    headers = dict(JSON) if json_answer else {}
    if with_csrf:
        headers["X-CSRFToken"] = csrf_from(client, deck_page(application))
    return client.post(f"{deck_page(application)}/confirm", data={"ticket_id": str(ticket_id)}, headers=headers)


def upload(client, application, content: bytes, filename="商业计划书.pdf", file_type="application/pdf"):
    """What decks.js does: ticket, POST to the store, confirm. Returns (store response, confirm response)."""
    answer = ask_ticket(client, application, filename, len(content))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    ticket = answer.get_json()
    stored = multipart_post(ticket["url"], ticket["fields"], content, filename=filename, file_type=file_type)
    return ticket, stored, confirm(client, application, ticket["ticket_id"])


def decks(db):
    from incubator.decks.models import Deck

    db.session.expire_all()
    return list(db.session.scalars(sa.select(Deck).order_by(Deck.version)))


def ticket_row(db, ticket_id):
    from incubator.storage.models import UploadTicket

    db.session.expire_all()
    return db.session.get(UploadTicket, ticket_id)


def test_upload_pdf_then_pptx_keeps_versions_and_latest_is_current(db, client, founder, application, storage):
    login(client, founder)
    ticket, stored, confirmed = upload(client, application, pdf_bytes())
    assert stored.status in (200, 201, 204), stored.body
    assert confirmed.status_code == 200 and confirmed.get_json()["version"] == 1
    assert ticket["fields"]["key"].startswith(f"decks/a{application.id}/") and "商业" not in ticket["fields"]["key"]

    _t, _s, second = upload(client, application, pptx_bytes(), "路演.pptx", PPTX_TYPE)
    assert second.status_code == 200 and second.get_json()["version"] == 2
    rows = decks(db)
    assert [(d.version, d.kind, d.original_filename) for d in rows] == [(1, "pdf", "商业计划书.pdf"), (2, "pptx", "路演.pptx")]
    assert rows[0].size_bytes == len(pdf_bytes()) and storage.head(rows[0].key) is not None  # v1 kept
    page = client.get(deck_page(application)).get_data(as_text=True)
    assert "商业计划书.pdf" in page and "路演.pptx" in page and "当前" in page
    assert "路演.pptx" in client.get(f"/applications/{application.id}").get_data(as_text=True)


@pytest.mark.parametrize("content, filename, file_type, words", [
    (elf_bytes(), "deck.pdf", "application/pdf", "不是 PDF"),
    (zip_bomb_many_entries(), "bomb.pptx", PPTX_TYPE, "解压后数据过大"),
    (zip_bomb_ratio(), "bomb.pptx", PPTX_TYPE, "解压后数据过大"),
    (pdf_bytes(), "fake.pptx", PPTX_TYPE, "不是 PowerPoint"),
], ids=["elf-renamed-pdf", "zip-many-entries", "zip-ratio", "pdf-renamed-pptx"])
def test_bad_content_is_refused_deleted_and_earlier_deck_kept(db, client, founder, application, storage,
                                                              content, filename, file_type, words):
    login(client, founder)
    upload(client, application, pdf_bytes())  # v1, must survive
    ticket, stored, refused = upload(client, application, content, filename, file_type)
    assert stored.status in (200, 201, 204)
    assert refused.status_code == 400
    assert words in refused.get_json()["error"]
    assert storage.head(ticket["fields"]["key"]) is None
    assert ticket_row(db, ticket["ticket_id"]).deleted_at is not None
    assert [d.version for d in decks(db)] == [1]
    # The page without JavaScript shows the reason too (the no-JS path runs the same checks).
    token = csrf_from(client, deck_page(application))
    page = client.post(deck_page(application), data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")
    assert page.status_code == 400 and words in page.get_data(as_text=True)
    assert [d.version for d in decks(db)] == [1]


def test_file_over_the_limit_is_refused_by_the_store_policy(app, db, client, founder, application, storage):
    app.config["DECK_MAX_BYTES"] = 1000
    login(client, founder)
    too_big = ask_ticket(client, application, size=5000)
    assert too_big.status_code == 400 and "超过" in too_big.get_json()["error"]
    # A browser that lies about the size: the signed content-length-range stops it at the store.
    answer = ask_ticket(client, application, size=900).get_json()
    stored = multipart_post(answer["url"], answer["fields"], pdf_bytes(5000))
    assert stored.status == 400 and "EntityTooLarge" in stored.body
    refused = confirm(client, application, answer["ticket_id"])
    assert refused.status_code == 400 and "未上传成功" in refused.get_json()["error"]
    assert decks(db) == [] and storage.head(answer["fields"]["key"]) is None
    # Without JavaScript the server refuses it before streaming anything to the store.
    token = csrf_from(client, deck_page(application))
    page = client.post(deck_page(application), data={"csrf_token": token,
                                                     "file": (io.BytesIO(pdf_bytes(5000)), "big.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 400 and "超过" in page.get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["policy-limit", "other-key"])
def test_tampered_presigned_policy_is_refused_by_the_store(db, client, founder, application, storage, tamper):
    login(client, founder)
    answer = ask_ticket(client, application).get_json()
    fields = dict(answer["fields"])
    if tamper == "policy-limit":
        policy = json.loads(base64.b64decode(fields["policy"]))
        policy["conditions"] = [["content-length-range", 1, 10**12] if isinstance(c, list) and
                                c[0] == "content-length-range" else c for c in policy["conditions"]]
        fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    else:
        fields["key"] = f"decks/a{application.id}/chosen-by-attacker.pdf"
    stored = multipart_post(answer["url"], fields, pdf_bytes())
    assert stored.status == 403, stored.body
    assert storage.head(fields["key"]) is None
    refused = confirm(client, application, answer["ticket_id"])
    assert refused.status_code == 400 and decks(db) == []


def test_confirm_without_csrf_is_refused(db, client, founder, application):
    login(client, founder)
    answer = ask_ticket(client, application).get_json()
    multipart_post(answer["url"], answer["fields"], pdf_bytes())
    response = confirm(client, application, answer["ticket_id"], with_csrf=False, json_answer=False)
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
    assert decks(db) == []
    assert confirm(client, application, answer["ticket_id"]).status_code == 200  # nothing was lost


def test_another_founders_ids_are_404_in_every_deck_url(db, client, founder, application, make_user):
    login(client, founder)
    answer = ask_ticket(client, application).get_json()
    multipart_post(answer["url"], answer["fields"], pdf_bytes())
    assert confirm(client, application, answer["ticket_id"]).status_code == 200
    deck = decks(db)[0]
    pending = ask_ticket(client, application).get_json()  # a ticket of the first founder, not confirmed
    logout(client)

    other = make_user("founder", email="other@example.cn")
    login(client, other)
    token = csrf_from(client, "/apply")
    base = deck_page(application)
    assert client.get(base).status_code == 404
    assert client.post(base, data={"csrf_token": token, "file": (io.BytesIO(pdf_bytes()), "x.pdf")},
                       content_type="multipart/form-data").status_code == 404
    assert client.post(f"{base}/ticket", data={"filename": "x.pdf", "size": "10", "csrf_token": token}).status_code == 404
    assert client.post(f"{base}/confirm", data={"ticket_id": str(pending["ticket_id"]), "csrf_token": token}).status_code == 404
    assert client.get(f"/decks/{deck.id}/download").status_code == 404
    assert client.get("/decks/999999/download").status_code == 404

    # Their own application cannot borrow the first founder's ticket either.
    from incubator.applications.services import start_application

    own = start_application(other, application.competition)
    db.session.commit()
    assert client.post(f"{deck_page(own)}/confirm", data={"ticket_id": str(pending["ticket_id"]),
                                                          "csrf_token": token}).status_code == 404
    assert len(decks(db)) == 1


def test_no_javascript_upload_goes_through_the_server(db, client, founder, application, storage):
    login(client, founder)
    token = csrf_from(client, deck_page(application))
    content = pdf_bytes(700_000)  # above werkzeug's 500 KB in-memory limit: spooled to a temp file
    response = client.post(deck_page(application), data={"csrf_token": token,
                                                         "file": (io.BytesIO(content), "商业计划书.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    (deck,) = decks(db)
    assert deck.size_bytes == len(content) and storage.read_range(deck.key, 0, 4) == b"%PDF-"
    assert "商业计划书.pdf" in client.get(deck_page(application)).get_data(as_text=True)


def test_download_is_a_short_presigned_link_with_the_original_name(db, client, founder, application, make_user):
    from incubator.enums import Role

    login(client, founder)
    upload(client, application, pdf_bytes())
    deck = decks(db)[0]
    response = client.get(f"/decks/{deck.id}/download")
    assert response.status_code == 302
    url = response.headers["Location"]
    assert "X-Amz-Expires=60" in url
    fetched = http(url)
    assert fetched.status == 200 and fetched.body.startswith("%PDF-")
    disposition = urllib.parse.unquote(fetched.headers["Content-Disposition"])
    assert "attachment" in disposition and "商业计划书.pdf" in disposition

    logout(client)
    login(client, make_user(Role.MANAGER, email="manager@example.cn"))
    assert client.get(f"/decks/{deck.id}/download").status_code == 302
    detail = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert f"/decks/{deck.id}/download" in detail and "商业计划书.pdf" in detail
    logout(client)
    login(client, make_user(Role.JUDGE, email="judge@example.cn"))
    assert client.get(f"/decks/{deck.id}/download").status_code == 404


def test_can_download_deck_team_and_managers_not_unassigned_judges(db, founder, application, make_user):
    from flask_login import AnonymousUserMixin

    from incubator.decks import models
    from incubator.enums import Role

    member = make_user("founder", email="member@example.cn")
    application.team.members[0].team.members.append(
        type(application.team.members[0])(name="徐一鸣", user_id=member.id, position=1))
    db.session.commit()
    judge = make_user(Role.JUDGE, email="judge@example.cn")
    assert models.can_download_deck(founder, application)
    assert models.can_download_deck(member, application)
    assert models.can_download_deck(make_user(Role.MANAGER, email="m@example.cn"), application)
    assert not models.can_download_deck(make_user("founder", email="x@example.cn"), application)
    assert not models.can_download_deck(AnonymousUserMixin(), application)
    assert not models.can_download_deck(judge, application)  # not assigned to this entry
    # Assigned judges: tests/judging/test_judge_decks.py


def test_store_down_during_upload_and_download_then_works_after_restart(db, client, founder, application,
                                                                       seaweedfs):
    login(client, founder)
    upload(client, application, pdf_bytes())
    deck = decks(db)[0]
    page_before = client.get(deck_page(application)).get_data(as_text=True)
    assert "商业计划书.pdf" in page_before
    seaweedfs.stop()
    try:
        answer = ask_ticket(client, application)
        assert answer.status_code == 503 and "暂时不可用" in answer.get_json()["error"]
        down = client.get(f"/decks/{deck.id}/download")
        assert down.status_code == 503 and "暂时不可用" in down.get_data(as_text=True)
        token = csrf_from(client, deck_page(application))
        fallback = client.post(deck_page(application), data={"csrf_token": token,
                                                             "file": (io.BytesIO(pdf_bytes()), "v2.pdf")},
                               content_type="multipart/form-data")
        assert fallback.status_code == 503
        assert client.get(f"/applications/{application.id}").status_code == 200  # application intact
    finally:
        seaweedfs.start()
    assert [d.version for d in decks(db)] == [1]
    _t, _s, confirmed = upload(client, application, pdf_bytes(), "v2.pdf")
    assert confirmed.status_code == 200 and [d.version for d in decks(db)] == [1, 2]
    assert http(client.get(f"/decks/{deck.id}/download").headers["Location"]).status == 200


def test_confirmed_deck_is_not_replaced_by_posting_its_upload_form_again(db, client, founder, application, storage):
    """The presigned POST stays valid for an hour after the deck was confirmed. Whoever still holds
    it may POST another file to the same key: the store takes it, but the deck is a copy under a
    key no form names, so judges and managers still download what was checked; the late object
    is an orphan for the sweep, which leaves the deck alone."""
    from incubator.storage.services import remove_unconfirmed_uploads

    login(client, founder)
    original = pdf_bytes(3000)
    ticket, stored, confirmed = upload(client, application, original)
    assert stored.status in (200, 201, 204) and confirmed.status_code == 200
    upload_key = ticket["fields"]["key"]
    (deck,) = decks(db)

    replaced = b"%PDF-1.7\n" + "换成了别的内容".encode() * 50 + b"\n%%EOF"
    again = multipart_post(ticket["url"], ticket["fields"], replaced)
    assert again.status in (200, 201, 204), again.body  # the form is still valid: the store takes it
    fetched = http(client.get(f"/decks/{deck.id}/download").headers["Location"])
    assert fetched.status == 200 and fetched.body.startswith("%PDF-") and "换成了别的内容" not in fetched.body
    assert storage.read_range(deck.key, 0, len(original) + 10) == original
    assert deck.key != upload_key and deck.key.startswith(f"decks/a{application.id}/")
    assert confirm(client, application, ticket["ticket_id"]).status_code == 409  # no second deck from it
    assert [d.version for d in decks(db)] == [1]

    # The sweep (a cutoff a minute ahead: everything counts as old) removes the late object, not the deck.
    remove_unconfirmed_uploads(older_than_hours=-1 / 60)
    assert storage.head(upload_key) is None
    assert storage.read_range(deck.key, 0, len(original) + 10) == original
    assert http(client.get(f"/decks/{deck.id}/download").headers["Location"]).status == 200


def test_unconfirmed_upload_is_removed_by_the_cleanup_job(db, client, founder, application, storage):
    from incubator.storage.models import UploadTicket
    from incubator.storage.services import remove_unconfirmed_uploads
    from incubator.timeutils import utcnow

    login(client, founder)
    answer = ask_ticket(client, application).get_json()
    multipart_post(answer["url"], answer["fields"], pdf_bytes())
    db.session.execute(sa.update(UploadTicket).where(UploadTicket.id == answer["ticket_id"])
                       .values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert remove_unconfirmed_uploads(older_than_hours=24)["tickets_removed"] == 1
    assert storage.head(answer["fields"]["key"]) is None
    assert confirm(client, application, answer["ticket_id"]).status_code == 409
    assert decks(db) == []


def test_a_competition_that_requires_a_deck_refuses_submit_until_one_is_confirmed(db, client, founder, storage):
    """The deck is part of a complete application when the competition says so: the review page
    names it with a link to the deck step, submit is refused with the draft kept, and a confirmed
    deck (not a refused upload) unlocks it."""
    from incubator.applications.models import Application
    from incubator.applications.services import start_application
    from tests.applications.helpers import PROJECT, fill_everything, open_competition

    comp = open_competition(db, questions=True)
    comp.deck_required = True
    db.session.commit()
    application = start_application(founder, comp)
    db.session.commit()
    login(client, founder)
    project = {**PROJECT, "track_id": str(comp.tracks[0].id)}
    assert post_form(client, f"/applications/{application.id}/project", project).status_code == 302
    fill_everything(client, post_form, application.id, comp.questions[0].id)
    review = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "上传路演材料" in review and f'href="/applications/{application.id}/deck"' in review
    refused = post_form(client, f"/applications/{application.id}/submit", {},
                        csrf_page=f"/applications/{application.id}")
    assert refused.status_code == 409 and "上传路演材料" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "draft"
    _, _, bad = upload(client, application, elf_bytes(), filename="deck.pdf")  # refused by content
    assert bad.status_code != 200
    still = post_form(client, f"/applications/{application.id}/submit", {},
                      csrf_page=f"/applications/{application.id}")
    assert still.status_code == 409
    _, _, ok = upload(client, application, pdf_bytes())
    assert ok.status_code == 200
    done = post_form(client, f"/applications/{application.id}/submit", {},
                     csrf_page=f"/applications/{application.id}")
    assert done.status_code == 302, " ".join(re.sub(r"<[^>]+>", " ", done.get_data(as_text=True)).split())[-1200:]
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "submitted"


def test_the_deck_rule_is_set_on_the_competition_form(db, client, make_user):
    from incubator.competitions.models import Competition

    manager = make_user("manager", email="deckrule@example.cn")
    login(client, manager)
    form = client.get("/manage/competitions/new").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="deck_required"[^>]*>', form).group(0)
    assert "checked" in box  # proposed for a new competition
    r = post_form(client, "/manage/competitions/new", {"name_zh": "无需计划书的比赛", "max_founder_age": "35"})
    assert r.status_code == 302
    comp = db.session.scalar(sa.select(Competition).where(Competition.name_zh == "无需计划书的比赛"))
    assert comp.deck_required is False  # the box was left unticked
    assert "选填" in client.get(f"/manage/competitions/{comp.id}").get_data(as_text=True)
