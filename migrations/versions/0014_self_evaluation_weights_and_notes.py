"""self-evaluation weights and notes: the 一级 weights a 审核人 sets for a project year with
the reason (history kept, the latest in force), the reason for a 执行率 below 90 %, why a period
was not entered, and an evaluator's deduction (with its reason) for a target set too low

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_period_note',
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('project_year_id', 'month')
    )
    op.create_table('evaluation_statement',
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('execution_reason', sa.Text(), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('project_year_id')
    )
    op.create_table('evaluation_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('budget_points', sa.Numeric(precision=8, scale=4), nullable=False),
    sa.Column('output_points', sa.Numeric(precision=8, scale=4), nullable=False),
    sa.Column('benefit_points', sa.Numeric(precision=8, scale=4), nullable=False),
    sa.Column('satisfaction_points', sa.Numeric(precision=8, scale=4), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evaluation_weights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_weights_project_year_id'), ['project_year_id'], unique=False)

    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eval_deduction', sa.Numeric(precision=8, scale=4), nullable=True))
        batch_op.add_column(sa.Column('eval_deduction_reason', sa.Text(), nullable=True))



def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35+) drops a column in place: a batch would copy `indicator`, and dropping the
        # old copy fails while rows of `actual` and others refer to it
        for column in ('eval_deduction_reason', 'eval_deduction'):
            op.execute(f'ALTER TABLE indicator DROP COLUMN {column}')
    else:
        op.drop_column('indicator', 'eval_deduction_reason')
        op.drop_column('indicator', 'eval_deduction')

    with op.batch_alter_table('evaluation_weights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_weights_project_year_id'))

    op.drop_table('evaluation_weights')
    op.drop_table('evaluation_statement')
    op.drop_table('evaluation_period_note')
