"""A round's submitted score sheets, kept per process and brought up to date by reading only what changed.

Ranking a round of 5,000 entries reads 15,000 sheets, and during a live final every new score
changes one of them. A :class:`RoundSheets` holds the sheets as last read and a
:class:`ranking.Tally` of them; :meth:`RoundSheets.sync` brings both up to date:

* PostgreSQL: one query sums a 64-bit hash of every submitted sheet (assignment, entry, judge and
  values) per bucket of assignment ids. Only the buckets whose sum differs from the one held are
  read again: after one new score, one bucket of about 60 sheets. A sheet that is submitted,
  reopened, recused, removed or edited, by the application or by hand in SQL, changes its
  bucket's sum.
* SQLite (in process; not what a final runs on) reads every sheet again.

Either way the sheets read are compared with those held, and only the differences, totalled with
the round's rubric, reach the Tally. The sums are read before the sheets: a write that lands in
between leaves a sum older than the sheets held, which the next sync finds different and reads
again, so a held bucket is never newer in its sum than in its sheets.

The caller keeps one RoundSheets per round, rubric and list of entries (services.compute_ranking)
and holds its lock while syncing and reading the reports (threads of one process share it).
"""
from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ..extensions import db
from . import ranking
from .models import Assignment, Score

BUCKETS = 256


def _submitted(q, round_id: int):
    return (q.join(Score, Score.assignment_id == Assignment.id)
            .where(Assignment.round_id == round_id, Assignment.recused_at.is_(None), Score.status == "submitted"))


def bucket_sums(round_id: int) -> dict[int, object] | None:
    """Bucket -> sum of the hashes of its submitted sheets (PostgreSQL), None elsewhere."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    bucket = Assignment.id % BUCKETS
    fingerprint = sa.func.hashtextextended(
        sa.func.concat_ws(",", Assignment.id, Assignment.application_id, Assignment.judge_id,
                          sa.cast(Score.values, sa.Text)), 0)
    q = _submitted(db.select(bucket, sa.func.sum(fingerprint)).select_from(Assignment), round_id).group_by(bucket)
    return dict(db.session.execute(q).all())


def read_sheets(round_id: int, buckets: Sequence[int] | None = None) -> list[tuple[int, int, int, dict]]:
    """(assignment id, entry id, judge id, values) of the round's submitted sheets, all of them or
    those of some buckets, by assignment id (so each entry's totals come in one order whatever the
    table's physical order). On PostgreSQL the rows come back as one JSON array decoded by a single
    orjson.loads: decoding 15,000 small JSON values one by one (and a row object each) costs more,
    and the standard json module takes three times as long over the array (33 ms against 11 ms)."""
    def some(q):
        return q if buckets is None else q.where((Assignment.id % BUCKETS).in_(list(buckets)))

    if db.session.get_bind().dialect.name == "postgresql":
        agg = sa.func.coalesce(sa.cast(sa.func.json_agg(aggregate_order_by(sa.func.json_build_array(
            Assignment.id, Assignment.application_id, Assignment.judge_id, Score.values), Assignment.id)),
            sa.Text), "[]")
        q = some(_submitted(db.select(agg).select_from(Assignment), round_id))
        return [tuple(r) for r in orjson.loads(db.session.execute(q).scalar_one())]
    q = some(_submitted(db.select(Assignment.id, Assignment.application_id, Assignment.judge_id, Score.values)
                        .select_from(Assignment), round_id).order_by(Assignment.id))
    return [tuple(r) for r in db.session.execute(q)]


class RoundSheets:
    """The submitted sheets of one round as last read, and their Tally (see the module docstring)."""

    def __init__(self, rubric: Sequence[ranking.Criterion], entries: Mapping[Hashable, Hashable], method: str):
        self.rubric = list(rubric)
        self.tally = ranking.Tally(entries, method)
        self.lock = threading.Lock()
        self._sums: dict[int, object] = {}
        self._held: dict[int, dict[int, tuple]] = {}  # bucket -> {assignment id: (entry, judge, values)}
        self._synced_version = None

    def sync(self, round_id: int, judging_version=None) -> int:
        """Read what changed since the last sync into the Tally; returns the number of sheets read.
        `judging_version` is the `judging` data version read before this call (pagecache): when it is
        the one of the last sync, no score or assignment was written since, and nothing is asked of
        the database (the ranking was missed for another reason: an application edited, another
        language). Raises ValueError, and changes nothing, on a sheet the rubric refuses."""
        if judging_version is not None and judging_version == self._synced_version:
            return 0
        sums = bucket_sums(round_id)
        if sums is None:
            changed = None
        else:
            changed = sorted(b for b in sums.keys() | self._sums.keys() if sums.get(b) != self._sums.get(b))
            if not changed:
                self._synced_version = judging_version
                return 0
        # Reading a quarter of the buckets or more: read them all, one query without a filter.
        some = changed is not None and len(changed) < BUCKETS // 4
        rows = read_sheets(round_id, changed if some else None)
        fresh: dict[int, dict[int, tuple]] = {}
        for key, entry, judge, values in rows:
            fresh.setdefault(key % BUCKETS, {})[key] = (entry, judge, values)
        buckets = changed if changed is not None else sorted(fresh.keys() | self._held.keys())

        entries = self.tally.entries  # sheets of other entries (withdrawn since) are held, not ranked
        removed, new_rows = [], []
        for b in buckets:
            before, after = self._held.get(b, {}), fresh.get(b, {})
            removed.extend(k for k in before if k not in after)
            new_rows.extend((k, *row) for k, row in after.items() if before.get(k) != row and row[0] in entries)
        totalled = ranking.total_sheets(self.rubric, (row[1:] for row in new_rows))
        self.tally.apply(removed, ((row[0], *sheet) for row, sheet in zip(new_rows, totalled)))
        for b in buckets:
            if b in fresh:
                self._held[b] = fresh[b]
            else:
                self._held.pop(b, None)
        if sums is not None:
            self._sums = sums
        self._synced_version = judging_version
        return len(rows)
