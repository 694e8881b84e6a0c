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
    if inspector.dialect.name == "postgresql":      # the indexes carry what the overview reads
        from models.summary import BUDGET_COLUMNS, LIGHT_COLUMNS
        carried = {index["name"]: index.get("dialect_options", {}).get("postgresql_include") for table in ("light_summary", "budget_summary")
                   for index in inspector.get_indexes(table)}
        assert carried["ix_light_summary_month"] == list(LIGHT_COLUMNS)
        assert carried["ix_budget_summary_month"] == list(BUDGET_COLUMNS)


def test_upgrading_to_spending_notes_marks_the_spending_already_stored(seeded, personas):
    """0011 adds the notes and the budget summary's marks, and fills the marks for spending stored
    before (5,000 万元 against 3,700 万元 from July on); downgrading and upgrading again keeps them."""
    from alembic import command
    from sqlalchemy import text

    from models.migrate import alembic_config
    from test_api import Api, year_of
    py, _ids = year_of(seeded, "招商引资专项经费")
    api = Api(seeded, personas.manager_a)
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 50_000_000, "note": "追加"}).status_code == 200
    engine = seeded.extensions["engine"]
    marked = text("SELECT month FROM budget_summary WHERE project_year_id = :py AND over_budget ORDER BY month")
    with engine.connect() as conn:
        assert conn.execute(marked, {"py": py}).scalars().all() == list(range(7, 13))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(marked, {"py": py}).scalars().all() == list(range(7, 13))
        assert conn.execute(text("SELECT note FROM spending")).scalars().all() == [None]     # notes go with the downgrade to 0011
