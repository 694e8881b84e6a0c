"""Read models for the pages: the project list, the project page and the import review.

Views call these and render what they return; no query lives in a view function. Every
query that reads projects takes the user and keeps to their scope (`visible_years`), so a
page, a fragment, the API or an export cannot forget it; an object outside the scope reads
as missing (the view answers 404). The
indicator rows of the project page and of the review share one shape (`IndicatorRow`), so
both tables are grouped and labelled the same way.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from typing import Callable

from pydantic import field_validator
from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, SQLModel, select

from importers import taxonomy
from importers.values import parse_target
from models.bounds import filter_number, filter_values
from models.importing import FormDiff, ImportBatch, ProjectYearImport, diff_form
from models.indicator import SCOPES, Indicator, TargetChange, active_indicators
from models.job import ImportJob, ImportJobFile
from models.org import Department, Unit, department_label
from models.project import FUND_SOURCES, Project, ProjectYear
from models.scope import scope_clause, scoped_params, visible_years
from models.user import User

FUND_LABELS = {"total": "资金总额", "central": "中央财政资金", "provincial": "省级财政资金",
               "local": "市县（区）财政资金", "self_raised": "单位自筹", "other": "其他资金"}
TEXT_LABELS = {"overview": "项目概况", "basis": "立项依据", "necessity": "项目设立必要性",
               "measures": "保证项目实施的制度、措施", "plan": "项目实施计划"}
GOAL_LABELS = {"goal_period": "实施期总体目标", "goal_annual": "年度总体目标"}
SCOPE_LABELS = {"period": "实施期", "annual": "年度"}


# --------------------------------------------------------------------------- who may see what

# The hottest reads (every API call reads a project year or an indicator within the caller's
# scope) are built once per scope shape, with the ids as bound parameters. SQLAlchemy caches
# the SQL it compiles, but building a select and computing its cache key on every call costs
# about as much CPU as running a simple indexed query on PostgreSQL.

@cache
def _project_year_statement(shape: str, fresh: bool):
    statement = (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                 .where(ProjectYear.id == bindparam("py_id"), scope_clause(shape, bindparam("scope_id"))))
    return statement.execution_options(populate_existing=True) if fresh else statement


@cache
def _project_years_statement(shape: str):
    project_of = select(ProjectYear.project_id).where(ProjectYear.id == bindparam("py_id")).scalar_subquery()
    return (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(ProjectYear.project_id == project_of, scope_clause(shape, bindparam("scope_id")))
            .order_by(ProjectYear.year))


@cache
def _indicator_statement(shape: str, fresh: bool):
    statement = (select(Indicator, ProjectYear, Project)
                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Indicator.id == bindparam("indicator_id"), scope_clause(shape, bindparam("scope_id"))))
    return statement.execution_options(populate_existing=True) if fresh else statement


def projects_visible_to(user: User):
    """Project years the user may read, as a statement to narrow further."""
    return (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(visible_years(user)))


def project_year_visible(session: Session, user: User, project_year_id: int,
                         fresh: bool = False) -> tuple[Project, ProjectYear] | None:
    """The project year with its project, if the user may read it; `fresh`: read afresh even
    when the session holds them already (inside a write transaction, before judging)."""
    shape, params = scoped_params(user, py_id=project_year_id)
    row = session.exec(_project_year_statement(shape, fresh), params=params).first()
    return tuple(row) if row else None


def project_years_visible(session: Session, user: User,
                          project_year_id: int) -> tuple[Project, ProjectYear, list[ProjectYear]] | None:
    """The project year with its project and every year of that project the user may read
    (itself included), in one query; None if the user may not read it."""
    shape, params = scoped_params(user, py_id=project_year_id)
    rows = session.exec(_project_years_statement(shape), params=params).all()
    for project, py in rows:
        if py.id == project_year_id:
            return project, py, [year for _p, year in rows]
    return None


def indicator_visible(session: Session, user: User, indicator_id: int,
                      fresh: bool = False) -> tuple[Indicator, ProjectYear, Project] | None:
    """The indicator with its project year and project, if the user may read that year;
    `fresh` as for `project_year_visible`."""
    shape, params = scoped_params(user, indicator_id=indicator_id)
    row = session.exec(_indicator_statement(shape, fresh), params=params).first()
    return tuple(row) if row else None


def may_edit_actuals(user: User, project: Project) -> bool:
    """Actuals are recorded by the 实施单位's 填报人 (and an admin); a 审核人 only reads."""
    return user.role == "admin" or (user.role == "manager" and user.unit_id == project.unit_id)


