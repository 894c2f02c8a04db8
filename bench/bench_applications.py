"""Managers' application list and exports with 5,000 applications on PostgreSQL, under 16
concurrent clients (wrk), as a ratio to the one-query Flask baseline served the same way in the
same run.

    PYTHONPATH=. python bench/bench_applications.py [--applications 5000 --seconds 10 --workers 4]

Data: one published competition with four tracks, 5,000 teams of two members and their
applications (about 80 % submitted), inserted in bulk (a few seconds).
"""
from __future__ import annotations

import argparse
import random
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from bench.harness import fresh_pg_database, gunicorn, login_cookie, wrk

PASSWORD = "Bench-Passw0rd-2026"
TRACKS = [("人工智能", "AI"), ("生物技术", "Biotech"), ("微电子", "Microelectronics"), ("高端装备制造", "Advanced manufacturing")]
SURNAMES = "周徐何陈李王张刘杨赵黄吴孙朱"
WORDS = ["柔性电子", "视觉质检", "病原体检测", "储能材料", "工业机器人", "智慧农业", "芯片封装", "康复医疗"]


def build_data(database_url: str, n: int) -> int:
    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.accounts.services import create_user
    from incubator.applications.models import Application, StatusChange, Team, TeamMember
    from incubator.competitions import services as comp_services
    from incubator.enums import Role
    from incubator.extensions import db
    from incubator.timeutils import utcnow

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url})
    rng = random.Random(4)
    with app.app_context():
        upgrade()
        create_user("manager@bench.example.cn", "管理员", PASSWORD, roles=[Role.MANAGER])
        founder = create_user("founder@bench.example.cn", "创业者", PASSWORD, roles=[Role.FOUNDER])
        comp = comp_services.create_competition(
            None, name_zh="青聚南湖·创赢未来", name_en="Youth competition", opens_at=utcnow() - timedelta(days=5),
            closes_at=utcnow() + timedelta(days=20), max_founder_age=35, graduated_within_years=5)
        tracks = [comp_services.add_track(None, comp, name_zh=zh, name_en=en) for zh, en in TRACKS]
        comp_services.publish_competition(None, comp)
        db.session.commit()
        now = utcnow()
        team_ids = db.session.execute(sa.insert(Team).returning(Team.id), [
            {"name": f"南湖团队{i:04d}", "created_by_id": founder.id, "created_at": now} for i in range(n)]).scalars().all()
        db.session.execute(sa.insert(TeamMember), [
            {"team_id": t, "is_lead": k == 0, "name": rng.choice(SURNAMES) + "子涵", "role_in_team": "CEO" if k == 0 else "CTO",
             "school_or_employer": "嘉兴大学", "birth_year": 1998 + k, "graduation_year": 2022, "contact": "13800000000",
             "position": k} for t in team_ids for k in range(2)])
        rows = []
        for i, t in enumerate(team_ids):
            submitted = rng.random() < 0.8
            rows.append({"competition_id": comp.id, "team_id": t, "track_id": tracks[i % 4].id,
                         "project_name": f"{rng.choice(WORDS)}项目{i:04d}", "one_line_pitch": "为长三角制造业降本增效",
                         "description": "团队来自长三角高校与研究院，计划落户中国南湖·青创城。" * 3, "stage": "prototype",
                         "funding_sought": 100 + i % 500, "desks_wanted": 1 + i % 6,
                         "status": "submitted" if submitted else "draft", "submitted_at": now if submitted else None,
                         "version": 1 if submitted else 0, "last_step": "review", "created_at": now,
                         "updated_at": now - timedelta(minutes=i)})
        app_ids = db.session.execute(sa.insert(Application).returning(Application.id), rows).scalars().all()
        db.session.execute(sa.insert(StatusChange), [
            {"application_id": a, "from_status": None, "to_status": "draft", "at": now} for a in app_ids])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        return comp.id


