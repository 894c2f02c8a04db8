"""data versions for cached pages: a table and the triggers that bump it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:10:00

Every write to a table a cached page shows replaces its scope's version with a new random number
in the same transaction (see incubator/pagecache/models.py). PostgreSQL: one statement-level
trigger per table (a bulk UPDATE of 5,000 rows bumps once). SQLite, which has only row-level
triggers: one per table and operation.

Later migrations: on SQLite a batch_alter_table rebuilds the table and drops these triggers; use
plain ADD/DROP COLUMN, or recreate the triggers after the batch (tests/pagecache checks them).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Frozen here (not imported from the app) so this migration stays what it was when written.
SCOPES = {
    "applications": ("competitions", "tracks", "teams", "team_members", "applications"),
    "spaces": ("buildings", "floors", "zones", "spaces", "space_outages", "leases", "teams"),
}


def _pairs():
    for scope, tables in SCOPES.items():
        for table in tables:
            yield scope, table


def upgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO data_versions (name, version)
                VALUES (TG_ARGV[0], 1 + floor(random() * 4e18)::bigint)
                ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version;
                RETURN NULL;
            END $$
        """)
        for scope, table in _pairs():
            op.execute(f"CREATE TRIGGER {table}_bumps_{scope} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('{scope}')")
    else:
        for scope, table in _pairs():
            for operation in ("insert", "update", "delete"):
                op.execute(f"CREATE TRIGGER {table}_{operation}_bumps_{scope} AFTER {operation.upper()} ON {table} "
                           f"BEGIN INSERT OR REPLACE INTO data_versions (name, version) "
                           f"VALUES ('{scope}', 1 + abs(random() % 4000000000000000000)); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for scope, table in _pairs():
            op.execute(f"DROP TRIGGER {table}_bumps_{scope} ON {table}")
        op.execute("DROP FUNCTION bump_data_version()")
    else:
        for scope, table in _pairs():
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{operation}_bumps_{scope}")
    op.drop_table('data_versions')
