"""The migrations build exactly the schema the models declare (tables, columns, indexes,
constraints), on the backend the suite runs on: a model changed without a migration, or a
migration that forgot an index, shows here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  (every table registered on the metadata)


def test_the_migrated_schema_is_the_models_schema(app):
    with app.extensions["engine"].connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_the_summary_tables_have_their_month_indexes(app):
    from sqlalchemy import inspect
    inspector = inspect(app.extensions["engine"])
    found = {table: {index["name"]: index["column_names"] for index in inspector.get_indexes(table)}
             for table in ("light_summary", "budget_summary")}
    assert found["light_summary"]["ix_light_summary_month"] == ["month", "level1", "project_year_id"]
    assert found["budget_summary"]["ix_budget_summary_month"] == ["month", "project_year_id"]
