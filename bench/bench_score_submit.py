"""The judge's score-submit endpoint under 16 concurrent clients, against the one-query baseline.

    PYTHONPATH=. .venv/bin/python bench/bench_score_submit.py [--seconds 10 --connections 16]

A fresh PostgreSQL database (migrations) holds one open round with a 6-criterion rubric and one
judge with --assignments entries. Both apps run under the same gunicorn settings (bench/harness.py):
the platform (wsgi:app, production config) and bench/baseline_app.py (one SELECT per request).
wrk POSTs the real scoring form (CSRF token and session cookie of a real login) with action=submit
and version=0, each request for a different assignment, so every request inserts one score. After
the run the scores table is counted: rows must equal the successful (302) requests wrk saw, give or
take the requests still in flight when wrk stopped (at most one per connection), and no error.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import re
import statistics
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import fresh_pg_database, gunicorn, wrk  # noqa: E402

PASSWORD = "Bench-2026-pass"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
USER_AGENT = "qcc-bench-wrk"


def build(url: str, n: int) -> tuple[list[int], list[int]]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.accounts.services import create_user
    from incubator.applications.models import Application, Team
    from incubator.competitions.models import Competition, Criterion, Round, Track
    from incubator.enums import Role
    from incubator.extensions import db
    from incubator.judging.models import Assignment
    from incubator.timeutils import utcnow

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        now = utcnow()
        judge = create_user("bench.judge@example.cn", "基准评委", PASSWORD, roles=[Role.JUDGE])
        # The teams are a founder's: a judge on an entry's team is in conflict with it (404).
        founder = create_user("bench.founder@example.cn", "基准创业者", PASSWORD, roles=[Role.FOUNDER])
        comp = Competition(name_zh="基准大赛", status="published", opens_at=now - timedelta(days=60),
                           closes_at=now - timedelta(days=30))
        comp.tracks.append(Track(name_zh="人工智能", position=0))
        rnd = Round(name_zh="决赛", position=0, judges_per_entry=1, aggregation="mean",
                    scoring_opens_at=now - timedelta(days=1), scoring_closes_at=now + timedelta(days=2))
        for j in range(6):
            rnd.criteria.append(Criterion(name_zh=f"评分项{j}", weight=Decimal(j + 1), max_score=Decimal(10),
                                          step=Decimal("0.5"), position=j))
        comp.rounds.append(rnd)
        db.session.add(comp)
        db.session.flush()
        conn = db.session.connection()
        conn.execute(sa.insert(Team.__table__), [{"name": f"团队{i}", "created_by_id": founder.id, "created_at": now}
                                                 for i in range(n)])
        team_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM teams ORDER BY id"))]
        conn.execute(sa.insert(Application.__table__), [
            {"competition_id": comp.id, "team_id": t, "track_id": comp.tracks[0].id, "project_name": f"项目{i}",
             "status": "submitted", "submitted_at": now, "version": 1, "one_line_pitch": "", "description": "",
             "company_name": "", "last_step": "review", "created_at": now, "updated_at": now}
            for i, t in enumerate(team_ids)])
        conn.execute(sa.text(
            "INSERT INTO assignments (round_id, application_id, judge_id, source, created_at) "
            "SELECT :r, id, :j, 'auto', now() FROM applications ORDER BY id"), {"r": rnd.id, "j": judge.id})
        ids = [r[0] for r in conn.execute(sa.select(Assignment.id).order_by(Assignment.id))]
        crit_ids = [c.id for c in rnd.criteria]
        db.session.commit()
        db.engine.dispose()
    return ids, crit_ids


def session_and_token(base: str, first_assignment: int) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]  # the login session is bound to the user agent
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    opener.open(base + "/login", data=urllib.parse.urlencode(
        {"email": "bench.judge@example.cn", "password": PASSWORD, "csrf_token": token}).encode())
    page = opener.open(f"{base}/judging/assignments/{first_assignment}").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


LUA = """
local counter = 0
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
request = function()
  local aid = FIRST + counter * THREADS + tid
  counter = counter + 1
  -- explicit headers replace wrk.headers (and the -H Cookie with them), so the cookie goes here too
  return wrk.format("POST", "/judging/assignments/" .. aid,
                    {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = COOKIE,
                     ["User-Agent"] = UA}, BODY)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15, help="per side, split over --rounds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--assignments", type=int, default=40000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-lane", action="store_true",
                        help="serve the submit through the view only (SUBMIT_LANE=0), for comparison")
    args = parser.parse_args()

    url = fresh_pg_database("incubator_bench_submit")
    ids, crit_ids = build(url, args.assignments)
    assert ids == list(range(ids[0], ids[0] + len(ids))), "assignment ids must be contiguous"
    env = {"INCUBATOR_ENV": "production", "SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": "0", "DATABASE_URL": url,
           "PUBLIC_URL": "http://127.0.0.1", "LOGIN_RATE_LIMIT": "1000 per minute", "LOG_LEVEL": "WARNING",
           "SUBMIT_LANE": "0" if args.no_lane else "1"}

    # Both servers run at once and the load alternates between them in short rounds, so a burst of
    # other work on this shared machine hits both sides of the ratio alike.
    with gunicorn("bench.baseline_app:create_baseline_app()", {"DATABASE_URL": url}, workers=args.workers,
                  ready_path="/one-query") as base_url, \
            gunicorn("wsgi:app", env, workers=args.workers, ready_path="/healthz") as app_url:
        cookie, token = session_and_token(app_url, ids[0])
        fields = {"csrf_token": token, "version": "0", "action": "submit", "comment_to_organizers": "",
                  "feedback_to_team": "路演清晰"}
        fields.update({f"c{c}": "7.5" for c in crit_ids})
        body = urllib.parse.urlencode(fields)
        baseline_runs, platform_runs = [], []
        per_round = max(2, args.seconds // args.rounds)
        for r in range(args.rounds):
            baseline_runs.append(wrk("baseline one-query GET", base_url + "/one-query",
                                     connections=args.connections, seconds=per_round))
            script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
            first = ids[0] + 1 + r * (len(ids) // args.rounds)
            script.write(f'FIRST = {first}\nTHREADS = 2\nBODY = "{body}"\nCOOKIE = "{cookie}"\n'
                         f'UA = "{USER_AGENT}"\n' + LUA)
            script.close()
            platform_runs.append(wrk("POST score submit (platform)", app_url + "/", connections=args.connections,
                                     seconds=per_round, cookie=cookie, lua=script.name))

    def combine(label, runs):
        from bench.harness import LoadResult

        return LoadResult(label, statistics.fmean(x.requests_per_second for x in runs),
                          statistics.median(x.p50_ms for x in runs), max(x.p99_ms for x in runs),
                          sum(x.requests for x in runs), sum(x.errors for x in runs), sum(x.non_2xx for x in runs))

    for x in baseline_runs + platform_runs:
        print("  round:", x.line())
    baseline = combine("baseline one-query GET", baseline_runs)
    platform = combine("POST score submit (platform)", platform_runs)

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM scores")).scalar()
        dupes = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT assignment_id FROM scores GROUP BY assignment_id HAVING count(*) > 1) d")).scalar()
        submitted = conn.execute(sa.text("SELECT count(*) FROM scores WHERE status = 'submitted'")).scalar()
    engine.dispose()
    print(baseline.line())
    print(platform.line())
    print(f"submit lane: {'off (--no-lane)' if args.no_lane else 'on'}")
    print(f"ratio platform/baseline: {platform.requests_per_second / baseline.requests_per_second:.2f} "
          f"(goal >= 0.33)")
    print(f"scores rows after the run: {rows} (submitted {submitted}, duplicates {dupes}); "
          f"wrk completed requests: {platform.requests}; errors {platform.errors}, non-2xx/3xx {platform.non_2xx}")
    lost = platform.requests - rows
    print(f"lost scores: {max(lost, 0)} (rows beyond completed requests, in flight at stop: {max(-lost, 0)})")


if __name__ == "__main__":
    main()
