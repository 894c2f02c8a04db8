"""Merge the jobs (0002), storage (0003) and spaces (0006) heads in the `spaces` branch only.

INTEGRATOR: delete this file when re-chaining 0006 after the previous head; it only exists so the
spaces branch has one head to upgrade to.

Revision ID: 0099_spaces_merge
Revises: 0002, 0003, 0006
"""
revision = '0099_spaces_merge'
down_revision = ('0002', '0003', '0006')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
