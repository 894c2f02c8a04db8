"""Peak memory of the gunicorn web worker while five 50 MB decks upload straight to SeaweedFS.

    PYTHONPATH=. python bench/bench_upload_memory.py [--decks 5 --megabytes 50]

One worker (so "the web process" is one pid), PostgreSQL, a SeaweedFS of its own. The founder's
browser is played by this script: it asks the platform for a presigned POST per deck, POSTs the
five files to the store at the same time, then asks the platform to confirm each one (HEAD and
ranged GETs). VmHWM (peak resident set) and VmRSS of the worker are read from /proc/<pid>/status
at idle (after warm-up requests), after the five direct uploads and confirmations, and, for
contrast, after one deck sent through the no-JavaScript fallback (through the process, streamed).
"""
from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import re
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

from bench.harness import fresh_pg_database, gunicorn

PASSWORD = "Bench-Passw0rd-2026"
ACCESS, SECRET, BUCKET = "bench-access", "bench-secret-0123456789", "incubator-bench"


def build_data(database_url: str) -> int:
    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.accounts.services import create_user
    from incubator.applications.services import start_application
    from incubator.competitions import services as comp_services
    from incubator.enums import Role
    from incubator.extensions import db
    from incubator.timeutils import utcnow

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        founder = create_user("founder@bench.example.cn", "创业者", PASSWORD, roles=[Role.FOUNDER])
        comp = comp_services.create_competition(
            None, name_zh="青聚南湖·创赢未来", name_en="Youth competition", opens_at=utcnow() - timedelta(days=1),
            closes_at=utcnow() + timedelta(days=20), max_founder_age=35)
        comp_services.add_track(None, comp, name_zh="人工智能", name_en="AI")
        comp_services.publish_competition(None, comp)
        application = start_application(founder, comp)
        db.session.commit()
        return application.id


