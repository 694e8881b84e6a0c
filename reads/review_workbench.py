"""The 审核人's 工作台: what waits for them within their scope (their 主管部门's project years, all
without one), each entry with the page where they act —

- 自评 submitted, waiting for review (the 自评 page: 通过 / 退回);
- 目标调整 proposed, pending (the project page's 目标调整 section);
- monitoring-round submissions waiting for review (the round's page);
- 整改 items answered by the unit, waiting for the 审核人 (the item's page: 关闭 / 退回);
- 监控报告 submitted (the report's page);
- units overdue, with the days overdue — by the 填报人's own rule (`reads.workbench.due_periods`,
  the periods the reminder mail names);
- the red alerts in scope, grouped by project.

The waiting items are of any year (a 2025 自评 is reviewed in 2026); the overdue units and the
reds are of the 工作台's year (`workbench_years`: the current one, else the latest with projects).
Nothing here decides a rule: each list comes from the reader its page uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import Mapping

from sqlmodel import Session, select

from domain.monitoring import ANSWERED
from domain.review import SUBMIT, SUBMITTED
from models.evaluation import EvaluationReview, EvaluationStep
from models.org import Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.monitoring_report import reports_waiting
from reads.rectifications import RectificationLine, rectification_lines
from reads.rounds import RoundLine, rounds_waiting
from reads.scope import projects_visible_to
from reads.target_adjustments import Notice, recent_for
from reads.wording import user_labels
from reads.workbench import AlertItem, DueItem, due_periods, open_alerts, workbench_years


@dataclass
class EvaluationLine:
    """A project year's 自评, submitted and waiting for review."""
    project: Project
    year: ProjectYear
    unit: str
    submitted_by: str            # as pages name people
    submitted_at: datetime | None


@dataclass
class OverdueUnit:
    """A 实施单位 with entries overdue: its periods overdue, the longest by how many days."""
    unit: str
    items: list[DueItem]
    as_of: date

    @property
    def days(self) -> int:
        return max((self.as_of - item.deadline).days for item in self.items)

    @property
    def projects(self) -> int:
        return len({item.project.id for item in self.items})

    def days_of(self, item: DueItem) -> int:
        return (self.as_of - item.deadline).days


@dataclass
class RedProject:
    """A project's open red alerts."""
    project: Project
    year: ProjectYear
    alerts: list[AlertItem]


@dataclass
class ReviewWorkbench:
    year: int
    as_of: date
    evaluations: list[EvaluationLine] = field(default_factory=list)
    targets: list[Notice] = field(default_factory=list)
    rounds: list[RoundLine] = field(default_factory=list)
    rectifications: list[RectificationLine] = field(default_factory=list)
    reports: list[tuple] = field(default_factory=list)          # (MonitoringReport, Unit)
    overdue: list[OverdueUnit] = field(default_factory=list)
    reds: list[RedProject] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        """Everything that waits for the 审核人's decision."""
        return (len(self.evaluations) + len(self.targets) + len(self.rounds) + len(self.rectifications)
                + len(self.reports))


def submitted_evaluations(session: Session, user: User) -> list[EvaluationLine]:
    """The 自评 in scope, of any year, waiting for review, the earliest submitted first, each with
    who submitted it and when (its latest 提交 step)."""
    rows = list(session.exec(projects_visible_to(user).add_columns(Unit.name)
                             .join(Unit, Unit.id == Project.unit_id)
                             .join(EvaluationReview, EvaluationReview.project_year_id == ProjectYear.id)
                             .where(EvaluationReview.state == SUBMITTED)))
    if not rows:
        return []
    submits = {}
    for step in session.exec(select(EvaluationStep).where(
            EvaluationStep.project_year_id.in_([py.id for _p, py, _u in rows]), EvaluationStep.action == SUBMIT)
            .order_by(EvaluationStep.at, EvaluationStep.id)):
        submits[step.project_year_id] = step
    labels = user_labels(session, [s.who for s in submits.values()])
    lines = [EvaluationLine(project, py, unit, labels.get(submits[py.id].who, submits[py.id].who) if py.id in submits
                            else "", submits[py.id].at if py.id in submits else None)
             for project, py, unit in rows]
    return sorted(lines, key=lambda line: (line.submitted_at is None, line.submitted_at or datetime.min,
                                           line.unit, line.project.name))


def overdue_units(session: Session, projects: list[tuple[Project, ProjectYear]], as_of: date,
                  deadline_day: int) -> list[OverdueUnit]:
    """The units with periods overdue, the longest overdue first."""
    _due, overdue, _done = due_periods(session, projects, as_of, deadline_day)
    if not overdue:
        return []
    names = dict(session.exec(select(Unit.id, Unit.name).where(Unit.id.in_({i.project.unit_id for i in overdue}))).all())
    ordered = sorted(overdue, key=lambda i: (names[i.project.unit_id], i.project.name, i.month))
    units = [OverdueUnit(name, list(items), as_of)
             for name, items in groupby(ordered, key=lambda i: names[i.project.unit_id])]
    return sorted(units, key=lambda u: (-u.days, u.unit))


def red_projects(alerts: list[AlertItem]) -> list[RedProject]:
    """The red alerts, one group per project year, in the order `open_alerts` gives."""
    groups: dict[int, RedProject] = {}
    for a in alerts:
        if a.alert.light == "red":
            groups.setdefault(a.year.id, RedProject(a.project, a.year, [])).alerts.append(a)
    return list(groups.values())


def review_workbench(session: Session, user: User, as_of: date, deadline_day: int, config: Mapping,
                     soon_days: int) -> ReviewWorkbench:
    year, projects = workbench_years(session, user, as_of)
    return ReviewWorkbench(
        year, as_of,
        evaluations=submitted_evaluations(session, user),
        targets=recent_for(session, user, None, None, limit=None),
        rounds=rounds_waiting(session, user, as_of, config),
        rectifications=rectification_lines(session, user, as_of, soon_days, show=ANSWERED),
        reports=reports_waiting(session, user),
        overdue=overdue_units(session, projects, as_of, deadline_day),
        reds=red_projects(open_alerts(session, user, year)))
