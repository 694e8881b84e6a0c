"""Creating and changing users: the rules that hold whoever asks (CLI or admin page)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models.org import Department, Unit
from models.user import ROLES, User, hash_password, password_problem


class AccountError(ValueError):
    """A user-facing Chinese reason why the account change was refused."""


def resolve_scope(session: Session, role: str, unit_name: str | None, department_name: str | None
                  ) -> tuple[int | None, int | None]:
    if role not in ROLES:
        raise AccountError(f"未知角色“{role}”，应为 admin、supervisor 或 manager")
    unit_id = department_id = None
    if role == "manager":
        if not unit_name:
            raise AccountError("填报人必须指定实施单位（--unit）")
        unit = session.exec(select(Unit).where(Unit.name == unit_name)).first()
        if unit is None:
            raise AccountError(f"实施单位“{unit_name}”不存在，请先导入该单位的申报表")
        unit_id = unit.id
    elif unit_name:
        raise AccountError("只有填报人可以指定实施单位")
    if role == "supervisor" and department_name:
        dept = session.exec(select(Department).where(Department.name == department_name)).first()
        if dept is None:
            raise AccountError(f"主管部门“{department_name}”不存在")
        department_id = dept.id
    elif department_name and role != "supervisor":
        raise AccountError("只有审核人可以指定主管部门")
    return unit_id, department_id


def create_user(session: Session, *, username: str, role: str, password: str, now: datetime,
                email: str | None = None, unit_name: str | None = None, department_name: str | None = None,
                display_name: str | None = None) -> User:
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise AccountError("用户名不能为空，且不超过 80 个字符")
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"用户名“{username}”已存在")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    unit_id, department_id = resolve_scope(session, role, unit_name, department_name)
    user = User(username=username, display_name=display_name, email=email, role=role, unit_id=unit_id,
                department_id=department_id, password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    return user