def may_evaluate(user: User) -> bool:
    """Evaluator scores of the 绩效自评 are set by an admin or a 审核人, each within the project
    years they may read; the unit's 填报人 records the actuals the scores rest on, not the scores."""
    return user.role in ("admin", "supervisor")


def job_visible(user: User, job: ImportJob) -> bool:
    """A 填报人 sees the uploads they made; an admin all of them; a 审核人 imports nothing."""
    return user.role == "admin" or (user.role == "manager" and job.created_by == user.username)


def jobs_visible_to(session: Session, user: User, limit: int = 10) -> list[ImportJob]:
    statement = select(ImportJob)
    if user.role == "manager":
        statement = statement.where(ImportJob.created_by == user.username)
    elif user.role != "admin":
        return []
    return list(session.exec(statement.order_by(ImportJob.created_at.desc()).limit(limit)))


def import_refusal(session: Session, user: User) -> Callable[[dict], str | None]:
    """Why this user may not store a parsed form, or None: a 填报人 stores their own unit's
    forms only (an admin any; a 审核人 none)."""
    if user.role == "admin":
        return lambda form: None
    unit = session.get(Unit, user.unit_id) if user.role == "manager" and user.unit_id else None
    if unit is None:
        return lambda form: "您没有导入申报表的权限"
    own = unit.name

    def refuse(form: dict) -> str | None:
        if form.get("implementing_unit") == own:
            return None
        other = form.get("implementing_unit") or "（未填写）"
        return f"实施单位为“{other}”，不是您所在的“{own}”：填报人只能导入本单位的申报表，此表不会导入"
    return refuse


def may_reorganise(user: User) -> bool:
    """Only an admin's import may move a 实施单位 to another 主管部门, create a 主管部门 or change
    its code: a 填报人's forms are stored under the department their unit belongs to."""
    return user.role == "admin"


# --------------------------------------------------------------------------- indicator rows

@dataclass
class Side:
    """One side (实施期 or 年度) of an indicator row, as written and as parsed."""
    level2: str | None
    level2_std: str | None
    level3: str | None
    raw: str | None
    kind: str | None
    op: str | None
    value: Decimal | int | float | None
    unit: str | None

    @property
    def no_target(self) -> bool:
        return parse_target(self.raw).no_target

    @property
    def qualitative(self) -> bool:
        return self.kind == "qualitative" and not self.no_target

    @property
    def level2_differs(self) -> bool:
        """Written in a non-standard way: the page shows the standard name as a hint."""
        return bool(self.level2_std) and taxonomy.compact(self.level2) != self.level2_std


@dataclass
class IndicatorRow:
    number: int
    level1: str
    level1_std: str | None
    period: Side | None
    annual: Side | None
    status: str | None = None                  # review only: new | changed | unchanged
    old_raw: dict = dc_field(default_factory=dict)     # scope → target before this import
    old_level3: dict = dc_field(default_factory=dict)  # scope → name before this import
    notes: list[str] = dc_field(default_factory=list)  # other changes of the row (its 二级)
    warnings: list[str] = dc_field(default_factory=list)
    level1_span: int = 1                       # rows the cell spans; 0: merged into the one above
    period_level2_span: int = 1
    annual_level2_span: int = 1

    @property
    def level1_differs(self) -> bool:
        return bool(self.level1_std) and taxonomy.compact(self.level1) != self.level1_std

    def side(self, scope: str) -> Side | None:
        return getattr(self, scope)


def _side_from_indicator(ind: Indicator, scope: str) -> Side | None:
    values = {name: getattr(ind, f"{scope}_{name}") for name in
              ("level2", "level2_std", "level3", "raw", "kind", "op", "value", "unit")}
    if values["level3"] is None and values["raw"] is None:
        return None
    return Side(**values)


