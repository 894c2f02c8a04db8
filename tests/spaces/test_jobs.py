"""Spaces jobs: expiry and reminders happen once per day, however often the job runs."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from incubator.jobs.models import JobRun
from incubator.jobs.runner import run_job
from incubator.notifications.models import Notice
from incubator.spaces import services
from incubator.spaces.models import Lease, LeaseReminder
from incubator.timeutils import local_today


def _notices(db, user, kind):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notice)
                             .where(Notice.user_id == user.id, Notice.kind == kind))


def test_expiry_job_ends_leases_once_even_when_run_twice_for_the_same_due_time(db, world):
    today = local_today()
    expired = services.allocate(world.manager, world.team, [s.id for s in world.spaces[:2]], today - timedelta(days=30), today)
    (running,) = services.allocate(world.manager, world.other_team, [world.spaces[2].id], today - timedelta(days=3),
                                   today + timedelta(days=3))
    # A waiting request that fits once the desks are free.
    services.create_request(world.other_founder, world.other_team, seats=2, space_type="desk_fixed", start_date=today,
                            duration_months=1)
    db.session.commit()
    due = datetime.now(timezone.utc).replace(microsecond=0)
    first = run_job("spaces_end_expired_leases", due)
    second = run_job("spaces_end_expired_leases", due)  # a second scheduler process, same due time
    assert first is not None and first.status == "succeeded" and second is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)
                             .where(JobRun.job_id == "spaces_end_expired_leases")) == 1
    db.session.expire_all()
    assert [db.session.get(Lease, lease.id).status for lease in expired] == ["ended", "ended"]
    assert db.session.get(Lease, running.id).status == "active"
    ended_notices = _notices(db, world.founder, "spaces_lease")
    assert _notices(db, world.manager, "spaces_waitlist") == 1
    # Running the function again the same day changes nothing and tells nobody again.
    assert run_job("spaces_end_expired_leases", due + timedelta(seconds=1)).result == '{"ended": 0, "waitlist_heads_that_fit": 0}'
    assert _notices(db, world.founder, "spaces_lease") == ended_notices
    assert _notices(db, world.manager, "spaces_waitlist") == 1


def test_reminders_go_out_once_at_30_and_once_at_7_days(db, world):
    today = local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today - timedelta(days=60), today + timedelta(days=30))
    services.allocate(world.manager, world.other_team, [world.spaces[1].id], today - timedelta(days=60),
                      today + timedelta(days=5))
    services.allocate(world.manager, world.other_team, [world.spaces[2].id], today, today + timedelta(days=90))
    db.session.commit()
    due = datetime.now(timezone.utc).replace(microsecond=0)
    assert run_job("spaces_lease_reminders", due).status == "succeeded"
    assert run_job("spaces_lease_reminders", due + timedelta(minutes=1)).status == "succeeded"  # run twice
    assert _notices(db, world.founder, "spaces_reminder") == 1
    assert _notices(db, world.other_founder, "spaces_reminder") == 1  # the 7-day one only, not also the 30-day one
    assert services.send_end_reminders(today + timedelta(days=1)) == 0
    # 23 days later the first lease is 7 days from its end: its 7-day reminder goes out, once.
    assert services.send_end_reminders(today + timedelta(days=23)) == 1
    assert services.send_end_reminders(today + timedelta(days=23)) == 0
    db.session.commit()
    assert _notices(db, world.founder, "spaces_reminder") == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeaseReminder)) == 4


def test_a_renewed_lease_is_reminded_again_before_its_new_end(db, world):
    today = local_today()
    (lease,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today - timedelta(days=10),
                                 today + timedelta(days=20))
    assert services.send_end_reminders(today) == 1
    services.renew(world.manager, lease, today + timedelta(days=25))
    assert services.send_end_reminders(today) == 1  # about the new end date
    assert services.send_end_reminders(today) == 0


def test_expiry_job_survives_a_far_future_request_and_lease_and_still_tells_who_fits(db, world):
    """Rows stored before dates were bounded (a request starting 9999-12-01, a lease running to the
    end of the calendar) must not stop the daily job: it ends the expired leases and still tells
    the managers about the requests that fit."""
    from incubator.spaces.models import SpaceRequest

    today = local_today()
    (expired,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today - timedelta(days=30), today)
    far = Lease(space_id=world.spaces[1].id, team_id=world.other_team.id, start_date=today - timedelta(days=5),
                end_date=date.max, status="active", group_id="far")
    db.session.add(far)
    db.session.add(SpaceRequest(team_id=world.team.id, seats=1, space_type="desk_fixed", start_date=date(9999, 12, 1),
                                duration_months=6, override_priority=1, override_reason="旧数据"))
    services.create_request(world.other_founder, world.other_team, seats=1, space_type="desk_fixed", start_date=today,
                            duration_months=1)
    db.session.commit()
    run = run_job("spaces_end_expired_leases", datetime.now(timezone.utc).replace(microsecond=0))
    assert run is not None and run.status == "succeeded", run and run.error
    db.session.expire_all()
    assert db.session.get(Lease, expired.id).status == "ended"
    assert db.session.get(Lease, far.id).status == "active"
    assert _notices(db, world.manager, "spaces_waitlist") == 1


def test_add_months_stays_inside_the_calendar():
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert services.add_months(date(9999, 12, 1), 6) == date.max
    assert services.add_months(date(1, 2, 1), -3) == date.min


def test_expiry_job_logs_a_request_it_cannot_work_with_and_goes_on(db, world, monkeypatch, caplog):
    """Whatever odd row makes the date arithmetic fail (injected here: no stored row can, since
    add_months is total), that request is logged and passed over; the others are still looked at."""
    import logging

    today = local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today - timedelta(days=30), today)
    odd = services.create_request(world.founder, world.team, seats=1, space_type="desk_fixed", start_date=today,
                                  duration_months=1)
    services.set_priority(world.manager, odd, 1, "排在最前")
    services.create_request(world.other_founder, world.other_team, seats=1, space_type="desk_fixed", start_date=today,
                            duration_months=1)
    db.session.commit()
    real = services.request_period

    def period(req, today=None):
        if req.id == odd.id:
            raise OverflowError("date value out of range")
        return real(req, today)

    monkeypatch.setattr(services, "request_period", period)
    with caplog.at_level(logging.ERROR, logger="incubator.spaces.services"):
        run = run_job("spaces_end_expired_leases", datetime.now(timezone.utc).replace(microsecond=0))
    assert run is not None and run.status == "succeeded", run and run.error
    assert '"waitlist_heads_that_fit": 1' in run.result
    assert any(f"space request {odd.id}" in r.getMessage() for r in caplog.records)
    assert _notices(db, world.manager, "spaces_waitlist") == 1


@pytest.mark.postgres_only
def test_two_expiry_runs_at_once_end_each_lease_once(app, db, world):
    """'Run now' while the nightly run is still going: the second run skips the leases the first is
    ending (it does not end them again, audit them twice, or tell the team twice)."""
    import threading

    from incubator.audit.models import AuditRecord

    today = local_today()
    expired = services.allocate(world.manager, world.team, [s.id for s in world.spaces[:2]],
                                today - timedelta(days=30), today)
    db.session.commit()
    first = services.expire_leases(today)  # flushed, not committed: the first run is still going
    assert {lease.id for lease in first} == {lease.id for lease in expired}
    seen: list = []

    def second_run():
        with app.app_context():
            from incubator.extensions import db as tdb

            seen.append([lease.id for lease in services.expire_leases(today)])
            tdb.session.commit()
            tdb.session.remove()

    thread = threading.Thread(target=second_run)
    thread.start()
    thread.join(30)
    db.session.commit()
    assert seen == [[]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "spaces.lease_expired")) == 2
