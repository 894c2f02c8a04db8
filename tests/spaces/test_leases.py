"""Lease services on the real databases: no overlap ever, all-or-nothing moves, clear conflicts."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from incubator.spaces import services
from incubator.spaces.models import Lease
from incubator.spaces.services import LeaseConflict, SpacesError
from incubator.timeutils import local_today

# Ahead of today (nothing has started or ended), within the horizon a lease may start in.
START = local_today() + timedelta(days=60)


def _leases(db):
    db.session.expire_all()
    return list(db.session.scalars(db.select(Lease).order_by(Lease.id)))


def test_allocate_creates_leases_with_audit_and_notice(db, world):
    from incubator.audit.models import AuditRecord
    from incubator.notifications.models import Notice, OutboxMessage

    ids = [s.id for s in world.spaces[:4]]
    leases = services.allocate(world.manager, world.team, ids, START, START + timedelta(days=90))
    db.session.commit()
    assert len(leases) == 4 and len({lease.group_id for lease in leases}) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "spaces.lease_allocated")) == 4
    assert db.session.scalar(db.select(Notice).where(Notice.user_id == world.founder.id, Notice.kind == "spaces_lease"))
    mail = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.recipient == world.founder.email,
                                                             OutboxMessage.template == "spaces_notice")
                             .order_by(OutboxMessage.id.desc()).limit(1))
    assert mail is not None and "3F-A-001" in mail.body_text


def test_allocate_conflict_names_the_clashing_lease_and_writes_nothing(db, world, app):
    space = world.spaces[0]
    services.allocate(world.manager, world.other_team, [space.id], START, START + timedelta(days=30))
    db.session.commit()
    with pytest.raises(LeaseConflict) as info:
        services.allocate(world.manager, world.team, [world.spaces[1].id, space.id], START + timedelta(days=29),
                          START + timedelta(days=60))
    db.session.rollback()
    with app.test_request_context():
        text = str(info.value.message)
    assert "3F-A-001" in text and world.other_team.name in text and (START + timedelta(days=29)).isoformat() in text
    assert len(_leases(db)) == 1


def test_back_to_back_leases_are_allowed(db, world):
    space = world.spaces[0]
    services.allocate(world.manager, world.team, [space.id], START, START + timedelta(days=30))
    services.allocate(world.manager, world.other_team, [space.id], START + timedelta(days=30), START + timedelta(days=60))
    db.session.commit()
    assert len(_leases(db)) == 2 and services.overlapping_active_pairs() == 0


def test_allocate_refuses_a_team_not_admitted(db, world, new_team):
    stranger = new_team("未入驻团队")
    with pytest.raises(SpacesError):
        services.allocate(world.manager, stranger, [world.spaces[0].id], START, START + timedelta(days=30))


def test_renew_shorten_end_early_and_cancel_keep_history(db, world):
    space = world.spaces[0]
    (lease,) = services.allocate(world.manager, world.team, [space.id], START, START + timedelta(days=30))
    services.renew(world.manager, lease, START + timedelta(days=60))
    assert lease.end_date == START + timedelta(days=60)
    services.shorten(world.manager, lease, START + timedelta(days=45))
    assert lease.end_date == START + timedelta(days=45) and lease.status == "active"
    (other,) = services.allocate(world.manager, world.other_team, [space.id], START + timedelta(days=45),
                                 START + timedelta(days=80))
    with pytest.raises(LeaseConflict):
        services.renew(world.manager, lease, START + timedelta(days=50))
    services.cancel(world.manager, other, "团队放弃")
    services.renew(world.manager, lease, START + timedelta(days=50))
    db.session.commit()
    history = services.space_history(space)
    assert [h.status for h in history] == ["cancelled", "active"]


def test_end_early_in_the_past_ends_the_lease(db, world):
    from incubator.timeutils import local_today

    today = local_today()
    (lease,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today - timedelta(days=10),
                                 today + timedelta(days=10))
    services.end_early(world.manager, lease, today)
    assert lease.status == "ended" and lease.end_date == today


def test_move_that_clashes_halfway_leaves_everything_as_it_was(db, world):
    a, b, c, d = world.spaces[:4]
    old = services.allocate(world.manager, world.team, [a.id, b.id], START, START + timedelta(days=90))
    services.allocate(world.manager, world.other_team, [d.id], START + timedelta(days=60), START + timedelta(days=70))
    db.session.commit()
    before = [(lease.id, lease.space_id, lease.start_date, lease.end_date, lease.status) for lease in _leases(db)]
    old = sorted(old, key=lambda lease: lease.space_id)
    # The first pair (a → c) is written, then the second (b → d) clashes: both must be undone.
    with pytest.raises(LeaseConflict) as info:
        services.move(world.manager, list(zip(old, [c.id, d.id])), START + timedelta(days=10))
    db.session.commit()
    assert info.value.clash is not None and info.value.clash.space_id == d.id
    after = [(lease.id, lease.space_id, lease.start_date, lease.end_date, lease.status) for lease in _leases(db)]
    assert after == before


def test_move_to_free_spaces_ends_old_leases_and_creates_new(db, world):
    a, b, c, d = world.spaces[:4]
    old = services.allocate(world.manager, world.team, [a.id, b.id], START, START + timedelta(days=90))
    new = services.move(world.manager, list(zip(sorted(old, key=lambda x: x.space_id), [c.id, d.id])),
                        START + timedelta(days=10))
    db.session.commit()
    assert {lease.space_id for lease in new} == {c.id, d.id}
    assert all(lease.end_date == START + timedelta(days=10) for lease in old)
    assert all(lease.start_date == START + timedelta(days=10) and lease.end_date == START + timedelta(days=90)
               for lease in new)
    assert services.overlapping_active_pairs() == 0


def test_waitlist_orders_by_override_then_award_then_time(db, world, new_team):
    from incubator.timeutils import local_today

    start = local_today() + timedelta(days=7)
    first = services.create_request(world.founder, world.team, seats=4, space_type="desk_fixed", start_date=start,
                                    duration_months=6)
    award = services.create_request(world.other_founder, world.other_team, seats=2, space_type="desk_fixed",
                                    start_date=start, duration_months=6)
    third_team = new_team("第三队", admitted_by=world.manager)
    third = services.create_request(world.manager, third_team, seats=1, space_type="office", start_date=start,
                                    duration_months=3)
    db.session.commit()
    assert [r.id for r in services.waitlist()] == [award.id, first.id, third.id]
    services.set_priority(world.manager, third, 1, "残疾人创业者优先")
    db.session.commit()
    assert services.waitlist_positions() == {third.id: 1, award.id: 2, first.id: 3}
    with pytest.raises(SpacesError):
        services.set_priority(world.manager, first, 1, "  ")


def test_suggestion_uses_only_spaces_free_for_the_period(db, world):
    zone_a = [s for s in world.spaces if s.code.startswith("3F-A") and s.type == "desk_fixed"]
    services.allocate(world.manager, world.other_team, [s.id for s in zone_a[:6]], START, START + timedelta(days=30))
    db.session.commit()
    suggestion = services.suggest(4, "desk_fixed", START + timedelta(days=10), START + timedelta(days=40),
                                  preferred_zone_id=zone_a[0].zone_id)
    assert suggestion.ok and len(suggestion.spaces) == 4
    taken = {s.id for s in zone_a[:6]}
    assert not taken & set(suggestion.space_ids)
    # After the other lease ends, zone A is free again.
    later = services.suggest(4, "desk_fixed", START + timedelta(days=30), START + timedelta(days=40),
                             preferred_zone_id=zone_a[0].zone_id)
    assert {c.zone_id for c in later.spaces} == {zone_a[0].zone_id}


def _concurrent_allocations(app, db, world, n: int):
    space_id, manager_id, team_ids = world.spaces[0].id, world.manager.id, [world.team.id, world.other_team.id]
    db.session.commit()  # reading expired attributes began a transaction: on SQLite it holds the write lock
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int):
        from incubator.accounts.models import User
        from incubator.applications.models import Team
        from incubator.extensions import db as tdb

        barrier.wait(30)  # before touching the pool: 20 threads > pool size + overflow
        with app.app_context():
            manager = tdb.session.get(User, manager_id)
            team = tdb.session.get(Team, team_ids[i % 2])
            try:
                services.allocate(manager, team, [space_id], START + timedelta(days=i), START + timedelta(days=40 + i))
                tdb.session.commit()
                result = "ok"
            except LeaseConflict as exc:
                tdb.session.rollback()
                result = "conflict" if exc.clash is not None else "conflict-unnamed"
            finally:
                tdb.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes).count("ok") == 1, outcomes
    assert len(outcomes) == n and outcomes.count("conflict") == n - 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Lease).where(Lease.space_id == space_id)) == 1


@pytest.mark.postgres_only
def test_twenty_concurrent_allocations_of_one_desk_leave_exactly_one_lease(app, db, world):
    """Overlapping periods, 20 threads with their own app context: the exclusion constraint decides."""
    _concurrent_allocations(app, db, world, 20)


def test_concurrent_allocations_leave_one_lease_on_either_backend(app, db, world):
    """On SQLite the app's BEGIN IMMEDIATE serialises check-then-insert; on PostgreSQL the constraint."""
    _concurrent_allocations(app, db, world, 6)


