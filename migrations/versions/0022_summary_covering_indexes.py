"""light_summary, budget_summary: on PostgreSQL the month indexes carry the columns the overview
and the project list read (INCLUDE), so a month's rows of a whole province are read from the
index alone instead of from thousands of scattered table pages. SQLite has no INCLUDE: its
indexes stay as they are.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 10:30:00
"""
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# As written in models/summary.py (a migration keeps its own copy: the models move on).
LIGHT_COLUMNS = ("indicators", "green", "yellow", "red", "grey", "early_green", "early_yellow", "early_red", "early_grey")
BUDGET_COLUMNS = ("annual_fen", "spent_fen", "over_budget", "reduced", "light", "period", "early_light", "early_period")
INDEXES = (("ix_light_summary_month", "light_summary", ["month", "level1", "project_year_id"], LIGHT_COLUMNS),
           ("ix_budget_summary_month", "budget_summary", ["month", "project_year_id"], BUDGET_COLUMNS))


def _rebuild(include: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns, carried in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=list(carried) if include else [])


def upgrade() -> None:
    _rebuild(include=True)


def downgrade() -> None:
    _rebuild(include=False)
