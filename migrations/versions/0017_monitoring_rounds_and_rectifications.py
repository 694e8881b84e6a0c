"""monitoring rounds and rectifications: a project year's submission for a round with its review
steps, 整改 items with theirs (DOMAIN.md §8); an evidence file is owned by an actual or by a
整改 item (exactly one of the two).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('monitoring_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('state', STRING(length=12), nullable=False),
    sa.Column('goal_progress', sa.Text(), nullable=True),
    sa.Column('deviation', sa.Text(), nullable=True),
    sa.Column('correction', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', STRING(length=100), nullable=False),
    sa.Column('updated_at', TIME(), nullable=False),
    sa.Column('submitted_at', TIME(), nullable=True),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_year_id', 'month', name='uq_monitoring_submission')
    )
    with op.batch_alter_table('monitoring_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_submission_project_year_id'), ['project_year_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_submission_state'), ['state'], unique=False)

    op.create_table('monitoring_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('who', STRING(length=100), nullable=False),
    sa.Column('role', STRING(length=20), nullable=False),
    sa.Column('action', STRING(length=10), nullable=False),
    sa.Column('from_state', STRING(length=12), nullable=False),
    sa.Column('to_state', STRING(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', TIME(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['monitoring_submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monitoring_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_step_submission_id'), ['submission_id'], unique=False)

    op.create_table('rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('state', STRING(length=10), nullable=False),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', STRING(length=100), nullable=False),
    sa.Column('created_at', TIME(), nullable=False),
    sa.Column('answered_by', STRING(length=100), nullable=True),
    sa.Column('answered_at', TIME(), nullable=True),
    sa.Column('closed_by', STRING(length=100), nullable=True),
    sa.Column('closed_at', TIME(), nullable=True),
    sa.Column('updated_at', TIME(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['monitoring_submission.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rectification', schema=None) as batch_op:
        for column in ('project_year_id', 'indicator_id', 'submission_id', 'unit_id', 'state'):
            batch_op.create_index(batch_op.f(f'ix_rectification_{column}'), [column], unique=False)

    op.create_table('rectification_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('who', STRING(length=100), nullable=False),
    sa.Column('role', STRING(length=20), nullable=False),
    sa.Column('action', STRING(length=10), nullable=False),
    sa.Column('from_state', STRING(length=10), nullable=False),
    sa.Column('to_state', STRING(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('at', TIME(), nullable=False),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectification.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rectification_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_step_rectification_id'), ['rectification_id'], unique=False)

    # SQLite rebuilds the table (batch mode); PostgreSQL alters it in place.
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rectification_id', sa.Integer(), nullable=True))
        batch_op.alter_column('actual_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_evidence_rectification_id'), ['rectification_id'], unique=False)
        batch_op.create_foreign_key('fk_evidence_rectification_id', 'rectification', ['rectification_id'], ['id'])
        batch_op.create_check_constraint('ck_evidence_owner', '(actual_id IS NULL) <> (rectification_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM evidence WHERE actual_id IS NULL")
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint('ck_evidence_owner', type_='check')
        batch_op.drop_constraint('fk_evidence_rectification_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_evidence_rectification_id'))
        batch_op.alter_column('actual_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('rectification_id')

    with op.batch_alter_table('rectification_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_step_rectification_id'))
    op.drop_table('rectification_step')
    with op.batch_alter_table('rectification', schema=None) as batch_op:
        for column in ('project_year_id', 'indicator_id', 'submission_id', 'unit_id', 'state'):
            batch_op.drop_index(batch_op.f(f'ix_rectification_{column}'))
    op.drop_table('rectification')
    with op.batch_alter_table('monitoring_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_step_submission_id'))
    op.drop_table('monitoring_step')
    with op.batch_alter_table('monitoring_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_submission_state'))
        batch_op.drop_index(batch_op.f('ix_monitoring_submission_project_year_id'))
    op.drop_table('monitoring_submission')
