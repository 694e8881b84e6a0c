"""The 项目支出绩效运行监控表 of a project year for one period: one read model for its xlsx sheet,
its printable A4 page and its row in a unit's 汇总 (reads/monitoring_xlsx.py writes the xlsx).

Read from the domain core (DOMAIN.md §9). A sheet headed 1–N月 reads the project year at
period N — closed, and late once N's entry deadline has passed on the day it is made — so its
lights are those the project page shows: grey when the judged period has no entry, with the
last known light beside it (灰，上期黄). Each figure is N's, or says which period it is of and
which are missing (截至9月：35家（10、11月未填报）): an older figure is never shown as N's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from sqlmodel import Session, select

from domain import rules
from domain.calendar import YearCalendar
from domain.funds import fund_groups
from domain.indicators import effective_measure
from domain.monitoring import ROUND_STATE_LABELS
from domain.project_year import YearAsOf, derive
from models.actual import LIKELIHOODS, Actual
from models.indicator import Indicator
from models.monitoring import MonitoringSubmission
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from models.user import User
from reads.period_progress import Progress, period_progress
from reads.project_year import spending_flags
from reads.self_evaluation import spans
from reads.wording import (Execution, as_of_text, data_as_of, forecast_text, light_word, period_name, value_text,
                           wan_text, yuan_text)
from services import inputs

WAN, YUAN = "万元", "元"                  # the official forms' amounts are in 万元; 元 on request
AMOUNT_UNITS = (WAN, YUAN)
NO_CORRECTION_NEEDED = "无需纠偏"
SEE_GOAL_ROW = "见总体目标栏"


@dataclass
class MonitoringRow:
    indicator: Indicator
    level1: str
    level2: str
    name: str
    target: str             # 年度指标值 as written
    shown: int | None       # the period of the entry shown: N's, or the latest earlier one (None: none)
    actual: str             # 1–N月执行情况, named by its period when it is not N's
    forecast: str           # 全年预计完成情况, likewise
    reasons: str            # 偏差原因 of N's entry (the categories and the note)
    likelihood: str         # 完成目标可能性 of N's entry
    light: str | None
    last_light: str | None  # the light of the entry shown (what a grey light hides)
    over: bool = False      # N's entry is 超额 (§8): marked beside the light, which stays green
    level1_span: int = 0
    level2_span: int = 0
    forecast_derived: bool = False   # no 全年预计 was entered: `forecast` says what it is derived from
    correction: str = ""             # 改进（纠偏）措施: the round's, which is written for the project
    note: str = ""                   # 备注: N's entry's note and 超额原因
    period_target: str = ""          # 实施期指标值 as written
    period_progress: str = ""        # 实施期 progress, named by the period it reaches

    @property
    def light_word(self) -> str:
        return light_word(self.light, self.last_light)


@dataclass
class MonitoringSheet:
    """One project's 绩效运行监控表 headed 1–`month`月."""
    project: Project
    py: ProjectYear
    unit: Unit
    department: Department
    calendar: YearCalendar
    month: int
    budget_yuan: Decimal | None      # 年初预算数 (年度资金总额)
    execution: Execution             # 执行数 and 执行率: the latest spending up to the period (超预算 / 冲减)
    budget_light: str | None
    budget_last_light: str | None
    rows: list[MonitoringRow] = field(default_factory=list)
    adjusted_yuan: Decimal | None = None     # 调整后预算数: in force at the period's end (DOMAIN §7)
    funds: list["FundLine"] = field(default_factory=list)   # 其中：财政拨款 / 其他资金, as the form gives them
    forecast_yuan: Decimal | None = None     # 全年预计执行数: derived (see `forecast_basis`), nobody enters one
    goal: str = ""                           # 年度总体目标 (预期目标)
    round: "RoundTexts | None" = None        # the monitoring round covering N (or the latest before it)
    has_period: bool = False                 # some indicator has a 实施期指标值: the sheet shows those columns

    @property
    def progress(self) -> Decimal:
        """序时进度 of the period the sheet is headed with."""
        return rules.elapsed_share(self.month)

    @property
    def forecast_basis(self) -> str:
        """How 全年预计执行数 is derived: the straight-line projection of the spending shown (§4)."""
        if self.forecast_yuan is None:
            return "无支出填报，无法推算全年预计执行数" if self.execution.shown is None else "预算未知，无法推算"
        return f"全年预计执行数按{period_name(self.calendar, self.execution.shown)}累计执行数及序时进度推算，非填报数"

    def amount(self, yuan: Decimal | None, unit: str = WAN) -> str:
        return amount_text(yuan, unit)

    def forecast_text(self, unit: str = WAN) -> str:
        if self.forecast_yuan is None:
            return "—"
        return f"{amount_text(self.forecast_yuan, unit)}（推算）"

    def spent_text(self, unit: str = WAN) -> str:
        """执行数 as text, named by its period when it is not N's."""
        e = self.execution
        return as_of_text(self.calendar, amount_text(e.spent_yuan, unit), e.shown, e.through)

    @property
    def goal_progress(self) -> str:
        """年度总体目标's 1–N月执行情况: the round's text, named by its round when that is not N's."""
        r = self.round
        if r is None:
            return f"未填写（{self.month}月无监控轮次）"
        if not r.goal_progress:
            return f"未填写（{period_name(self.calendar, r.month)}监控{r.state_label}）"
        return r.goal_progress if r.month == self.month else f"截至{period_name(self.calendar, r.month)}：{r.goal_progress}"

    @property
    def goal_deviation(self) -> str:
        return (self.round.deviation if self.round else None) or ("—" if self.off_track_rows == 0 else "未填写")

    @property
    def goal_correction(self) -> str:
        return (self.round.correction if self.round else None) or ("—" if self.off_track_rows == 0 else "未填写")

    @property
    def goal_likelihood(self) -> str:
        """The least likely of the indicators' 完成目标可能性 entered for N (none entered: —)."""
        given = [r.likelihood for r in self.rows if r.likelihood in LIKELIHOODS]
        if not given:
            return "—"
        return f"{max(given, key=LIKELIHOODS.index)}（据各指标）"

    @property
    def goal_note(self) -> str:
        r = self.round
        return f"{period_name(self.calendar, r.month)}监控：{r.state_label}" if r else "—"

    @property
    def off_track_rows(self) -> int:
        return sum(1 for r in self.rows if r.light in (rules.YELLOW, rules.RED, rules.GREY))

    @property
    def over_count(self) -> int:
        return sum(1 for r in self.rows if r.over)

    @property
    def title(self) -> str:
        return f"项目支出绩效运行监控表（{self.py.year}年{self.month}月）"

    @property
    def department_name(self) -> str:
        return department_label(self.department.code, self.department.name)

    @property
    def periods_shown(self) -> list[int | None]:
        """The period of each figure: the indicators' entries, then the spending."""
        return [r.shown for r in self.rows] + [self.execution.shown]

    @property
    def data_as_of(self) -> str:
        return data_as_of(self.calendar, [[m] for m in self.periods_shown], self.month)

    @property
    def budget_light_word(self) -> str:
        return light_word(self.budget_light, self.budget_last_light)

    @property
    def counts(self) -> dict[str, int]:
        counts = {key: 0 for key in (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY)}
        for row in self.rows:
            if row.light in counts:
                counts[row.light] += 1
        return counts


