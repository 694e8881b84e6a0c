"""monitoring reports: a 实施单位's 监控报告 for a monitoring round, its seven text sections and
where it stands, with its 提交/退回 steps (DOMAIN.md §8).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime
SECTIONS = ('overview', 'budget', 'performance', 'deviation', 'over', 'rectification', 'measures')


def upgrade() -> None:
    op.create_table('monitoring_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('state', STRING(length=12), nullable=False),
    *(sa.Column(name, sa.Text(), nullable=True) for name in SECTIONS),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', STRING(length=100), nullable=False),
    sa.Column('updated_at', TIME(), nullable=False),
    sa.Column('submitted_by', STRING(length=100), nullable=True),
    sa.Column('submitted_at', TIME(), nullable=True),
    sa.Column('figures_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'year', 'month', name='uq_monitoring_report')
    )
    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_report_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_report_state'), ['state'], unique=False)

    op.create_table('monitoring_report_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('who', STRING(length=100), nullable=False),
    sa.Column('role', STRING(length=20), nullable=False),
    sa.Column('action', STRING(length=10), nullable=False),
    sa.Column('from_state', STRING(length=12), nullable=False),
    sa.Column('to_state', STRING(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', TIME(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['monitoring_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monitoring_report_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_report_step_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('monitoring_report_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_report_step_report_id'))
    op.drop_table('monitoring_report_step')
    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_report_state'))
        batch_op.drop_index(batch_op.f('ix_monitoring_report_unit_id'))
    op.drop_table('monitoring_report')
