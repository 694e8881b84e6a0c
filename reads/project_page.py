"""The project page's fixed part: the project with the years the user may see, the chosen
year's funds and indicators as the form has them, the import history and the target changes.
The tracking section (entries, lights) is reads/tracking.py."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models.importing import ImportBatch, ProjectYearImport
from models.indicator import Indicator, TargetChange, active_indicators
from models.org import Department, Unit
from models.project import FUND_SOURCES, Project, ProjectYear
from models.user import User
from reads.form_tables import FUND_LABELS, SCOPE_LABELS, FundRow, IndicatorRow, rows_from_indicators
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
