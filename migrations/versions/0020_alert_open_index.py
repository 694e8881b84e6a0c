"""alert: an index on (project_year_id, closed_at, indicator_id) for a project year's open alerts,
read by every entry (the budget's, indicator_id NULL, were searched through ix_alert_indicator_id)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:00:00
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alert_open', 'alert', ['project_year_id', 'closed_at', 'indicator_id'])


def downgrade() -> None:
    op.drop_index('ix_alert_open', table_name='alert')
