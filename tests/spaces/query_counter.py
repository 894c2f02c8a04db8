"""Count the SQL statements a block runs (for list pages with a fixed number of queries)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


class Counter:
    count = 0


@contextmanager
def count_queries(db):
    counter = Counter()

    def before(*_args, **_kwargs):
        counter.count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)
