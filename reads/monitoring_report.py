"""The 监控报告 of a 实施单位 for a monitoring round (DOMAIN.md §8), as its page, its printable A4
page and its .docx read it: the figures as of the round, the seven text sections (stored, or a
first draft written from the figures) and where the report stands.

The figures are read, never worked out here (DOMAIN.md §9, one rule in one place):

- the counts of lights and the unit's budget execution against 序时进度 are the overview's
  (reads/overview.py `unit_groups`, narrowed to the unit), so the report and the overview cannot
  disagree for that unit and date;
- each project's indicators off track, 超额 and its budget are its 监控表 headed 1–N月
  (reads/monitoring.py), the sheet each project submitted in the round;
- the 整改 items are reads/rectifications.py's.

The figures are the unit's whoever reads them: read in the unit's scope (a 填报人 of the unit
would see the same). They are judged on `figures_date`: the day the page is read, kept within
the round (from its as-of date until the next month closes), so a table headed 1–7月 reads
July's entries, and after July's entry deadline a missing one is grey — as the round's 监控表
are. A submitted report keeps the date it was submitted on (`figures_on`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timedelta, timezone
from typing import Mapping

from sqlalchemy import false, true
from sqlmodel import Session, select

from domain import rules
from domain.calendar import month_end
from domain.monitoring import APPROVED, RECTIFY, ROUND_STATE_LABELS, SUBMITTED as ROUND_SUBMITTED, Round, find_round
from domain.monitoring_report import (NOT_STARTED, REPORT_EDITABLE, REPORT_STATE_LABELS, SECTIONS, SUBMITTED)
from models.monitoring import MonitoringSubmission
from models.monitoring_report import MonitoringReport, MonitoringReportStep
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from models.user import User
from reads.monitoring import MonitoringRow, MonitoringSheet, monitoring_sheets, sheet_month
from reads.overview import Group, unit_groups
from reads.rectifications import RectificationCounts, RectificationLine, rectification_counts, rectification_lines
from reads.report_filters import AsOf, ReportFilters
from reads.report_sums import LIGHT_LABELS, Budget, Counts
from reads.rounds import OFF_TRACK, round_rules
from reads.scope import projects_visible_to, user_scope
from reads.wording import as_of_text, day_text, periods_name, percent_text, user_labels, wan_text

LIGHT_ORDER = (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY)
GREY_LABEL = "灰灯（逾期未填报）"


# --------------------------------------------------------------------------- who, which round, which day

def unit_in_scope(session: Session, user: User, unit_id: int) -> tuple[Unit, Department] | None:
    """The unit and its 主管部门 if the user may read its report: its own 填报人, a 审核人 of its
    主管部门 (or of all), an admin; None otherwise (the view answers 404)."""
    unit = session.exec(select(Unit).where(Unit.id == unit_id, units_of(user))).first()
    return (unit, session.get(Department, unit.department_id)) if unit is not None else None


def units_of(user: User):
    """The condition that keeps the 实施单位 whose reports the user may read (`unit_in_scope`)."""
    shape, scope_id = user_scope(user)
    if shape == "all":
        return true()
    if shape == "department":
        return Unit.department_id == scope_id
    return Unit.id == scope_id if shape == "unit" else false()


def reports_waiting(session: Session, user: User) -> list[tuple[MonitoringReport, Unit]]:
    """The 审核人's 工作台: the 监控报告 in scope submitted (read-only now; the 审核人 reads it, may
    return it), the earliest submitted first."""
    return [tuple(row) for row in session.exec(
        select(MonitoringReport, Unit).join(Unit, Unit.id == MonitoringReport.unit_id)
        .where(MonitoringReport.state == SUBMITTED, units_of(user))
        .order_by(MonitoringReport.submitted_at, MonitoringReport.id))]


def may_edit_report(user: User, unit: Unit) -> bool:
    """The report is the unit's: its 填报人 writes and submits it (and an admin)."""
    return user.role == "admin" or (user.role == "manager" and user.unit_id == unit.id)


def may_return_report(user: User) -> bool:
    """A 审核人 in scope (the view has checked it) or an admin sends a submitted report back."""
    return user.role in ("admin", "supervisor")


def report_round(session: Session, unit_id: int, year: int, month: int, config: Mapping) -> Round | None:
    """The round of `year` as of `month`'s end: a configured one, or one a report was stored for."""
    rnd = find_round(year, month, round_rules(config))
    if rnd is None and stored_report(session, unit_id, year, month) is not None:
        rnd = Round(year, month, month_end(year, month))
    return rnd


