"""Who may see what, and who may change what.

Every read that lists or opens projects — pages, fragments, the API, exports, reminders —
keeps to `visible_years(user)` (or, for the prepared hot reads, `scope_clause` with the scope's
id bound: `scoped_params`), so none can forget it; an object outside the scope reads as
missing (the view answers 404). The rights to write (`may_edit_actuals`, `may_evaluate`,
`may_review_targets`, `import_refusal`, `may_reorganise`) are decided here too, beside what they guard.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import ColumnElement, bindparam, false, true
from sqlmodel import Session, select

from models.actual import Actual
from models.evidence import Evidence
from models.indicator import Indicator
from models.job import ImportJob
from models.db import columns_of, detached, prepared, rows
from models.org import Unit
from models.project import Project, ProjectYear
from models.user import User


def user_scope(user: User) -> tuple[str, int | None]:
    """The user's scope as a shape and an id: a 填报人 their 实施单位's projects ("unit"); a
    审核人 their 主管部门's project years ("department"), all without one ("all"); an admin
    everything ("all"); anyone else nothing ("none")."""
    if user.role == "admin" or (user.role == "supervisor" and user.department_id is None):
        return "all", None
    if user.role == "supervisor":
        return "department", user.department_id
    if user.role == "manager" and user.unit_id is not None:
        return "unit", user.unit_id
    return "none", None


def scope_clause(shape: str, scope_id) -> ColumnElement[bool]:
    if shape == "all":
        return true()
    if shape == "department":
        return ProjectYear.department_id == scope_id
    if shape == "unit":
        return Project.unit_id == scope_id
    return false()


def visible_years(user: User) -> ColumnElement[bool]:
    """The condition that keeps rows of ProjectYear (joined with its Project) within the
    user's scope (`user_scope`)."""
    return scope_clause(*user_scope(user))


def visible_project_years(statement, user: User):
    """`statement`, a select from ProjectYear, kept to the user's scope — joined to Project only
    where the scope needs it (a 填报人's 实施单位): the years and 主管部门 a province-wide
    审核人 may choose from are read from project_year alone (a fifth of the time)."""
    shape, scope_id = user_scope(user)
    if shape == "unit":
        statement = statement.join(Project, Project.id == ProjectYear.project_id)
    return statement.where(scope_clause(shape, scope_id))


def scoped_params(user: User, **params) -> tuple[str, dict]:
    """The user's scope shape, and `params` with the scope's id as `scope_id`."""
    shape, scope_id = user_scope(user)
    return shape, params | ({"scope_id": scope_id} if scope_id is not None else {})


# --------------------------------------------------------------------------- by id, prepared

# The hottest reads (every API call reads a project year or an indicator within the caller's
# scope) are built once per scope shape, with the ids as bound parameters (models.db.prepared).

@prepared
def _project_year_statement(shape: str, fresh: bool):
    statement = (select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                 .where(ProjectYear.id == bindparam("py_id"), scope_clause(shape, bindparam("scope_id"))))
    return statement.execution_options(populate_existing=True) if fresh else statement


@prepared
def _indicator_statement(shape: str, fresh: bool):
    statement = (select(Indicator, ProjectYear, Project)
                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Indicator.id == bindparam("indicator_id"), scope_clause(shape, bindparam("scope_id"))))
    return statement.execution_options(populate_existing=True) if fresh else statement


@prepared
def _indicator_row(shape: str):
    return (select(*columns_of(Indicator, ProjectYear, Project))
            .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
            .join(Project, Project.id == ProjectYear.project_id)
            .where(Indicator.id == bindparam("indicator_id"), scope_clause(shape, bindparam("scope_id"))))


@prepared
def _project_year_row(shape: str):
    return (select(*columns_of(Project, ProjectYear)).join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(ProjectYear.id == bindparam("py_id"), scope_clause(shape, bindparam("scope_id"))))


@prepared
def _project_years_row(shape: str):
    project_of = select(ProjectYear.project_id).where(ProjectYear.id == bindparam("py_id")).scalar_subquery()
    return (select(*columns_of(Project, ProjectYear)).join(ProjectYear, ProjectYear.project_id == Project.id)
            .where(ProjectYear.project_id == project_of, scope_clause(shape, bindparam("scope_id")))
            .order_by(ProjectYear.year))


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


def indicator_visible(session: Session, user: User, indicator_id: int,
                      fresh: bool = False) -> tuple[Indicator, ProjectYear, Project] | None:
    """The indicator with its project year and project, if the user may read that year;
    `fresh` as for `project_year_visible`."""
    shape, params = scoped_params(user, indicator_id=indicator_id)
    row = session.exec(_indicator_statement(shape, fresh), params=params).first()
    return tuple(row) if row else None


def indicator_to_read(session: Session, user: User,
                      indicator_id: int) -> tuple[Indicator, ProjectYear, Project] | None:
    """`indicator_visible`, read afresh as one plain row into detached objects (models.db.detached):
    for a call that only reads them — an entry of the indicator's actual, which writes other rows."""
    shape, params = scoped_params(user, indicator_id=indicator_id)
    found = rows(session, _indicator_row(shape), params)
    return detached(found[0], Indicator, ProjectYear, Project) if found else None


def project_year_to_read(session: Session, user: User, project_year_id: int) -> tuple[Project, ProjectYear] | None:
    """`project_year_visible` the same way (an entry of its spending)."""
    shape, params = scoped_params(user, py_id=project_year_id)
    found = rows(session, _project_year_row(shape), params)
    return detached(found[0], Project, ProjectYear) if found else None


