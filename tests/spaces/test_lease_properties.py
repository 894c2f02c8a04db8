"""Property: any sequence of allocate/renew/shorten/move/end/cancel leaves no two overlapping active
leases on a space — whatever the services accept or refuse (checked by a query, both backends)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.errors import DomainError
from incubator.spaces import services
from incubator.spaces.models import Lease, LeaseReminder, SpaceRequest
from incubator.timeutils import local_today

BASE = local_today() + timedelta(days=30)  # ahead of today, within the horizon a lease may start in

ops = st.one_of(
    st.tuples(st.just("allocate"), st.lists(st.integers(0, 4), min_size=1, max_size=3), st.integers(0, 60),
              st.integers(1, 40), st.booleans()),
    st.tuples(st.just("renew"), st.integers(0, 30), st.integers(1, 30)),
    st.tuples(st.just("shorten"), st.integers(0, 30), st.integers(1, 30)),
    st.tuples(st.just("end"), st.integers(0, 30), st.integers(0, 60)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("move"), st.lists(st.integers(0, 30), min_size=1, max_size=2, unique=True),
              st.lists(st.integers(0, 4), min_size=2, max_size=2, unique=True), st.integers(0, 60)),
)


def _overlaps(db) -> list:
    a, b = sa.orm.aliased(Lease), sa.orm.aliased(Lease)
    return db.session.execute(
        sa.select(a.id, b.id).join(b, sa.and_(a.space_id == b.space_id, a.id < b.id))
        .where(a.status == "active", b.status == "active", a.start_date < b.end_date, b.start_date < a.end_date)).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(sequence=st.lists(ops, min_size=1, max_size=12))
def test_random_lease_operations_never_overlap(db, world, sequence):
    for model in (LeaseReminder, Lease, SpaceRequest):
        db.session.execute(sa.delete(model))
    db.session.commit()
    spaces = [s.id for s in world.spaces[:5]]
    teams = [world.team, world.other_team]
    for op in sequence:
        leases = list(db.session.scalars(sa.select(Lease).where(Lease.status == "active").order_by(Lease.id)))
        try:
            if op[0] == "allocate":
                _, idx, offset, length, second = op
                services.allocate(world.manager, teams[int(second)], [spaces[i] for i in idx],
                                  BASE + timedelta(days=offset), BASE + timedelta(days=offset + length))
            elif not leases:
                continue
            elif op[0] == "renew":
                lease = leases[op[1] % len(leases)]
                services.renew(world.manager, lease, lease.end_date + timedelta(days=op[2]))
            elif op[0] == "shorten":
                lease = leases[op[1] % len(leases)]
                services.shorten(world.manager, lease, lease.end_date - timedelta(days=op[2]))
            elif op[0] == "end":
                services.end_early(world.manager, leases[op[1] % len(leases)], BASE + timedelta(days=op[2]))
            elif op[0] == "cancel":
                services.cancel(world.manager, leases[op[1] % len(leases)], "property test")
            elif op[0] == "move":
                chosen = [leases[i % len(leases)] for i in op[1]]
                chosen = list({lease.id: lease for lease in chosen}.values())
                services.move(world.manager, list(zip(chosen, [spaces[i] for i in op[2][:len(chosen)]])),
                              BASE + timedelta(days=op[3]))
            db.session.commit()
        except DomainError:
            db.session.rollback()
        assert _overlaps(db) == []
    assert services.overlapping_active_pairs() == 0
