"""Shared pieces of the HTTP benchmarks: gunicorn servers on loopback, wrk as the load generator
(16 concurrent connections by default), and the platform-vs-baseline ratio measured in one run.

Only 127.0.0.1 is ever targeted. Every run is bounded in time.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    from incubator.devstack import free_port as _free_port

    return _free_port()


def fresh_pg_database(name: str) -> str:
    """Drop and create a PostgreSQL database for a benchmark; return its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@contextmanager
def gunicorn(app_spec: str, env: dict, *, workers: int = 4, threads: int = 1, ready_path: str = "/healthz"):
    """Serve `app_spec` (e.g. 'wsgi:app' or 'bench.baseline_app:create_baseline_app()') on a free port."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + ready_path, timeout=2) as r:
                    if r.status < 500:
                        break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}")
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class LoadResult:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx: int

    def line(self) -> str:
        return (f"{self.label:<34} {self.requests_per_second:9.1f} req/s   p50 {self.p50_ms:7.1f} ms   "
                f"p99 {self.p99_ms:7.1f} ms   n={self.requests} errors={self.errors} non2xx={self.non_2xx}")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(label: str, url: str, *, connections: int = 16, seconds: int = 10, cookie: str | None = None,
        lua: str | None = None, headers: dict[str, str] | None = None) -> LoadResult:
    """Closed-loop load: `connections` clients each sending the next request when the last answers.

    wrk sends no Accept-Encoding of its own: pass e.g. ``headers={"Accept-Encoding": "gzip"}`` to
    measure what a browser gets (wrk does not decompress, it counts the bytes on the wire)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make bench installs it)")
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if lua:
        cmd += ["-s", lua]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return LoadResult(label, rps, _ms(*p50.groups()), _ms(*p99.groups()), total,
                      sum(int(x) for x in errors.groups()) if errors else 0, int(non2xx.group(1)) if non2xx else 0)


def login_cookie(base_url: str, email: str, password: str) -> str:
    """Log in through the real form (CSRF included) and return the Cookie header value.

    No User-Agent header, exactly as wrk asks: Flask-Login's "strong" session protection binds the
    session to a hash of address and User-Agent, and would drop a session logged in with
    urllib's agent, so every measured request would be a cheap redirect to /login."""
    import http.cookiejar
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = []
    page = opener.open(base_url + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    opener.open(base_url + "/login", data=data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def fetch_as_wrk(url: str, cookie: str | None = None, timeout: float = 60,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET like wrk does (no User-Agent, no redirect following): check a benchmark really measures
    the page, since wrk counts a 302 to the login page as a success."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    opener.addheaders = []
    request = urllib.request.Request(url, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
