"""Who may see what: the one condition that keeps project years within a user's scope.

Every read that lists or opens projects — pages, fragments, the API, exports, reminders —
adds `visible_years(user)` (or, for the prepared hot reads, `scope_clause` with the scope's
id bound: `scoped_params`), so none can forget it. Kept apart from the read models
(models/queries.py, reads/) so that each of them can use it without
importing the others.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

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


def scoped_params(user: User, **params) -> tuple[str, dict]:
    """The user's scope shape, and `params` with the scope's id as `scope_id`."""
    shape, scope_id = user_scope(user)
    return shape, params | ({"scope_id": scope_id} if scope_id is not None else {})