def stored_report(session: Session, unit_id: int, year: int, month: int) -> MonitoringReport | None:
    return session.exec(select(MonitoringReport).where(MonitoringReport.unit_id == unit_id,
                                                       MonitoringReport.year == year,
                                                       MonitoringReport.month == month)).first()


def figures_date(rnd: Round, on: date) -> date:
    """The day the round's figures are judged at when read on `on`: `on`, but no earlier than the
    round's as-of date and no later than the day before the next month closes — the round's
    month stays the latest closed one, late once its entry deadline has passed."""
    year, month = (rnd.year + 1, 1) if rnd.month == 12 else (rnd.year, rnd.month + 1)
    return min(max(on, rnd.as_of), month_end(year, month) - timedelta(days=1))


def unit_reader(unit: Unit) -> User:
    """The unit's scope as a reader (never stored): what its 填报人 sees, whoever reads the report."""
    return User(username="", role="manager", unit_id=unit.id, password_hash="",
                created_at=datetime(2000, 1, 1, tzinfo=timezone.utc))


# --------------------------------------------------------------------------- the figures

@dataclass
class ProjectPart:
    """One project year of the unit in the round: its 监控表 and where its monitoring stands."""
    sheet: MonitoringSheet
    round_state: str

    @property
    def name(self) -> str:
        return self.sheet.project.name

    @property
    def round_state_label(self) -> str:
        return ROUND_STATE_LABELS[self.round_state]

    @property
    def spent_wan(self) -> str:
        """执行数 in 万元, named by its period when it is not the round's month's."""
        execution = self.sheet.execution
        if execution.spent_yuan is None and execution.shown is None:
            return as_of_text(self.sheet.calendar, "", None, self.sheet.month)
        return as_of_text(self.sheet.calendar, wan_text(execution.spent_yuan), execution.shown, self.sheet.month)


@dataclass
class Finding:
    """An indicator of a project in a list of the report (off track, 超额)."""
    project: str
    row: MonitoringRow
    month: int                        # the period its 监控表 is headed 1–N月 for


@dataclass
class ReportFigures:
    unit: Unit
    department: Department
    round: Round
    on: date                          # the day the figures are judged at
    moment: AsOf
    group: Group                      # the overview's row of the unit: counts and budget
    parts: list[ProjectPart]
    items: list[RectificationLine]
    item_counts: RectificationCounts
    submissions: dict[int, MonitoringSubmission] = field(default_factory=dict)     # project year → its round's

    @property
    def counts(self) -> Counts:
        return self.group.counts

    @property
    def budget(self) -> Budget:
        return self.group.budget

    @property
    def department_name(self) -> str:
        return department_label(self.department.code, self.department.name)

    @property
    def span(self) -> str:
        return self.round.span

    @property
    def progress(self):
        """序时进度 of the round's month."""
        return self.moment.progress

    @property
    def off_track(self) -> list[Finding]:
        return [Finding(p.name, row, p.sheet.month) for p in self.parts for row in p.sheet.rows
                if row.light in OFF_TRACK]

    @property
    def over(self) -> list[Finding]:
        return [Finding(p.name, row, p.sheet.month) for p in self.parts for row in p.sheet.rows if row.over]

    @property
    def budget_light_label(self) -> str:
        return LIGHT_LABELS.get(self.budget.light, "—")

    @property
    def data_as_of(self) -> str:
        return f"数据截至{day_text(self.round.as_of)}（按{day_text(self.on)}的填报情况评判）"