@dataclass
class FundLine:
    """A row of 项目资金 under 年度资金总额: its 年初预算数 and 调整后预算数 (None: unknown)."""
    label: str
    initial_yuan: Decimal | None
    adjusted_yuan: Decimal | None


@dataclass
class RoundTexts:
    month: int
    state_label: str
    goal_progress: str | None
    deviation: str | None
    correction: str | None


def amount_text(yuan: Decimal | None, unit: str = WAN) -> str:
    """An amount as the table writes it: 万元 (3,700.00) or 元 (37,000,000.00); unknown: 空."""
    return wan_text(yuan) if unit == WAN else yuan_text(yuan)


def in_unit(yuan: Decimal | None, unit: str = WAN) -> Decimal | None:
    return None if yuan is None else (yuan / 10_000 if unit == WAN else yuan)


def sheet_month(py: ProjectYear, month: int) -> int:
    """The period a table headed 1–`month`月 shows for this project year: `month` itself, or for
    a quarterly one the latest quarter ending by then (the first before any has)."""
    step = YearCalendar(py.year, py.periods).step
    return month - month % step or step


def monitoring_sheets(session: Session, wanted: list[tuple[Project, ProjectYear, int]], made_on: date,
                      config: Mapping, user: User | None = None) -> list[MonitoringSheet]:
    """The sheets of these (project, project year, period), as judged on `made_on` with the
    settings `config` (bands, entry deadline); `user`: whose scope the 实施期 progress reads the
    project's other years in (None: the 实施期 columns show the targets only)."""
    loaded = inputs.load(session, [py.id for _project, py, _month in wanted], config)
    return [_sheet(session, project, loaded[py.id], month, made_on, user) for project, py, month in wanted]


