"""Record the SQL statements a block of a test sends (fixed query counts, statement lists)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def recorded_statements(db) -> Iterator[list[str]]:
    """Every statement the engine sends inside the block, in order: a list filled as they run."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def without_transaction_control(statements: list[str]) -> list[str]:
    """The queries among them: no BEGIN (SQLite's BEGIN IMMEDIATE too), COMMIT or ROLLBACK."""
    return [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