def report_figures(session: Session, unit: Unit, department: Department, rnd: Round, on: date, config: Mapping,
                   soon_days: int) -> ReportFigures:
    """The unit's figures for the round, judged on `on` (see `figures_date`)."""
    reader = unit_reader(unit)
    moment = AsOf.of(rnd.year, on, config)
    groups = [u for d in unit_groups(session, reader, ReportFilters(year=rnd.year, unit=unit.id), moment)
              for u in d.units if u.id == unit.id]
    group = groups[0] if groups else Group(unit.id, unit.name, Budget(bands=moment.bands))
    for other in groups[1:]:              # the unit's projects under more than one 主管部门
        group.counts.add(other.counts)
        group.budget.add(other.budget)
        group.projects += other.projects
    years = list(session.exec(projects_visible_to(reader).where(ProjectYear.year == rnd.year)
                              .order_by(Project.name, Project.id)))
    sheets = monitoring_sheets(session, [(project, py, sheet_month(py, rnd.month)) for project, py in years], on,
                               config)
    submissions = {s.project_year_id: s for s in session.exec(select(MonitoringSubmission).where(
        MonitoringSubmission.month == rnd.month,
        MonitoringSubmission.project_year_id.in_([py.id for _p, py in years])))} if years else {}
    parts = [ProjectPart(sheet, submissions[sheet.py.id].state if sheet.py.id in submissions else "none")
             for sheet in sheets]
    items = rectification_lines(session, reader, on, soon_days, show="all", year=rnd.year, unit=unit.id)
    counts = rectification_counts(session, reader, on, year=rnd.year, unit=unit.id)
    return ReportFigures(unit, department, rnd, on, moment, group, parts, items, counts, submissions)


# --------------------------------------------------------------------------- the first draft

def _lights_text(counts: Counts | dict) -> str:
    get = counts.get if isinstance(counts, dict) else counts.of
    words = [f"{GREY_LABEL if light == rules.GREY else LIGHT_LABELS[light]}{get(light)}个" for light in LIGHT_ORDER]
    return "、".join(words)


def _rate_words(p: ProjectPart) -> str:
    execution = p.sheet.execution
    if execution.shown is None:
        cal = p.sheet.calendar
        return f"{periods_name(cal, cal.periods_after(None, p.sheet.month))}未填报支出"
    return f"执行率{execution.rate_text}"


def _actual_words(rnd: Round, row: MonitoringRow, month: int) -> str:
    """1-7月执行情况：10平方米, or the row's own words when the figure is not the round's month's."""
    return f"{rnd.span}执行情况：{row.actual}" if row.shown == month else row.actual


def draft_texts(f: ReportFigures) -> dict[str, str]:
    """A first draft of every section, written from the figures; the 填报人 edits it."""
    rnd, counts, budget = f.round, f.counts, f.budget
    through = f"截至{rnd.year}年{rnd.month}月末"
    submitted = sum(1 for p in f.parts if p.round_state in (ROUND_SUBMITTED, APPROVED, RECTIFY))
    pending = f"，尚未到期{counts.pending}个" if counts.pending else ""
    overview = (f"{f.unit.name}{rnd.year}年度共有{len(f.parts)}个项目纳入{rnd.title}，年度绩效指标{counts.indicators}个。"
                f"{through}，{_lights_text(counts)}{pending}。各项目本轮监控表已提交{submitted}个，"
                f"未提交{len(f.parts) - submitted}个。")
    if budget.projects:
        budget_text = (f"{budget.projects}个项目全年预算数（调整后）{wan_text(budget.annual_yuan)}万元"
                       f"（年初预算数{wan_text(budget.initial_yuan)}万元），{through}累计执行{wan_text(budget.spent_yuan)}万元，"
                       f"预算执行率{percent_text(budget.execution_rate)}，序时进度{percent_text(f.progress)}，"
                       f"{f.budget_light_label}。")
        slow = [f"{p.name}（{_rate_words(p)}，{p.sheet.budget_light_word}灯）" for p in f.parts
                if p.sheet.budget_light in OFF_TRACK]
        if slow:
            budget_text += "执行偏慢的项目：" + "；".join(slow) + "。"
    else:
        budget_text = "各项目均未填列年度预算数。"
    performance = "\n".join(
        f"{p.name}：年度指标{len(p.sheet.rows)}个，{_lights_text(p.sheet.counts)}；"
        f"预算{_rate_words(p)}（{p.sheet.budget_light_word}）。" for p in f.parts) or "本年度没有项目。"
    entered = [x for x in f.off_track if x.row.shown is not None]
    missing: dict[str, list[str]] = {}
    for x in f.off_track:
        if x.row.shown is None:
            missing.setdefault(x.project, []).append(x.row.name)
    deviation = "\n".join(
        f"{n}. {x.project}·{x.row.name}（{x.row.light_word}灯）：年度指标值{x.row.target}，{_actual_words(rnd, x.row, x.month)}；"
        f"偏差原因：{x.row.reasons or '未说明'}；完成可能性：{x.row.likelihood or '未填写'}。"
        for n, x in enumerate(entered, start=1))
    if missing:
        deviation += ("\n" if deviation else "") + f"{rnd.span}未填报实际值的指标（灰灯）：" + "；".join(
            f"{project}：{'、'.join(names)}" for project, names in missing.items()) + "。"
    deviation = deviation or "本轮没有偏离序时进度的指标。"
    over = "\n".join(f"{n}. {x.project}·{x.row.name}：年度指标值{x.row.target}，{_actual_words(rnd, x.row, x.month)}，超额完成。"
                     for n, x in enumerate(f.over, start=1))
    over = (over + "\n请分析是否存在目标设定偏低的情况。") if over else "本轮没有超额完成的指标。"
    c = f.item_counts
    if c.total:
        rectification = (f"本年度共有整改事项{c.total}项：待整改{c.open}项（其中已逾期{c.late}项）、"
                         f"已答复待审核{c.answered}项、已关闭{c.closed}项。")
        rectification += "".join(f"\n{line.project.name}·{line.subject}：{line.item.requirement}"
                                 f"（整改期限{day_text(line.item.due)}，{line.state_label}）"
                                 for line in f.items if line.item.state != "closed")
    else:
        rectification = "本年度没有整改事项。"
    measures = "\n".join(f"{p.name}：{f.submissions[p.sheet.py.id].correction}" for p in f.parts
                         if p.sheet.py.id in f.submissions and f.submissions[p.sheet.py.id].correction)
    return {"overview": overview, "budget": budget_text, "performance": performance, "deviation": deviation,
            "over": over, "rectification": rectification, "measures": measures}