def monitoring_sheet(session: Session, project: Project, py: ProjectYear, month: int, made_on: date,
                     config: Mapping, user: User | None = None) -> MonitoringSheet:
    return monitoring_sheets(session, [(project, py, month)], made_on, config, user)[0]


def _sheet(session: Session, project: Project, loaded: inputs.Loaded, month: int, made_on: date,
           user: User | None) -> MonitoringSheet:
    facts = derive(loaded.inputs)
    cal = facts.calendar
    year = facts.at(cal.table_moment(month, made_on), cal.period_end(month))
    budget = year.budget
    py = loaded.year
    spending = facts.spending.get(budget.shown)
    flag = spending_flags(cal, facts.spending_marks, loaded.spending).get(budget.shown)
    execution = Execution(cal, month, budget.shown, year.spent_yuan, spending.rate if spending else None,
                          flag.text if flag else "")
    rnd = _round(session, py, month)
    rows = _rows(session, loaded, year, month, rnd)
    if any(r.indicator.period_raw for r in rows):
        _period_columns(session, user, py, rows, cal.period_end(month))
    forecast = None
    if year.spent_yuan is not None and budget.shown is not None and year.budget_yuan is not None:
        # an estimate, to the 百元 (two decimals of 万元, as the form writes amounts): its fen would be noise
        forecast = rules.year_end_projection(year.spent_yuan, rules.elapsed_share(budget.shown))
        forecast = None if forecast is None else (forecast / 100).quantize(Decimal(1), ROUND_HALF_UP) * 100
    return MonitoringSheet(project, py, session.get(Unit, project.unit_id), session.get(Department, py.department_id),
                           cal, month, py.annual_total_yuan, execution, budget.light, budget.last_light,
                           rows, year.budget_yuan, _funds(py, year.budget_yuan), forecast, py.goal_annual or "", rnd,
                           any(r.period_target for r in rows))


def _funds(py: ProjectYear, adjusted_yuan: Decimal | None) -> list[FundLine]:
    """其中：财政拨款 and 其他资金 of the form's 年度资金 (domain.funds: the form's own 财政拨款 line, or its
    中央、省级、市县财政资金; a group with an unknown cell is unknown). A budget adjustment is a 财政
    decision (it carries a 财政 文号): it changes 财政拨款, and 其他资金 stays as the form gives it."""
    fiscal, other, _given = fund_groups(py.funds("annual"))
    change = (adjusted_yuan - py.annual_total_yuan) if adjusted_yuan is not None and py.annual_total_yuan is not None \
        else Decimal(0)
    return [FundLine("其中：财政拨款", fiscal, None if fiscal is None else fiscal + change),
            FundLine("其他资金", other, other)]


def _round(session: Session, py: ProjectYear, month: int) -> RoundTexts | None:
    """The round as of N, else the latest before it (its texts are then named by its month)."""
    row = session.exec(select(MonitoringSubmission).where(MonitoringSubmission.project_year_id == py.id,
                                                          MonitoringSubmission.month <= month)
                       .order_by(MonitoringSubmission.month.desc())).first()
    if row is None:
        return None
    return RoundTexts(row.month, ROUND_STATE_LABELS[row.state], row.goal_progress, row.deviation, row.correction)


def _period_columns(session: Session, user: User | None, py: ProjectYear, rows: list[MonitoringRow],
                    as_of: date) -> None:
    found = period_progress(session, user, py, [r.indicator for r in rows], as_of) if user is not None else {}
    for row in rows:
        row.period_target = row.indicator.period_raw or "—"
        row.period_progress = _progress_text(found.get(row.indicator.id)) if row.indicator.period_raw else "—"