def worker_pid(port: int) -> int:
    """The gunicorn worker serving `port`: the process with our bind address whose parent has it too."""
    procs = {}
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmd = status.read_bytes().replace(b"\0", b" ").decode()
            ppid = int(re.search(r"PPid:\s+(\d+)", (status.parent / "status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
        if "gunicorn" in cmd and f"127.0.0.1:{port}" in cmd:
            procs[int(status.parent.name)] = ppid
    workers = [pid for pid, ppid in procs.items() if ppid in procs]
    assert len(workers) == 1, procs
    return workers[0]


def memory(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+) kB", text).group(1)) // 1024 for k in ("VmHWM", "VmRSS")}


class Browser:
    """Cookies and CSRF like a browser; no User-Agent (as in the list benchmark)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.addheaders = []

    def csrf(self, path: str) -> str:
        page = self.opener.open(self.base + path).read().decode()
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def post(self, path: str, fields: dict, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode(),
                                         headers=headers or {}, method="POST")
        try:
            with self.opener.open(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post_multipart(self, path: str, fields: dict, filename: str, content: bytes) -> int:
        boundary = uuid.uuid4().hex
        body = _multipart(boundary, fields, filename, content, "application/pdf")
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


def _multipart(boundary: str, fields: dict, filename: str, content: bytes, file_type: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {file_type}\r\n\r\n".encode())
    return b"".join(parts) + content + f"\r\n--{boundary}--\r\n".encode()


def post_to_store(url: str, fields: dict, content: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = _multipart(boundary, fields, "deck.pdf", content, "application/pdf")
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    conn.request("POST", parts.path or "/", body=body,
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    status = conn.getresponse().status
    conn.close()
    return status


def main() -> None:
    from incubator.devstack import SeaweedFS

    parser = argparse.ArgumentParser()
    parser.add_argument("--decks", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    size = args.megabytes * 1024 * 1024
    content = b"%PDF-1.7\n" + b"0" * (size - 9)

    url = fresh_pg_database("incubator_bench_upload")
    application_id = build_data(url)
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        store = SeaweedFS(Path(tmp), access_key=ACCESS, secret_key=SECRET, bucket=BUCKET).start()
        try:
            env = {"DATABASE_URL": url, "INCUBATOR_ENV": "development", "LOG_LEVEL": "WARNING",
                   "S3_ENDPOINT_URL": store.endpoint_url, "S3_BUCKET": BUCKET, "S3_ACCESS_KEY_ID": ACCESS,
                   "S3_SECRET_ACCESS_KEY": SECRET, "S3_ADDRESSING_STYLE": "path",
                   "DECK_MAX_BYTES": str(size + 1024), "MAX_CONTENT_LENGTH": str(size + 4 * 1024 * 1024)}
            with gunicorn("wsgi:app", env, workers=1) as site:
                pid = worker_pid(int(site.rsplit(":", 1)[1]))
                browser = Browser(site)
                token = browser.csrf("/login")
                browser.post("/login", {"email": "founder@bench.example.cn", "password": PASSWORD, "csrf_token": token})
                deck_path = f"/applications/{application_id}/deck"
                for _ in range(20):  # warm-up: templates compiled, pools filled
                    token = browser.csrf(deck_path)
                # ... and one small deck the same way, so the boto3 client (its service model is
                # ~15 MB) is loaded before "idle" is read: that cost does not depend on file size.
                status, body = browser.post(f"{deck_path}/ticket", {"filename": "warm-up.pdf", "size": 1000},
                                            {"X-CSRFToken": token, "Accept": "application/json"})
                warm = json.loads(body)
                post_to_store(warm["url"], warm["fields"], content[:1000])
                browser.post(f"{deck_path}/confirm", {"ticket_id": warm["ticket_id"]},
                             {"X-CSRFToken": token, "Accept": "application/json"})
                for _ in range(20):
                    browser.csrf(deck_path)
                idle = memory(pid)

                tickets = []
                for i in range(args.decks):
                    status, body = browser.post(f"{deck_path}/ticket", {"filename": f"商业计划书{i}.pdf", "size": size},
                                                {"X-CSRFToken": token, "Accept": "application/json"})
                    assert status == 200, body[:300]
                    tickets.append(json.loads(body))
                samples = []
                done = threading.Event()

                def sample():
                    while not done.is_set():
                        samples.append(memory(pid)["VmRSS"])
                        time.sleep(0.05)

                sampler = threading.Thread(target=sample)
                sampler.start()
                started = time.monotonic()
                results: list[int] = []
                threads = [threading.Thread(target=lambda t=t: results.append(post_to_store(t["url"], t["fields"], content)))
                           for t in tickets]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                upload_seconds = time.monotonic() - started
                for t in tickets:
                    status, body = browser.post(f"{deck_path}/confirm", {"ticket_id": t["ticket_id"]},
                                                {"X-CSRFToken": token, "Accept": "application/json"})
                    assert status == 200, body[:300]
                done.set()
                sampler.join()
                after_direct = memory(pid)

                status = browser.post_multipart(deck_path, {"csrf_token": token}, "商业计划书-nojs.pdf", content)
                after_fallback = memory(pid)
                page = browser.opener.open(site + deck_path).read().decode()
                versions = len(re.findall(r">v\d+", page))
        finally:
            store.stop()

    print(f"{args.decks} decks of {args.megabytes} MB straight to SeaweedFS in {upload_seconds:.1f} s, "
          f"store answers {sorted(results)}; no-JS fallback answered {status} (after its redirect); "
          f"deck versions listed: {versions}")
    print(f"worker idle:                         VmHWM {idle['VmHWM']} MB, VmRSS {idle['VmRSS']} MB")
    print(f"after {args.decks} direct uploads + confirms:  VmHWM {after_direct['VmHWM']} MB, VmRSS "
          f"{after_direct['VmRSS']} MB (max RSS sampled during: {max(samples) if samples else 0} MB)")
    print(f"after one {args.megabytes} MB no-JS upload:     VmHWM {after_fallback['VmHWM']} MB, VmRSS "
          f"{after_fallback['VmRSS']} MB")


if __name__ == "__main__":
    main()
