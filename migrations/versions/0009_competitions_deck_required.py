"""competitions: a pitch deck may be required to submit

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 13:00:00

Existing competitions keep their rule (not required); the form proposes it for new ones.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('competitions') as batch_op:
        batch_op.add_column(sa.Column('deck_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('competitions') as batch_op:
        batch_op.drop_column('deck_required')
