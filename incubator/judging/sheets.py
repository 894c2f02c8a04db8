"""A round's submitted score sheets, kept per process and brought up to date by reading only what changed.

Ranking a round of 5,000 entries reads 15,000 sheets, and during a live final every new score
changes one of them. A :class:`RoundSheets` holds the sheets as last read and a
:class:`ranking.Tally` of them; :meth:`RoundSheets.sync` brings both up to date.

What is read of a sheet is what the ranking uses: its assignment, entry and judge, its stored
weighted total and its value on the rubric's top criterion (the first tie-break). The total is
the one :func:`ranking.weighted_total` gave when the sheet was saved, and again whenever a weight
changed (services.retotal_scores, in the same transaction), so it is the same float the values
would total to; the exports, the per-judge figures and the leniency chart show that same column.

* PostgreSQL: one query sums a 64-bit hash of every submitted sheet (assignment, entry, judge,
  total and values) per bucket of assignment ids. Only the buckets whose sum differs from the one
  held are read again: after one new score, one bucket of about 60 sheets. A sheet that is
  submitted, reopened, recused, removed or edited, by the application or by hand in SQL, changes
  its bucket's sum. The sheets are read with their hashes, and each bucket read is held with the
  sum of the hashes read with it: one statement, one snapshot, so a held bucket's sum is always
  that of its held sheets, whatever is written meanwhile (a write between the sums and the
  sheets, even one undone later, shows as a difference at the next sync). The first sync reads
  every sheet that way and needs no sums query.
* SQLite (in process; not what a final runs on) reads every sheet again.

Either way the sheets read are compared with those held, and only the differences reach the
Tally.

The caller keeps one RoundSheets per round, rubric and list of entries (services.compute_ranking)
and holds its lock while syncing and reading the reports (threads of one process share it).
"""
from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence

import sqlalchemy as sa

from ..extensions import db
from . import ranking
from .models import Assignment, Score

BUCKETS = 256


def _submitted(q, round_id: int):
    return (q.join(Score, Score.assignment_id == Assignment.id)
            .where(Assignment.round_id == round_id, Assignment.recused_at.is_(None), Score.status == "submitted"))


def _fingerprint():
    """A 64-bit hash of a sheet's assignment, entry, judge, stored total and values (PostgreSQL)."""
    return sa.func.hashtextextended(sa.func.concat_ws(
        ",", Assignment.id, Assignment.application_id, Assignment.judge_id, Score.total,
        sa.cast(Score.values, sa.Text)), 0)


