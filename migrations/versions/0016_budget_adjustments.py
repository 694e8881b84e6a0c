"""budget adjustments: 追加 / 调减 of a project year's budget from a date, with 文号, reason and
who recorded it (DOMAIN.md §7); rows are only added, so the table is the history.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:11:33.226791
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('amount_yuan', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('doc_no', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('budget_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_adjustment_project_year_id'), ['project_year_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('budget_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_adjustment_project_year_id'))

    op.drop_table('budget_adjustment')