def _side_from_form(side: dict | None) -> Side | None:
    if side is None:
        return None
    target = side["target"]
    return Side(side["level2"], taxonomy.standard_level2(side["level2"]), side["level3"], target["raw"],
                target["kind"], target["op"], target["value"], target["unit"])


def rows_from_indicators(indicators: list[Indicator]) -> list[IndicatorRow]:
    rows = [IndicatorRow(n, ind.level1, ind.level1_std, _side_from_indicator(ind, "period"),
                         _side_from_indicator(ind, "annual")) for n, ind in enumerate(indicators, start=1)]
    return with_spans(rows)


def rows_from_form(form: dict) -> list[IndicatorRow]:
    rows = [IndicatorRow(n, item["level1"], taxonomy.standard_level1(item["level1"]),
                         _side_from_form(item["period"]), _side_from_form(item["annual"]))
            for n, item in enumerate(form["indicators"], start=1)]
    return with_spans(rows)


def with_spans(rows: list[IndicatorRow]) -> list[IndicatorRow]:
    """Merge equal 一级 cells of consecutive rows, and equal 二级 cells within one 一级 group,
    the way the form itself merges them."""
    def level2(row: IndicatorRow, scope: str) -> str | None:
        side = row.side(scope)
        return side.level2 if side else None

    for i, row in enumerate(rows):
        if i and rows[i - 1].level1 == row.level1:
            row.level1_span = 0
            _head(rows, i, "level1_span").level1_span += 1
        for scope in SCOPES:
            attr = f"{scope}_level2_span"
            if row.level1_span == 0 and level2(row, scope) is not None and level2(rows[i - 1], scope) == level2(row, scope):
                setattr(row, attr, 0)
                head = _head(rows, i, attr)
                setattr(head, attr, getattr(head, attr) + 1)
    return rows


def _head(rows: list[IndicatorRow], i: int, attr: str) -> IndicatorRow:
    while getattr(rows[i], attr) == 0:
        i -= 1
    return rows[i]


# --------------------------------------------------------------------------- project list

class ProjectFilters(SQLModel):
    """The list's query string. A filter that is blank or malformed is simply not applied."""
    year: int | None = None
    department: int | None = None
    unit: int | None = None
    q: str = ""
    page: int = 1

    @field_validator("year", "department", "unit", mode="before")
    @classmethod
    def _lenient_int(cls, value):
        return filter_number(value)

    @field_validator("page", mode="before")
    @classmethod
    def _page_from_one(cls, value):
        return max(1, filter_number(value) or 1)

    @field_validator("q", mode="before")
    @classmethod
    def _trimmed(cls, value):
        return " ".join(str(value or "").split())[:100]

    @classmethod
    def from_args(cls, args) -> "ProjectFilters":
        return cls.model_validate(filter_values(cls.model_fields, args, strict=False))

    def as_args(self, **changes) -> dict:
        values = {"year": self.year, "department": self.department, "unit": self.unit, "q": self.q or None,
                  "page": self.page if self.page > 1 else None} | changes
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class FilterOptions:
    years: list[int]
    departments: list[Department]
    units: list[tuple[Department, list[Unit]]]   # grouped by 主管部门 for <optgroup>


@dataclass
class ProjectRow:
    project_id: int
    name: str
    year: int
    department: str
    department_code: str | None
    unit: str
    annual_total_yuan: Decimal | None
    annual_indicators: int


@dataclass
class ProjectList:
    rows: list[ProjectRow]
    total: int
    page: int
    pages: int


def filter_options(session: Session, user: User) -> FilterOptions:
    """The choices of the list's filters: only years, 主管部门 and 实施单位 the user can see."""
    scoped = (select(ProjectYear.year, ProjectYear.department_id, Project.unit_id)
              .join(Project, Project.id == ProjectYear.project_id).where(visible_years(user)).subquery())
    years = list(session.exec(select(scoped.c.year).distinct().order_by(scoped.c.year.desc())))
    units = list(session.exec(select(Unit).where(Unit.id.in_(select(scoped.c.unit_id))).order_by(Unit.name)))
    department_ids = set(session.exec(select(scoped.c.department_id).distinct())) | {u.department_id for u in units}
    departments = list(session.exec(select(Department).where(Department.id.in_(department_ids))
                                    .order_by(Department.code, Department.name)))
    grouped = [(d, [u for u in units if u.department_id == d.id]) for d in departments]
    return FilterOptions(years, departments, [(d, us) for d, us in grouped if us])


