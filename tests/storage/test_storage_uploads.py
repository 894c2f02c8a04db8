"""Upload tickets: issue → browser POST → verify → confirm, and the sweep of abandoned uploads."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from s3_helpers import multipart_post

PDF = b"%PDF-1.7\n" + b"1" * 500


def tickets(db):
    from incubator.storage.models import UploadTicket

    db.session.expire_all()
    return {t.key: t for t in db.session.scalars(sa.select(UploadTicket))}


def test_issue_upload_gives_a_server_chosen_key_and_a_working_form(db, make_user, storage):
    from incubator.storage.services import confirm_upload, issue_upload, verify_upload

    founder = make_user()
    ticket, post = issue_upload(founder, "decks", "C:\\Users\\李雷\\商业计划书.pdf", "application/pdf", 1000)
    db.session.commit()
    assert ticket.key.startswith("decks/") and "商业" not in ticket.key
    assert ticket.original_filename == "商业计划书.pdf"
    assert ticket.owner_id == founder.id and ticket.is_pending
    assert ticket.can_use(founder) and not ticket.can_use(make_user())

    response = multipart_post(post.url, post.fields, PDF)
    assert response.status in (200, 201, 204), response.body
    info = verify_upload(ticket)
    assert info.size == len(PDF)
    assert storage.read_range(ticket.key, 0, 4) == b"%PDF-"
    confirm_upload(ticket, size_bytes=info.size)
    db.session.commit()
    assert tickets(db)[ticket.key].confirmed_at is not None
    assert tickets(db)[ticket.key].size_bytes == len(PDF)


def test_verify_upload_deletes_an_object_of_the_wrong_type(db, in_request, make_user, storage):
    """The store already refuses a POST with another Content-Type; an object that got there some
    other way (or a store that does not enforce the policy) is caught and deleted here."""
    from incubator.errors import DomainError
    from incubator.storage.services import issue_upload, verify_upload

    ticket, _post = issue_upload(make_user(), "decks", "deck.pdf", "application/pdf", 1000)
    db.session.commit()
    storage.put_stream(ticket.key, io.BytesIO(b"<html>"), "text/html")
    with pytest.raises(DomainError):
        verify_upload(ticket)
    assert storage.head(ticket.key) is None


def test_verify_upload_deletes_an_object_over_the_limit(db, in_request, make_user, storage):
    from incubator.errors import DomainError
    from incubator.storage.services import issue_upload, verify_upload

    ticket, _post = issue_upload(make_user(), "decks", "deck.pdf", "application/pdf", 10)
    db.session.commit()
    storage.put_stream(ticket.key, io.BytesIO(PDF), "application/pdf")
    with pytest.raises(DomainError):
        verify_upload(ticket)
    assert storage.head(ticket.key) is None


def test_verify_upload_without_a_file_asks_to_upload_again(db, in_request, make_user):
    from incubator.errors import DomainError
    from incubator.storage.services import issue_upload, verify_upload

    ticket, _post = issue_upload(make_user(), "decks", "deck.pdf", "application/pdf", 1000)
    with pytest.raises(DomainError) as caught:
        verify_upload(ticket)
    assert str(caught.value.message) == "文件未上传成功，请重新上传。"


def make_ticket(db, storage, owner, *, age_hours: float, confirmed: bool, purpose: str = "decks",
                with_object: bool = True):
    from incubator.storage.client import new_key
    from incubator.storage.models import UploadTicket
    from incubator.timeutils import utcnow

    created = utcnow() - timedelta(hours=age_hours)
    ticket = UploadTicket(key=new_key(purpose, 2026), purpose=purpose, owner_id=owner.id,
                          content_type="application/pdf", max_bytes=1000, original_filename="计划书.pdf",
                          created_at=created, confirmed_at=created if confirmed else None)
    db.session.add(ticket)
    key = ticket.key
    db.session.commit()  # and no new transaction after it (on SQLite it would hold the write lock)
    if with_object:
        storage.put_stream(key, io.BytesIO(PDF), "application/pdf")
    return key


def test_remove_unconfirmed_uploads_removes_only_old_unconfirmed_ones(db, make_user, storage):
    from incubator.storage.services import remove_unconfirmed_uploads

    owner = make_user()
    old_unconfirmed = [make_ticket(db, storage, owner, age_hours=25, confirmed=False) for _ in range(3)]
    never_uploaded = make_ticket(db, storage, owner, age_hours=30, confirmed=False, with_object=False)
    old_confirmed = make_ticket(db, storage, owner, age_hours=48, confirmed=True)
    young_unconfirmed = make_ticket(db, storage, owner, age_hours=2, confirmed=False)

    assert remove_unconfirmed_uploads(24)["tickets_removed"] == 4
    rows = tickets(db)
    for key in old_unconfirmed + [never_uploaded]:
        assert storage.head(key) is None
        assert rows[key].deleted_at is not None
    for key in (old_confirmed, young_unconfirmed):
        assert storage.head(key) is not None
        assert rows[key].deleted_at is None

    # Running again finds nothing and changes nothing.
    assert remove_unconfirmed_uploads(24) == {"tickets_removed": 0, "orphans_removed": 0,
                                              "multipart_uploads_aborted": 0}
    assert storage.head(old_confirmed) is not None and storage.head(young_unconfirmed) is not None
    assert tickets(db)[young_unconfirmed].deleted_at is None


def test_remove_unconfirmed_uploads_removes_objects_without_a_ticket(db, make_user, storage, monkeypatch):
    from incubator.storage import services

    # A prefix of this test's own, so objects other tests left under decks/ are not involved.
    monkeypatch.setattr(services, "UPLOAD_PURPOSES", {"sweeptest"})
    owner = make_user()
    kept = make_ticket(db, storage, owner, age_hours=0, confirmed=True, purpose="sweeptest")
    storage.put_stream("sweeptest/2026/orphan", io.BytesIO(PDF), "application/pdf")
    storage.put_stream("elsewhere/2026/not-an-upload", io.BytesIO(PDF), "application/pdf")
    # A put_stream cut off halfway (a killed worker) leaves an unfinished multipart upload.
    storage.client.create_multipart_upload(Bucket=storage.bucket, Key="sweeptest/2026/cut-off")

    # A cutoff a minute ahead: everything here counts as old, whatever the clock precision.
    result = services.remove_unconfirmed_uploads(older_than_hours=-1 / 60)
    assert result == {"tickets_removed": 0, "orphans_removed": 1, "multipart_uploads_aborted": 1}
    assert not storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix="sweeptest/").get("Uploads")
    assert storage.head("sweeptest/2026/orphan") is None
    assert storage.head(kept) is not None
    assert storage.head("elsewhere/2026/not-an-upload") is not None
    storage.delete(kept)
    storage.delete("elsewhere/2026/not-an-upload")


def test_remove_unconfirmed_uploads_twice_at_once_removes_each_ticket_once(app, db, make_user, storage):
    from incubator.storage import services

    owner = make_user()
    keys = [make_ticket(db, storage, owner, age_hours=30, confirmed=False) for _ in range(2 * services.CLEANUP_BATCH // 5)]
    db.session.commit()
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            with app.app_context():
                start.wait()
                results.append(services.remove_unconfirmed_uploads(24))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(r["tickets_removed"] for r in results) == len(keys)
    rows = tickets(db)
    assert all(rows[key].deleted_at is not None for key in keys)
    assert all(storage.head(key) is None for key in keys)


def test_confirm_upload_after_the_sweep_is_refused(db, in_request, make_user, storage):
    from incubator.errors import Conflict
    from incubator.storage.services import confirm_upload, remove_unconfirmed_uploads

    key = make_ticket(db, storage, make_user(), age_hours=25, confirmed=False)
    remove_unconfirmed_uploads(24)
    ticket = tickets(db)[key]
    with pytest.raises(Conflict):
        confirm_upload(ticket)
    db.session.rollback()
    assert tickets(db)[key].confirmed_at is None


def test_receive_upload_streams_a_form_upload_to_the_store(db, in_request, make_user, storage):
    from incubator.storage.services import receive_upload, verify_upload

    ticket = receive_upload(make_user(), "decks", "路演.pdf", "application/pdf", 1000, io.BytesIO(PDF))
    db.session.commit()
    assert ticket.size_bytes == len(PDF)
    assert verify_upload(ticket).size == len(PDF)
    assert storage.read_range(ticket.key, 0, 4) == b"%PDF-"


@pytest.mark.parametrize("content", [b"", PDF * 3], ids=["empty", "over the limit"])
def test_receive_upload_refuses_and_keeps_nothing(db, in_request, make_user, storage, content):
    from incubator.errors import DomainError
    from incubator.storage.services import receive_upload

    with pytest.raises(DomainError):
        receive_upload(make_user(), "decks", "路演.pdf", "application/pdf", 1000, io.BytesIO(content))
    key = db.session.scalars(sa.select(sa.literal_column("key")).select_from(sa.table("upload_tickets"))).first()
    db.session.rollback()
    assert key is not None and storage.head(key) is None
    assert tickets(db) == {}


def test_receive_upload_over_the_limit_after_several_parts_leaves_no_parts(db, in_request, make_user, storage):
    from incubator.errors import DomainError
    from incubator.storage.client import STREAM_PART_BYTES
    from incubator.storage.services import receive_upload

    limit = STREAM_PART_BYTES + 10
    with pytest.raises(DomainError):
        receive_upload(make_user(), "decks", "big.pdf", "application/pdf", limit, io.BytesIO(b"\0" * (limit + 100)))
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix="decks/").get("Uploads", [])
    assert uploads == []


def test_discard_upload_deletes_the_object_and_marks_the_ticket(db, make_user, storage):
    from incubator.storage.services import discard_upload

    key = make_ticket(db, storage, make_user(), age_hours=1, confirmed=True)
    discard_upload(tickets(db)[key])
    db.session.commit()
    assert storage.head(key) is None
    assert tickets(db)[key].deleted_at is not None
