"""spending notes and marks: cumulative spending that falls below an earlier period's (冲减) or
rises above the budget (超预算) is accepted only with a note (DOMAIN.md §3), kept with the
spending and its history; the budget summary says whether the spending it shows is marked.

Upgrading fills the two marks of the budget summaries already stored, with the code of
services/summaries.py as it is when this runs (as 0006 did): they only ever hold what the
domain core derives. Spending stored before has no note; where it is marked, pages and exports
say it is unexplained.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""
from alembic import context, op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('spending', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    with op.batch_alter_table('spending_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    with op.batch_alter_table('budget_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('over_budget', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reduced', sa.Boolean(), server_default=sa.false(), nullable=False))
    if not context.is_offline_mode():
        from sqlmodel import Session

        from services.summaries import refresh
        with Session(bind=op.get_bind()) as session:   # joins the migration's transaction
            ids = session.execute(sa.text("SELECT DISTINCT project_year_id FROM spending")).scalars().all()
            refresh(session, ids, lights=False)


def downgrade() -> None:
    with op.batch_alter_table('budget_summary', schema=None) as batch_op:
        batch_op.drop_column('reduced')
        batch_op.drop_column('over_budget')
    with op.batch_alter_table('spending_change', schema=None) as batch_op:
        batch_op.drop_column('note')
    with op.batch_alter_table('spending', schema=None) as batch_op:
        batch_op.drop_column('note')
