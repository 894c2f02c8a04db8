"""The outbox against a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from incubator.enums import OutboxState, Role
from tests.conftest import post_form


def _queue(n=1, recipient="founder{}@example.cn"):
    from incubator.notifications.services import queue_mail

    messages = [queue_mail(recipient.format(i), "password_reset", "重置青创城密码", name=f"创业者{i}",
                           link=f"http://127.0.0.1/reset/{i}", minutes=60) for i in range(n)]
    return messages


def test_deliver_pending_sends_queued_mail_to_smtp(app, db, smtp):
    from incubator.notifications.mailer import deliver_pending
    from incubator.notifications.models import OutboxMessage

    (message,) = _queue()
    db.session.commit()
    assert deliver_pending() == {"sent": 1, "failed": 0, "skipped": 0}
    received = smtp.wait_for(1)
    assert len(received) == 1
    assert received[0]["To"] == "founder0@example.cn"
    assert "创业者0" in smtp.text_of(received[0])
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.state == OutboxState.SENT.value and row.sent_at is not None and row.attempts == 1
    # Nothing is due any more: a second run sends nothing.
    assert deliver_pending()["sent"] == 0


def test_rolled_back_transaction_sends_nothing(app, db, smtp):
    from incubator.notifications.mailer import deliver_pending
    from incubator.notifications.models import OutboxMessage

    _queue(2)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}
    assert smtp.messages == []


def test_smtp_down_retries_later_and_delivers_once_when_back(app, db, smtp):
    from incubator.devstack import free_port
    from incubator.notifications.mailer import deliver_pending
    from incubator.notifications.models import OutboxMessage
    from incubator.timeutils import utcnow

    (message,) = _queue()
    db.session.commit()
    real_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: connection refused
    try:
        before = utcnow()
        assert deliver_pending()["failed"] == 1
    finally:
        app.config["MAIL_PORT"] = real_port
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.state == OutboxState.PENDING.value
    assert row.attempts == 1
    assert row.next_attempt_at > before + timedelta(seconds=30)
    assert "ConnectionRefusedError" in row.last_error
    db.session.commit()

    # The server is back, but the message waits for its retry time.
    assert deliver_pending()["sent"] == 0
    assert smtp.messages == []

    # Its retry time comes (moved instead of waiting a minute): delivered exactly once.
    row = db.session.get(OutboxMessage, message.id)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert deliver_pending()["sent"] == 1
    assert deliver_pending()["sent"] == 0
    assert len(smtp.wait_for(1)) == 1
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.state == OutboxState.SENT.value and row.attempts == 2 and row.last_error is None


def test_message_fails_after_max_attempts_and_manager_can_retry(app, db, smtp, client, make_user, login_as):
    from incubator.audit.models import AuditRecord
    from incubator.devstack import free_port
    from incubator.notifications import mailer
    from incubator.notifications.models import OutboxMessage

    (message,) = _queue()
    message.attempts = mailer.MAX_ATTEMPTS - 1
    db.session.commit()
    real_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()
    try:
        assert mailer.deliver_pending()["failed"] == 1
    finally:
        app.config["MAIL_PORT"] = real_port
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == OutboxState.FAILED.value
    db.session.commit()

    login_as(make_user(Role.MANAGER))
    page = client.get("/manage/outbox/?state=failed")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="message-{message.id}" data-state="failed"' in html and "ConnectionRefusedError" in html

    response = post_form(client, f"/manage/outbox/{message.id}/retry", {}, csrf_page="/manage/outbox/")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.state == OutboxState.PENDING.value and row.attempts == 0
    assert db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "mail.retry")) is not None
    db.session.commit()
    assert mailer.deliver_pending()["sent"] == 1
    assert len(smtp.wait_for(1)) == 1

    # A sent message cannot be "retried" into a second delivery.
    response = post_form(client, f"/manage/outbox/{message.id}/retry", {}, csrf_page="/manage/outbox/",
                         follow_redirects=True)
    assert "只有发送失败的邮件才能重试" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == OutboxState.SENT.value


def test_two_concurrent_senders_deliver_each_message_once(app, db, smtp):
    from incubator.extensions import db as _db
    from incubator.notifications.mailer import deliver_pending

    count = 20
    _queue(count)
    db.session.commit()
    results, errors = [], []
    barrier = threading.Barrier(2)

    def sender():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(deliver_pending())
                _db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sum(r["sent"] for r in results) == count
    received = smtp.wait_for(count)
    assert len(received) == count
    assert len({m["Message-ID"] for m in received}) == count
    assert sorted(m["To"] for m in received) == sorted(f"founder{i}@example.cn" for i in range(count))


def test_claim_does_not_take_a_message_before_its_retry_time(app, db):
    """A sender that listed a message as due must not send it once another sender has failed it
    and pushed its retry time back (the claim repeats the due condition)."""
    from incubator.notifications.mailer import _claim
    from incubator.timeutils import utcnow

    (message,) = _queue()
    message.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert _claim(message.id) is False


@pytest.mark.parametrize("role", [Role.FOUNDER, Role.JUDGE])
def test_outbox_page_forbidden_for_non_managers(client, make_user, login_as, role):
    login_as(make_user(role))
    assert client.get("/manage/outbox/").status_code == 403


def test_outbox_page_anonymous_redirects_to_login(client):
    response = client.get("/manage/outbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_make_run_catches_mail_in_files_a_newcomer_can_open(app, db, tmp_path, capsys):
    """`make run` (devstack.run_dev) has no real SMTP server: its MailCatcher saves each mail the
    outbox sends as an .eml file and names it on the console."""
    from email import message_from_bytes, policy

    from incubator.devstack import MailCatcher, free_port
    from incubator.notifications.mailer import deliver_pending

    catcher = MailCatcher(tmp_path / "mail", free_port()).start()
    try:
        app.config["MAIL_PORT"] = catcher.port
        _queue()
        db.session.commit()
        assert deliver_pending()["sent"] == 1
    finally:
        catcher.stop()
    (saved,) = list((tmp_path / "mail").glob("*.eml"))
    msg = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert msg["To"] == "founder0@example.cn" and "http://127.0.0.1/reset/0" in msg.get_body(("plain",)).get_content()
    assert f"mail to founder0@example.cn: {msg['subject']}" in capsys.readouterr().out
