"""Settings for the 青创城 platform, one class per environment.

Every setting comes from an environment variable; the default beside it is what a newcomer gets
with `make run` (SQLite in instance/, a local SeaweedFS on 127.0.0.1:8333, mail to a local SMTP
port). The README lists them all in one table.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

# A development key is fine on a laptop; production refuses to start with it (see ProductionConfig).
DEV_SECRET_KEY = "dev-only-not-secret-qingchuangcheng"


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


class ConfigurationError(RuntimeError):
    """A setting makes the platform unsafe or unable to start; the message says which, in one line."""


class Config:
    ENV_NAME = "base"
    SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)

    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'incubator.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled server connection idle longer than this is pinged before use (a dropped one is
    # replaced); a busy one is not, which saves a round trip on every request under load.
    DB_PING_AFTER_IDLE_SECONDS = env_int("DB_PING_AFTER_IDLE_SECONDS", 5)
    SQLITE_BUSY_TIMEOUT_MS = env_int("SQLITE_BUSY_TIMEOUT_MS", 15000)

    # The address people use to reach the platform: links in mail, the CORS origin of the bucket.
    PUBLIC_URL = env("PUBLIC_URL", "http://127.0.0.1:5000")

    S3_ENDPOINT_URL = env("S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    S3_BUCKET = env("S3_BUCKET", "incubator")
    S3_REGION = env("S3_REGION", "us-east-1")
    S3_ACCESS_KEY_ID = env("S3_ACCESS_KEY_ID", "incubator-dev")
    S3_SECRET_ACCESS_KEY = env("S3_SECRET_ACCESS_KEY", "incubator-dev-secret")
    S3_ADDRESSING_STYLE = env("S3_ADDRESSING_STYLE", "path")  # "path" or "virtual"
    # Largest pitch deck (PDF/PPTX) in bytes, signed into each presigned POST. The no-JS upload
    # goes through the app, so keep MAX_CONTENT_LENGTH above it.
    DECK_MAX_BYTES = env_int("DECK_MAX_BYTES", 50 * 1024 * 1024)

    MAIL_SERVER = env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = env_int("MAIL_PORT", 8025)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "青创城 <noreply@qingchuangcheng.local>")
    MAIL_TIMEOUT_SECONDS = env_int("MAIL_TIMEOUT_SECONDS", 10)

    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none; the address seen is
    # the client's). Behind one proxy every request comes from its address: without this the rate
    # limits and the login records would treat all people as one.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

    BABEL_DEFAULT_LOCALE = env("BABEL_DEFAULT_LOCALE", "zh_CN")
    BABEL_DEFAULT_TIMEZONE = env("TIMEZONE", "Asia/Shanghai")
    TIMEZONE = BABEL_DEFAULT_TIMEZONE
    LANGUAGES = ("zh_CN", "en")

    # Cookies: HttpOnly and SameSite=Lax everywhere, Secure in production.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=env_int("REMEMBER_DAYS", 14))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("SESSION_HOURS", 12))

    WTF_CSRF_TIME_LIMIT = env_int("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 60 * 1024 * 1024)

    PASSWORD_RESET_MAX_AGE = env_int("PASSWORD_RESET_MAX_AGE", 3600)
    INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

    LOG_LEVEL = env("LOG_LEVEL", "INFO")

    # Each gunicorn worker ranks the rounds being judged as it starts (gunicorn.conf.py,
    # judging.services.warm_at_start): its first leaderboard or rankings request then does not rank
    # 15,000 score sheets from nothing.
    WARM_RANKINGS = env_bool("WARM_RANKINGS", True)
    # A ranking built from nothing leaves the cyclic garbage collector's generations
    # (judging.services._out_of_collector): 20 to 30 ms less in the request that ranks.
    GC_FREEZE_RANKINGS = env_bool("GC_FREEZE_RANKINGS", True)
    # The judges' score submit is served beside the full request stack (judging/submit_lane.py);
    # anything but a plain success goes to the view as before.
    SUBMIT_LANE = env_bool("SUBMIT_LANE", True)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # the reloader would start a second scheduler; `make run` serves without it


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WARM_RANKINGS = False
    GC_FREEZE_RANKINGS = False  # an app per test: frozen, their reference cycles would never be freed
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.sqlite3"))
    SERVER_NAME = None


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 1)  # the documented deployment: gunicorn on loopback behind one proxy

    @classmethod
    def validate(cls) -> None:
        key = env("SECRET_KEY")
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise ConfigurationError(
                "Refusing to start in production: set SECRET_KEY to a random value of at least 32 "
                "characters (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )


config_by_name = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
