"""User management for admins (/admin/users): add, disable or enable, change role and scope,
reset a password. The rules (the last admin stays, a disabled user's sessions end …) are in
models/accounts.py; this file reads the form, calls them, and shows their Chinese reasons
next to the field (422, the convention of templates/base.html).

A generated password is shown once, in the answer to the POST that made it, and is not
cached (views/security.py); nothing but its hash is stored.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from models.accounts import (AccountError, change_scope, create_user, generate_password, last_login, reset_password,
                             scope_choices, scope_label, scope_names, set_active, tokens_of, user_rows)
from models.db import get_session, transaction
from models.user import ROLES, User
from views.auth import clock, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@requires("admin")
def admins_only() -> None:
    """Every route of this blueprint, including those added later."""


def _scope_from_form() -> tuple[str, str | None, str | None]:
    """Role, 实施单位, 主管部门 as chosen; a select that does not belong to the role is ignored
    (without JavaScript all three are on the page)."""
    role = request.form.get("role", "")
    unit = request.form.get("unit", "").strip() or None
    department = request.form.get("department", "").strip() or None
    return role, unit if role == "manager" else None, department if role == "supervisor" else None


def _load(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("")
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    return render_template("admin_users.html", rows=user_rows(get_session()))


def _new_user_page(status: int = 200, errors: dict | None = None, form: dict | None = None):
    return render_template("admin_user_new.html", roles=ROLES, choices=scope_choices(get_session()),
                           errors=errors or {}, form=form or {}), status


@bp.get("/users/new")
def new_user():
    return _new_user_page()


@bp.post("/users")
def create():
    db = get_session()
    role, unit, department = _scope_from_form()
    password = request.form.get("password", "")
    generated = not password
    password = password or generate_password()
    try:
        with transaction(db):
            user = create_user(db, username=request.form.get("username", ""), role=role, password=password,
                               email=request.form.get("email"), unit_name=unit, department_name=department,
                               display_name=request.form.get("display_name"), now=clock())
    except AccountError as exc:
        return _new_user_page(422, {exc.field or "username": str(exc)}, request.form)
    if generated:
        return _user_page(user, created=True, password=password)
    flash(f"已创建用户 {user.username}。", "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)


def _user_page(user: User, status: int = 200, errors: dict | None = None, current: dict | None = None, **context):
    db = get_session()
    return render_template("admin_user.html", user=user, scope=scope_label(db, user), roles=ROLES,
                           choices=scope_choices(db), last_login=last_login(db, user), tokens=tokens_of(db, user),
                           current=current or scope_names(db, user), errors=errors or {}, **context), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    return _user_page(_load(user_id))


@bp.post("/users/<int:user_id>/scope")
def scope(user_id: int):
    user, db = _load(user_id), get_session()
    role, unit, department = _scope_from_form()
    try:
        with transaction(db):
            change_scope(db, user, role, unit, department)
    except AccountError as exc:
        db.refresh(user)
        return _user_page(user, 422, {exc.field or "role": str(exc)}, request.form)
    flash(f"已修改 {user.username} 的角色和范围：{ROLES[user.role]}，{scope_label(db, user)}。", "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/active")
def active(user_id: int):
    user, db = _load(user_id), get_session()
    enable = request.form.get("active") == "1"
    try:
        with transaction(db):
            set_active(db, user, enable, by=g.user, now=clock())
    except AccountError as exc:
        db.refresh(user)
        return _user_page(user, 422, {"active": str(exc)})
    flash(f"已启用 {user.username}。" if enable else
          f"已停用 {user.username}：其登录已全部退出，API 令牌已全部作废。", "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/password")
def password(user_id: int):
    user, db = _load(user_id), get_session()
    given = request.form.get("password", "")
    try:
        with transaction(db):
            new = reset_password(db, user, given or None, clock(),
                                 keep_token=g.get("login_token") if user.id == g.user.id else None)
    except AccountError as exc:
        db.refresh(user)
        return _user_page(user, 422, {"password": str(exc)})
    if not given:
        return _user_page(user, password=new)
    flash(f"已为 {user.username} 设置新密码，其登录已全部退出。", "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)
