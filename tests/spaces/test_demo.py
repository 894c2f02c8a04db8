def test_demo_seed_builds_the_floor_with_leases_once(db):
    from incubator.demo import seed as core_seed
    from incubator.spaces import demo, services
    from incubator.spaces.models import Lease, Space

    assert core_seed() is True  # calls demo.seed()
    db.session.commit()
    assert demo.seed() is False
    assert db.session.scalar(db.select(db.func.count()).select_from(Space)) == 64
    assert db.session.scalar(db.select(db.func.count()).select_from(Lease)) == 5
    assert len(services.waitlist()) == 1
