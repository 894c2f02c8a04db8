"""One row per cached-page scope: its version changes, in the same transaction, whenever any table
the scope's pages show is written. Database triggers (migration 0008) bump it, so no code path —
an ORM flush, a bulk UPDATE, a data fix in psql — can change what a page shows without the page's
cache key changing.

A version is a random 63-bit number, not a counter: after the rows are removed (tests empty every
table) a counter would start again at 1 and could meet a key still cached from before.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DataVersion(db.Model):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger())


# scope -> the tables whose writes change what the scope's cached pages show
SCOPES: dict[str, tuple[str, ...]] = {
    # managers' application list: rows, team and lead names, tracks, competitions, counts
    "applications": ("competitions", "tracks", "teams", "team_members", "applications"),
    # floor plans: the building, its spaces and outages, leases and the holders' team names
    "spaces": ("buildings", "floors", "zones", "spaces", "space_outages", "leases", "teams"),
    # not pages: the judging service's per-process caches (migration 0010) of rubrics (the scoring
    # POST), of rankings, and of a round's entries (with "applications"; results says which entries
    # a later round has)
    "rubrics": ("criteria",),
    "judging": ("assignments", "scores"),
    "results": ("round_results",),
}
