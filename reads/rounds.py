"""Monitoring rounds as pages read them (DOMAIN.md §8): the rounds of a project year with where
each stands, one round's page (the 监控表's figures as of the round, the texts, the review and its
history, the 整改 items it raised), the list of a round's projects for the 审核人, and what the
填报人's 工作台 still owes.

The rounds come from settings (`MONITORING_ROUNDS`, domain/monitoring.py); a submission stored
for a round since removed from the settings stays readable. The figures are the 监控表's
(reads/monitoring.py), judged as the pages judge them on the day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from sqlmodel import Session, select

from domain import rules
from domain.calendar import YearCalendar, month_end
from domain.monitoring import (DEFAULT_ROUNDS, NOT_STARTED, RETURNED, ROUND_EDITABLE, ROUND_STATE_LABELS, SUBMITTED,
                               Round, RoundRule, find_round, parse_rounds, rounds_of)
from models.indicator import Indicator, active_indicators_to_read
from models.monitoring import MonitoringStep, MonitoringSubmission
from models.org import Department, Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.monitoring import MonitoringSheet, monitoring_sheet, sheet_month
from reads.rectifications import RectificationCounts, RectificationLine, rectification_counts, rectification_lines
from reads.scope import may_edit_actuals, may_review_monitoring, projects_visible_to
from reads.wording import percent_text, user_labels

OFF_TRACK = (rules.YELLOW, rules.RED, rules.GREY)


def round_rules(config: Mapping) -> tuple[RoundRule, ...]:
    return parse_rounds(config.get("MONITORING_ROUNDS", list(DEFAULT_ROUNDS)))


def round_of_month(session: Session, py: ProjectYear, month: int, config: Mapping) -> Round | None:
    """The round of `py`'s year as of `month`'s end: a configured one, or one a submission was
    stored for (its deadline unknown now: the as-of date stands for it)."""
    rnd = find_round(py.year, month, round_rules(config))
    if rnd is None and _submission(session, py.id, month) is not None:
        rnd = Round(py.year, month, month_end(py.year, month))
    return rnd


def _submission(session: Session, project_year_id: int, month: int) -> MonitoringSubmission | None:
    return session.exec(select(MonitoringSubmission).where(MonitoringSubmission.project_year_id == project_year_id,
                                                           MonitoringSubmission.month == month)).first()


@dataclass
class RoundLine:
    """Where one project year stands in one round."""
    round: Round
    project: Project
    year: ProjectYear
    submission: MonitoringSubmission | None
    today: date
    unit: str = ""

    @property
    def state(self) -> str:
        return self.submission.state if self.submission else NOT_STARTED

    @property
    def state_label(self) -> str:
        return ROUND_STATE_LABELS[self.state]

    @property
    def is_open(self) -> bool:
        return self.round.is_open(self.today)

    @property
    def owed(self) -> bool:
        """The unit still has to submit it (the round is open and nothing waits for review)."""
        return self.is_open and self.state in ROUND_EDITABLE

    @property
    def late(self) -> bool:
        return self.owed and self.today > self.round.due

    @property
    def days_left(self) -> int:
        return self.round.days_left(self.today)


def project_rounds(session: Session, project: Project, py: ProjectYear, today: date, config: Mapping) -> list[RoundLine]:
    """The rounds of the project year (configured ones and any with a stored submission), earliest first."""
    stored = {s.month: s for s in session.exec(select(MonitoringSubmission)
                                               .where(MonitoringSubmission.project_year_id == py.id))}
    rounds = {r.month: r for r in rounds_of(py.year, round_rules(config))}
    for month in stored.keys() - rounds.keys():
        rounds[month] = round_of_month(session, py, month, config)
    return [RoundLine(rounds[m], project, py, stored.get(m), today) for m in sorted(rounds)]


# --------------------------------------------------------------------------- one round of one project

@dataclass
class RoundPage:
    line: RoundLine
    unit: Unit
    department: Department
    sheet: MonitoringSheet
    form: dict                       # the texts shown (stored, or prefilled from the entries) and the version
    prefilled: bool
    steps: list[MonitoringStep]
    labels: dict[str, str]
    items: list[RectificationLine]   # the 整改 items its review raised
    indicators: list[Indicator]      # what a 整改 item may be on
    may_edit: bool
    may_review: bool

    @property
    def off_track(self) -> bool:
        return is_off_track(self.sheet)

    @property
    def off_track_rows(self):
        return [row for row in self.sheet.rows if row.light in OFF_TRACK]


def is_off_track(sheet: MonitoringSheet) -> bool:
    """An indicator or the budget is yellow, red or grey as of the round: 偏差原因 and 改进措施 are needed."""
    return sheet.budget_light in OFF_TRACK or any(row.light in OFF_TRACK for row in sheet.rows)


def round_page(session: Session, user: User, project: Project, py: ProjectYear, rnd: Round, today: date,
               config: Mapping, soon_days: int) -> RoundPage:
    submission = _submission(session, py.id, rnd.month)
    line = RoundLine(rnd, project, py, submission, today)
    sheet = monitoring_sheet(session, project, py, sheet_month(py, rnd.month), today, config)
    if submission is not None and (submission.goal_progress or submission.deviation or submission.correction):
        form, prefilled = texts_of(submission), False
    else:
        form, prefilled = {**prefill(sheet), "version": submission.version if submission else 0}, True
    steps = list(session.exec(select(MonitoringStep).where(MonitoringStep.submission_id == submission.id)
                              .order_by(MonitoringStep.at, MonitoringStep.id))) if submission else []
    items = [i for i in rectification_lines(session, user, today, soon_days, show="all", project_year_id=py.id)
             if submission is not None and i.item.submission_id == submission.id]
    return RoundPage(line, session.get(Unit, project.unit_id), session.get(Department, py.department_id), sheet,
                     form, prefilled, steps, user_labels(session, [s.who for s in steps]), items,
                     active_indicators_to_read(session, py.id),
                     may_edit=may_edit_actuals(user, project) and line.state in ROUND_EDITABLE,
                     may_review=may_review_monitoring(user) and line.state == SUBMITTED)


def texts_of(submission: MonitoringSubmission) -> dict:
    return {"goal_progress": submission.goal_progress or "", "deviation": submission.deviation or "",
            "correction": submission.correction or "", "version": submission.version}


def prefill(sheet: MonitoringSheet) -> dict:
    """A first draft from what the entries already say: the lights and the budget against 序时进度
    as 总体目标执行情况, and each indicator off track with its light and the reasons entered with
    it as 偏差原因. 改进（纠偏）措施 is the unit's to write."""
    counts, month = sheet.counts, sheet.month
    indicators = len(sheet.rows)
    lights = "、".join(f"{word}{counts[key]}个" for key, word in
                       ((rules.GREEN, "绿灯"), (rules.YELLOW, "黄灯"), (rules.RED, "红灯"), (rules.GREY, "灰灯（逾期未填报）"))
                       if counts[key])
    progress = percent_text(YearCalendar.share(month))
    goal = (f"截至{sheet.calendar.year}年{month}月末，{indicators}个年度绩效指标中{lights or '尚无评判'}；"
            f"预算执行率{sheet.execution.rate_text}（序时进度{progress}）。")
    reasons = []
    for row in sheet.rows:
        if row.light in OFF_TRACK:
            reasons.append(f"{row.name}（{row.light_word}）：{row.reasons}" if row.reasons else
                           f"{row.name}（{row.light_word}）：{row.actual or '未填报'}")
    if sheet.budget_light in OFF_TRACK:
        reasons.append(f"预算执行（{sheet.budget_light_word}）：执行率{sheet.execution.rate_text}，序时进度{progress}")
    return {"goal_progress": goal, "deviation": "\n".join(reasons), "correction": ""}