# --------------------------------------------------------------------------- the tables

@dataclass(frozen=True)
class Cell:
    text: str
    light: str | None = None          # a light cell is coloured by its light
    num: bool = False                 # a figure: right-aligned


@dataclass
class Table:
    """A table of the report, as the page, the A4 page and the .docx all print it."""
    key: str
    caption: str
    head: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    empty: str = "无"


def _light_cell(light: str | None, word: str, over: bool = False) -> Cell:
    return Cell(f"{word}（超额）" if over else word, light)


def report_tables(f: ReportFigures) -> dict[str, Table]:
    """The tables printed after their sections: 一 the lights, 二 the budget, 四 the indicators
    off track, 五 the 超额 ones, 六 the 整改 items."""
    c, b = f.counts, f.budget
    lights = Table("counts", f"表1 绩效指标灯色统计（{f.span}）",
                   ("年度指标数", "绿灯", "黄灯", "红灯", "灰灯（逾期未填报）", "尚未到期"),
                   [tuple(Cell(str(n), light, True) for n, light in (
                       (c.indicators, None), (c.green, rules.GREEN), (c.yellow, rules.YELLOW), (c.red, rules.RED),
                       (c.grey, rules.GREY), (c.pending, None)))])
    budget_rows = [(Cell(p.name), Cell(wan_text(p.sheet.budget_yuan), num=True),
                    Cell(wan_text(p.sheet.adjusted_yuan), num=True), Cell(p.spent_wan, num=True),
                    Cell(p.sheet.execution.rate_text, num=True), Cell(percent_text(f.progress), num=True),
                    _light_cell(p.sheet.budget_light, p.sheet.budget_light_word)) for p in f.parts]
    if f.parts:
        budget_rows.append((Cell("合计"), Cell(wan_text(b.initial_yuan), num=True), Cell(wan_text(b.annual_yuan), num=True),
                            Cell(wan_text(b.spent_yuan), num=True), Cell(percent_text(b.execution_rate), num=True),
                            Cell(percent_text(b.progress), num=True),
                            _light_cell(b.light, LIGHT_LABELS.get(b.light, "—").rstrip("灯"))))
    budget = Table("budget", "表2 预算执行情况（万元）",
                   ("项目", "年初预算数", "调整后预算数", f"{f.span}执行数", "执行率", "序时进度", "灯色"), budget_rows)
    deviation = Table("deviation", "表3 偏离序时进度的指标",
                      ("项目", "三级指标", "年度指标值", f"{f.span}执行情况", "灯色", "偏差原因", "完成可能性"),
                      [(Cell(x.project), Cell(x.row.name), Cell(x.row.target), Cell(x.row.actual or "未填报"),
                        _light_cell(x.row.light, x.row.light_word), Cell(x.row.reasons or "未说明"),
                        Cell(x.row.likelihood or "—")) for x in f.off_track], "本轮没有偏离序时进度的指标。")
    over = Table("over", "表4 超额完成的指标",
                 ("项目", "三级指标", "年度指标值", f"{f.span}执行情况", "全年预计", "灯色"),
                 [(Cell(x.project), Cell(x.row.name), Cell(x.row.target), Cell(x.row.actual), Cell(x.row.forecast or "—"),
                   _light_cell(x.row.light, x.row.light_word, True)) for x in f.over], "本轮没有超额完成的指标。")
    items = Table("rectification", "表5 整改事项",
                  ("项目", "整改对象", "整改要求和建议", "整改期限", "状态", "整改措施及结果"),
                  [(Cell(line.project.name), Cell(line.subject), Cell(line.item.requirement),
                    Cell(line.item.due.isoformat()), Cell(line.state_label + ("（已逾期）" if line.late else "")),
                    Cell("；".join(t for t in (line.item.measures, line.item.result, line.item.conclusion) if t) or "—"))
                   for line in f.items], "本年度没有整改事项。")
    return {"overview": lights, "budget": budget, "deviation": deviation, "over": over, "rectification": items}


