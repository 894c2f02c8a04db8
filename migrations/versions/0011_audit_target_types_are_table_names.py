"""audit: every target type is its table's name

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 20:40:00

Most audit rows name their object by its table ("teams", "leases"); three kinds of rows written
with a hand-made name did not: scores ("score"), lease reminders ("team") and mail retries
("outbox_message"). An object's history (the audit page filtered by type and id) missed those
rows. The code now writes table names; this renames the rows already written.
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

RENAMES = {"score": "scores", "team": "teams", "outbox_message": "outbox_messages"}


def upgrade():
    for old, new in RENAMES.items():
        op.execute(f"UPDATE audit_records SET target_type = '{new}' WHERE target_type = '{old}'")


def downgrade():
    # "teams" was also written for other rows before this revision: only scores and mail go back.
    for old, new in RENAMES.items():
        if old != "team":
            op.execute(f"UPDATE audit_records SET target_type = '{old}' WHERE target_type = '{new}'")