# --------------------------------------------------------------------------- a round's projects

@dataclass
class RoundList:
    year: int
    rounds: list[Round]
    round: Round | None
    lines: list[RoundLine] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in ROUND_STATE_LABELS}
        for line in self.lines:
            counts[line.state] += 1
        return counts


# The order a round's projects are listed in: what waits for the reader first.
REVIEWER_ORDER = {SUBMITTED: 0, RETURNED: 1, NOT_STARTED: 2, "draft": 2, "rectify": 3, "approved": 4}
UNIT_ORDER = {RETURNED: 0, NOT_STARTED: 1, "draft": 1, SUBMITTED: 2, "rectify": 3, "approved": 4}


def round_list(session: Session, user: User, year: int, month: int | None, today: date, config: Mapping) -> RoundList:
    """Every project year of `year` in scope with where it stands in the round as of `month`
    (default: the latest round that has opened, else the first)."""
    rounds = rounds_of(year, round_rules(config))
    chosen = next((r for r in rounds if r.month == month), None) if month else None
    if chosen is None and rounds:
        opened = [r for r in rounds if r.is_open(today)]
        chosen = opened[-1] if opened else rounds[0]
    listing = RoundList(year, rounds, chosen)
    if chosen is None:
        return listing
    rows = list(session.exec(projects_visible_to(user).add_columns(Unit.name).join(Unit, Unit.id == Project.unit_id)
                             .where(ProjectYear.year == year)))
    stored = {s.project_year_id: s for s in session.exec(select(MonitoringSubmission).where(
        MonitoringSubmission.month == chosen.month,
        MonitoringSubmission.project_year_id.in_([py.id for _p, py, _u in rows])))} if rows else {}
    order = REVIEWER_ORDER if may_review_monitoring(user) else UNIT_ORDER
    listing.lines = sorted((RoundLine(chosen, project, py, stored.get(py.id), today, unit) for project, py, unit in rows),
                           key=lambda line: (order[line.state], line.unit, line.project.name))
    return listing