# --------------------------------------------------------------------------- the page

@dataclass
class ReportPage:
    figures: ReportFigures
    report: MonitoringReport | None
    form: dict                        # the texts shown (stored, or the first draft) and the version
    prefilled: bool
    steps: list[MonitoringReportStep]
    labels: dict[str, str]
    may_edit: bool
    may_return: bool
    is_open: bool                     # the round takes submissions (its as-of date has passed)

    @property
    def state(self) -> str:
        return self.report.state if self.report else NOT_STARTED

    @property
    def state_label(self) -> str:
        return REPORT_STATE_LABELS[self.state]

    @property
    def sections(self) -> list[tuple[str, str, str]]:
        """(field, heading, text) in the report's order."""
        return [(name, heading, self.form.get(name) or "") for name, heading in SECTIONS]

    @property
    def title(self) -> str:
        return f"{self.figures.unit.name}{self.figures.round.year}年{self.figures.span}绩效运行监控报告"

    @cached_property
    def tables(self) -> dict[str, Table]:
        return report_tables(self.figures)

    @property
    def last_return(self) -> MonitoringReportStep | None:
        returned = [s for s in self.steps if s.to_state == "returned"]
        return returned[-1] if returned else None


def report_page(session: Session, user: User, unit: Unit, department: Department, rnd: Round, today: date,
                config: Mapping, soon_days: int) -> ReportPage:
    report = stored_report(session, unit.id, rnd.year, rnd.month)
    fixed = report.figures_on if report is not None and report.state == SUBMITTED and report.figures_on else None
    figures = report_figures(session, unit, department, rnd, fixed or figures_date(rnd, today), config, soon_days)
    if report is not None:
        form = {name: getattr(report, name) or "" for name, _heading in SECTIONS} | {"version": report.version}
        prefilled = False
    else:
        form, prefilled = draft_texts(figures) | {"version": 0}, True
    steps = list(session.exec(select(MonitoringReportStep).where(MonitoringReportStep.report_id == report.id)
                              .order_by(MonitoringReportStep.at, MonitoringReportStep.id))) if report else []
    state = report.state if report else NOT_STARTED
    return ReportPage(figures, report, form, prefilled, steps, user_labels(session, [s.who for s in steps]),
                      may_edit=may_edit_report(user, unit) and state in REPORT_EDITABLE,
                      may_return=may_return_report(user) and state == SUBMITTED, is_open=rnd.is_open(today))


# --------------------------------------------------------------------------- the round's list

@dataclass
class ReportLine:
    """A unit of a round's list with where its 监控报告 stands."""
    unit_id: int
    unit: str
    state: str

    @property
    def state_label(self) -> str:
        return REPORT_STATE_LABELS[self.state]


def report_lines(session: Session, year: int, month: int, units: Mapping[int, str]) -> list[ReportLine]:
    """The 监控报告 of these units (id → name: those of the round's list, already in scope)."""
    if not units:
        return []
    states = dict(session.exec(select(MonitoringReport.unit_id, MonitoringReport.state).where(
        MonitoringReport.year == year, MonitoringReport.month == month, MonitoringReport.unit_id.in_(list(units)))).all())
    return sorted((ReportLine(unit_id, name, states.get(unit_id, NOT_STARTED)) for unit_id, name in units.items()),
                  key=lambda line: (line.state != SUBMITTED, line.unit))
