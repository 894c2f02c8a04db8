"""judging: the hall's screen links of a round can be withdrawn

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 11:40:00

round_states gets screen_link_version, signed into every screen link (judging.services.screen_token):
a manager raising it withdraws the links given out so far. Existing rounds start at 0. Links signed
before this revision carry no version and stop working (they lasted a day anyway).

A plain ADD COLUMN on both backends, not a batch operation: on SQLite a batch rebuilds the table
and would drop its page-cache triggers (migration 0008).
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('round_states', sa.Column('screen_link_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE round_states DROP COLUMN screen_link_version")  # SQLite ≥ 3.35
    else:
        op.drop_column('round_states', 'screen_link_version')
