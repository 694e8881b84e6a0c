"""forecast assessment: the 全年预计 of a qualitative indicator is an assessment (达成 / 部分达成 /
未达成, DOMAIN.md §3), kept beside the numeric forecast of a quantitative one

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forecast_assessment', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.drop_column('forecast_assessment')
