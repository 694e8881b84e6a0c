"""over reason: the entry of the year's last period at r >= 1.3 (超额, DOMAIN.md §8) carries the
reason it was given (target set too low, or a real gain)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.add_column(sa.Column('over_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.drop_column('over_reason')