def bucket_sums(round_id: int) -> dict[int, object] | None:
    """Bucket -> sum of the hashes of its submitted sheets (PostgreSQL), None elsewhere."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    bucket = Assignment.id % BUCKETS
    q = _submitted(db.select(bucket, sa.func.sum(_fingerprint())).select_from(Assignment), round_id).group_by(bucket)
    return dict(db.session.execute(q).all())


def read_sheets(round_id: int, top_id: str, buckets: Sequence[int] | None = None
                ) -> tuple[list[tuple], dict[int, object] | None]:
    """(assignment id, entry id, judge id, total, top value) of the round's submitted sheets, all of
    them or those of some buckets, by assignment id (so each entry's totals come in one order
    whatever the table's physical order); and on PostgreSQL the bucket sums of the sheets read
    (bucket_sums' hashes, read in the same statement), None elsewhere. Raises ValueError on a
    submitted sheet with no total or no value on the top criterion (the rubric refuses it: it was
    not complete when submitted). Fetched as rows: 15,000 take about 35 ms on PostgreSQL (55 with
    their hashes), against about 45 for the sheets' values as one JSON array and 20 more to total
    them in Python."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    columns = [Assignment.id, Assignment.application_id, Assignment.judge_id, Score.total,
               Score.values[top_id].as_float()]
    q = _submitted(db.select(*columns, *([_fingerprint()] if postgres else [])).select_from(Assignment), round_id)
    if buckets is not None:
        q = q.where((Assignment.id % BUCKETS).in_(list(buckets)))
    # Core rows (no ORM pass over them), as plain tuples: held, compared and indexed below.
    # (.all() fetches at once; iterating a result fetches row by row, twice as slow here.)
    rows = db.session.connection().execute(q.order_by(Assignment.id)).all()
    sums: dict[int, object] | None = None
    if postgres:
        sums = {}
        for row in rows:
            sums[row[0] % BUCKETS] = sums.get(row[0] % BUCKETS, 0) + row[5]
        rows = [tuple(row[:5]) for row in rows]
    else:
        rows = list(map(tuple, rows))
    for row in rows:
        if row[3] is None or row[4] is None:
            raise ValueError(f"submitted sheet of assignment {row[0]} is not complete")
    return rows, sums


class RoundSheets:
    """The submitted sheets of one round as last read, and their Tally (see the module docstring)."""

    def __init__(self, rubric: Sequence[ranking.Criterion], entries: Mapping[Hashable, Hashable], method: str):
        self.rubric = list(rubric)
        self.top_id = str(ranking.top_criterion(self.rubric).id) if self.rubric else ""
        self.tally = ranking.Tally(entries, method)
        self.lock = threading.Lock()
        self._sums: dict[int, object] = {}
        self._held: dict[int, dict[int, tuple]] = {}  # bucket -> {assignment id: its row of read_sheets}
        self._synced_version = None
        self._synced = False

    @property
    def synced(self) -> bool:
        """Whether the sheets were read at least once (the first sync reads them all)."""
        return self._synced

    def sync(self, round_id: int, judging_version=None) -> int:
        """Read what changed since the last sync into the Tally; returns the number of sheets read.
        `judging_version` is the `judging` data version read before this call (pagecache): when it is
        the one of the last sync, no score or assignment was written since, and nothing is asked of
        the database (the ranking was missed for another reason: an application edited, another
        language). Raises ValueError, and changes nothing, on a sheet the rubric refuses."""
        if judging_version is not None and judging_version == self._synced_version:
            return 0
        changed = None  # every sheet: the first sync, and every sync on SQLite
        if self._synced:
            sums = bucket_sums(round_id)
            if sums is not None:
                changed = sorted(b for b in sums.keys() | self._sums.keys() if sums.get(b) != self._sums.get(b))
                if not changed:
                    self._synced_version = judging_version
                    return 0
        # Reading a quarter of the buckets or more: read them all, one query without a filter.
        some = changed is not None and len(changed) < BUCKETS // 4
        rows, read_sums = read_sheets(round_id, self.top_id, changed if some else None)
        fresh: dict[int, dict[int, tuple]] = {}
        for row in rows:
            held = fresh.get(row[0] % BUCKETS)
            if held is None:
                fresh[row[0] % BUCKETS] = {row[0]: row}
            else:
                held[row[0]] = row
        # The buckets read, each now held as read, with the sum read with it.
        buckets = changed if some else sorted(fresh.keys() | self._held.keys() | self._sums.keys())

        entries = self.tally.entries  # sheets of other entries (withdrawn since) are held, not ranked
        if self._held:
            removed, added = [], []
            for b in buckets:
                before, after = self._held.get(b, {}), fresh.get(b, {})
                removed.extend(k for k in before if k not in after)
                added.extend(row for k, row in after.items() if before.get(k) != row and row[1] in entries)
        else:  # nothing held yet: every sheet read is new
            removed, added = [], [row for row in rows if row[1] in entries]
        self.tally.apply(removed, added)
        for b in buckets:
            if b in fresh:
                self._held[b] = fresh[b]
            else:
                self._held.pop(b, None)
            if read_sums is not None:
                if b in read_sums:
                    self._sums[b] = read_sums[b]
                else:
                    self._sums.pop(b, None)
        self._synced_version = judging_version
        self._synced = True
        return len(rows)
