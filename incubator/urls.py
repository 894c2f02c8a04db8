"""Redirect targets taken from requests must stay on this site (no open redirects)."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, fallback: str) -> str:
    """Return `target` if it is a local path such as `/apply?step=2`, else `fallback`."""
    if not target or len(target) > 2000:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
