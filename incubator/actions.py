"""A view's one write: run the service call, commit once and say so, or roll back and show the rule
it broke (a DomainError's message, already in the user's language) where the user can act on it:
flashed on the page a button leads back to (commit_or_refuse), or next to its field when a form
is shown again (save_form)."""
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


def save_form(form, save, success, done_url):
    """A form's POST: validate, run `save()`, commit once, flash `success` and go on to `done_url` (a
    URL or a function of what `save` returned). Returns (that redirect, None), or (None, status) for
    the caller to show the form again: 200 before any POST, 400 for invalid input, the refusal's own
    status (400, 403, 409) with its message next to its field, or flashed when it names none."""
    if not form.validate_on_submit():
        return None, (400 if form.errors else 200)
    try:
        result = save()
    except DomainError as exc:
        db.session.rollback()
        target = getattr(form, exc.field, None) if exc.field else None
        if target is not None:
            target.errors = list(target.errors) + [exc.message]
        else:
            flash(str(exc.message), "danger")
        return None, exc.status_code
    db.session.commit()
    flash(success, "success")
    return redirect(done_url(result) if callable(done_url) else done_url), None