def _annual_counts():
    """Active indicators with a 年度 side, per project year."""
    return (select(Indicator.project_year_id, func.count().label("n"))
            .where(Indicator.retired_at.is_(None),
                   or_(Indicator.annual_level3.is_not(None), Indicator.annual_raw.is_not(None)))
            .group_by(Indicator.project_year_id).subquery())


def list_project_years(session: Session, user: User, filters: ProjectFilters, page_size: int = 100) -> ProjectList:
    counts = _annual_counts()
    statement = (
        select(Project.id, Project.name, ProjectYear.year, Department.name, Department.code, Unit.name,
               ProjectYear.annual_total_yuan, func.coalesce(counts.c.n, 0))
        .join(ProjectYear, ProjectYear.project_id == Project.id)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == ProjectYear.department_id)
        .outerjoin(counts, counts.c.project_year_id == ProjectYear.id)
        .where(visible_years(user))
    )
    if filters.year:
        statement = statement.where(ProjectYear.year == filters.year)
    if filters.department:
        statement = statement.where(ProjectYear.department_id == filters.department)
    if filters.unit:
        statement = statement.where(Project.unit_id == filters.unit)
    if filters.q:
        statement = statement.where(Project.name.contains(filters.q, autoescape=True))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, math.ceil(total / page_size))
    page = min(filters.page, pages)
    statement = (statement.order_by(ProjectYear.year.desc(), Department.code, Department.name, Unit.name, Project.name)
                 .offset((page - 1) * page_size).limit(page_size))
    rows = [ProjectRow(*r) for r in session.exec(statement)]
    return ProjectList(rows, total, page, pages)


def project_summary_statement(shape: str):
    """The project years of one year (`year`) in a scope (`shape`, `scope_id`: `scoped_params`)
    as (ProjectYear.id, name, year, 主管部门, 实施单位) in the list's order: 主管部门 code, then
    实施单位 and project name. Bound parameters: build it once per shape."""
    return (select(ProjectYear.id, Project.name, ProjectYear.year, Department.name, Unit.name)
            .join(ProjectYear, ProjectYear.project_id == Project.id)
            .join(Unit, Unit.id == Project.unit_id)
            .join(Department, Department.id == ProjectYear.department_id)
            .where(ProjectYear.year == bindparam("year"), scope_clause(shape, bindparam("scope_id")))
            .order_by(Department.code, Department.name, Unit.name, Project.name))


def visible_year_numbers(session: Session, user: User) -> list[int]:
    """The years of the project years the user may see, newest first."""
    statement = (select(ProjectYear.year).join(Project, Project.id == ProjectYear.project_id)
                 .where(visible_years(user)).distinct().order_by(ProjectYear.year.desc()))
    return list(session.exec(statement))


# --------------------------------------------------------------------------- project page

@dataclass
class FundRow:
    label: str
    period: Decimal | int | float | None
    annual: Decimal | int | float | None
    period_old: Decimal | None = None        # review of a changed form: the stored value
    annual_old: Decimal | None = None
    period_changed: bool = False
    annual_changed: bool = False


@dataclass
class HistoryEntry:
    batch: ImportBatch
    year: int
    outcome: str
    warnings: list[str]
    by: str                  # who imported it, as pages name people (`user_labels`)


@dataclass
class TargetChangeRow:
    change: TargetChange
    batch: ImportBatch
    year: int
    indicator: str
    scope: str


@dataclass
class ProjectPage:
    project: Project
    unit: Unit
    department: Department
    year: ProjectYear
    years: list[int]
    funds: list[FundRow]
    rows: list[IndicatorRow]
    history: list[HistoryEntry]
    target_changes: list[TargetChangeRow]

    @property
    def annual_indicators(self) -> int:
        return sum(1 for r in self.rows if r.annual is not None)


