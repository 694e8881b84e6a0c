"""target adjustments: a 填报人's proposal of new 年度 指标值 (目标调整, DOMAIN.md §7) with its
items and the 审核人's decision; target_change, the history of targets, now also records the
versions an approved adjustment made (adjustment_id), so batch_id becomes optional.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('target_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_year_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('proposed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_year_id'], ['project_year.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('target_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_adjustment_project_year_id'), ['project_year_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_adjustment_state'), ['state'], unique=False)

    op.create_table('target_adjustment_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('level1', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('level2', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('level3', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('old_raw', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('new_raw', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['adjustment_id'], ['target_adjustment.id'], ),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('target_adjustment_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_adjustment_item_adjustment_id'), ['adjustment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_adjustment_item_indicator_id'), ['indicator_id'], unique=False)

    with op.batch_alter_table('target_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adjustment_id', sa.Integer(), nullable=True))
        batch_op.alter_column('batch_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_target_change_adjustment_id'), ['adjustment_id'], unique=False)
        batch_op.create_foreign_key('fk_target_change_adjustment_id', 'target_adjustment', ['adjustment_id'], ['id'])


def downgrade() -> None:
    """The versions approved adjustments made go with their proposals; the imports' stay."""
    op.execute("DELETE FROM target_change WHERE batch_id IS NULL")
    with op.batch_alter_table('target_change', schema=None) as batch_op:
        batch_op.drop_constraint('fk_target_change_adjustment_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_target_change_adjustment_id'))
        batch_op.alter_column('batch_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('adjustment_id')

    with op.batch_alter_table('target_adjustment_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_adjustment_item_indicator_id'))
        batch_op.drop_index(batch_op.f('ix_target_adjustment_item_adjustment_id'))
    op.drop_table('target_adjustment_item')
    with op.batch_alter_table('target_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_adjustment_state'))
        batch_op.drop_index(batch_op.f('ix_target_adjustment_project_year_id'))
    op.drop_table('target_adjustment')
