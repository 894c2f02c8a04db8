"""`flask storage init|check|cleanup` against the session SeaweedFS."""
from __future__ import annotations

import uuid

import pytest

from s3_helpers import http


@pytest.fixture
def fresh_bucket(app):
    """A bucket name that does not exist yet; removed afterwards."""
    from incubator.storage import get_storage

    name = f"init-{uuid.uuid4().hex[:12]}"
    app.config["S3_BUCKET"] = name
    yield name
    client = get_storage(app).client
    try:
        client.delete_bucket(Bucket=name)
    except Exception:  # already gone: nothing to tidy
        pass


def test_storage_init_creates_bucket_and_cors_rule_once(app, fresh_bucket):
    from incubator.storage import get_storage

    runner = app.test_cli_runner()
    first = runner.invoke(args=["storage", "init"])
    assert first.exit_code == 0, first.output
    assert f"bucket {fresh_bucket} created" in first.output
    assert "CORS rule for http://127.0.0.1 added" in first.output

    second = runner.invoke(args=["storage", "init"])
    assert second.exit_code == 0, second.output
    assert f"bucket {fresh_bucket} exists" in second.output
    assert "CORS rule for http://127.0.0.1 already set" in second.output

    rules = get_storage(app).client.get_bucket_cors(Bucket=fresh_bucket)["CORSRules"]
    assert len(rules) == 1
    assert rules[0]["AllowedOrigins"] == ["http://127.0.0.1"]
    assert sorted(rules[0]["AllowedMethods"]) == ["GET", "HEAD", "POST"]
    assert rules[0]["ExposeHeaders"] == ["ETag"]

    # SeaweedFS applies the rule to object paths: the platform's origin may, another may not.
    url = f"{app.config['S3_ENDPOINT_URL']}/{fresh_bucket}/decks/2026/x"
    allowed = http(url, method="OPTIONS", headers={"Origin": "http://127.0.0.1", "Access-Control-Request-Method": "POST"})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1"
    foreign = http(url, method="OPTIONS", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_storage_init_keeps_existing_cors_rules(app, fresh_bucket):
    from incubator.storage import get_storage

    client = get_storage(app).client
    client.create_bucket(Bucket=fresh_bucket)
    other = {"AllowedOrigins": ["https://admin.example.cn"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}
    client.put_bucket_cors(Bucket=fresh_bucket, CORSConfiguration={"CORSRules": [other]})
    app.config["PUBLIC_URL"] = "https://qcc.example.cn/platform/"

    result = app.test_cli_runner().invoke(args=["storage", "init"])
    assert result.exit_code == 0, result.output
    assert "CORS rule for https://qcc.example.cn added" in result.output
    origins = [r["AllowedOrigins"] for r in client.get_bucket_cors(Bucket=fresh_bucket)["CORSRules"]]
    assert origins == [["https://admin.example.cn"], ["https://qcc.example.cn"]]


def test_storage_check_and_cleanup_commands(app):
    runner = app.test_cli_runner()
    check = runner.invoke(args=["storage", "check"])
    assert check.exit_code == 0 and "answers" in check.output
    cleanup = runner.invoke(args=["storage", "cleanup"])
    assert cleanup.exit_code == 0, cleanup.output
    assert "removed 0 unconfirmed uploads" in cleanup.output


def test_storage_status_page_is_for_managers_only(client, make_user, login_as):
    from incubator.enums import Role

    assert client.get("/manage/storage/").status_code == 302  # to the login page
    login_as(make_user(Role.FOUNDER, Role.JUDGE))
    assert client.get("/manage/storage/").status_code == 403
