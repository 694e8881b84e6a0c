"""The 填报人's 工作台: for each project year they work on, the latest due period with what is
still missing (due, overdue or done), the open alerts within their scope, the indicators marked
超额 as of today (DOMAIN.md §8: green, far ahead — a target set too low is worth a look), their
unit's 目标调整 that wait for a decision or were decided in the last 30 days, the monitoring rounds
their projects still owe, their unit's 整改 items not yet closed, and the 审核人's decisions on
their 自评 and monitoring rounds (returned, or decided lately). What is due and overdue
(`due_periods`) is the one rule the 审核人's 工作台 uses too (reads/review_workbench.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping

from sqlmodel import Session, select

from domain.calendar import YearCalendar, period_label
from domain.project_year import OVER_ALERT
from models.actual import Actual, Alert, Spending
from models.indicator import Indicator
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import projects_visible_to, visible_years
from reads.target_adjustments import Notice, recent_for
from reads.tracking import annual_indicators
from reads.rectifications import rectification_lines
from reads.rounds import owed_rounds


TARGETS_SHOWN_FOR = timedelta(days=30)        # a decided 目标调整 stays on the 工作台 this long


@dataclass
class AlertItem:
    alert: object                        # Alert
    project: Project
    year: ProjectYear
    indicator: Indicator | None          # None: the budget

    @property
    def subject(self) -> str:
        return self.indicator.name if self.indicator else "预算执行"

    @property
    def period(self) -> str:
        return f"{self.year.year}-{self.alert.month:02d}"

    @property
    def anchor(self) -> str:
        return f"ind-{self.indicator.id}" if self.indicator else "budget"

    @property
    def what(self) -> str:
        if self.alert.kind == "overdue":
            return "逾期未填报"
        return {"yellow": "黄灯", "red": "红灯"}.get(self.alert.light, self.alert.light)


def open_alerts(session: Session, user: User, year: int | None = None) -> list[AlertItem]:
    """Open alerts within the user's scope: red first, then overdue, then yellow; newest first.
    Not the over alerts (超额, for information): the 工作台 lists those as 超额完成, with r and p."""
    statement = (select(Alert, Project, ProjectYear)
                 .join(ProjectYear, ProjectYear.id == Alert.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Alert.closed_at.is_(None), Alert.kind != OVER_ALERT, visible_years(user)))
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    rows = list(session.exec(statement))
    ids = {a.indicator_id for a, _p, _y in rows if a.indicator_id}
    indicators = {i.id: i for i in session.exec(select(Indicator).where(Indicator.id.in_(ids)))} if ids else {}
    order = {"red": 0, "grey": 1, "yellow": 2}
    items = [AlertItem(a, p, y, indicators.get(a.indicator_id)) for a, p, y in rows]
    items.sort(key=lambda i: (order.get(i.alert.light, 3), -i.alert.month, i.project.name,
                              i.indicator.position if i.indicator else -1))
    return items


@dataclass
class AlertGroup:
    """The overdue (grey) alerts of one project and period, one row on the 工作台: "11项未填报",
    the indicators folded under it. Red and yellow alerts stay one row each."""
    items: list[AlertItem]

    @property
    def first(self) -> AlertItem:
        return self.items[0]

    @property
    def count(self) -> int:
        return len(self.items)


def alert_rows(alerts: list[AlertItem]) -> list[AlertItem | AlertGroup]:
    """`alerts` in their order, the overdue ones of one project year and month gathered into one
    AlertGroup where the first of them stood."""
    rows: list[AlertItem | AlertGroup] = []
    groups: dict[tuple, AlertGroup] = {}
    for item in alerts:
        if item.alert.kind != "overdue":
            rows.append(item)
            continue
        key = (item.year.id, item.alert.month)
        if key not in groups:
            groups[key] = AlertGroup([])
            rows.append(groups[key])
        groups[key].items.append(item)
    return rows


@dataclass
class DueItem:
    """One project year's latest due period, with what is still missing."""
    project: Project
    year: ProjectYear
    month: int
    label: str
    deadline: date
    missing: list[Indicator]
    indicators: int
    spending_missing: bool
    overdue: bool

    @property
    def period(self) -> str:
        return f"{self.year.year}-{self.month:02d}"

    @property
    def filled(self) -> int:
        return self.indicators - len(self.missing)


