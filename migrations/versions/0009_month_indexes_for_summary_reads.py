"""month indexes on the summary tables: the overview and the project list read one month's rows
of every project year in scope (without them PostgreSQL scans the whole table in parallel)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 20:10:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('light_summary', schema=None) as batch_op:
        batch_op.create_index('ix_light_summary_month', ['month', 'level1', 'project_year_id'], unique=False)
    with op.batch_alter_table('budget_summary', schema=None) as batch_op:
        batch_op.create_index('ix_budget_summary_month', ['month', 'project_year_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('budget_summary', schema=None) as batch_op:
        batch_op.drop_index('ix_budget_summary_month')
    with op.batch_alter_table('light_summary', schema=None) as batch_op:
        batch_op.drop_index('ix_light_summary_month')
