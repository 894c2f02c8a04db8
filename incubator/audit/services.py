"""Recording decisions. Services call record() inside the transaction of the change itself, so a
rolled-back change leaves no audit row and a committed one always has it."""
from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from ..extensions import db
from .models import AuditRecord


def _target_identity(target: Any) -> tuple[str, str | None, str | None]:
    if target is None:
        return ("system", None, None)
    if isinstance(target, tuple):
        kind, ident = target[0], target[1]
        label = target[2] if len(target) > 2 else None
        return (str(kind), None if ident is None else str(ident), label)
    kind = getattr(target, "__tablename__", type(target).__name__)
    ident = getattr(target, "id", None)
    label = getattr(target, "audit_label", None) or getattr(target, "name", None) or getattr(target, "email", None)
    return (kind, None if ident is None else str(ident), None if label is None else str(label)[:255])


def record(actor, action: str, target: Any = None, before: dict | None = None, after: dict | None = None) -> AuditRecord:
    """Add an audit row to the current transaction. `target` is a model instance or a tuple
    (type, id[, label]). Flushes so the target's id is known when it was just created."""
    if target is not None and not isinstance(target, tuple) and getattr(target, "id", None) is None:
        db.session.flush()
    kind, ident, label = _target_identity(target)
    row = AuditRecord(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=kind,
        target_id=ident,
        target_label=label,
        before=before,
        after=after,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(row)
    return row
