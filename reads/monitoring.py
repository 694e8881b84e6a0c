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
from decimal import Decimal
from typing import Mapping

from sqlmodel import Session, select

from domain import rules
from domain.calendar import YearCalendar
from domain.indicators import effective_measure
from domain.project_year import YearAsOf, derive
from models.actual import Actual
from models.indicator import Indicator
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from reads.project_year import spending_flags
from reads.self_evaluation import spans
from reads.wording import Execution, as_of_text, data_as_of, forecast_text, light_word, period_name, value_text
from services import inputs


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


def sheet_month(py: ProjectYear, month: int) -> int:
    """The period a table headed 1–`month`月 shows for this project year: `month` itself, or for
    a quarterly one the latest quarter ending by then (the first before any has)."""
    step = YearCalendar(py.year, py.periods).step
    return month - month % step or step


def monitoring_sheets(session: Session, wanted: list[tuple[Project, ProjectYear, int]], made_on: date,
                      config: Mapping) -> list[MonitoringSheet]:
    """The sheets of these (project, project year, period), as judged on `made_on` with the
    settings `config` (bands, entry deadline)."""
    loaded = inputs.load(session, [py.id for _project, py, _month in wanted], config)
    return [_sheet(session, project, loaded[py.id], month, made_on) for project, py, month in wanted]


def monitoring_sheet(session: Session, project: Project, py: ProjectYear, month: int, made_on: date,
                     config: Mapping) -> MonitoringSheet:
    return monitoring_sheets(session, [(project, py, month)], made_on, config)[0]


def _sheet(session: Session, project: Project, loaded: inputs.Loaded, month: int, made_on: date) -> MonitoringSheet:
    facts = derive(loaded.inputs)
    cal = facts.calendar
    year = facts.at(cal.table_moment(month, made_on), cal.period_end(month))
    budget = year.budget
    py = loaded.year
    spending = facts.spending.get(budget.shown)
    flag = spending_flags(cal, facts.spending_marks, loaded.spending).get(budget.shown)
    execution = Execution(cal, month, budget.shown, year.spent_yuan, spending.rate if spending else None,
                          flag.text if flag else "")
    return MonitoringSheet(project, py, session.get(Unit, project.unit_id), session.get(Department, py.department_id),
                           cal, month, py.annual_total_yuan, execution, budget.light, budget.last_light,
                           _rows(session, loaded, year, month))


def _rows(session: Session, loaded: inputs.Loaded, year: YearAsOf, month: int) -> list[MonitoringRow]:
    ids = [ind.id for ind in loaded.inputs.indicators]
    indicators = {i.id: i for i in session.exec(select(Indicator).where(Indicator.id.in_(ids)))} if ids else {}
    entries = {(a.indicator_id, a.month): a for a in loaded.actuals}
    cal = loaded.inputs.calendar
    rows = []
    for ind_id in ids:
        ind, status = indicators[ind_id], year.indicators[ind_id]
        entry = entries.get((ind_id, status.shown))
        own = entry if status.shown == month else None      # reasons and likelihood explain N's light only
        rows.append(MonitoringRow(
            ind, ind.level1_std or ind.level1, ind.annual_level2 or ind.annual_level2_std or "", ind.name,
            ind.annual_raw or "", status.shown,
            as_of_text(cal, _actual_text(entry, effective_measure(ind)), status.shown, month),
            _forecast_text(cal, entry, ind, month), _reasons_text(own), (own.likelihood or "") if own else "",
            status.light, status.last_light, bool(own and status.judgement and status.judgement.over)))
    spans(rows)
    return rows


def _actual_text(a: Actual | None, measure: str) -> str:
    if a is None:
        return ""
    return (a.assessment or "") if measure == rules.QUALITATIVE else value_text(a.value, a.unit)


def _forecast_text(cal: YearCalendar, a: Actual | None, ind: Indicator, month: int) -> str:
    if a is None:
        return ""
    text = forecast_text(effective_measure(ind), a.forecast, a.forecast_assessment, a.unit or ind.annual_unit)
    return text if a.month == month or not text else f"{text}（{period_name(cal, a.month)}预计）"


def _reasons_text(a: Actual | None) -> str:
    if a is None:
        return ""
    parts = ["、".join(a.deviation_reasons or [])] if a.deviation_reasons else []
    if a.deviation_note:
        parts.append(a.deviation_note)
    return "：".join(parts)