def fund_rows(year: ProjectYear) -> list[FundRow]:
    period, annual = year.funds("period"), year.funds("annual")
    return [FundRow(FUND_LABELS[k], period[k], annual[k]) for k in FUND_SOURCES]


def project_page(session: Session, user: User, project_id: int, year: int | None) -> ProjectPage | None:
    """The project with the years the user may see; None when they may see none of it."""
    rows = list(session.exec(projects_visible_to(user).where(Project.id == project_id)
                             .order_by(ProjectYear.year.desc())))
    if not rows:
        return None
    project, years = rows[0][0], [y for _p, y in rows]
    chosen = next((y for y in years if y.year == year), None) if year else years[0]
    if chosen is None:
        return None
    unit = session.get(Unit, project.unit_id)
    department = session.get(Department, chosen.department_id)
    return ProjectPage(project, unit, department, chosen, [y.year for y in years], fund_rows(chosen),
                       rows_from_indicators(active_indicators(session, chosen.id)),
                       import_history(session, user, project), target_changes(session, user, project_id))


def _warnings_about(warnings: list[str], project_name: str) -> list[str]:
    prefix = f"{project_name}："
    return [w[len(prefix):] for w in warnings if w.startswith(prefix)]


def import_history(session: Session, user: User, project: Project) -> list[HistoryEntry]:
    statement = (select(ImportBatch, ProjectYear.year, ProjectYearImport.outcome)
                 .join(ProjectYearImport, ProjectYearImport.batch_id == ImportBatch.id)
                 .join(ProjectYear, ProjectYear.id == ProjectYearImport.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(ProjectYear.project_id == project.id, visible_years(user))
                 .order_by(ImportBatch.imported_at.desc(), ImportBatch.id.desc()))
    found = list(session.exec(statement))
    labels = user_labels(session, [batch.imported_by for batch, _year, _outcome in found])
    return [HistoryEntry(batch, year, outcome, _warnings_about(batch.warnings, project.name),
                         labels.get(batch.imported_by, batch.imported_by))
            for batch, year, outcome in found]


def target_changes(session: Session, user: User, project_id: int) -> list[TargetChangeRow]:
    statement = (select(TargetChange, ImportBatch, ProjectYear.year, Indicator)
                 .join(ImportBatch, ImportBatch.id == TargetChange.batch_id)
                 .join(Indicator, Indicator.id == TargetChange.indicator_id)
                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(ProjectYear.project_id == project_id, visible_years(user))
                 .order_by(TargetChange.changed_at.desc(), TargetChange.id))
    return [TargetChangeRow(change, batch, year, ind.name, SCOPE_LABELS.get(change.scope, change.scope))
            for change, batch, year, ind in session.exec(statement)]


# --------------------------------------------------------------------------- import review

@dataclass
class TextPart:
    label: str
    value: str | None
    changed: bool = False
    old: str | None = None


@dataclass
class FormReview:
    form: dict
    diff: FormDiff
    funds: list[FundRow]
    texts: list[TextPart]
    goals: list[TextPart]
    rows: list[IndicatorRow]
    warnings: list[str]                # this form's own, without the project-name prefix
    also_in: list[str] = dc_field(default_factory=list)   # other files of the job with the same project year
    refused: str | None = None         # why this user may not store it (outcome "refused")

    @property
    def department(self) -> str:
        return department_label(self.form["department_code"], self.form["department_name"])

    @property
    def pages(self) -> list[int]:
        return self.form.get("_pages") or []

    @property
    def annual_indicators(self) -> int:
        return sum(1 for r in self.rows if r.annual is not None)

    @property
    def warning_rows(self) -> int:
        return sum(1 for r in self.rows if r.warnings)


@dataclass
class FileReview:
    file: ImportJobFile
    forms: list[FormReview]
    warnings: list[str]                # not about any one form

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "changed": 0, "unchanged": 0, "refused": 0}
        for f in self.forms:
            counts[f.diff.outcome] += 1
        return counts


_ROW_NUMBER = re.compile(r"^第(\d+)个指标")


def _year_key(form: dict) -> tuple:
    return (form["implementing_unit"], form["project_name"], form["year"])


