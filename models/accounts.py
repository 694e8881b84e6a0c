"""Creating and changing users: the rules that hold whoever asks (CLI or admin page).

Each function raises `AccountError` with a Chinese reason (and the form field it is about)
instead of changing anything; the caller holds the transaction.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models.org import Department, Unit
from models.user import (ROLES, ApiToken, LoginSession, User, end_all_sessions, end_other_sessions, hash_password,
                         password_problem, verify_password)

IMPORT_ROLES = ("admin", "manager")      # a 审核人 reads and reviews; storing forms is for the others
MAX_PASSWORD_LENGTH = 1024               # hashing is deliberately slow: no megabyte passwords
_USERNAME = re.compile(r"[\w.@-]+")            # letters (汉字 too), digits, . _ - @
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(ValueError):
    """A user-facing Chinese reason why the account change was refused; `field` names the
    form field it is about, so the page can show the message there."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def may_import(user: User) -> bool:
    return user.role in IMPORT_ROLES


def generate_password() -> str:
    """16 characters from a 64-letter alphabet (96 bits): shown once, never stored."""
    return secrets.token_urlsafe(12)


def check_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符", field)


# --------------------------------------------------------------------------- creating

def resolve_scope(session: Session, role: str, unit_name: str | None, department_name: str | None
                  ) -> tuple[int | None, int | None]:
    if role not in ROLES:
        raise AccountError(f"未知角色“{role}”，应为 admin、supervisor 或 manager", "role")
    unit_id = department_id = None
    if role == "manager":
        if not unit_name:
            raise AccountError("填报人必须指定实施单位", "unit")
        unit = session.exec(select(Unit).where(Unit.name == unit_name)).first()
        if unit is None:
            raise AccountError(f"实施单位“{unit_name}”不存在，请先导入该单位的申报表", "unit")
        unit_id = unit.id
    elif unit_name:
        raise AccountError("只有填报人可以指定实施单位", "unit")
    if role == "supervisor" and department_name:
        dept = session.exec(select(Department).where(Department.name == department_name)).first()
        if dept is None:
            raise AccountError(f"主管部门“{department_name}”不存在", "department")
        department_id = dept.id
    elif department_name and role != "supervisor":
        raise AccountError("只有审核人可以指定主管部门", "department")
    return unit_id, department_id


def _clean(value: str | None) -> str | None:
    return " ".join((value or "").split()) or None


