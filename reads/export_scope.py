"""What a user may export, read through their scope (reads/scope.py): a project year they
may not see is missing (the view answers 404), a unit's export lists only the projects in
scope, and an export job is found only by the user who asked for it."""
from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, select

from domain.calendar import YearCalendar
from models.export_job import ExportJob
from models.org import Unit
from models.project import Project, ProjectYear
from reads.scope import projects_visible_to
from models.user import User

JOB_ID = re.compile(r"[0-9a-f]{32}")


def visible_project_year(session: Session, user: User, project_id: int, year: int | None):
    """(Project, ProjectYear) of that year (else the latest) when the user may see it, else None."""
    statement = projects_visible_to(user).where(Project.id == project_id)
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    row = session.exec(statement.order_by(ProjectYear.year.desc())).first()
    return tuple(row) if row else None


def unit_project_years(session: Session, user: User, unit_id: int, year: int) -> list[tuple[Project, ProjectYear]]:
    """A 实施单位's projects of that year that the user may see, by name."""
    return [tuple(r) for r in session.exec(projects_visible_to(user).where(Project.unit_id == unit_id,
                                                                         ProjectYear.year == year)
                                           .order_by(Project.name))]


def units_in_scope(session: Session, user: User, year: int) -> list[tuple[Unit, int]]:
    """The units with projects of that year in the user's scope, and how many."""
    counts: dict[int, int] = {}
    for project, _py in session.exec(projects_visible_to(user).where(ProjectYear.year == year)):
        counts[project.unit_id] = counts.get(project.unit_id, 0) + 1
    if not counts:
        return []
    units = session.exec(select(Unit).where(Unit.id.in_(list(counts))).order_by(Unit.name)).all()
    return [(u, counts[u.id]) for u in units]


def period_month(py: ProjectYear, month: int | None, today: date) -> int:
    """The period a table shows: the one asked for, else the latest that has ended."""
    return month or YearCalendar(py.year, py.periods).default_month(today)


def job_of(session: Session, user: User, job_id: str) -> ExportJob | None:
    """The job, only for the user who asked for it."""
    if not JOB_ID.fullmatch(job_id or ""):
        return None
    job = session.get(ExportJob, job_id)
    return job if job is not None and job.user_id == user.id else None