def _progress_text(progress: Progress | None) -> str:
    """实施期 progress named by the period it reaches (it adds up years): 截至2023年7月：35家（35.00%）."""
    if progress is None or progress.period is None or progress.value is None:
        return "暂无执行数"
    year, month = progress.period
    done = f"（完成{rules.for_display(progress.completion * 100, 2)}%）" if progress.completion is not None else ""
    return f"截至{year}年{month}月：{progress.text}{done}"


def _rows(session: Session, loaded: inputs.Loaded, year: YearAsOf, month: int,
          rnd: RoundTexts | None) -> list[MonitoringRow]:
    ids = [ind.id for ind in loaded.inputs.indicators]
    indicators = {i.id: i for i in session.exec(select(Indicator).where(Indicator.id.in_(ids)))} if ids else {}
    entries = {(a.indicator_id, a.month): a for a in loaded.actuals}
    cal = loaded.inputs.calendar
    rows = []
    for ind_id in ids:
        ind, status = indicators[ind_id], year.indicators[ind_id]
        entry = entries.get((ind_id, status.shown))
        own = entry if status.shown == month else None      # reasons and likelihood explain N's light only
        forecast, derived = _forecast_text(cal, entry, ind, month)
        rows.append(MonitoringRow(
            ind, ind.level1_std or ind.level1, ind.annual_level2 or ind.annual_level2_std or "", ind.name,
            ind.annual_raw or "", status.shown,
            as_of_text(cal, _actual_text(entry, effective_measure(ind)), status.shown, month),
            forecast, _reasons_text(own), (own.likelihood or "") if own else "",
            status.light, status.last_light, bool(own and status.judgement and status.judgement.over),
            forecast_derived=derived, correction=_correction(status.light, rnd),
            note=_note_text(own, effective_measure(ind))))
    spans(rows)
    return rows


def _correction(light: str | None, rnd: RoundTexts | None) -> str:
    """改进（纠偏）措施 of a row: the round writes them for the project, once, in the 年度总体目标 row."""
    if light not in (rules.YELLOW, rules.RED, rules.GREY):
        return NO_CORRECTION_NEEDED if light else "—"
    return SEE_GOAL_ROW if rnd is not None and rnd.correction else "未填写"


def _note_text(a: Actual | None, measure: str) -> str:
    """备注: N's entry's note (a qualitative one's is its 情况说明, shown with the assessment) and 超额原因."""
    if a is None:
        return ""
    parts = [a.note] if a.note and measure != rules.QUALITATIVE else []
    if a.over_reason:
        parts.append(f"超额原因：{a.over_reason}")
    return "；".join(parts)


def _actual_text(a: Actual | None, measure: str) -> str:
    if a is None:
        return ""
    if measure == rules.QUALITATIVE:      # the assessment with the 情况说明 the user wrote
        return "：".join(part for part in (a.assessment, a.note) if part)
    return value_text(a.value, a.unit)


def _forecast_text(cal: YearCalendar, a: Actual | None, ind: Indicator, month: int) -> tuple[str, bool]:
    """全年预计完成情况, always filled: as entered (named by its period when not N's), else
    derived from the judged course and saying so — the straight-line projection of a cumulative
    actual (§4), the current level, the current assessment — or that nothing allows one.
    The flag: derived, nobody entered it."""
    if a is None:
        return "未填报，无预计", True
    measure = effective_measure(ind)
    text = forecast_text(measure, a.forecast, a.forecast_assessment, a.unit or ind.annual_unit)
    if text:
        return (text if a.month == month else f"{text}（{period_name(cal, a.month)}预计）"), False
    when = period_name(cal, a.month)
    if measure == rules.QUALITATIVE:
        return (f"{a.assessment}（未填预计，按{when}评估）" if a.assessment else "未填预计，无法预计"), True
    if a.value is None:
        return "未填预计，无法预计", True
    if measure == rules.CUMULATIVE:
        projected = rules.for_display(rules.year_end_projection(a.value, rules.elapsed_share(a.month)), 2)
        return f"{value_text(projected, a.unit or ind.annual_unit)}（未填预计，按{when}进度推算）", True
    return f"{value_text(a.value, a.unit or ind.annual_unit)}（未填预计，按{when}水平）", True


def _reasons_text(a: Actual | None) -> str:
    if a is None:
        return ""
    parts = ["、".join(a.deviation_reasons or [])] if a.deviation_reasons else []
    if a.deviation_note:
        parts.append(a.deviation_note)
    return "：".join(parts)