@dataclass
class OverItem:
    """An indicator whose latest entry shown as of the date is 超额, with its light (green)."""
    project: Project
    year: ProjectYear
    indicator: Indicator
    month: int                           # the period of the entry
    light: str | None
    completion: object                   # r (Decimal)
    pace: object | None                  # p, for a cumulative target during the year

    @property
    def period(self) -> str:
        return f"{self.year.year}-{self.month:02d}"


def over_items(session: Session, projects: list[tuple[Project, ProjectYear]], as_of: date) -> list[OverItem]:
    """超额 as the domain core judges it as of `as_of`, for these project years."""
    from reads.project_year import year_state
    items = []
    for project, py in projects:
        for state in year_state(session, py, as_of).indicators:
            if state.over and state.status.shown is not None:
                items.append(OverItem(project, py, state.indicator, state.status.shown, state.light,
                                      state.completion, state.pace))
    return items


@dataclass
class Workbench:
    year: int
    as_of: date
    due: list[DueItem]
    overdue: list[DueItem]
    done: list[DueItem]
    red: list[AlertItem]
    alerts: list[AlertItem]
    projects: list[tuple[Project, ProjectYear]]
    over: list[OverItem]
    targets: list[Notice] = field(default_factory=list)     # 目标调整 pending or decided lately
    rounds: list = field(default_factory=list)            # monitoring rounds still owed (reads/rounds.py)
    rectifications: list = field(default_factory=list)    # 整改 items not closed (reads/rectifications.py)
    reviews: list = field(default_factory=list)           # 自评 and monitoring decided (ReviewNotice)

    @property
    def alert_rows(self) -> list[AlertItem | AlertGroup]:
        return alert_rows(self.alerts)


REVIEW_WORDS = {"returned": "已退回", "approved": "已通过", "rectify": "需要整改"}


@dataclass
class ReviewNotice:
    """The 审核人's decision on a 自评 or a monitoring round of the user's unit: still returned
    (something to do), or decided lately."""
    kind: str                            # "evaluation" | "round"
    project: Project
    year: ProjectYear
    step: object                         # EvaluationStep | MonitoringStep: who, when, the comment
    decided_by: str                      # as pages name people
    month: int | None = None             # the round's as-of month

    @property
    def state(self) -> str:
        return self.step.to_state

    @property
    def state_label(self) -> str:
        return REVIEW_WORDS[self.state]

    @property
    def what(self) -> str:
        if self.kind == "evaluation":
            return f"{self.year.year}年度绩效自评"
        from domain.monitoring import Round
        return Round(self.year.year, self.month, None).title

    @property
    def period(self) -> str:
        return f"{self.year.year}-{self.month:02d}"


def review_notices(session: Session, user: User, since: datetime) -> list[ReviewNotice]:
    """The latest decision on each 自评 and monitoring submission in scope that still stands —
    returned (until submitted again), or approved / 需要整改 on or after `since` — newest first."""
    from domain import monitoring as rounds_domain, review
    from models.evaluation import EvaluationReview, EvaluationStep
    from models.monitoring import MonitoringStep, MonitoringSubmission
    from reads.wording import user_labels
    found: dict[tuple, ReviewNotice] = {}
    evaluations = session.exec(
        select(EvaluationStep, Project, ProjectYear)
        .join(EvaluationReview, EvaluationReview.project_year_id == EvaluationStep.project_year_id)
        .join(ProjectYear, ProjectYear.id == EvaluationStep.project_year_id)
        .join(Project, Project.id == ProjectYear.project_id)
        .where(visible_years(user), EvaluationStep.action.in_((review.APPROVE, review.RETURN)),
               EvaluationStep.to_state == EvaluationReview.state,
               (EvaluationStep.at >= since) | (EvaluationReview.state == review.RETURNED))
        .order_by(EvaluationStep.id))
    for step, project, py in evaluations:
        found[("evaluation", py.id)] = ReviewNotice("evaluation", project, py, step, step.who)
    decisions = (rounds_domain.APPROVE, rounds_domain.RETURN, rounds_domain.REQUIRE_RECTIFICATION)
    monitoring = session.exec(
        select(MonitoringStep, MonitoringSubmission.month, Project, ProjectYear)
        .join(MonitoringSubmission, MonitoringSubmission.id == MonitoringStep.submission_id)
        .join(ProjectYear, ProjectYear.id == MonitoringSubmission.project_year_id)
        .join(Project, Project.id == ProjectYear.project_id)
        .where(visible_years(user), MonitoringStep.action.in_(decisions),
               MonitoringStep.to_state == MonitoringSubmission.state,
               (MonitoringStep.at >= since) | (MonitoringSubmission.state == rounds_domain.RETURNED))
        .order_by(MonitoringStep.id))
    for step, month, project, py in monitoring:
        found[("round", step.submission_id)] = ReviewNotice("round", project, py, step, step.who, month)
    notices = sorted(found.values(), key=lambda n: n.step.at.replace(tzinfo=None), reverse=True)   # stored naive in SQLite
    notices.sort(key=lambda n: n.state != "returned")          # what the 填报人 must act on first
    labels = user_labels(session, [n.step.who for n in notices])
    for n in notices:
        n.decided_by = labels.get(n.step.who, n.step.who)
    return notices


