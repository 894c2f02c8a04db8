"""Where the CPU of a loaded request goes: the gunicorn workers, PostgreSQL and the rest, per request.

    PYTHONPATH=. .venv/bin/python bench/cpu_split_submit.py {platform,healthz,baseline} [--seconds 6]

Builds the database of bench_score_submit, serves one side with gunicorn (4 sync workers), loads
it with wrk (16 connections) and reads the CPU time every process spent (/proc/<pid>/stat) before
and after: `platform` is the judges' score submit, `healthz` the platform's /healthz (the whole
request stack, no login, one query), `baseline` the one-query view of bench/baseline_app.py. Also
prints the machine's idle share over the run: near 0 means the two cores were saturated, and then
CPU per request is what bounds the requests per second.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_score_submit as submit  # noqa: E402
from bench.harness import fresh_pg_database, gunicorn, wrk  # noqa: E402


def cpu_ticks_by_kind() -> dict[str, int]:
    """Clock ticks of user and system time per kind of process: postgres, gunicorn, wrk, other."""
    out: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline") as f:
                cmd = f.read().replace("\0", " ")
        except OSError:  # the process ended meanwhile
            continue
        kind = ("postgres" if "postgres" in cmd else "gunicorn" if "gunicorn" in cmd
                else "wrk" if cmd.startswith("wrk") else "other")
        out[kind] = out.get(kind, 0) + int(fields[11]) + int(fields[12])
    return out


def machine_ticks() -> tuple[int, int]:
    """(all, idle) clock ticks of the machine so far."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields), fields[3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=("platform", "healthz", "baseline"))
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()

    url = fresh_pg_database("incubator_bench_submit")
    ids, crit_ids = submit.build(url, 20000)
    env = {"INCUBATOR_ENV": "production", "SECRET_KEY": submit.SECRET, "SESSION_COOKIE_SECURE": "0",
           "DATABASE_URL": url, "PUBLIC_URL": "http://127.0.0.1", "LOGIN_RATE_LIMIT": "1000 per minute",
           "LOG_LEVEL": "WARNING"}
    if args.side == "baseline":
        served = gunicorn("bench.baseline_app:create_baseline_app()", {"DATABASE_URL": url}, ready_path="/one-query")
    else:
        served = gunicorn("wsgi:app", env, ready_path="/healthz")
    with served as base:
        lua = None
        if args.side == "platform":
            cookie, token = submit.session_and_token(base, ids[0])
            fields = {"csrf_token": token, "version": "0", "action": "submit", "comment_to_organizers": "",
                      "feedback_to_team": "路演清晰"}
            fields.update({f"c{c}": "7.5" for c in crit_ids})
            body = urllib.parse.urlencode(fields)
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(f'FIRST = {ids[0] + 1}\nTHREADS = 2\nBODY = "{body}"\nCOOKIE = "{cookie}"\n'
                             f'UA = "{submit.USER_AGENT}"\n' + submit.LUA)
            lua = script.name
        before, (all_before, idle_before) = cpu_ticks_by_kind(), machine_ticks()
        if args.side == "platform":
            result = wrk("POST score submit (platform)", base + "/", connections=16, seconds=args.seconds,
                         cookie=cookie, lua=lua)
        else:
            path = "/healthz" if args.side == "healthz" else "/one-query"
            result = wrk(f"GET {path}", base + path, connections=16, seconds=args.seconds)
        after, (all_after, idle_after) = cpu_ticks_by_kind(), machine_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    print(result.line())
    for kind in sorted(after):
        spent = (after[kind] - before.get(kind, 0)) / hz * 1000 / max(result.requests, 1)
        print(f"  {kind:<9} {spent:6.3f} ms of CPU per request")
    print(f"  machine idle {100 * (idle_after - idle_before) / (all_after - all_before):.0f} % of the run")


if __name__ == "__main__":
    main()
