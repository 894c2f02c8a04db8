"""data versions for rubrics and judging: per-process caches of rubrics and rankings

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 14:30:00

Adds two scopes to the data versions of 0008, bumped in the writing transaction like those:
- "rubrics" (criteria): the scoring POST keeps each round's rubric per process and never validates
  a score against a changed rubric;
- "judging" (assignments, scores) and "results" (round_results: which entries a later round has):
  a round's ranking, and apart from it its entries, are kept per process and recomputed after any
  change to what they are computed from.
The trigger function bump_data_version() of 0008 is reused on PostgreSQL.
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Frozen here (not imported from the app) so this migration stays what it was when written.
SCOPES = {
    "rubrics": ("criteria",),
    "judging": ("assignments", "scores"),
    "results": ("round_results",),
}


def _pairs():
    for scope, tables in SCOPES.items():
        for table in tables:
            yield scope, table


def upgrade():
    # A row per scope from the start: the caches keep nothing under a missing version (which in the
    # tests means "tables emptied"), and a scope whose tables are never written would never cache.
    random = "1 + floor(random() * 4e18)::bigint" if op.get_bind().dialect.name == "postgresql" \
        else "1 + abs(random() % 4000000000000000000)"
    for scope in SCOPES:
        op.execute(f"INSERT INTO data_versions (name, version) VALUES ('{scope}', {random})")
    for scope, table in _pairs():
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_bumps_{scope} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('{scope}')")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"CREATE TRIGGER {table}_{operation}_bumps_{scope} AFTER {operation.upper()} ON {table} "
                           f"BEGIN INSERT OR REPLACE INTO data_versions (name, version) "
                           f"VALUES ('{scope}', 1 + abs(random() % 4000000000000000000)); END")


def downgrade():
    for scope, table in _pairs():
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {table}_bumps_{scope} ON {table}")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{operation}_bumps_{scope}")
    op.execute("DELETE FROM data_versions WHERE name IN ('rubrics', 'judging', 'results')")
