"""整改 items as pages, the 工作台, the overview, the reminders and the API read them, always within
the reader's scope (`visible_years`): a 填报人 their unit's items, a 审核人 their 主管部门's (or
all), an admin all. An item outside the scope reads as missing.

"Due soon" and "late" (domain/monitoring.py `due_status`) are of open items only, against the
reminder settings' `due_soon_days`, so a page says 即将到期 exactly when the reminder mail does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from domain.monitoring import (ANSWERED, CLOSED, LATE, OPEN, RECTIFICATION_LABELS, SOON, due_status, find_round,
                               Round)
from models.evidence import Evidence, evidence_of
from models.indicator import Indicator, indicator_name
from models.monitoring import MonitoringSubmission, Rectification, RectificationStep
from models.org import Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import may_edit_actuals, may_review_monitoring, rectification_in_scope, visible_years
from reads.wording import user_labels

API_STATES = ("open", "answered", "closed", "all")
# The list page's filter: 未关闭 (the default), each state, 已逾期, all.
PAGE_FILTERS = {"active": "未关闭", OPEN: RECTIFICATION_LABELS[OPEN], ANSWERED: RECTIFICATION_LABELS[ANSWERED],
                "late": "已逾期", CLOSED: RECTIFICATION_LABELS[CLOSED], "all": "全部"}
PROJECT_WIDE = "项目整体"


@dataclass
class RectificationLine:
    item: Rectification
    project: Project
    year: ProjectYear
    unit: str                        # 责任单位
    indicator: str | None            # None: on the project as a whole
    due_status: str | None           # SOON or LATE (open items only)
    today: date

    @property
    def subject(self) -> str:
        return self.indicator or PROJECT_WIDE

    @property
    def state_label(self) -> str:
        return RECTIFICATION_LABELS[self.item.state]

    @property
    def late(self) -> bool:
        return self.due_status == LATE

    @property
    def soon(self) -> bool:
        return self.due_status == SOON

    @property
    def days(self) -> int:
        """Days left before the deadline (negative: days late)."""
        return (self.item.due - self.today).days


def _scoped(statement, user: User):
    return (statement.join(ProjectYear, ProjectYear.id == Rectification.project_year_id)
            .join(Project, Project.id == ProjectYear.project_id).where(visible_years(user)))


def _narrowed(statement, year: int | None, department: int | None, unit: int | None, project_year_id: int | None):
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    if department:
        statement = statement.where(ProjectYear.department_id == department)
    if unit:
        statement = statement.where(Project.unit_id == unit)
    if project_year_id is not None:
        statement = statement.where(Rectification.project_year_id == project_year_id)
    return statement


def rectification_lines(session: Session, user: User, today: date, soon_days: int, *, show: str = "active",
                        year: int | None = None, department: int | None = None, unit: int | None = None,
                        project_year_id: int | None = None) -> list[RectificationLine]:
    """The items in scope that `show` (a PAGE_FILTERS key) picks: late ones first, then open ones
    by deadline, then those waiting for the 审核人, then closed ones, newest first."""
    statement = _narrowed(_scoped(select(Rectification, ProjectYear, Project, Unit.name, Indicator)
                                  .join(Unit, Unit.id == Rectification.unit_id)
                                  .outerjoin(Indicator, Indicator.id == Rectification.indicator_id), user),
                          year, department, unit, project_year_id)
    if show == "active":
        statement = statement.where(Rectification.state.in_((OPEN, ANSWERED)))
    elif show == "late":
        statement = statement.where(Rectification.state == OPEN, Rectification.due < today)
    elif show in (OPEN, ANSWERED, CLOSED):
        statement = statement.where(Rectification.state == show)
    lines = [RectificationLine(item, project, py, unit_name, indicator_name(ind) if ind else None,
                               due_status(item.state, item.due, today, soon_days), today)
             for item, py, project, unit_name, ind in session.exec(statement)]
    order = {OPEN: 1, ANSWERED: 2, CLOSED: 3}
    lines.sort(key=lambda line: (0 if line.late else order[line.item.state],
                                 -line.item.id if line.item.state == CLOSED else line.item.due.toordinal(),
                                 line.item.id))
    return lines


@dataclass
class RectificationCounts:
    open: int = 0
    answered: int = 0
    closed: int = 0
    late: int = 0                    # open past the deadline (counted in `open` too)

    @property
    def active(self) -> int:
        return self.open + self.answered

    @property
    def total(self) -> int:
        return self.open + self.answered + self.closed


def rectification_counts(session: Session, user: User, today: date, *, year: int | None = None,
                         department: int | None = None, unit: int | None = None,
                         project_year_id: int | None = None) -> RectificationCounts:
    """How many items in scope are open (and of them late), answered and closed: one grouped read."""
    late = func.count(case((and_(Rectification.state == OPEN, Rectification.due < today), 1)))
    statement = _narrowed(_scoped(select(Rectification.state, func.count(Rectification.id), late)
                                  .select_from(Rectification), user), year, department, unit, project_year_id)
    counts = RectificationCounts()
    for state, number, late_number in session.exec(statement.group_by(Rectification.state)):
        setattr(counts, state, int(number))
        counts.late += int(late_number)
    return counts


# --------------------------------------------------------------------------- one item

@dataclass
class RectificationPage:
    line: RectificationLine
    steps: list[RectificationStep]
    labels: dict[str, str]           # username → how pages name them
    files: list[Evidence]
    round: Round | None              # the round whose review raised it
    may_answer: bool                 # the unit's 填报人 (or an admin), until it is closed
    may_review: bool                 # a 审核人 in scope (or an admin), once it is answered

    @property
    def item(self) -> Rectification:
        return self.line.item


def rectification_page(session: Session, user: User, rectification_id: int, today: date, soon_days: int,
                       rules) -> RectificationPage | None:
    found = rectification_in_scope(session, user, rectification_id)
    if found is None:
        return None
    item, py, project = found
    unit = session.get(Unit, item.unit_id)
    ind = session.get(Indicator, item.indicator_id) if item.indicator_id else None
    line = RectificationLine(item, project, py, unit.name, indicator_name(ind) if ind else None,
                             due_status(item.state, item.due, today, soon_days), today)
    steps = list(session.exec(select(RectificationStep).where(RectificationStep.rectification_id == item.id)
                              .order_by(RectificationStep.at, RectificationStep.id)))
    labels = user_labels(session, [s.who for s in steps])
    rnd = None
    if item.submission_id:
        month = session.get(MonitoringSubmission, item.submission_id).month
        rnd = find_round(py.year, month, rules) or Round(py.year, month, item.due)
    return RectificationPage(line, steps, labels, evidence_of(session, [item.id], Evidence.rectification_id).get(item.id, []),
                             rnd, may_answer=may_edit_actuals(user, project) and item.state != CLOSED,
                             may_review=may_review_monitoring(user) and item.state == ANSWERED)


# --------------------------------------------------------------------------- the API

def api_rectifications(session: Session, user: User, state: str = "open") -> list[dict]:
    """`GET /api/v1/rectifications?state=`: the items in scope, oldest first."""
    statement = _scoped(select(Rectification, Unit.name).join(Unit, Unit.id == Rectification.unit_id), user)
    if state != "all":
        statement = statement.where(Rectification.state == state)
    return [{"id": item.id, "project_id": item.project_year_id, "indicator_id": item.indicator_id,
             "requirement": item.requirement, "due": item.due.isoformat(), "state": item.state, "unit": unit,
             "measures": item.measures, "result": item.result, "conclusion": item.conclusion,
             "created_at": item.created_at.isoformat(),
             "answered_at": item.answered_at.isoformat() if item.answered_at else None,
             "closed_at": item.closed_at.isoformat() if item.closed_at else None}
            for item, unit in session.exec(statement.order_by(Rectification.id))]