def review_files(session: Session, files: list[ImportJobFile], *, reorganise: bool,
                 refuse: Callable[[dict], str | None] | None = None) -> list[FileReview]:
    """What confirming would do, file by file, against the database as it is now.

    Each file is compared with the database alone; where one project year comes in more than
    once, the review says so, because confirming stores the files in order and the last wins.
    A form the user may not store (`refuse`, see `import_refusal`) is shown as read and marked
    refused, and not compared: the comparison would show another unit's stored data.
    `reorganise` as for `diff_form`: who is looking decides what confirming would do."""
    sources: dict[tuple, list[str]] = {}
    for f in files:
        for form in f.forms:
            sources.setdefault(_year_key(form), []).append(f.name)
    reviews = []
    for f in files:
        forms, claimed = [], set()
        for form in f.forms:
            prefix = f"{form['project_name'] or '（无名项目）'}："
            own = [w for w in f.warnings if w.startswith(prefix)]
            claimed.update(own)
            review = review_form(session, form, [w[len(prefix):] for w in own], reorganise=reorganise,
                                 refused=refuse(form) if refuse else None)
            names = list(sources[_year_key(form)])
            names.remove(f.name)
            review.also_in = names
            forms.append(review)
        reviews.append(FileReview(f, forms, [w for w in f.warnings if w not in claimed]))
    return reviews


def review_form(session: Session, form: dict, warnings: list[str], *, reorganise: bool,
                refused: str | None = None) -> FormReview:
    if refused:
        rows = rows_from_form(form)
        for row in rows:
            row.status = "refused"
        return FormReview(form, FormDiff(form, "refused"), _review_funds(form, None),
                          _review_texts(form, TEXT_LABELS, None), _review_texts(form, GOAL_LABELS, None),
                          rows, warnings, refused=refused)
    diff = diff_form(session, form, reorganise=reorganise)
    rows = rows_from_form(form)
    for row in rows:
        row.status = diff.outcome
    if diff.outcome == "changed":
        _mark_changed_rows(rows, diff)
    for w in warnings:
        match = _ROW_NUMBER.match(w)
        if match and 0 < int(match.group(1)) <= len(rows):
            rows[int(match.group(1)) - 1].warnings.append(w)
    stored = diff.project_year if diff.outcome == "changed" else None
    return FormReview(form, diff, _review_funds(form, stored), _review_texts(form, TEXT_LABELS, stored),
                      _review_texts(form, GOAL_LABELS, stored), rows, warnings)


def _mark_changed_rows(rows: list[IndicatorRow], diff: FormDiff) -> None:
    for row, (_item, match) in zip(rows, diff.matches):
        if match is None:
            row.status = "new"
            continue
        row.status = "unchanged"
        for scope in SCOPES:
            new, old = row.side(scope), _side_from_indicator(match, scope)
            if _side_key(new) == _side_key(old):
                continue
            row.status = "changed"
            if (old.raw if old else None) != (new.raw if new else None):
                row.old_raw[scope] = old.raw if old else None
            if old and new and old.level3 != new.level3:
                row.old_level3[scope] = old.level3
            if old and new and old.level2 != new.level2:
                row.notes.append(f"{SCOPE_LABELS[scope]}二级指标：{old.level2 or '（无）'} → {new.level2 or '（无）'}")


def _side_key(side: Side | None) -> tuple | None:
    return None if side is None else (side.level2, side.level3, side.raw)


def _as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _review_funds(form: dict, stored: ProjectYear | None) -> list[FundRow]:
    rows = []
    for source in FUND_SOURCES:
        row = FundRow(FUND_LABELS[source], form["funds"]["period"][source], form["funds"]["annual"][source])
        if stored is not None:
            for side in ("period", "annual"):
                old = getattr(stored, f"{side}_{source}_yuan")
                if old != _as_decimal(form["funds"][side][source]):
                    setattr(row, f"{side}_old", old)
                    setattr(row, f"{side}_changed", True)
        rows.append(row)
    return rows


def _review_texts(form: dict, labels: dict[str, str], stored: ProjectYear | None) -> list[TextPart]:
    parts = []
    for name, label in labels.items():
        part = TextPart(label, form.get(name))
        if stored is not None and (form.get(name) or None) != (getattr(stored, name) or None):
            part.changed, part.old = True, getattr(stored, name)
        parts.append(part)
    return parts