def create_user(session: Session, *, username: str, role: str, password: str, now: datetime,
                email: str | None = None, unit_name: str | None = None, department_name: str | None = None,
                display_name: str | None = None) -> User:
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise AccountError("用户名不能为空，且不超过 80 个字符", "username")
    if not _USERNAME.fullmatch(username):
        raise AccountError("用户名只能包含字母、汉字、数字和 . _ - @", "username")
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"用户名“{username}”已存在", "username")
    display_name, email = _clean(display_name), _clean(email)
    if display_name and len(display_name) > 80:
        raise AccountError("姓名不超过 80 个字符", "display_name")
    if email and (len(email) > 200 or not _EMAIL.fullmatch(email)):
        raise AccountError("邮箱地址格式不正确", "email")
    check_password(password)
    unit_id, department_id = resolve_scope(session, role, unit_name, department_name)
    user = User(username=username, display_name=display_name, email=email, role=role, unit_id=unit_id,
                department_id=department_id, password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    return user


# --------------------------------------------------------------------------- changing

def _keep_an_admin(session: Session, user: User) -> None:
    """Nobody could manage users any more: refuse to demote or disable the last active admin."""
    others = session.exec(select(func.count()).select_from(User).where(
        User.role == "admin", User.is_active.is_(True), User.id != user.id)).one()
    if not others:
        raise AccountError("这是唯一启用的管理员账号，不能停用或改为其他角色", "role")


def change_scope(session: Session, user: User, role: str, unit_name: str | None,
                 department_name: str | None) -> None:
    """New role and scope; they apply from the user's next request (the user is loaded anew
    each time), so nothing else needs ending."""
    unit_id, department_id = resolve_scope(session, role, unit_name, department_name)
    if user.role == "admin" and role != "admin" and user.is_active:
        _keep_an_admin(session, user)
    user.role, user.unit_id, user.department_id = role, unit_id, department_id
    session.add(user)


def set_active(session: Session, user: User, active: bool, *, by: User, now: datetime) -> None:
    """Disabling ends every session of the user at once and revokes their API tokens for
    good: an account is often disabled because its secrets got out, so re-enabling it must
    not bring a copied token back (the user makes a new one)."""
    if not active and user.is_active:
        if user.id == by.id:
            raise AccountError("不能停用自己的账号", "active")
        if user.role == "admin":
            _keep_an_admin(session, user)
        end_all_sessions(session, user.id, now)
        for token in tokens_of(session, user):
            revoke_token(session, user, token.id, now)
    user.is_active = active
    session.add(user)


def reset_password(session: Session, user: User, password: str | None, now: datetime,
                   keep_token: str | None = None) -> str:
    """An admin sets a password (or has one generated); the user's sessions end, since the
    old password may be known to someone else (but for `keep_token`: the admin's own browser
    when resetting their own). Returns the new password, to be shown once."""
    password = password or generate_password()
    check_password(password)
    user.password_hash = hash_password(password)
    session.add(user)
    end_other_sessions(session, user.id, keep_token, now)
    return password


def change_own_password(session: Session, user: User, *, current: str, new: str, repeat: str,
                        keep_token: str | None, now: datetime) -> None:
    """The user's own change: proves the current password; other browsers sign in again."""
    if not verify_password(user, current or ""):
        raise AccountError("当前密码不正确", "current")
    check_password(new, "new")
    if new != repeat:
        raise AccountError("两次输入的新密码不一致", "repeat")
    if new == current:
        raise AccountError("新密码不能与当前密码相同", "new")
    user.password_hash = hash_password(new)
    session.add(user)
    end_other_sessions(session, user.id, keep_token, now)


# --------------------------------------------------------------------------- API tokens

def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first (only their prefix is known)."""
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int, now: datetime) -> bool:
    """False when the token is not this user's (the caller answers 404); revoking twice is fine."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return False
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
    return True


# --------------------------------------------------------------------------- reading

def scope_label(session: Session, user: User) -> str:
    if user.role == "manager" and user.unit_id:
        unit = session.get(Unit, user.unit_id)
        return f"实施单位：{unit.name}" if unit else "实施单位：（已删除）"
    if user.role == "supervisor":
        dept = session.get(Department, user.department_id) if user.department_id else None
        return f"主管部门：{dept.name}" if dept else "全部主管部门"
    return "全部"


def scope_names(session: Session, user: User) -> dict:
    """Role, 实施单位 and 主管部门 by name, as the forms choose them."""
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    dept = session.get(Department, user.department_id) if user.department_id else None
    return {"role": user.role, "unit": unit.name if unit else None, "department": dept.name if dept else None}


@dataclass
class UserRow:
    user: User
    scope: str
    last_login: datetime | None


def user_rows(session: Session) -> list[UserRow]:
    last = dict(session.exec(select(LoginSession.user_id, func.max(LoginSession.created_at))
                             .group_by(LoginSession.user_id)).all())
    users = session.exec(select(User).order_by(User.is_active.desc(), User.role, User.username))
    return [UserRow(u, scope_label(session, u), last.get(u.id)) for u in users]


def last_login(session: Session, user: User) -> datetime | None:
    return session.exec(select(func.max(LoginSession.created_at)).where(LoginSession.user_id == user.id)).one()


@dataclass
class ScopeChoices:
    departments: list[Department]
    units: list[tuple[Department, list[Unit]]]     # grouped by 主管部门 for <optgroup>


def scope_choices(session: Session) -> ScopeChoices:
    departments = list(session.exec(select(Department).order_by(Department.code, Department.name)))
    units = list(session.exec(select(Unit).order_by(Unit.name)))
    grouped = [(d, [u for u in units if u.department_id == d.id]) for d in departments]
    return ScopeChoices(departments, [(d, us) for d, us in grouped if us])