@contextmanager
def steady_writer(database_url: str, rate: float):
    """A thread that updates one random application `rate` times per second (its pitch and
    updated_at, committed one by one, as a founder's draft save does) while the block runs."""
    engine = sa.create_engine(database_url)
    stop = threading.Event()
    written = {"n": 0}

    def run():
        rng = random.Random(9)
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM applications"))]
            conn.rollback()
            while not stop.wait(1 / rate):
                conn.execute(sa.text("UPDATE applications SET one_line_pitch = :p, updated_at = now() WHERE id = :id"),
                             {"p": f"草稿 {written['n']}", "id": rng.choice(ids)})
                conn.commit()
                written["n"] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def _fetch(url: str, cookie: str) -> tuple[int, int]:
    """Status and body size of one request, redirects NOT followed (wrk counts a 302 as success)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", parts.path + "?" + parts.query, headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, len(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--writes", type=float, nargs="*", default=[2.0, 20.0],
                        help="also measure the list while a founder-like writer changes this many applications per second")
    args = parser.parse_args()

    url = fresh_pg_database("incubator_bench_applications")
    started = time.monotonic()
    comp_id = build_data(url, args.applications)
    print(f"data: {args.applications} applications in {time.monotonic() - started:.1f} s")
    env = {"DATABASE_URL": url, "INCUBATOR_ENV": "development", "LOG_LEVEL": "WARNING",
           "RATELIMIT_STORAGE_URI": "memory://", "LOGIN_RATE_LIMIT": "1000 per minute"}
    def run_baseline(label):
        with gunicorn("bench.baseline_app:create_baseline_app()", env, workers=args.workers,
                      ready_path="/one-query") as base:
            result = wrk(label, base + "/one-query", seconds=args.seconds)
        print(result.line())
        return result

    # Measured before AND after the platform: on a shared machine the load of others changes
    # within a minute, and one baseline alone made the ratio swing by a factor of five.
    before = run_baseline("baseline before: one query")
    results = []
    with gunicorn("wsgi:app", env, workers=args.workers) as site:
        cookie = login_cookie(site, "manager@bench.example.cn", PASSWORD)
        for label, path in [
            ("list page 1 (50 rows)", f"/manage/applications?competition_id={comp_id}"),
            ("list filtered + keyword", f"/manage/applications?competition_id={comp_id}&status=submitted&q=%E6%9F%94"),
        ]:
            status, size = _fetch(site + path, cookie)
            print(f"{label}: one request answers {status}, {size} bytes")
            result = wrk(label, site + path, seconds=args.seconds, cookie=cookie)
            results.append(result)
            print(result.line())
        # The page cache is keyed by the data's version: every saved draft anywhere changes it. So the
        # list is measured again while a writer saves applications at a steady rate, as founders do
        # during the application window (each write makes every worker render the page once more).
        list_path = f"/manage/applications?competition_id={comp_id}"
        for rate in args.writes:
            with steady_writer(url, rate) as written:
                result = wrk(f"list page 1 while {rate:g} writes/s", site + list_path, seconds=args.seconds, cookie=cookie)
            results.append(result)
            print(result.line() + f"  ({written['n']} writes during the run)")
        # Exports last: wrk stops after --seconds but the workers still finish the queued exports
        # (seconds each), which would starve whatever is measured next.
        for label, path in [
            ("export CSV (all rows)", f"/manage/applications/export.csv?competition_id={comp_id}"),
            ("export XLSX (all rows)", f"/manage/applications/export.xlsx?competition_id={comp_id}"),
        ]:
            status, size = _fetch(site + path, cookie)
            print(f"{label}: one request answers {status}, {size} bytes")
            result = wrk(label, site + path, seconds=args.seconds, cookie=cookie)
            results.append(result)
            print(result.line())
    after = run_baseline("baseline after: one query")
    ceiling = (before.requests_per_second + after.requests_per_second) / 2
    for result in results:
        print(f"ratio {result.requests_per_second / ceiling:.3f}  {result.label} (to the mean baseline {ceiling:.1f} req/s)")


if __name__ == "__main__":
    main()
