"""The store stops answering: callers get StorageUnavailable within seconds, pages get the friendly
503 (Chinese by default), nothing half-written reaches the database; after a restart all works.

The SeaweedFS of the session is stopped once for the whole class below (a restart takes seconds)
and started again however the class ends, so later tests still have it.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

FRIENDLY_ZH = "文件存储暂时不可用，请稍后重试"


@pytest.fixture
def issue_upload_view(app):
    """A stand-in for the decks page that issues an upload: flushes a ticket, then needs the store."""
    from flask import jsonify
    from flask_login import current_user, login_required

    from incubator.extensions import db
    from incubator.storage.services import issue_upload

    @login_required
    def view():
        ticket, post = issue_upload(current_user, "decks", "商业计划书.pdf", "application/pdf", 1024)
        db.session.commit()
        return jsonify(key=ticket.key, url=post.url)

    app.add_url_rule("/_test/issue-upload", "test_issue_upload", view)
    return "/_test/issue-upload"


def ticket_count(db) -> int:
    from incubator.storage.models import UploadTicket

    count = db.session.scalar(sa.select(sa.func.count()).select_from(UploadTicket))
    db.session.commit()
    return count


class TestWhileTheStoreIsDown:
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def store_down(cls, seaweedfs):
        seaweedfs.stop()
        try:
            yield
        finally:
            seaweedfs.start()

    def test_every_operation_raises_storage_unavailable(self, storage):
        from incubator.storage import StorageUnavailable

        operations = {
            "check": lambda: storage.check(),
            "head": lambda: storage.head("decks/2026/x"),
            "read_range": lambda: storage.read_range("decks/2026/x", 0, 7),
            "delete": lambda: storage.delete("decks/2026/x"),
            "list_prefix": lambda: list(storage.list_prefix("decks/")),
            "put_stream": lambda: storage.put_stream("decks/2026/x", io.BytesIO(b"%PDF-"), "application/pdf"),
            "copy": lambda: storage.copy("decks/2026/x", "decks/2026/y"),
        }
        for name, operation in operations.items():
            with pytest.raises(StorageUnavailable) as caught:
                operation()
            assert caught.value.status_code == 503, name
        # Signing happens locally: links can still be made, the store refuses them until it is back.
        assert storage.presigned_get("decks/2026/x", "计划书.pdf").startswith("http")

    def test_page_shows_friendly_503_in_chinese_and_logs_request_id(self, client, make_user, login_as):
        import logging

        from incubator.enums import Role

        login_as(make_user(Role.MANAGER))
        log_handler = logging.getLogger("incubator").handlers[0]  # the app's, with [request_id]
        logged = io.StringIO()
        previous = log_handler.setStream(logged)
        try:
            response = client.get("/manage/storage/", headers={"X-Request-ID": "fault-test-0001"})
        finally:
            log_handler.setStream(previous)
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert FRIENDLY_ZH in page
        assert "服务暂时不可用" in page
        assert "fault-test-0001" in page
        assert "botocore" not in page and "Traceback" not in page
        assert "[fault-test-0001] incubator.storage: S3 head_bucket failed" in logged.getvalue()
        assert "Traceback" not in logged.getvalue()

    def test_issuing_an_upload_leaves_nothing_in_the_database(self, client, db, make_user, login_as,
                                                            issue_upload_view):
        from incubator.storage.models import UploadTicket
        from incubator.timeutils import utcnow

        founder = make_user()
        db.session.add(UploadTicket(key="decks/2026/kept", purpose="decks", owner_id=founder.id,
                                    content_type="application/pdf", max_bytes=10, original_filename="a.pdf",
                                    confirmed_at=utcnow()))
        db.session.commit()
        login_as(founder)
        response = client.get(issue_upload_view)
        assert response.status_code == 503
        assert FRIENDLY_ZH in response.get_data(as_text=True)
        assert ticket_count(db) == 1

        response = client.get(issue_upload_view, headers={"Accept": "application/json"})
        assert response.status_code == 503
        assert response.get_json() == {"error": FRIENDLY_ZH}
        assert ticket_count(db) == 1

    def test_page_in_english_for_an_english_reader(self, client, make_user, login_as):
        from incubator.enums import Role

        # Every request of this client, the login included, prefers English: within one test the
        # requests share the test's app context and so the locale chosen by the first of them.
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login_as(make_user(Role.MANAGER, locale="en"))
        response = client.get("/manage/storage/")
        assert response.status_code == 503
        assert "File storage is temporarily unavailable. Please try again later." in response.get_data(as_text=True)

    def test_cleanup_job_keeps_tickets_for_the_next_run(self, db, make_user):
        from incubator.storage import StorageUnavailable
        from incubator.storage.models import UploadTicket
        from incubator.storage.services import remove_unconfirmed_uploads
        from incubator.timeutils import utcnow

        db.session.add(UploadTicket(key="decks/2026/stale", purpose="decks", owner_id=make_user().id,
                                    content_type="application/pdf", max_bytes=10, original_filename="a.pdf",
                                    created_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
        with pytest.raises(StorageUnavailable):
            remove_unconfirmed_uploads(24)
        stale = db.session.scalar(sa.select(UploadTicket).where(UploadTicket.key == "decks/2026/stale"))
        assert stale.deleted_at is None

    def test_storage_init_command_says_the_store_did_not_answer(self, app):
        result = app.test_cli_runner().invoke(args=["storage", "init"])
        assert result.exit_code != 0
        assert "did not answer" in result.output


def test_storage_works_again_after_restart(client, db, make_user, login_as, issue_upload_view):
    from incubator.enums import Role

    manager = make_user(Role.MANAGER)
    login_as(manager)
    response = client.get("/manage/storage/")
    assert response.status_code == 200
    assert "文件存储响应正常" in response.get_data(as_text=True)
    response = client.get(issue_upload_view)
    assert response.status_code == 200
    assert response.get_json()["key"].startswith("decks/")
    assert ticket_count(db) == 1


def test_storage_unavailable_reads_well_inside_and_outside_a_request(app):
    from incubator.storage import StorageUnavailable

    assert str(StorageUnavailable()) == "File storage is temporarily unavailable. Please try again later."
    with app.test_request_context("/"):
        assert str(StorageUnavailable()) == FRIENDLY_ZH
