"""Floor plan page and suggestion through the services, on PostgreSQL.

    cd <checkout> && /path/to/python -m bench.bench_floorplan [--spaces 2000 --small 200 --history 5000 --seconds 10]

1. Builds a fresh database `bench_spaces_floorplan` from the migrations: a floor of `--spaces`
   spaces and one of `--small` spaces, `--history` ended leases over the last years on the big
   floor, plus active leases on about 60 % of its spaces today.
2. In-process (Flask test client, logged in as a manager): server time (median of 30 GETs) and the
   number of SQL statements of /spaces/floors/<id>/plan for the small and the big floor — the
   count must be the same.
3. Under load: gunicorn (4 workers, like the baseline) serves the platform and
   bench/baseline_app.py (one query per request); wrk with 16 connections for `--seconds` each;
   prints requests/s of both and the ratio (goal >= 0.33); the plan page a second time with
   `Accept-Encoding: gzip`, as browsers ask for it.
4. Suggestion of 50 seats among the big floor's spaces: `services.suggest` (DB query for the free
   spaces of the period + the pure algorithm) and the pure `suggest_spaces` alone (median, max of 20).
"""
from __future__ import annotations

import argparse
import gzip
import random
import statistics
import time
import uuid
from datetime import timedelta

DB_NAME = "bench_spaces_floorplan"
EMAIL, PASSWORD = "bench.manager@example.cn", "Bench-Passw0rd-2026"


