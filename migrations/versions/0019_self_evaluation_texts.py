"""self-evaluation texts: the 年度总体目标's 实际完成情况 and the 评价结论 / 存在问题 / 改进措施 the
填报人 writes for the official 项目支出绩效自评表

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COLUMNS = ('goal_achieved', 'conclusion', 'problems', 'improvements')


def upgrade() -> None:
    with op.batch_alter_table('evaluation_statement', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluation_statement', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
