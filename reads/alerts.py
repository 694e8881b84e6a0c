"""The alert list of the JSON API (`GET /api/v1/alerts`, INTERFACES.md), over the caller's scope."""
from __future__ import annotations

from sqlalchemy import select

from models.actual import Alert
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import visible_years

STATES = ("open", "closed", "all")


def alert_list(session, user: User, year: int | None, state: str = "open") -> list[dict]:
    statement = (select(Alert, ProjectYear.year).join(ProjectYear, ProjectYear.id == Alert.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id).where(visible_years(user)).order_by(Alert.opened_at, Alert.id))
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    if state == "open":
        statement = statement.where(Alert.closed_at.is_(None))
    elif state == "closed":
        statement = statement.where(Alert.closed_at.is_not(None))
    return [{"id": alert.id, "project_id": alert.project_year_id, "indicator_id": alert.indicator_id,
             "kind": alert.kind, "light": alert.light, "period": f"{py_year}-{alert.month:02d}",
             "opened_at": alert.opened_at.isoformat(),
             "closed_at": alert.closed_at.isoformat() if alert.closed_at else None}
            for alert, py_year in session.execute(statement)]
