"""a data version for rubrics: the scoring POST validates against a per-process rubric cache

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 14:30:00

Adds the scope "rubrics" (table criteria) to the data versions of 0008: every write to criteria
replaces the scope's version in the same transaction, so the judging service can keep a round's
rubric per process and still never validate a score against a changed rubric. The trigger
function bump_data_version() of 0008 is reused on PostgreSQL.
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SCOPE, TABLE = "rubrics", "criteria"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_bumps_{SCOPE} AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('{SCOPE}')")
    else:
        for operation in ("insert", "update", "delete"):
            op.execute(f"CREATE TRIGGER {TABLE}_{operation}_bumps_{SCOPE} AFTER {operation.upper()} ON {TABLE} "
                       f"BEGIN INSERT OR REPLACE INTO data_versions (name, version) "
                       f"VALUES ('{SCOPE}', 1 + abs(random() % 4000000000000000000)); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_bumps_{SCOPE} ON {TABLE}")
    else:
        for operation in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {TABLE}_{operation}_bumps_{SCOPE}")
    op.execute(f"DELETE FROM data_versions WHERE name = '{SCOPE}'")
