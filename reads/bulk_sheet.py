"""The bulk entry sheet: the annual indicators and budgets a user may fill in for one period,
of one 实施单位 (or every one, for an admin)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from domain import rules
from domain.indicators import effective_measure
from models.actual import Actual, Spending
from models.indicator import Indicator
from models.org import Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import may_edit_actuals, projects_visible_to
from reads.tracking import annual_indicators


@dataclass
class BulkIndicator:
    project: Project
    year: ProjectYear
    indicator: Indicator
    measure: str
    actual: object | None                # this period's Actual


@dataclass
class BulkSpending:
    project: Project
    year: ProjectYear
    spending: object | None              # this period's Spending


@dataclass
class BulkSheet:
    year: int
    month: int
    unit: Unit | None
    indicators: list[BulkIndicator]
    spending: list[BulkSpending]
    left_out: list[str]                  # projects whose periods do not end in this month


def editable_units(session: Session, user: User) -> list[Unit]:
    """实施单位 whose actuals the user may record: a 填报人 their own, an admin every one."""
    if user.role == "admin":
        return list(session.exec(select(Unit).order_by(Unit.name)))
    if user.role == "manager" and user.unit_id is not None:
        unit = session.get(Unit, user.unit_id)
        return [unit] if unit else []
    return []


def bulk_sheet(session: Session, user: User, year: int, month: int, unit_id: int | None) -> BulkSheet:
    """The annual indicators and budgets the user may fill in for one period, of one unit (or,
    for an admin, of every unit when none is chosen)."""
    statement = projects_visible_to(user).where(ProjectYear.year == year)
    if unit_id is not None:
        statement = statement.where(Project.unit_id == unit_id)
    rows = [(p, y) for p, y in session.exec(statement.order_by(Project.name)) if may_edit_actuals(user, p)]
    indicators, spending, left_out = [], [], []
    for project, py in rows:
        if py.periods == rules.QUARTERLY and month % 3:
            left_out.append(project.name)
            continue
        inds = annual_indicators(session, py)
        actuals = {a.indicator_id: a for a in session.exec(select(Actual).where(
            Actual.indicator_id.in_([i.id for i in inds]), Actual.month == month))} if inds else {}
        indicators += [BulkIndicator(project, py, i, effective_measure(i), actuals.get(i.id)) for i in inds]
        spending.append(BulkSpending(project, py, session.exec(select(Spending).where(
            Spending.project_year_id == py.id, Spending.month == month)).first()))
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return BulkSheet(year, month, unit, indicators, spending, left_out)
