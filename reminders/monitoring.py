"""What the reminder cycle (reminders/cycle.py) owes about monitoring rounds and 整改 (DOMAIN.md
§8), given `today` and the admins' reminder settings:

- 填报人, for the projects of their 实施单位:
  - a round's monitoring not yet submitted (or returned): `round-due-soon` from `due_soon_days`
    days before the round's deadline up to that day, `round-overdue` after it; one notice per
    round (period: the round, 2023-07) listing the projects;
  - each open 整改 item: `rectify-due-soon` from `due_soon_days` days before its deadline up to
    that day, `rectify-overdue` after it; one notice per item and deadline (period
    `17@20230820`: a deadline moved by a send-back is reminded of again).
- 审核人, within their 主管部门 (all without one): `rectify-overdue` for each open item past its
  deadline, so that it is followed up.

The switches `due_soon_enabled` and `overdue_enabled` govern these as they do the entry
reminders. Each notice is queued once, ever (sent_notice), like every other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from domain.monitoring import APPROVED, OPEN, RECTIFY as ROUND_RECTIFY, SUBMITTED, Round, RoundRule, rounds_of
from models.indicator import Indicator, indicator_name
from models.monitoring import MonitoringSubmission, Rectification
from models.org import Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import visible_years
from reminders.notices import (RECTIFY, RECTIFY_DUE_SOON, RECTIFY_LATE, RECTIFY_OVERDUE, ROUND_DUE_SOON,
                               ROUND_OVERDUE, UNSUBMITTED, Item, Notice)
from reminders.settings import ReminderSettings

SETTLED = (SUBMITTED, APPROVED, ROUND_RECTIFY)        # a round's monitoring that owes nothing more
REQUIREMENT_SHOWN = 40


@dataclass(frozen=True)
class OpenItem:
    id: int
    project_year_id: int
    project_id: int
    project: str
    unit: str
    year: int
    subject: str              # the indicator, or 项目整体
    requirement: str
    due: date


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


class MonitoringData:
    """The open 整改 items and the rounds whose monitoring may be owed, loaded once per cycle."""

    def __init__(self, session: Session, today: date, rules: tuple[RoundRule, ...]):
        self.session, self.today = session, today
        rows = session.exec(
            select(Rectification, ProjectYear.year, Project.id, Project.name, Unit.name, Indicator)
            .join(ProjectYear, ProjectYear.id == Rectification.project_year_id)
            .join(Project, Project.id == ProjectYear.project_id).join(Unit, Unit.id == Rectification.unit_id)
            .outerjoin(Indicator, Indicator.id == Rectification.indicator_id)
            .where(Rectification.state == OPEN).order_by(Rectification.id))
        self.items = [OpenItem(item.id, item.project_year_id, project_id, project, unit, year,
                               indicator_name(ind) if ind else "项目整体", item.requirement, item.due)
                      for item, year, project_id, project, unit, ind in rows]
        # rounds open now whose deadline falls in the current calendar year (last year's included)
        self.rounds = [r for year in (today.year - 1, today.year) for r in rounds_of(year, rules)
                       if r.is_open(today) and r.due.year == today.year]
        years = {r.year for r in self.rounds}
        self.settled = set(session.exec(
            select(MonitoringSubmission.project_year_id, MonitoringSubmission.month)
            .join(ProjectYear, ProjectYear.id == MonitoringSubmission.project_year_id)
            .where(MonitoringSubmission.state.in_(SETTLED), ProjectYear.year.in_(years)))) if years else set()

    def visible(self, user: User, years: set[int] | None = None, ids: set[int] | None = None) -> list[tuple]:
        """(ProjectYear id, year, project id, project, unit) of the project years in the user's scope."""
        statement = (select(ProjectYear.id, ProjectYear.year, Project.id, Project.name, Unit.name)
                     .join(Project, Project.id == ProjectYear.project_id).join(Unit, Unit.id == Project.unit_id)
                     .where(visible_years(user)))
        if years is not None:
            statement = statement.where(ProjectYear.year.in_(years))
        if ids is not None:
            statement = statement.where(ProjectYear.id.in_(ids))
        return list(self.session.exec(statement.order_by(Unit.name, Project.name)))


def monitoring_notices(data: MonitoringData, user: User, settings: ReminderSettings) -> list[Notice]:
    if user.role == "manager":
        return _round_notices(data, user, settings) + _item_notices(data, user, settings, manager=True)
    return _item_notices(data, user, settings, manager=False)


def _round_notices(data: MonitoringData, user: User, settings: ReminderSettings) -> list[Notice]:
    notices = []
    if not data.rounds:
        return notices
    mine = data.visible(user, years={r.year for r in data.rounds})
    for rnd in data.rounds:
        kind = _kind(rnd.due, data.today, settings, ROUND_DUE_SOON, ROUND_OVERDUE)
        if kind is None:
            continue
        items = [Item(unit, project, project_id, year, f"绩效运行监控（{rnd.span}）", f"{_day(rnd.due)}截止", UNSUBMITTED,
                      link=f"/projects/{project_id}/monitoring/{rnd.key}")
                 for py_id, year, project_id, project, unit in mine
                 if year == rnd.year and (py_id, rnd.month) not in data.settled]
        if items:
            notices.append(Notice(kind, user.id, rnd.key, _round_label(rnd), items, rnd.due,
                                  abs((rnd.due - data.today).days)))
    return notices


def _round_label(rnd: Round) -> str:
    return f"{rnd.year}年{rnd.span}绩效运行监控"


def _item_notices(data: MonitoringData, user: User, settings: ReminderSettings, manager: bool) -> list[Notice]:
    if not data.items:
        return []
    mine = {row[0] for row in data.visible(user, ids={i.project_year_id for i in data.items})}
    notices = []
    for item in data.items:
        if item.project_year_id not in mine:
            continue
        kind = _kind(item.due, data.today, settings, RECTIFY_DUE_SOON if manager else None, RECTIFY_OVERDUE)
        if kind is None:
            continue
        requirement = item.requirement if len(item.requirement) <= REQUIREMENT_SHOWN else \
            item.requirement[:REQUIREMENT_SHOWN] + "…"
        line = Item(item.unit, item.project, item.project_id, item.year,
                    f"第{item.id}号 {item.subject}：{requirement}", f"{_day(item.due)}到期",
                    RECTIFY_LATE if kind == RECTIFY_OVERDUE else RECTIFY, link=f"/rectifications/{item.id}")
        notices.append(Notice(kind, user.id, f"{item.id}@{item.due:%Y%m%d}", f"整改事项第{item.id}号", [line], item.due,
                              abs((item.due - data.today).days)))
    return notices


def _kind(due: date, today: date, settings: ReminderSettings, soon: str | None, late: str) -> str | None:
    left = (due - today).days
    if 0 <= left <= settings.due_soon_days and settings.due_soon_enabled and soon:
        return soon
    if left < 0 and settings.overdue_enabled:
        return late
    return None