def workbench_years(session: Session, user: User, as_of: date) -> tuple[int, list[tuple[Project, ProjectYear]]]:
    """The project years a 填报人 works on: those of the current year (else of the latest year)."""
    rows = list(session.exec(projects_visible_to(user).order_by(ProjectYear.year.desc(), Project.name)))
    current = [r for r in rows if r[1].year == as_of.year]
    if current or not rows:
        return as_of.year, [tuple(r) for r in current]
    latest = rows[0][1].year
    return latest, [tuple(r) for r in rows if r[1].year == latest]


def due_periods(session: Session, projects: list[tuple[Project, ProjectYear]], as_of: date,
                deadline_day: int) -> tuple[list[DueItem], list[DueItem], list[DueItem]]:
    """(due, overdue, done) of these project years as of `as_of` — the one rule of what is due
    and what is overdue, which the 填报人's and the 审核人's 工作台 share. Due: the latest period
    that has ended, while its deadline is ahead. Overdue: every period whose deadline has passed
    this calendar year with entries still missing — the periods the reminder mail names
    (reminders/cycle.py), earlier ones belonging to last year's 自评. Done: the latest period,
    complete."""
    due, overdue, done = [], [], []
    for project, py in projects:
        cal = YearCalendar(py.year, py.periods, deadline_day)
        closed = cal.closed_month(as_of)
        if closed is None:
            continue
        indicators = annual_indicators(session, py)
        entered = set(session.exec(select(Actual.indicator_id, Actual.month).where(
            Actual.indicator_id.in_([i.id for i in indicators])))) if indicators else set()
        spent = set(session.exec(select(Spending.month).where(Spending.project_year_id == py.id)))
        for month in (m for m in cal.months if m <= closed):
            deadline = cal.deadline(month)
            late = as_of > deadline
            if (late and deadline.year < as_of.year) or (not late and month != closed):
                continue
            item = DueItem(project, py, month, period_label(py.year, month, py.periods), deadline,
                           [i for i in indicators if (i.id, month) not in entered], len(indicators),
                           month not in spent, late)
            if item.missing or item.spending_missing:
                (overdue if late else due).append(item)
            elif month == closed:
                done.append(item)
    return due, overdue, done


def workbench(session: Session, user: User, as_of: date, deadline_day: int, config: Mapping | None = None,
              soon_days: int = 3) -> Workbench:
    """What is due and overdue (`due_periods`), the alerts, 超额, 目标调整, rounds and 整改 items
    of the 填报人's project years. `config` carries MONITORING_ROUNDS; `soon_days`: how near a
    整改 deadline counts as due soon."""
    year, projects = workbench_years(session, user, as_of)
    due, overdue, done = due_periods(session, projects, as_of, deadline_day)
    alerts = open_alerts(session, user, year)
    since = datetime.combine(as_of - TARGETS_SHOWN_FOR, time.min, tzinfo=timezone.utc)
    return Workbench(year, as_of, due, overdue, done, [a for a in alerts if a.alert.light == "red"], alerts, projects,
                     over_items(session, projects, as_of), recent_for(session, user, year, since),
                     owed_rounds(session, user, year, as_of, config or {}),
                     rectification_lines(session, user, as_of, soon_days, show="active"),
                     review_notices(session, user, since))