@pytest.mark.postgres_only
def test_database_rejects_overlap_even_without_the_check(db, world):
    """The exclusion constraint itself, bypassing the services' check."""
    from sqlalchemy.exc import IntegrityError

    space = world.spaces[0]
    for team in (world.team, world.other_team):
        db.session.add(Lease(space_id=space.id, team_id=team.id, start_date=START, end_date=START + timedelta(days=5),
                             status="active", group_id=str(team.id)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _waitlist_notices(db, manager) -> int:
    from incubator.notifications.models import Notice

    db.session.flush()
    return db.session.scalar(db.select(db.func.count()).select_from(Notice)
                             .where(Notice.user_id == manager.id, Notice.kind == "spaces_waitlist"))


@pytest.mark.parametrize("change", ["cancel", "end_early", "shorten", "move", "end_outage"])
def test_every_change_that_frees_a_desk_tells_the_managers_who_now_fits(db, world, change):
    """Not only the nightly expiry: a cancellation, an early end, a shortening, a move away or a lifted
    outage frees space, and the managers hear at once which waiting team now fits."""
    today = local_today()
    desks = [s for s in world.spaces if s.type == "desk_fixed"]
    leases = services.allocate(world.manager, world.other_team, [s.id for s in desks[1:]], today - timedelta(days=1),
                               today + timedelta(days=90))
    outage = services.put_out_of_service(world.manager, desks[0], today - timedelta(days=1), None, "维修")
    services.create_request(world.founder, world.team, seats=1, space_type="desk_fixed",
                            start_date=today + timedelta(days=10), duration_months=1)
    db.session.commit()
    assert services.waitlist_heads_that_fit() == [] and _waitlist_notices(db, world.manager) == 0
    lease = leases[0]
    if change == "cancel":
        services.cancel(world.manager, lease, "团队放弃")
    elif change == "end_early":
        services.end_early(world.manager, lease, today)
    elif change == "shorten":
        services.shorten(world.manager, lease, today + timedelta(days=5))
    elif change == "move":
        office = next(s for s in world.spaces if s.type == "office")
        services.move(world.manager, [(lease, office.id)], today)
    else:
        services.end_outage(world.manager, outage, today)
    assert _waitlist_notices(db, world.manager) == 1
    db.session.commit()


def test_move_team_pairs_each_lease_with_the_code_given_for_it(db, world):
    a, b = services.allocate(world.manager, world.team, [s.id for s in world.spaces[:2]], START,
                             START + timedelta(days=30))
    created = services.move_team(world.manager, world.team, {b.id: "3F-B-001", a.id: " 3f-b-002"}, START)
    db.session.commit()
    assert {(lease.space.code, db.session.scalar(db.select(Lease.id).where(Lease.moved_to_id == lease.id)))
            for lease in created} == {("3F-B-001", b.id), ("3F-B-002", a.id)}
    assert {a.cancel_code, b.cancel_code} == {"moved"}
    with pytest.raises(SpacesError):
        services.move_team(world.manager, world.other_team, {created[0].id: "3F-B-003"}, START)  # not its lease


def test_move_team_swaps_and_rotates_its_own_desks_on_one_day(db, world):
    """The spaces a team's moving leases leave on the move date are free for its other moving leases:
    D1 ↔ D2 is a swap, not a clash with itself (nor is a rotation of three)."""
    d1, d2, d3 = world.spaces[:3]
    a, b, c = sorted(services.allocate(world.manager, world.team, [d1.id, d2.id, d3.id], START,
                                       START + timedelta(days=90)), key=lambda lease: lease.space_id)
    b_end = START + timedelta(days=60)
    services.shorten(world.manager, b, b_end)  # the two leases need not end together
    db.session.commit()
    on = START + timedelta(days=10)
    created = services.move_team(world.manager, world.team, {a.id: d2.code, b.id: d1.code}, on)
    db.session.commit()
    assert {(lease.space_id, lease.start_date, lease.end_date) for lease in created} == {
        (d2.id, on, START + timedelta(days=90)), (d1.id, on, b_end)}
    assert (a.end_date, b.end_date) == (on, on) and {a.moved_to_id, b.moved_to_id} == {x.id for x in created}
    assert services.overlapping_active_pairs() == 0
    # A rotation of three, on the day the new leases start (they are cancelled and replaced whole).
    by_space = {lease.space_id: lease for lease in created}
    rotated = services.move(world.manager, [(by_space[d1.id], d2.id), (by_space[d2.id], d3.id), (c, d1.id)], on)
    db.session.commit()
    assert sorted((lease.space_id, lease.end_date) for lease in rotated) == sorted(
        [(d2.id, b_end), (d3.id, START + timedelta(days=90)), (d1.id, START + timedelta(days=90))])
    assert {by_space[d1.id].cancel_code, by_space[d2.id].cancel_code} == {"moved"} and c.end_date == on
    assert services.overlapping_active_pairs() == 0


def test_a_swap_still_refuses_another_teams_lease_or_an_outage(db, world, app):
    d1, d2, d3, d4 = world.spaces[:4]
    a, b = sorted(services.allocate(world.manager, world.team, [d1.id, d2.id], START, START + timedelta(days=90)),
                  key=lambda lease: lease.space_id)
    services.allocate(world.manager, world.other_team, [d3.id], START + timedelta(days=50), START + timedelta(days=70))
    db.session.commit()
    before = [(lease.id, lease.space_id, lease.start_date, lease.end_date, lease.status) for lease in _leases(db)]
    on = START + timedelta(days=10)
    with pytest.raises(LeaseConflict) as info:  # d2 → d1 is a swap, but d1 → d3 meets the other team
        services.move(world.manager, [(b, d1.id), (a, d3.id)], on)
    db.session.rollback()
    assert info.value.clash.team_id == world.other_team.id
    services.put_out_of_service(world.manager, d4, START + timedelta(days=80), None, "漏水")
    db.session.commit()
    with pytest.raises(SpacesError) as info:  # a → d2 is freed by b, but b → d4 meets the outage
        services.move(world.manager, [(a, d2.id), (b, d4.id)], on)
    db.session.rollback()
    with app.test_request_context():
        assert type(info.value) is SpacesError and d4.code in str(info.value.message)
    after = [(lease.id, lease.space_id, lease.start_date, lease.end_date, lease.status) for lease in _leases(db)]
    assert after == before


def test_dates_beyond_the_horizon_are_refused_by_the_services(db, world):
    today = local_today()
    latest = services.latest_start(today)
    with pytest.raises(SpacesError) as info:
        services.create_request(world.founder, world.team, seats=1, space_type="desk_fixed",
                                start_date=latest + timedelta(days=1), duration_months=6)
    assert info.value.field == "start_date"
    services.create_request(world.founder, world.team, seats=1, space_type="desk_fixed", start_date=latest,
                            duration_months=6)
    with pytest.raises(SpacesError):
        services.allocate(world.manager, world.team, [world.spaces[0].id], today,
                          services.add_months(today, services.MAX_TERM_MONTHS) + timedelta(days=1))
    (lease,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=30))
    with pytest.raises(SpacesError):
        services.renew(world.manager, lease, date.max)
    with pytest.raises(SpacesError):
        services.put_out_of_service(world.manager, world.spaces[1], latest + timedelta(days=1), None)