def project_years_to_read(session: Session, user: User,
                          project_year_id: int) -> tuple[Project, ProjectYear, list[ProjectYear]] | None:
    """The project year with its project and every year of that project the user may read
    (itself included), in one query, the same way (the API's answer for one project); None if
    the user may not read it."""
    shape, params = scoped_params(user, py_id=project_year_id)
    found = rows(session, _project_years_row(shape), params)
    if not found:
        return None
    project = detached(found[0], Project)[0]
    years = [detached(row[len(Project.__table__.columns):], ProjectYear)[0] for row in found]
    chosen = next((year for year in years if year.id == project_year_id), None)
    return (project, chosen, years) if chosen is not None else None


def may_edit_actuals(user: User, project: Project) -> bool:
    """Actuals are recorded by the 实施单位's 填报人 (and an admin); a 审核人 only reads."""
    return user.role == "admin" or (user.role == "manager" and user.unit_id == project.unit_id)


def records_actuals(user: User) -> bool:
    """Whether the user records actuals on the projects they see (a 填报人 sees only their unit's,
    an admin all); a 审核人 only reads them — links say 查看, not 填报."""
    return user.role in ("admin", "manager")


def may_evaluate(user: User) -> bool:
    """Evaluator scores of the 绩效自评 are set by an admin or a 审核人, each within the project
    years they may read; the unit's 填报人 records the actuals the scores rest on, not the scores."""
    return user.role in ("admin", "supervisor")


def may_review_targets(user: User) -> bool:
    """A 目标调整 is approved or returned by a 审核人 — within the project years they may read,
    so another 主管部门's is a 404 — or an admin; the unit's 填报人 proposes it
    (`may_edit_actuals`) and may not decide it (403)."""
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


# --------------------------------------------------------------------------- by id, unprepared

def indicator_in_scope(session: Session, user: User, indicator_id: int):
    """(Project, ProjectYear, Indicator) when the user may see the indicator's project, else None."""
    statement = (select(Project, ProjectYear, Indicator)
                 .join(ProjectYear, ProjectYear.project_id == Project.id)
                 .join(Indicator, Indicator.project_year_id == ProjectYear.id)
                 .where(Indicator.id == indicator_id, visible_years(user)))
    return session.exec(statement).first()


def evidence_in_scope(session: Session, user: User, evidence_id: int):
    """(Project, ProjectYear, Indicator, Actual, Evidence) within the user's scope, else None."""
    statement = (select(Project, ProjectYear, Indicator, Actual, Evidence)
                 .join(ProjectYear, ProjectYear.project_id == Project.id)
                 .join(Indicator, Indicator.project_year_id == ProjectYear.id)
                 .join(Actual, Actual.indicator_id == Indicator.id)
                 .join(Evidence, Evidence.actual_id == Actual.id)
                 .where(Evidence.id == evidence_id, visible_years(user)))
    return session.exec(statement).first()


def target_adjustment_in_scope(session: Session, user: User, adjustment_id: int, fresh: bool = False):
    """(TargetAdjustment, ProjectYear, Project) when the user may see its project year, else None;
    `fresh`: read afresh (inside a write transaction, before deciding)."""
    from models.target_adjustment import TargetAdjustment
    statement = (select(TargetAdjustment, ProjectYear, Project)
                 .join(ProjectYear, ProjectYear.id == TargetAdjustment.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(TargetAdjustment.id == adjustment_id, visible_years(user)))
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return session.exec(statement).first()


def project_year_in_scope(session: Session, user: User, project_id: int, year: int):
    """(Project, ProjectYear) of that year when the user may see it, else None."""
    return session.exec(projects_visible_to(user).where(Project.id == project_id, ProjectYear.year == year)).first()


# --------------------------------------------------------------------------- monitoring rounds and 整改

def may_review_monitoring(user: User) -> bool:
    """A round's monitoring is reviewed, and 整改 items are raised, closed and sent back, by a 审核人
    — within the project years they may read, so another 主管部门's is a 404 — or an admin. The
    unit's 填报人 submits the monitoring and answers the items (`may_edit_actuals`); they may not
    raise or close one (403)."""
    return user.role in ("admin", "supervisor")


def rectification_in_scope(session: Session, user: User, rectification_id: int, fresh: bool = False):
    """(Rectification, ProjectYear, Project) when the user may see its project year, else None;
    `fresh`: read afresh (inside a write transaction, before acting on its state)."""
    from models.monitoring import Rectification
    statement = (select(Rectification, ProjectYear, Project)
                 .join(ProjectYear, ProjectYear.id == Rectification.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Rectification.id == rectification_id, visible_years(user)))
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return session.exec(statement).first()


def rectification_evidence_in_scope(session: Session, user: User, evidence_id: int):
    """(Project, ProjectYear, Rectification, Evidence) of a 整改 item's file within the user's scope, else None."""
    from models.monitoring import Rectification
    statement = (select(Project, ProjectYear, Rectification, Evidence)
                 .join(ProjectYear, ProjectYear.project_id == Project.id)
                 .join(Rectification, Rectification.project_year_id == ProjectYear.id)
                 .join(Evidence, Evidence.rectification_id == Rectification.id)
                 .where(Evidence.id == evidence_id, visible_years(user)))
    return session.exec(statement).first()
