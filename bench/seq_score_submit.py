"""Server time of the score submit, sequentially and in process (no gunicorn, no wrk): the production
config through the Flask test client, one judge, 380 timed POSTs after 20 warm-up, /healthz timed
between them as a gauge of the machine's noise. Creates the database incubator_bench_submit_prof.

    PYTHONPATH=. .venv/bin/python bench/seq_score_submit.py LABEL
"""
import os, re, sys, time, statistics
sys.path.insert(0, os.getcwd())
N = 400
os.environ.update({"INCUBATOR_ENV": "production", "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789", "SESSION_COOKIE_SECURE": "0",
                   "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/incubator_bench_submit_prof", "PUBLIC_URL": "http://127.0.0.1",
                   "LOGIN_RATE_LIMIT": "1000 per minute", "LOG_LEVEL": "WARNING"})
from bench.harness import fresh_pg_database
from bench import bench_score_submit as b
url = fresh_pg_database("incubator_bench_submit_prof")
ids, crit_ids = b.build(url, N + 50)
from incubator import create_app
app = create_app("production"); app.config["PREFERRED_URL_SCHEME"] = "http"
c = app.test_client(); H = {"User-Agent": b.USER_AGENT}
tok = lambda p: re.search(r'name="csrf_token"[^>]*value="([^"]+)"', p).group(1)
t = tok(c.get("/login", headers=H).get_data(as_text=True))
c.post("/login", data={"email": "bench.judge@example.cn", "password": b.PASSWORD, "csrf_token": t}, headers=H)
t = tok(c.get(f"/judging/assignments/{ids[0]}", headers=H).get_data(as_text=True))
fields = {"csrf_token": t, "version": "0", "action": "submit", "comment_to_organizers": "", "feedback_to_team": "路演清晰"}
fields.update({f"c{x}": "7.5" for x in crit_ids})
post_t, hz_t = [], []
for i in range(1, N):
    t0 = time.perf_counter(); r = c.post(f"/judging/assignments/{ids[i]}", data=fields, headers=H); t1 = time.perf_counter()
    assert r.status_code == 302 and "saved=submitted" in r.headers["Location"]
    c.get("/healthz"); t2 = time.perf_counter()
    if i > 20: post_t.append((t1 - t0) * 1000); hz_t.append((t2 - t1) * 1000)
label = sys.argv[1] if len(sys.argv) > 1 else "submit"
print(f"{label}: submit median {statistics.median(post_t):.2f} ms (p25 {statistics.quantiles(post_t, n=4)[0]:.2f}, min {min(post_t):.2f}); healthz median {statistics.median(hz_t):.2f} ms")
