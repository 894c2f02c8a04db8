"""spaces: a lease the platform cancelled keeps a reason code, named in the reader's language

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 04:00:00

Leases cancelled by a move or by ending them before they started stored a fixed text ("moved",
"在开始前结束") in cancel_reason, shown as is whatever the reader's language. They now store a
code in the new column cancel_code (translated when shown); cancel_reason keeps a manager's own
words. The rows already written are converted.

A plain ADD COLUMN with its CHECK on both backends, not a batch operation: on SQLite a batch
rebuilds the table and would drop its page-cache triggers (migration 0008).
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CHECK = "cancel_code IS NULL OR cancel_code IN ('moved', 'ended_before_start')"
# Texts written before this revision → their code.
OLD_TEXTS = {"moved": ("moved",), "ended_before_start": ("在开始前结束", "Ended before it started")}


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column's CHECK only in the ADD COLUMN statement itself.
        op.execute(f"ALTER TABLE leases ADD COLUMN cancel_code VARCHAR(20) "
                   f"CONSTRAINT ck_leases_cancel_code_valid CHECK ({CHECK})")
    else:
        op.add_column('leases', sa.Column('cancel_code', sa.String(length=20), nullable=True))
        op.create_check_constraint(op.f('ck_leases_cancel_code_valid'), 'leases', CHECK)
    leases = sa.table('leases', sa.column('cancel_code', sa.String), sa.column('cancel_reason', sa.String),
                      sa.column('status', sa.String))
    for code, texts in OLD_TEXTS.items():
        op.execute(leases.update().where(leases.c.status == 'cancelled', leases.c.cancel_reason.in_(texts))
                   .values(cancel_code=code, cancel_reason=''))


def downgrade():
    leases = sa.table('leases', sa.column('cancel_code', sa.String), sa.column('cancel_reason', sa.String))
    for code, texts in OLD_TEXTS.items():
        op.execute(leases.update().where(leases.c.cancel_code == code).values(cancel_reason=texts[0]))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE leases DROP COLUMN cancel_code")  # SQLite ≥ 3.35; the CHECK names only it
    else:
        op.drop_constraint(op.f('ck_leases_cancel_code_valid'), 'leases', type_='check')
        op.drop_column('leases', 'cancel_code')
