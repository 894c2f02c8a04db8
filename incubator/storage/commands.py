"""`flask storage init|check|cleanup`."""
from __future__ import annotations

from urllib.parse import urlsplit

import botocore.exceptions
import click
from flask import current_app
from flask.cli import AppGroup

from .client import StorageUnavailable, _error_code, get_storage

storage_cli = AppGroup("storage", help="The S3 file store: bucket setup, health check, upload cleanup.")

CORS_MAX_AGE_SECONDS = 3000


def upload_cors_rule(public_url: str) -> dict:
    """What browser uploads from the platform's pages need: POST the form, GET/HEAD for downloads,
    and the ETag visible to scripts."""
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else public_url.rstrip("/")
    return {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["POST", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": CORS_MAX_AGE_SECONDS,
    }


def _same_rule(a: dict, b: dict) -> bool:
    keys = ("AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders")
    return all(sorted(a.get(k) or []) == sorted(b.get(k) or []) for k in keys)


def init_bucket() -> list[str]:
    """Create the bucket if missing and add the upload CORS rule if absent; idempotent.
    Returns lines saying what was done (warnings start with "warning:")."""
    storage = get_storage()
    client = storage.client
    bucket = storage.bucket
    said: list[str] = []
    try:
        try:
            client.head_bucket(Bucket=bucket)
            said.append(f"bucket {bucket} exists")
        except botocore.exceptions.ClientError as exc:
            if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            params = {"Bucket": bucket}
            if storage.settings.region not in ("us-east-1", ""):
                params["CreateBucketConfiguration"] = {"LocationConstraint": storage.settings.region}
            client.create_bucket(**params)
            said.append(f"bucket {bucket} created")

        wanted = upload_cors_rule(current_app.config["PUBLIC_URL"])
        try:
            rules = client.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
        except botocore.exceptions.ClientError as exc:
            if _error_code(exc) not in ("NoSuchCORSConfiguration", "404", "NotImplemented"):
                raise
            rules = []
        if any(_same_rule(rule, wanted) for rule in rules):
            said.append(f"CORS rule for {wanted['AllowedOrigins'][0]} already set")
        else:
            try:
                client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [*rules, wanted]})
                said.append(f"CORS rule for {wanted['AllowedOrigins'][0]} added")
            except botocore.exceptions.ClientError as exc:
                # Some gateways refuse bucket CORS. SeaweedFS 4.x accepts the rule and applies it to
                # object paths; preflights on the bucket root (where a path-style POST goes) are
                # answered from its -s3.allowedOrigins (default "*"), so uploads work either way.
                said.append(f"warning: the store refused the CORS rule ({_error_code(exc)}); make sure it allows "
                            f"POST from {wanted['AllowedOrigins'][0]} (SeaweedFS: -s3.allowedOrigins)")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise StorageUnavailable() from exc
    return said


@storage_cli.command("init")
def init_cmd() -> None:
    """Create the bucket if missing and set the CORS rule browser uploads need (idempotent)."""
    try:
        lines = init_bucket()
    except StorageUnavailable as exc:
        cause = exc.__cause__
        raise click.ClickException(
            f"the store at {get_storage().settings.endpoint_url} did not answer: {cause or exc}") from exc
    for line in lines:
        click.echo(line, err=line.startswith("warning:"))


@storage_cli.command("check")
def check_cmd() -> None:
    """Say whether the bucket answers."""
    storage = get_storage()
    try:
        storage.check()
    except StorageUnavailable as exc:
        raise click.ClickException(f"bucket {storage.bucket} at {storage.settings.endpoint_url}: {exc.__cause__}") from exc
    click.echo(f"bucket {storage.bucket} at {storage.settings.endpoint_url or 'AWS'} answers")


@storage_cli.command("cleanup")
@click.option("--older-than-hours", default=24, show_default=True, type=int)
def cleanup_cmd(older_than_hours: int) -> None:
    """Remove uploads never confirmed (what the scheduled job runs)."""
    from .services import remove_unconfirmed_uploads

    result = remove_unconfirmed_uploads(older_than_hours)
    click.echo(f"removed {result['tickets_removed']} unconfirmed uploads, {result['orphans_removed']} orphan objects "
               f"and {result['multipart_uploads_aborted']} unfinished multipart uploads")