@dataclass
class StoredYear:
    project_id: int
    name: str
    year: int


def stored_years(session: Session, user: User, project_year_ids: list[int]) -> dict[int, StoredYear]:
    """Links from a confirmed import to the project pages it touched (those the user may see)."""
    if not project_year_ids:
        return {}
    statement = (select(ProjectYear.id, Project.id, Project.name, ProjectYear.year)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(ProjectYear.id.in_(project_year_ids), visible_years(user)))
    return {py_id: StoredYear(p_id, name, year) for py_id, p_id, name, year in session.exec(statement)}


@dataclass
class ReviewTotals:
    files: int = 0
    unreadable: int = 0
    forms: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    warnings: int = 0

    @property
    def to_store(self) -> int:
        """Forms that confirming would write (new or changed)."""
        return self.new + self.changed


def review_totals(reviews: list[FileReview]) -> ReviewTotals:
    totals = ReviewTotals(files=len(reviews))
    for review in reviews:
        if not review.file.importable:
            totals.unreadable += 1
        totals.warnings += len(review.file.warnings)
        for form in review.forms:
            totals.forms += 1
            setattr(totals, form.diff.outcome, getattr(totals, form.diff.outcome) + 1)
    return totals


# =========================================================================== actuals
# The entry rows of the project page, the history of an actual, the 工作台 and the bulk
# sheet. Each takes the user and keeps to `visible_years`; writers check `may_edit_actuals`.

LIGHT_WORDS = {"green": "绿", "yellow": "黄", "red": "红", "grey": "灰"}
_CHANGE_FIELDS = (("value", "实际值"), ("assessment", "完成情况"), ("forecast", "全年预计"),
                  ("deviation_reasons", "偏差原因"), ("deviation_note", "偏差说明"), ("likelihood", "完成可能性"),
                  ("note", "备注"), ("measure", "计量方式"), ("light", "灯"))


def indicator_in_scope(session: Session, user: User, indicator_id: int):
    """(Project, ProjectYear, Indicator) when the user may see the indicator's project, else None."""
    statement = (select(Project, ProjectYear, Indicator)
                 .join(ProjectYear, ProjectYear.project_id == Project.id)
                 .join(Indicator, Indicator.project_year_id == ProjectYear.id)
                 .where(Indicator.id == indicator_id, visible_years(user)))
    return session.exec(statement).first()


def evidence_in_scope(session: Session, user: User, evidence_id: int):
    """(Project, ProjectYear, Indicator, Actual, Evidence) within the user's scope, else None."""
    from models.actual import Actual
    from models.evidence import Evidence
    statement = (select(Project, ProjectYear, Indicator, Actual, Evidence)
                 .join(ProjectYear, ProjectYear.project_id == Project.id)
                 .join(Indicator, Indicator.project_year_id == ProjectYear.id)
                 .join(Actual, Actual.indicator_id == Indicator.id)
                 .join(Evidence, Evidence.actual_id == Actual.id)
                 .where(Evidence.id == evidence_id, visible_years(user)))
    return session.exec(statement).first()


def project_year_in_scope(session: Session, user: User, project_id: int, year: int):
    """(Project, ProjectYear) of that year when the user may see it, else None."""
    return session.exec(projects_visible_to(user).where(Project.id == project_id, ProjectYear.year == year)).first()


def user_labels(session: Session, usernames) -> dict[str, str]:
    """How pages and messages name the people of the history, which records usernames: the
    display name with the username (`填报人甲（tianbao）`: two people may share a name), the
    username of someone without one, and as written what no user wrote (`演示数据`)."""
    names = {n for n in usernames if n}
    if not names:
        return {}
    found = {u.username: u for u in session.exec(select(User).where(User.username.in_(names)))}
    return {n: (f"{found[n].display_name}（{n}）" if n in found and found[n].display_name else n) for n in names}


def user_label(session: Session, username: str) -> str:
    """One person of the history as `user_labels` names them (e.g. who saved a value since)."""
    return user_labels(session, [username]).get(username, username)


