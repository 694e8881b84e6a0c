"""project_year: 其中：财政拨款 (funds.*.fiscal) for the 实施期 and the 年度, where a form gives it
instead of (or beside) the 中央/省级/市县 split

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-14 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('period_fiscal_yuan', 'annual_fiscal_yuan')


def upgrade() -> None:
    with op.batch_alter_table('project_year', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Numeric(precision=18, scale=2), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch would copy and drop project_year,
    # which the foreign keys of indicator and the other tables forbid.
    for column in reversed(COLUMNS):
        op.drop_column('project_year', column)
