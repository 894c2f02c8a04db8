"""Recording decisions. Services call record() inside the transaction of the change itself, so a
rolled-back change leaves no audit row and a committed one always has it."""
from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from ..extensions import db
from ..timeutils import utcnow
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


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _row(actor, action: str, target: Any, before: dict | None, after: dict | None) -> dict:
    kind, ident, label = _target_identity(target)
    return dict(actor_id=getattr(actor, "id", None), action=action, target_type=kind, target_id=ident,
                target_label=label, before=before, after=after, request_id=_request_id())


def record(actor, action: str, target: Any = None, before: dict | None = None, after: dict | None = None) -> AuditRecord:
    """Add an audit row to the current transaction. `target` is a model instance or a tuple
    (type, id[, label]). Flushes so the target's id is known when it was just created."""
    if target is not None and not isinstance(target, tuple) and getattr(target, "id", None) is None:
        db.session.flush()
    row = AuditRecord(**_row(actor, action, target, before, after))
    db.session.add(row)
    return row


def record_now(actor, action: str, target: tuple, before: dict | None = None, after: dict | None = None) -> None:
    """record() as one INSERT run at once in the current transaction, with no ORM object: for a hot
    path whose own writes are Core statements too (the judges' score submit), so that its commit
    has nothing to flush. Loops keep record(): the flush batches their rows into one statement."""
    db.session.connection().execute(_insert_statement(), _row(actor, action, target, before, after))


@functools.cache
def _insert_statement():
    return sa.insert(AuditRecord.__table__)


def with_audit_row(write, target_type: str):
    """PostgreSQL only: `write` (an INSERT or UPDATE .. RETURNING the target's id) and its audit row
    as one statement, a data-modifying WITH, for a request that writes with a single statement
    (pagecache.one_statement_post). Run it with audit_parameters(); it returns the written id, and
    no row (and no audit row) when the write wrote nothing."""
    table = AuditRecord.__table__
    written = write.cte("audited_write")
    row = sa.insert(table).from_select(
        ["created_at", "actor_id", "action", "target_type", "target_id", "after", "request_id"],
        sa.select(*(sa.bindparam(f"audit_{name}", type_=table.c[name].type)
                    for name in ("created_at", "actor_id", "action")),
                  sa.literal(target_type, table.c.target_type.type),
                  sa.cast(written.c.id, table.c.target_id.type),
                  *(sa.bindparam(f"audit_{name}", type_=table.c[name].type) for name in ("after", "request_id")))
        .select_from(written))
    return sa.select(written.c.id).add_cte(row.cte("audit_row"))


def audit_parameters(actor, action: str, after: dict | None = None) -> dict:
    """The parameters of a with_audit_row() statement."""
    return {"audit_created_at": utcnow(), "audit_actor_id": getattr(actor, "id", None), "audit_action": action,
            "audit_after": after, "audit_request_id": _request_id()}
