"""Why the hot reads are built once, and read through the driver: five ways to run the same scoped read.

The reads on every API call and every entry (a project year within the caller's scope, the
last actual of an indicator…) are cheap indexed lookups, so building the statement costs as
much as running it. This times one such read — a project year joined with its project, kept to
a 主管部门's scope — on an SQLite file of 1,000 project years, five ways:

- built on each call with the values inline (`select(...).where(ProjectYear.id == 7)`): SQLAlchemy
  caches the compiled SQL, but builds the construct and its cache key every time;
- `lambda_stmt`, SQLAlchemy's own mechanism for caching the construction of a statement: it
  still analyses the lambda's closure on every call to extract the bound values;
- built once per scope shape with bound parameters (`models.db.prepared`), values passed on
  execution: the way the product builds them;
- the same, as plain rows of the two tables' columns rather than ORM objects, through
  `Session.execute`;
- those plain rows through `models.db.rows`, compiled once and run straight through the driver:
  the way the product runs its hottest reads.

Prints the median microseconds per read of several runs and the ratios against the first
(the plain baseline). Prints figures; passes or fails nothing.

    .venv/bin/python bench/statements.py [--reads 4000] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, create_engine, lambda_stmt, select  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import models  # noqa: E402,F401  (every table)
from models.db import prepared, rows  # noqa: E402
from models.org import Department, Unit  # noqa: E402
from models.project import Project, ProjectYear  # noqa: E402
from reads.scope import scope_clause  # noqa: E402

YEARS = 1000


def fill(engine) -> None:
    with Session(engine) as session:
        departments = [Department(name=f"主管部门{i}", code=f"{100 + i}") for i in range(10)]
        session.add_all(departments)
        session.flush()
        units = [Unit(name=f"实施单位{i}", department_id=departments[i % 10].id) for i in range(100)]
        session.add_all(units)
        session.flush()
        for i in range(YEARS):
            project = Project(name=f"项目{i}", unit_id=units[i % 100].id, created_at=datetime(2023, 1, 1, tzinfo=timezone.utc))
            session.add(project)
            session.flush()
            session.add(ProjectYear(project_id=project.id, year=2023, department_id=units[i % 100].department_id,
                                    form_sha256="0" * 64, updated_at=datetime(2023, 1, 1, tzinfo=timezone.utc)))
        session.commit()


def built(session, py_id: int, department_id: int):
    statement = (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                 .where(ProjectYear.id == py_id, scope_clause("department", department_id)))
    return session.execute(statement).first()


def with_lambda(session, py_id: int, department_id: int):
    statement = lambda_stmt(lambda: select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                            .where(ProjectYear.id == py_id, ProjectYear.department_id == department_id))
    return session.execute(statement).first()


@prepared
def _scoped_year(shape: str):
    return (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(ProjectYear.id == bindparam("py_id"), scope_clause(shape, bindparam("scope_id"))))


def with_prepared(session, py_id: int, department_id: int):
    return session.execute(_scoped_year("department"), {"py_id": py_id, "scope_id": department_id}).first()


@prepared
def _scoped_year_columns(shape: str):
    return (select(*Project.__table__.columns, *ProjectYear.__table__.columns)
            .join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(ProjectYear.id == bindparam("py_id"), scope_clause(shape, bindparam("scope_id"))))


def with_columns(session, py_id: int, department_id: int):
    return session.execute(_scoped_year_columns("department"), {"py_id": py_id, "scope_id": department_id}).first()


def with_rows(session, py_id: int, department_id: int):
    found = rows(session, _scoped_year_columns("department"), {"py_id": py_id, "scope_id": department_id})
    return found[0] if found else None


WAYS = {"built each call": built, "lambda_stmt": with_lambda, "prepared once": with_prepared,
        "prepared, rows": with_columns, "models.db.rows": with_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'statements.db'}")
        SQLModel.metadata.create_all(engine)
        fill(engine)
        with Session(engine) as session:
            pairs = [(py.id, py.department_id) for py in session.scalars(select(ProjectYear))]
            times: dict[str, list[float]] = {name: [] for name in WAYS}
            for _ in range(args.runs):
                for name, way in WAYS.items():      # interleaved: a burst elsewhere hits all alike
                    started = time.perf_counter()
                    for i in range(args.reads):
                        py_id, department_id = pairs[i % len(pairs)]
                        assert way(session, py_id, department_id) is not None
                        session.expunge_all()
                    times[name].append((time.perf_counter() - started) / args.reads * 1e6)
        engine.dispose()
    base = statistics.median(times["built each call"])
    print(f"one scoped read of a project year, SQLite, {args.reads} reads × {args.runs} runs (median):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<16} {median:7.1f} µs/read   ×{median / base:.2f}")


if __name__ == "__main__":
    main()