def owed_rounds(session: Session, user: User, year: int, today: date, config: Mapping) -> list[RoundLine]:
    """The 填报人's 工作台: each open round of `year` whose monitoring a project still owes (not
    submitted, a draft, or returned), the latest round first."""
    owed = []
    for rnd in reversed([r for r in rounds_of(year, round_rules(config)) if r.is_open(today)]):
        owed += [line for line in round_list(session, user, year, rnd.month, today, config).lines if line.owed]
    return owed


def rounds_waiting(session: Session, user: User, today: date, config: Mapping) -> list[RoundLine]:
    """The 审核人's 工作台: every monitoring submission in scope, of any year, submitted and
    waiting for review, the earliest submitted first."""
    rows = session.exec(projects_visible_to(user).add_columns(MonitoringSubmission, Unit.name)
                        .join(MonitoringSubmission, MonitoringSubmission.project_year_id == ProjectYear.id)
                        .join(Unit, Unit.id == Project.unit_id)
                        .where(MonitoringSubmission.state == SUBMITTED)
                        .order_by(MonitoringSubmission.submitted_at, MonitoringSubmission.id))
    return [RoundLine(round_of_month(session, py, submission.month, config), project, py, submission, today, unit)
            for project, py, submission, unit in rows]


# --------------------------------------------------------------------------- the project page's section

@dataclass
class ProjectMonitoring:
    """The project page's 监控与整改 section: the year's rounds, its 整改 items and their counts,
    and for a 审核人 what a new item may be on."""
    project: Project
    year: ProjectYear
    unit: str                        # 责任单位 of a new item: the project's 实施单位
    rounds: list[RoundLine]
    items: list[RectificationLine]
    counts: RectificationCounts
    indicators: list[Indicator]
    may_raise: bool


def project_monitoring(session: Session, user: User, project: Project, py: ProjectYear, today: date,
                       config: Mapping, soon_days: int) -> ProjectMonitoring:
    return ProjectMonitoring(project, py, session.get(Unit, project.unit_id).name,
                             project_rounds(session, project, py, today, config),
                             rectification_lines(session, user, today, soon_days, show="all", project_year_id=py.id),
                             rectification_counts(session, user, today, project_year_id=py.id),
                             active_indicators_to_read(session, py.id), may_review_monitoring(user))
