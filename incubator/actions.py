"""A view's one write: run the service call, commit once and say so, or roll back and show the rule
it broke (a DomainError's message, already in the user's language) where the user can act on it."""
from __future__ import annotations

from flask import flash, redirect

from .errors import DomainError
from .extensions import db


def refuse(exc: DomainError, target: str):
    """Nothing of the refused change stays: roll back, flash its message, go to `target`."""
    db.session.rollback()
    flash(str(exc.message), "danger")
    return redirect(target)


def commit_or_refuse(do, success, done_url: str, fail_url: str | None = None):
    """Run `do()`; on a DomainError, refuse() to `fail_url` (`done_url` by default); otherwise commit
    once, flash `success` (a text, a function of what `do` returned, or None for no message) and go
    to `done_url`."""
    try:
        result = do()
    except DomainError as exc:
        return refuse(exc, fail_url or done_url)
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return redirect(done_url)