def plain_number(value) -> str:
    """A stored Decimal as typed: 35, 2500, 0.5 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    return format(Decimal(str(value)).normalize(), "f")


def value_text(value, unit: str | None) -> str:
    return f"{plain_number(value)}{unit or ''}" if value is not None else ""


def annual_indicators(session: Session, py: ProjectYear) -> list[Indicator]:
    return [i for i in active_indicators(session, py.id) if i.annual_raw is not None]


# --------------------------------------------------------------------------- history

@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class ChangeRow:
    at: datetime
    who: str
    period: str
    fields: list[FieldChange]
    first: bool                          # the period's first entry (nothing before)


def _field_text(key: str, snapshot: dict | None) -> str:
    if not snapshot:
        return ""
    from models.actual import MEASURE_LABELS
    value = snapshot.get(key)
    if key == "value":
        return value_text(value, snapshot.get("unit"))
    if key == "forecast":
        return plain_number(value)
    if key == "deviation_reasons":
        return "、".join(value or [])
    if key == "light":
        return LIGHT_WORDS.get(value or "", value or "")
    if key == "measure":
        return MEASURE_LABELS.get(value or "", value or "")
    return "" if value is None else str(value)


def actual_history(session: Session, ind: Indicator, py: ProjectYear) -> list[ChangeRow]:
    """Every change of the indicator's actuals, newest first: for each, the fields that changed."""
    from models.actual import ActualChange, period_label
    changes = list(session.exec(select(ActualChange).where(ActualChange.indicator_id == ind.id)
                                .order_by(ActualChange.changed_at.desc(), ActualChange.id.desc())))
    labels = user_labels(session, [c.changed_by for c in changes])
    rows = []
    for c in changes:
        fields = []
        for key, label in _CHANGE_FIELDS:
            old, new = _field_text(key, c.old), _field_text(key, c.new)
            if old != new:
                fields.append(FieldChange(label, old or "—", new or "—"))
        rows.append(ChangeRow(c.changed_at, labels.get(c.changed_by, c.changed_by),
                              period_label(py.year, c.month, py.periods if c.month % 3 == 0 else "monthly"),
                              fields, c.old is None))
    return rows


# --------------------------------------------------------------------------- alerts and the 工作台

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
    """Open alerts within the user's scope: red first, then overdue, then yellow; newest first."""
    from models.actual import Alert
    statement = (select(Alert, Project, ProjectYear)
                 .join(ProjectYear, ProjectYear.id == Alert.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Alert.closed_at.is_(None), visible_years(user)))
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
class Workbench:
    year: int
    as_of: date
    due: list[DueItem]
    overdue: list[DueItem]
    done: list[DueItem]
    red: list[AlertItem]
    alerts: list[AlertItem]
    projects: list[tuple[Project, ProjectYear]]


def workbench_years(session: Session, user: User, as_of: date) -> tuple[int, list[tuple[Project, ProjectYear]]]:
    """The project years a 填报人 works on: those of the current year (else of the latest year)."""
    rows = list(session.exec(projects_visible_to(user).order_by(ProjectYear.year.desc(), Project.name)))
    current = [r for r in rows if r[1].year == as_of.year]
    if current or not rows:
        return as_of.year, [tuple(r) for r in current]
    latest = rows[0][1].year
    return latest, [tuple(r) for r in rows if r[1].year == latest]


def workbench(session: Session, user: User, as_of: date, deadline_day: int) -> Workbench:
    """Due: the latest period that has ended, while its deadline is ahead. Overdue: every period
    whose deadline has passed this calendar year with entries still missing — the periods the
    reminder mail names (reminders/cycle.py), earlier ones belonging to last year's 自评."""
    from domain.calendar import YearCalendar
    from models.actual import Actual, Spending, period_label
    year, projects = workbench_years(session, user, as_of)
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
    alerts = open_alerts(session, user, year)
    return Workbench(year, as_of, due, overdue, done, [a for a in alerts if a.alert.light == "red"], alerts, projects)


# --------------------------------------------------------------------------- the bulk sheet

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
    from domain import rules
    from models.actual import Actual, Spending, effective_measure
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
