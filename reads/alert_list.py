"""The open-alert list page (/reports/alerts): the open alerts of the user's scope, red first,
then yellow, then overdue, then 超额 (blue, for information: DOMAIN.md §8), a page at a time,
with how many of each kind. The alerts are raised
and closed by the write use cases and the reminder cycle (services/alerts.py); this only reads
them. (The API's alert list, open or closed, is reads/alerts.py.)"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import field_validator
from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from domain import rules
from domain.project_year import OVER_ALERT, OVERDUE_ALERT
from models.actual import Alert
from models.bounds import filter_number, filter_values
from models.indicator import Indicator
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from reads.scope import visible_years
from models.user import User
from reads.report_filters import ScopeFilters

ALERT_KINDS = {"red": "红灯", "yellow": "黄灯", "overdue": "逾期未填报", OVER_ALERT: "超额"}
_ALERT_RANK = case((Alert.light == rules.RED, 0), (Alert.light == rules.YELLOW, 1), (Alert.kind == OVER_ALERT, 3),
                   else_=2)


class AlertFilters(ScopeFilters):
    kind: str | None = None
    page: int = 1

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value):
        return value if value in ALERT_KINDS else None

    @field_validator("page", mode="before")
    @classmethod
    def _page_from_one(cls, value):
        return max(1, filter_number(value) or 1)

    @classmethod
    def from_args(cls, args) -> "AlertFilters":
        return cls.model_validate(filter_values(cls.model_fields, args, strict=False))

    def as_args(self, **changes) -> dict:
        values = {k: getattr(self, k) for k in type(self).model_fields} | changes
        if values.get("page") == 1:
            values["page"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class AlertLine:
    alert: Alert
    project_id: int
    project: str
    year: int
    unit: str
    department: str
    indicator: str | None       # None: the budget


@dataclass
class AlertPage:
    lines: list[AlertLine]
    total: int
    by_kind: dict[str, int]
    page: int
    pages: int


def _alert_scope(user: User, filters: AlertFilters):
    """Open alerts of project years in the user's scope, narrowed by the filters (no kind)."""
    return filters.narrow(select(Alert.id).join(ProjectYear, ProjectYear.id == Alert.project_year_id)
                          .join(Project, Project.id == ProjectYear.project_id)
                          .where(Alert.closed_at.is_(None), visible_years(user)))


def _kind_condition(kind: str):
    if kind in (OVERDUE_ALERT, OVER_ALERT):
        return Alert.kind == kind
    return and_(Alert.kind == "light", Alert.light == kind)


def open_alerts(session: Session, user: User, filters: AlertFilters, page_size: int = 100) -> AlertPage:
    """Open alerts in the user's scope: red first, then yellow, then overdue, then 超额; within
    each, the longest open first."""
    scoped = _alert_scope(user, filters)
    by_kind = {kind: 0 for kind in ALERT_KINDS}
    count_statement = (scoped.with_only_columns(Alert.kind, Alert.light, func.count())
                       .group_by(Alert.kind, Alert.light))
    for kind, light, n in session.execute(count_statement):
        key = kind if kind in (OVERDUE_ALERT, OVER_ALERT) else light
        if key in by_kind:
            by_kind[key] += n
    total = by_kind[filters.kind] if filters.kind else sum(by_kind.values())
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    statement = scoped.where(_kind_condition(filters.kind)) if filters.kind else scoped
    statement = (statement.order_by(_ALERT_RANK, Alert.opened_at, Alert.id)
                 .offset((page - 1) * page_size).limit(page_size))
    ids = list(session.execute(statement).scalars())
    return AlertPage(_alert_lines(session, ids), total, by_kind, page, pages)


def _alert_lines(session: Session, ids: list[int]) -> list[AlertLine]:
    if not ids:
        return []
    rows = session.execute(
        select(Alert, Project.id, Project.name, ProjectYear.year, Unit.name, Department.code, Department.name,
               Indicator.annual_level3, Indicator.period_level3)
        .join(ProjectYear, ProjectYear.id == Alert.project_year_id)
        .join(Project, Project.id == ProjectYear.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == ProjectYear.department_id)
        .outerjoin(Indicator, Indicator.id == Alert.indicator_id)
        .where(Alert.id.in_(ids))).all()
    order = {alert_id: n for n, alert_id in enumerate(ids)}
    lines = [AlertLine(alert, p_id, name, year, unit, department_label(code, dept),
                       None if alert.indicator_id is None else (annual or period or ""))
             for alert, p_id, name, year, unit, code, dept, annual, period in rows]
    return sorted(lines, key=lambda line: order[line.alert.id])
