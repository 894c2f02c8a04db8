"""competitions: a pitch deck may be required to submit

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 13:00:00

Existing competitions keep their rule (not required); the form proposes it for new ones.

A plain ADD COLUMN on both backends, not a batch operation: on SQLite a batch rebuilds the table
and would drop its page-cache triggers (migration 0008; tests/pagecache checks they are there).
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('competitions', sa.Column('deck_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('competitions', 'deck_required')
