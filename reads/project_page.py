"""The project page's fixed part: the project with the years the user may see, the chosen
year's funds and indicators as the form has them (each changed target with its 原目标), the
import history, and the target history (`target_changes`: re-imports and approved 目标调整,
shown in the 目标调整 section, reads/target_adjustments.py). The tracking section (entries,
lights) is reads/tracking.py."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models.importing import ImportBatch, ProjectYearImport
from models.indicator import Indicator, TargetChange, active_indicators_to_read
from models.org import Department, Unit
from models.project import Project, ProjectYear
from models.target_adjustment import TargetAdjustment
from models.user import User
from reads.form_tables import FUND_LABELS, SCOPE_LABELS, FundRow, IndicatorRow, rows_from_indicators, shown_sources
from reads.indicator_facts import target_origins
from reads.scope import projects_visible_to, visible_years
from reads.wording import user_labels


@dataclass
class HistoryEntry:
    batch: ImportBatch
    year: int
    outcome: str
    warnings: list[str]
    by: str                  # who imported it, as pages name people (`user_labels`)


@dataclass
class TargetChangeRow:
    """One version of the target history: made by an import (`batch`) or by an approved
    目标调整 (`adjustment`)."""
    change: TargetChange
    batch: ImportBatch | None
    adjustment: TargetAdjustment | None
    year: int
    indicator: str
    scope: str
    approved_by: str | None = None       # the adjustment's 审核人, as pages name people

    @property
    def source(self) -> str:
        if self.adjustment is not None:
            return f"目标调整第{self.adjustment.id}号（{self.approved_by}批准）"
        return self.batch.file_name if self.batch else ""


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

    @property
    def annual_indicators(self) -> int:
        return sum(1 for r in self.rows if r.annual is not None)


def fund_rows(year: ProjectYear) -> list[FundRow]:
    period, annual = year.funds("period"), year.funds("annual")
    return [FundRow(FUND_LABELS[k], period[k], annual[k]) for k in shown_sources(period, annual)]


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
    indicators = active_indicators_to_read(session, chosen.id)
    rows = rows_from_indicators(indicators)
    origins = target_origins(session, chosen.id)
    for row, ind in zip(rows, indicators):
        row.originals = {scope: origin for (ind_id, scope), origin in origins.items() if ind_id == ind.id}
    return ProjectPage(project, unit, department, chosen, [y.year for y in years], fund_rows(chosen), rows,
                       import_history(session, user, project))


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
    """The target history of the project's years the user may see, newest first: the versions
    re-imported forms and approved 目标调整 put in force, one list (DOMAIN §7)."""
    statement = (select(TargetChange, ImportBatch, TargetAdjustment, ProjectYear.year, Indicator)
                 .outerjoin(ImportBatch, ImportBatch.id == TargetChange.batch_id)
                 .outerjoin(TargetAdjustment, TargetAdjustment.id == TargetChange.adjustment_id)
                 .join(Indicator, Indicator.id == TargetChange.indicator_id)
                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(ProjectYear.project_id == project_id, visible_years(user))
                 .order_by(TargetChange.changed_at.desc(), TargetChange.id))
    found = list(session.exec(statement))
    labels = user_labels(session, [a.decided_by for _c, _b, a, _y, _i in found if a is not None])
    return [TargetChangeRow(change, batch, adjustment, year, _name(change, ind),
                            SCOPE_LABELS.get(change.scope, change.scope),
                            labels.get(adjustment.decided_by, adjustment.decided_by) if adjustment else None)
            for change, batch, adjustment, year, ind in found]


def _name(change: TargetChange, ind: Indicator) -> str:
    """The indicator's name now, or as it was (a withdrawn 年度 side keeps its name in the row)."""
    return ind.name if change.scope == "period" else ind.annual_level3 or change.old_level3 or ind.name