def build(app, n_big: int, n_small: int, history: int) -> dict:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from incubator.accounts.services import create_user
    from incubator.applications.models import Team
    from incubator.enums import Role
    from incubator.extensions import db
    from incubator.spaces.models import Admission, Building, Floor, Lease, Space, Zone
    from incubator.timeutils import local_today

    rng = random.Random(7)
    with app.app_context():
        upgrade()
        manager = create_user(EMAIL, "压测经理", PASSWORD, roles=[Role.MANAGER], mobile="13800000000")
        db.session.flush()
        teams = [Team(name=f"压测团队{i:03d}", created_by_id=manager.id) for i in range(300)]
        db.session.add_all(teams)
        building = Building(name="压测楼", address="")
        db.session.add(building)
        db.session.flush()
        db.session.add_all([Admission(team_id=t.id, admitted_by_id=manager.id) for t in teams])
        floors = {}
        for number, n in ((2, n_small), (3, n_big)):
            floor = Floor(building_id=building.id, number=number, name=f"{number}F", plan_width=6000, plan_height=4000)
            db.session.add(floor)
            db.session.flush()
            zones = [Zone(floor_id=floor.id, code=c, name="") for c in "ABCD"]
            db.session.add_all(zones)
            db.session.flush()
            rows = []
            per_zone = n // 4
            for zi, zone in enumerate(zones):
                for k in range(per_zone):
                    col, row = k % 20, k // 20
                    rows.append(dict(code=f"{number}F-{zone.code}-{k + 1:03d}", floor_id=floor.id, zone_id=zone.id,
                                     type="desk_fixed", capacity=1, features=["power"], x=(zi % 2) * 3000 + col * 140,
                                     y=(zi // 2) * 2000 + row * 100, w=120, h=80))
            db.session.execute(sa.insert(Space), rows)
            floors[number] = floor.id
        db.session.flush()
        big_ids = list(db.session.scalars(sa.select(Space.id).where(Space.floor_id == floors[3]).order_by(Space.id)))
        today = local_today()
        leases = []
        # History: back-to-back ended leases per space, going back from 30 days ago.
        per_space = max(1, history // len(big_ids))
        count = 0
        for sid in big_ids:
            end = today - timedelta(days=30)
            for _ in range(per_space):
                if count >= history:
                    break
                start = end - timedelta(days=rng.randint(60, 200))
                leases.append(dict(space_id=sid, team_id=rng.choice(teams).id, start_date=start, end_date=end,
                                   status="ended", group_id=str(uuid.uuid4())))
                end = start
                count += 1
        for sid in big_ids:
            if rng.random() < 0.6:
                leases.append(dict(space_id=sid, team_id=rng.choice(teams).id, start_date=today - timedelta(days=20),
                                   end_date=today + timedelta(days=rng.randint(5, 300)), status="active",
                                   group_id=str(uuid.uuid4())))
        db.session.execute(sa.insert(Lease), leases)
        db.session.commit()
        with db.engine.connect() as conn:  # fresh statistics, as autovacuum would have after a bulk load
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
        totals = {"spaces": db.session.scalar(sa.select(sa.func.count()).select_from(Space)),
                  "leases": db.session.scalar(sa.select(sa.func.count()).select_from(Lease))}
        db.session.remove()
        return {"floors": floors, **totals}


def in_process(app, floors: dict) -> None:
    import re

    from sqlalchemy import event

    from incubator.extensions import db

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}).status_code == 302
    def clear_cache(mode):
        # cold: nothing cached; svg: the drawn plan cached, the page rendered around it;
        # page: the whole page from incubator/pagecache (what a repeated view gets)
        names = {"cold": ("spaces_plan_cache", "pagecache"), "svg": ("pagecache",), "page": ()}[mode]
        for name in names:
            cache, lock = app.extensions[name]
            with lock:
                cache.clear()

    with app.app_context():
        engine = db.engine
    for label, floor_id in (("small", floors[2]), ("big", floors[3])):
        url = f"/spaces/floors/{floor_id}/plan"
        client.get(url)  # warm up
        for mode in ("cold", "svg", "page"):
            counter = {"n": 0}

            def before(*_a, **_k):
                counter["n"] += 1

            clear_cache(mode)
            event.listen(engine, "before_cursor_execute", before)
            response = client.get(url)
            event.remove(engine, "before_cursor_execute", before)
            assert response.status_code == 200
            n_spaces = response.get_data(as_text=True).count('class="fp-space fp-')
            times = []
            for _ in range(30):
                clear_cache(mode)
                t0 = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"plan page {label:>5} {mode:>6}: {n_spaces:5d} spaces  {counter['n']:2d} SQL statements  "
                  f"server time median {statistics.median(times):6.1f} ms  p90 {sorted(times)[26]:6.1f} ms  "
                  f"({len(response.data) // 1024} KiB)")


def suggestion(app, floor_id: int) -> None:
    from incubator.extensions import db
    from incubator.spaces import services
    from incubator.spaces.models import Space
    from incubator.spaces.suggest import Candidate, suggest_spaces
    from incubator.timeutils import local_today

    start = local_today() + timedelta(days=30)
    end = services.add_months(start, 6)
    with app.app_context():
        services.suggest(50, "desk_fixed", start, end, floor_id=floor_id)  # warm up: connection, plan cache
        db.session.rollback()
        through, pure = [], []
        for _ in range(20):
            t0 = time.perf_counter()
            result = services.suggest(50, "desk_fixed", start, end, floor_id=floor_id)
            through.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
        assert result.ok and len(result.spaces) == 50
        rows = db.session.execute(services.free_spaces_query(start, end, floor_id=floor_id).with_only_columns(
            Space.id, Space.code, Space.zone_id, Space.type, Space.capacity, Space.x, Space.y, Space.w, Space.h)).all()
        cands = [Candidate(r.id, r.code, r.zone_id, r.type, r.capacity, r.x, r.y, r.w, r.h) for r in rows]
        for _ in range(20):
            t0 = time.perf_counter()
            suggest_spaces(cands, 50, "desk_fixed")
            pure.append((time.perf_counter() - t0) * 1000)
        print(f"suggest 50 seats among {len(cands)} free spaces (floor of 2,000): "
              f"service median {statistics.median(through):6.1f} ms max {max(through):6.1f} ms; "
              f"pure median {statistics.median(pure):6.1f} ms max {max(pure):6.1f} ms")


def under_load(url_db: str, floor_id: int, seconds: int) -> None:
    from bench.harness import fetch_as_wrk, gunicorn, login_cookie, wrk

    env = {"DATABASE_URL": url_db, "INCUBATOR_ENV": "development", "LOG_LEVEL": "WARNING",
           "LOGIN_RATE_LIMIT": "1000 per minute"}
    def run_baseline(label):
        with gunicorn("bench.baseline_app:create_baseline_app()", env, ready_path="/one-query") as base:
            return wrk(label, base + "/one-query", seconds=seconds)

    # before AND after the platform: the machine's load moves within a minute
    before = run_baseline("baseline one query, before")
    with gunicorn("wsgi:app", env) as url:
        cookie = login_cookie(url, EMAIL, PASSWORD)
        # wrk does not count 3xx as errors: make sure the cookie gets the page, not a redirect to /login.
        status, body = fetch_as_wrk(f"{url}/spaces/floors/{floor_id}/plan", cookie)
        assert status == 200 and body.count(b'class="fp-space fp-') >= 2000, status
        print(f"checked: the logged-in page is {len(body) // 1024} KiB with every space")
        ours = wrk("floor plan 2,000 spaces", f"{url}/spaces/floors/{floor_id}/plan", seconds=seconds, cookie=cookie)
        # As a browser asks for it: gzip (wrk sends no Accept-Encoding unless told).
        gz = {"Accept-Encoding": "gzip"}
        status, body = fetch_as_wrk(f"{url}/spaces/floors/{floor_id}/plan", cookie, headers=gz)
        assert status == 200 and gzip.decompress(body).count(b'class="fp-space fp-') >= 2000, status
        print(f"checked: with Accept-Encoding: gzip the same page is {len(body) // 1024} KiB on the wire")
        zipped = wrk("floor plan 2,000 spaces, gzip", f"{url}/spaces/floors/{floor_id}/plan", seconds=seconds,
                     cookie=cookie, headers=gz)
    after = run_baseline("baseline one query, after")
    ceiling = (before.requests_per_second + after.requests_per_second) / 2
    for line in (before, after, ours, zipped):
        print(line.line())
    print(f"ratio floor plan / baseline: {ours.requests_per_second / ceiling:.3f} (goal >= 0.33)")
    print(f"ratio floor plan gzip / baseline: {zipped.requests_per_second / ceiling:.3f} (goal >= 0.33)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--history", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn + wrk part")
    args = parser.parse_args()

    from bench.harness import fresh_pg_database
    from incubator import create_app

    url_db = fresh_pg_database(DB_NAME)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url_db, "RATELIMIT_ENABLED": False})
    info = build(app, args.spaces, args.small, args.history)
    print(f"database: {info['spaces']} spaces, {info['leases']} leases ({args.history} historical)")
    in_process(app, info["floors"])
    suggestion(app, info["floors"][3])
    if not args.no_load:
        under_load(url_db, info["floors"][3], args.seconds)


if __name__ == "__main__":
    main()
